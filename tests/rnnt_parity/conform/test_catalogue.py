"""The known-bug catalogue: well-formed, every required bug present with its source, and
`conform --catalogue` counting catches and clean passes, and every entry run as its own
test: each catalogued bug caught, each correct implementation clean, each real library
deviating exactly as documented."""

import importlib
import json

import pytest

from rnnt_parity.backends.deviations import (
    EMPTY_TARGETS_RETURN_ZERO,
    NAN_PADDING_GRADIENT,
    SECOND_BACKWARD_RESCALES,
)
from rnnt_parity.cli import main
from rnnt_parity.conform.catalogue import CATALOGUE, Entry, judge, load_catalogue, run_catalogue
from rnnt_parity.conform.report import CheckOutcome, ConformanceReport
from tests.rnnt_parity.conform.known_bugs import FOLDER  # noqa: F401  (sys.path)

REQUIRED_SOURCES = ("pytorch 52241", "pytorch 53505", "NeMo 16095", "icefall 358",
                    "warp-transducer 93", "warp-transducer 95", "seed 000")


def test_every_entry_names_its_source_and_an_importable_target():
    entries = load_catalogue()
    assert sum(e.expect == "caught" for e in entries) >= 20
    for entry in entries:
        assert entry.source and (entry.expect in ("clean", "deviates") or entry.breaks)
        if entry.requires is None:
            module, _, name = entry.target.partition(":")
            assert callable(getattr(importlib.import_module(module), name)), entry.name


def test_the_issue_s_bugs_are_all_catalogued():
    sources = " ".join(e.source for e in load_catalogue())
    assert all(source in sources for source in REQUIRED_SOURCES)
    assert sum("seed 000" in e.source for e in load_catalogue()) == 5  # the seed's five


def test_a_subset_run_counts_catches_and_clean_passes(capsys):
    names = ["bias_hh dropped", "rnnt-parity beam search"]
    assert main(["conform", "--catalogue", "--only", *names]) == 0
    out = capsys.readouterr().out
    assert "caught 1 of 1 catalogued bugs" in out
    assert "clean 1 of 1 correct implementations" in out


def test_a_missed_bug_fails_the_run(tmp_path):
    entries = json.loads(CATALOGUE.read_text())["entries"]
    wrong = next(e for e in entries if e["name"] == "rnnt-parity beam search")
    (tmp_path / "catalogue.json").write_text(json.dumps({"entries": [
        {**wrong, "name": "a correct search catalogued as a bug", "expect": "caught",
         "breaks": "nothing"}]}))
    lines = []
    run = run_catalogue(path=tmp_path / "catalogue.json", out=lines.append)
    assert not run.all_as_expected
    assert any(line.startswith("caught 0 of 1") and "MISSED" in line for line in lines)


def test_an_absent_optional_backend_is_skipped_with_the_reason(tmp_path):
    (tmp_path / "catalogue.json").write_text(json.dumps({"entries": [
        {"name": "absent", "kind": "rnnt-loss", "target": "no_such_backend_xyz:loss",
         "options": {}, "source": "nowhere", "expect": "clean",
         "requires": "no_such_backend_xyz"}]}))
    lines = []
    run = run_catalogue(path=tmp_path / "catalogue.json", out=lines.append)
    assert run.all_as_expected and "no_such_backend_xyz is not installed" in lines[0]


@pytest.mark.parametrize("change, message", [
    ({"kind": "tokenizer"}, "kind must be one of"),
    ({"expect": "maybe"}, "expect 'caught', 'clean' or 'deviates'"),
    ({"expect": "deviates"}, "names its deviations"),
    ({"expect": "deviates", "deviations": ["sometimes wrong"]}, "unknown: .'sometimes wrong'"),
    ({"colour": "red"}, "entry 0 .*colour"),
])
def test_a_malformed_entry_is_refused_by_index_and_name(tmp_path, change, message):
    entry = {**json.loads(CATALOGUE.read_text())["entries"][0], **change}
    (tmp_path / "catalogue.json").write_text(json.dumps({"entries": [entry]}))
    with pytest.raises(ValueError, match=message):
        load_catalogue(tmp_path / "catalogue.json")


def test_an_unknown_name_is_refused(capsys):
    assert main(["conform", "--catalogue", "--only", "no such bug"]) == 2
    assert "no catalogue entries named" in capsys.readouterr().err


