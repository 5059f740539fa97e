"""Layout adapters: every family's stage outputs in the canonical layout.

`stage_outputs(model, features, lengths, labels)` takes canonical inputs (features (B, T, F)
batch-first, lengths (B,), labels (B, U) in the model's own vocabulary) and returns float64
NumPy arrays: "encoder" (B, T', E), "prediction" (B, U+1, P), "joint" (B, T', U+1, V) raw
logits, "ctc" (B, T', V) raw logits when the model has a CTC head, and "lengths" (B,). Each
codebase's `stages` converts the inputs to its own layout (Myrtle: time-major; myrtlespeech:
(B, C, F, T) with the canonical feature index c*F + f; NeMo: channel-second, encodings as
input, raw logits before NeMo's own log_softmax). TF32 is off while they run.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch


@contextlib.contextmanager
def tf32_disabled():
    """TF32 off for cuBLAS matmuls and cuDNN (whose default allows it) inside the block, the
    previous settings restored after: comparisons hold float32 to float32's own rounding."""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


@torch.no_grad()
@tf32_disabled()
def stage_outputs(model: torch.nn.Module, features, lengths, labels) -> dict[str, np.ndarray]:
    from rnnt_parity.codebases import family, family_of

    parameter = next(model.parameters())
    x = torch.as_tensor(np.asarray(features), dtype=parameter.dtype, device=parameter.device)
    lengths = torch.as_tensor(np.asarray(lengths), device=parameter.device)
    labels = torch.as_tensor(np.asarray(labels), device=parameter.device)
    adapter = family(family_of(model)).stages
    if adapter is None:
        raise TypeError(f"no layout adapter for {type(model).__name__}")
    return {k: v.detach().double().cpu().numpy()
            for k, v in adapter(model, x, lengths, labels).items()}
