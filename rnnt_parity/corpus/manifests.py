"""Manifests: which audio file says what. Two formats, read by file suffix.

Myrtle/MLPerf JSON (`.json`): a list of
    {"transcript": str, "original_duration": seconds, "original_num_samples": int,
     "files": [{"fname": path, "channels": 1, "sample_rate": Hz, "duration": s, "speed": 1}]}
    The entry's audio is its "files" item with speed 1 (else the first); fname is relative to
    the manifest's folder. The id is fname without its suffix.
NeMo JSONL (`.jsonl`, one object per line):
    {"audio_filepath": path, "text": str, "duration": seconds}
    The id is "utt_id" when present, else audio_filepath without its suffix.
An optional "speaker" field is read from either; otherwise the speaker is "unknown".
Malformed files raise ValueError naming the file and the entry (index or line) at fault;
duplicate ids raise too (hypotheses are matched to references by id).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rnnt_parity.files import atomic_output


@dataclass(frozen=True)
class Entry:
    id: str
    audio: Path
    transcript: str
    duration: float
    speaker: str = "unknown"


def _field(item, key: str, kind, where: str):
    if not isinstance(item, dict):
        raise ValueError(f"{where}: expected an object, got {type(item).__name__}")
    if key not in item:
        raise ValueError(f"{where}: missing {key!r}")
    value = item[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind):
        raise ValueError(f"{where}: {key!r} must be {kind.__name__}, got {value!r}")
    return value


def _myrtle_entry(item, folder: Path, where: str) -> Entry:
    files = _field(item, "files", list, where)
    if not files:
        raise ValueError(f"{where}: 'files' is empty")
    chosen = next((f for f in files if isinstance(f, dict) and f.get("speed", 1) == 1), files[0])
    fname = _field(chosen, "fname", str, f"{where} files")
    return Entry(str(Path(fname).with_suffix("")), folder / fname,
                 _field(item, "transcript", str, where),
                 _field(item, "original_duration", float, where),
                 str(item.get("speaker", "unknown")))


def _nemo_entry(item, folder: Path, where: str) -> Entry:
    audio = _field(item, "audio_filepath", str, where)
    ident = item.get("utt_id", str(Path(audio).with_suffix("")))
    return Entry(str(ident), folder / audio, _field(item, "text", str, where),
                 _field(item, "duration", float, where), str(item.get("speaker", "unknown")))


def json_lines(path: Path) -> Iterator[tuple[str, object]]:
    """("PATH line N", parsed object) for each non-blank line of a JSONL file."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: not valid JSON ({error})") from error


def read_manifest(path: str | Path) -> list[Entry]:
    """Entries of a `.json` (Myrtle) or `.jsonl` (NeMo) manifest, in file order."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no manifest at {path}")
    folder = path.parent
    if path.suffix == ".json":
        try:
            items = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from error
        if not isinstance(items, list):
            raise ValueError(f"{path}: a Myrtle manifest is a JSON list of entries")
        entries = [_myrtle_entry(item, folder, f"{path} entry {k}") for k, item in enumerate(items)]
    elif path.suffix == ".jsonl":
        entries = [_nemo_entry(item, folder, where) for where, item in json_lines(path)]
    else:
        raise ValueError(f"{path}: manifest must end in .json (Myrtle) or .jsonl (NeMo)")
    seen: dict[str, int] = {}
    for k, entry in enumerate(entries):
        if entry.id in seen:
            raise ValueError(f"{path}: id {entry.id!r} appears at entries {seen[entry.id]} and "
                             f"{k}; ids must be unique")
        seen[entry.id] = k
    return entries


def write_manifest(path: str | Path, entries: list[Entry], sample_rate: int,
                   force: bool = False) -> None:
    """Write `entries` (audio paths relative to the manifest's folder) atomically."""
    path = Path(path)
    folder = path.parent.resolve()

    def relative(entry: Entry) -> str:
        return str(Path(entry.audio).resolve().relative_to(folder))

    if path.suffix == ".json":
        items = [{"transcript": e.transcript, "original_duration": e.duration,
                  "original_num_samples": round(e.duration * sample_rate), "speaker": e.speaker,
                  "files": [{"fname": relative(e), "channels": 1, "sample_rate": sample_rate,
                             "duration": e.duration, "speed": 1}]} for e in entries]
        text = json.dumps(items, indent=1) + "\n"
    elif path.suffix == ".jsonl":
        text = "".join(json.dumps({"audio_filepath": relative(e), "text": e.transcript,
                                   "duration": e.duration, "speaker": e.speaker}) + "\n"
                       for e in entries)
    else:
        raise ValueError(f"{path}: manifest must end in .json (Myrtle) or .jsonl (NeMo)")
    with atomic_output(path, force) as temporary:
        temporary.write_text(text)
