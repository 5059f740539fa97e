"""Word errors through jiwer, cross-checked against an independent edit distance and sclite."""

import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnt_parity.wer.scoring import score

WORDS = st.lists(st.sampled_from(["one", "two", "three", "oh"]), min_size=0, max_size=7)


def levenshtein(ref: list[str], hyp: list[str]) -> int:
    """Word edit distance by the textbook dynamic programme (the test's own oracle)."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1]


@given(WORDS.filter(bool), WORDS)
def test_error_count_equals_the_edit_distance(ref, hyp):
    errors, _ = score(" ".join(ref), " ".join(hyp))
    assert errors.errors == levenshtein(ref, hyp)
    assert errors.reference_words == len(ref)


def test_alignment_marks_each_error_kind():
    errors, lines = score("one two three", "one too three four")
    assert (errors.substitutions, errors.deletions, errors.insertions) == (1, 0, 1)
    assert lines[0].startswith("REF: one two") and "****" in lines[0]
    assert lines[2].split() == ["S", "I"]


def test_empty_reference_is_refused():
    with pytest.raises(ValueError, match="undefined"):
        score("  ", "one")


def sclite_command() -> list[str] | None:
    """sclite on PATH, or Debian's sctk wrapper (`sctk sclite`)."""
    if shutil.which("sclite"):
        return ["sclite"]
    return ["sctk", "sclite"] if shutil.which("sctk") else None


@pytest.mark.skipif(sclite_command() is None,
                    reason="NIST sclite not installed (Debian package sctk)")
def test_jiwer_agrees_with_sclite(tmp_path):
    pairs = [("one two three", "one too three four"), ("five six", "six"),
             ("seven", "seven eight nine")]
    (tmp_path / "ref.trn").write_text("".join(f"{r} (u{k})\n" for k, (r, _) in enumerate(pairs)))
    (tmp_path / "hyp.trn").write_text("".join(f"{h} (u{k})\n" for k, (_, h) in enumerate(pairs)))
    out = subprocess.run([*sclite_command(), "-r", str(tmp_path / "ref.trn"), "trn", "-h",
                          str(tmp_path / "hyp.trn"), "trn", "-i", "rm", "-o", "sum", "stdout"],
                         capture_output=True, text=True, check=True).stdout
    errors = [score(r, h)[0] for r, h in pairs]
    words = sum(e.reference_words for e in errors)
    ours = [sum(getattr(e, kind) for e in errors) for kind in
            ("hits", "substitutions", "deletions", "insertions")]
    ours.append(ours[1] + ours[2] + ours[3])
    sum_line = next(line for line in out.splitlines() if "Sum/Avg" in line)
    corr, sub, dele, ins, err = (float(x) for x in sum_line.split("|")[3].split()[:5])
    assert [corr, sub, dele, ins, err] == [round(100 * n / words, 1) for n in ours]
