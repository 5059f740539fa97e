"""optimized_transducer's `transducer_loss` (csukuangfj/optimized_transducer 1.4), when
importable.

PyPI has only its sdist, which does not build here as it stands: `scripts/
build_optimized_transducer.py --pypi 1.4` builds it with three build-only fixes (README,
Production backends). Detected at import: without it this backend reports "optimized_transducer
not installed".

Its conventions, as the real library behaves on the CPU: logits packed as
`(sum_b T_b (U_b + 1), V)` (each utterance's valid `(T_b, U_b + 1, V)` block, flattened and
concatenated: no padding ever reaches it), float32 only, int32 targets and lengths, blank
given (no default), `from_log_softmax=False` for logits, reductions "mean" (batch mean) and
"sum" only, both 0-d; no clamp. `TransducerLoss` (the module) cannot be called: its
`__init__` never calls `nn.Module.__init__` (AttributeError '_backward_hooks'); the function
`transducer_loss` works. With `from_log_softmax=False` and a logits tensor that requires grad,
it overwrites that tensor with its gradient (documented in its docstring): `rnnt_loss` below
packs into a fresh tensor, so the caller's logits are never touched.

Documented deviations: an all-empty batch raises (`max()` of an empty tensor); a padding
label out of range raises (it range-checks `targets.max()` over the whole tensor, padding
included); a second backward returns a rescaled gradient (backward scales the saved one in
place). A logit length
of 0 kills the process (signal 11), which the malformed-input table records.
"""

from __future__ import annotations

import torch

from rnnt_parity.backends.base import RNNTLossBackend, gradient_of, int32_trimmed_inputs
from rnnt_parity.backends.deviations import (
    EMPTY_TARGETS_REFUSED,
    PADDING_LABELS_REFUSED,
    SECOND_BACKWARD_RESCALES,
)

try:
    import optimized_transducer as _ot
except (ImportError, OSError) as error:  # absent, or built against another torch
    _ot = None
    _IMPORT_ERROR = ("optimized_transducer not installed" if isinstance(error, ModuleNotFoundError)
                     else f"optimized_transducer could not be imported: {error}")
else:
    _IMPORT_ERROR = None

DEVIATIONS = (EMPTY_TARGETS_REFUSED, PADDING_LABELS_REFUSED, SECOND_BACKWARD_RESCALES)


def pack(logits: torch.Tensor, logit_lengths, target_lengths) -> torch.Tensor:
    """`(B, T, U+1, V)` -> `(sum_b T_b (U_b + 1), V)`, each utterance's valid block in order
    (differentiable: the gradient flows back to `logits`, zero on the padding)."""
    return torch.cat([logits[b, :int(t), :int(u) + 1].reshape(-1, logits.shape[-1])
                      for b, (t, u) in enumerate(zip(logit_lengths, target_lengths,
                                                     strict=True))])


def rnnt_loss(logits, targets, logit_lengths, target_lengths, blank: int = 0,
              reduction: str = "mean"):
    """optimized_transducer's loss, called torchaudio-style on `(B, T, U+1, V)` logits (for
    `rnnt-parity conform`: `rnnt_parity.backends.optimized_transducer:rnnt_loss`)."""
    if _ot is None:
        raise RuntimeError(_IMPORT_ERROR)
    return _ot.transducer_loss(pack(logits, logit_lengths, target_lengths), targets,
                               logit_lengths, target_lengths, blank=blank,
                               from_log_softmax=False, reduction=reduction)


class OptimizedTransducerLoss(RNNTLossBackend):
    """reduction "none", which `transducer_loss` lacks: the per-utterance losses from the
    kernel its autograd Function wraps (`_optimized_transducer.compute_transducer_loss`,
    -scores), the gradient from a "sum" call."""

    name = "optimized_transducer"
    library = "optimized_transducer.transducer_loss"
    dtypes = {"cpu": ("float32",)}
    deviations = DEVIATIONS

    def unavailable_reason(self, device="cpu", dtype="float32"):
        return _IMPORT_ERROR or super().unavailable_reason(device, dtype)

    def _run(self, logits, targets, logit_lengths, target_lengths, blank, reduction, clamp):
        if clamp > 0:
            raise ValueError("optimized_transducer has no gradient clamp; pass clamp <= 0")
        leaf, targets, logit_lengths, target_lengths = int32_trimmed_inputs(
            logits, targets, logit_lengths, target_lengths)
        if reduction != "none":
            loss = rnnt_loss(leaf, targets, logit_lengths, target_lengths, blank, reduction)
            return loss, gradient_of(loss, leaf, logits.shape)
        total = rnnt_loss(leaf, targets, logit_lengths, target_lengths, blank, "sum")
        grad = gradient_of(total, leaf, logits.shape)
        import _optimized_transducer  # the kernel its autograd Function wraps

        scores, _ = _optimized_transducer.compute_transducer_loss(
            logits=pack(leaf.detach(), logit_lengths, target_lengths), targets=targets,
            logit_lengths=logit_lengths, target_lengths=target_lengths, blank=blank,
            from_log_softmax=False, one_sym_per_frame=False)
        return -scores, grad
