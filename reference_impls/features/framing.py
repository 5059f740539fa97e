"""Framing: which samples each analysis frame holds, for each library's convention.

`frame_starts` gives the first sample of every frame and `frame_signal` gathers frames of
`length` samples, filling positions outside [0, N) by the convention's rule. All four rules
are in `FrontEndConfig.framing`'s documentation.
"""

from __future__ import annotations

import math

import numpy as np

from reference_impls.features.signal import preemphasise


def exact_pad_amount(n_fft: int, hop: int) -> int:
    """Zeros NeMo's exact_pad puts on each side of the signal: (n_fft - hop)//2."""
    return max(0, (n_fft - hop) // 2)


def frame_count(n_samples: int, framing: str, frame_length: int, hop: int,
                n_fft: int | None = None) -> int:
    """Number of frames each convention computes from `n_samples` samples (>= frame_length).

    "exact_pad" needs `n_fft` (None: frame_length): 1 + (N + 2p - n_fft)//hop.
    """
    if framing == "ceil_zero_pad":
        if n_samples <= frame_length:
            return 1
        return 1 + math.ceil((n_samples - frame_length) / hop)
    if framing == "snip_edges":
        return 1 + (n_samples - frame_length) // hop
    if framing == "kaldi_reflect":
        return (n_samples + hop // 2) // hop
    if framing == "exact_pad":
        n_fft = frame_length if n_fft is None else n_fft
        padded = n_samples + 2 * exact_pad_amount(n_fft, hop)
        if padded < n_fft:
            raise ValueError(f"exact_pad framing needs N + 2*{exact_pad_amount(n_fft, hop)} >= "
                             f"n_fft={n_fft} samples, got N={n_samples}")
        return 1 + (padded - n_fft) // hop
    return 1 + n_samples // hop


def frame_starts(n_frames: int, framing: str, frame_length: int, hop: int,
                 n_fft: int | None = None) -> np.ndarray:
    """Index of each frame's first sample (negative where it starts before the signal).

    For "centre" framing torch.stft centres an n_fft-sample frame at t*hop and the window of
    `frame_length` samples inside it at offset (n_fft - frame_length)//2; "exact_pad" starts
    the n_fft-sample frame at t*hop - (n_fft - hop)//2, the window at the same offset.
    """
    starts = np.arange(n_frames, dtype=np.int64) * hop
    if framing == "kaldi_reflect":
        return starts + hop // 2 - frame_length // 2
    if framing in ("centre", "exact_pad"):
        n_fft = frame_length if n_fft is None else n_fft
        pad = n_fft // 2 if framing == "centre" else exact_pad_amount(n_fft, hop)
        return starts - pad + (n_fft - frame_length) // 2
    return starts


def _fold(index: np.ndarray, n: int, rule: str) -> np.ndarray:
    """Map out-of-range indices into [0, n) (reflect rules) or to n (a zero sample)."""
    if rule == "kaldi_reflect":
        index = np.where(index < 0, -index - 1, index)
        return np.where(index >= n, 2 * n - 1 - index, index)
    if rule == "reflect":
        index = np.abs(index)
        return np.where(index >= n, 2 * (n - 1) - index, index)
    return np.where((index < 0) | (index >= n), n, index)


def frame_signal(signal: np.ndarray, framing: str, frame_length: int, hop: int,
                 centre_padding: str = "reflect", n_fft: int | None = None,
                 preemphasis: float | None = None, preemphasis_first: str = "copy"
                 ) -> np.ndarray:
    """Frames `(n_frames, frame_length)` of a 1-D signal by the `framing` convention.

    Samples past either end are zero ("ceil_zero_pad", constant centre padding), mirrored
    without repeating the edge sample ("centre" reflect: x[-k] = x[k], torch's rule), or
    mirrored repeating it (Kaldi snip_edges=false: x[-k] = x[k-1]); "exact_pad" pads with
    zeros. For "centre" and "exact_pad" framing the frames hold only the window's samples;
    zero-padding them to n_fft at the end instead of around them is a circular shift, which
    leaves |FFT| unchanged. With `preemphasis`, the frames are those of
    `preemphasise(signal, preemphasis, preemphasis_first)`, padded after pre-emphasis, which
    is written straight into the padded buffer.
    The result is a read-only strided view of the (padded) signal: copy before writing.
    """
    n = signal.shape[0]
    count = frame_count(n, framing, frame_length, hop, n_fft)
    starts = frame_starts(count, framing, frame_length, hop, n_fft)
    pad = (frame_length if n_fft is None else n_fft) // 2
    if framing == "centre" and centre_padding == "reflect" and pad >= n:
        raise ValueError(f"reflect padding of {pad} samples needs a signal longer than that, "
                         f"got {n} samples")
    rule = framing if framing == "kaldi_reflect" else (
        "reflect" if framing == "centre" and centre_padding == "reflect" else "zero")
    left = max(0, -int(starts[0]))
    right = max(0, int(starts[-1]) + frame_length - n)
    padded = np.empty(left + n + right, signal.dtype) if left or right else None
    middle = None if padded is None else padded[left:left + n]
    if preemphasis is not None:
        signal = preemphasise(signal, preemphasis, preemphasis_first, out=middle)
    elif middle is not None:
        middle[...] = signal
    if padded is not None:
        for lo, index in ((0, np.arange(-left, 0)), (left + n, np.arange(n, n + right))):
            folded = _fold(index, n, rule)
            padded[lo:lo + index.size] = np.where(folded == n, 0,
                                                  padded[left + np.minimum(folded, n - 1)])
        signal = padded
    view = np.lib.stride_tricks.sliding_window_view(signal, frame_length)
    return view[starts[0] + left::hop][:count]
