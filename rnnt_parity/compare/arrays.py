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
        tolerance: the tolerance applied (for a measured bound, the rule it was measured by).
        largest_index: the element reported: when the comparison fails, the one furthest
            over its limit (`worst_index`), else the one with the largest |actual - expected|
            (NaN against a number counts as infinite); `actual_there`, `expected_there` and
            `limit_there` are the two values and the limit at that element.
        of_magnitude: largest |actual - expected| / max(1e-300, m_b) over elements, m_b the
            magnitude of the element's utterance (NaN when no magnitudes were given).
    """

    max_abs: float
    max_rel: float
    worst_index: tuple[int, ...]
    passed: bool
    tolerance: Tolerance
    largest_index: tuple[int, ...] = ()
    actual_there: float = float("nan")
    expected_there: float = float("nan")
    limit_there: float = float("nan")
    of_magnitude: float = float("nan")

    def as_json(self) -> dict:
        """The verdict as a JSON record (write it with `files.json_text`: strict JSON)."""
        return {"passed": self.passed, "max_abs": self.max_abs, "max_rel": self.max_rel,
                "of_peak": self.of_magnitude, "largest_at": list(self.largest_index),
                "actual": self.actual_there, "expected": self.expected_there,
                "limit": self.limit_there, "tolerance": self.tolerance.name,
                "rule": self.tolerance.describe()}


def rnnt_magnitudes(logits, logit_lengths, target_lengths, losses) -> np.ndarray:
    """Per utterance, the size of the float sums an RNN-T kernel forms: `(B,)` array of
    max(|loss_b|, (T_b + U_b) * max |logit| over its valid region).

    Each log-prob is z - logsumexp(z), rounded at the magnitude of |z|; an alignment sums
    T + U of them, and every gradient element is exp of such a sum (minus log P).
    """
    logits = np.asarray(logits, dtype=np.float64)
    return _magnitudes(losses, [
        (logits[b, :t_len, : u_len + 1], t_len + u_len)
        for b, (t_len, u_len) in enumerate(zip(logit_lengths, target_lengths, strict=True))])


def ctc_magnitudes(logits, input_lengths, losses) -> np.ndarray:
    """Per utterance of `(T, B, C)` logits: max(|loss_b|, T_b * max |logit| over its frames).

    torch rounds each log-prob at the size of its logit and a CTC path sums T of them.
    """
    logits = np.asarray(logits, dtype=np.float64)
    return _magnitudes(losses, [(logits[:t_len, b], t_len)
                                for b, t_len in enumerate(input_lengths)])


def _magnitudes(losses, regions) -> np.ndarray:
    """max(|loss_b|, steps_b * max |finite value in region_b|) for each (region, steps)."""
    magnitudes = np.abs(np.asarray(losses, dtype=np.float64)).reshape(-1).copy()
    for b, (region, steps) in enumerate(regions):
        peak = np.max(np.abs(region[np.isfinite(region)]), initial=0.0)
        magnitudes[b] = np.nanmax([magnitudes[b], steps * peak])
    return magnitudes


def utterance_values(values, shape: tuple[int, ...], batch_axis: int = 0) -> np.ndarray:
    """Per-utterance `values` `(B,)` broadcast to `shape` (for a 0-d shape, their largest)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if not shape:
        return np.asarray(values.max(initial=0.0))
    layout = [1] * len(shape)
    layout[batch_axis] = -1
    return values.reshape(layout) * np.ones(shape)


def utterance_scale(magnitudes, shape: tuple[int, ...], batch_axis: int = 0) -> np.ndarray:
    """max(1, |magnitude_b|) broadcast to `shape`, whose axis `batch_axis` is the batch.

    For a 0-d `shape` (a reduced loss) the scale is max(1, max_b |magnitude_b|).
    """
    scale = np.maximum(1.0, np.abs(np.asarray(magnitudes, dtype=np.float64).reshape(-1)))
    scale[~np.isfinite(scale)] = 1.0
    return utterance_values(scale, shape, batch_axis)


def compare(actual, expected, tolerance: Tolerance, magnitudes=None,
            batch_axis: int = 0, limits=None) -> Comparison:
    """Compare two arrays of one shape.

    `magnitudes` (per utterance: the losses, or `rnnt_magnitudes`) is needed when the
    tolerance is scaled; `batch_axis` of a non-scalar array is the batch (1 for CTC's
    `(T, B, C)`). `limits` (per utterance, `(B,)`) replaces the tolerance's formula by a
    measured absolute limit; `tolerance` then only names its rule.

    Non-finite elements pass only where both arrays hold the same value (NaN matches NaN).
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError(f"shape mismatch: actual {actual.shape} vs expected {expected.shape}")
    if limits is not None:
        scale = utterance_values(limits, expected.shape, batch_axis if expected.ndim else 0)
    elif tolerance.scaled:
        if magnitudes is None:
            raise ValueError(f"tolerance {tolerance.name} is scaled: pass magnitudes")
        scale = utterance_scale(magnitudes, expected.shape, batch_axis if expected.ndim else 0)
    else:
        scale = 1.0
    both_nan = np.isnan(actual) & np.isnan(expected)
    same_inf = np.isinf(expected) & (actual == expected)
    matched = both_nan | same_inf
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.where(matched, 0.0, np.abs(actual - expected))
        diff = np.where(np.isnan(diff), np.inf, diff)
        size = np.where(np.isfinite(expected), np.abs(expected), 0.0)
        limit = scale if limits is not None else tolerance.atol * scale + tolerance.rtol * size
        limit = np.broadcast_to(limit, expected.shape)
        rel = np.where(diff == 0, 0.0, diff / np.abs(expected))
        of_magnitude = float("nan") if magnitudes is None or not diff.size else float(np.max(
            diff / np.maximum(1e-300, utterance_values(
                np.abs(magnitudes), expected.shape, batch_axis if expected.ndim else 0)),
            initial=0.0))
    excess = diff - limit
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.size else ()
    passed = bool(np.all(excess <= 0))
    largest = (worst if not passed else np.unravel_index(int(np.argmax(diff)), diff.shape)) \
        if diff.size else ()
    return Comparison(
        max_abs=float(diff.max()) if diff.size else 0.0,
        max_rel=float(np.where(np.isnan(rel), np.inf, rel).max()) if rel.size else 0.0,
        worst_index=tuple(int(i) for i in worst),
        passed=passed,
        tolerance=tolerance,
        largest_index=tuple(int(i) for i in largest),
        actual_there=float(actual[largest]) if diff.size else float("nan"),
        expected_there=float(expected[largest]) if diff.size else float("nan"),
        limit_there=float(limit[largest]) if diff.size else float("nan"),
        of_magnitude=of_magnitude,
    )
