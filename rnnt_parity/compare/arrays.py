"""Elementwise comparison of two arrays under a named tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnt_parity.compare.tolerances import Tolerance


@dataclass(frozen=True)
class Comparison:
    """The outcome of comparing `actual` with `expected`.

    Attributes:
        max_abs: largest |actual - expected| over elements that are not equal non-finites.
        max_rel: largest |actual - expected| / |expected| over the same elements (0/0 = 0).
        worst_index: index of the element with the largest excess over its limit.
        passed: every element within its limit, and non-finite values equal where they occur.
        tolerance: the tolerance applied.
    """

    max_abs: float
    max_rel: float
    worst_index: tuple[int, ...]
    passed: bool
    tolerance: Tolerance


def loss_scale(losses, shape: tuple[int, ...]) -> np.ndarray:
    """max(1, |loss_b|) broadcast to `shape`, whose leading axis is the batch.

    For a 0-d `shape` (a reduced loss) the scale is max(1, max_b |loss_b|).
    """
    scale = np.maximum(1.0, np.abs(np.asarray(losses, dtype=np.float64).reshape(-1)))
    scale[~np.isfinite(scale)] = 1.0
    if not shape:
        return np.asarray(scale.max())
    return scale.reshape((-1,) + (1,) * (len(shape) - 1)) * np.ones(shape)


def compare(actual, expected, tolerance: Tolerance, losses=None) -> Comparison:
    """Compare two arrays of one shape; `losses` (per utterance) is needed if loss-scaled.

    Non-finite elements pass only where both arrays hold the same value (NaN matches NaN).
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError(f"shape mismatch: actual {actual.shape} vs expected {expected.shape}")
    if tolerance.loss_scaled:
        if losses is None:
            raise ValueError(f"tolerance {tolerance.name} is loss-scaled: pass losses")
        scale = loss_scale(losses, expected.shape)
    else:
        scale = 1.0
    both_nan = np.isnan(actual) & np.isnan(expected)
    same_inf = np.isinf(expected) & (actual == expected)
    matched = both_nan | same_inf
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.where(matched, 0.0, np.abs(actual - expected))
        diff = np.where(np.isnan(diff), np.inf, diff)
        limit = tolerance.atol * scale + tolerance.rtol * np.where(matched, 0.0, np.abs(expected))
        rel = np.where(diff == 0, 0.0, diff / np.abs(expected))
    excess = diff - limit
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.size else ()
    return Comparison(
        max_abs=float(diff.max()) if diff.size else 0.0,
        max_rel=float(np.nanmax(rel)) if rel.size else 0.0,
        worst_index=tuple(int(i) for i in worst),
        passed=bool(np.all(excess <= 0)),
        tolerance=tolerance,
    )
