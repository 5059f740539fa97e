"""One interface to every production RNN-T loss.

Each backend takes the oracle's conventions (NumPy arrays, `(B, T, U+1, V)` logits, blank
anywhere, torchaudio's reductions), translates them into the production library's own
conventions, runs it with autograd, and returns the loss and the gradient w.r.t. the logits
(never w.r.t. log-probs) as float64 NumPy arrays, so that any two are comparable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch

TORCH_DTYPES = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class LossAndGrad:
    """loss: float64, `(B,)` for reduction "none" else 0-d; grad: float64, logits' shape."""

    loss: np.ndarray
    grad: np.ndarray


class BackendUnavailable(RuntimeError):
    """The backend cannot run here (library not installed, device or dtype unsupported)."""


class RNNTLossBackend(ABC):
    """A production RNN-T loss behind the oracle's conventions."""

    name: str
    library: str
    dtypes: dict[str, tuple[str, ...]]
    deviations: tuple[str, ...] = ()
    """The named deviations (`backends.deviations`) the real library is documented to show."""

    def unavailable_reason(self, device: str = "cpu", dtype: str = "float32") -> str | None:
        """Why this backend cannot run on `device` with `dtype`, or None if it can."""
        if device not in self.dtypes:
            return f"{self.name} does not run on {device}"
        if dtype not in self.dtypes[device]:
            return f"{self.name} on {device} does not support {dtype}"
        if device == "cuda" and not torch.cuda.is_available():
            return "CUDA is not available"
        return None

    def __call__(self, logits, targets, logit_lengths, target_lengths, *, blank=-1,
                 reduction="mean", clamp=-1.0, device="cpu", dtype="float32") -> LossAndGrad:
        """Run the production loss on validated oracle-convention inputs.

        Args:
            logits: `(B, T, U+1, V)` float array (cast to `dtype` on `device`).
            targets, logit_lengths, target_lengths: integer arrays, torchaudio layout.
            blank: blank index, negative counting from the end.
            reduction: "none" | "sum" | "mean" (batch mean).
            clamp: torchaudio's gradient clamp (> 0 enables it).
            device: "cpu" or "cuda".
            dtype: "float16", "float32" or "float64".

        Raises:
            BackendUnavailable: with the reason, if it cannot run here.
        """
        reason = self.unavailable_reason(device, dtype)
        if reason is not None:
            raise BackendUnavailable(reason)
        vocab = logits.shape[-1]
        inputs = torch.tensor(np.asarray(logits), dtype=TORCH_DTYPES[dtype], device=device)
        loss, grad = self._run(inputs, np.asarray(targets), np.asarray(logit_lengths),
                               np.asarray(target_lengths), int(blank) % vocab, reduction,
                               float(clamp))
        return LossAndGrad(loss.detach().double().cpu().numpy(), grad.double().cpu().numpy())

    @abstractmethod
    def _run(self, logits, targets, logit_lengths, target_lengths, blank, reduction, clamp):
        """Return (reduced loss tensor, gradient of it w.r.t. `logits`)."""


def int32_trimmed_inputs(logits, targets, logit_lengths, target_lengths):
    """Production losses' common input contract: int32 labels and lengths on the logits'
    device, and no padding beyond the longest utterance (torchaudio #2196 rejects it).

    Returns `(leaf, targets, logit_lengths, target_lengths)`: `leaf` is the trimmed logits,
    requiring grad; the caller pads the gradient back to the full shape (`gradient_of`).
    """
    int32 = {"dtype": torch.int32, "device": logits.device}
    targets = torch.as_tensor(targets, **int32)
    logit_lengths = torch.as_tensor(logit_lengths, **int32)
    target_lengths = torch.as_tensor(target_lengths, **int32)
    max_t, max_u = int(logit_lengths.max()), int(target_lengths.max())
    leaf = logits[:, :max_t, : max_u + 1].contiguous().requires_grad_(True)
    return leaf, targets[:, :max_u].contiguous(), logit_lengths, target_lengths


def gradient_of(loss: torch.Tensor, leaf: torch.Tensor, full_shape) -> torch.Tensor:
    """d loss / d leaf (the gradient of the sum for an unreduced loss), zero-padded."""
    (grad,) = torch.autograd.grad(loss, leaf, torch.ones_like(loss))
    padded = torch.zeros(full_shape, dtype=grad.dtype, device=grad.device)
    padded[:, : grad.shape[1], : grad.shape[2]] = grad
    return padded


def valid_region_only(grad, logit_lengths, target_lengths) -> np.ndarray:
    """`(B, T, U+1, V)` gradient with every entry outside t < T_b, u <= U_b set to 0.

    Parity is judged on the valid region (the oracle's contract); what a loss puts on the
    padding is a check of its own (NaN there is `deviations.NAN_PADDING_GRADIENT`).
    """
    grad = np.asarray(grad)
    t = np.arange(grad.shape[1])[None, :, None] < np.asarray(logit_lengths)[:, None, None]
    u = np.arange(grad.shape[2])[None, None, :] <= np.asarray(target_lengths)[:, None, None]
    return np.where((t & u)[..., None], grad, 0.0)
