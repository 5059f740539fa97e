"""The CTC loss oracle: torch's conventions, properties, and the pitfalls it must not have."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impls.brute_force import ctc_brute_force_loss
from reference_impls.ctc import ctc_logits_gradient, ctc_loss
from rnnt_parity.compare import compare, tolerance_for
from rnnt_parity.strategies import (
    CTC_MALFORMED_DEFECTS,
    ctc_batches,
    malformed_ctc_calls,
    with_hostile_ctc_padding,
)
from tests.helpers import assert_rejected_with_a_named_error, assert_within

IMPLEMENTATIONS = ("numba", "spec")
SPEC_VS_NUMBA = tolerance_for("float64", "any", "ctc.oracle_spec_vs_numba")
FINITE_DIFFERENCE = tolerance_for("float64", "any", "finite_difference")
STEP = 1e-6


def run(case, implementation="numba", **options):
    return ctc_loss(*case.arrays(), blank=case.blank, implementation=implementation, **options)


def utterance_losses(case, loss):
    loss = np.asarray(loss)
    return loss if loss.ndim else np.full(len(case.input_lengths), float(loss))


options = st.fixed_dictionaries({"reduction": st.sampled_from(["none", "sum", "mean"]),
                                 "zero_infinity": st.booleans()})


@given(ctc_batches(hostile_padding=True), options)
def test_spec_and_numba_agree_to_1e12_in_float64(case, options):
    spec_loss, spec_grad = run(case, "spec", **options)
    fast_loss, fast_grad = run(case, "numba", **options)
    magnitudes = utterance_losses(case, spec_loss)
    assert_within(fast_loss, spec_loss, SPEC_VS_NUMBA, magnitudes, "loss")
    assert_within(fast_grad, spec_grad, SPEC_VS_NUMBA, magnitudes, "grad", batch_axis=1)


@given(ctc_batches(dtype=np.float32, hostile_padding=True))
def test_numba_float32_input_stays_close_to_the_float64_spec(case):
    spec_loss, spec_grad = run(case, "spec", reduction="none")
    fast_loss, fast_grad = run(case, "numba", reduction="none")
    assert fast_grad.dtype == np.float32
    tolerance = tolerance_for("float32", "any", "ctc.oracle_float32")
    assert_within(fast_loss, spec_loss, tolerance, spec_loss, "loss")
    assert_within(fast_grad, spec_grad, tolerance, spec_loss, "grad", batch_axis=1)


@given(ctc_batches(max_batch=1, max_frames=5, max_labels=3, max_classes=3))
def test_brute_force_over_all_paths_equals_the_lattice(case):
    t_len, s_len = case.input_lengths[0], case.target_lengths[0]
    brute = ctc_brute_force_loss(case.log_probs[:t_len, 0], case.targets[0, :s_len], case.blank)
    for implementation in IMPLEMENTATIONS:
        loss, _ = run(case, implementation, reduction="none")
        if math.isinf(brute):
            assert loss[0] == brute
        else:
            assert_within(loss, np.array([brute]), tolerance_for("float64", "any",
                                                                 "ctc.brute_force"), loss)


@given(ctc_batches(max_batch=2, max_frames=5, max_labels=3, feasible=True),
       st.sampled_from(["none", "sum", "mean"]), st.integers(0, 2**32 - 1))
def test_gradient_is_the_true_derivative_wrt_log_probs(case, reduction, seed):
    """Directional finite difference in float64; the log-probs need not be normalised."""
    direction = np.random.default_rng(seed).standard_normal(case.log_probs.shape)
    direction[~case.valid_frames()] = 0.0
    assert_directional_derivative(case, case.log_probs, direction, reduction)


def test_torch_style_gradient_is_not_the_derivative_wrt_log_probs():
    """torch returns exp(log_probs) - occupancy (pytorch issue 52241): the logits gradient.
    Used as d loss / d log_probs it fails a finite difference; the oracle's passes."""
    case = fixed_case()
    _, grad = run(case, reduction="sum")
    torch_style = grad + np.exp(case.log_probs)
    direction = np.random.default_rng(5).standard_normal(case.log_probs.shape)
    numeric = directional_difference(case, case.log_probs, direction, "sum")
    assert abs(numeric - np.sum(torch_style * direction)) > 1e-2
    assert compare(np.array(numeric), np.array(np.sum(grad * direction)),
                   FINITE_DIFFERENCE).passed


@given(ctc_batches(max_batch=2, max_frames=5, max_labels=3, feasible=True),
       st.integers(0, 2**32 - 1))
