"""Parity on real-size lattices (marked slow: run with `pytest -m slow`, not by CI)."""

from __future__ import annotations

import numpy as np
import pytest

from reference_impls.ctc import ctc_logits_gradient, ctc_loss
from reference_impls.rnnt import rnnt_loss
from reference_impls.rnnt.spec import log_softmax
from rnnt_parity.backends import RNNT_LOSS_BACKENDS
from rnnt_parity.backends.torch_ctc import TorchCTCLoss
from rnnt_parity.bench import make_ctc_inputs, make_inputs
from rnnt_parity.compare import ctc_magnitudes, rnnt_magnitudes, tolerance_for
from tests.helpers import assert_within

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("shape", [(2, 300, 60, 512), (4, 150, 40, 1024)])
def test_torchaudio_matches_the_oracle_on_a_real_size_lattice(device, shape):
    logits, targets, logit_lengths, target_lengths = make_inputs(*shape, seed=1)
    logit_lengths[1:] -= 7
    target_lengths[1:] -= 3
    result = RNNT_LOSS_BACKENDS["torchaudio"](logits, targets, logit_lengths, target_lengths,
                                              reduction="none", device=device)
    loss, grad = rnnt_loss(logits.astype(np.float64), targets, logit_lengths, target_lengths,
                           reduction="none")
    magnitudes = rnnt_magnitudes(logits, logit_lengths, target_lengths, loss)
    assert_within(result.loss, loss, tolerance_for("float32", device, "rnnt.loss"), magnitudes)
    assert_within(result.grad, grad, tolerance_for("float32", device, "rnnt.grad"), magnitudes)


@pytest.mark.parametrize("shape", [(1000, 4, 29, 150), (500, 2, 1024, 100)])
def test_torch_ctc_matches_the_oracle_on_a_real_size_lattice(device, shape):
    log_probs, targets, input_lengths, target_lengths = make_ctc_inputs(*shape, seed=1)
    input_lengths[1:] -= 11
    result = TorchCTCLoss()(log_probs, targets, input_lengths, target_lengths, reduction="none",
                            device=device)
    exact = log_softmax(log_probs)
    loss, grad = ctc_loss(exact, targets, input_lengths, target_lengths, reduction="none")
    magnitudes = ctc_magnitudes(log_probs, input_lengths, loss)
    assert_within(result.loss, loss, tolerance_for("float32", device, "ctc.loss"), magnitudes)
    assert_within(result.grad, ctc_logits_gradient(exact, grad, input_lengths),
                  tolerance_for("float32", device, "ctc.grad"), magnitudes, batch_axis=1)
