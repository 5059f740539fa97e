"""torch.nn.functional.ctc_loss behind the oracle's conventions, with its path pinned.

torch has two CTC implementations: its own ("native", CPU and CUDA) and cuDNN's (CUDA).
cuDNN runs only when blank = 0, targets are 1-D concatenated int32 on the CPU, every input
length equals T, and every target length is below 256 and at most its input length. This
adapter builds the call so that the requested path is the one taken (native on CUDA: 2-D
targets on the device, cuDNN disabled) and reports which one actually ran, read from the
autograd graph (`CtcLossBackward0` or `CudnnCtcLossBackward0`).

Gradients: it feeds logits through log_softmax, so autograd gives the logits gradient; it
also returns what torch's ctc backward hands to log_softmax as "d loss / d log_probs", which
is exp(log_probs) - occupancy (scaled), not the true derivative (pytorch issue 52241).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from rnnt_parity.backends.base import TORCH_DTYPES, BackendUnavailable

CTC_PATHS = ("native", "cudnn")
BACKWARD_NODES = {"CtcLossBackward0": "native", "CudnnCtcLossBackward0": "cudnn"}


def path_taken(loss: torch.Tensor) -> set[str]:
    """Which CTC implementations the autograd graph of `loss` went through."""
    found, pending = set(), [loss.grad_fn]
    while pending:
        node = pending.pop()
        if node is None:
            continue
        if type(node).__name__ in BACKWARD_NODES:
            found.add(BACKWARD_NODES[type(node).__name__])
        pending.extend(next_node for next_node, _ in node.next_functions)
    return found


@dataclass(frozen=True)
class CTCResult:
    """loss: float64 (`(B,)` or 0-d); grad: d loss / d logits `(T, B, C)`; torch_log_probs_grad:
    torch's gradient at log_probs; path: the implementation that ran ("native" | "cudnn")."""

    loss: np.ndarray
    grad: np.ndarray
    torch_log_probs_grad: np.ndarray
    path: str


def cudnn_refusal(logits_shape, target_lengths, input_lengths, blank) -> str | None:
    """Why cuDNN's CTC cannot run on this input (torch's own conditions), or None.

    The input conditions are checked first, so that they can be tested without a GPU.
    """
    max_t = logits_shape[0]
    if blank != 0:
        return f"cuDNN CTC needs blank = 0, got {blank}"
    if np.any(np.asarray(input_lengths) != max_t):
        return "cuDNN CTC needs every input length equal to T"
    if np.any(np.asarray(target_lengths) >= 256):
        return "cuDNN CTC needs every target length below 256"
    if np.any(np.asarray(target_lengths) > np.asarray(input_lengths)):
        return "cuDNN CTC needs every target length at most its input length"
    if not torch.cuda.is_available():
        return "CUDA is not available"
    if not torch.backends.cudnn.is_available():
        return "cuDNN is not available"
    return None


class TorchCTCLoss:
    name = "torch"
    library = "torch.nn.functional.ctc_loss"
    dtypes = {"cpu": ("float32", "float64"), "cuda": ("float32", "float64")}

    def unavailable_reason(self, device="cpu", dtype="float32", path="native") -> str | None:
        if path not in CTC_PATHS:
            return f"unknown CTC path {path!r}; known: {CTC_PATHS}"
        if device not in self.dtypes:
            return f"torch CTC does not run on {device}"
        if dtype not in self.dtypes[device]:
            return f"torch CTC on {device} does not support {dtype}"
        if device == "cuda" and not torch.cuda.is_available():
            return "CUDA is not available"
        if path == "cudnn" and device != "cuda":
            return "cuDNN CTC runs on CUDA only"
        return None

    def __call__(self, logits, targets, input_lengths, target_lengths, *, blank=0,
                 reduction="mean", zero_infinity=False, device="cpu", dtype="float32",
                 path="native") -> CTCResult:
        """Run torch's CTC on `(T, B, C)` logits (log_softmax applied here) and padded targets.

        Raises:
            BackendUnavailable: the path, device or dtype cannot run here (with the reason).
        """
        reason = self.unavailable_reason(device, dtype, path)
        if reason is None and path == "cudnn":
            reason = cudnn_refusal(logits.shape, target_lengths, input_lengths, blank)
            if reason is None and dtype != "float32":
                reason = "cuDNN CTC needs float32"
        if reason is not None:
            raise BackendUnavailable(reason)
        blank = int(blank) % logits.shape[-1]
        leaf = torch.tensor(np.asarray(logits), dtype=TORCH_DTYPES[dtype], device=device,
                            requires_grad=True)
        log_probs = F.log_softmax(leaf, dim=-1)
        targets = np.asarray(targets)
        target_lengths = np.asarray(target_lengths)
        if path == "cudnn":
            flat = np.concatenate([targets[b, :n] for b, n in enumerate(target_lengths)])
            args = (torch.tensor(flat, dtype=torch.int32),
                    torch.tensor(input_lengths, dtype=torch.int32),
                    torch.tensor(target_lengths, dtype=torch.int32))
            cudnn_enabled = True
        else:
            args = (torch.tensor(targets, dtype=torch.long, device=device),
                    torch.tensor(input_lengths, dtype=torch.long, device=device),
                    torch.tensor(target_lengths, dtype=torch.long, device=device))
            cudnn_enabled = False
        with torch.backends.cudnn.flags(enabled=cudnn_enabled):
            loss = F.ctc_loss(log_probs, *args, blank=blank, reduction=reduction,
                              zero_infinity=zero_infinity)
        ran = path_taken(loss)
        if ran != {path}:
            raise RuntimeError(f"asked for the {path} CTC path, torch ran {sorted(ran)}")
        grad_logits, grad_log_probs = torch.autograd.grad(loss, (leaf, log_probs),
                                                          torch.ones_like(loss))
        return CTCResult(loss.detach().double().cpu().numpy(),
                         grad_logits.double().cpu().numpy(),
                         grad_log_probs.double().cpu().numpy(), path)
