"""CTC convention detection: layout, length dtypes, blank, inputs, reduction and gradient."""

import functools

import torch
import torch.nn.functional as F

from rnnt_parity.conform.detect_ctc import LOGITS_GRADIENT, detect_ctc_convention
from tests.rnnt_parity.conform.known_bugs import CORRECT, CTC  # noqa: F401  (sys.path)


def test_torch_defaults_are_detected_with_its_gradient_deviation():
    found = detect_ctc_convention(F.ctc_loss)
    assert (found.layout, found.blank, found.inputs, found.reduction) == (
        "TBC", 0, "log_probs", "mean")
    assert found.length_dtypes == ("int64", "int32") and found.gradient == LOGITS_GRADIENT


def test_a_fixed_blank_is_told_from_the_last_index():
    assert detect_ctc_convention(functools.partial(F.ctc_loss, blank=3)).blank == 3

    def blank_last(log_probs, *rest):
        return F.ctc_loss(log_probs, *rest, blank=log_probs.shape[-1] - 1)

    assert detect_ctc_convention(blank_last).blank == -1


def test_batch_first_logits_without_reduction_are_detected():
    def batch_first(logits, targets, input_lengths, target_lengths):
        log_probs = logits.transpose(0, 1).log_softmax(-1)
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="none")

    found = detect_ctc_convention(batch_first)
    assert (found.layout, found.inputs, found.reduction) == ("BTC", "logits", "none")
    assert found.gradient == "true derivative"


def test_a_batch_mean_is_told_from_torchs_per_target_length_mean():
    def batch_mean(*args):
        return F.ctc_loss(*args, reduction="sum") / args[0].shape[1]

    assert detect_ctc_convention(batch_mean).reduction == "batch_mean"


def test_the_oracle_backed_loss_has_the_true_derivative():
    from known_bugs.correct import oracle_ctc_loss

    assert detect_ctc_convention(oracle_ctc_loss).gradient == "true derivative"


def test_a_callable_that_refuses_everything_is_reported_not_crashed_on():
    def broken(*_):
        raise RuntimeError("no")

    found = detect_ctc_convention(broken)
    assert found.layout is None and found.blank is None
    assert len(found.notes) == 4 and all("RuntimeError: no" in n for n in found.notes)


def test_int32_only_lengths_are_reported():
    def int32_only(log_probs, targets, input_lengths, target_lengths):
        if input_lengths.dtype != torch.int32:
            raise TypeError("int32 lengths only")
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths)

    assert detect_ctc_convention(int32_only).length_dtypes == ("int32",)


def test_a_loss_that_drops_the_last_label_is_named_not_refused():
    from tests.rnnt_parity.conform.mutants import ctc_last_label_not_scored

    found = detect_ctc_convention(ctc_last_label_not_scored)
    assert found.reduction == "sum"
    assert found.suspected[0].startswith("last label not scored: the output ")
    assert "is the oracle's sum with target_lengths - 1" in found.suspected[0]


def test_a_correct_loss_is_suspected_of_nothing():
    assert detect_ctc_convention(F.ctc_loss).suspected == []


def test_an_output_no_hypothesis_fits_is_checked_as_a_sum_and_said_so():
    from tests.rnnt_parity.conform.mutants import ctc_with_a_length_penalty

    found = detect_ctc_convention(ctc_with_a_length_penalty)
    assert found.reduction == "sum"
    assert "fits no reduction of the oracle's per-utterance losses" in found.suspected[0]
    assert "checked as 'sum'" in found.suspected[0]