def test_logits_gradient_helper_is_the_derivative_through_log_softmax(case, seed):
    rng = np.random.default_rng(seed)
    logits = case.log_probs + rng.normal(size=case.log_probs.shape[:2] + (1,))
    direction = rng.standard_normal(logits.shape)
    direction[~case.valid_frames()] = 0.0

    def loss_of(z):
        shifted = z - z.max(-1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        return float(np.sum(ctc_loss(log_probs, *case.arrays()[1:], blank=case.blank,
                                     reduction="sum")[0]))

    _, grad = ctc_loss(case.log_probs, *case.arrays()[1:], blank=case.blank, reduction="sum")
    logits_grad = ctc_logits_gradient(case.log_probs, grad, case.input_lengths)
    numeric = (loss_of(logits + STEP * direction) - loss_of(logits - STEP * direction)) / (
        2 * STEP)
    assert compare(np.array(numeric), np.array(np.sum(logits_grad * direction)),
                   FINITE_DIFFERENCE).passed


def test_mean_divides_by_target_length_then_averages_over_the_batch():
    """torch's 'mean' (issues 19838, 69016); a plain batch mean is caught."""
    case = fixed_case(batch=3)
    losses, grad_none = run(case, reduction="none")
    mean, grad = run(case, reduction="mean")
    lengths = np.maximum(case.target_lengths, 1)
    np.testing.assert_allclose(mean, np.mean(losses / lengths), rtol=1e-15)
    np.testing.assert_allclose(grad, grad_none / (3 * lengths[None, :, None]), rtol=1e-15)
    assert abs(mean - losses.mean()) > 1e-3


def test_mean_clamps_an_empty_targets_length_to_one():
    case = fixed_case(batch=2)
    case = replace(case, target_lengths=np.array([0, 2]))
    losses, _ = run(case, reduction="none")
    mean, _ = run(case, reduction="mean")
    np.testing.assert_allclose(mean, (losses[0] / 1 + losses[1] / 2) / 2, rtol=1e-15)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_infeasible_target_is_inf_or_zero_with_zero_infinity(implementation):
    case = fixed_case(batch=2, frames=3)
    case = replace(case, targets=np.array([[1, 1, 1], [1, 2, 0]]),
                   target_lengths=np.array([3, 2]))
    loss, grad = run(case, implementation, reduction="none")
    assert loss[0] == np.inf and np.isfinite(loss[1])
    assert np.all(np.isnan(grad[:, 0])) and np.all(np.isfinite(grad[:, 1]))
    loss, grad = run(case, implementation, reduction="none", zero_infinity=True)
    assert loss[0] == 0.0 and np.all(grad[:, 0] == 0.0)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@given(case=ctc_batches())
def test_padding_frames_and_labels_are_ignored(implementation, case):
    hostile = with_hostile_ctc_padding(case)
    loss, grad = run(case, implementation, reduction="none")
    loss_h, grad_h = run(hostile, implementation, reduction="none")
    np.testing.assert_array_equal(loss_h, loss)
    np.testing.assert_array_equal(grad_h, grad)
    assert np.all(grad_h[~case.valid_frames()] == 0.0)


@given(ctc_batches())
def test_concatenated_targets_equal_padded_targets(case):
    padded = run(case, reduction="none")
    concatenated = ctc_loss(case.log_probs, case.concatenated_targets(), case.input_lengths,
                            case.target_lengths, blank=case.blank, reduction="none")
    np.testing.assert_array_equal(concatenated[0], padded[0])
    np.testing.assert_array_equal(concatenated[1], padded[1])


@given(ctc_batches())
def test_batch_first_is_the_same_loss_with_its_gradient_transposed(case):
    loss, grad = run(case, reduction="none")
    loss_bf, grad_bf = ctc_loss(case.log_probs.transpose(1, 0, 2), *case.arrays()[1:],
                                blank=case.blank, reduction="none", batch_first=True)
    np.testing.assert_array_equal(loss_bf, loss)
    np.testing.assert_array_equal(grad_bf, grad.transpose(1, 0, 2))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("defect", CTC_MALFORMED_DEFECTS)
@given(data=st.data())
def test_malformed_input_raises_a_clear_error_naming_the_argument(implementation, defect, data):
    assert_rejected_with_a_named_error(ctc_loss, data.draw(malformed_ctc_calls(defect)),
                                       implementation=implementation)


def test_unknown_implementation_is_a_clear_error():
    with pytest.raises(ValueError, match="implementation must be one of"):
        run(fixed_case(), "cudnn")


# Helpers


def fixed_case(batch=1, frames=6):
    from rnnt_parity.strategies import CTCCase

    rng = np.random.default_rng(13)
    logits = rng.standard_normal((frames, batch, 4))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return CTCCase(log_probs, rng.integers(1, 4, (batch, 2)), np.full(batch, frames),
                   np.full(batch, 2), 0)


def directional_difference(case, point, direction, reduction):
    def loss_at(h):
        loss, _ = ctc_loss(point + h * direction, *case.arrays()[1:], blank=case.blank,
                           reduction=reduction)
        return float(np.sum(loss))

    return (loss_at(STEP) - loss_at(-STEP)) / (2 * STEP)


def assert_directional_derivative(case, point, direction, reduction):
    _, grad = ctc_loss(point, *case.arrays()[1:], blank=case.blank, reduction=reduction)
    numeric = directional_difference(case, point, direction, reduction)
    analytic = float(np.sum(grad * direction))
    assert compare(np.array(numeric), np.array(analytic), FINITE_DIFFERENCE).passed, (
        numeric, analytic)
