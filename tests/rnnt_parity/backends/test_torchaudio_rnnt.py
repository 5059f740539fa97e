"""torchaudio.functional.rnnt_loss against the oracle, and what it does with bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchaudio.functional as F
from hypothesis import given
from hypothesis import strategies as st

from reference_impls.rnnt import rnnt_loss
from rnnt_parity.backends import RNNT_LOSS_BACKENDS, BackendUnavailable
from rnnt_parity.checks import rnnt_backend_comparisons
from rnnt_parity.fixtures import load_rnnt_fixtures
from rnnt_parity.strategies import rnnt_batches
from tests.helpers import assert_comparisons_pass

BACKEND = RNNT_LOSS_BACKENDS["torchaudio"]
FIXTURES = [f for f in load_rnnt_fixtures() if not f.fastemit_lambda]


def assert_matches_oracle(case, device, dtype="float32", **options):
    """Loss and logits-gradient of torchaudio vs the float64 oracle on the same rounded input."""
    result = BACKEND(*case.arrays(), blank=case.blank, device=device, dtype=dtype, **options)
    comparisons = rnnt_backend_comparisons(result, *case.arrays(), blank=case.blank,
                                           dtype=dtype, device=device, **options)
    assert len(comparisons) == 2, "random lattices have finite losses: both are compared"
    assert_comparisons_pass(comparisons)


@given(case=rnnt_batches(max_batch=3, max_frames=8, max_labels=5, max_vocab=8,
                         dtype=np.float32, full_lengths=True),
       reduction=st.sampled_from(["none", "sum", "mean"]))
def test_torchaudio_matches_the_oracle_on_random_lattices(device, case, reduction):
    assert_matches_oracle(case, device, reduction=reduction)


@given(case=rnnt_batches(max_batch=2, max_frames=6, max_labels=4, dtype=np.float32,
                         logit_bound=20.0, full_lengths=True),
       clamp=st.sampled_from([0.01, 0.1, 0.5]))
def test_torchaudio_clamp_matches_the_oracle(device, case, clamp):
    """Same clamp semantics: clip each utterance's logits gradient, then scale by 1/B."""
    assert_matches_oracle(case, device, reduction="mean", clamp=clamp)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_torchaudio_matches_the_oracle_on_every_fixture(device, fixture):
    result = BACKEND(fixture.logits, fixture.targets, fixture.logit_lengths,
                     fixture.target_lengths, blank=fixture.blank, reduction="none", device=device)
    assert_comparisons_pass(rnnt_backend_comparisons(
        result, fixture.logits, fixture.targets, fixture.logit_lengths, fixture.target_lengths,
        blank=fixture.blank, dtype="float32", device=device))
    if not fixture.loss_is_finite:
        assert np.all(np.isnan(result.grad[0, :1, :2])), "torchaudio's gradient at P = 0 is NaN"


@pytest.mark.gpu
@given(case=rnnt_batches(max_batch=3, max_frames=8, max_labels=5, max_vocab=8,
                         dtype=np.float32, full_lengths=True))
def test_torchaudio_float16_on_cuda_matches_the_oracle(case):
    """fp16 input on CUDA (fp32 inside), against the oracle on the same fp16-rounded input."""
    assert_matches_oracle(case, "cuda", dtype="float16", reduction="none")


def test_backend_refuses_a_dtype_torchaudio_does_not_support():
    assert "does not support float64" in BACKEND.unavailable_reason("cpu", "float64")
    with pytest.raises(BackendUnavailable, match="float64"):
        BACKEND(np.zeros((1, 1, 1, 2)), np.zeros((1, 0), dtype=np.int64), np.array([1]),
                np.array([0]), dtype="float64")


def test_backend_accepts_padding_beyond_the_longest_utterance():
    """torchaudio rejects T > max(logit_lengths) (#2196); the adapter trims and re-pads."""
    logits = np.random.default_rng(0).standard_normal((1, 5, 4, 3)).astype(np.float32)
    result = BACKEND(logits, np.array([[1, 2, 1]]), np.array([3]), np.array([1]), blank=0,
                     reduction="none")
    assert result.grad.shape == logits.shape
    assert np.all(result.grad[0, 3:] == 0) and np.all(result.grad[0, :, 2:] == 0)


# What torchaudio itself does with input the oracle rejects (documented in the README).

def int32(values):
    return torch.tensor(values, dtype=torch.int32)


def test_torchaudio_itself_rejects_padding_beyond_the_maximum_lengths():
    with pytest.raises(RuntimeError, match="input length mismatch"):
        F.rnnt_loss(torch.zeros(1, 4, 3, 4), int32([[1, 2]]), int32([3]), int32([2]), blank=0)


def test_torchaudio_accepts_blank_inside_targets_and_returns_a_number():
    loss = F.rnnt_loss(torch.zeros(1, 3, 3, 4), int32([[1, 0]]), int32([3]), int32([2]), blank=0)
    assert torch.isfinite(loss)
    with pytest.raises(ValueError, match="equals the blank index"):
        rnnt_loss(np.zeros((1, 3, 3, 4)), np.array([[1, 0]]), np.array([3]), np.array([2]),
                  blank=0)


def test_torchaudio_accepts_logit_length_zero_without_error():
    """The length-0 utterance's 'loss' is whatever was in memory (seen here: -6e-26,
    -4.6e-41, -4.5e+21, -1.4e+08), so only the absence of an error can be asserted; the
    oracle raises instead."""
    torch.manual_seed(0)
    losses = F.rnnt_loss(torch.randn(2, 3, 3, 4), int32([[1, 2], [1, 2]]), int32([3, 0]),
                         int32([2, 2]), blank=0, reduction="none")
    assert losses.shape == (2,)
    with pytest.raises(ValueError, match=r"logit_lengths\[1\] = 0"):
        rnnt_loss(np.zeros((2, 3, 3, 4)), np.ones((2, 2), dtype=np.int64), np.array([3, 0]),
                  np.array([2, 2]), blank=0)


def test_torchaudio_unfused_with_raw_logits_returns_a_negative_loss():
    """fused_log_softmax=False trusts its input to be log-probs; raw logits give nonsense."""
    torch.manual_seed(0)
    loss = F.rnnt_loss(5 * torch.randn(1, 3, 3, 4), int32([[1, 2]]), int32([3]), int32([2]),
                       blank=0, fused_log_softmax=False)
    assert loss < 0


def test_torchaudio_returns_nan_for_nan_in_the_valid_region():
    logits = torch.zeros(1, 3, 3, 4)
    logits[0, 0, 0, 0] = float("nan")
    assert torch.isnan(F.rnnt_loss(logits, int32([[1, 2]]), int32([3]), int32([2]), blank=0))
