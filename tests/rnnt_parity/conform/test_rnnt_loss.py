"""`rnnt-parity conform rnnt-loss`: a correct loss passes clean, each catalogued bug fails the
check meant for it (with a shrunk example for a search failure), bad targets are refused."""

import json

import numpy as np
import pytest
import torch
import torchaudio

from rnnt_parity.backends.deviations import (
    EMPTY_TARGETS_REFUSED,
    EMPTY_TARGETS_RETURN_ZERO,
    NAN_PADDING_GRADIENT,
    SECOND_BACKWARD_RESCALES,
)
from rnnt_parity.cli import main
from rnnt_parity.conform.detect import detect_rnnt_convention
from rnnt_parity.conform.rnnt_loss import (
    PRESETS,
    UserRNNTLoss,
    conform_rnnt_loss,
    read_convention,
    run_empty_targets,
    run_execution_paths,
    run_fixtures,
    run_gradient_as_taken,
    run_large_batch,
    run_nan_padding,
    run_second_backward,
)
from rnnt_parity.conform.targets import load_callable
from tests.rnnt_parity.conform.known_bugs import RNNT
from tests.rnnt_parity.conform.snippets import markdown_snippet, replayed, scalar


def _user(target: str) -> UserRNNTLoss:
    return UserRNNTLoss(load_callable(target), PRESETS["torchaudio"])


def test_torchaudio_conforms_and_the_report_says_so(tmp_path, capsys):
    assert main(["conform", "rnnt-loss", "torchaudio.functional:rnnt_loss", "--out",
                 str(tmp_path)]) == 0
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["passed"] and report["convention"]["blank"] == -1
    assert len(report["checks"]) >= 14 and all(c["passed"] for c in report["checks"])
    outcomes = {r["defect"]: r["outcome"] for r in report["bad_input"]}
    assert len(outcomes) == 8 and outcomes["lengths of the wrong batch size"] == "raises"
    assert "Malformed input" in capsys.readouterr().out


def test_pitfall_mean_divided_by_target_length_fails_with_a_shrunk_example(tmp_path):
    assert main(["conform", "rnnt-loss", RNNT + "mean_divided_by_target_length",
                 "--convention", "torchaudio", "--out", str(tmp_path)]) == 1
    report = json.loads((tmp_path / "conformance.json").read_text())
    search = next(c for c in report["checks"] if c["name"].startswith("property"))
    assert not search["passed"] and search["example"] is not None
    assert max(search["example"]["target_lengths"]) >= 2  # shrunk, yet still needs U >= 2
    assert "Shrunk failing example" in (tmp_path / "conformance.md").read_text()


def test_the_shrunk_example_replays_as_printed_in_the_callables_own_convention(
        subtly_wrong_report):
    """Blank last (the callable's), not the kit's blank 0; running the snippet makes the
    very call that failed, and its answer is not the oracle's printed beside it."""
    snippet = markdown_snippet(subtly_wrong_report[2])
    assert "blank -1" in snippet and "dtype=torch.int32" in snippet
    answer, oracle = replayed(snippet)
    assert abs(scalar(answer) - scalar(oracle)) > 1e-3


def per_target_length_mean(logits, targets, logit_lengths, target_lengths):
    """NeMo's reduction="mean" as it documents it: each loss over its target length (a
    length of 0 divides by 0), then the batch mean."""
    losses = torchaudio.functional.rnnt_loss(logits, targets.int(), logit_lengths.int(),
                                             target_lengths.int(), reduction="none")
    return (losses / target_lengths).mean()


SUBTLY_WRONG = "tests.rnnt_parity.conform.mutants:last_label_not_scored_mean_over_u"
"""Scored one label fewer and divided by the target length (the issue's hand-written loss)."""


@pytest.fixture(scope="module")
def subtly_wrong_report(tmp_path_factory):
    """`conform rnnt-loss` of `SUBTLY_WRONG` under auto: (exit status, JSON, Markdown)."""
    out = tmp_path_factory.mktemp("subtly_wrong")
    status = main(["conform", "rnnt-loss", SUBTLY_WRONG, "--out", str(out)])
    text = (out / "conformance.json").read_text()
    return status, text, (out / "conformance.md").read_text()


def test_a_subtly_wrong_loss_under_auto_gets_a_failing_report_naming_the_deviation(
        subtly_wrong_report):
    """The output fits no reduction, so detection tries the named hypotheses; the report
    fails, first with the one that fits, and every failed check says where and what the two
    values are."""
    status, text, markdown = subtly_wrong_report
    report = json.loads(text)
    first = report["checks"][0]
    assert status == 1 and not first["passed"]
    assert first["detail"].startswith("last label not scored: ")
    failed = [c for c in report["checks"][1:] if "differs" in c["detail"]]
    assert failed and all(" differs at [" in c["detail"] and " where the oracle has " in
                          c["detail"] for c in failed)
    assert "| loss: largest abs error | gradient: largest abs error |" in markdown


