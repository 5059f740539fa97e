"""Writing a forward golden set: the format every scripts/goldens/*_forward.py script shares.

A forward golden set is a folder fixtures/goldens/forward/<set>/ holding
    inputs.npz        what the real code was given, batch-first: `features` (B, T, F) float64
                      with `feature_lengths` (B,) int64, or (heads-only sets) `encoder`
                      (B, T', D) float64 with `encoder_lengths`; `labels` (B, U) int64 and
                      `label_lengths` (B,) int64; any layout the real code takes besides
                      (e.g. myrtlespeech's `features_bcft`, (B, C, F, T)).
    outputs.npz       what the real code returned, float arrays as float64 and integer arrays
                      as int64: `encoder` (B, T', E) with `encoder_lengths`, `prediction`
                      (B, U+1, P), `joint` (B, T', U+1, V) raw logits, `ctc` where the model
                      has one, `blank` (0-d int64), and decoder hypotheses as padded int64
                      arrays `<name>` (B, N) (padding -1) with `<name>_lengths` (B,).
    provenance.json   {"checkpoint", "family", "library", "version", "commit", "settings",
                       "stages", "arrays", "command", "created", ...}
Every file is written to a temporary name and renamed into place, provenance.json last. This
module imports nothing from the project (nor torch): goldens come from the real code alone.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FORWARD = ROOT / "fixtures" / "goldens" / "forward"
PAD = -1
LIMIT_BYTES = 3 * 1024 * 1024


def relative(path: Path) -> str:
    return str(Path(path).resolve().relative_to(ROOT))


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and (when imported) torch; return a NumPy generator for inputs."""
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def pad_hypotheses(hypotheses: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(B, N) int64 padded with PAD, and (B,) int64 lengths; N >= 1."""
    lengths = np.array([len(h) for h in hypotheses], dtype=np.int64)
    out = np.full((len(hypotheses), max(1, int(lengths.max(initial=0)))), PAD, dtype=np.int64)
    for row, hypothesis in enumerate(hypotheses):
        out[row, :len(hypothesis)] = hypothesis
    return out, lengths


def _normalise(arrays: dict) -> dict[str, np.ndarray]:
    result = {}
    for key, value in arrays.items():
        value = np.asarray(value)
        if value.dtype.kind == "f":
            value = value.astype(np.float64)
        elif value.dtype.kind in "iub":
            value = value.astype(np.int64)
        else:
            raise TypeError(f"{key}: unsupported dtype {value.dtype}")
        result[key] = np.array(value, order="C")          # keeps 0-d arrays 0-d
    return result


def describe(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    return {key: f"{value.dtype} {list(value.shape)}" for key, value in arrays.items()}


def write_forward_set(name: str, inputs: dict, outputs: dict, provenance: dict,
                      root: Path = FORWARD) -> Path:
    """Write <root>/<name>/ (inputs.npz, outputs.npz, provenance.json) atomically."""
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    inputs, outputs = _normalise(inputs), _normalise(outputs)
    record = {**provenance,
              "arrays": {"inputs.npz": describe(inputs), "outputs.npz": describe(outputs)},
              "command": " ".join(["python", *[relative(a) if a.startswith(str(ROOT)) else a
                                               for a in sys.argv]]),
              "created": datetime.date.today().isoformat()}
    for stem, arrays in (("inputs", inputs), ("outputs", outputs)):
        temporary = folder / f"{stem}.tmp.npz"
        np.savez_compressed(temporary, **arrays)
        os.replace(temporary, folder / f"{stem}.npz")
    temporary = folder / "provenance.tmp.json"
    temporary.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(temporary, folder / "provenance.json")
    return folder


def total_bytes(root: Path = FORWARD) -> int:
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())


def check_budget(root: Path = FORWARD) -> int:
    size = total_bytes(root)
    if size > LIMIT_BYTES:
        raise SystemExit(f"{root} holds {size} bytes, over the {LIMIT_BYTES}-byte budget")
    return size
