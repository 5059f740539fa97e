"""Writing a golden set: the format every scripts/goldens/*_frontend.py script shares.

A golden set is a folder fixtures/goldens/frontends/<set>/ holding
    goldens.npz       for each utterance stem: "<stem>.rows", the model input exactly as the
                      real code hands it to the model, float32 (frames, width), time-major;
                      "<stem>.length", the length the real code reports (int64, 0-d)
    provenance.json   {"family", "revision", "config" (repo-relative), "audio" {stem: path},
                       "library", "version", "commit", "settings", "command", "created", ...}
Both are written to temporary names and renamed into place. This module imports nothing from
the project: goldens come from the real code alone.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
GOLDENS = ROOT / "fixtures" / "goldens" / "frontends"


def relative(path: Path) -> str:
    return str(Path(path).resolve().relative_to(ROOT))


def write_golden_set(name: str, rows: dict[str, np.ndarray], lengths: dict[str, int],
                     provenance: dict, root: Path = GOLDENS) -> Path:
    """Write <root>/<name>/ (goldens.npz, provenance.json) atomically; `root` defaults to
    fixtures/goldens/frontends."""
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for stem, value in rows.items():
        arrays[f"{stem}.rows"] = np.ascontiguousarray(value, dtype=np.float32)
        arrays[f"{stem}.length"] = np.asarray(lengths[stem], dtype=np.int64)
    record = {**provenance, "command": " ".join(["python", *sys.argv]),
              "created": datetime.date.today().isoformat()}
    temporary = folder / "goldens.tmp.npz"
    np.savez_compressed(temporary, **arrays)
    os.replace(temporary, folder / "goldens.npz")
    (folder / "provenance.tmp.json").write_text(json.dumps(record, indent=1) + "\n")
    os.replace(folder / "provenance.tmp.json", folder / "provenance.json")
    return folder
