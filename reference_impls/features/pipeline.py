"""`log_mel`: the reference front end, one explicit step after another.

    signal -> working range -> + dither -> [pre-emphasis] -> [tail zeroed] -> leading zeros
    -> frames -> [DC removal] -> [per-frame pre-emphasis] -> window (`analysis_frames`) ->
    |FFT|^p [/ n_fft] (`power_spectrum`) -> mel filters
    -> log with floor -> [features repeated] -> normalisation (over the reported length) ->
    mask -> pad_to

Every step is a public function in this package; `FrontEndConfig` documents every knob.
"""

from __future__ import annotations

import decimal
import math
from dataclasses import dataclass

import numpy as np

from reference_impls.features.config import FrontEndConfig
from reference_impls.features.framing import exact_pad_amount, frame_signal
from reference_impls.features.mel import mel_filters
from reference_impls.features.postprocess import log_compress, mask_and_pad, normalise
from reference_impls.features.presets import preset
from reference_impls.features.signal import (
    add_dither,
    check_signal,
    preemphasise,
    to_working_range,
    zero_tail,
)
from reference_impls.features.spectrum import (
    analysis_frames,
    next_power_of_two,
    power_spectrum,
    window,
)
from reference_impls.features.spectrum_kernels import mel_energies_fast

FRAMES_PER_BLOCK = 512


@dataclass(frozen=True)
class FrontEndOutput:
    """`features` (frames, n_mels) as computed (and padded); `length`, the reported length."""

    features: np.ndarray
    length: int
    config: FrontEndConfig


def _seconds_to_samples(seconds: float, sample_rate: float, rounding: str) -> int:
    exact = seconds * sample_rate
    if rounding == "half_up":
        return int(decimal.Decimal(exact).quantize(decimal.Decimal(1), decimal.ROUND_HALF_UP))
    return int(math.floor(exact))


def frame_sizes(config: FrontEndConfig, sample_rate: float) -> tuple[int, int, int]:
    """(win_length, hop_length, n_fft) in samples for `sample_rate`."""
    win = config.win_length or _seconds_to_samples(config.frame_length_s, sample_rate,
                                                   config.frame_rounding)
    hop = config.hop_length or _seconds_to_samples(config.frame_shift_s, sample_rate,
                                                   config.frame_rounding)
    if win < 1 or hop < 1:
        raise ValueError(f"window {win} and hop {hop} samples at {sample_rate} Hz must be >= 1")
    n_fft = config.n_fft or next_power_of_two(win)
    if win > n_fft and not config.truncate_frames:
        raise ValueError(f"win_length {win} exceeds n_fft {n_fft}; raise n_fft or set "
                         "truncate_frames=True")
    return win, hop, n_fft


def reported_length(config: FrontEndConfig, n_samples: int, n_frames: int, hop: int) -> int:
    """The length the library reports for an `n_samples` signal that gave `n_frames` frames."""
    if config.reported_length == "samples_div_hop":
        return n_samples // hop
    if config.reported_length == "samples_div_hop_plus_one":
        return n_samples // hop + 1
    if config.reported_length == "frames_minus_one":
        return n_frames - 1
    return n_frames


def mel_energies(frames: np.ndarray, n_fft: int, analysis_window: np.ndarray,
                 filters_t: np.ndarray, config: FrontEndConfig) -> np.ndarray:
    """(n_frames, n_mels) filterbank energies: `analysis_frames` -> `power_spectrum` ->
    `@ filters_t` (filters_t is (n_bins, n_mels)).

    An even n_fft (every preset's) runs the fused Numba kernel `mel_energies_fast`, held to
    these steps by tests/reference_impls/features/test_spectrum_kernels.py. An odd n_fft
    runs the steps themselves, in blocks of FRAMES_PER_BLOCK frames so that each block's
    buffers stay in cache.
    """
    per_frame = config.preemphasis_scope == "frame"
    preemphasis = config.preemphasis if per_frame else None
    if n_fft % 2 == 0:
        return mel_energies_fast(frames, n_fft, analysis_window, filters_t,
                                 config.remove_dc_offset, preemphasis, config.preemphasis_first,
                                 config.spectrum, config.power_scale_by_nfft)
    out = np.empty((frames.shape[0], filters_t.shape[1]), dtype=filters_t.dtype)
    for lo in range(0, frames.shape[0], FRAMES_PER_BLOCK):
        hi = min(lo + FRAMES_PER_BLOCK, frames.shape[0])
        buffer = analysis_frames(frames[lo:hi], n_fft, analysis_window, config.remove_dc_offset,
                                 preemphasis, config.preemphasis_first)
        spectrum = power_spectrum(buffer, config.spectrum, config.power_scale_by_nfft, workers=1)
        np.matmul(spectrum, filters_t, out=out[lo:hi])
    return out


