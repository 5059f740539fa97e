"""The drift comparison on hypothesis files: counts, skips, identity, speakers, bad input."""

import json

import pytest

from rnnt_parity.corpus.manifests import Entry
from rnnt_parity.wer.drift import Side, compare_hypotheses, condition_differences, read_hypotheses

ENTRIES = [Entry("u1", "u1.flac", "one two three", 1.0, "theo"),
           Entry("u2", "u2.flac", "four five", 1.0, "theo"),
           Entry("u3", "u3.flac", "six", 1.0, "george")]


def _side(texts, conditions=None, skipped=None):
    return Side(conditions or {"decoder": "greedy"}, dict(texts), dict(skipped or {}))


def test_identical_hypotheses_report_zero_drift_and_full_identity():
    texts = {"u1": "one two three", "u2": "four", "u3": "six"}
    report = compare_hypotheses(ENTRIES, _side(texts), _side(texts), replicates=200)
    assert report["wer"]["delta"] == 0.0
    assert report["identity"]["rate"] == 1.0 and report["changed"] == []
    assert report["bootstrap"]["delta_ci95"] == [0.0, 0.0]
    assert report["conditions"]["differences"] == []


def test_corpus_wer_and_kinds_are_summed_over_utterances():
    a = _side({"u1": "one two three", "u2": "four five", "u3": "six"})
    b = _side({"u1": "one too three", "u2": "four", "u3": "six six"})
    report = compare_hypotheses(ENTRIES, a, b, replicates=200)
    wer_b = report["wer"]["b"]
    assert (wer_b["substitutions"], wer_b["deletions"], wer_b["insertions"]) == (1, 1, 1)
    assert wer_b["wer"] == pytest.approx(3 / 6)
    assert report["changed"] == ["u1", "u2", "u3"]
    assert report["speakers"]["george"]["wer_b"] == 1.0
    assert report["speakers"]["theo"]["wer_b"] == pytest.approx(2 / 5)


def test_skips_are_listed_with_reasons_and_counted():
    entries = [*ENTRIES, Entry("u4", "u4.flac", "  ", 1.0)]
    a = _side({"u1": "one two three", "u3": "six", "u4": ""},
              skipped={"u2": "no audio file at u2.flac"})
    b = _side({"u1": "one two three", "u2": "four five", "u3": "six", "u4": ""})
    report = compare_hypotheses(entries, a, b, replicates=100)
    assert (report["scored"], report["total"]) == (2, 4)
    reasons = {s["id"]: s["reason"] for s in report["skipped"]}
    assert reasons == {"u2": "a: no audio file at u2.flac",
                       "u4": "manifest: empty transcript (WER undefined)"}


def test_nothing_scorable_is_an_error():
    with pytest.raises(ValueError, match="none of the 3"):
        compare_hypotheses(ENTRIES, _side({}), _side({}))


def test_condition_differences_list_nested_fields_and_absent_ones():
    a = {"decoder": {"kind": "rnnt_greedy", "beam": 4}, "family": "canonical"}
    b = {"decoder": {"kind": "rnnt_beam", "beam": 4}, "extra": 1, "family": "canonical"}
    assert condition_differences(a, b) == [
        {"field": "decoder.kind", "a": "rnnt_greedy", "b": "rnnt_beam"},
        {"field": "extra", "a": None, "b": 1}]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_hypothesis_file_ids_outside_the_manifest_are_refused(tmp_path):
    path = _write(tmp_path / "h.jsonl", [{"id": "u1", "text": "x"}, {"id": "zz", "text": "y"}])
    with pytest.raises(ValueError, match="1 hypothesis id\\(s\\) are not in the manifest.*zz"):
        read_hypotheses(path, ENTRIES)


def test_hypothesis_file_duplicates_and_bad_lines_are_refused(tmp_path):
    path = _write(tmp_path / "h.jsonl", [{"id": "u1", "text": "x"}, {"id": "u1", "text": "y"}])
    with pytest.raises(ValueError, match="line 2: id 'u1' appears twice"):
        read_hypotheses(path, ENTRIES)
    path = _write(tmp_path / "g.jsonl", [{"id": "u1", "text": 3}])
    with pytest.raises(ValueError, match="line 1: expected"):
        read_hypotheses(path, ENTRIES)


def test_manifest_ids_missing_from_a_hypothesis_file_become_listed_skips(tmp_path):
    path = _write(tmp_path / "h.jsonl", [{"id": "u1", "text": "one two three"}])
    side = read_hypotheses(path, ENTRIES)
    assert set(side.skipped) == {"u2", "u3"}
    report = compare_hypotheses(ENTRIES, side, side, replicates=100)
    assert report["scored"] == 1 and len(report["skipped"]) == 2
