"""NVIDIA NeMo's RNN-T loss (`nemo.collections.asr.losses.rnnt.RNNTLoss`, its default
"warprnnt_numba" implementation, run on the CPU), when NeMo is importable.

NeMo is not a dependency: install it as README, Production backends says (`--no-deps`, then
the `nemo` extra). Importing NeMo's ASR collection takes seconds, so it is imported on first
use, never by `import rnnt_parity.backends`; without it this backend reports why.

Its conventions (NeMo 3.0.0): `RNNTLoss(num_classes, reduction="mean_batch")` called with
keywords only (`log_probs=`, `targets=`, `input_lengths=`, `target_lengths=`: NeMo's
typecheck refuses positional arguments); blank = num_classes, always the last index (the
adapter swaps another blank with the last one); logits, not log-probs, despite the argument's
name (on the CPU `RNNTLossNumba` applies log_softmax in Python over the whole tensor); any
integer lengths (cast to int64 inside); float32 (anything else is cast to float32);
reductions None, "sum", "mean_batch" (the batch mean), "mean" (each loss divided by its
target length, then the batch mean; a target of length 0 divides by 0) and "mean_volume";
"sum"/"mean_batch" are 0-d. Its backward saves the gradient with `save_for_backward` and
scales it in place, so a second backward is refused by autograd's version counter (which is
conforming).

Documented deviations: NaN in padding gives NaN in the padding's gradient (the log_softmax);
an utterance no alignment can produce gets loss NaN, not +inf (its kernel log-adds -inf).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import torch

from rnnt_parity.backends.base import RNNTLossBackend, gradient_of, int32_trimmed_inputs
from rnnt_parity.backends.deviations import IMPOSSIBLE_ALIGNMENT_NAN, NAN_PADDING_GRADIENT

NOT_INSTALLED = ("nemo not installed (pip install --no-deps nemo-toolkit==3.0.0, then "
                 "pip install 'rnnt-parity[nemo]')")
DEVIATIONS = (NAN_PADDING_GRADIENT, IMPOSSIBLE_ALIGNMENT_NAN)
REDUCTIONS = {"none": None, "sum": "sum", "mean": "mean_batch"}
"""The backend interface's reductions as NeMo's."""
_loaded: dict = {}


def _nemo_rnnt_loss_class():
    """NeMo's RNNTLoss class (imported once); RuntimeError with the reason if it cannot be."""
    if "class" not in _loaded:
        try:
            from nemo.collections.asr.losses.rnnt import RNNTLoss
        except Exception as error:  # ImportError, or NeMo failing inside its own imports
            _loaded["error"] = (f"nemo.collections.asr is not importable: "
                                f"{type(error).__name__}: {error}")
            _loaded["class"] = None
        else:
            _loaded["class"] = RNNTLoss
    if _loaded["class"] is None:
        raise RuntimeError(_loaded["error"])
    return _loaded["class"]


def rnnt_loss(logits, targets, logit_lengths, target_lengths, reduction: str | None = "mean_batch"):
    """NeMo's RNNTLoss(num_classes=V-1, reduction) called torchaudio-style: blank is the last
    index (for `rnnt-parity conform`: `rnnt_parity.backends.nemo_rnnt:rnnt_loss`)."""
    loss = _nemo_rnnt_loss_class()(num_classes=logits.shape[-1] - 1, reduction=reduction)
    return loss(log_probs=logits, targets=targets, input_lengths=logit_lengths,
                target_lengths=target_lengths)


def rnnt_loss_mean(logits, targets, logit_lengths, target_lengths):
    """NeMo's reduction="mean": each loss divided by its target length, then the batch mean."""
    return rnnt_loss(logits, targets, logit_lengths, target_lengths, reduction="mean")


class NeMoRNNTLoss(RNNTLossBackend):
    name = "nemo"
    library = "nemo.collections.asr.losses.rnnt.RNNTLoss (warprnnt_numba, CPU)"
    dtypes = {"cpu": ("float32",)}
    deviations = DEVIATIONS

    def unavailable_reason(self, device="cpu", dtype="float32"):
        if importlib.util.find_spec("nemo") is None:
            return NOT_INSTALLED
        reason = super().unavailable_reason(device, dtype)
        if reason is None:
            try:
                _nemo_rnnt_loss_class()
            except RuntimeError as error:
                return str(error)
        return reason

    def _run(self, logits, targets, logit_lengths, target_lengths, blank, reduction, clamp):
        if clamp > 0:
            raise ValueError("the nemo backend runs without NeMo's clamp; pass clamp <= 0")
        vocab = logits.shape[-1]
        order = np.arange(vocab)  # NeMo's blank is the last index: swap ours with it
        order[[blank, vocab - 1]] = order[[vocab - 1, blank]]
        targets = np.asarray(targets)
        in_range = (targets >= 0) & (targets < vocab)  # padding labels may be anything
        targets = torch.as_tensor(np.where(in_range, order[np.clip(targets, 0, vocab - 1)],
                                           targets))
        leaf, targets, logit_lengths, target_lengths = int32_trimmed_inputs(
            logits, targets, logit_lengths, target_lengths)
        index = torch.as_tensor(order, device=leaf.device)
        loss = rnnt_loss(leaf[..., index], targets, logit_lengths, target_lengths,
                         REDUCTIONS[reduction])
        return loss, gradient_of(loss, leaf, logits.shape)
