"""Character vocabulary: the seed's 28 symbols plus blank."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnnt_parity.text import CHARACTERS, CharVocabulary


def test_default_vocabulary_is_space_letters_apostrophe_then_blank():
    vocabulary = CharVocabulary()
    assert vocabulary.size == 29 and vocabulary.blank == 28
    assert vocabulary.encode(" az'") == [0, 1, 26, 27]


@given(st.text(alphabet="".join(CHARACTERS)), st.integers(0, 28))
def test_encode_then_decode_is_identity_wherever_blank_sits(text, blank):
    vocabulary = CharVocabulary(CHARACTERS, blank)
    ids = vocabulary.encode(text)
    assert blank not in ids
    assert vocabulary.decode(ids) == text


def test_encode_names_the_character_outside_the_vocabulary():
    with pytest.raises(ValueError, match="'7'"):
        CharVocabulary().encode("three 7")


def test_decode_refuses_blank_and_out_of_range_ids():
    with pytest.raises(ValueError, match="position 1"):
        CharVocabulary().decode([1, 28])
    with pytest.raises(ValueError, match="id 29"):
        CharVocabulary().decode([29])
