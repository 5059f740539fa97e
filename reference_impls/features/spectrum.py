"""Windows and the short-time spectrum of framed signals.

Window formulas (n = 0..L-1):
    hann_periodic     0.5 - 0.5 cos(2 pi n / L)              torch.hann_window(L)
    hann_symmetric    0.5 - 0.5 cos(2 pi n / (L - 1))        torch.hann_window(L, periodic=False)
    hann_half_sample  0.5 - 0.5 cos(2 pi (n + 0.5) / L)      NVIDIA DALI's Hann window
    hamming           0.54 - 0.46 cos(2 pi n / (L - 1))      symmetric, Kaldi's "hamming"
    povey             hann_symmetric ** 0.85                 Kaldi's default
    blackman          0.42 - 0.5 cos(2 pi n / (L - 1))       torch.blackman_window(L,
                      + 0.08 cos(4 pi n / (L - 1))           periodic=False)
    bartlett          1 - |2 n / (L - 1) - 1|                torch.bartlett_window(L,
                                                             periodic=False)
    rectangular       1
"""

from __future__ import annotations

import numpy as np

from reference_impls.features.signal import preemphasise, remove_dc_offset


def window(name: str, length: int, dtype=np.float64) -> np.ndarray:
    """The analysis window `name` of `length` samples (formulas in the module docstring)."""
    n = np.arange(length, dtype=np.float64)
    if name == "rectangular":
        w = np.ones(length)
    elif name == "hann_periodic":
        w = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / length)
    elif name == "hann_half_sample":
        w = 0.5 - 0.5 * np.cos(2.0 * np.pi * (n + 0.5) / length)
    else:
        denominator = max(length - 1, 1)
        if name == "hamming":
            w = 0.54 - 0.46 * np.cos(2.0 * np.pi * n / denominator)
        elif name == "blackman":
            w = (0.42 - 0.5 * np.cos(2.0 * np.pi * n / denominator)
                 + 0.08 * np.cos(4.0 * np.pi * n / denominator))
        elif name == "bartlett":
            w = 1.0 - np.abs(2.0 * n / denominator - 1.0)
        else:
            w = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / denominator)
            if name == "povey":
                w = w ** 0.85
            elif name != "hann_symmetric":
                raise ValueError(f"unknown window {name!r}")
    return w.astype(dtype)


def next_power_of_two(n: int) -> int:
    return 1 << (n - 1).bit_length()


def analysis_frames(frames: np.ndarray, n_fft: int, analysis_window: np.ndarray | None = None,
                    remove_dc: bool = False, preemphasis: float | None = None,
                    preemphasis_first: str = "copy") -> np.ndarray:
    """A new (n_frames, n_fft) buffer: each frame [minus its mean] [pre-emphasised] times
    the window, zero-padded at the end to n_fft; the FFT input. Steps in Kaldi's order
    (DC removal, pre-emphasis, window), computed in place in one buffer.
    """
    n_frames, length = frames.shape
    if length > n_fft:
        raise ValueError(f"frames of {length} samples exceed n_fft={n_fft}; "
                         "truncate them first (truncate_frames=True) or raise n_fft")
    buffer = np.empty((n_frames, n_fft), dtype=frames.dtype)
    buffer[:, length:] = 0
    head = buffer[:, :length]
    if not remove_dc and preemphasis is None:
        if analysis_window is None:
            head[...] = frames
        else:
            np.multiply(frames, analysis_window, out=head)
        return buffer
    if remove_dc:
        remove_dc_offset(frames, out=head)
    else:
        head[...] = frames
    if preemphasis is not None:
        preemphasise(head, preemphasis, preemphasis_first, out=head)
    if analysis_window is not None:
        head *= analysis_window
    return buffer


def power_spectrum(buffer: np.ndarray, spectrum: str = "power",
                   scale_by_nfft: bool = False, workers: int = -1) -> np.ndarray:
    """|rfft(buffer)|**2 ("power") or |.| ("magnitude") over the last axis, (n, n_fft//2+1).

    `buffer` (from `analysis_frames`) is overwritten. scale_by_nfft divides by n_fft
    (python_speech_features' powspec). The FFT is scipy.fft's pocketfft over `workers`
    threads (-1: every core), in the buffer's precision (float32 stays float32); each
    frame's transform is computed the same way whatever the thread count, so results are
    deterministic.
    """
    import scipy.fft

    n_frames, n_fft = buffer.shape
    transform = scipy.fft.rfft(buffer, axis=-1, workers=workers, overwrite_x=True)
    parts = transform.view(buffer.dtype).reshape(n_frames, n_fft // 2 + 1, 2)
    np.square(parts, out=parts)
    out = parts[..., 0] + parts[..., 1]
    if spectrum == "magnitude":
        np.sqrt(out, out=out)
    if scale_by_nfft:
        out /= out.dtype.type(n_fft)
    return out


def frame_spectrum(frames: np.ndarray, n_fft: int, spectrum: str = "power",
                   scale_by_nfft: bool = False, analysis_window: np.ndarray | None = None
                   ) -> np.ndarray:
    """|rfft(frame * window, n_fft)|**p of every frame: `power_spectrum(analysis_frames(...))`.

    Frames shorter than n_fft are zero-padded at the end; longer ones must already have been
    truncated (python_speech_features' rfft(frames, NFFT) keeps the first NFFT samples).
    """
    return power_spectrum(analysis_frames(frames, n_fft, analysis_window), spectrum,
                          scale_by_nfft)
