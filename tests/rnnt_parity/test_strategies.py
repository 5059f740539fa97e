"""The public hypothesis strategies draw what they promise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impls.rnnt import rnnt_loss
from rnnt_parity.strategies import MALFORMED_DEFECTS, malformed_rnnt_calls, rnnt_batches


@given(rnnt_batches(hostile_padding=True))
def test_drawn_batches_are_valid_and_labels_never_equal_blank(case):
    blank = case.blank % case.vocab_size
    for b in range(len(case.target_lengths)):
        labels = case.targets[b, : case.target_lengths[b]]
        assert np.all(labels != blank) and np.all((labels >= 0) & (labels < case.vocab_size))
    loss, _ = rnnt_loss(*case.arrays(), blank=case.blank, reduction="none")
    assert np.all(np.isfinite(loss))


@given(rnnt_batches(full_lengths=True))
def test_full_lengths_makes_the_first_utterance_span_the_tensor(case):
    assert case.logit_lengths[0] == case.logits.shape[1]
    assert case.target_lengths[0] == case.logits.shape[2] - 1


@given(malformed_rnnt_calls())
def test_every_malformed_call_names_what_a_validator_must_mention(call):
    assert call.defect in MALFORMED_DEFECTS
    assert call.names and issubclass(call.error, (TypeError, ValueError))


@given(st.data())
def test_an_unknown_defect_is_refused(data):
    with pytest.raises(ValueError, match="unknown defect"):
        data.draw(malformed_rnnt_calls("logits upside down"))
