"""The ARPA backoff n-gram reader, against hand-computed probabilities."""

from __future__ import annotations

import math

import pytest

from reference_impls.ctc.arpa import ArpaLanguageModel
from rnnt_parity.fixtures import DEFAULT_FIXTURE_ROOT

ARPA = DEFAULT_FIXTURE_ROOT / "lm" / "digits_bigram.arpa"


def test_listed_bigrams_are_read_directly():
    """log10 P(one | <s>) = log10 P(two | one) = -0.30103: P(one two) = 0.25."""
    assert ArpaLanguageModel(ARPA).log_prob(("one", "two")) == pytest.approx(math.log(0.25),
                                                                             abs=1e-6)


def test_an_unlisted_bigram_backs_off_to_the_unigram():
    """P(three | one) = b(one) * P(three) = 10^-0.30103 * 10^-1.0 = 0.05."""
    assert ArpaLanguageModel(ARPA).word_log10("three", ("one",)) == pytest.approx(-1.30103)


def test_an_unknown_word_scores_as_unk():
    assert ArpaLanguageModel(ARPA).word_log10("seven", ("<s>",)) == pytest.approx(-0.30103 - 2.0)


def test_end_of_sentence_is_scored_only_when_asked():
    lm = ArpaLanguageModel(ARPA)
    closed = lm.log_prob(("two", "three"), eos=True)
    assert closed == pytest.approx(lm.log_prob(("two", "three")) + math.log(10) * -0.47712)


def test_a_header_count_that_disagrees_with_the_file_is_a_clear_error(tmp_path):
    broken = tmp_path / "broken.arpa"
    broken.write_text(ARPA.read_text().replace("ngram 2=5", "ngram 2=6"))
    with pytest.raises(ValueError, match="header says 6 2-grams, file has 5"):
        ArpaLanguageModel(broken)


def test_a_malformed_ngram_line_names_the_file_and_line(tmp_path):
    broken = tmp_path / "broken.arpa"
    broken.write_text(ARPA.read_text().replace("-0.30103 one two", "-0.30103 one two three x"))
    with pytest.raises(ValueError, match=r"broken.arpa:\d+: a 2-gram line"):
        ArpaLanguageModel(broken)
