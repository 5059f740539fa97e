"""warp-transducer's PyTorch binding (`warprnnt_pytorch.RNNTLoss`), when installed.

It is not on PyPI; build it from the warp-transducer sources (pytorch_binding/) to use it.
Detected at import: without it this backend reports "warprnnt_pytorch not installed".

Its conventions: `RNNTLoss(blank=0, reduction="mean")`, called as `(acts, labels, act_lens,
label_lens)` with int32 2-D labels and int32 lengths. On the CPU the binding applies
log_softmax in Python and its kernel returns the gradient w.r.t. those log-probs, so autograd
through the log_softmax yields the logits gradient; the CUDA kernel takes logits directly. Its
"mean" is sum / batch size (its docstring says it divides by target lengths; it does not).
It has no clamp.
"""

from __future__ import annotations

from rnnt_parity.backends.base import RNNTLossBackend, gradient_of, int32_trimmed_inputs

try:
    import warprnnt_pytorch as _warprnnt
except ImportError:
    _warprnnt = None

NOT_INSTALLED = "warprnnt_pytorch not installed"


class WarpRNNTLoss(RNNTLossBackend):
    name = "warprnnt"
    library = "warprnnt_pytorch.RNNTLoss"
    dtypes = {"cpu": ("float32", "float64"), "cuda": ("float32",)}

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
        return loss, gradient_of(loss, leaf, logits.shape)
