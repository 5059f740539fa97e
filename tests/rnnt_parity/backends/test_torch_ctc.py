"""torch.nn.functional.ctc_loss (native, and cuDNN on CUDA) against the CTC oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from reference_impls.ctc import ctc_logits_gradient, ctc_loss
from rnnt_parity.backends import BackendUnavailable
from rnnt_parity.backends.torch_ctc import TorchCTCLoss, cudnn_refusal
from rnnt_parity.checks import ctc_backend_comparisons
from rnnt_parity.strategies import ctc_batches
from tests.helpers import assert_comparisons_pass

BACKEND = TorchCTCLoss()


def assert_matches_oracle(case, device, path="native", dtype="float32", **options):
    """torch on the case's log-probs used as logits vs the float64 oracle on the same input."""
    result = BACKEND(*case.arrays(), blank=case.blank, device=device, dtype=dtype, path=path,
                     **options)
    assert result.path == path
    assert_comparisons_pass(ctc_backend_comparisons(result, *case.arrays(), blank=case.blank,
                                                    dtype=dtype, device=device, **options))


reductions = st.sampled_from(["none", "sum", "mean"])


@given(case=ctc_batches(max_batch=3, max_frames=10, max_labels=5, max_classes=8,
                        feasible=True), reduction=reductions)
def test_torch_native_matches_the_oracle_in_float32(device, case, reduction):
    assert_matches_oracle(case, device, reduction=reduction)


@given(case=ctc_batches(max_batch=3, max_frames=10, max_labels=5, max_classes=8,
                        feasible=True), reduction=reductions)
def test_torch_native_matches_the_oracle_in_float64(device, case, reduction):
    assert_matches_oracle(case, device, dtype="float64", reduction=reduction)


@given(case=ctc_batches(max_batch=3, max_frames=6, max_labels=5, max_classes=4),
       reduction=reductions)
def test_torch_zero_infinity_matches_the_oracle_on_infeasible_targets(device, case, reduction):
    assert_matches_oracle(case, device, reduction=reduction, zero_infinity=True)


@pytest.mark.gpu
@given(case=ctc_batches(max_batch=3, max_frames=10, max_labels=5, max_classes=8,
                        feasible=True, full_lengths=True), reduction=reductions)
def test_torch_cudnn_matches_the_oracle(case, reduction):
    """blank 0, every input length = T, targets fit: cuDNN's path, checked to be the one run."""
    from dataclasses import replace

    case = replace(case, blank=0, targets=np.where(case.targets == 0, 1, case.targets))
    assert_matches_oracle(case, "cuda", path="cudnn", reduction=reduction)


def test_torchs_log_probs_gradient_is_exp_log_probs_away_from_the_true_derivative():
    """pytorch issue 52241: what torch returns as d loss / d log_probs is the logits gradient
    exp(lp) - occupancy; the true derivative (the oracle's) is -occupancy. The logits
    gradients agree."""
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((6, 2, 4))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    args = (np.array([[1, 2], [3, 3]]), np.array([6, 5]), np.array([2, 2]))
    result = BACKEND(log_probs, *args, reduction="sum", dtype="float64")
    _, true_grad = ctc_loss(log_probs, *args, reduction="sum")
    valid = np.arange(6)[:, None] < args[1][None, :]
    difference = result.torch_log_probs_grad - true_grad
    np.testing.assert_allclose(difference[valid], np.exp(log_probs)[valid], atol=1e-12)
    np.testing.assert_allclose(result.grad, ctc_logits_gradient(log_probs, true_grad, args[1]),
                               atol=1e-12)


def test_nan_padding_poisons_the_logits_gradient_through_log_softmax():
    """ctc_loss ignores frames past the input length (its own gradient there is 0), but
    log_softmax's backward computes 0 * exp(NaN) = NaN: NaN-padded logits give a NaN
    logits gradient on the padding. The oracle's helper gives 0 there."""
    logits = np.zeros((3, 2, 3))
    logits[2, 1] = np.nan
    args = (np.array([[1], [2]]), np.array([3, 2]), np.array([1, 1]))
    result = BACKEND(logits, *args, reduction="sum", dtype="float64")
    assert np.all(np.isfinite(result.loss))
    assert np.all(result.torch_log_probs_grad[2, 1] == 0.0)
    assert np.all(np.isnan(result.grad[2, 1]))
    log_probs = np.where(np.isnan(logits), np.nan, logits - np.log(3))
    _, grad = ctc_loss(log_probs, *args, reduction="sum")
    assert np.all(ctc_logits_gradient(log_probs, grad, args[1])[2, 1] == 0.0)


def test_native_path_is_the_one_reported_on_the_cpu():
    result = BACKEND(np.zeros((4, 1, 3)), np.array([[1, 2]]), np.array([4]), np.array([2]))
    assert result.path == "native"


@pytest.mark.parametrize("shape,targets,inputs,blank,reason", [
    ((5, 1, 3), [2], [5], 1, "blank = 0"),
    ((5, 2, 3), [2, 2], [5, 4], 0, "every input length equal to T"),
    ((300, 1, 3), [256], [300], 0, "below 256"),
    ((5, 1, 3), [6], [5], 0, "at most its input length"),
])
def test_cudnn_conditions_are_torchs_own(shape, targets, inputs, blank, reason):
    assert reason in cudnn_refusal(shape, np.array(targets), np.array(inputs), blank)


def test_cudnn_path_without_cuda_is_unavailable_with_the_reason():
    if torch.cuda.is_available():
        pytest.skip("this checks the CPU-only refusal")
    with pytest.raises(BackendUnavailable, match="cuDNN CTC runs on CUDA only"):
        BACKEND(np.zeros((4, 1, 3)), np.array([[1]]), np.array([4]), np.array([1]),
                path="cudnn")
