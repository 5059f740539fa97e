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


def strict_json(record):
    """`record` with every NaN or infinity replaced by null, and a top-level "non_finite"
    entry naming where each was ({"checks.3.max_abs_loss": "inf"}): strict JSON parsers
    reject the NaN and Infinity literals Python writes. Tuples become lists."""
    import math

    flags: dict[str, str] = {}

    def clean(value, path: str):
        if isinstance(value, float) and not math.isfinite(value):
            flags[path] = str(value)
            return None
        if isinstance(value, dict):
            return {k: clean(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value)]
        return value

    cleaned = clean(record, "")
    if flags and isinstance(cleaned, dict):
        cleaned["non_finite"] = flags
    return cleaned


def json_text(record) -> str:
    """`record` as indented strict JSON (`strict_json`)."""
    import json

    return json.dumps(strict_json(record), indent=2, default=str, allow_nan=False) + "\n"


def write_json_atomically(path: Path, record, force: bool = False) -> None:
    """`record` as `json_text` at `path`, atomically."""
    text = json_text(record)
    with atomic_output(path, force) as temporary:
        temporary.write_text(text)
