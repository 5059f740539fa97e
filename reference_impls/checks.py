"""Argument checks shared by the oracles; each raises TypeError or ValueError naming it."""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
REDUCTIONS = ("none", "sum", "mean")


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


def check_lengths(lengths: np.ndarray, name: str, low: int, high: int, axis_name: str) -> None:
    """Check that every entry of `lengths` lies in `[low, high]`, naming the first offender."""
    bad = np.flatnonzero((lengths < low) | (lengths > high))
    if bad.size:
        b = int(bad[0])
        raise ValueError(f"{name}[{b}] = {lengths[b]} is out of range [{low}, {high}] "
                         f"(the logits' {axis_name} axis)")


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
