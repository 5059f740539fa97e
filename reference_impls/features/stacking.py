"""Frame stacking, subsampling and context windows: which input frames each output frame sees.

All functions take features `(T, F)` of one utterance and return a new array; none mutates.

    stack_frames(x, 3, 3)   Myrtle/MLPerf: row s = [x_3s, x_3s+1, x_3s+2] (zeros past the
                            end), length ceil(T/3); the encoder's time stacking by 2 is
                            stack_frames(., 2, 2), so the two give ceil(ceil(T/3)/2).
    subsample(x, k)         keep every k-th frame: rows 0, k, 2k, ..., length ceil(T/k).
    symmetric_context(x, k) myrtlespeech: (C = 2k+1, F, T), channel c holds x_{t+c-k},
                            zeros outside the utterance.
    left_context(x, n)      deepspeech-internal: (T, n*F), row t = [x_{t-n+1}, ..., x_t]
                            (oldest first), zeros before the start.
    gather_frames(x, offsets, every)
                            all of them in one gather: row s = [x_{every*s + o} for o in
                            offsets], zeros outside the utterance.
"""

from __future__ import annotations

import numpy as np

from reference_impls.checks import check_array


def _check_features(x, name="features") -> np.ndarray:
    x = check_array(x, name)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (frames, features), got shape {x.shape}")
    return x


def _check_factor(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def shifted(x: np.ndarray, offset: int) -> np.ndarray:
    """Row t = x[t + offset], zero where t + offset is outside [0, T)."""
    out = np.zeros_like(x)
    frames = x.shape[0]
    if offset >= 0:
        out[:max(frames - offset, 0)] = x[offset:]
    else:
        out[-offset:] = x[:frames + offset]
    return out


def gather_frames(x: np.ndarray, offsets, every: int = 1) -> np.ndarray:
    """Row s = [x_{every*s + o} for o in offsets] (zero where the index is outside [0, T)):
    shape (ceil(T / every), len(offsets) * F). One gather, no intermediate copies."""
    x = _check_features(x)
    every = _check_factor(every, "every")
    offsets = np.asarray(list(offsets), dtype=np.int64)
    if offsets.ndim != 1 or offsets.size == 0:
        raise ValueError(f"offsets must be a non-empty sequence of ints, got {offsets!r}")
    if every == 1 and offsets.tolist() == [0]:
        return x.copy()
    frames = x.shape[0]
    before, after = max(0, -int(offsets.min())), max(0, int(offsets.max()))
    padded = np.zeros((frames + before + after, x.shape[1]), x.dtype)
    padded[before:before + frames] = x
    index = np.arange(0, frames, every)[:, None] + before + offsets[None, :]
    return padded[index].reshape(index.shape[0], -1)


def stack_frames(x: np.ndarray, stack: int, subsample_by: int) -> np.ndarray:
    """Concatenate each frame with the next `stack - 1` (zero past the end), keep every
    `subsample_by`-th: shape (ceil(T / subsample_by), stack * F)."""
    stack = _check_factor(stack, "stack")
    return gather_frames(x, range(stack), subsample_by)


def stacked_length(length: int, subsample_by: int) -> int:
    """Output length of `stack_frames` / `subsample`: ceil(length / subsample_by)."""
    return -(-length // subsample_by)


def subsample(x: np.ndarray, factor: int) -> np.ndarray:
    """Keep frames 0, factor, 2*factor, ...: shape (ceil(T / factor), F)."""
    return _check_features(x)[::_check_factor(factor, "factor")]


def symmetric_context(x: np.ndarray, k: int) -> np.ndarray:
    """(2k+1, F, T): channel c is the features shifted by c - k frames (myrtlespeech)."""
    x = _check_features(x)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be a non-negative int, got {k!r}")
    return np.stack([shifted(x, c - k).T for c in range(2 * k + 1)])


def left_context(x: np.ndarray, frames: int) -> np.ndarray:
    """(T, frames * F): row t = [x_{t-frames+1}, ..., x_t], zeros before the utterance."""
    frames = _check_factor(frames, "frames")
    return gather_frames(x, range(1 - frames, 1))
