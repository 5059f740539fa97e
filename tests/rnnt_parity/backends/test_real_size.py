"""Parity on real-size lattices (marked slow: run with `pytest -m slow`, not by CI)."""

from __future__ import annotations

import pytest

from rnnt_parity.backends import RNNT_LOSS_BACKENDS
from rnnt_parity.backends.torch_ctc import TorchCTCLoss
from rnnt_parity.bench import make_ctc_inputs, make_inputs
from rnnt_parity.checks import ctc_backend_comparisons, rnnt_backend_comparisons
from tests.helpers import assert_comparisons_pass

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("shape", [(2, 300, 60, 512), (4, 150, 40, 1024)])
def test_torchaudio_matches_the_oracle_on_a_real_size_lattice(device, shape):
    logits, targets, logit_lengths, target_lengths = make_inputs(*shape, seed=1)
    logit_lengths[1:] -= 7
    target_lengths[1:] -= 3
    result = RNNT_LOSS_BACKENDS["torchaudio"](logits, targets, logit_lengths, target_lengths,
                                              reduction="none", device=device)
    comparisons = rnnt_backend_comparisons(result, logits, targets, logit_lengths,
                                           target_lengths, blank=-1, dtype="float32",
                                           device=device)
    assert len(comparisons) == 2
    assert_comparisons_pass(comparisons)


@pytest.mark.parametrize("shape", [(1000, 4, 29, 150), (500, 2, 1024, 100)])
def test_torch_ctc_matches_the_oracle_on_a_real_size_lattice(device, shape):
    log_probs, targets, input_lengths, target_lengths = make_ctc_inputs(*shape, seed=1)
    input_lengths[1:] -= 11
    result = TorchCTCLoss()(log_probs, targets, input_lengths, target_lengths, reduction="none",
                            device=device)
    comparisons = ctc_backend_comparisons(result, log_probs, targets, input_lengths,
                                          target_lengths, blank=0, dtype="float32",
                                          device=device)
    assert len(comparisons) == 2
    assert_comparisons_pass(comparisons)
