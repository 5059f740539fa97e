"""Input validation for the CTC oracle (torch.nn.functional.ctc_loss's conventions).

Like the RNN-T oracle: every public function validates here, before any Numba kernel runs;
errors are ValueError (value, shape, range) or TypeError (type, dtype), naming the argument
and, in a batch, the index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference_impls.checks import (
    check_array,
    check_float_array,
    check_int_array,
    check_lengths,
    normalise_blank,
)


@dataclass(frozen=True)
class CTCBatch:
    """A validated batch in the kernels' layout.

    Attributes:
        log_probs: `(T, B, C)` float32/float64, C-contiguous.
        targets: `(B, S)` int64, padded (concatenated 1-D input is unpacked).
        input_lengths: `(B,)` int64 in `[1, T]`.
        target_lengths: `(B,)` int64 in `[0, S]`.
        blank: blank index in `[0, C)`.
    """

    log_probs: np.ndarray
    targets: np.ndarray
    input_lengths: np.ndarray
    target_lengths: np.ndarray
    blank: int

    @property
    def batch_size(self) -> int:
        return self.log_probs.shape[1]



def _padded_targets(targets: np.ndarray, target_lengths: np.ndarray, batch: int) -> np.ndarray:
    """`(B, S)` padded targets from padded or concatenated 1-D input (torch's two forms)."""
    if targets.ndim == 2:
        if targets.shape[0] != batch:
            raise ValueError(f"targets must have {batch} rows (one per utterance), "
                             f"got shape {targets.shape}")
        return np.ascontiguousarray(targets, dtype=np.int64)
    if targets.ndim != 1:
        raise ValueError(f"targets must be (B, S) padded or 1-D concatenated, got shape "
                         f"{targets.shape}")
    total = int(target_lengths.sum())
    if targets.shape[0] != total:
        raise ValueError(f"concatenated targets must hold sum(target_lengths) = {total} labels, "
                         f"got {targets.shape[0]}")
    width = int(target_lengths.max(initial=0))
    padded = np.zeros((batch, width), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
    for b in range(batch):
        padded[b, : target_lengths[b]] = targets[starts[b]: starts[b] + target_lengths[b]]
    return padded


def validate_ctc_batch(log_probs, targets, input_lengths, target_lengths, blank,
                       batch_first=False) -> CTCBatch:
    """Validate a torch-convention CTC batch and return it normalised.

    Args:
        log_probs: `(T, B, C)` float32/float64 (`(B, T, C)` if `batch_first`).
        targets: `(B, S)` padded, or 1-D concatenated of length `sum(target_lengths)`.
        input_lengths: `(B,)` integers in `[1, T]`.
        target_lengths: `(B,)` integers in `[0, S]` (for padded targets).
        blank: blank index; negative counts from the end.

    Raises:
        TypeError, ValueError: naming the argument and batch index.
    """
    log_probs = check_float_array(log_probs, "log_probs", ndim=3)
    if batch_first:
        log_probs = np.ascontiguousarray(log_probs.transpose(1, 0, 2))
    max_t, batch, classes = log_probs.shape
    if batch == 0 or max_t == 0 or classes == 0:
        raise ValueError(f"log_probs must have non-empty T, B and C axes, got {log_probs.shape}")
    input_lengths = check_int_array(input_lengths, "input_lengths", (batch,))
    target_lengths = check_int_array(target_lengths, "target_lengths", (batch,))
    targets = check_array(targets, "targets")
    if not np.issubdtype(targets.dtype, np.integer):
        raise TypeError(f"targets must have an integer dtype, got {targets.dtype}")
    check_lengths(input_lengths, "input_lengths", 1, max_t, "T")
    bad = np.flatnonzero(target_lengths < 0)
    if bad.size:
        b = int(bad[0])
        raise ValueError(f"target_lengths[{b}] = {target_lengths[b]} is negative")
    if targets.ndim == 2:
        check_lengths(target_lengths, "target_lengths", 0, targets.shape[1], "targets' S")
    targets = _padded_targets(targets, target_lengths, batch)
    blank = normalise_blank(blank, classes)
    for b in range(batch):
        labels = targets[b, : target_lengths[b]]
        out = np.flatnonzero((labels < 0) | (labels >= classes))
        if out.size:
            s = int(out[0])
            raise ValueError(f"targets[{b}, {s}] = {labels[s]} is out of range [0, {classes})")
        if np.any(labels == blank):
            s = int(np.flatnonzero(labels == blank)[0])
            raise ValueError(f"targets[{b}, {s}] equals the blank index {blank}")
    return CTCBatch(log_probs, targets, input_lengths, target_lengths, blank)


def report_undefined_frames(log_probs: np.ndarray, batch: CTCBatch) -> None:
    """ValueError for the first NaN or +inf log-prob inside an utterance's valid frames.

    One contiguous pass over `(T, B, C)`; the offending index is looked up only on failure.
    """
    undefined = (np.isnan(log_probs) | np.isposinf(log_probs)).any(axis=-1)
    valid = np.arange(log_probs.shape[0])[:, None] < batch.input_lengths[None, :]
    if not np.any(undefined & valid):
        return
    for b in range(batch.batch_size):
        frames = log_probs[: batch.input_lengths[b], b]
        bad = np.argwhere(np.isnan(frames) | np.isposinf(frames))
        if bad.size:
            t, c = (int(i) for i in bad[0])
            raise ValueError(f"log_probs[{t}, {b}, {c}] (inside the valid frames of utterance "
                             f"{b}) is {frames[t, c]}; log-probs must be finite or -inf")
