"""NeMo's RNN-T loss (warprnnt_numba on the CPU): parity and its documented behaviour, where
NeMo is importable (the `nemo` extra, README); skipped with the reason elsewhere.

NeMo's ASR collection takes seconds to import and its numba kernels compile on first use, so
these tests import it only through the backend's `unavailable_reason`.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnt_parity.backends.nemo_rnnt as nemo_backend
from rnnt_parity.backends.deviations import IMPOSSIBLE_ALIGNMENT_NAN, NAN_PADDING_GRADIENT
from rnnt_parity.checks import DEVIATES, FAIL, rnnt_backend_comparisons, run_checks
from rnnt_parity.conform.catalogue import judge, load_catalogue
from rnnt_parity.conform.rnnt_loss import conform_rnnt_loss
from rnnt_parity.fixtures import load_rnnt_fixtures
from rnnt_parity.strategies import rnnt_batches
from tests.helpers import assert_comparisons_pass

pytestmark = pytest.mark.upstream
TARGET = "rnnt_parity.backends.nemo_rnnt:rnnt_loss"
lattices = rnnt_batches(max_batch=3, max_frames=6, max_labels=4, dtype=np.float32,
                        full_lengths=True)
ARGS = ([[1, 2], [3, 1]], [4, 3], [2, 1])


@pytest.fixture(scope="module")
def nemo_available():
    reason = nemo_backend.NeMoRNNTLoss().unavailable_reason("cpu")
    if reason is not None:
        pytest.skip(reason)


def test_absent_nemo_is_reported_with_how_to_install_it(monkeypatch):
    monkeypatch.setattr(nemo_backend.importlib.util, "find_spec", lambda name: None)
    assert nemo_backend.NeMoRNNTLoss().unavailable_reason("cpu") == nemo_backend.NOT_INSTALLED


@settings(max_examples=40)
@given(case=lattices, reduction=st.sampled_from(["none", "sum", "mean"]))
def test_nemo_matches_the_oracle_with_its_blank_moved_to_the_last_index(nemo_available, case,
                                                                       reduction):
    result = nemo_backend.NeMoRNNTLoss()(*case.arrays(), blank=case.blank, reduction=reduction)
    comparisons = rnnt_backend_comparisons(result, *case.arrays(), blank=case.blank,
                                           dtype="float32", device="cpu", reduction=reduction)
    assert_comparisons_pass(comparisons)


def test_nemo_takes_int32_and_int64_lengths_alike(nemo_available):
    logits = torch.randn(2, 4, 3, 5)
    answers = [nemo_backend.rnnt_loss(logits, *(torch.tensor(a, dtype=dtype) for a in ARGS),
                                      reduction=None) for dtype in (torch.int32, torch.int64)]
    assert torch.equal(*answers)


def test_nemos_mean_divides_each_loss_by_its_target_length(nemo_available):
    logits = torch.randn(2, 4, 3, 5)
    args = [torch.tensor(a) for a in ARGS]
    losses = nemo_backend.rnnt_loss(logits, *args, reduction=None)
    assert torch.allclose(nemo_backend.rnnt_loss_mean(logits, *args),
                          (losses / args[2]).mean())


def test_nemo_nan_padding_gives_nan_gradient_on_the_padding_only(nemo_available):
    logits = torch.randn(2, 4, 3, 5)
    logits[1, 3:] = float("nan")
    logits[1, :, 2:] = float("nan")
    logits.requires_grad_(True)
    loss = nemo_backend.rnnt_loss(logits, *(torch.tensor(a) for a in ARGS), reduction=None)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(logits.grad[1, :3, :2]).all()
    assert torch.isnan(logits.grad[1, 3:]).all()


def test_nemo_gives_nan_not_inf_for_an_impossible_alignment(nemo_available):
    """Documented deviation: the one alignment of 'impossible_alignment_infinite_loss'
    needs a label of probability 0; the loss is +inf, NeMo's kernel returns NaN."""
    fixture = next(f for f in load_rnnt_fixtures() if f.name.startswith("impossible"))
    result = nemo_backend.NeMoRNNTLoss()(fixture.logits, fixture.targets, fixture.logit_lengths,
                                         fixture.target_lengths, blank=fixture.blank,
                                         reduction="none")
    assert np.isposinf(fixture.expected_loss).all() and np.isnan(result.loss).all()


def test_nemo_refuses_a_second_backward(nemo_available):
    """It scales its saved gradient in place, but saved with save_for_backward: autograd's
    version counter refuses the second backward instead of returning a wrong gradient."""
    logits = torch.randn(2, 4, 3, 5, requires_grad=True)
    loss = nemo_backend.rnnt_loss(logits, *(torch.tensor(a) for a in ARGS), reduction="sum")
    loss.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_nemo_check_rows_pass_or_deviate_as_documented(nemo_available):
    rows = list(run_checks(load_rnnt_fixtures(), backends=["nemo"], devices=["cpu"]))
    assert not [r for r in rows if r.verdict == FAIL]
    assert {(r.check, r.detail.split(";")[0]) for r in rows if r.verdict == DEVIATES} == {
        ("padded_batch_nan_padding [padding gradient, float32, cpu]",
         f"documented: {NAN_PADDING_GRADIENT}"),
        ("impossible_alignment_infinite_loss [float32, cpu]",
         f"documented: {IMPOSSIBLE_ALIGNMENT_NAN}")}


@pytest.mark.parametrize("target, convention", [
    (TARGET, "nemo"), ("rnnt_parity.backends.nemo_rnnt:rnnt_loss_mean", "auto")])
def test_the_catalogue_finds_nemo_deviating_as_documented(nemo_available, target, convention):
    """Under its preset, and with reduction="mean" auto-detected and compared through its
    documented definition (each loss over its target length, then the batch mean)."""
    report = conform_rnnt_loss(target, convention)
    entry = next(e for e in load_catalogue() if e.target == target)
    as_expected, verdict, evidence = judge(entry, report)
    assert as_expected and verdict == "deviates as documented", evidence
    if convention == "auto":
        assert report.convention["reduction"] == "mean_over_target_lengths"
        assert set(report.convention["length_dtypes"]) == {"int32", "int64"}