def test_a_callable_that_cannot_be_called_is_refused(tmp_path, capsys):
    assert main(["conform", "rnnt-loss", "tests.rnnt_parity.conform.mutants:raises_on_every_call",
                 "--out", str(tmp_path / "r")]) == 2
    assert "the convention is incomplete" in capsys.readouterr().err


def test_the_report_json_is_strict_with_non_finite_errors_flagged(subtly_wrong_report):
    report = json.loads(subtly_wrong_report[1],
                        parse_constant=lambda c: pytest.fail(f"non-strict {c}"))
    flagged = report["non_finite"]
    assert flagged and all(report_value_is_null(report, path) for path in flagged)


def report_value_is_null(report: dict, path: str) -> bool:
    value = report
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value is None


def test_a_per_target_length_mean_is_compared_through_its_documented_definition():
    report = conform_rnnt_loss(f"{__name__}:per_target_length_mean")
    assert report.convention["reduction"] == "mean_over_target_lengths"
    assert report.passed, [c.detail for c in report.checks if not c.passed]


def test_pitfall_an_index_that_wraps_fails_only_the_large_batch():
    user = _user(RNNT + "index_wraps_past_2_15")
    assert not run_large_batch(user).passed
    assert run_second_backward(user).passed  # small batches do not cross the wrap
    assert run_large_batch(_user("torchaudio.functional:rnnt_loss")).passed


def test_pitfall_a_gradient_scaled_in_place_fails_the_second_backward_by_name():
    outcome = run_second_backward(_user(RNNT + "double_backward_scales_in_place"))
    assert not outcome.passed and outcome.max_abs_grad > 0
    assert outcome.deviation == SECOND_BACKWARD_RESCALES
    assert run_second_backward(_user("torchaudio.functional:rnnt_loss")).passed


def test_pitfall_a_batch_of_empty_targets_returning_zero_is_named():
    outcome = run_empty_targets(_user(RNNT + "empty_batch_returns_zero"))
    assert not outcome.passed and outcome.deviation == EMPTY_TARGETS_RETURN_ZERO
    assert "silently" in outcome.detail
    assert run_empty_targets(_user("torchaudio.functional:rnnt_loss")).passed


def test_a_loss_refusing_a_batch_of_empty_targets_is_named():
    def refuses(logits, targets, logit_lengths, target_lengths):
        if targets.shape[1] == 0:
            raise RuntimeError("max(): empty")
        return torchaudio.functional.rnnt_loss(logits, targets, logit_lengths, target_lengths)

    outcome = run_empty_targets(UserRNNTLoss(refuses, PRESETS["torchaudio"]))
    assert not outcome.passed and outcome.deviation == EMPTY_TARGETS_REFUSED


def test_pitfall_log_softmax_over_nan_padding_is_named_not_a_gradient_mismatch():
    user = _user(RNNT + "log_softmax_over_the_padding")
    outcome = run_nan_padding(user)
    assert not outcome.passed and outcome.deviation == NAN_PADDING_GRADIENT
    assert "the valid region agree" in outcome.detail
    assert all(c.passed for c in run_fixtures(user))  # the NaN-padded fixture included
    assert run_nan_padding(_user("torchaudio.functional:rnnt_loss")).passed


def test_a_declared_deviation_does_not_fail_the_report_and_is_shown_as_declared(tmp_path):
    convention = tmp_path / "convention.json"
    convention.write_text(json.dumps({"blank": -1, "inputs": "logits", "reduction": "mean",
                                      "deviations": [SECOND_BACKWARD_RESCALES,
                                                     NAN_PADDING_GRADIENT]}))
    report = conform_rnnt_loss(RNNT + "double_backward_scales_in_place", str(convention))
    declared = [c for c in report.checks if c.declared]
    assert report.passed and [c.deviation for c in declared] == [SECOND_BACKWARD_RESCALES]
    assert f"declared deviation not seen: {NAN_PADDING_GRADIENT}" in report.convention["notes"]
    undeclared = conform_rnnt_loss(RNNT + "double_backward_scales_in_place", "torchaudio")
    assert not undeclared.passed


def test_an_unknown_deviation_in_a_convention_file_is_refused_listing_the_known(tmp_path):
    convention = tmp_path / "convention.json"
    convention.write_text(json.dumps({"blank": -1, "inputs": "logits", "reduction": "mean",
                                      "deviations": ["sometimes wrong"]}))
    with pytest.raises(ValueError, match="unknown deviations.*known"):
        read_convention(str(convention), None)


def test_gradients_are_compared_on_the_valid_region_only():
    """A gradient of 1 on every padding frame (the loss itself right) passes a batch whose
    utterances are shorter than T; the NaN-padding check is the one that looks there."""
    def ones_on_padding(logits, targets, logit_lengths, target_lengths):
        loss = torchaudio.functional.rnnt_loss(logits, targets, logit_lengths, target_lengths)
        padding = torch.arange(logits.shape[1])[None, :, None, None] >= logit_lengths[
            :, None, None, None]
        extra = logits.masked_fill(~padding, 0.0).sum()
        return loss + extra - extra.detach()

    user = UserRNNTLoss(ones_on_padding, PRESETS["torchaudio"])
    logits = np.random.default_rng(0).standard_normal((2, 4, 3, 5)).astype(np.float32)
    _, grad = user(logits, np.array([[1, 2], [3, 0]]), np.array([4, 2]), np.array([2, 1]), 0)
    assert np.all(grad[1, 2:] == 1)
    assert run_large_batch(user).passed


