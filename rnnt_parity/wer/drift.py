"""The WER-drift comparison: pair two systems' hypotheses on one manifest, score both, and
collect every figure the report shows (`compare_hypotheses`).

Entries scored: those both systems decoded and whose transcript is not empty; every other
entry is listed in "skipped" with its reason, and the report states "scored N of M".
Hypothesis files (JSONL, {"id": ..., "text": ...} per line) must not name ids outside the
manifest (ValueError listing them); a manifest id missing from a file is a listed skip.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnt_parity.corpus.manifests import Entry, json_lines
from rnnt_parity.wer.scoring import score
from rnnt_parity.wer.stats import (
    BOOTSTRAP_REPLICATES,
    BOOTSTRAP_SEED,
    corpus_wer,
    paired_bootstrap,
    sign_test,
)

REPORT_FORMAT = "rnnt-parity-wer-drift/1"


@dataclass
class Side:
    """One system's output: its conditions, {id: text}, and {id: reason skipped}."""

    conditions: dict
    hypotheses: dict[str, str]
    skipped: dict[str, str]


def read_hypotheses(path: str | Path, entries: list[Entry]) -> Side:
    """A JSONL hypothesis file as a Side (conditions: the file's path)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no hypothesis file at {path}")
    hypotheses: dict[str, str] = {}
    for where, item in json_lines(path):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) \
                or not isinstance(item.get("text"), str):
            raise ValueError(f"{where}: expected {{\"id\": str, \"text\": str}}, got {item!r}")
        if item["id"] in hypotheses:
            raise ValueError(f"{where}: id {item['id']!r} appears twice")
        hypotheses[item["id"]] = item["text"]
    known = {e.id for e in entries}
    strangers = [i for i in hypotheses if i not in known]
    if strangers:
        raise ValueError(f"{path}: {len(strangers)} hypothesis id(s) are not in the manifest, "
                         f"e.g. {strangers[:5]}")
    missing = {e.id: f"no hypothesis in {path}" for e in entries if e.id not in hypotheses}
    return Side({"hypotheses": str(path)}, hypotheses, missing)


def write_hypotheses(path: Path, hypotheses: dict[str, str], entries: list[Entry]) -> None:
    from rnnt_parity.files import atomic_output

    with atomic_output(path, force=True) as temporary:
        temporary.write_text("".join(json.dumps({"id": e.id, "text": hypotheses[e.id]}) + "\n"
                                     for e in entries if e.id in hypotheses))


def _flatten(conditions: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in conditions.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def condition_differences(a: dict, b: dict) -> list[dict]:
    """Every condition whose value differs, as {"field", "a", "b"} (absent: None)."""
    flat_a, flat_b = _flatten(a), _flatten(b)
    return [{"field": key, "a": flat_a.get(key), "b": flat_b.get(key)}
            for key in sorted(set(flat_a) | set(flat_b)) if flat_a.get(key) != flat_b.get(key)]


def _summary(errors: list, words: np.ndarray) -> dict:
    totals = {k: int(sum(getattr(e, k) for e in errors))
              for k in ("substitutions", "deletions", "insertions", "hits")}
    return {"wer": corpus_wer(np.array([e.errors for e in errors]), words),
            "words": int(words.sum()), **totals}


def compare_hypotheses(entries: list[Entry], a: Side, b: Side,
                       replicates: int = BOOTSTRAP_REPLICATES,
                       seed: int = BOOTSTRAP_SEED) -> dict:
    """The report's contents (a JSON-ready dict); see the module docstring."""
    skipped, scored = [], []
    for entry in entries:
        reasons = [f"{name}: {side.skipped.get(entry.id, 'no hypothesis')}"
                   for name, side in (("a", a), ("b", b))
                   if entry.id in side.skipped or entry.id not in side.hypotheses]
        if not entry.transcript.split():
            reasons.insert(0, "manifest: empty transcript (WER undefined)")
        if reasons:
            skipped.append({"id": entry.id, "reason": "; ".join(reasons)})
        else:
            scored.append(entry)
    if not scored:
        raise ValueError(f"none of the {len(entries)} manifest entries could be scored; first "
                         f"reasons: {[s['reason'] for s in skipped[:3]]}")
    utterances, errors_a, errors_b = [], [], []
    for entry in scored:
        hyp_a, hyp_b = a.hypotheses[entry.id], b.hypotheses[entry.id]
        ea, align_a = score(entry.transcript, hyp_a)
        eb, align_b = score(entry.transcript, hyp_b)
        errors_a.append(ea)
        errors_b.append(eb)
        utterances.append({"id": entry.id, "speaker": entry.speaker,
                           "reference": entry.transcript, "hypothesis_a": hyp_a,
                           "hypothesis_b": hyp_b, "words": ea.reference_words,
                           "errors_a": ea.as_dict(), "errors_b": eb.as_dict(),
                           "alignment_a": align_a, "alignment_b": align_b})
    words = np.array([u["words"] for u in utterances])
    count_a = np.array([e.errors for e in errors_a])
    count_b = np.array([e.errors for e in errors_b])
    wer_a, wer_b = _summary(errors_a, words), _summary(errors_b, words)
    identical = sum(u["hypothesis_a"] == u["hypothesis_b"] for u in utterances)
    speakers = {}
    for speaker in sorted({u["speaker"] for u in utterances}):
        mask = np.array([u["speaker"] == speaker for u in utterances])
        sa, sb = corpus_wer(count_a[mask], words[mask]), corpus_wer(count_b[mask], words[mask])
        speakers[speaker] = {"utterances": int(mask.sum()), "words": int(words[mask].sum()),
                             "wer_a": sa, "wer_b": sb, "delta": sb - sa}
    return {
        "format": REPORT_FORMAT,
        "scored": len(scored), "total": len(entries), "skipped": skipped,
        "conditions": {"a": a.conditions, "b": b.conditions,
                       "differences": condition_differences(a.conditions, b.conditions)},
        "wer": {"a": wer_a, "b": wer_b, "delta": wer_b["wer"] - wer_a["wer"],
                "relative_delta": ((wer_b["wer"] - wer_a["wer"]) / wer_a["wer"]
                                   if wer_a["wer"] else None)},
        "bootstrap": paired_bootstrap(count_a, count_b, words, replicates, seed),
        "matched_pairs": sign_test(count_a, count_b),
        "identity": {"identical": identical, "scored": len(scored),
                     "rate": identical / len(scored),
                     "definition": "hypothesis strings equal (for character models: the "
                                   "same token sequence)"},
        "speakers": speakers,
        "changed": [u["id"] for u in utterances if u["hypothesis_a"] != u["hypothesis_b"]],
        "utterances": utterances,
    }
