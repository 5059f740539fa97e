"""`FrontEndConfig`: every knob of the reference log-mel front end, with its allowed values.

A config is a frozen dataclass; `with_overrides` returns a copy with some fields changed and
rejects unknown names and out-of-range values, naming the field. The steps read their knobs
from it; nothing is implicit. Field names and meanings are listed in the class docstring.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

CHOICES = {
    "signal_range": ("unit", "int16"),
    "preemphasis_scope": ("signal", "frame"),
    "preemphasis_first": ("copy", "scaled", "reflect"),
    "framing": ("ceil_zero_pad", "snip_edges", "kaldi_reflect", "centre", "exact_pad"),
    "centre_padding": ("reflect", "constant"),
    "frame_rounding": ("half_up", "floor"),
    "window": ("rectangular", "hann_periodic", "hann_symmetric", "hann_half_sample",
               "hamming", "povey", "blackman", "bartlett"),
    "spectrum": ("power", "magnitude"),
    "mel_scale": ("htk", "kaldi", "slaney"),
    "filters": ("integer_bins", "hz_triangles", "mel_triangles"),
    "log": ("e", "10", "none"),
    "log_floor_rule": ("add", "clamp", "replace_zeros"),
    "normalise": ("none", "per_feature", "all_features", "fixed"),
    "norm_epsilon_placement": ("std", "variance"),
    "reported_length": ("frames", "samples_div_hop", "samples_div_hop_plus_one",
                        "frames_minus_one"),
    "dtype": ("float64", "float32"),
}


@dataclass(frozen=True)
class FrontEndConfig:
    """The reference front end's knobs, in pipeline order.

    signal_range: amplitude range the pipeline works in. Input int16 arrays are int16 PCM and
        float arrays are [-1, 1] PCM; "int16" multiplies floats by 32768, "unit" divides
        int16 by 32768 (Kaldi and python_speech_features users work in int16 range).
    remove_dc_offset: subtract each frame's mean before pre-emphasis (Kaldi).
    preemphasis: coefficient k of y[n] = x[n] - k x[n-1], or None for no pre-emphasis.
    preemphasis_scope: "signal" (before framing) or "frame" (inside each frame, Kaldi).
    preemphasis_first: rule for y[0]: "copy" y0 = x0, "scaled" y0 = (1-k) x0 (Kaldi's
        replicate padding, DALI's clamp border), "reflect" y0 = x0 - k x1.
    framing: "ceil_zero_pad" (python_speech_features: 1 + ceil((N-L)/hop) frames, tail zero
        padded), "snip_edges" (Kaldi default: 1 + (N-L)//hop frames, none past the end),
        "kaldi_reflect" (Kaldi snip_edges=false: (N + hop//2)//hop frames centred at
        t*hop + hop//2, edges reflected), "centre" (torch.stft center=True: 1 + N//hop frames
        centred at t*hop, signal padded by n_fft//2 each side), "exact_pad" (NeMo
        exact_pad=True: p = (n_fft - hop)//2 zeros each side, then torch.stft center=False:
        1 + (N + 2p - n_fft)//hop n_fft-sample frames from padded sample t*hop, the window
        centred in each).
    centre_padding: padding of "centre" framing: "reflect" (torch's default) or "constant".
    leading_zeros: zeros prepended to the signal before framing.
    win_length, hop_length: window and hop in samples; when None they come from
        frame_length_s / frame_shift_s times the sample rate, rounded by frame_rounding.
    window: "hann_periodic" 0.5-0.5cos(2 pi n/L), "hann_symmetric" ...n/(L-1),
        "hann_half_sample" ...(n+0.5)/L (DALI), "hamming" 0.54-0.46cos(2 pi n/(L-1)),
        "povey" hann_symmetric**0.85 (Kaldi), "rectangular"; "blackman" 0.42 -
        0.5cos(2 pi n/(L-1)) + 0.08cos(4 pi n/(L-1)) and "bartlett" 1 - |2n/(L-1) - 1| (torch's
        symmetric windows, periodic=False).
    n_fft: FFT size; None means the next power of two >= win_length.
    truncate_frames: when win_length > n_fft, keep the first n_fft samples of each frame
        (python_speech_features' rfft(frames, NFFT)); otherwise that is an error.
    spectrum: |X|**2 ("power") or |X| ("magnitude"); power_scale_by_nfft divides by n_fft.
    n_mels, f_min, f_max (None: Nyquist; a value <= 0 counts down from Nyquist, as Kaldi).
    mel_scale: "htk" 2595 log10(1 + f/700), "kaldi" 1127 ln(1 + f/700), "slaney" (linear
        below 1 kHz, logarithmic above; Slaney's Auditory Toolbox, librosa's default).
    filters: "integer_bins" (python_speech_features: edges at FFT bins floor((nfft+1) f/sr)),
        "hz_triangles" (torchaudio, librosa: triangles over the bin frequencies in Hz),
        "mel_triangles" (Kaldi: triangles in the mel domain over bins 0..nfft/2-1; the
        Nyquist bin gets weight 0). area_norm scales each filter by 2/(f_right - f_left).
    log: natural ("e"), base 10, or "none"; log_floor_rule: "add" ln(x + floor), "clamp"
        ln(max(x, floor)), "replace_zeros" (x == 0 -> floor first); log_floor its value.
    normalise: "none"; "per_feature" (each mel bin over time); "all_features" (one mean and
        std over all bins and frames); "fixed" (fixed_mean / fixed_std per bin). Statistics
        use the first `reported length` frames, with ddof norm_ddof; norm_epsilon is added
        to the std ("std") or to the variance inside the square root ("variance").
    mask_beyond_length: set frames at and past the reported length to pad_value (NeMo).
    pad_to: append pad_value frames until the frame count is a multiple of pad_to (0: off).
    reported_length: the length a library reports, kept apart from the frames computed:
        "frames" (all computed frames), "samples_div_hop" N//hop (recent NeMo),
        "samples_div_hop_plus_one" N//hop + 1 (older NeMo), "frames_minus_one" one fewer
        than the frames computed (NeMo 3.0's get_seq_len, (N + 2 pad - n_fft)//hop, for
        "centre" and "exact_pad" framing alike).
    dtype: working precision of every step.
    preemphasis_time_mask: zero the signal's last (n_fft - hop)//2 samples after
        pre-emphasis (NeMo with exact_pad and preemph set: it pads the signal before
        pre-emphasis, then zeroes padded positions >= N, i.e. the signal's tail).
    feature_repeat: the features repeated this many times along the feature axis after the
        log, before normalisation (NeMo's frame_splicing: splice_frames concatenates
        x[:, :, :n] and x[:, :, n:], which is x itself, so it tiles rather than stacks).
    """

    signal_range: str = "unit"
    remove_dc_offset: bool = False
    preemphasis: float | None = None
    preemphasis_scope: str = "signal"
    preemphasis_first: str = "copy"
    framing: str = "centre"
    centre_padding: str = "reflect"
    leading_zeros: int = 0
    win_length: int | None = None
    hop_length: int | None = None
    frame_length_s: float = 0.025
    frame_shift_s: float = 0.010
    frame_rounding: str = "floor"
    window: str = "hann_periodic"
    n_fft: int | None = None
    truncate_frames: bool = False
    spectrum: str = "power"
    power_scale_by_nfft: bool = False
    n_mels: int = 80
    f_min: float = 0.0
    f_max: float | None = None
    mel_scale: str = "htk"
    filters: str = "hz_triangles"
    area_norm: bool = False
    log: str = "e"
    log_floor_rule: str = "add"
    log_floor: float = 1e-6
    normalise: str = "none"
    norm_ddof: int = 0
    norm_epsilon: float = 0.0
    norm_epsilon_placement: str = "std"
    fixed_mean: tuple[float, ...] | None = None
    fixed_std: tuple[float, ...] | None = None
    mask_beyond_length: bool = False
    pad_to: int = 0
    pad_value: float = 0.0
    reported_length: str = "frames"
    dtype: str = "float64"
    preemphasis_time_mask: bool = False
    feature_repeat: int = 1

    def __post_init__(self):
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("win_length", "hop_length", "n_fft"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise ValueError(f"{name} must be a positive int or None, got {value!r}")
        for name in ("leading_zeros", "pad_to", "norm_ddof"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        for name in ("n_mels", "feature_repeat"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.preemphasis is not None and not 0.0 <= self.preemphasis <= 1.0:
            raise ValueError(f"preemphasis must lie in [0, 1] or be None, got {self.preemphasis}")
        if not self.log_floor > 0.0:
            raise ValueError(f"log_floor must be positive, got {self.log_floor}")
        if self.normalise == "fixed" and (self.fixed_mean is None or self.fixed_std is None):
            raise ValueError("normalise='fixed' needs fixed_mean and fixed_std (one per mel bin)")

    def with_overrides(self, **overrides) -> FrontEndConfig:
        """A copy with `overrides` applied; unknown names raise TypeError listing the known."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(f"unknown front-end option(s) {unknown}; known: {sorted(known)}")
        for name in ("fixed_mean", "fixed_std"):
            if overrides.get(name) is not None:
                overrides[name] = tuple(float(v) for v in np.ravel(overrides[name]))
        return dataclasses.replace(self, **overrides)

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)
