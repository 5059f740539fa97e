"""torchaudio.functional.rnnt_loss behind the backend interface.

Its conventions (torchaudio 2.11): logits `(B, T, U+1, V)` float32 (float16 on CUDA, float32
inside), int32 targets and lengths, blank default -1, fused log_softmax, "mean" = batch mean,
gradient w.r.t. the logits, clamp on the per-utterance gradient. It rejects padding beyond
the longest utterance (#2196, #2834), so the adapter trims it and pads the gradient back.
"""

from __future__ import annotations

from rnnt_parity.backends.base import RNNTLossBackend, gradient_of, int32_trimmed_inputs

try:
    import torchaudio.functional as _torchaudio_functional
except (ImportError, OSError) as error:
    _torchaudio_functional = None
    _IMPORT_ERROR = f"torchaudio could not be imported: {error}"
else:
    _IMPORT_ERROR = None


class TorchaudioRNNTLoss(RNNTLossBackend):
    name = "torchaudio"
    library = "torchaudio.functional.rnnt_loss"
    dtypes = {"cpu": ("float32",), "cuda": ("float32", "float16")}

    def unavailable_reason(self, device="cpu", dtype="float32"):
        return _IMPORT_ERROR or super().unavailable_reason(device, dtype)

    def _run(self, logits, targets, logit_lengths, target_lengths, blank, reduction, clamp):
        leaf, targets, logit_lengths, target_lengths = int32_trimmed_inputs(
            logits, targets, logit_lengths, target_lengths)
        loss = _torchaudio_functional.rnnt_loss(
            leaf, targets, logit_lengths, target_lengths, blank=blank, clamp=clamp,
            reduction=reduction, fused_log_softmax=True)
        return loss, gradient_of(loss, leaf, logits.shape)
