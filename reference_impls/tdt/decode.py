"""Greedy TDT decoding on the canonical NumPy model (Xu et al. 2023, "Efficient Sequence
Transduction by Jointly Predicting Tokens and Durations", section 3.2, greedy inference).

A TDT joint (`CanonicalConfig.durations` non-empty) gives, at frame t and prediction output
g, V token logits (blank among them) and one logit per duration. Each step takes the
token argmax and, independently, the duration argmax (ties go to the lowest index; the
duration log-softmax does not change the argmax), then:

* a non-blank token is emitted at frame t with its duration d, and advances the prediction
  network; time moves to t + d. A token with d = 0 stays on the frame: it counts against
  `max_symbols_per_frame`, and when that budget is spent time moves to t + 1;
* blank moves time to t + d, or to t + 1 when d = 0 (blank leaves the prediction state as
  it was, so staying would predict the same blank again).

This is NeMo's label-looping `GreedyBatchedTDTInfer` and, since NVIDIA-NeMo/Speech#16096,
its per-utterance `GreedyTDTInfer`. Before that fix (NeMo 3.0.0 included) `GreedyTDTInfer`
moved time one more frame whenever the budget was spent, even after a step that had
already moved time by its duration (NVIDIA-NeMo/Speech#16095): with a budget of 1 every
step moved d + 1 frames. `max_symbols_per_frame=None` is unlimited; a frame that emits
UNLIMITED_GUARD tokens of duration 0 raises instead of looping forever.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference_impls.models.canonical import CanonicalConfig, joint_step, prediction_step
from reference_impls.rnnt.decode import UNLIMITED_GUARD, check_budget


@dataclass(frozen=True)
class TDTHypothesis:
    """A greedy TDT hypothesis: each token with the frame it was emitted at (NeMo's
    timestamp) and the duration predicted with it (NeMo's token duration)."""

    tokens: tuple[int, ...]
    frames: tuple[int, ...]
    durations: tuple[int, ...]


def check_tdt_joint(config: CanonicalConfig) -> None:
    """ValueError unless `config` has a TDT joint."""
    if not config.durations:
        raise ValueError("config has an RNN-T joint (no durations): decode it with "
                         "reference_impls.rnnt.decode")


def split_joint_output(config: CanonicalConfig, logits: np.ndarray) -> tuple[int, int]:
    """(token argmax, predicted duration) of one TDT joint output (V + D,)."""
    vocab = config.vocab_size
    return int(np.argmax(logits[:vocab])), config.durations[int(np.argmax(logits[vocab:]))]


def tdt_greedy_decode(params: dict, config: CanonicalConfig, encodings: np.ndarray,
                      length: int, max_symbols_per_frame: int | None = None) -> TDTHypothesis:
    """Greedy TDT hypothesis of one utterance from its encodings (T', E), first `length`
    frames, by the rules of the module docstring."""
    check_tdt_joint(config)
    check_budget(max_symbols_per_frame)
    if not 0 <= length <= encodings.shape[0]:
        raise ValueError(f"length={length} is out of range [0, {encodings.shape[0]}]")
    g, state = prediction_step(params, config, None, None)
    tokens, frames, durations = [], [], []
    t = on_frame = 0
    while t < length:
        token, duration = split_joint_output(config, joint_step(params, config, encodings[t], g))
        if token == config.blank:
            t += max(duration, 1)
            on_frame = 0
            continue
        tokens.append(token)
        frames.append(t)
        durations.append(duration)
        g, state = prediction_step(params, config, token, state)
        on_frame = on_frame + 1 if duration == 0 else 0
        t += duration
        if max_symbols_per_frame is not None and on_frame == max_symbols_per_frame:
            t += 1
            on_frame = 0
        elif max_symbols_per_frame is None and on_frame >= UNLIMITED_GUARD:
            raise RuntimeError(f"frame {t} emitted {on_frame} tokens of duration 0; set "
                               "max_symbols_per_frame")
    return TDTHypothesis(tuple(tokens), tuple(frames), tuple(durations))


def tdt_greedy_decode_batch(params: dict, config: CanonicalConfig, encodings: np.ndarray,
                            lengths, max_symbols_per_frame: int | None = None
                            ) -> list[TDTHypothesis]:
    """`tdt_greedy_decode` of each utterance of (B, T', E) encodings."""
    return [tdt_greedy_decode(params, config, encodings[b], int(lengths[b]),
                              max_symbols_per_frame)
            for b in range(encodings.shape[0])]
