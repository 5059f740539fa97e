"""warprnnt_pytorch: parity and its documented deviations against the real library when it is
installed (`scripts/build_warprnnt.py`; `.ci/run` builds it from ../shared), and the adapter's
calling convention always, against a stand-in that behaves as the real binding does.

Without the real library its tests skip with "warprnnt_pytorch not installed". The stand-in
reproduces each observed behaviour of warp-transducer f546575's binding: `RNNTLoss(blank,
reduction)` called as (acts, labels, act_lens, label_lens) with int32 2-D labels; log_softmax
applied in Python over the whole tensor on the CPU (so NaN padding gives a NaN gradient
there); "sum"/"mean" of shape (1,), "mean" = sum / batch; a batch of empty targets (labels of
width 0) gives loss 0 and gradient 0; backward multiplies the saved gradient in place.
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
from rnnt_parity.backends.deviations import (
    EMPTY_TARGETS_RETURN_ZERO,
    NAN_PADDING_GRADIENT,
    SECOND_BACKWARD_RESCALES,
)
from rnnt_parity.checks import DEVIATES, FAIL, rnnt_backend_comparisons, run_checks
from rnnt_parity.compare import compare, tolerance_for
from rnnt_parity.conform.catalogue import judge, load_catalogue
from rnnt_parity.conform.rnnt_loss import (
    PRESETS,
    UserRNNTLoss,
    conform_rnnt_loss,
    run_empty_targets,
    run_nan_padding,
    run_second_backward,
)
from rnnt_parity.fixtures import load_rnnt_fixtures
from rnnt_parity.strategies import rnnt_batches
from tests.helpers import assert_comparisons_pass

lattices = rnnt_batches(max_batch=3, max_frames=6, max_labels=4, dtype=np.float32,
                        full_lengths=True).filter(lambda c: int(np.max(c.target_lengths)) > 0)
"""Random batches with at least one label (a batch of empty targets is a documented
deviation, tested on its own)."""
WARP_DEVIATIONS = {EMPTY_TARGETS_RETURN_ZERO, NAN_PADDING_GRADIENT, SECOND_BACKWARD_RESCALES}


def assert_backend_matches_oracle(backend, case, device, reduction):
    result = backend(*case.arrays(), blank=case.blank, reduction=reduction, device=device)
    comparisons = rnnt_backend_comparisons(result, *case.arrays(), blank=case.blank,
                                           dtype="float32", device=device, reduction=reduction)
    assert len(comparisons) == 2, "random lattices have finite losses: both are compared"
    assert_comparisons_pass(comparisons)


@pytest.fixture
def real_warp():
    """The real warprnnt_pytorch module; skips when it is not installed."""
    reason = warp_backend.WarpRNNTLoss().unavailable_reason("cpu")
    if reason is not None:
        pytest.skip(reason)
    import warprnnt_pytorch

    if getattr(warprnnt_pytorch, "STAND_IN", False):
        pytest.skip("warprnnt_pytorch is the stand-in here")
    return warprnnt_pytorch


def _int32(*arrays):
    return [torch.tensor(a, dtype=torch.int32) for a in arrays]


@pytest.mark.upstream
@given(case=lattices, reduction=st.sampled_from(["none", "sum", "mean"]))
def test_warprnnt_matches_the_oracle(device, case, reduction):
    backend = warp_backend.WarpRNNTLoss()
    reason = backend.unavailable_reason(device)
    if reason is not None:
        pytest.skip(reason)
    assert_backend_matches_oracle(backend, case, device, reduction)


@pytest.mark.upstream
def test_warprnnt_sum_and_mean_have_shape_1(real_warp):
    acts = torch.randn(2, 3, 2, 4)
    args = _int32([[1], [2]], [3, 2], [1, 1])
    assert [tuple(real_warp.rnnt_loss(acts, *args, reduction=r).shape)
            for r in ("none", "sum", "mean")] == [(2,), (1,), (1,)]


@pytest.mark.upstream
def test_warprnnt_reproduces_its_published_example(real_warp):
    fixture = next(f for f in load_rnnt_fixtures() if f.name == "warp_transducer_published_blank0")
    loss = real_warp.rnnt_loss(torch.tensor(fixture.logits, dtype=torch.float32),
                               *_int32(fixture.targets, fixture.logit_lengths,
                                       fixture.target_lengths), blank=0, reduction="none")
    assert compare(loss.double().numpy(), [4.4956665],
                   tolerance_for("published", "any", "published_float32")).passed


@pytest.mark.upstream
def test_warprnnt_gives_seed_003s_loss_on_the_logits_and_on_their_log_probs(real_warp):
    """Seed 003's comparison: warp-transducer and an independent loss (here the enumerated
    lattice) agree, and warp gives the same loss for logits and log_softmax(logits)."""
    fixture = next(f for f in load_rnnt_fixtures() if f.name.startswith("seed_003"))
    logits = torch.tensor(fixture.logits, dtype=torch.float32)
    args = _int32(fixture.targets, fixture.logit_lengths, fixture.target_lengths)
    magnitudes = np.abs(fixture.expected_loss)
    for inputs in (logits, torch.log_softmax(logits, -1)):
        loss = real_warp.rnnt_loss(inputs, *args, blank=fixture.blank, reduction="none")
        assert compare(loss.double().numpy(), fixture.expected_loss,
                       tolerance_for("float32", "cpu", "rnnt.loss"), magnitudes).passed


@pytest.mark.upstream
def test_warprnnt_returns_zero_for_a_batch_of_empty_targets(real_warp):
    """Documented deviation: its C call reports an error for the null label pointer of a
    width-0 labels tensor and the binding ignores it."""
    acts = torch.randn(2, 3, 1, 4, requires_grad=True)
    loss = real_warp.rnnt_loss(acts, *_int32(np.zeros((2, 0)), [3, 2], [0, 0]),
                               reduction="none")
    loss.sum().backward()
    assert not loss.any() and not acts.grad.any()


@pytest.mark.upstream
def test_warprnnt_nan_padding_gives_nan_gradient_on_the_padding_only(real_warp):
    acts = torch.randn(2, 4, 3, 5)
    acts[1, 3:] = float("nan")
    acts[1, :, 2:] = float("nan")
    acts.requires_grad_(True)
    loss = real_warp.rnnt_loss(acts, *_int32([[1, 2], [3, 1]], [4, 3], [2, 1]),
                               reduction="none")
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(acts.grad[0]).all()
    assert torch.isfinite(acts.grad[1, :3, :2]).all()
    assert torch.isnan(acts.grad[1, 3:]).all() and torch.isnan(acts.grad[1, :, 2:]).all()


@pytest.mark.upstream
def test_warprnnt_second_backward_returns_the_first_gradient_rescaled(real_warp):
    acts = torch.randn(2, 4, 3, 5, requires_grad=True)
    loss = real_warp.rnnt_loss(acts, *_int32([[1, 2], [3, 1]], [4, 3], [2, 1]), reduction="sum")
    (loss * 0.5).sum().backward(retain_graph=True)
    first = acts.grad.clone()
    acts.grad = None
    (loss * 0.5).sum().backward()
    assert torch.allclose(acts.grad, first * 0.5) and not torch.allclose(acts.grad, first)


@pytest.mark.upstream
def test_warprnnt_check_rows_pass_or_deviate_as_documented(real_warp):
    rows = list(run_checks(load_rnnt_fixtures(), backends=["warprnnt"], devices=["cpu"]))
    warp_rows = [r for r in rows if r.implementations.startswith("warprnnt")]
    assert not [r for r in rows if r.verdict == FAIL]
    assert {(r.check, r.detail.split(";")[0]) for r in warp_rows if r.verdict == DEVIATES} == {
        ("empty_target_only_blanks [float32, cpu]", f"documented: {EMPTY_TARGETS_RETURN_ZERO}"),
        ("padded_batch_nan_padding [padding gradient, float32, cpu]",
         f"documented: {NAN_PADDING_GRADIENT}")}


@pytest.fixture(scope="module")
def warp_report():
    if warp_backend.WarpRNNTLoss().unavailable_reason("cpu") is not None:
        pytest.skip(warp_backend.NOT_INSTALLED)
    return conform_rnnt_loss("warprnnt_pytorch:rnnt_loss", "warprnnt")


@pytest.mark.upstream
def test_warprnnt_conforms_under_its_preset_with_its_deviations_declared(warp_report):
    declared = {c.deviation for c in warp_report.checks if c.declared}
    assert warp_report.passed and declared == WARP_DEVIATIONS
    assert {c.name for c in warp_report.checks if c.declared} == {
        "fixture empty_target_only_blanks", "a batch of empty targets gets the oracle's loss",
        "NaN in the padding: the gradient there is 0", "second backward gives the same gradient"}


@pytest.mark.upstream
def test_the_catalogue_finds_warprnnt_deviating_as_documented(warp_report):
    entry = next(e for e in load_catalogue() if e.target == "warprnnt_pytorch:rnnt_loss")
    as_expected, verdict, evidence = judge(entry, warp_report)
    assert as_expected and verdict == "deviates as documented", evidence


@pytest.mark.upstream
def test_warprnnts_malformed_input_table_is_recorded(warp_report):
    outcomes = {r["defect"]: r["outcome"] for r in warp_report.bad_input}
    assert len(outcomes) == 8 and outcomes["lengths of the wrong batch size"] == "raises"
    assert outcomes["logit length 0"] == "returns"  # catalogued: uninitialised memory


def test_absent_warprnnt_is_reported_with_a_clear_reason(monkeypatch):
    monkeypatch.setattr(warp_backend, "_warprnnt", None)
    assert warp_backend.WarpRNNTLoss().unavailable_reason("cpu") == "warprnnt_pytorch not installed"


class _StandInRNNT(torch.autograd.Function):
    """warprnnt_pytorch's _RNNT: forward fills costs and grads (w.r.t. the log-probs it is
    given), reduces with shape (1,); backward scales the saved grads in place."""

    @staticmethod
    def forward(ctx, acts, labels, act_lens, label_lens, blank, reduction):
        assert labels.dim() == 2 and labels.dtype == torch.int32, "labels: 2-D int32"
        assert act_lens.dtype == torch.int32 and label_lens.dtype == torch.int32
        if acts.shape[1] != int(act_lens.max()) or acts.shape[2] != int(label_lens.max()) + 1:
            raise ValueError("Input length mismatch")
        grads = torch.zeros_like(acts)
        costs = torch.zeros(acts.shape[0], dtype=acts.dtype)
        if labels.shape[1] > 0:  # width 0: the C call fails on the null pointer, ignored
            with torch.enable_grad():
                leaf = acts.detach().requires_grad_(True)
                per_utterance = F.rnnt_loss(leaf, labels, act_lens, label_lens, blank=blank,
                                            reduction="none", fused_log_softmax=False)
                (grads,) = torch.autograd.grad(per_utterance.sum(), leaf)
            costs = per_utterance.detach()
        if reduction in ("sum", "mean"):
            costs = costs.sum().unsqueeze_(-1)
            if reduction == "mean":
                costs /= acts.shape[0]
                grads /= acts.shape[0]
        ctx.grads = grads
        return costs

    @staticmethod
    def backward(ctx, grad_output):
        return ctx.grads.mul_(grad_output.view(-1, 1, 1, 1)), None, None, None, None, None


def stand_in_rnnt_loss(acts, labels, act_lens, label_lens, blank=0, reduction="mean"):
    return _StandInRNNT.apply(torch.log_softmax(acts, -1), labels, act_lens, label_lens,
                              blank, reduction)


class StandInRNNTLoss(torch.nn.Module):
    def __init__(self, blank=0, reduction="mean"):
        super().__init__()
        self.blank, self.reduction = blank, reduction

    def forward(self, acts, labels, act_lens, label_lens):
        return stand_in_rnnt_loss(acts, labels, act_lens, label_lens, self.blank, self.reduction)


@pytest.fixture
def stand_in_warprnnt(monkeypatch):
    module = types.ModuleType("warprnnt_pytorch")
    module.RNNTLoss, module.rnnt_loss, module.STAND_IN = StandInRNNTLoss, stand_in_rnnt_loss, True
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


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_adapter_returns_a_0_d_loss_for_the_bindings_shape_1_reductions(stand_in_warprnnt,
                                                                        reduction):
    result = stand_in_warprnnt.WarpRNNTLoss()(
        np.zeros((2, 3, 2, 4), dtype=np.float32), np.ones((2, 1)), np.array([3, 2]),
        np.array([1, 1]), blank=0, reduction=reduction)
    assert result.loss.shape == ()


def test_the_stand_in_shows_each_documented_deviation_as_the_real_library_does(
        stand_in_warprnnt):
    user = UserRNNTLoss(stand_in_rnnt_loss, PRESETS["warprnnt"])
    outcomes = [run_empty_targets(user), run_nan_padding(user), run_second_backward(user)]
    assert [o.deviation for o in outcomes] == [EMPTY_TARGETS_RETURN_ZERO, NAN_PADDING_GRADIENT,
                                               SECOND_BACKWARD_RESCALES]


def test_adapter_refuses_clamp_which_warprnnt_lacks(stand_in_warprnnt):
    with pytest.raises(ValueError, match="no gradient clamp"):
        stand_in_warprnnt.WarpRNNTLoss()(np.zeros((1, 1, 1, 2), dtype=np.float32),
                                         np.zeros((1, 0), dtype=np.int64), np.array([1]),
                                         np.array([0]), clamp=1.0)
