"""`rnnt-parity conform ctc-loss`: torch's ctc_loss conforms to its documented convention,
and each catalogued CTC bug fails the check meant for it."""

import json

import pytest
import torch.nn.functional as F

from rnnt_parity.cli import main
from rnnt_parity.conform.catalogue import CATALOGUE
from rnnt_parity.conform.ctc_loss import (
    PRESETS,
    UserCTCLoss,
    read_convention,
    run_gradient_as_taken,
    run_long_targets,
)
from rnnt_parity.conform.targets import load_callable
from tests.rnnt_parity.conform.known_bugs import CTC

TRUE_DERIVATIVE = CATALOGUE.parent / "ctc_true_derivative.json"


def test_torch_conforms_to_its_preset_and_the_report_says_so(tmp_path):
    assert main(["conform", "ctc-loss", "torch.nn.functional:ctc_loss", "--convention", "torch",
                 "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["kind"] == "CTC loss" and len(report["checks"]) >= 12
    assert {r["defect"]: r["outcome"] for r in report["bad_input"]}[
        "lengths of the wrong batch size"] == "raises"


def test_pitfall_52241_fails_under_a_convention_that_declares_the_true_derivative():
    convention = read_convention(str(TRUE_DERIVATIVE), None)
    outcome = run_gradient_as_taken(UserCTCLoss(F.ctc_loss, convention))
    assert not outcome.passed and "logits gradient (pytorch 52241)" in outcome.detail
    assert run_gradient_as_taken(UserCTCLoss(F.ctc_loss, PRESETS["torch"])).passed


def test_pitfall_the_cudnn_256_limit_fails_only_the_long_targets():
    mutant = UserCTCLoss(load_callable(CTC + "cudnn_breaks_at_target_length_256"),
                         PRESETS["torch"])
    assert not run_long_targets(mutant).passed
    assert run_long_targets(UserCTCLoss(F.ctc_loss, PRESETS["torch"])).passed


def test_pitfall_a_batch_mean_fails_under_torchs_convention(tmp_path):
    assert main(["conform", "ctc-loss", CTC + "mean_not_divided_by_target_length",
                 "--convention", "torch", "--out", str(tmp_path)]) == 1
    report = json.loads((tmp_path / "conformance.json").read_text())
    search = next(c for c in report["checks"] if c["name"].startswith("property"))
    assert not search["passed"] and search["example"]["target_lengths"]


def test_a_convention_that_is_neither_a_preset_nor_a_file_is_refused():
    with pytest.raises(ValueError, match="not auto, a preset"):
        read_convention("tensorflow", F.ctc_loss)


def test_a_reduction_without_an_oracle_twin_is_refused():
    convention = read_convention("torch", F.ctc_loss)
    odd = type(convention)(("int64",), "TBC", 0, "log_probs", "median")
    with pytest.raises(ValueError, match="no oracle counterpart"):
        UserCTCLoss(F.ctc_loss, odd)


def test_auto_detection_reports_52241_and_still_fails_it(tmp_path):
    assert main(["conform", "ctc-loss", "torch.nn.functional:ctc_loss", "--out",
                 str(tmp_path)]) == 1
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["convention"]["gradient"] == "logits gradient (pytorch 52241)"
    assert [c["name"] for c in report["checks"] if not c["passed"]] == [
        "gradient w.r.t. the log-probs as given is the expected one"]


def test_a_subtly_wrong_loss_under_auto_gets_a_failing_report_naming_the_deviation(tmp_path):
    """Its output fits no reduction, so detection tries the named hypotheses: the report
    fails (exit 1, not a refusal), first with the one that fits."""
    assert main(["conform", "ctc-loss", "tests.rnnt_parity.conform.mutants:"
                 "ctc_last_label_not_scored", "--out", str(tmp_path)]) == 1
    report = json.loads((tmp_path / "conformance.json").read_text())
    first = report["checks"][0]
    assert not first["passed"] and first["detail"].startswith("last label not scored: ")
    assert report["convention"]["reduction"] == "sum"
