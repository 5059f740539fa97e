"""Paired-comparison statistics: ratio-of-sums WER, paired bootstrap, sign test."""

import math

import numpy as np
import pytest

from rnnt_parity.wer.stats import corpus_wer, paired_bootstrap, sign_test


def test_corpus_wer_is_the_ratio_of_sums():
    errors, words = np.array([1, 0]), np.array([1, 9])
    assert corpus_wer(errors, words) == 0.1


def test_pitfall_mean_of_per_utterance_wers_is_not_corpus_wer():
    errors, words = np.array([1, 0]), np.array([1, 9])

    def mean_of_ratios(e, w):
        return float(np.mean(e / w))

    assert mean_of_ratios(errors, words) == 0.5
    assert corpus_wer(errors, words) != mean_of_ratios(errors, words)


def test_corpus_wer_without_reference_words_is_an_error():
    with pytest.raises(ValueError, match="undefined"):
        corpus_wer(np.array([1]), np.array([0]))


def test_identical_systems_have_a_zero_interval_and_no_improvement():
    errors, words = np.array([2, 0, 1, 3]), np.array([5, 4, 3, 6])
    result = paired_bootstrap(errors, errors, words, replicates=500)
    assert result["delta_ci95"] == [0.0, 0.0]
    assert result["probability_b_better"] == 0.0


def test_b_better_on_every_utterance_gives_a_negative_interval_and_certain_improvement():
    rng = np.random.default_rng(1)
    words = rng.integers(3, 8, size=60)
    a = rng.integers(1, 3, size=60)
    result = paired_bootstrap(a, a - 1, words, replicates=2000)
    low, high = result["delta_ci95"]
    assert low <= high < 0
    assert result["probability_b_better"] == 1.0


def test_interval_brackets_the_observed_delta_and_matches_the_normal_approximation():
    rng = np.random.default_rng(2)
    n = 400
    words = rng.integers(5, 15, size=n)
    a = rng.binomial(words, 0.10)
    b = rng.binomial(words, 0.12)
    observed = (b.sum() - a.sum()) / words.sum()
    low, high = paired_bootstrap(a, b, words, replicates=4000)["delta_ci95"]
    assert low < observed < high
    # delta-method standard error of a ratio of sums (independent of the bootstrap code)
    d = b - a
    r = observed
    se = math.sqrt(np.sum((d - r * words) ** 2)) / words.sum()
    assert high - low == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_bootstrap_is_reproducible_from_its_seed():
    a, b, w = np.array([1, 2, 0, 3]), np.array([0, 2, 1, 1]), np.array([4, 5, 3, 6])
    assert paired_bootstrap(a, b, w, 300, seed=7) == paired_bootstrap(a, b, w, 300, seed=7)


def test_sign_test_matches_the_exact_binomial_by_hand():
    a = np.array([1] * 9 + [0] + [2] * 5)
    b = np.array([0] * 9 + [1] + [2] * 5)
    result = sign_test(a, b)
    assert (result["b_better"], result["b_worse"], result["ties"]) == (9, 1, 5)
    assert result["p_value"] == pytest.approx(2 * (1 + 10) / 2 ** 10)


def test_sign_test_with_only_ties_has_p_one():
    assert sign_test(np.array([1, 2]), np.array([1, 2]))["p_value"] == 1.0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="equal-length"):
        paired_bootstrap([1, 2], [1], [3, 3])
