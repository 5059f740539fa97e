"""Brute-force enumeration, the oracle's own oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given

from reference_impls.brute_force import MAX_ALIGNMENTS, rnnt_alignments, rnnt_brute_force_loss
from reference_impls.rnnt import rnnt_loss
from reference_impls.rnnt.spec import log_softmax
from rnnt_parity.compare import tolerance_for
from rnnt_parity.strategies import rnnt_batches
from tests.helpers import assert_within


@pytest.mark.parametrize("frames,labels", [(1, 0), (1, 3), (4, 0), (3, 2), (5, 4)])
def test_alignment_count_is_the_binomial_coefficient(frames, labels):
    """An RNN-T lattice has C(T-1+U, U) alignments."""
    assert len(list(rnnt_alignments(frames, labels))) == math.comb(frames - 1 + labels, labels)


@given(rnnt_batches(max_batch=1, max_frames=5, max_labels=3))
def test_brute_force_equals_the_lattice_on_tiny_shapes(case):
    """Summing every alignment directly equals the alpha/beta recursion."""
    single = case.utterance(0)
    brute = rnnt_brute_force_loss(log_softmax(single.logits[0]), single.targets[0], case.blank)
    for implementation in ("spec", "numba"):
        loss, _ = rnnt_loss(*single.arrays(), blank=case.blank, reduction="none",
                            implementation=implementation)
        assert_within(loss, np.array([brute]), tolerance_for("float64", "any", "rnnt.brute_force"),
                      magnitudes=loss, what=implementation)


def test_brute_force_refuses_a_lattice_too_large_to_enumerate():
    with pytest.raises(ValueError, match="MAX_ALIGNMENTS"):
        rnnt_brute_force_loss(np.zeros((40, 21, 3)), np.ones(20, dtype=np.int64), blank=0)
    assert math.comb(39 + 20, 20) > MAX_ALIGNMENTS


def test_brute_force_of_an_impossible_lattice_is_inf():
    with np.errstate(divide="ignore"):
        log_probs = np.log(np.array([[[0.5, 0.0, 0.5], [0.5, 0.25, 0.25]]]))
    assert rnnt_brute_force_loss(log_probs, np.array([1]), blank=0) == math.inf
