"""Frame-synchronous RNN-T beam search with exact merging: unpruned scores are the exact
log-probabilities (against the loss oracle and brute force over alignments), pruning never
raises a score, and what widening the beam does to the best score."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impls.brute_force import rnnt_brute_force_loss
from reference_impls.models import (
    CanonicalConfig,
    encoder_forward,
    joint_forward,
    prediction_forward,
    random_parameters,
)
from reference_impls.rnnt import rnnt_loss
from reference_impls.rnnt.beam import beam_search, graves_stop, modified_beam_search
from reference_impls.rnnt.decode import greedy_decode
from reference_impls.rnnt.spec import log_softmax


@st.composite
def tiny_models(draw):
    vocab = draw(st.integers(2, 3))
    config = CanonicalConfig(3, 4, 1, 0, 1, 3, 1, 4, vocab, draw(st.integers(0, vocab - 1)),
                             start_symbol=draw(st.sampled_from(["zero", "blank_embedding"])))
    params = random_parameters(config, seed=draw(st.integers(0, 1000)),
                               scale=draw(st.floats(0.3, 2.0)))
    frames = draw(st.integers(1, 3))
    features = np.random.default_rng(draw(st.integers(0, 1000))).standard_normal((1, frames, 3))
    encodings, _ = encoder_forward(params, config, features, np.array([frames]))
    return config, params, encodings


def logits_for(config, params, encodings, labels) -> np.ndarray:
    g = prediction_forward(params, config, np.array([labels], dtype=int).reshape(1, -1))
    return joint_forward(params, config, encodings, g)


@given(model=tiny_models(), max_length=st.integers(0, 3))
def test_unpruned_scores_are_minus_the_rnnt_loss_of_each_hypothesis(model, max_length):
    config, params, encodings = model
    frames = encodings.shape[1]
    for labels, score in beam_search(params, config, encodings[0], frames, None, max_length):
        loss, _ = rnnt_loss(logits_for(config, params, encodings, labels),
                            np.array([labels], dtype=np.int64).reshape(1, -1),
                            np.array([frames]), np.array([len(labels)]), blank=config.blank,
                            reduction="none")
        assert score == pytest.approx(-loss[0], abs=1e-12)


@given(model=tiny_models())
def test_unpruned_scores_match_brute_force_over_alignments(model):
    config, params, encodings = model
    frames = encodings.shape[1]
    for labels, score in beam_search(params, config, encodings[0], frames, None, 2):
        log_probs = log_softmax(logits_for(config, params, encodings, labels)[0])
        assert score == pytest.approx(
            -rnnt_brute_force_loss(log_probs, np.array(labels, dtype=np.int64), config.blank),
            abs=1e-12)


@given(model=tiny_models(), beam=st.integers(1, 4))
def test_pruning_never_scores_a_hypothesis_above_its_exact_log_probability(model, beam):
    config, params, encodings = model
    frames = encodings.shape[1]
    exact = dict(beam_search(params, config, encodings[0], frames, None, 3))
    for labels, score in beam_search(params, config, encodings[0], frames, beam, 3):
        assert score <= exact[labels] + 1e-12


@given(model=tiny_models(), beam=st.integers(1, 4))
def test_stopping_early_never_scores_a_hypothesis_above_its_exact_log_probability(model, beam):
    config, params, encodings = model
    frames = encodings.shape[1]
    exact = dict(beam_search(params, config, encodings[0], frames, None, 3))
    for labels, score in beam_search(params, config, encodings[0], frames, beam, 3,
                                     stop_early=True):
        assert score <= exact[labels] + 1e-12


def test_graves_stop_needs_beam_finished_hypotheses_above_the_best_pending():
    pending = {(): -1.0, (1,): -0.5, (1, 2): -3.0}
    assert not graves_stop({(): -0.4}, pending, 1, beam=2)
    assert graves_stop({(): -0.4, (3,): -0.45}, pending, 1, beam=2)
    assert not graves_stop({(): -0.4, (3,): -0.5}, pending, 1, beam=2)  # a tie is not "more"
    assert graves_stop({(): -0.4, (3,): -2.0}, pending, 2, beam=2)  # only (1, 2) remains
    assert not graves_stop({(): -0.4, (3,): -0.45}, pending, 1, beam=None)


def test_the_unpruned_search_returns_every_sequence_up_to_the_cap():
    config = CanonicalConfig(3, 4, 1, 0, 1, 3, 1, 4, 3, 2)
    params = random_parameters(config, seed=1)
    encodings, _ = encoder_forward(params, config, np.ones((1, 2, 3)), np.array([2]))
    found = {labels for labels, _ in beam_search(params, config, encodings[0], 2, None, 2)}
    assert found == {(), (0,), (1,), (0, 0), (0, 1), (1, 0), (1, 1)}


@pytest.mark.parametrize(("args", "message"), [
    ({"beam": 0}, "beam must be a positive int or None"),
    ({"max_length": -1}, "max_length must be a non-negative int"),
    ({"length": 0}, r"length=0 is out of range \[1, 2\]"),
])
def test_bad_arguments_are_rejected(args, message):
    config = CanonicalConfig(3, 4, 1, 0, 1, 3, 1, 4, 3, 2)
    params = random_parameters(config)
    call = {"length": 2, "beam": 2, "max_length": 2, **args}
    with pytest.raises(ValueError, match=message):
        beam_search(params, config, np.zeros((2, 4)), **call)


def test_widening_the_beam_can_lower_the_best_score():
    """The issue asked for "widening the beam never lowers the best score": false for
    beam search with merging (as for CTC prefix beam search): pruning is greedy frame by
    frame, so keeping more hypotheses at one frame changes which survive later, and nothing
    makes the best score monotone in the width. Found by search over seeds; pinned here."""
    rng = np.random.default_rng(17)
    vocab = int(rng.integers(2, 4))
    config = CanonicalConfig(3, 4, 1, 0, 1, 3, 1, 4, vocab, vocab - 1)
    params = random_parameters(config, seed=17, scale=float(rng.uniform(0.5, 2.5)))
    frames = int(rng.integers(2, 5))
    encodings, _ = encoder_forward(params, config, rng.standard_normal((1, frames, 3)),
                                   np.array([frames]))
    best = {beam: beam_search(params, config, encodings[0], frames, beam, 4)[0][1]
            for beam in (3, 4)}
    assert best[4] < best[3]
    assert best[3] - best[4] == pytest.approx(0.00886, abs=1e-5)


@given(model=tiny_models())
def test_a_beam_wider_than_every_hypothesis_is_the_exact_search(model):
    config, params, encodings = model
    frames = encodings.shape[1]
    exact = beam_search(params, config, encodings[0], frames, None, 2)
    assert beam_search(params, config, encodings[0], frames, 1000, 2) == exact


def one_symbol_per_frame_log_prob(config, params, encodings, labels) -> float:
    """Brute force over the ways of putting each label on its own frame: labels on the
    chosen frames, blank on the others, every frame left after one emission."""
    frames = encodings.shape[1]
    logits = logits_for(config, params, encodings, labels)[0]
    log_probs = log_softmax(logits)
    total = []
    for chosen in itertools.combinations(range(frames), len(labels)):
        u, score = 0, 0.0
        for t in range(frames):
            if u < len(labels) and t == chosen[u]:
                score += log_probs[t, u, labels[u]]
                u += 1
            else:
                score += log_probs[t, u, config.blank]
        total.append(score)
    return float(np.logaddexp.reduce(total)) if total else -np.inf


@given(model=tiny_models())
def test_unpruned_modified_search_scores_match_brute_force(model):
    config, params, encodings = model
    frames = encodings.shape[1]
    results = modified_beam_search(params, config, encodings[0], frames, None)
    assert {len(labels) for labels, _ in results} == set(range(frames + 1))
    for labels, score in results:
        assert score == pytest.approx(
            one_symbol_per_frame_log_prob(config, params, encodings, labels), abs=1e-12)


@given(seed=st.integers(0, 200), blank_bias=st.floats(-2.0, 3.0))
def test_modified_beam_1_is_greedy_with_one_symbol_per_frame(seed, blank_bias):
    config = CanonicalConfig(6, 8, 1, 1, 2, 5, 1, 7, 5, 4)
    params = random_parameters(config, seed=seed, scale=2.0)
    params["joint.output.bias"][config.blank] += blank_bias
    features = np.random.default_rng(seed).standard_normal((1, 9, 6)) * 2
    encodings, lengths = encoder_forward(params, config, features, np.array([9]))
    best, _ = modified_beam_search(params, config, encodings[0], int(lengths[0]), 1)[0]
    assert list(best) == greedy_decode(params, config, encodings[0], int(lengths[0]), 1)
