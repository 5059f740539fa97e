"""Buggy RNN-T losses for the conformance tests: each a small wrapper reproducing one bug."""

import torchaudio


def mean_divided_by_target_length(logits, targets, logit_lengths, target_lengths):
    """torch CTC's "mean" (divide by target length) where torchaudio's batch mean belongs."""
    losses = torchaudio.functional.rnnt_loss(logits, targets, logit_lengths, target_lengths,
                                             reduction="none")
    return (losses / target_lengths.clamp(min=1)).mean()


NOT_CALLABLE = 3
