"""The known-bug catalogue: well-formed, every required bug present with its source, and
`conform --catalogue` counting catches and clean passes (the whole run is `-m slow`)."""

import importlib
import json

import pytest

from rnnt_parity.cli import main
from rnnt_parity.conform.catalogue import CATALOGUE, load_catalogue, run_catalogue
from tests.rnnt_parity.conform.known_bugs import FOLDER  # noqa: F401  (sys.path)

REQUIRED_SOURCES = ("pytorch 52241", "pytorch 53505", "NeMo 16095", "icefall 358",
                    "warp-transducer 93", "warp-transducer 95", "seed 000")


def test_every_entry_names_its_source_and_an_importable_target():
    entries = load_catalogue()
    assert sum(e.expect == "caught" for e in entries) >= 20
    for entry in entries:
        assert entry.source and (entry.expect == "clean" or entry.breaks)
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
    assert not run.all_as_expected and "MISSED" in lines[-3]


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
    ({"expect": "maybe"}, "expect 'caught' or 'clean'"),
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


@pytest.mark.slow
def test_the_whole_catalogue_is_caught_and_the_correct_implementations_pass_clean():
    assert run_catalogue().all_as_expected


def test_a_mutant_the_kit_refuses_to_run_counts_as_caught(tmp_path):
    (tmp_path / "catalogue.json").write_text(json.dumps({"entries": [
        {"name": "per-label mean, auto-detected", "kind": "rnnt-loss",
         "target": "known_bugs.rnnt_losses:mean_divided_by_target_length", "options": {},
         "source": "NeMo RNNTLoss wrapper", "breaks": "the mean", "expect": "caught"}]}))
    lines = []
    run = run_catalogue(path=tmp_path / "catalogue.json", out=lines.append)
    assert run.all_as_expected and "the kit refused it" in lines[0]
    assert "mean_over_target_lengths" in lines[0]
