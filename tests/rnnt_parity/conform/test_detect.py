"""Convention detection finds what each RNN-T loss expects, including a wrong gradient."""

import functools

import torchaudio

from rnnt_parity.conform.detect import detect_rnnt_convention

TORCHAUDIO = torchaudio.functional.rnnt_loss


def test_torchaudio_defaults_are_detected():
    found = detect_rnnt_convention(TORCHAUDIO)
    assert (found.blank, found.inputs, found.reduction) == (-1, "logits", "mean")
    assert found.length_dtypes == ("int32",) and found.gradient == "true derivative"
    assert found.accepts_padding is False  # torchaudio needs T == max(logit_lengths)


def test_a_fixed_blank_index_is_told_from_the_last_index():
    found = detect_rnnt_convention(functools.partial(TORCHAUDIO, blank=3))
    assert found.blank == 3


def test_blank_first_log_probs_and_no_reduction_are_detected():
    loss = functools.partial(TORCHAUDIO, blank=0, reduction="none", fused_log_softmax=False)
    found = detect_rnnt_convention(loss, vocab_size=6)
    assert (found.blank, found.inputs, found.reduction) == (0, "log_probs", "none")
    assert found.gradient == "true derivative"


def test_a_mean_over_target_lengths_is_told_apart_from_the_batch_mean():
    def per_label_mean(logits, targets, logit_lengths, target_lengths):
        losses = TORCHAUDIO(logits, targets, logit_lengths, target_lengths, reduction="none")
        return (losses / target_lengths).mean()

    found = detect_rnnt_convention(per_label_mean)
    assert found.reduction == "mean_over_target_lengths"
    assert found.gradient == "true derivative"


def test_pitfall_a_gradient_taken_as_if_through_log_softmax_is_not_the_derivative():
    """PyTorch 52241's pattern: the loss takes log-probs but returns the gradient w.r.t. the
    logits of a log_softmax it never applied."""
    def wrong_gradient(log_probs, targets, logit_lengths, target_lengths):
        value = TORCHAUDIO(log_probs, targets, logit_lengths, target_lengths,
                           reduction="none", fused_log_softmax=False)
        as_if_fused = TORCHAUDIO(log_probs, targets, logit_lengths, target_lengths,
                                 reduction="none")
        return value.detach() + as_if_fused - as_if_fused.detach()

    found = detect_rnnt_convention(wrong_gradient)
    assert found.inputs == "log_probs"
    assert found.gradient.startswith("not the derivative w.r.t. its log_probs")


def test_a_callable_that_always_raises_is_reported_not_crashed_on():
    def broken(*_):
        raise RuntimeError("no")

    found = detect_rnnt_convention(broken)
    assert found.length_dtypes == () and found.blank is None
    assert len(found.notes) == 2 and "RuntimeError: no" in found.notes[0]


def test_int64_lengths_are_reported_when_accepted():
    def any_dtype(logits, targets, logit_lengths, target_lengths):
        return TORCHAUDIO(logits, targets.int(), logit_lengths.int(), target_lengths.int())

    found = detect_rnnt_convention(any_dtype)
    assert found.length_dtypes == ("int32", "int64") and found.blank == -1


def test_a_loss_that_scores_one_label_fewer_is_named_not_refused():
    from tests.rnnt_parity.conform.mutants import last_label_not_scored_mean_over_u

    found = detect_rnnt_convention(last_label_not_scored_mean_over_u)
    assert found.reduction == "mean_over_target_lengths"
    assert found.suspected[0].startswith("last label not scored: the output ")
    assert "is the oracle's mean_over_target_lengths with target_lengths - 1" in \
        found.suspected[0]


def test_an_output_no_hypothesis_fits_is_checked_as_a_sum_and_said_so():
    from tests.rnnt_parity.conform.mutants import max_over_the_batch

    found = detect_rnnt_convention(max_over_the_batch)
    assert found.reduction == "sum"
    assert "fits no reduction of the oracle's per-utterance losses" in found.suspected[0]
    assert "checked as 'sum'" in found.suspected[0]
