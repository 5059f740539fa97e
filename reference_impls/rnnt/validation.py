"""Input validation for the RNN-T oracle.

Every public function validates here before computing, so that the Numba kernels (which do
not bounds-check) never see an index outside its array. Errors are ValueError (bad value or
shape) or TypeError (bad type or dtype) and name the argument and, in a batch, the index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
REDUCTIONS = ("none", "sum", "mean")


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


def check_array(value, name: str) -> np.ndarray:
    """Return `value` if it is a NumPy array, else raise TypeError naming `name`."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(value).__module__}."
                        f"{type(value).__qualname__}")
    return value


def check_float_array(value, name: str, ndim: int) -> np.ndarray:
    """Check a float32/float64 array of `ndim` dimensions; return it C-contiguous."""
    array = check_array(value, name)
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {array.dtype}")
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {array.shape}")
    return np.ascontiguousarray(array)


def check_int_array(value, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Check an integer array of exactly `shape`; return it as C-contiguous int64."""
    array = check_array(value, name)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must have an integer dtype, got {array.dtype}")
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    return np.ascontiguousarray(array, dtype=np.int64)


def normalise_blank(blank, vocab_size: int) -> int:
    """Return `blank` as an index in `[0, vocab_size)`; negative values count from the end."""
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)):
        raise TypeError(f"blank must be an int, got {type(blank).__name__}")
    if not -vocab_size <= blank < vocab_size:
        raise ValueError(f"blank={blank} is out of range for a vocabulary of size {vocab_size}")
    return int(blank) % vocab_size


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


def check_lengths(lengths: np.ndarray, name: str, low: int, high: int, axis_name: str) -> None:
    """Check that every entry of `lengths` lies in `[low, high]`, naming the first offender."""
    bad = np.flatnonzero((lengths < low) | (lengths > high))
    if bad.size:
        b = int(bad[0])
        raise ValueError(f"{name}[{b}] = {lengths[b]} is out of range [{low}, {high}] "
                         f"(the logits' {axis_name} axis)")


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


def check_reduction(reduction) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_finite_scalar(value, name: str, minimum: float | None = None) -> float:
    """Check a real scalar (not bool), finite, and at least `minimum` when given."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def report_undefined_rows(row_normalisers: np.ndarray, batch: RNNTBatch) -> None:
    """Raise ValueError for the first valid-region lattice node whose normaliser is NaN.

    `row_normalisers` is `(B, T, U+1)`: the log-softmax denominator of each node (fused), or
    a marker that is NaN where a log-prob read by the lattice is NaN or +inf (not fused). A
    NaN there means the valid region holds NaN, +inf, or a row that is entirely -inf.
    """
    for b in range(batch.batch_size):
        t_len, u_len = batch.logit_lengths[b], batch.target_lengths[b] + 1
        bad = np.argwhere(np.isnan(row_normalisers[b, :t_len, :u_len]))
        if bad.size:
            t, u = (int(i) for i in bad[0])
            raise ValueError(
                f"logits[{b}, {t}, {u}] (inside the valid region of utterance {b}) holds NaN, "
                "+inf, or is -inf everywhere; the log-softmax of that node is undefined")
