"""The readable TDT lattice against brute force and hand-worked lattices."""

import math

import numpy as np
import pytest
from hypothesis import given

from reference_impls.brute_force import tdt_alignments, tdt_brute_force_loss
from reference_impls.rnnt.spec import log_softmax
from reference_impls.tdt import tdt_alphas, tdt_betas
from reference_impls.tdt.spec import utterance_loss_and_grad
from rnnt_parity.strategies import tdt_batches


def log_probs_of(case, b=0):
    """(token log-probs, duration log-probs, targets) of utterance b, cropped."""
    single = case.tokens.utterance(b)
    t_len, u_len = single.logit_lengths[0], single.target_lengths[0]
    return (log_softmax(single.logits[0]), log_softmax(case.duration_logits[b, :t_len,
                                                                            :u_len + 1]),
            single.targets[0])


@given(tdt_batches(max_batch=1))
def test_alphas_and_betas_give_the_same_log_likelihood(case):
    token_lp, duration_lp, targets = log_probs_of(case)
    blank = case.tokens.blank % token_lp.shape[-1]
    alphas = tdt_alphas(token_lp, duration_lp, targets, blank, case.durations)
    betas = tdt_betas(token_lp, duration_lp, targets, blank, case.durations)
    if betas[0, 0] == -np.inf:
        assert alphas[-1, -1] == -np.inf
    else:
        np.testing.assert_allclose(alphas[-1, -1], betas[0, 0], rtol=1e-12, atol=1e-12)


@given(tdt_batches(max_batch=1))
def test_the_lattice_sums_every_alignment_brute_force_enumerates(case):
    token_lp, duration_lp, targets = log_probs_of(case)
    blank = case.tokens.blank % token_lp.shape[-1]
    inputs = np.concatenate([token_lp, duration_lp], axis=-1)
    loss, _ = utterance_loss_and_grad(inputs, targets, blank, case.durations, 0.0, False)
    expected = tdt_brute_force_loss(token_lp, duration_lp, targets, case.durations, blank)
    if math.isinf(expected):
        assert loss == math.inf
    else:
        assert loss == pytest.approx(expected, rel=1e-12, abs=1e-12)


def uniform(frames, labels, vocab, num_durations):
    """Log-probs of uniform distributions over the tokens and the durations."""
    return (np.full((frames, labels + 1, vocab), -np.log(vocab)),
            np.full((frames, labels + 1, num_durations), -np.log(num_durations)))


def test_only_duration_zero_label_emissions_make_a_one_frame_lattice_feasible():
    """T = 1, U = 1, durations [0, 1], uniform: the label must stay on frame 0 (d = 0) and
    the blank land on T = 1 (d = 1): one alignment of weight (1/2)^4, loss 4 ln 2. Without
    duration 0 no alignment exists."""
    token_lp, duration_lp = uniform(1, 1, 2, 2)
    targets = np.array([0])
    assert list(tdt_alignments(1, 1, [0, 1])) == [(("label", 0), ("blank", 1))]
    inputs = np.concatenate([token_lp, duration_lp], axis=-1)
    loss, _ = utterance_loss_and_grad(inputs, targets, 1, (0, 1), 0.0, False)
    assert loss == pytest.approx(4 * math.log(2), rel=1e-15)
    inputs = np.concatenate(uniform(1, 1, 2, 2), axis=-1)
    assert utterance_loss_and_grad(inputs, targets, 1, (1, 2), 0.0, False)[0] == math.inf


def test_a_duration_that_overshoots_the_last_frame_is_no_alignment():
    """T = 2, U = 0, durations [1, 2, 3], blank only, uniform durations: blank 1 then blank 1,
    or blank 2; blank 3 (and blank 2 from frame 1) would carry past T. P = 1/9 + 1/3 = 4/9."""
    token_lp, duration_lp = uniform(2, 0, 1, 3)
    assert sorted(tdt_alignments(2, 0, [1, 2, 3])) == [(("blank", 0), ("blank", 0)),
                                                        (("blank", 1),)]
    inputs = np.concatenate([token_lp, duration_lp], axis=-1)
    loss, _ = utterance_loss_and_grad(inputs, np.zeros(0, np.int64), 0, (1, 2, 3), 0.0, False)
    assert loss == pytest.approx(math.log(9 / 4), rel=1e-15)


def test_a_blank_never_takes_duration_zero():
    """T = 1, U = 0, durations [0, 1]: only blank with d = 1; its duration weight 1/2 is all
    (the mass on blank with d = 0 is lost), so the loss is ln 2, not 0."""
    inputs = np.concatenate(uniform(1, 0, 1, 2), axis=-1)
    loss, _ = utterance_loss_and_grad(inputs, np.zeros(0, np.int64), 0, (0, 1), 0.0, False)
    assert loss == pytest.approx(math.log(2), rel=1e-15)


def test_sigma_adds_sigma_per_arc_of_a_single_alignment_lattice():
    """The one-frame lattice above has one alignment of two arcs: sigma adds 2 sigma."""
    inputs = np.concatenate(uniform(1, 1, 2, 2), axis=-1)
    targets = np.array([0])
    plain = utterance_loss_and_grad(inputs, targets, 1, (0, 1), 0.0, False)[0]
    shifted = utterance_loss_and_grad(inputs, targets, 1, (0, 1), 0.05, False)[0]
    assert shifted - plain == pytest.approx(0.1, rel=1e-12)
