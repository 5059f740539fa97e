"""The Numba kernels: which form of the lattice each utterance gets, that both forms compute
the spec's function, and their build (compiled once, then loaded from the on-disk cache)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from reference_impls.rnnt import kernels, rnnt_loss
from reference_impls.rnnt.validation import validate_rnnt_batch
from tests.helpers import assert_within, spec_vs_numba

KERNELS = ("softmax_numerators", "gradient_factors", "finish_gradient")
CALL = ("import numpy as np\n"
        "from reference_impls.rnnt import rnnt_loss\n"
        "rnnt_loss(np.zeros((1, 2, 2, 3), dtype=np.float32), np.array([[1]]), np.array([2]),"
        " np.array([1]), blank=0)\n")


def lattice_inputs(logits, targets):
    """What `gradient_factors` needs after `softmax_numerators`, blank last, full lengths."""
    batch = validate_rnnt_batch(logits, targets, np.full(len(logits), logits.shape[1]),
                                np.full(len(logits), logits.shape[2] - 1), -1)
    grad = np.empty_like(batch.logits)
    node_values = np.empty(batch.logits.shape[:3])
    kernels.softmax_numerators(batch.logits, batch.targets, batch.logit_lengths,
                               batch.target_lengths, batch.blank, True, grad, node_values)
    return batch, grad, node_values


def used_log_space(logits, targets) -> np.ndarray:
    batch, grad, node_values = lattice_inputs(logits, targets)
    in_log_space = np.empty(len(logits), dtype=np.bool_)
    kernels.gradient_factors(batch.logits, batch.targets, batch.logit_lengths,
                             batch.target_lengths, batch.blank, True, 1.0, grad, node_values,
                             np.empty(len(logits)), in_log_space)
    return in_log_space


def assert_numba_matches_the_spec(logits, targets):
    lengths = (np.full(len(logits), logits.shape[1]), np.full(len(logits), logits.shape[2] - 1))
    loss, grad = rnnt_loss(logits, targets, *lengths, reduction="none")
    spec_loss, spec_grad = rnnt_loss(logits, targets, *lengths, reduction="none",
                                     implementation="spec")
    assert_within(loss, spec_loss, spec_vs_numba(), spec_loss, "loss")
    assert_within(grad, spec_grad, spec_vs_numba(), spec_loss, "grad")


def test_an_ordinary_utterance_is_computed_in_scaled_linear_space():
    rng = np.random.default_rng(0)
    logits, targets = rng.standard_normal((2, 30, 11, 8)), rng.integers(0, 7, (2, 10))
    assert not used_log_space(logits, targets).any()
    assert_numba_matches_the_spec(logits, targets)


def test_a_forward_variable_under_the_safe_range_sends_the_utterance_to_log_space():
    """At t = 0 the forward variable of label u is the product of the first u label
    probabilities: here about exp(-25) each, so exp(-25 * 30) = 1e-326 by u = 30, under
    float64's range; linear space would lose every path that emits early."""
    rng = np.random.default_rng(1)
    logits, targets = rng.standard_normal((1, 40, 31, 6)), rng.integers(0, 5, (1, 30))
    logits[0, 0, :, :5] -= 25.0
    assert np.prod(np.exp(logits[0, 0, np.arange(30), targets[0]] - 25.0)) < 1e-300
    assert used_log_space(logits, targets).all()
    assert_numba_matches_the_spec(logits, targets)


def test_an_utterance_flagged_only_by_the_backward_pass_is_redone_from_its_logits():
    """Labels that are unlikely only at the last frame leave the forward pass in range but
    send the backward variables at that frame under it: the scaled backward pass has by then
    overwritten that row's exponentials at blank and label, so log space must make them
    again (a planted skip of that fails against the spec)."""
    rng = np.random.default_rng(2)
    logits, targets = rng.standard_normal((1, 20, 13, 6)), rng.integers(0, 5, (1, 12))
    logits[0, -1, :, :5] -= 75.0
    batch, grad, node_values = lattice_inputs(logits, targets)
    forward = kernels._scaled_forward(0, grad, batch.targets, 19, 12, batch.blank, 1.0,
                                      node_values)
    assert np.isfinite(forward[0]) and forward[1] == 20
    assert used_log_space(logits, targets).all()
    assert_numba_matches_the_spec(logits, targets)


def test_negative_infinite_logits_are_exact_in_log_space():
    """A masked symbol (-inf logit) has a zero exponential, which the scaled form cannot
    tell from an underflow: the utterance goes to log space, and only it."""
    rng = np.random.default_rng(3)
    logits, targets = rng.standard_normal((2, 12, 6, 7)), rng.integers(0, 6, (2, 5))
    logits[0, 3, 2, targets[0, 2]] = -np.inf
    assert list(used_log_space(logits, targets)) == [True, False]
    assert_numba_matches_the_spec(logits, targets)


def test_a_vocabulary_of_64_or_more_takes_the_per_node_loops_and_matches_the_spec():
    """V >= FLAT_BELOW_VOCAB: each node's maximum in LANES lanes (and -inf entries, found by
    the x * 0 sum, checked the slow way), V not a multiple of LANES."""
    rng = np.random.default_rng(4)
    vocab = kernels.FLAT_BELOW_VOCAB + kernels.LANES + 3
    logits, targets = rng.standard_normal((2, 9, 5, vocab)) * 4, rng.integers(0, vocab - 1, (2, 4))
    logits[0, 2, 1, 5] = logits[1, 4, 0, vocab - 2] = -np.inf
    assert_numba_matches_the_spec(logits, targets)
    assert_numba_matches_the_spec(logits.astype(np.float32).astype(np.float64), targets)


@pytest.mark.parametrize("vocab", [8, 13, 64, 69, 1024])
def test_the_maximum_in_lanes_is_the_rows_maximum_wherever_it_lies(vocab):
    """Shift-invariance would hide a wrong maximum from the loss; held directly instead, with
    the maximum in every position (the remainder past the last full group of LANES too)."""
    lanes = np.empty(kernels.LANES, dtype=np.float32)
    rng = np.random.default_rng(vocab)
    for where in range(vocab):
        x = rng.standard_normal(vocab).astype(np.float32)
        x[where] = 10.0
        assert kernels._peak_in_lanes(x, lanes) == (np.float32(10.0), False)


@pytest.mark.parametrize("vocab", [kernels.FLAT_BELOW_VOCAB - 1, kernels.FLAT_BELOW_VOCAB + 5])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_plus_infinity_in_a_row_is_reported_in_either_loop(vocab, bad):
    logits = np.zeros((1, 3, 2, vocab), dtype=np.float32)
    logits[0, 2, 1, vocab - 3] = bad
    with pytest.raises(ValueError, match=r"logits\[0, 2, 1\]"):
        rnnt_loss(logits, np.array([[1]]), np.array([3]), np.array([1]))


def run_with_cache_log() -> str:
    env = {**os.environ, "NUMBA_DEBUG_CACHE": "1"}
    done = subprocess.run([sys.executable, "-c", CALL], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_a_second_process_loads_every_kernel_from_the_cache_instead_of_compiling():
    run_with_cache_log()
    log = run_with_cache_log()
    for kernel in KERNELS:
        assert any("data loaded from" in line and f"kernels.{kernel}-" in line
                   for line in log.splitlines()), kernel
    assert "data saved to" not in log
