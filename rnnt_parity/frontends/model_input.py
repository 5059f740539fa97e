"""From audio to a model's input rows: a named front end, then stacking or context windows.

`ModelInput` names every step a system applies before its encoder, so two systems' input
conventions can be listed side by side (`describe`) and their differences named:
    source      a feature source of `rnnt_parity.frontends.sources` ("myrtle", "kaldi",
                "lib:python_speech_features", ...), with `n_mels` overriding its default
    overrides   further `FrontEndConfig` fields of a reference preset ({"frame_length_s":
                0.025, "normalise": "all_features", ...}); a codebase's config sets them
    stack, subsample
                Myrtle/MLPerf frame stacking: row s = [x_{ks}, ..., x_{ks+stack-1}] for
                k = subsample (`reference_impls.features.stacking.stack_frames`), zeros past
                the end
    context, context_frames
                "none"; "symmetric" (rows [x_{t-k}, ..., x_{t+k}], k = context_frames,
                myrtlespeech); "left" (rows [x_{t-k+1}, ..., x_t], k = context_frames,
                deepspeech-internal); zeros outside the utterance
    context_first
                False: context windows of the stacked/subsampled frames (the order this
                project first used). True: windows of every frame first, then stacking and
                subsampling keep every k-th window (myrtlespeech ef42c3f's AddContextFrames,
                which subsamples by 2 inside the step).
    drop_leading_context
                windows of the context that are dropped from the start of each row (the
                DSI port at myrtlespeech 45899f7 drops t-2 of t-2..t+2: `x[:, 1:]`)
Rows concatenate their frames oldest first, each frame's F features contiguous: index
c*F + f, which is Myrtle's spliced frame and myrtlespeech's channel-major flattening of its
(C, F, T) context tensor. Output: float32 (T', F') rows and the length the codebase reports.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from reference_impls.features.config import FrontEndConfig
from reference_impls.features.stacking import gather_frames, stacked_length
from rnnt_parity.frontends.sources import compute_with_length, source_names

CONTEXTS = ("none", "symmetric", "left")
FRONT_END_FIELDS = frozenset(f.name for f in dataclasses.fields(FrontEndConfig)) - {"n_mels"}


@dataclass(frozen=True)
class ModelRows:
    """A model input: `rows` (T', F') float32 and `length`, the length the codebase reports
    (NeMo pads rows past it; elsewhere it equals T')."""

    rows: np.ndarray
    length: int


@dataclass(frozen=True)
class ModelInput:
    source: str = "myrtle"
    n_mels: int | None = 80
    stack: int = 3
    subsample: int = 3
    context: str = "none"
    context_frames: int = 0
    overrides: tuple = ()
    context_first: bool = False
    drop_leading_context: int = 0

    def __post_init__(self):
        if self.source not in source_names():
            raise ValueError(f"source must be one of {source_names()}, got {self.source!r}")
        object.__setattr__(self, "overrides", _frozen_overrides(self.overrides, self.source))
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
        if not isinstance(self.context_first, bool):
            raise ValueError(f"context_first must be true or false, got {self.context_first!r}")
        drop = self.drop_leading_context
        if isinstance(drop, bool) or not isinstance(drop, int) or not 0 <= drop < self.copies:
            raise ValueError(f"drop_leading_context must be an int in [0, {self.copies}) "
                             f"(the context's windows), got {drop!r}")

    @property
    def copies(self) -> int:
        """Frames concatenated per row by the context windows (before any are dropped)."""
        return {"none": 1, "symmetric": 2 * self.context_frames + 1,
                "left": self.context_frames}[self.context]

    @property
    def width(self) -> int | None:
        """F', the width of each row, when n_mels is known."""
        if self.n_mels is None:
            return None
        repeat = dict(self.overrides).get("feature_repeat", 1)
        return self.n_mels * repeat * self.stack * (self.copies - self.drop_leading_context)

    def describe(self) -> dict:
        """The fields as JSON-ready values (`ModelInput(**describe())` rebuilds it)."""
        values = dataclasses.asdict(self)
        values["overrides"] = dict(self.overrides)
        return values

    def rows(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        """Float32 (T', F') model input of a float64 [-1, 1] signal."""
        return self.rows_and_length(signal, sample_rate).rows

    def rows_and_length(self, signal: np.ndarray, sample_rate: int) -> ModelRows:
        """The rows and the length the codebase reports for them."""
        features = compute_with_length(self.source, signal, sample_rate, self.n_mels,
                                       dict(self.overrides))
        rows = gather_frames(features.features, self.offsets(), self.subsample)
        return ModelRows(rows.astype(np.float32, copy=False),
                         stacked_length(features.length, self.subsample))

    def offsets(self) -> list[int]:
        """Which front-end frames row s concatenates, relative to frame subsample * s.

        Context first: the windows of every frame, stacked, so frame k + c of window c of
        stacked frame k. Stacking first: the windows of the stacked frames, so frame
        subsample * c + k. Both are one `gather_frames` (zeros outside the utterance give
        the zeros past the end of each stage)."""
        context = {"none": [0], "symmetric": list(range(-self.context_frames,
                                                        self.context_frames + 1)),
                   "left": list(range(1 - self.context_frames, 1))}[self.context]
        context = context[self.drop_leading_context:]
        if self.context_first:
            return [k + c for k in range(self.stack) for c in context]
        return [self.subsample * c + k for c in context for k in range(self.stack)]


def _frozen_overrides(overrides, source: str) -> tuple:
    """`overrides` (a mapping or pairs) as sorted (name, value) pairs, names checked."""
    pairs = dict(overrides)
    if not pairs:
        return ()
    if source.startswith("lib:"):
        raise ValueError(f"overrides apply to reference presets, not to the library {source!r}")
    unknown = sorted(set(pairs) - FRONT_END_FIELDS)
    if unknown:
        raise ValueError(f"overrides: unknown front-end field(s) {unknown}; known: "
                         f"{sorted(FRONT_END_FIELDS)}")
    return tuple(sorted((name, tuple(v) if isinstance(v, list) else v)
                        for name, v in pairs.items()))
