"""Input validation for the RNN-T oracle.

Every public function validates here before computing, so that the Numba kernels (which do
not bounds-check) never see an index outside its array. Errors are ValueError (bad value or
shape) or TypeError (bad type or dtype) and name the argument and, in a batch, the index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference_impls.checks import (
    check_float_array,
    check_int_array,
    check_lengths,
    normalise_blank,
)


@dataclass(frozen=True)
class RNNTBatch:
    """A validated batch, in the layout the kernels expect.

    Attributes:
        logits: `(B, T, U+1, V)` float32 or float64, C-contiguous (logits or log-probs).
        targets: `(B, U)` int64, C-contiguous; entries beyond `target_lengths[b]` are padding.
        logit_lengths: `(B,)` int64, each in `[1, T]`.
        target_lengths: `(B,)` int64, each in `[0, U]`.
        blank: blank index normalised to `[0, V)`.
    """

    logits: np.ndarray
    targets: np.ndarray
    logit_lengths: np.ndarray
    target_lengths: np.ndarray
    blank: int

    @property
    def batch_size(self) -> int:
        return self.logits.shape[0]










def check_labels(targets: np.ndarray, target_lengths: np.ndarray, vocab_size: int,
                 blank: int) -> None:
    """Check every label inside each utterance's valid region; padding is not inspected."""
    for b in range(targets.shape[0]):
        labels = targets[b, : target_lengths[b]]
        bad = np.flatnonzero((labels < 0) | (labels >= vocab_size))
        if bad.size:
            u = int(bad[0])
            raise ValueError(f"targets[{b}, {u}] = {labels[u]} is out of range [0, {vocab_size})")
        if np.any(labels == blank):
            u = int(np.flatnonzero(labels == blank)[0])
            raise ValueError(f"targets[{b}, {u}] equals the blank index {blank}; a target "
                             "sequence never contains blank")




def validate_rnnt_batch(logits, targets, logit_lengths, target_lengths, blank) -> RNNTBatch:
    """Validate a torchaudio-convention RNN-T batch and return it normalised.

    Args:
        logits: `(B, T, U+1, V)` float32/float64 array.
        targets: `(B, U)` integer array; its width must equal `logits.shape[2] - 1`.
        logit_lengths: `(B,)` integers in `[1, T]` (a zero-length utterance has no lattice).
        target_lengths: `(B,)` integers in `[0, U]`.
        blank: blank index; negative counts from the end of the vocabulary.

    Raises:
        TypeError: an argument has the wrong type or dtype.
        ValueError: a shape, length, label or blank index is out of range.
    """
    logits = check_float_array(logits, "logits", ndim=4)
    batch, max_t, max_u1, vocab = logits.shape
    if batch == 0:
        raise ValueError("logits has batch size 0; an RNN-T batch needs at least one utterance")
    if max_t == 0 or max_u1 == 0 or vocab == 0:
        raise ValueError(f"logits must have non-empty T, U+1 and V axes, got shape {logits.shape}")
    targets = check_int_array(targets, "targets", (batch, max_u1 - 1))
    logit_lengths = check_int_array(logit_lengths, "logit_lengths", (batch,))
    target_lengths = check_int_array(target_lengths, "target_lengths", (batch,))
    check_lengths(logit_lengths, "logit_lengths", 1, max_t, "T")
    check_lengths(target_lengths, "target_lengths", 0, max_u1 - 1, "U+1 (minus one)")
    blank = normalise_blank(blank, vocab)
    check_labels(targets, target_lengths, vocab, blank)
    return RNNTBatch(logits, targets, logit_lengths, target_lengths, blank)






def first_marked_node(markers: np.ndarray, logit_lengths, target_lengths):
    """(b, t, u) of the first valid-region node whose marker `(B, T, U+1)` is NaN, or None."""
    for b in range(markers.shape[0]):
        t_len, u_len = logit_lengths[b], target_lengths[b] + 1
        bad = np.argwhere(np.isnan(markers[b, :t_len, :u_len]))
        if bad.size:
            return (b, *(int(i) for i in bad[0]))
    return None


def report_undefined_rows(row_markers: np.ndarray, batch: RNNTBatch) -> None:
    """Raise ValueError for the first valid-region lattice node whose marker is NaN.

    `row_markers` is `(B, T, U+1)`, NaN where a node's log-softmax is undefined (fused: its
    row holds NaN or +inf, or is all -inf) or where a log-prob the lattice reads is NaN or
    +inf (not fused); the kernels' row sums, the spec's markers.
    """
    node = first_marked_node(row_markers, batch.logit_lengths, batch.target_lengths)
    if node is not None:
        b, t, u = node
        raise ValueError(
            f"logits[{b}, {t}, {u}] (inside the valid region of utterance {b}) holds NaN, "
            "+inf, or is -inf everywhere; the log-softmax of that node is undefined")
