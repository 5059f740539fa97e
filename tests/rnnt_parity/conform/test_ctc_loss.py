"""`rnnt-parity conform ctc-loss`: torch's ctc_loss conforms to its documented convention,
and each catalogued CTC bug fails the check meant for it."""

import json

import numpy as np
import pytest
import torch.nn.functional as F

from rnnt_parity.cli import main
from rnnt_parity.conform.catalogue import CATALOGUE
from rnnt_parity.conform.ctc_loss import (
    PRESETS,
    UserCTCLoss,
    random_ctc_batch,
    read_convention,
    run_gradient_as_taken,
    run_long_targets,
)
from rnnt_parity.conform.targets import load_callable
from tests.rnnt_parity.conform.known_bugs import CTC
from tests.rnnt_parity.conform.snippets import markdown_snippet, replayed, scalar

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


@pytest.fixture(scope="module")
def batch_mean_report(tmp_path_factory):
    """`conform ctc-loss` of the batch-mean mutant under torch's convention: (exit status,
    JSON report, Markdown report)."""
    out = tmp_path_factory.mktemp("batch_mean")
    status = main(["conform", "ctc-loss", CTC + "mean_not_divided_by_target_length",
                   "--convention", "torch", "--out", str(out)])
    return (status, json.loads((out / "conformance.json").read_text()),
            (out / "conformance.md").read_text())


def test_pitfall_a_batch_mean_fails_under_torchs_convention(batch_mean_report):
    status, report, _ = batch_mean_report
    search = next(c for c in report["checks"] if c["name"].startswith("property"))
    assert status == 1
    assert not search["passed"] and search["example"]["target_lengths"]


def test_the_shrunk_example_replays_as_printed_in_the_callables_own_convention(
        batch_mean_report):
    """torch's layout (T, B, C), blank 0 and int64 lengths; running the snippet makes the
    very call that failed, and its answer is not the oracle's printed beside it."""
    snippet = markdown_snippet(batch_mean_report[2])
    assert "(T, B, C) log-probs, blank 0" in snippet and "dtype=torch.int64" in snippet
    answer, oracle = replayed(snippet)
    assert abs(scalar(answer) - scalar(oracle)) > 1e-3


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


def batch_first_blank_last(log_probs, targets, input_lengths, target_lengths):
    """torch's CTC loss in another convention: (B, T, C), blank last, no reduction."""
    return F.ctc_loss(log_probs.transpose(0, 1), targets, input_lengths, target_lengths,
                      blank=log_probs.shape[-1] - 1, reduction="none")


def test_a_replay_of_a_correct_loss_prints_the_oracles_answer():
    """The snippet puts the kit's batch (blank 2, (T, B, C)) into the callable's convention:
    run, it gives what the oracle gives."""
    from rnnt_parity.conform.ctc_loss import replay
    from rnnt_parity.conform.detect_ctc import CTCConvention
    from rnnt_parity.strategies import CTCCase

    log_probs, targets, input_lengths, target_lengths, _ = random_ctc_batch(2, 6, 2, 5, seed=7)
    case = CTCCase(log_probs, np.where(targets == 2, 0, targets), input_lengths,
                   target_lengths, 2)
    convention = CTCConvention(("int64",), "BTC", -1, "log_probs", "none")
    snippet = replay(UserCTCLoss(F.ctc_loss, convention), "tests.rnnt_parity.conform."
                     "test_ctc_loss:batch_first_blank_last", case)
    assert "(B, T, C) log-probs, blank -1" in snippet
    answer, oracle = replayed(snippet)
    np.testing.assert_allclose(json.loads(answer.split("tensor(")[1].split(")")[0]),
                               json.loads(oracle), rtol=1e-5)
