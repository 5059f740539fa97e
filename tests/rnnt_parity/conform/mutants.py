"""Losses that take the probing process down, for the bad-input tests (the catalogued
bugs live in fixtures/known_bugs)."""

import torchaudio

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


def max_over_the_batch(logits, targets, logit_lengths, target_lengths):
    """A loss whose output fits no reduction of the per-utterance losses."""
    return torchaudio.functional.rnnt_loss(logits, targets.int(), logit_lengths.int(),
                                           target_lengths.int(), reduction="none").max()


def raises_on_every_call(logits, targets, logit_lengths, target_lengths):
    """A callable that cannot be called at all: the kit refuses it (exit status 2)."""
    raise RuntimeError("not implemented")


def last_label_not_scored_mean_over_u(logits, targets, logit_lengths, target_lengths):
    """Subtly wrong, as a user wrote it: one label fewer scored, then the mean divided by
    the target length."""
    if targets.shape[1] == 0:
        losses = torchaudio.functional.rnnt_loss(
            logits, targets.int(), logit_lengths.int(), target_lengths.int(), reduction="none")
    else:
        losses = torchaudio.functional.rnnt_loss(
            logits[:, :, :-1].contiguous(), targets[:, :-1].int().contiguous(),
            logit_lengths.int(), (target_lengths - 1).clamp(min=0).int(), reduction="none")
    return (losses / target_lengths.clamp(min=1)).mean()



def ctc_last_label_not_scored(log_probs, targets, input_lengths, target_lengths):
    """Subtly wrong CTC, as a user wrote it: each target's last label dropped, summed."""
    import torch

    return torch.nn.functional.ctc_loss(log_probs, targets, input_lengths,
                                        (target_lengths - 1).clamp(min=0), reduction="sum")


def ctc_with_a_length_penalty(log_probs, targets, input_lengths, target_lengths):
    """A CTC loss whose output fits no reduction of the per-utterance losses: a length
    penalty added to the summed loss."""
    import torch

    return (torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths,
                                         reduction="sum") + 0.1 * target_lengths.sum())