@pytest.mark.parametrize("name", [e.name for e in load_catalogue()])
def test_each_catalogue_entry_is_judged_as_catalogued(name):
    """Under the quick profile, malformed inputs probed only where they catch the entry;
    the docs tests run the whole catalogue under ci with every table."""
    lines = []
    run = run_catalogue(only=[name], out=lines.append, profile="quick", tables=False)
    verdict, = run.verdicts
    if verdict.outcome == "skipped":
        pytest.skip(verdict.evidence)
    assert verdict.as_expected, lines[0]


def test_a_mutant_the_kit_refuses_to_run_counts_as_caught(tmp_path):
    (tmp_path / "catalogue.json").write_text(json.dumps({"entries": [
        {"name": "a callable that always raises, auto-detected", "kind": "rnnt-loss",
         "target": "tests.rnnt_parity.conform.mutants:raises_on_every_call", "options": {},
         "source": "nowhere", "breaks": "cannot be called", "expect": "caught"}]}))
    lines = []
    run = run_catalogue(path=tmp_path / "catalogue.json", out=lines.append)
    assert run.all_as_expected and "the kit refused it" in lines[0]
    assert "incomplete" in lines[0]


WARP_LIKE = Entry("warp-like", "rnnt-loss", "x:y", {}, "here", "deviates",
                  deviations=(EMPTY_TARGETS_RETURN_ZERO, SECOND_BACKWARD_RESCALES))


def _report(*checks: CheckOutcome) -> ConformanceReport:
    return ConformanceReport("RNN-T loss", "x:y", {}, list(checks))


def test_a_real_library_showing_exactly_its_documented_deviations_deviates_as_documented():
    as_expected, verdict, evidence = judge(WARP_LIKE, _report(
        CheckOutcome("fixture", True),
        CheckOutcome("empty", False, deviation=EMPTY_TARGETS_RETURN_ZERO),
        CheckOutcome("second backward", False, deviation=SECOND_BACKWARD_RESCALES)))
    assert as_expected and verdict == "deviates as documented"
    assert evidence.startswith(f"{EMPTY_TARGETS_RETURN_ZERO}; {SECOND_BACKWARD_RESCALES}")


def test_a_new_undocumented_deviation_fails_a_real_library():
    as_expected, verdict, evidence = judge(WARP_LIKE, _report(
        CheckOutcome("empty", False, deviation=EMPTY_TARGETS_RETURN_ZERO),
        CheckOutcome("second backward", False, deviation=SECOND_BACKWARD_RESCALES),
        CheckOutcome("nan padding", False, "grad", deviation=NAN_PADDING_GRADIENT),
        CheckOutcome("large batch", False, "loss differs")))
    assert not as_expected and verdict == "FAILS"
    assert "undocumented: nan padding" in evidence and "undocumented: large batch" in evidence


def test_a_documented_deviation_no_check_shows_fails_a_real_library():
    as_expected, verdict, evidence = judge(WARP_LIKE, _report(
        CheckOutcome("empty", False, deviation=EMPTY_TARGETS_RETURN_ZERO),
        CheckOutcome("second backward", True)))
    assert not as_expected and verdict == "FAILS"
    assert f"documented deviation not seen: {SECOND_BACKWARD_RESCALES}" in evidence


def test_a_library_catalogued_with_its_deviation_is_reported_as_deviating(tmp_path):
    """End to end, with the catalogue's in-place-backward mutant standing in for a real
    library that documents the deviation."""
    (tmp_path / "catalogue.json").write_text(json.dumps({"entries": [
        {"name": "in place, documented", "kind": "rnnt-loss",
         "target": "known_bugs.rnnt_losses:double_backward_scales_in_place",
         "options": {"convention": "torchaudio"}, "source": "here", "expect": "deviates",
         "deviations": [SECOND_BACKWARD_RESCALES]}]}))
    lines = []
    assert run_catalogue(path=tmp_path / "catalogue.json", out=lines.append).all_as_expected
    assert lines[0].startswith("deviates as documented") and "refuses" in lines[0]
    assert "deviates as documented 1 of 1 real libraries" in lines


def test_every_real_library_entry_names_deviations_its_backend_documents():
    from rnnt_parity.backends import RNNT_LOSS_BACKENDS

    by_module = {"warprnnt_pytorch": "warprnnt", "optimized_transducer": "optimized_transducer",
                 "nemo": "nemo"}
    real = [e for e in load_catalogue() if e.expect == "deviates"]
    assert {e.requires for e in real} == set(by_module)
    for entry in real:
        documented = RNNT_LOSS_BACKENDS[by_module[entry.requires]].deviations
        assert set(entry.deviations) <= set(documented), entry.name
