"""The production front ends the reference presets reproduce, behind one calling convention.

Each function takes a 1-D float64 NumPy signal in [-1, 1] (or int16 PCM), a sample rate and
the preset's option names (n_mels, n_fft, win_length, hop_length, f_min, f_max), feeds the
library what it expects (int16 amplitude for python_speech_features and Kaldi) and returns
float64 features (frames, n_mels). Torch objects are built with float64 as the default dtype,
so torchaudio computes its filterbanks and windows in float64, not float32: the comparison
then measures the algorithms, not float32 construction.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable

import numpy as np

from reference_impls.features.signal import to_working_range


@contextlib.contextmanager
def _float64_default():
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield torch
    finally:
        torch.set_default_dtype(previous)


def _int16_range(signal: np.ndarray) -> np.ndarray:
    return to_working_range(signal, "int16", np.dtype(np.float64))


def python_speech_features_logfbank(signal: np.ndarray, sample_rate: int, n_mels: int = 26,
                                    n_fft: int = 512, **unused) -> np.ndarray:
    """python_speech_features.logfbank on the int16-range signal."""
    _reject(unused)
    from python_speech_features import logfbank

    return logfbank(_int16_range(signal), samplerate=sample_rate, nfilt=n_mels, nfft=n_fft)


def torchaudio_melspectrogram_log(signal: np.ndarray, sample_rate: int, n_mels: int = 128,
                                  n_fft: int = 400, win_length: int | None = None,
                                  hop_length: int | None = None, f_min: float = 0.0,
                                  f_max: float | None = None, log_floor: float = 1e-6,
                                  **unused) -> np.ndarray:
    """ln(torchaudio.transforms.MelSpectrogram(...)(x) + log_floor), transposed to (T, n_mels)."""
    _reject(unused)
    import torchaudio

    with _float64_default() as torch, warnings.catch_warnings():
        # torchaudio warns when a filter is all zero (n_mels 128 with n_fft 400 at 16 kHz);
        # `rnnt-parity features` reports such bands itself.
        warnings.filterwarnings("ignore", message="At least one mel filterbank")
        transform = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, win_length=win_length, hop_length=hop_length,
            f_min=f_min, f_max=f_max, n_mels=n_mels)
        x = torch.from_numpy(to_working_range(signal, "unit", np.dtype(np.float64)))
        mel = transform(x)
        return torch.log(mel + log_floor).T.numpy()


def kaldi_fbank(signal: np.ndarray, sample_rate: int, n_mels: int = 23,
                f_min: float = 20.0, f_max: float = 0.0, **unused) -> np.ndarray:
    """torchaudio.compliance.kaldi.fbank with dither 0 on the int16-range signal."""
    _reject(unused)
    from torchaudio.compliance import kaldi

    with _float64_default() as torch:
        waveform = torch.from_numpy(_int16_range(signal))[None]
        return kaldi.fbank(waveform, sample_frequency=sample_rate, num_mel_bins=n_mels,
                           low_freq=f_min, high_freq=f_max, dither=0.0).numpy()


def myrtlespeech_logfbank(signal: np.ndarray, sample_rate: int, n_mels: int = 80,
                          **unused) -> np.ndarray:
    """myrtlespeech's LogMelFB at ef42c3f / 45899f7, called as it calls it: logfbank on the
    (1, N) float32 array of torchaudio.load, at 16 kHz, 25 ms / 10 ms."""
    _reject(unused)
    from python_speech_features import logfbank

    audio = to_working_range(signal, "unit", np.dtype(np.float32))[None, :]
    return logfbank(audio, samplerate=sample_rate, winlen=0.025, winstep=0.01, nfilt=n_mels)


def myrtlespeech_torchaudio_logmel(signal: np.ndarray, sample_rate: int, n_mels: int = 80,
                                   win_length: int = 400, hop_length: int = 160,
                                   **unused) -> np.ndarray:
    """myrtlespeech's LogMelFB before 45899f7: MelSpectrogram(n_mels, win_length,
    hop_length), exact zeros replaced by the input dtype's eps, ln; (T, n_mels)."""
    _reject(unused)
    import torchaudio

    with _float64_default() as torch:
        transform = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_mels=n_mels, win_length=win_length,
            hop_length=hop_length)
        waveform = torch.from_numpy(to_working_range(signal, "unit", np.dtype(np.float64)))[None]
        feat = transform(waveform)
        eps = torch.tensor(float(np.finfo(np.float32).eps), dtype=feat.dtype)
        return torch.where(feat == 0, eps, feat).log()[0].T.numpy()


def _reject(unused: dict) -> None:
    if unused:
        raise TypeError(f"option(s) {sorted(unused)} have no counterpart in this library")


PRODUCTION_FRONTENDS: dict[str, Callable[..., np.ndarray]] = {
    "python_speech_features": python_speech_features_logfbank,
    "torchaudio_melspectrogram": torchaudio_melspectrogram_log,
    "kaldi": kaldi_fbank,
    "myrtlespeech_psf": myrtlespeech_logfbank,
    "myrtlespeech_torchaudio": myrtlespeech_torchaudio_logmel,
}
"""Preset name -> the production library call it reproduces. nemo and myrtle have none here
(NeMo and DALI are not in the default install): their goldens stand in (frontends.goldens)."""
