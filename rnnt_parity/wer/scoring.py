"""Word errors of one hypothesis against its reference, through jiwer (Levenshtein on
whitespace-split words, jiwer's default transform), with a printable alignment."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import jiwer


@dataclass(frozen=True)
class WordErrors:
    substitutions: int
    deletions: int
    insertions: int
    hits: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def reference_words(self) -> int:
        return self.substitutions + self.deletions + self.hits

    def as_dict(self) -> dict:
        return asdict(self)


MARKS = {"equal": " ", "substitute": "S", "delete": "D", "insert": "I"}


def score(reference: str, hypothesis: str) -> tuple[WordErrors, list[str]]:
    """(word errors, alignment as three lines REF / HYP / marks) of one utterance."""
    if not reference.split():
        raise ValueError("the reference is empty: its WER is undefined")
    out = jiwer.process_words(reference, hypothesis)
    ref_words, hyp_words = out.references[0], out.hypotheses[0]
    ref, hyp, marks = [], [], []
    for chunk in out.alignments[0]:
        refs = ref_words[chunk.ref_start_idx:chunk.ref_end_idx]
        hyps = hyp_words[chunk.hyp_start_idx:chunk.hyp_end_idx]
        for k in range(max(len(refs), len(hyps))):
            r = refs[k] if k < len(refs) else "*" * len(hyps[k])
            h = hyps[k] if k < len(hyps) else "*" * len(refs[k])
            width = max(len(r), len(h))
            ref.append(r.ljust(width))
            hyp.append(h.ljust(width))
            marks.append(MARKS[chunk.type].ljust(width))
    errors = WordErrors(out.substitutions, out.deletions, out.insertions, out.hits)
    return errors, ["REF: " + " ".join(ref), "HYP: " + " ".join(hyp),
                    "     " + " ".join(marks).rstrip()]
