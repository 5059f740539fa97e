"""CTC decoders: greedy best path and prefix beam search (Hannun et al. 2014)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impls.brute_force import ctc_collapse, ctc_labelling_log_probs
from reference_impls.ctc import ctc_loss
from reference_impls.ctc.decode import greedy_decode, prefix_beam_search
from rnnt_parity.strategies import ctc_batches

tiny = ctc_batches(max_batch=1, max_frames=5, max_classes=3)


def frames_of(case):
    return case.log_probs[: case.input_lengths[0], 0], case.blank % case.log_probs.shape[2]


@given(ctc_batches(max_batch=1, max_frames=20, max_classes=8))
def test_greedy_output_is_the_collapse_of_the_argmax_path(case):
    log_probs, blank = frames_of(case)
    best_path = np.argmax(log_probs, axis=1)
    assert tuple(greedy_decode(log_probs, blank)) == ctc_collapse(best_path, blank)


def test_greedy_without_collapsing_keeps_every_non_blank_frame():
    log_probs = np.log(np.array([[0.1, 0.9], [0.1, 0.9], [0.9, 0.1], [0.1, 0.9]]))
    assert greedy_decode(log_probs, blank=0) == [1, 1]
    assert greedy_decode(log_probs, blank=0, collapse_repeated=False) == [1, 1, 1]


@given(tiny)
def test_a_beam_holding_every_prefix_finds_the_most_probable_labelling(case):
    """No LM, no pruning, beam wider than the number of prefixes: exact MAP labelling."""
    log_probs, blank = frames_of(case)
    every = ctc_labelling_log_probs(log_probs, blank)
    best_score = max(every.values())
    top = prefix_beam_search(log_probs, beam_size=10_000, blank=blank)[0]
    assert np.isclose(every[top.labels], best_score, rtol=0, atol=1e-12)
    np.testing.assert_allclose(top.acoustic, every[top.labels], atol=1e-12)


@given(tiny)
def test_every_reported_score_is_minus_the_oracles_loss_of_that_labelling(case):
    log_probs, blank = frames_of(case)
    for hypothesis in prefix_beam_search(log_probs, beam_size=10_000, blank=blank)[:5]:
        loss, _ = ctc_loss(log_probs[:, None], np.array([hypothesis.labels], dtype=np.int64),
                           np.array([len(log_probs)]), np.array([len(hypothesis.labels)]),
                           blank=blank, reduction="none")
        np.testing.assert_allclose(hypothesis.acoustic, -loss[0], atol=1e-12)


@given(ctc_batches(max_batch=1, max_frames=6, max_classes=4), st.integers(1, 6))
def test_no_beam_reports_more_than_the_exact_probability_of_its_labelling(case, beam):
    """A beam sums a subset of each labelling's paths: its score is a lower bound."""
    log_probs, blank = frames_of(case)
    every = ctc_labelling_log_probs(log_probs, blank)
    for hypothesis in prefix_beam_search(log_probs, beam_size=beam, blank=blank):
        assert hypothesis.acoustic <= every[hypothesis.labels] + 1e-12


def test_widening_the_beam_can_lower_the_best_score():
    """Prefix beam search is not monotone in the beam width (hypothesis found this case).

    After frame 0 both beams hold () and (1,); beam 4 also holds (2,) and (3,), whose children
    outscore () at frame 1, so () is pruned and the blank-blank-1 paths are lost from (1,):
    beam 2 finds log P(1) = -1.961, beam 4 only -2.042. A beam holding every prefix finds
    the maximum again.
    """
    uniform = [-np.log(4)] * 4
    log_probs = np.array([uniform, [-1.74366838, -0.74366838, -1.74366838, -1.74366838],
                          uniform])
    best = {beam: prefix_beam_search(log_probs, beam_size=beam)[0] for beam in (2, 4, 100)}
    assert best[2].labels == best[4].labels == best[100].labels == (1,)
    assert best[4].score < best[2].score - 0.05
    exact = ctc_labelling_log_probs(log_probs, 0)[(1,)]
    np.testing.assert_allclose([best[2].score, best[100].score], exact, atol=1e-8)


def test_repeated_characters_need_a_blank_to_stay_separate():
    """'aa' needs a, blank, a; a, a collapses to 'a' (the blank/non-blank split)."""
    a, blank = 1, 0
    log_probs = np.log(np.array([[0.05, 0.95], [0.9, 0.1], [0.05, 0.95]]))
    top = prefix_beam_search(log_probs, beam_size=8, blank=blank)[0]
    assert top.labels == (a, a)
    merged = np.log(np.array([[0.05, 0.95], [0.05, 0.95], [0.05, 0.95]]))
    assert prefix_beam_search(merged, beam_size=8, blank=blank)[0].labels == (a,)


def test_pruning_drops_outputs_below_the_threshold():
    log_probs = np.log(np.array([[0.5, 0.45, 0.05]]))
    kept = {h.labels for h in prefix_beam_search(log_probs, beam_size=8, prune=0.1)}
    assert kept == {(), (1,)}


def test_a_language_model_can_overturn_the_acoustic_ranking():
    """Acoustics prefer 'ab' (P = 0.36, against 0.2575 for 'a' or 'b' and 0.1225 for 'ba');
    an LM that penalises every word but 'ba' by e^-5 (alpha = 1) makes 'ba' win."""
    alphabet = ["_", " ", "a", "b"]
    log_probs = np.log(np.array([[0.05, 0.0001, 0.6, 0.3499], [0.05, 0.0001, 0.3499, 0.6]]))

    def lm(words):
        return sum(0.0 if word == "ba" else -5.0 for word in words)

    plain = prefix_beam_search(log_probs, beam_size=16, alphabet=alphabet, word_delimiter=1)
    with_lm = prefix_beam_search(log_probs, beam_size=16, lm=lm, alpha=1.0, alphabet=alphabet,
                                 word_delimiter=1)
    assert plain[0].labels == (2, 3) and with_lm[0].labels == (3, 2)
    assert with_lm[0].words == 1 and with_lm[0].lm_score == 0.0


def test_word_bonus_counts_completed_and_trailing_words():
    alphabet = ["_", " ", "a"]
    log_probs = np.log(np.array([[0.01, 0.01, 0.98], [0.01, 0.98, 0.01], [0.01, 0.01, 0.98]]))
    top = prefix_beam_search(log_probs, beam_size=8, beta=0.5, alphabet=alphabet,
                             word_delimiter=1)[0]
    assert top.labels == (2, 1, 2) and top.words == 2
    np.testing.assert_allclose(top.score, top.acoustic + 0.5 * 2)


@pytest.mark.parametrize("kwargs,message", [
    ({"beam_size": 0}, "beam_size must be a positive int"),
    ({"prune": 1.5}, "prune must be a probability"),
    ({"lm": lambda words: 0.0}, "needs alphabet and word_delimiter"),
    ({"alphabet": ["_", "a"], "word_delimiter": 1}, "alphabet has 2 entries for 3 classes"),
])
def test_beam_search_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        prefix_beam_search(np.log(np.full((2, 3), 1 / 3)), **kwargs)
