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
