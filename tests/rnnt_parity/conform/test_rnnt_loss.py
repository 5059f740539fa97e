"""`rnnt-parity conform rnnt-loss`: a correct loss passes clean, a buggy one fails with a
shrunk example, and bad targets are refused by name."""

import json

import pytest

from rnnt_parity.cli import main
from rnnt_parity.conform.rnnt_loss import load_callable


def test_torchaudio_conforms_and_the_report_says_so(tmp_path, capsys):
    assert main(["conform", "rnnt-loss", "torchaudio.functional:rnnt_loss", "--out",
                 str(tmp_path)]) == 0
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["passed"] and report["convention"]["blank"] == -1
    assert len(report["checks"]) >= 10 and all(c["passed"] for c in report["checks"])
    outcomes = {r["defect"]: r["outcome"] for r in report["bad_input"]}
    assert len(outcomes) == 8 and outcomes["lengths of the wrong batch size"] == "raises"
    assert "Malformed input" in capsys.readouterr().out


def test_pitfall_mean_divided_by_target_length_fails_with_a_shrunk_example(tmp_path):
    target = "tests.rnnt_parity.conform.mutants:mean_divided_by_target_length"
    assert main(["conform", "rnnt-loss", target, "--convention", "torchaudio", "--out",
                 str(tmp_path)]) == 1
    report = json.loads((tmp_path / "conformance.json").read_text())
    search = next(c for c in report["checks"] if c["name"].startswith("property"))
    assert not search["passed"] and search["example"] is not None
    assert max(search["example"]["target_lengths"]) >= 2  # shrunk, yet still needs U >= 2
    assert "Shrunk failing example" in (tmp_path / "conformance.md").read_text()


def test_auto_detection_refuses_a_reduction_the_oracle_has_no_twin_for(tmp_path, capsys):
    target = "tests.rnnt_parity.conform.mutants:mean_divided_by_target_length"
    assert main(["conform", "rnnt-loss", target, "--out", str(tmp_path)]) == 2
    assert "mean_over_target_lengths" in capsys.readouterr().err


@pytest.mark.parametrize("target, message", [
    ("torchaudio.functional", "expected PACKAGE.MODULE:CALLABLE"),
    ("no_such_module_xyz:f", "cannot import"),
    ("torchaudio.functional:nope", "has no 'nope'"),
    ("tests.rnnt_parity.conform.mutants:NOT_CALLABLE", "not callable"),
])
def test_bad_targets_are_refused_by_name(target, message):
    with pytest.raises(ValueError, match=message):
        load_callable(target)
