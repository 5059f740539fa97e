"""optimized_transducer: parity and its documented deviations against the real library when it
is importable (`scripts/build_optimized_transducer.py --pypi 1.4`); skipped with
"optimized_transducer not installed" elsewhere. The packing its layout needs is tested always.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import rnnt_parity.backends.optimized_transducer as ot_backend
from rnnt_parity.backends.deviations import (
    EMPTY_TARGETS_REFUSED,
    PADDING_LABELS_REFUSED,
    SECOND_BACKWARD_RESCALES,
)
from rnnt_parity.checks import DEVIATES, FAIL, rnnt_backend_comparisons, run_checks
from rnnt_parity.conform.catalogue import judge, load_catalogue
from rnnt_parity.conform.rnnt_loss import conform_rnnt_loss
from rnnt_parity.fixtures import load_rnnt_fixtures
from rnnt_parity.strategies import rnnt_batches
from tests.helpers import assert_comparisons_pass

TARGET = "rnnt_parity.backends.optimized_transducer:rnnt_loss"
lattices = rnnt_batches(max_batch=3, max_frames=6, max_labels=4, dtype=np.float32,
                        full_lengths=True).filter(lambda c: int(np.max(c.target_lengths)) > 0)


@pytest.fixture
def real_ot():
    reason = ot_backend.OptimizedTransducerLoss().unavailable_reason("cpu")
    if reason is not None:
        pytest.skip(reason)
    return ot_backend._ot


def _int32(*arrays):
    return [torch.tensor(a, dtype=torch.int32) for a in arrays]


def test_pack_lays_out_each_utterances_valid_block_in_order():
    logits = torch.arange(2 * 3 * 3 * 2, dtype=torch.float32).reshape(2, 3, 3, 2)
    packed = ot_backend.pack(logits, [3, 2], [2, 1])
    assert packed.shape == (3 * 3 + 2 * 2, 2)
    assert torch.equal(packed[:9], logits[0].reshape(9, 2))
    assert torch.equal(packed[9:], logits[1, :2, :2].reshape(4, 2))


@pytest.mark.upstream
@given(case=lattices, reduction=st.sampled_from(["none", "sum", "mean"]))
def test_optimized_transducer_matches_the_oracle(real_ot, case, reduction):
    result = ot_backend.OptimizedTransducerLoss()(*case.arrays(), blank=case.blank,
                                                  reduction=reduction)
    comparisons = rnnt_backend_comparisons(result, *case.arrays(), blank=case.blank,
                                           dtype="float32", device="cpu", reduction=reduction)
    assert len(comparisons) == 2
    assert_comparisons_pass(comparisons)


@pytest.mark.upstream
def test_optimized_transducer_refuses_a_batch_of_empty_targets(real_ot):
    with pytest.raises(RuntimeError, match="max"):
        ot_backend.rnnt_loss(torch.randn(2, 3, 1, 4), *_int32(np.zeros((2, 0)), [3, 2], [0, 0]),
                             reduction="sum")


@pytest.mark.upstream
def test_optimized_transducer_refuses_a_padding_label_out_of_range(real_ot):
    with pytest.raises(RuntimeError, match="targets.max"):
        ot_backend.rnnt_loss(torch.randn(2, 3, 3, 4), *_int32([[1, 2], [3, 99]], [3, 2], [2, 1]),
                             reduction="sum")


@pytest.mark.upstream
def test_optimized_transducer_second_backward_returns_the_first_gradient_rescaled(real_ot):
    logits = torch.randn(2, 4, 3, 5, requires_grad=True)
    loss = ot_backend.rnnt_loss(logits, *_int32([[1, 2], [3, 1]], [4, 3], [2, 1]),
                                reduction="sum")
    (loss * 0.5).backward(retain_graph=True)
    first = logits.grad.clone()
    logits.grad = None
    (loss * 0.5).backward()
    assert torch.allclose(logits.grad, first * 0.5) and not torch.allclose(logits.grad, first)


@pytest.mark.upstream
def test_optimized_transducer_overwrites_packed_logits_with_their_gradient(real_ot):
    """Its docstring's caution; `rnnt_loss` packs into a fresh tensor, so a caller's logits
    are never touched."""
    logits = torch.randn(1, 3, 2, 4)
    packed = logits.reshape(-1, 4).clone().requires_grad_(True)
    before = packed.detach().clone()
    real_ot.transducer_loss(packed, *_int32([[1]], [3], [1]), blank=0, from_log_softmax=False,
                            reduction="sum")
    assert not torch.equal(packed.detach(), before)
    kept = logits.clone().requires_grad_(True)
    ot_backend.rnnt_loss(kept, *_int32([[1]], [3], [1]), reduction="sum").backward()
    assert torch.equal(kept.detach(), logits)


@pytest.mark.upstream
def test_optimized_transducers_loss_module_cannot_be_called(real_ot):
    """`TransducerLoss.__init__` never calls `nn.Module.__init__`."""
    with pytest.raises(AttributeError, match="_backward_hooks"):
        real_ot.TransducerLoss(blank=0)(torch.randn(3, 4), *_int32([[1]], [3], [0]),
                                        from_log_softmax=False)


@pytest.mark.upstream
def test_optimized_transducer_check_rows_pass_or_deviate_as_documented(real_ot):
    rows = list(run_checks(load_rnnt_fixtures(), backends=["optimized_transducer"],
                           devices=["cpu"]))
    assert not [r for r in rows if r.verdict == FAIL]
    assert {(r.check, r.detail.split(";")[0]) for r in rows if r.verdict == DEVIATES} == {
        ("empty_target_only_blanks [float32, cpu]", f"documented: {EMPTY_TARGETS_REFUSED}"),
        ("padded_batch_nan_padding [float32, cpu]", f"documented: {PADDING_LABELS_REFUSED}")}


@pytest.fixture(scope="module")
def ot_report():
    if ot_backend.OptimizedTransducerLoss().unavailable_reason("cpu") is not None:
        pytest.skip("optimized_transducer not installed")
    return conform_rnnt_loss(TARGET, "optimized_transducer")


@pytest.mark.upstream
def test_optimized_transducer_conforms_under_its_preset_with_its_deviations_declared(ot_report):
    assert ot_report.passed
    assert {c.deviation for c in ot_report.checks if c.declared} == {EMPTY_TARGETS_REFUSED,
                                                                     SECOND_BACKWARD_RESCALES}


@pytest.mark.upstream
def test_the_catalogue_finds_optimized_transducer_deviating_as_documented(ot_report):
    entry = next(e for e in load_catalogue() if e.target == TARGET)
    as_expected, verdict, evidence = judge(entry, ot_report)
    assert as_expected and verdict == "deviates as documented", evidence


@pytest.mark.upstream
def test_a_logit_length_of_0_kills_optimized_transducers_process(ot_report):
    outcomes = {r["defect"]: r for r in ot_report.bad_input}
    assert outcomes["logit length 0"]["outcome"] == "crashes"
    assert "signal 11" in outcomes["logit length 0"]["detail"]
    assert len(outcomes) == 8
