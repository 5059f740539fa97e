"""The CTC kernels' two forms: scaled (linear space) and log space, and the fallback between."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from reference_impls.ctc import ctc_loss, kernels
from rnnt_parity.compare import tolerance_for
from rnnt_parity.strategies import ctc_batches
from tests.helpers import assert_within

SPEC_VS_NUMBA = tolerance_for("float64", "any", "ctc.oracle_spec_vs_numba")


def scaled_flags(log_probs, targets, blank=0):
    """Run the scaled forward-backward on one utterance; return its fallback flag."""
    frames, _, _ = log_probs.shape
    extended = np.full((1, 2 * len(targets) + 1), blank, dtype=np.int64)
    extended[0, 1::2] = targets
    shape = (1, frames, extended.shape[1])
    flags = np.zeros(1, dtype=np.bool_)
    kernels.ctc_scaled_forward_backward(
        log_probs, extended, np.array([extended.shape[1]]), np.array([frames]), np.zeros(shape),
        np.zeros(shape), np.zeros(shape), np.full(1, -np.inf), flags)
    return bool(flags[0])


def unlikely_target_lattice():
    """Every frame prefers label 1 (log-prob 0; blank and 2 at -1000); the target is (1, 2):
    feasible, but the final states hold about e^-1000 of the last frame's forward mass,
    below float64's range."""
    log_probs = np.full((40, 1, 3), -1000.0)
    log_probs[:, 0, 1] = 0.0
    return log_probs, np.array([1, 2])


def test_an_ordinary_lattice_stays_on_the_scaled_path():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((30, 1, 5))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    assert not scaled_flags(log_probs, np.array([1, 2, 3]))


def test_a_target_far_from_the_model_falls_back_to_log_space_and_stays_exact():
    log_probs, targets = unlikely_target_lattice()
    assert scaled_flags(log_probs, targets)
    args = (np.array([targets]), np.array([40]), np.array([2]))
    fast, fast_grad = ctc_loss(log_probs, *args, reduction="none")
    spec, spec_grad = ctc_loss(log_probs, *args, reduction="none", implementation="spec")
    assert np.isfinite(fast[0]) and fast[0] > 900
    assert_within(fast, spec, SPEC_VS_NUMBA, spec)
    assert_within(fast_grad, spec_grad, SPEC_VS_NUMBA, spec, batch_axis=1)


@given(ctc_batches(max_frames=12, max_labels=5, logit_bound=300.0, hostile_padding=True))
def test_extreme_logits_agree_with_the_spec_whichever_path_runs(case):
    spec, spec_grad = ctc_loss(*case.arrays(), blank=case.blank, reduction="none",
                               implementation="spec")
    fast, fast_grad = ctc_loss(*case.arrays(), blank=case.blank, reduction="none")
    assert_within(fast, spec, SPEC_VS_NUMBA, spec)
    assert_within(fast_grad, spec_grad, SPEC_VS_NUMBA, spec, batch_axis=1)