def log_mel_with_length(signal: np.ndarray, sample_rate: float, config: FrontEndConfig,
                        dither: np.ndarray | None = None) -> FrontEndOutput:
    """Run `config` on a 1-D signal; see `log_mel` for the conventions."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, float)) \
            or not sample_rate > 0:
        raise ValueError(f"sample_rate must be a positive number, got {sample_rate!r}")
    win, hop, n_fft = frame_sizes(config, sample_rate)
    signal = check_signal(signal, min_samples=win)
    dtype = config.numpy_dtype
    x = add_dither(to_working_range(signal, config.signal_range, dtype, copy=False), dither)
    emphasis = config.preemphasis if config.preemphasis_scope == "signal" else None
    if emphasis is not None and (config.preemphasis_time_mask or config.leading_zeros):
        x = preemphasise(x, emphasis, config.preemphasis_first)
        emphasis = None
    if config.preemphasis_time_mask:
        x = zero_tail(x, exact_pad_amount(n_fft, hop))
    if config.leading_zeros:
        x = np.concatenate([np.zeros(config.leading_zeros, dtype), x])
    frames = frame_signal(x, config.framing, win, hop, config.centre_padding, n_fft, emphasis,
                          config.preemphasis_first)
    if win > n_fft:
        frames = frames[:, :n_fft]
    filters = mel_filters(config.filters, config.n_mels, n_fft, sample_rate, config.f_min,
                          config.f_max, config.mel_scale, config.area_norm)
    energies = mel_energies(frames, n_fft, window(config.window, frames.shape[1], dtype),
                            filters.T.astype(dtype), config)
    features = log_compress(energies, config.log, config.log_floor_rule, config.log_floor,
                            overwrite=True)
    if config.feature_repeat > 1:
        features = np.tile(features, (1, config.feature_repeat))
    length = reported_length(config, signal.shape[0], features.shape[0], hop)
    features = normalise(features, min(length, features.shape[0]), config.normalise,
                         config.norm_ddof, config.norm_epsilon, config.norm_epsilon_placement,
                         config.fixed_mean, config.fixed_std)
    features = mask_and_pad(features, length, config.mask_beyond_length, config.pad_to,
                            config.pad_value)
    return FrontEndOutput(features, length, config)


def log_mel(signal: np.ndarray, sample_rate: float, preset_name: str = "python_speech_features",
            dither: np.ndarray | None = None, **overrides) -> np.ndarray:
    """Log-mel features `(frames, n_mels)` of a 1-D signal by a named preset.

    Args:
        signal: int16 PCM or float32/float64 in [-1, 1], shape (N,), N >= one window.
        sample_rate: in Hz.
        preset_name: one of `PRESETS` ("python_speech_features", "torchaudio_melspectrogram",
            "kaldi", "nemo", "myrtle").
        dither: an explicit noise array of shape (N,) added in the working range, or None.
        **overrides: any `FrontEndConfig` field, e.g. n_mels=80, dtype="float32".

    The frames returned are those computed (plus pad_to padding); the library's reported
    length is `log_mel_with_length(...).length`.
    """
    return log_mel_with_length(signal, sample_rate, preset(preset_name, **overrides),
                               dither).features
