"""The RNN-T loss oracle: properties of loss and gradient, and the pitfalls it must not have."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impls.rnnt import rnnt_loss, rnnt_occupancy
from reference_impls.rnnt.spec import log_softmax
from rnnt_parity.compare import compare, tolerance_for
from rnnt_parity.strategies import (
    MALFORMED_DEFECTS,
    malformed_rnnt_calls,
    rnnt_batches,
    with_hostile_padding,
)
from tests.helpers import assert_rejected_with_a_named_error, assert_within, spec_vs_numba

IMPLEMENTATIONS = ("numba", "spec")
FINITE_DIFFERENCE = tolerance_for("float64", "any", "finite_difference")
STEP = 1e-6


def loss_and_grad(case, implementation="numba", **options):
    return rnnt_loss(*case.arrays(), blank=case.blank, implementation=implementation, **options)


loss_options = st.fixed_dictionaries({
    "reduction": st.sampled_from(["none", "sum", "mean"]),
    "fused_log_softmax": st.booleans(),
    "clamp": st.sampled_from([-1.0, 0.05, 0.3]),
    "fastemit_lambda": st.sampled_from([0.0, 0.01, 0.5]),
})


@given(rnnt_batches(hostile_padding=True), loss_options)
def test_spec_and_numba_agree_to_1e12_in_float64(case, options):
    """The readable transcription and the fast kernels compute the same function."""
    if not options["fused_log_softmax"]:
        case = with_log_probs(case)
    spec_loss, spec_grad = loss_and_grad(case, "spec", **options)
    fast_loss, fast_grad = loss_and_grad(case, "numba", **options)
    assert_within(fast_loss, spec_loss, spec_vs_numba(), spec_loss, "loss")
    assert_within(fast_grad, spec_grad, spec_vs_numba(), per_utterance(case, spec_loss), "grad")


@given(rnnt_batches(dtype=np.float32, hostile_padding=True))
def test_numba_float32_input_stays_close_to_the_float64_spec(case):
    """float32 input: per-element exp in float32, lattice accumulated in float64."""
    spec_loss, spec_grad = loss_and_grad(case, "spec", reduction="none")
    fast_loss, fast_grad = loss_and_grad(case, "numba", reduction="none")
    assert fast_grad.dtype == np.float32
    tolerance = tolerance_for("float32", "any", "rnnt.oracle_float32")
    assert_within(fast_loss, spec_loss, tolerance, spec_loss, "loss")
    assert_within(fast_grad, spec_grad, tolerance, spec_loss, "grad")


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@given(case=rnnt_batches())
def test_loss_of_logits_equals_loss_of_their_log_softmax(implementation, case):
    """log_softmax is idempotent: a loss applying it inside cannot tell logits from log-probs.

    This, not sign detection, is why seed 003 saw warp-transducer return equal losses for
    logits and log-probs.
    """
    loss, grad = loss_and_grad(case, implementation, reduction="none")
    loss_lp, grad_lp = loss_and_grad(with_log_probs(case), implementation, reduction="none")
    assert_within(loss_lp, loss, spec_vs_numba(), loss, "loss")
    assert_within(grad_lp, grad, spec_vs_numba(), per_utterance(case, loss), "grad")


def test_all_negative_logits_are_not_mistaken_for_log_probs():
    """Seed 003 concluded warp-transducer 'detects' log-probs by their sign. It cannot: the
    seed's own numbers (logits - 1000 gave the same loss as log_softmax(logits)) are shift
    invariance. A sign-detecting loss, the seed's hypothesis, is caught here.
    """
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((1, 4, 3, 6))
    args = (np.array([[0, 1]]), np.array([4]), np.array([2]))
    shifted = logits - 1000.0
    assert np.all(shifted < 0)

    def sign_detecting_loss(x):
        looks_like_log_probs = bool(np.all(x <= 0))
        return rnnt_loss(x, *args, blank=5, fused_log_softmax=not looks_like_log_probs)[0]

    oracle = rnnt_loss(logits, *args, blank=5)[0]
    np.testing.assert_allclose(rnnt_loss(shifted, *args, blank=5)[0], oracle, rtol=1e-12)
    assert abs(sign_detecting_loss(shifted) - oracle) > 1000


@given(rnnt_batches(), st.integers(0, 2**32 - 1))
def test_adding_a_constant_per_node_leaves_loss_and_gradient_unchanged(case, seed):
    """log_softmax(z + c) = log_softmax(z) for any c per (b, t, u)."""
    shifts = np.random.default_rng(seed).uniform(-50, 50, case.logits.shape[:3] + (1,))
    loss, grad = loss_and_grad(case, reduction="none")
    shifted = with_logits(case, case.logits + shifts)
    loss_s, grad_s = loss_and_grad(shifted, reduction="none")
    tolerance = tolerance_for("float64", "any", "rnnt.shifted_logits")
    assert_within(loss_s, loss, tolerance, loss, "loss")
    assert_within(grad_s, grad, tolerance, per_utterance(case, loss), "grad")


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@given(case=rnnt_batches(), fastemit=st.sampled_from([0.0, 0.5]))
def test_logits_gradient_sums_to_zero_over_the_vocabulary(implementation, case, fastemit):
    """d/dz of a function of log_softmax(z) is orthogonal to the all-ones direction."""
    _, grad = loss_and_grad(case, implementation, reduction="sum", fastemit_lambda=fastemit)
    np.testing.assert_allclose(grad.sum(axis=-1), 0.0, atol=1e-12)


@given(rnnt_batches(max_batch=4), st.randoms(use_true_random=False))
def test_permuting_the_batch_permutes_losses_and_gradients(case, random):
    order = list(range(len(case.logit_lengths)))
    random.shuffle(order)
    permuted = with_logits(case, case.logits[order], targets=case.targets[order],
                           logit_lengths=case.logit_lengths[order],
                           target_lengths=case.target_lengths[order])
    loss, grad = loss_and_grad(case, reduction="none")
    loss_p, grad_p = loss_and_grad(permuted, reduction="none")
    np.testing.assert_array_equal(loss_p, loss[order])
    np.testing.assert_array_equal(grad_p, grad[order])


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@given(case=rnnt_batches())
def test_padding_is_ignored_whatever_it_holds(implementation, case):
    """NaN logits and out-of-range labels outside the valid region change nothing; the
    gradient there is exactly zero; each utterance equals itself cropped and alone."""
    hostile = with_hostile_padding(case)
    loss, grad = loss_and_grad(case, implementation, reduction="none")
    loss_h, grad_h = loss_and_grad(hostile, implementation, reduction="none")
    np.testing.assert_array_equal(loss_h, loss)
    np.testing.assert_array_equal(grad_h, grad)
    assert np.all(grad_h[~case.valid_mask()] == 0.0)
    for b in range(len(loss)):
        alone = case.utterance(b)
        loss_b, grad_b = loss_and_grad(alone, implementation, reduction="none")
        np.testing.assert_array_equal(loss_b, loss[b: b + 1])
        np.testing.assert_array_equal(grad_b[0], grad[b, : alone.logits.shape[1],
                                                      : alone.logits.shape[2]])


@given(rnnt_batches(max_batch=2, max_frames=4, max_labels=3), loss_options,
       st.integers(0, 2**32 - 1))
def test_gradient_matches_a_directional_finite_difference(case, options, seed):
    """grad . d = (L(x + h d) - L(x - h d)) / 2h for a random direction d, in float64."""
    options = {**options, "clamp": -1.0}
    if not options["fused_log_softmax"]:
        case = with_log_probs(case)
    direction = np.random.default_rng(seed).standard_normal(case.logits.shape)
    direction[~case.valid_mask()] = 0.0
    assert_directional_derivative(case, direction, options)


@given(rnnt_batches(max_batch=2, max_frames=4, max_labels=3),
       st.floats(0.01, 2.0), st.integers(0, 2**32 - 1))
def test_fastemit_value_and_gradient_are_of_the_same_function(case, lam, seed):
    """FastEmit convention: the returned gradient is the derivative of the returned loss."""
    direction = np.random.default_rng(seed).standard_normal(case.logits.shape)
    direction[~case.valid_mask()] = 0.0
    assert_directional_derivative(case, direction, {"reduction": "sum", "fastemit_lambda": lam})


def test_fastemit_with_lambda_zero_is_the_rnnt_loss():
    case = fixed_case()
    np.testing.assert_array_equal(loss_and_grad(case, fastemit_lambda=0.0)[0],
                                  loss_and_grad(case)[0])


def test_nemo_style_fastemit_gradient_is_not_the_gradient_of_its_reported_cost():
    """NeMo reports (1 + lambda) * NLL and returns the paper's gradient: label-emission
    occupancies of the *unweighted* lattice scaled by (1 + lambda). Finite differences of
    the reported cost disagree with that gradient, so we do not adopt that convention."""
    case, lam = fixed_case(), 0.5
    log_probs = log_softmax(case.logits[0])
    blank_occ, label_occ = rnnt_occupancy(log_probs, case.targets[0], case.blank)
    d_lp = np.zeros_like(log_probs)
    d_lp[:, :, case.blank] = -blank_occ
    for u, label in enumerate(case.targets[0]):
        d_lp[:, u, label] -= (1 + lam) * label_occ[:, u]
    nemo_grad = d_lp - np.exp(log_probs) * d_lp.sum(-1, keepdims=True)
    direction = np.random.default_rng(7).standard_normal(case.logits.shape)

    def reported_cost(x):
        return (1 + lam) * rnnt_loss(x, *case.arrays()[1:], blank=case.blank)[0]

    numeric = (reported_cost(case.logits + STEP * direction)
               - reported_cost(case.logits - STEP * direction)) / (2 * STEP)
    assert abs(numeric - np.sum(nemo_grad * direction[0])) > 1e-3


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_clamp_clips_each_utterances_gradient_before_the_mean_scaling(implementation):
    """torchaudio clips the per-utterance gradient to [-clamp, clamp], then autograd scales
    it by 1/B for 'mean'. Clipping after scaling (a plausible bug) is caught."""
    case = fixed_case(batch=2, scale=4.0)
    clamp = 0.05
    _, unclamped = loss_and_grad(case, implementation, reduction="none")
    _, grad = loss_and_grad(case, implementation, reduction="mean", clamp=clamp)
    np.testing.assert_allclose(grad, np.clip(unclamped, -clamp, clamp) / 2, atol=1e-15)
    clipped_after_scaling = np.clip(unclamped / 2, -clamp, clamp)
    assert not np.allclose(grad, clipped_after_scaling, atol=1e-6)


@pytest.mark.parametrize("clamp", [0.0, -1.0])
def test_clamp_at_or_below_zero_disables_clipping(clamp):
    case = fixed_case(scale=4.0)
    np.testing.assert_array_equal(loss_and_grad(case, clamp=clamp)[1], loss_and_grad(case)[1])


def test_mean_reduction_is_the_batch_mean_not_divided_by_target_length():
    """torchaudio's 'mean' is a plain batch mean (unlike torch CTC's); a per-target-length
    mean (the other convention) is caught."""
    case = fixed_case(batch=3)
    per_utterance_losses, _ = loss_and_grad(case, reduction="none")
    mean, grad = loss_and_grad(case, reduction="mean")
    _, grad_none = loss_and_grad(case, reduction="none")
    np.testing.assert_allclose(mean, per_utterance_losses.mean(), rtol=1e-15)
    np.testing.assert_allclose(grad, grad_none / 3, rtol=1e-15)
    per_target = np.mean(per_utterance_losses / np.maximum(case.target_lengths, 1))
    assert abs(mean - per_target) > 1e-3


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_impossible_alignment_gives_infinite_loss_and_nan_gradient(implementation):
    logits = np.zeros((2, 1, 2, 3))
    logits[0, 0, 0, 1] = -np.inf
    targets = np.array([[1], [1]])
    loss, grad = rnnt_loss(logits, targets, np.array([1, 1]), np.array([1, 1]), blank=0,
                           reduction="none", implementation=implementation)
    assert loss[0] == np.inf and np.isfinite(loss[1])
    assert np.all(np.isnan(grad[0])) and np.all(np.isfinite(grad[1]))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("defect", MALFORMED_DEFECTS)
@given(data=st.data())
def test_malformed_input_raises_a_clear_error_naming_the_argument(implementation, defect, data):
    assert_rejected_with_a_named_error(rnnt_loss, data.draw(malformed_rnnt_calls(defect)),
                                       implementation=implementation)


def test_labels_in_the_padding_are_not_checked():
    logits = np.zeros((2, 2, 3, 4))
    targets = np.array([[1, 2], [3, -5]])
    loss, _ = rnnt_loss(logits, targets, np.array([2, 2]), np.array([2, 1]), blank=0,
                        reduction="none")
    assert np.all(np.isfinite(loss))


def test_non_contiguous_input_gives_the_same_result():
    case = fixed_case(batch=2)
    transposed = np.ascontiguousarray(case.logits.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    assert not transposed.flags.c_contiguous
    loss, grad = rnnt_loss(transposed, *case.arrays()[1:], blank=case.blank)
    expected_loss, expected_grad = loss_and_grad(case)
    np.testing.assert_array_equal(loss, expected_loss)
    np.testing.assert_array_equal(grad, expected_grad)


def test_unknown_implementation_is_a_clear_error():
    with pytest.raises(ValueError, match="implementation must be one of"):
        loss_and_grad(fixed_case(), "cuda")


def test_reference_impls_import_without_torch():
    """The oracle never imports torch: it imports with torch made unimportable."""
    code = ("import sys; sys.modules['torch'] = None; sys.modules['torchaudio'] = None\n"
            "import reference_impls.rnnt, reference_impls.brute_force\n"
            "import numpy as np\n"
            "loss, _ = reference_impls.rnnt.rnnt_loss(np.zeros((1, 2, 2, 3)), np.array([[1]]),"
            " np.array([2]), np.array([1]), blank=0)\n"
            "assert 'torch' not in [m.split('.')[0] for m in sys.modules if sys.modules[m]]\n"
            "print(float(loss))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    np.testing.assert_allclose(float(done.stdout), 3 * np.log(3) - np.log(2), rtol=1e-12)


# Helpers


def with_logits(case, logits, **changes):
    from dataclasses import replace

    return replace(case, logits=logits, **changes)


def with_log_probs(case):
    """The same case with its logits replaced by their log_softmax (padding kept)."""
    with np.errstate(invalid="ignore"):
        return with_logits(case, log_softmax(case.logits).astype(case.logits.dtype))


def per_utterance(case, loss):
    """Per-utterance losses to scale gradient tolerances (a reduced loss scales all alike)."""
    loss = np.asarray(loss)
    return loss if loss.ndim else np.full(len(case.logit_lengths), float(loss))


def fixed_case(batch=1, scale=1.0):
    from rnnt_parity.strategies import RNNTCase

    rng = np.random.default_rng(11)
    return RNNTCase(scale * rng.standard_normal((batch, 4, 3, 5)),
                    rng.integers(1, 5, (batch, 2)), np.full(batch, 4), np.full(batch, 2), 0)


def assert_directional_derivative(case, direction, options):
    def loss_along(h):
        loss, _ = rnnt_loss(case.logits + h * direction, *case.arrays()[1:], blank=case.blank,
                            **options)
        return float(np.sum(loss))

    _, grad = loss_and_grad(case, **options)
    numeric = (loss_along(STEP) - loss_along(-STEP)) / (2 * STEP)
    analytic = float(np.sum(grad * direction))
    result = compare(np.array(numeric), np.array(analytic), FINITE_DIFFERENCE)
    assert result.passed, f"finite difference {numeric!r} vs grad . d {analytic!r}"
