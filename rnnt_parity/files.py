"""Output files: never over an existing file without force, never half written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def refuse_to_overwrite(path: Path, force: bool) -> None:
    """FileExistsError when `path` exists and `force` is not set."""
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; pass --force to overwrite it")


@contextlib.contextmanager
def atomic_output(path: Path, force: bool = False) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed onto `path` when the block ends
    without an error, removed otherwise (so `path` is either the old file or the new one)."""
    path = Path(path)
    refuse_to_overwrite(path, force)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix,
                                             dir=path.parent)
    os.close(descriptor)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would make outputs private
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_json_atomically(path: Path, record, force: bool = False) -> None:
    """`record` as indented strict JSON (no NaN or Infinity literals) at `path`, atomically."""
    import json

    with atomic_output(path, force) as temporary:
        temporary.write_text(json.dumps(record, indent=2, default=str, allow_nan=False) + "\n")
