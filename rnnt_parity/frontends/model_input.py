"""From audio to a model's input rows: a named front end, then stacking or context windows.

`ModelInput` names every step a system applies before its encoder, so two systems' input
conventions can be listed side by side (`describe`) and their differences named:
    source      a feature source of `rnnt_parity.frontends.sources` ("myrtle", "kaldi",
                "lib:python_speech_features", ...), with `n_mels` overriding its default
    stack, subsample
                Myrtle/MLPerf frame stacking: row s = [x_{ks}, ..., x_{ks+stack-1}] for
                k = subsample (`reference_impls.features.stacking.stack_frames`)
    context, context_frames
                "none"; "symmetric" (rows [x_{t-k}, ..., x_{t+k}], k = context_frames,
                myrtlespeech); "left" (rows [x_{t-k+1}, ..., x_t], k = context_frames,
                deepspeech-internal); applied after stacking, zeros outside the utterance
Output: float32 (T', F') rows, frame-major concatenation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from reference_impls.features.stacking import left_context, stack_frames, symmetric_context
from rnnt_parity.frontends.sources import compute, source_names

CONTEXTS = ("none", "symmetric", "left")


@dataclass(frozen=True)
class ModelInput:
    source: str = "myrtle"
    n_mels: int | None = 80
    stack: int = 3
    subsample: int = 3
    context: str = "none"
    context_frames: int = 0

    def __post_init__(self):
        if self.source not in source_names():
            raise ValueError(f"source must be one of {source_names()}, got {self.source!r}")
        for name in ("stack", "subsample"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.context not in CONTEXTS:
            raise ValueError(f"context must be one of {CONTEXTS}, got {self.context!r}")
        if self.context != "none" and (not isinstance(self.context_frames, int)
                                       or self.context_frames < 1):
            raise ValueError(f"context {self.context!r} needs context_frames >= 1, got "
                             f"{self.context_frames!r}")

    @property
    def width(self) -> int | None:
        """F', the width of each row, when n_mels is known."""
        if self.n_mels is None:
            return None
        copies = {"none": 1, "symmetric": 2 * self.context_frames + 1,
                  "left": self.context_frames}[self.context]
        return self.n_mels * self.stack * copies

    def describe(self) -> dict:
        return asdict(self)

    def rows(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """Float32 (T', F') model input of a float64 [-1, 1] signal."""
        x = compute(self.source, signal, sample_rate, self.n_mels).features
        x = stack_frames(x, self.stack, self.subsample)
        if self.context == "symmetric":  # (C, F, T) -> rows t = [x_{t-k}, ..., x_{t+k}]
            x = symmetric_context(x, self.context_frames).transpose(2, 0, 1)
            x = x.reshape(x.shape[0], -1)
        elif self.context == "left":
            x = left_context(x, self.context_frames)
        return x.astype(np.float32)
