"""Sample-domain steps: input checks, amplitude range, dither, pre-emphasis, DC removal.

Conventions: an int16 array is int16 PCM; a float32/float64 array is [-1, 1] PCM. Signals are
1-D; a (channels, samples) array must be reduced with `select_channel` first.
"""

from __future__ import annotations

import numpy as np

from reference_impls.checks import check_array

INT16_SCALE = 32768.0


def select_channel(audio: np.ndarray, channel: int | None, name: str = "signal") -> np.ndarray:
    """Return the 1-D signal of `audio`: itself if mono, else row `channel` of (C, N).

    A multi-channel array without a channel raises ValueError naming the channel count.
    """
    audio = check_array(audio, name)
    if audio.ndim == 1:
        if channel not in (None, 0):
            raise ValueError(f"{name} is mono; channel={channel} does not exist")
        return audio
    if audio.ndim != 2:
        raise ValueError(f"{name} must be 1-D (samples) or 2-D (channels, samples), "
                         f"got shape {audio.shape}")
    if channel is None:
        raise ValueError(f"{name} has {audio.shape[0]} channels; choose one with channel=")
    if not -audio.shape[0] <= channel < audio.shape[0]:
        raise ValueError(f"channel={channel} is out of range for {audio.shape[0]} channels")
    return audio[channel]


def check_signal(signal, min_samples: int, name: str = "signal") -> np.ndarray:
    """Check a 1-D int16 / float32 / float64 signal with at least `min_samples` finite samples.

    Raises TypeError for other dtypes and ValueError for 2-D input, too few samples (naming
    the minimum, one analysis window) or a non-finite sample (naming its index). The samples
    are scanned only when their sum of squares is not finite (NaN and infinities propagate
    through it; an overflow of huge finite samples leads to a scan that finds nothing).
    """
    signal = check_array(signal, name)
    if signal.dtype not in (np.int16, np.float32, np.float64):
        raise TypeError(f"{name} must be int16 PCM or float32/float64 in [-1, 1], "
                        f"got dtype {signal.dtype}")
    if signal.ndim != 1:
        raise ValueError(f"{name} must be 1-D; for (channels, samples) audio pick a channel "
                         f"first (select_channel), got shape {signal.shape}")
    if signal.shape[0] < min_samples:
        raise ValueError(f"{name} has {signal.shape[0]} samples; at least one analysis window "
                         f"({min_samples} samples) is needed")
    if signal.dtype != np.int16 and not np.isfinite(np.dot(signal, signal)):
        bad = np.flatnonzero(~np.isfinite(signal))
        if bad.size:
            raise ValueError(f"{name}[{bad[0]}] = {signal[bad[0]]} is not finite "
                             f"({bad.size} non-finite samples)")
    return signal


def to_working_range(signal: np.ndarray, signal_range: str, dtype,
                     copy: bool = True) -> np.ndarray:
    """Convert PCM to the working amplitude range ("unit": [-1, 1], "int16": +-32768);
    `copy=False` may return `signal` itself when nothing changes."""
    if signal.dtype == np.int16:
        out = signal.astype(dtype)
        return out / dtype.type(INT16_SCALE) if signal_range == "unit" else out
    out = signal.astype(dtype, copy=copy)
    return out * dtype.type(INT16_SCALE) if signal_range == "int16" else out


def add_dither(signal: np.ndarray, noise) -> np.ndarray:
    """`signal + noise`: dither is an explicit array of the signal's shape, never hidden."""
    if noise is None:
        return signal
    noise = check_array(noise, "dither")
    if noise.shape != signal.shape:
        raise ValueError(f"dither must have the signal's shape {signal.shape}, got {noise.shape}")
    return signal + noise.astype(signal.dtype)


def preemphasise(x: np.ndarray, coefficient: float, first: str,
                 out: np.ndarray | None = None) -> np.ndarray:
    """y[n] = x[n] - k x[n-1] along the last axis; y[0] by `first` ("copy", "scaled", "reflect").

    "copy": y0 = x0 (python_speech_features, NeMo); "scaled": y0 = x0 - k x0 (Kaldi's
    replicate padding, DALI); "reflect": y0 = x0 - k x1. `out` may be `x` itself.
    """
    k = x.dtype.type(coefficient)
    if first == "copy":
        y0 = x[..., 0].copy()
    elif first == "scaled":
        y0 = x[..., 0] - k * x[..., 0]
    else:
        y0 = x[..., 0] - k * x[..., 1]
    if out is None or not np.may_share_memory(out, x):
        y = np.empty_like(x) if out is None else out
        np.multiply(x[..., :-1], k, out=y[..., 1:])
        np.subtract(x[..., 1:], y[..., 1:], out=y[..., 1:])
    else:
        y = out
        np.subtract(x[..., 1:], k * x[..., :-1], out=y[..., 1:])
    y[..., 0] = y0
    return y


def remove_dc_offset(frames: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Subtract each frame's mean (Kaldi's remove_dc_offset); `out` may be `frames`."""
    return np.subtract(frames, frames.mean(axis=-1, keepdims=True), out=out)


def zero_tail(x: np.ndarray, count: int) -> np.ndarray:
    """A copy of `x` with its last `count` samples set to 0 (NeMo's pre-emphasis time mask
    under exact_pad)."""
    out = x.copy()
    if count > 0:
        out[max(0, out.shape[0] - count):] = 0
    return out
