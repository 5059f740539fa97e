"""warp-transducer's PyTorch binding (`warprnnt_pytorch.RNNTLoss`), when installed.

It is not on PyPI: `scripts/build_warprnnt.py --source CLONE` builds it from the
warp-transducer sources (README, Production backends). Detected at import: without it this
backend reports "warprnnt_pytorch not installed".

Its conventions, as the real library (HawkAaron/warp-transducer f546575) behaves:
`RNNTLoss(blank=0, reduction="mean")`, called as `(acts, labels, act_lens, label_lens)` with
int32 2-D labels and int32 lengths; T must equal max(act_lens) and U max(label_lens) + 1.
"sum" and "mean" return shape (1,), not 0-d (the adapter returns 0-d, as every backend).
On the CPU the binding applies log_softmax in Python over the whole tensor and its kernel
returns the gradient w.r.t. those log-probs, so autograd through the log_softmax yields the
logits gradient; the CUDA kernel takes logits directly. Its "mean" is sum / batch size (its
docstring says it divides by target lengths; it does not). It has no clamp.

Documented deviations (`DEVIATIONS`; each a named check): an all-empty batch returns 0 and a
zero gradient silently; NaN in padding gives NaN in the padding's gradient (the log_softmax);
a second backward returns a rescaled gradient (its backward scales the saved one in place).
"""

from __future__ import annotations

from rnnt_parity.backends.base import RNNTLossBackend, gradient_of, int32_trimmed_inputs
from rnnt_parity.backends.deviations import (
    EMPTY_TARGETS_RETURN_ZERO,
    NAN_PADDING_GRADIENT,
    SECOND_BACKWARD_RESCALES,
)

try:
    import warprnnt_pytorch as _warprnnt
except ImportError:
    _warprnnt = None

NOT_INSTALLED = "warprnnt_pytorch not installed"
DEVIATIONS = (EMPTY_TARGETS_RETURN_ZERO, NAN_PADDING_GRADIENT, SECOND_BACKWARD_RESCALES)


class WarpRNNTLoss(RNNTLossBackend):
    name = "warprnnt"
    library = "warprnnt_pytorch.RNNTLoss"
    dtypes = {"cpu": ("float32", "float64"), "cuda": ("float32",)}
    deviations = DEVIATIONS

    def unavailable_reason(self, device="cpu", dtype="float32"):
        if _warprnnt is None:
            return NOT_INSTALLED
        return super().unavailable_reason(device, dtype)

    def _run(self, logits, targets, logit_lengths, target_lengths, blank, reduction, clamp):
        if clamp > 0:
            raise ValueError("warprnnt_pytorch has no gradient clamp; pass clamp <= 0")
        leaf, targets, logit_lengths, target_lengths = int32_trimmed_inputs(
            logits, targets, logit_lengths, target_lengths)
        loss = _warprnnt.RNNTLoss(blank=blank, reduction=reduction)(
            leaf, targets, logit_lengths, target_lengths)
        grad = gradient_of(loss, leaf, logits.shape)
        if reduction != "none":  # the binding returns (1,)
            if loss.numel() != 1:
                raise RuntimeError(f"warprnnt_pytorch returned shape {tuple(loss.shape)} for "
                                   f"reduction {reduction!r}; expected one value")
            loss = loss.reshape(())
        return loss, grad
