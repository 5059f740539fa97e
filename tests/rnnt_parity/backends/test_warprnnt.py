"""warprnnt_pytorch (optional): parity when installed; the adapter's calling convention always.

warp-transducer is not on PyPI. Without it the parity test skips with "warprnnt_pytorch not
installed"; the adapter is still exercised against a stand-in module with warprnnt_pytorch's
API (RNNTLoss(blank, reduction) called as (acts, labels, act_lens, label_lens), int32 2-D
labels, log_softmax applied in Python on the CPU, 'mean' = sum / batch).
"""

from __future__ import annotations

import importlib
import sys
import types

import numpy as np
import pytest
import torch
import torchaudio.functional as F
from hypothesis import given
from hypothesis import strategies as st

import rnnt_parity.backends.warprnnt as warp_backend
from rnnt_parity.checks import rnnt_backend_comparisons
from rnnt_parity.strategies import rnnt_batches
from tests.helpers import assert_comparisons_pass

lattices = rnnt_batches(max_batch=3, max_frames=6, max_labels=4, dtype=np.float32,
                        full_lengths=True)


def assert_backend_matches_oracle(backend, case, device, reduction):
    result = backend(*case.arrays(), blank=case.blank, reduction=reduction, device=device)
    comparisons = rnnt_backend_comparisons(result, *case.arrays(), blank=case.blank,
                                           dtype="float32", device=device, reduction=reduction)
    assert len(comparisons) == 2, "random lattices have finite losses: both are compared"
    assert_comparisons_pass(comparisons)


@given(case=lattices, reduction=st.sampled_from(["none", "sum", "mean"]))
def test_warprnnt_matches_the_oracle(device, case, reduction):
    backend = warp_backend.WarpRNNTLoss()
    reason = backend.unavailable_reason(device)
    if reason is not None:
        pytest.skip(reason)
    assert_backend_matches_oracle(backend, case, device, reduction)


def test_absent_warprnnt_is_reported_with_a_clear_reason(monkeypatch):
    monkeypatch.setattr(warp_backend, "_warprnnt", None)
    assert warp_backend.WarpRNNTLoss().unavailable_reason("cpu") == "warprnnt_pytorch not installed"


class StandInRNNTLoss(torch.nn.Module):
    """warprnnt_pytorch.RNNTLoss's contract, computed with torchaudio on log-probs."""

    def __init__(self, blank=0, reduction="mean"):
        super().__init__()
        self.blank, self.reduction = blank, reduction

    def forward(self, acts, labels, act_lens, label_lens):
        assert labels.dim() == 2 and labels.dtype == torch.int32, "labels: 2-D int32"
        assert act_lens.dtype == torch.int32 and label_lens.dtype == torch.int32
        assert acts.shape[1] == int(act_lens.max()) and acts.shape[2] == int(label_lens.max()) + 1
        assert self.blank >= 0, "warp-transducer takes a non-negative blank"
        log_probs = torch.nn.functional.log_softmax(acts, -1)
        costs = F.rnnt_loss(log_probs, labels, act_lens, label_lens, blank=self.blank,
                            reduction="none", fused_log_softmax=False)
        if self.reduction == "none":
            return costs
        return costs.sum() / (acts.shape[0] if self.reduction == "mean" else 1)


@pytest.fixture
def stand_in_warprnnt(monkeypatch):
    module = types.ModuleType("warprnnt_pytorch")
    module.RNNTLoss = StandInRNNTLoss
    monkeypatch.setitem(sys.modules, "warprnnt_pytorch", module)
    yield importlib.reload(warp_backend)
    monkeypatch.undo()
    importlib.reload(warp_backend)


@given(case=lattices, reduction=st.sampled_from(["none", "sum", "mean"]))
def test_adapter_speaks_warprnnt_pytorchs_calling_convention(stand_in_warprnnt, case,
                                                             reduction):
    backend = stand_in_warprnnt.WarpRNNTLoss()
    assert backend.unavailable_reason("cpu") is None
    assert_backend_matches_oracle(backend, case, "cpu", reduction)


def test_adapter_refuses_clamp_which_warprnnt_lacks(stand_in_warprnnt):
    with pytest.raises(ValueError, match="no gradient clamp"):
        stand_in_warprnnt.WarpRNNTLoss()(np.zeros((1, 1, 1, 2), dtype=np.float32),
                                         np.zeros((1, 0), dtype=np.int64), np.array([1]),
                                         np.array([0]), clamp=1.0)
