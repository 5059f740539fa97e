"""The readable lattice (spec.py): alphas, betas and occupancies as Graves (2012) defines them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from reference_impls.rnnt import rnnt_alphas, rnnt_betas, rnnt_occupancy
from reference_impls.rnnt.spec import log_softmax
from rnnt_parity.strategies import rnnt_batches


def one_utterance(case):
    single = case.utterance(0)
    return log_softmax(single.logits[0]), single.targets[0], case.blank


@given(rnnt_batches(max_batch=1))
def test_alphas_and_betas_give_the_same_log_likelihood(case):
    """alpha(T-1, U) + phi(T-1, U) = beta(0, 0) = log P(y | x)  (Graves 2012, eq. 17)."""
    log_probs, targets, blank = one_utterance(case)
    alphas, betas = rnnt_alphas(log_probs, targets, blank), rnnt_betas(log_probs, targets, blank)
    np.testing.assert_allclose(alphas[-1, -1] + log_probs[-1, -1, blank], betas[0, 0],
                               rtol=1e-12, atol=1e-12)


@given(rnnt_batches(max_batch=1))
def test_every_frame_boundary_is_a_cut_of_the_lattice(case):
    """For t < T-1 every alignment crosses frame t's blank edges once: their flow is log P."""
    log_probs, targets, blank = one_utterance(case)
    alphas, betas = rnnt_alphas(log_probs, targets, blank), rnnt_betas(log_probs, targets, blank)
    for t in range(log_probs.shape[0] - 1):
        flow = np.logaddexp.reduce(alphas[t] + log_probs[t, :, blank] + betas[t + 1])
        np.testing.assert_allclose(flow, betas[0, 0], rtol=1e-12, atol=1e-12)


@given(rnnt_batches(max_batch=1))
def test_blank_occupancy_sums_to_one_in_every_frame(case):
    """Every alignment emits exactly one blank per frame."""
    blank_occ, _ = rnnt_occupancy(*one_utterance(case))
    np.testing.assert_allclose(blank_occ.sum(axis=1), 1.0, rtol=1e-12)


@given(rnnt_batches(max_batch=1))
def test_label_occupancy_sums_to_one_for_every_label(case):
    """Every alignment emits each label exactly once."""
    _, label_occ = rnnt_occupancy(*one_utterance(case))
    np.testing.assert_allclose(label_occ.sum(axis=0), 1.0, rtol=1e-12)


def test_alphas_start_at_zero_and_first_row_only_emits_labels():
    """alpha(0, u) is the sum of the first u label log-probs at t = 0 (no blank taken yet)."""
    log_probs = log_softmax(np.random.default_rng(0).standard_normal((3, 3, 4)))
    targets = np.array([1, 2])
    alphas = rnnt_alphas(log_probs, targets, blank=0)
    assert alphas[0, 0] == 0.0
    np.testing.assert_allclose(alphas[0, 2], log_probs[0, 0, 1] + log_probs[0, 1, 2], rtol=1e-15)


@pytest.mark.parametrize("call", [rnnt_alphas, rnnt_betas, rnnt_occupancy])
def test_single_utterance_functions_reject_a_batch_axis(call):
    """These take one utterance `(T, U+1, V)`; a 4-D array is a clear ValueError."""
    with pytest.raises(ValueError, match="log_probs must have 3 dimensions"):
        call(np.zeros((1, 2, 2, 3)), np.array([1]), 0)


def test_single_utterance_functions_reject_blank_in_targets():
    with pytest.raises(ValueError, match=r"targets\[0, 1\] equals the blank index 0"):
        rnnt_alphas(np.zeros((2, 3, 3)), np.array([1, 0]), 0)
