"""Greedy RNN-T decoding on the canonical NumPy model (Graves 2012, section 2.4, greedy).

Budget semantics, exactly: at each encoder frame t the decoder repeatedly takes the argmax
of joint(f_t, g) (ties go to the lowest index); blank ends the frame; any other symbol is
emitted, counted against `max_symbols_per_frame`, and advances the prediction network (its
state changes only on a non-blank). When the budget is spent the decoder moves to frame
t + 1 without emitting a blank and without skipping a frame, keeping the prediction state.
`max_symbols_per_frame=None` is unlimited; a frame that emits UNLIMITED_GUARD symbols
without a blank raises instead of looping forever. Per-family defaults are in
FAMILY_MAX_SYMBOLS.
"""

from __future__ import annotations

import numpy as np

from reference_impls.models.canonical import CanonicalConfig, joint_step, prediction_step

FAMILY_MAX_SYMBOLS = {"myrtle_rnnt": 30, "nemo": 10, "seed_001": 100}
"""MLPerf / Myrtle's greedy decoder allows 30 symbols per frame, NeMo's 10, seed 001's 100."""
UNLIMITED_GUARD = 10_000


def check_budget(max_symbols_per_frame) -> None:
    """ValueError unless `max_symbols_per_frame` is a positive int or None."""
    if max_symbols_per_frame is not None and (
            isinstance(max_symbols_per_frame, bool)
            or not isinstance(max_symbols_per_frame, (int, np.integer))
            or max_symbols_per_frame < 1):
        raise ValueError(f"max_symbols_per_frame must be a positive int or None, got "
                         f"{max_symbols_per_frame!r}")


def check_rnnt_joint(config: CanonicalConfig) -> None:
    """ValueError for a TDT joint: its duration outputs are not symbols, and an RNN-T
    decoder would take their argmax as one."""
    if config.durations:
        raise ValueError(f"config has a TDT joint (durations={config.durations}): decode it "
                         "with reference_impls.tdt.decode, not an RNN-T decoder")


def greedy_decode(params: dict, config: CanonicalConfig, encodings: np.ndarray, length: int,
                  max_symbols_per_frame: int | None = None) -> list[int]:
    """Greedy hypothesis of one utterance from its encodings (T', E), first `length` frames."""
    check_rnnt_joint(config)
    check_budget(max_symbols_per_frame)
    if not 0 <= length <= encodings.shape[0]:
        raise ValueError(f"length={length} is out of range [0, {encodings.shape[0]}]")
    g, state = prediction_step(params, config, None, None)
    hypothesis: list[int] = []
    for t in range(length):
        emitted = 0
        while max_symbols_per_frame is None or emitted < max_symbols_per_frame:
            symbol = int(np.argmax(joint_step(params, config, encodings[t], g)))
            if symbol == config.blank:
                break
            hypothesis.append(symbol)
            emitted += 1
            if max_symbols_per_frame is None and emitted >= UNLIMITED_GUARD:
                raise RuntimeError(f"frame {t} emitted {emitted} symbols without a blank; "
                                   "set max_symbols_per_frame")
            g, state = prediction_step(params, config, symbol, state)
    return hypothesis


def greedy_decode_batch(params: dict, config: CanonicalConfig, encodings: np.ndarray,
                        lengths, max_symbols_per_frame: int | None = None) -> list[list[int]]:
    """`greedy_decode` of each utterance of (B, T', E) encodings."""
    return [greedy_decode(params, config, encodings[b], int(lengths[b]), max_symbols_per_frame)
            for b in range(encodings.shape[0])]
