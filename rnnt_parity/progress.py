"""Progress on stderr for the commands that can run for more than a few seconds (check,
port, compare, conform, wer-drift, bench, features extract): one line redrawn in place on a
terminal, silent when stderr is not one (logs, pipes, CI).

`Progress` is a bar of known length (wer-drift's decoding). `activity(label)` opens a
counter for a whole command, and the work inside it calls `step(what)` once per unit
(a check row, a model run, a conformance check, a file): no unit knows the command's
total."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator


class Progress:
    """`label [#####.....] done/total seconds`; with no total, `label: done seconds what`."""

    def __init__(self, label: str, total: int | None = None, stream=None):
        self.label, self.total = label, total
        self.stream = sys.stderr if stream is None else stream
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done, self.started = 0, time.perf_counter()

    def advance(self, count: int = 1, what: str = "") -> None:
        self.done += count
        if not self.live:
            return
        seconds = time.perf_counter() - self.started
        if self.total:
            filled = 30 * min(self.done, self.total) // self.total
            text = (f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] "
                    f"{self.done}/{self.total} {seconds:.1f} s")
        else:
            text = f"{self.label}: {self.done} done, {seconds:.1f} s" + (
                f" ({what[:60]})" if what else "")
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """Clear a counter's line; end a bar's (a finished bar stays on the screen)."""
        if self.live and self.done:
            self.stream.write("\n" if self.total else "\r\x1b[K")
            self.stream.flush()


_ACTIVE: list[Progress] = []


@contextlib.contextmanager
def activity(label: str, stream=None) -> Iterator[Progress]:
    """A counter that `step` advances until the block ends."""
    bar = Progress(label, None, stream)
    _ACTIVE.append(bar)
    try:
        yield bar
    finally:
        _ACTIVE.remove(bar)
        bar.close()


def step(what: str = "") -> None:
    """One unit of work done, shown by the innermost `activity` (none: nothing happens)."""
    if _ACTIVE:
        _ACTIVE[-1].advance(1, what)
