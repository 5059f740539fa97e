"""The readable CTC lattice (spec.py): alphas, betas, soft alignment and Viterbi alignment."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given

from reference_impls.brute_force import ctc_collapse
from reference_impls.ctc import ctc_alphas, ctc_betas, ctc_soft_alignment, ctc_viterbi_alignment
from rnnt_parity.strategies import ctc_batches


def one_utterance(case):
    t_len, s_len = case.input_lengths[0], case.target_lengths[0]
    return case.log_probs[:t_len, 0], case.targets[0, :s_len], case.blank


@given(ctc_batches(max_batch=1, feasible=True))
def test_alphas_and_betas_give_the_same_log_likelihood(case):
    log_probs, targets, blank = one_utterance(case)
    alphas, betas = ctc_alphas(log_probs, targets, blank), ctc_betas(log_probs, targets, blank)
    from_alpha = np.logaddexp.reduce(alphas[-2:, -1])
    from_beta = np.logaddexp.reduce(betas[:2, 0])
    np.testing.assert_allclose(from_alpha, from_beta, rtol=1e-12, atol=1e-12)


@given(ctc_batches(max_batch=1, feasible=True))
def test_every_frame_is_a_cut_of_the_lattice(case):
    """Each path is in one state per frame: sum_s alpha beta / y = P at every t (eq. 14)."""
    log_probs, targets, blank = one_utterance(case)
    alphas, betas = ctc_alphas(log_probs, targets, blank), ctc_betas(log_probs, targets, blank)
    extended = np.full(2 * len(targets) + 1, blank % log_probs.shape[1])
    extended[1::2] = targets
    log_p = np.logaddexp.reduce(alphas[-2:, -1]) if len(targets) else alphas[-1, -1]
    for t in range(log_probs.shape[0]):
        terms = alphas[:, t] + betas[:, t] - log_probs[t, extended]
        np.testing.assert_allclose(np.logaddexp.reduce(terms), log_p, rtol=1e-12, atol=1e-12)


@given(ctc_batches(max_batch=1, feasible=True))
def test_soft_alignment_columns_sum_to_one(case):
    occupancy = ctc_soft_alignment(*one_utterance(case))
    np.testing.assert_allclose(occupancy.sum(axis=0), 1.0, rtol=1e-12)


@given(ctc_batches(max_batch=1, max_frames=5, max_labels=2, max_classes=3, feasible=True))
def test_viterbi_path_is_the_best_path_that_collapses_to_the_target(case):
    log_probs, targets, blank = one_utterance(case)
    blank %= log_probs.shape[1]
    alignment = ctc_viterbi_alignment(log_probs, targets, blank)
    assert ctc_collapse(alignment.frame_labels, blank) == tuple(targets)
    path_score = log_probs[np.arange(len(log_probs)), alignment.frame_labels].sum()
    np.testing.assert_allclose(alignment.score, path_score, rtol=1e-12)
    best = max(log_probs[np.arange(len(log_probs)), list(path)].sum()
               for path in itertools.product(range(log_probs.shape[1]), repeat=len(log_probs))
               if ctc_collapse(path, blank) == tuple(targets))
    np.testing.assert_allclose(alignment.score, best, rtol=1e-12)


def test_viterbi_tie_rule_prefers_staying_and_ending_in_blank():
    """Uniform log-probs make every path tie: the label is emitted first, then blanks."""
    alignment = ctc_viterbi_alignment(np.full((4, 3), -np.log(3)), np.array([1]), blank=0)
    assert alignment.frame_labels.tolist() == [1, 0, 0, 0]
    assert alignment.segments == ((0, 0),)


def test_viterbi_segments_give_each_labels_frames():
    log_probs = np.log(np.array([[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1],
                                 [0.1, 0.1, 0.8]]))
    alignment = ctc_viterbi_alignment(log_probs, np.array([1, 2]), blank=0)
    assert alignment.frame_labels.tolist() == [1, 1, 0, 2]
    assert alignment.segments == ((0, 1), (3, 3))


def test_viterbi_of_an_infeasible_target_is_a_clear_error():
    with pytest.raises(ValueError, match="no alignment to 2 frames"):
        ctc_viterbi_alignment(np.zeros((2, 2)), np.array([1, 1]), blank=0)


def test_single_utterance_functions_reject_blank_in_targets():
    with pytest.raises(ValueError, match=r"targets\[1\] = 0 is blank"):
        ctc_alphas(np.zeros((3, 3)), np.array([1, 0]), blank=0)
