"""Buggy RNN-T losses for the conformance tests: each a small wrapper reproducing one bug."""

import torchaudio


def mean_divided_by_target_length(logits, targets, logit_lengths, target_lengths):
    """torch CTC's "mean" (divide by target length) where torchaudio's batch mean belongs."""
    losses = torchaudio.functional.rnnt_loss(logits, targets, logit_lengths, target_lengths,
                                             reduction="none")
    return (losses / target_lengths.clamp(min=1)).mean()


NOT_CALLABLE = 3


def aborts_on_out_of_range_labels(logits, targets, logit_lengths, target_lengths):
    """A kernel that reads out of bounds on a label >= V, modelled as the process dying."""
    import os

    if int(targets.max()) >= logits.shape[-1]:
        os.abort()
    return torchaudio.functional.rnnt_loss(logits, targets, logit_lengths, target_lengths)


def hangs_on_nan(logits, targets, logit_lengths, target_lengths):
    """A loss that never returns on NaN input (a spinning kernel)."""
    import time

    if bool(logits.isnan().any()):
        time.sleep(600)
    return torchaudio.functional.rnnt_loss(logits, targets, logit_lengths, target_lengths)
