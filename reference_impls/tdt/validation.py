"""Argument checks of the TDT loss; each raises TypeError or ValueError naming the argument."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference_impls.checks import check_finite_scalar, check_float_array
from reference_impls.rnnt.validation import first_marked_node, validate_rnnt_batch


@dataclass(frozen=True)
class TDTBatch:
    """A validated batch: `logits` `(B, T, U+1, V + D)`, `blank` in `[0, V)`."""

    logits: np.ndarray
    targets: np.ndarray
    logit_lengths: np.ndarray
    target_lengths: np.ndarray
    durations: tuple[int, ...]
    blank: int

    @property
    def vocab(self) -> int:
        return self.logits.shape[-1] - len(self.durations)


def check_durations(durations) -> tuple[int, ...]:
    """D distinct non-negative ints, at least one positive (a blank never takes 0)."""
    if isinstance(durations, np.ndarray):
        durations = durations.tolist()
    if not isinstance(durations, (list, tuple)):
        raise TypeError(f"durations must be a list of ints, got {type(durations).__name__}")
    if not durations:
        raise ValueError("durations must not be empty, e.g. [0, 1, 2, 3, 4]")
    for i, d in enumerate(durations):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"durations[{i}] must be an int, got {type(d).__name__}")
        if d < 0:
            raise ValueError(f"durations[{i}] = {d} is negative")
    if len(set(durations)) != len(durations):
        raise ValueError(f"durations {list(durations)} repeat a value")
    if max(durations) == 0:
        raise ValueError(f"durations {list(durations)} hold no positive duration: a blank never "
                         "takes duration 0, so no alignment could reach the last frame")
    return tuple(int(d) for d in durations)


def validate_tdt_batch(logits, targets, logit_lengths, target_lengths, durations,
                       blank) -> TDTBatch:
    """Validate a TDT batch: RNN-T's checks on the token part, then the duration part."""
    durations = check_durations(durations)
    logits = check_float_array(logits, "logits", ndim=4)
    width = logits.shape[-1] - len(durations)
    if width < 1:
        raise ValueError(f"logits' last axis has {logits.shape[-1]} columns; with "
                         f"{len(durations)} durations it needs V + {len(durations)} with at "
                         "least one token column (the blank)")
    tokens = validate_rnnt_batch(logits[..., :width], targets, logit_lengths, target_lengths,
                                 blank)
    return TDTBatch(logits, tokens.targets, tokens.logit_lengths, tokens.target_lengths,
                    durations, tokens.blank)


def check_probability(value, name: str) -> float:
    value = check_finite_scalar(value, name, minimum=0.0)
    if value > 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def report_undefined_nodes(markers: np.ndarray, batch: TDTBatch) -> None:
    """Raise ValueError for the first valid-region node whose marker `(B, T, U+1)` is NaN:
    its row holds NaN or +inf, or (fused) its token or its duration part is -inf
    everywhere."""
    node = first_marked_node(markers, batch.logit_lengths, batch.target_lengths)
    if node is not None:
        b, t, u = node
        raise ValueError(
            f"logits[{b}, {t}, {u}] (inside the valid region of utterance {b}) holds NaN or "
            "+inf, or its token or duration part is -inf everywhere; its log-softmax is "
            "undefined")


def undefined_node_markers(batch: TDTBatch, fused: bool) -> np.ndarray:
    """`(B, T, U+1)`: NaN on valid nodes that `report_undefined_nodes` reports, else 0."""
    markers = np.zeros(batch.logits.shape[:3])
    for b in range(batch.logits.shape[0]):
        t_len, u_len = batch.logit_lengths[b], batch.target_lengths[b]
        valid = batch.logits[b, :t_len, :u_len + 1].astype(np.float64)
        undefined = np.isnan(valid).any(-1) | np.isposinf(valid).any(-1)
        if fused:
            undefined |= (np.isneginf(valid[..., :batch.vocab]).all(-1)
                          | np.isneginf(valid[..., batch.vocab:]).all(-1))
        markers[b, :t_len, :u_len + 1][undefined] = np.nan
    return markers
