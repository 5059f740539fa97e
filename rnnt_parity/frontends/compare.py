"""Compare two feature sequences: per-bin error, SNR of the difference, and a diagnosis of
how their frames relate (identical, one subsampled, context offset), for
`rnnt-parity features compare` and the front-end parity checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SUBSAMPLING = 4
MAX_CONTEXT_OFFSET = 4


@dataclass(frozen=True)
class FeatureComparison:
    """Two (frames, n_mels) arrays compared over their first `compared_frames` frames."""

    frames_a: int
    frames_b: int
    compared_frames: int
    per_bin_max_abs: np.ndarray
    snr_db: float
    constant_bands_a: tuple[int, ...]
    constant_bands_b: tuple[int, ...]
    relation: str

    @property
    def max_abs(self) -> float:
        return float(self.per_bin_max_abs.max())


def constant_bands(features: np.ndarray) -> tuple[int, ...]:
    """Mel bins whose value never changes over the frames (an all-zero filter's floor)."""
    if features.shape[0] < 2:
        return ()
    return tuple(int(b) for b in np.flatnonzero(np.ptp(features, axis=0) == 0))


def snr_db(reference: np.ndarray, other: np.ndarray) -> float:
    """10 log10(sum(reference^2) / sum((reference - other)^2)); inf when they are equal."""
    noise = float(np.sum((reference - other) ** 2))
    signal = float(np.sum(reference ** 2))
    if noise == 0.0:
        return float("inf")
    return 10.0 * np.log10(signal / noise) if signal > 0 else float("-inf")


def _close(a: np.ndarray, b: np.ndarray, atol: float) -> bool:
    return a.shape == b.shape and a.size > 0 and bool(np.all(np.abs(a - b) <= atol))


def diagnose_frames(reference: np.ndarray, candidate: np.ndarray, atol: float = 1e-6) -> str:
    """How `candidate`'s frames relate to `reference`'s, in words.

    Tries, in order: equal within `atol`; one is the other subsampled by 2..4 (a missing or
    extra subsampling stage); candidate frame t equals reference frame t + s for a shift
    s in [-4, 4] away from the edges (context windows that differ: left vs symmetric).
    """
    if reference.ndim != 2 or candidate.ndim != 2 or reference.shape[1] != candidate.shape[1]:
        return (f"not comparable: shapes {reference.shape} and {candidate.shape} differ in "
                "feature width")
    if _close(reference, candidate, atol):
        return "identical"
    for k in range(2, MAX_SUBSAMPLING + 1):
        if _close(candidate[::k], reference, atol):
            return f"candidate lacks a subsampling-by-{k} stage (its every {k}th frame matches)"
        if _close(reference[::k], candidate, atol):
            return f"candidate has an extra subsampling by {k}"
    frames = min(reference.shape[0], candidate.shape[0])
    for shift in sorted(range(-MAX_CONTEXT_OFFSET, MAX_CONTEXT_OFFSET + 1), key=abs):
        lo, hi = MAX_CONTEXT_OFFSET, frames - MAX_CONTEXT_OFFSET
        if shift == 0 or hi <= lo:
            continue
        if _close(candidate[lo:hi], reference[lo + shift:hi + shift], atol):
            direction = "later" if shift > 0 else "earlier"
            return (f"context offset: candidate frame t equals reference frame t{shift:+d} "
                    f"(its window sees {abs(shift)} frame(s) {direction})")
    if reference.shape[0] != candidate.shape[0]:
        return f"different values and frame counts ({reference.shape[0]} vs {candidate.shape[0]})"
    return "different values"


def compare_features(a: np.ndarray, b: np.ndarray, atol: float = 1e-6) -> FeatureComparison:
    """Per-bin max |a - b| and the SNR of the difference over the common frames."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"features must be (frames, n_mels), got {a.shape} and {b.shape}")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the two front ends give {a.shape[1]} and {b.shape[1]} mel bins; "
                         "set the same n_mels on both")
    frames = min(a.shape[0], b.shape[0])
    diff = np.abs(a[:frames] - b[:frames])
    return FeatureComparison(a.shape[0], b.shape[0], frames, diff.max(axis=0),
                             snr_db(a[:frames], b[:frames]), constant_bands(a), constant_bands(b),
                             diagnose_frames(a, b, atol))


def parse_feature_gate(text: str) -> tuple[str, float | None]:
    """`--fail-on` of `features compare`: "snr:DB" (fail below DB decibels) or "frames"
    (fail when the frame counts differ); ValueError naming the text otherwise."""
    rule = text.strip()
    if rule == "frames":
        return ("frames", None)
    if rule.startswith("snr:"):
        try:
            return ("snr", float(rule[4:]))
        except ValueError:
            pass
    raise ValueError(f"--fail-on {text!r}: expected snr:DB (e.g. snr:40) or frames")


def feature_gate_failures(comparison: FeatureComparison,
                          rules: list[tuple[str, float | None]]) -> list[str]:
    """One line per rule the comparison breaks (empty: the gate passes)."""
    failed = []
    for kind, value in rules:
        if kind == "frames" and comparison.frames_a != comparison.frames_b:
            failed.append(f"frames: a has {comparison.frames_a} frames, b "
                          f"{comparison.frames_b}")
        elif kind == "snr" and not comparison.snr_db >= value:
            failed.append(f"snr:{value:g}: the SNR is {comparison.snr_db:.1f} dB")
    return failed
