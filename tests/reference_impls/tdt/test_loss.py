"""tdt_loss: gradients, invariances, omega, clamp, reductions, padding and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings

from reference_impls.rnnt import rnnt_loss
from reference_impls.tdt import tdt_loss
from rnnt_parity.compare import compare, tolerance_for
from rnnt_parity.strategies import tdt_batches
from tests.helpers import assert_comparisons_pass

FINITE_DIFFERENCE = tolerance_for("float64", "any", "finite_difference")


def loss_of(case, **options):
    return tdt_loss(*case.arrays(), blank=case.tokens.blank, **options)


@settings(max_examples=25)
@given(tdt_batches(max_batch=1, max_frames=3, max_labels=2))
def test_the_gradient_is_the_derivative_of_the_loss(case):
    loss, grad = loss_of(case, sigma=0.05, reduction="sum")
    if not np.isfinite(loss):
        return
    logits, rest = case.arrays()[0], case.arrays()[1:]
    step = 1e-6
    numeric = np.zeros_like(grad)
    for index in np.ndindex(logits.shape):
        shifted = []
        for sign in (1.0, -1.0):
            moved = logits.copy()
            moved[index] += sign * step
            shifted.append(tdt_loss(moved, *rest, blank=case.tokens.blank, sigma=0.05,
                                    reduction="sum")[0])
        numeric[index] = (shifted[0] - shifted[1]) / (2 * step)
    assert_comparisons_pass([compare(grad, numeric, FINITE_DIFFERENCE)], what=["grad"])


@given(tdt_batches(max_batch=2))
def test_each_softmax_is_shift_invariant_per_node(case):
    """Adding any constant to a node's token logits, and another to its duration logits,
    changes nothing: each part is normalised on its own."""
    rng = np.random.default_rng(0)
    shape = case.duration_logits.shape[:3] + (1,)
    tokens = case.tokens
    moved = type(case)(type(tokens)(tokens.logits + rng.uniform(-20, 20, shape), tokens.targets,
                                    tokens.logit_lengths, tokens.target_lengths, tokens.blank),
                       case.duration_logits + rng.uniform(-20, 20, shape), case.durations)
    loss, grad = loss_of(case, reduction="none")
    moved_loss, moved_grad = loss_of(moved, reduction="none")
    np.testing.assert_allclose(moved_loss, loss, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(moved_grad, grad, rtol=1e-7, atol=1e-9)


@given(tdt_batches(max_batch=3, hostile_padding=True))
def test_padding_is_ignored_and_gets_zero_gradient(case):
    """NaN logits and out-of-range labels outside each utterance change nothing."""
    loss, grad = loss_of(case, reduction="none")
    valid = case.tokens.valid_mask()
    assert np.all(grad[~valid] == 0.0)
    for b in range(len(loss)):
        alone = tdt_loss(*_utterance_arrays(case, b), blank=case.tokens.blank,
                         reduction="none")[0]
        np.testing.assert_allclose(loss[b], alone[0], rtol=1e-12)


def _utterance_arrays(case, b):
    tokens = case.tokens.utterance(b)
    t_len, u_len = tokens.logit_lengths[0], tokens.target_lengths[0]
    durations = case.duration_logits[b:b + 1, :t_len, :u_len + 1]
    return (np.concatenate([tokens.logits, durations], axis=-1), tokens.targets,
            tokens.logit_lengths, tokens.target_lengths, list(case.durations))


@given(tdt_batches(max_batch=2))
def test_omega_one_is_the_rnnt_loss_of_the_token_part_with_no_duration_gradient(case):
    loss, grad = loss_of(case, omega=1.0, sigma=0.3, reduction="none")
    tokens = case.tokens
    expected, expected_grad = rnnt_loss(*tokens.arrays(), blank=tokens.blank,
                                        reduction="none", implementation="spec")
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    vocab = tokens.logits.shape[-1]
    np.testing.assert_allclose(grad[..., :vocab], expected_grad, rtol=1e-12, atol=1e-15)
    assert np.all(grad[..., vocab:] == 0.0)


@given(tdt_batches(max_batch=2))
def test_omega_mixes_the_two_losses_linearly(case):
    tdt = loss_of(case, reduction="none")[0]
    rnnt = loss_of(case, omega=1.0, reduction="none")[0]
    mixed = loss_of(case, omega=0.25, reduction="none")[0]
    finite = np.isfinite(tdt)
    np.testing.assert_allclose(mixed[finite], 0.75 * tdt[finite] + 0.25 * rnnt[finite],
                               rtol=1e-12)
    assert np.all(np.isposinf(mixed[~finite]))


@given(tdt_batches(max_batch=2))
def test_clamp_clips_token_gradients_only(case):
    loss, grad = loss_of(case, reduction="none")
    clamped = loss_of(case, reduction="none", clamp=0.01)[1]
    vocab = case.tokens.logits.shape[-1]
    finite = np.isfinite(loss)
    np.testing.assert_array_equal(clamped[finite, ..., vocab:], grad[finite, ..., vocab:])
    np.testing.assert_array_equal(clamped[finite, ..., :vocab],
                                  np.clip(grad[finite, ..., :vocab], -0.01, 0.01))


@given(tdt_batches(max_batch=3))
def test_mean_is_the_batch_mean_and_its_gradient_is_scaled_alike(case):
    losses, grad = loss_of(case, reduction="none")
    mean, mean_grad = loss_of(case, reduction="mean")
    total, total_grad = loss_of(case, reduction="sum")
    if np.all(np.isfinite(losses)):
        assert float(mean) == pytest.approx(losses.mean(), rel=1e-12)
        assert float(total) == pytest.approx(losses.sum(), rel=1e-12)
        np.testing.assert_allclose(mean_grad * len(losses), grad, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(total_grad, grad)


def test_an_infeasible_utterance_has_infinite_loss_and_nan_gradient():
    logits = np.zeros((1, 1, 2, 3))
    loss, grad = tdt_loss(logits, np.array([[0]]), np.array([1]), np.array([1]), [1],
                          reduction="none")
    assert loss[0] == np.inf
    assert np.all(np.isnan(grad))


GOOD = dict(logits=np.zeros((1, 2, 2, 5)), targets=np.array([[0]]),
            logit_lengths=np.array([2]), target_lengths=np.array([1]), durations=[0, 1, 2])


@pytest.mark.parametrize(("change", "error", "message"), [
    (dict(durations=[0]), ValueError, "no positive duration"),
    (dict(durations=[]), ValueError, "must not be empty"),
    (dict(durations=[0, 1, 1]), ValueError, "repeat a value"),
    (dict(durations=[0, -1]), ValueError, r"durations\[1\] = -1 is negative"),
    (dict(durations=[0, 1.5]), TypeError, r"durations\[1\] must be an int"),
    (dict(durations="01"), TypeError, "durations must be a list of ints"),
    (dict(logits=np.zeros((1, 2, 2, 3))), ValueError, "needs V \\+ 3"),
    (dict(targets=np.array([[4]])), ValueError, r"targets\[0, 0\] = 4 is out of range"),
    (dict(targets=np.array([[1]])), ValueError, "equals the blank index 1"),
    (dict(logit_lengths=np.array([3])), ValueError, r"logit_lengths\[0\] = 3 is out of range"),
    (dict(omega=1.5), ValueError, r"omega must be in \[0, 1\]"),
    (dict(sigma=float("nan")), ValueError, "sigma must be finite"),
])
def test_bad_input_is_refused_naming_the_argument(change, error, message):
    kwargs = {**GOOD, **change}
    with pytest.raises(error, match=message):
        tdt_loss(**kwargs)
