"""`rnnt-parity features extract`: each audio file's model input as a codebase's evaluation
pipeline hands it to the model, written as DIR/<stem>.npy and DIR/<stem>.json.

    <stem>.npy   float32 (frames, width), time-major: Myrtle's spliced frames (240 wide for
                 80 mels), myrtlespeech's context channels flattened channel-major (C*F),
                 NeMo's processed_signal transposed (T, n_mels) with its padding frames
    <stem>.json  {"frames": T', "length": the length the codebase reports, "width",
                 "family", "revision", "config", "sample_rate", "dither": 0.0, "dtype" (the
                 working precision), "notes", "model_input", "audio", "rnnt_parity"}
Every input is read and computed before anything is written; existing outputs are refused
without `force`; each file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np

from rnnt_parity.audio import load_audio
from rnnt_parity.files import refuse_to_overwrite
from rnnt_parity.frontends.model_input import ModelRows
from rnnt_parity.frontends.native import NativeInput, extract, read_native_input
from rnnt_parity.progress import step

DTYPES = ("float64", "float32")


def _outputs(paths: list[Path], out_dir: Path, force: bool) -> dict[Path, tuple[Path, Path]]:
    stems: dict[str, Path] = {}
    outputs = {}
    for path in paths:
        if path.stem in stems:
            raise ValueError(f"{stems[path.stem]} and {path} would both write "
                             f"{out_dir / path.stem}.npy; rename one")
        stems[path.stem] = path
        outputs[path] = (out_dir / f"{path.stem}.npy", out_dir / f"{path.stem}.json")
        for output in outputs[path]:
            refuse_to_overwrite(output, force)
    return outputs


def record(native: NativeInput, rows: ModelRows, audio: Path) -> dict:
    """The JSON beside one utterance's rows."""
    return {"frames": int(rows.rows.shape[0]), "length": int(rows.length),
            "width": int(rows.rows.shape[1]), **native.describe(), "dither": 0.0,
            "dtype": dict(native.model_input.overrides).get("dtype", "float64"),
            "audio": str(audio), "rnnt_parity": version("rnnt-parity")}


def _write_all(files: dict[Path, Callable[[Path], None]]) -> None:
    """Write each file to a temporary beside it, then rename all into place."""
    temporaries = {}
    try:
        for path, writer in files.items():
            descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            os.close(descriptor)
            temporaries[path] = Path(temporary)
            writer(temporaries[path])
        for path, temporary in temporaries.items():
            os.replace(temporary, path)
    finally:
        for temporary in temporaries.values():
            if temporary.exists():
                temporary.unlink()


def _npy_writer(rows: np.ndarray) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with open(path, "wb") as handle:
            np.save(handle, rows)
    return write


def _json_writer(values: dict) -> Callable[[Path], None]:
    return lambda path: path.write_text(json.dumps(values, indent=1) + "\n")


def extract_files(config: Path | None, audio: list[Path], out_dir: Path,
                  family: str | None = None, revision: str | None = None,
                  channel: int | None = None, force: bool = False, dtype: str = "float64",
                  out: Callable[[str], None] = print) -> NativeInput:
    """Compute every file's model input, then write DIR/<stem>.npy and .json for each.
    `dtype` is the working precision of every step ("float64", the default, or "float32",
    as the real pipelines compute); the rows are written as float32 either way."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
    native = read_native_input(config, family, revision)
    if dtype != "float64":
        native = dataclasses.replace(native, model_input=dataclasses.replace(
            native.model_input, overrides={**dict(native.model_input.overrides),
                                           "dtype": dtype}))
    outputs = _outputs(list(audio), out_dir, force)
    out(f"{native.family} {native.revision}: {native.model_input.width}-wide rows at "
        f"{native.sample_rate} Hz" + (f" from {native.config}" if native.config else ""))
    for note in native.notes:
        out(f"  note: {note}")
    files: dict[Path, Callable[[Path], None]] = {}
    for path, (npy, meta) in outputs.items():
        signal, rate = load_audio(path, None, channel)
        rows = extract(native, signal.astype(dtype), rate, str(path))
        files[npy] = _npy_writer(rows.rows)
        files[meta] = _json_writer(record(native, rows, path))
        out(f"  {path} -> {npy.name}: {rows.rows.shape[0]} frames x {rows.rows.shape[1]}, "
            f"length {rows.length}")
        step(str(path))
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_all(files)
    out(f"wrote {len(outputs)} model input(s) to {out_dir}")
    return native