def test_pitfall_a_path_that_disagrees_is_named_with_its_thread_count():
    outcome = run_execution_paths(_user(RNNT + "disagrees_across_execution_paths"))
    assert not outcome.passed and "cpu with 1 thread(s)" in outcome.detail


def test_pitfall_a_wrong_loss_exits_1_and_a_failed_check_names_the_loss(tmp_path):
    """(Each catalogued wrong loss, FastEmit's scaled loss and raw logits fed to an unfused
    loss among them, is caught in test_catalogue.py.)"""
    assert main(["conform", "rnnt-loss", RNNT + "off_by_one_label_length", "--convention",
                 "torchaudio", "--out", str(tmp_path)]) == 1
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert any(not c["passed"] and "loss" in c["detail"] for c in report["checks"])


def test_a_log_probs_loss_whose_gradient_is_not_the_derivative_fails_the_as_given_check():
    def wrong_gradient(log_probs, targets, logit_lengths, target_lengths):
        value = torchaudio.functional.rnnt_loss(log_probs, targets, logit_lengths,
                                                target_lengths, fused_log_softmax=False)
        as_if_fused = torchaudio.functional.rnnt_loss(log_probs, targets, logit_lengths,
                                                      target_lengths)
        return value.detach() + as_if_fused - as_if_fused.detach()

    convention = PRESETS["torchaudio"]
    log_probs_convention = type(convention)(("int32",), -1, "log_probs", "mean",
                                            "true derivative")
    outcome = run_gradient_as_taken(UserRNNTLoss(wrong_gradient, log_probs_convention))
    assert not outcome.passed and "expected 'true derivative'" in outcome.detail
    unfused = UserRNNTLoss(lambda *a: torchaudio.functional.rnnt_loss(
        *a, fused_log_softmax=False), log_probs_convention)
    assert run_gradient_as_taken(unfused).passed


def test_a_logits_loss_has_no_as_given_gradient_check():
    assert run_gradient_as_taken(_user("torchaudio.functional:rnnt_loss")) is None


def test_an_incomplete_convention_is_refused_by_name():
    incomplete = type(PRESETS["torchaudio"])(("int32",), None, "logits", "mean")
    with pytest.raises(ValueError, match="incomplete"):
        UserRNNTLoss(torchaudio.functional.rnnt_loss, incomplete)


def test_the_adapter_gradient_is_zero_outside_each_utterance():
    user = _user("torchaudio.functional:rnnt_loss")
    logits = np.random.default_rng(0).standard_normal((2, 4, 3, 5)).astype(np.float32)
    _, grad = user(logits, np.array([[1, 2], [3, 0]]), np.array([4, 2]), np.array([2, 1]), 0)
    assert np.all(grad[1, 2:] == 0) and np.all(grad[1, :, 2:] == 0)


@pytest.mark.parametrize("target, message", [
    ("torchaudio.functional", "expected PACKAGE.MODULE:CALLABLE"),
    ("no_such_module_xyz:f", "cannot import"),
    ("torchaudio.functional:nope", "has no 'nope'"),
    ("tests.rnnt_parity.conform.mutants:NOT_CALLABLE", "not callable"),
])
def test_bad_targets_are_refused_by_name(target, message):
    with pytest.raises(ValueError, match=message):
        load_callable(target)


def test_the_nemo_preset_is_nemos_wrapper_convention():
    """NeMo's RNNTLoss(num_classes) puts blank at num_classes (the last index), takes int32
    or int64 lengths (it casts them to int64) and logits, and reduces by the batch mean by
    default ("mean_batch")."""
    def nemo_like(logits, targets, logit_lengths, target_lengths):
        return torchaudio.functional.rnnt_loss(logits, targets.long().int(),
                                               logit_lengths.long().int(),
                                               target_lengths.long().int())

    found = detect_rnnt_convention(nemo_like)
    preset = PRESETS["nemo"]
    assert (found.length_dtypes, found.blank, found.inputs, found.reduction) == (
        preset.length_dtypes, preset.blank, preset.inputs, preset.reduction)


def test_a_correct_log_probs_loss_passes_the_nan_padding_fixture():
    """The adapter's log_softmax must leave padding alone: over NaN padding its backward
    turns the callable's 0 gradient into NaN, failing a correct loss."""
    from rnnt_parity.conform.rnnt_loss import run_fixtures

    convention = type(PRESETS["torchaudio"])(("int32",), -1, "log_probs", "mean",
                                             "true derivative")
    unfused = UserRNNTLoss(lambda *a: torchaudio.functional.rnnt_loss(
        *a, fused_log_softmax=False), convention)
    outcomes = {c.name: c for c in run_fixtures(unfused)}
    assert outcomes["fixture padded_batch_nan_padding"].passed
    assert all(c.passed for c in outcomes.values())
