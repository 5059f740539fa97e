"""Fast Numba kernel for the filterbank energies; the spec is `spectrum.py` then `@ filters`.

`mel_energies_fast` computes, for every frame, the same steps as `analysis_frames` ->
`power_spectrum` -> `@ filters_t`: [DC removal] -> [per-frame pre-emphasis] -> window ->
zero padding to n_fft -> |rfft|^p [/ n_fft] -> mel filters, in the frames' precision, on
blocks of LANES frames laid out (samples, LANES), so that every step is one loop over the
lanes, which LLVM vectorises. Blocks are shared among THREADS Python threads running the
kernel without the GIL (a `prange` compiled twice as slowly); each frame's arithmetic is
the same whatever the thread count or the block it falls in, so results are deterministic.

The real FFT of even length N is one complex FFT of M = N / 2 points of z[n] = x[2n] +
i x[2n+1], split by X[k] = A_k Z[k] + B_k conj(Z[M-k]) with A_k = (1 - i W^k) / 2,
B_k = (1 + i W^k) / 2, W = exp(-2 pi i / N), indices mod M, for k = 0..M (Sorensen et al.,
"Real-valued fast Fourier transform algorithms", IEEE TASSP 35(6), 1987).
The complex FFT is Stockham's autosort form, decimation in frequency, mixed radix (Van Loan,
"Computational Frameworks for the FFT", 1992, section 1.7): a stage of radix p on
sub-transforms of length n = p m at stride s maps
    y[q + s (p j + k)] = W_n^{jk} sum_r x[q + s (j + r m)] W_p^{rk},   j < m, q < s, k < p,
and leaves the transform in natural order after the last stage. Radices 4, 2 and 5 have
their butterflies written out (n_fft = 400 is 2^4 5^2); any other prime factor p takes the
direct p-point DFT.
Twiddles are computed in float64 and rounded once to the working precision.
"""

from __future__ import annotations

import functools
import os
import threading

import numpy as np
from numba import njit

LANES = 32
"""Frames per block. The lane count is read from the buffers' shape, not this constant, in
the loops: LLVM unrolls a loop of a constant 16 or 32 iterations fully and leaves it scalar,
while a loop of unknown length is vectorised. 32 and 64 measured alike here (5.8 to 7.5 ms
for a minute's 6,000 512-point frames on 2 cores), 16 about 2x slower."""

THREADS = len(os.sched_getaffinity(0))
"""Threads per call, each running `_mel_energies_blocks` on every THREADS-th block without
the GIL: one per core this process may use."""

PREEMPHASIS_FIRST = {"copy": 0, "scaled": 1, "reflect": 2}
"""`preemphasise`'s rules for y[0], as the kernel's integer codes."""


def radices(m: int) -> list[int]:
    """The Stockham stages for an m-point complex FFT: 4s, then a 2, then the other primes
    in increasing order (m = 256 -> [4, 4, 4, 4]; m = 200 -> [4, 2, 5, 5])."""
    factors = []
    while m % 4 == 0:
        factors.append(4)
        m //= 4
    if m % 2 == 0:
        factors.append(2)
        m //= 2
    p = 3
    while m > 1:
        while m % p == 0:
            factors.append(p)
            m //= p
        p += 2
    return factors


@functools.lru_cache(maxsize=16)
def _plan_float64(n_fft: int):
    m = n_fft // 2
    stages = radices(m)
    stage_radix, twiddle_offset, root_offset = [], [], []
    twiddles, roots = [], []
    n = m
    for p in stages:
        sub = n // p
        j, k = np.meshgrid(np.arange(sub), np.arange(p), indexing="ij")
        stage_radix.append(p)
        twiddle_offset.append(sum(t.size for t in twiddles))
        twiddles.append(np.exp(-2j * np.pi * (j * k) / n).ravel())
        root_offset.append(sum(r.size for r in roots))
        roots.append(np.exp(-2j * np.pi * np.arange(p) / p))
        n = sub
    w = np.exp(-2j * np.pi * np.arange(m + 1) / n_fft)
    split_a = (1 - 1j * w) / 2
    split_b = (1 + 1j * w) / 2
    twiddles = np.concatenate(twiddles) if twiddles else np.ones(0, complex)
    roots = np.concatenate(roots) if roots else np.ones(0, complex)
    return (np.array(stage_radix, np.int64), np.array(twiddle_offset, np.int64),
            np.array(root_offset, np.int64), twiddles, roots, split_a, split_b)


def fft_plan(n_fft: int, dtype) -> tuple[np.ndarray, ...]:
    """The kernel's tables for an n_fft-point real FFT (n_fft even) in `dtype`: radices,
    twiddle and root offsets, then the real and imaginary parts of the twiddles W_n^{jk},
    the roots W_p^r and the split factors A_k, B_k."""
    if n_fft < 2 or n_fft % 2:
        raise ValueError(f"the fast spectrum needs an even n_fft >= 2, got {n_fft}")
    radix, twiddle_offset, root_offset, twiddles, roots, split_a, split_b = \
        _plan_float64(n_fft)
    parts = [part for table in (twiddles, roots, split_a, split_b)
             for part in (table.real, table.imag)]
    return (radix, twiddle_offset, root_offset, *(part.astype(dtype) for part in parts))


def filter_spans(filters_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each filter's span of nonzero bins: its first bin and one past its last, (n_mels,)
    each; an all-zero filter gets the empty span (0, 0). `filters_t` is (n_bins, n_mels)."""
    nonzero = filters_t != 0
    any_nonzero = nonzero.any(axis=0)
    first = np.where(any_nonzero, nonzero.argmax(axis=0), 0)
    stop = np.where(any_nonzero, filters_t.shape[0] - nonzero[::-1].argmax(axis=0), 0)
    return first.astype(np.int64), stop.astype(np.int64)


def frame_samples(frames: np.ndarray) -> tuple[np.ndarray, int]:
    """(samples, hop): a read-only 1-D view holding every frame, frame i being
    samples[i hop : i hop + L], as `frame_signal`'s strided views are (a copy for any other
    layout). One array type per dtype, so that the kernel is compiled once per dtype."""
    itemsize = frames.itemsize
    row, column = frames.strides
    if column != itemsize or row < 0 or row % itemsize or frames.shape[0] == 1:
        frames = np.ascontiguousarray(frames)
        row = frames.shape[1] * itemsize
    hop = row // itemsize
    span = (frames.shape[0] - 1) * hop + frames.shape[1]
    return np.lib.stride_tricks.as_strided(frames, (span,), (itemsize,), writeable=False), hop


@njit(cache=True, nogil=True)
def _load_block(samples, hop, lo, count, window, remove_dc, preemphasis, coefficient,
                first_rule, means, xr, xi):
    """Frames lo..lo+count-1 (frame i is samples[i hop : i hop + L]), each [minus its mean]
    [pre-emphasised] times the window, zero-padded to 2 M samples, into even samples xr and
    odd samples xi, (M, lanes); lanes past `count` are zero. The arithmetic is
    `analysis_frames`' (the mean in float64)."""
    length = window.shape[0]
    lanes = xr.shape[1]
    for f in range(lanes):
        means[f] = 0
    if remove_dc:
        for f in range(count):
            total = 0.0
            for n in range(length):
                total += samples[(lo + f) * hop + n]
            means[f] = total / length
    for row in range(xr.shape[0]):
        if 2 * row >= length:
            for f in range(lanes):
                xr[row, f] = 0
        if 2 * row + 1 >= length:
            for f in range(lanes):
                xi[row, f] = 0
        for f in range(count, lanes):
            xr[row, f] = 0
            xi[row, f] = 0
    for n in range(length):
        out = xr if n % 2 == 0 else xi
        row = n // 2
        weight = window[n]
        if not preemphasis:
            for f in range(count):
                out[row, f] = (samples[(lo + f) * hop + n] - means[f]) * weight
        elif n > 0:
            for f in range(count):
                at = (lo + f) * hop + n
                out[row, f] = ((samples[at] - means[f])
                               - coefficient * (samples[at - 1] - means[f])) * weight
        else:
            for f in range(count):
                value = samples[(lo + f) * hop] - means[f]
                if first_rule == 1:
                    value = value - coefficient * value
                elif first_rule == 2:
                    value = value - coefficient * (samples[(lo + f) * hop + 1] - means[f])
                out[row, f] = value * weight


@njit(cache=True, nogil=True, inline="always")
def _store_rotated(yr, yi, row, f, br, bi, wr, wi):
    """y[row, f] = (br + i bi) (wr + i wi): a butterfly's output times its twiddle."""
    yr[row, f] = br * wr - bi * wi
    yi[row, f] = br * wi + bi * wr


@njit(cache=True, nogil=True, inline="always")
def _radix4(xr, xi, yr, yi, i0, step_in, o0, step_out, w1r, w1i, w2r, w2i, w3r, w3i):
    for f in range(xr.shape[1]):
        a0r, a0i = xr[i0, f], xi[i0, f]
        a1r, a1i = xr[i0 + step_in, f], xi[i0 + step_in, f]
        a2r, a2i = xr[i0 + 2 * step_in, f], xi[i0 + 2 * step_in, f]
        a3r, a3i = xr[i0 + 3 * step_in, f], xi[i0 + 3 * step_in, f]
        t0r, t0i = a0r + a2r, a0i + a2i
        t1r, t1i = a0r - a2r, a0i - a2i
        t2r, t2i = a1r + a3r, a1i + a3i
        t3r, t3i = a1r - a3r, a1i - a3i
        yr[o0, f] = t0r + t2r
        yi[o0, f] = t0i + t2i
        br, bi = t1r + t3i, t1i - t3r
        _store_rotated(yr, yi, o0 + step_out, f, br, bi, w1r, w1i)
        br, bi = t0r - t2r, t0i - t2i
        _store_rotated(yr, yi, o0 + 2 * step_out, f, br, bi, w2r, w2i)
        br, bi = t1r - t3i, t1i + t3r
        _store_rotated(yr, yi, o0 + 3 * step_out, f, br, bi, w3r, w3i)


@njit(cache=True, nogil=True, inline="always")
def _radix2(xr, xi, yr, yi, i0, step_in, o0, step_out, w1r, w1i):
    for f in range(xr.shape[1]):
        ar, ai = xr[i0, f], xi[i0, f]
        br, bi = xr[i0 + step_in, f], xi[i0 + step_in, f]
        yr[o0, f] = ar + br
        yi[o0, f] = ai + bi
        dr, di = ar - br, ai - bi
        _store_rotated(yr, yi, o0 + step_out, f, dr, di, w1r, w1i)


@njit(cache=True, nogil=True, inline="always")
def _radix5(xr, xi, yr, yi, i0, step_in, o0, step_out, root_r, root_i, root_at, twiddle_r,
            twiddle_i, twiddle_at):
    """y_k = sum_r a_r W_5^{rk} from the conjugate pairs: with b1 = a1 + a4, b2 = a2 + a3,
    d1 = a1 - a4, d2 = a2 - a3, y1,4 = a0 + c1 b1 + c2 b2 -+ i (s1 d1 + s2 d2) and
    y2,3 = a0 + c2 b1 + c1 b2 -+ i (s2 d1 - s1 d2), c_r = cos(2 pi r / 5),
    s_r = sin(2 pi r / 5); then each y_k times its twiddle."""
    c1, s1 = root_r[root_at + 1], -root_i[root_at + 1]
    c2, s2 = root_r[root_at + 2], -root_i[root_at + 2]
    w1r, w1i = twiddle_r[twiddle_at + 1], twiddle_i[twiddle_at + 1]
    w2r, w2i = twiddle_r[twiddle_at + 2], twiddle_i[twiddle_at + 2]
    w3r, w3i = twiddle_r[twiddle_at + 3], twiddle_i[twiddle_at + 3]
    w4r, w4i = twiddle_r[twiddle_at + 4], twiddle_i[twiddle_at + 4]
    for f in range(xr.shape[1]):
        a0r, a0i = xr[i0, f], xi[i0, f]
        a1r, a1i = xr[i0 + step_in, f], xi[i0 + step_in, f]
        a2r, a2i = xr[i0 + 2 * step_in, f], xi[i0 + 2 * step_in, f]
        a3r, a3i = xr[i0 + 3 * step_in, f], xi[i0 + 3 * step_in, f]
        a4r, a4i = xr[i0 + 4 * step_in, f], xi[i0 + 4 * step_in, f]
        b1r, b1i = a1r + a4r, a1i + a4i
        b2r, b2i = a2r + a3r, a2i + a3i
        d1r, d1i = a1r - a4r, a1i - a4i
        d2r, d2i = a2r - a3r, a2i - a3i
        yr[o0, f] = a0r + b1r + b2r
        yi[o0, f] = a0i + b1i + b2i
        t1r, t1i = a0r + c1 * b1r + c2 * b2r, a0i + c1 * b1i + c2 * b2i
        t2r, t2i = a0r + c2 * b1r + c1 * b2r, a0i + c2 * b1i + c1 * b2i
        u1r, u1i = s1 * d1r + s2 * d2r, s1 * d1i + s2 * d2i
        u2r, u2i = s2 * d1r - s1 * d2r, s2 * d1i - s1 * d2i
        br, bi = t1r + u1i, t1i - u1r
        _store_rotated(yr, yi, o0 + step_out, f, br, bi, w1r, w1i)
        br, bi = t2r + u2i, t2i - u2r
        _store_rotated(yr, yi, o0 + 2 * step_out, f, br, bi, w2r, w2i)
        br, bi = t2r - u2i, t2i + u2r
        _store_rotated(yr, yi, o0 + 3 * step_out, f, br, bi, w3r, w3i)
        br, bi = t1r - u1i, t1i + u1r
        _store_rotated(yr, yi, o0 + 4 * step_out, f, br, bi, w4r, w4i)


@njit(cache=True, nogil=True, inline="always")
def _radix_any(xr, xi, yr, yi, p, i0, step_in, o0, step_out, twiddle_r, twiddle_i, twiddle_at,
               root_r, root_i, root_at):
    for k in range(p):
        out = o0 + k * step_out
        for f in range(xr.shape[1]):
            yr[out, f] = xr[i0, f]
            yi[out, f] = xi[i0, f]
        for r in range(1, p):
            cr, ci = root_r[root_at + (r * k) % p], root_i[root_at + (r * k) % p]
            row = i0 + r * step_in
            for f in range(xr.shape[1]):
                ar, ai = xr[row, f], xi[row, f]
                yr[out, f] += ar * cr - ai * ci
                yi[out, f] += ar * ci + ai * cr
        wr, wi = twiddle_r[twiddle_at + k], twiddle_i[twiddle_at + k]
        for f in range(xr.shape[1]):
            br, bi = yr[out, f], yi[out, f]
            _store_rotated(yr, yi, out, f, br, bi, wr, wi)


@njit(cache=True, nogil=True)
def _complex_fft(xr, xi, yr, yi, radix, twiddle_offset, root_offset, twiddle_r, twiddle_i,
                 root_r, root_i):
    """Stockham stages over (M, LANES) buffers; returns True when the transform ended in
    y (an odd number of stages), False when in x."""
    n = xr.shape[0]
    s = 1
    in_y = False
    for stage in range(radix.shape[0]):
        p = radix[stage]
        m = n // p
        src_r, src_i, dst_r, dst_i = (yr, yi, xr, xi) if in_y else (xr, xi, yr, yi)
        for j in range(m):
            at = twiddle_offset[stage] + j * p
            for q in range(s):
                i0 = q + s * j
                o0 = q + s * p * j
                if p == 4:
                    _radix4(src_r, src_i, dst_r, dst_i, i0, s * m, o0, s,
                            twiddle_r[at + 1], twiddle_i[at + 1], twiddle_r[at + 2],
                            twiddle_i[at + 2], twiddle_r[at + 3], twiddle_i[at + 3])
                elif p == 2:
                    _radix2(src_r, src_i, dst_r, dst_i, i0, s * m, o0, s,
                            twiddle_r[at + 1], twiddle_i[at + 1])
                elif p == 5:
                    _radix5(src_r, src_i, dst_r, dst_i, i0, s * m, o0, s, root_r, root_i,
                            root_offset[stage], twiddle_r, twiddle_i, at)
                else:
                    _radix_any(src_r, src_i, dst_r, dst_i, p, i0, s * m, o0, s, twiddle_r,
                               twiddle_i, at, root_r, root_i, root_offset[stage])
        in_y = not in_y
        n = m
        s *= p
    return in_y


@njit(cache=True, nogil=True)
def _power_block(zr, zi, split_ar, split_ai, split_br, split_bi, magnitude, divisor, power):
    """|X[k]|^2 (or |X[k]|, then / divisor when divisor > 0) for k = 0..M from the complex
    transform Z (M, LANES), into power (M + 1, LANES)."""
    half = zr.shape[0]
    for k in range(half + 1):
        k1 = k % half
        k2 = (half - k) % half
        ar, ai, br, bi = split_ar[k], split_ai[k], split_br[k], split_bi[k]
        for f in range(zr.shape[1]):
            pr, pi = zr[k1, f], zi[k1, f]
            cr, ci = zr[k2, f], -zi[k2, f]
            real = ar * pr - ai * pi + br * cr - bi * ci
            imag = ar * pi + ai * pr + br * ci + bi * cr
            power[k, f] = real * real + imag * imag
        if magnitude:
            for f in range(zr.shape[1]):
                power[k, f] = np.sqrt(power[k, f])
        if divisor > 0:
            for f in range(zr.shape[1]):
                power[k, f] /= divisor


@njit(cache=True, nogil=True)
def _filter_block(power, filters_t, first, stop, lo, count, energies, out):
    """out[lo + f, mel] = sum over the filter's span of filters_t[k, mel] power[k, f]."""
    for mel in range(first.shape[0]):
        for f in range(energies.shape[0]):
            energies[f] = 0
        for k in range(first[mel], stop[mel]):
            weight = filters_t[k, mel]
            for f in range(energies.shape[0]):
                energies[f] += weight * power[k, f]
        for f in range(count):
            out[lo + f, mel] = energies[f]


@njit(cache=True, nogil=True)
def _mel_energies_blocks(samples, hop, n_frames, window, remove_dc, preemphasis, coefficient,
                         first_rule, magnitude, divisor, radix, twiddle_offset, root_offset,
                         twiddle_r, twiddle_i, root_r, root_i, split_ar, split_ai, split_br,
                         split_bi, filters_t, first, stop, worker, workers, out):
    """Blocks worker, worker + workers, ... of LANES frames (one thread's share)."""
    half = split_ar.shape[0] - 1
    xr = np.empty((half, LANES), window.dtype)
    xi = np.empty((half, LANES), window.dtype)
    yr = np.empty((half, LANES), window.dtype)
    yi = np.empty((half, LANES), window.dtype)
    power = np.empty((half + 1, LANES), window.dtype)
    means = np.empty(LANES, window.dtype)
    energies = np.empty(LANES, window.dtype)
    for block in range(worker, (n_frames + LANES - 1) // LANES, workers):
        lo = block * LANES
        count = min(LANES, n_frames - lo)
        _load_block(samples, hop, lo, count, window, remove_dc, preemphasis, coefficient,
                    first_rule, means, xr, xi)
        if _complex_fft(xr, xi, yr, yi, radix, twiddle_offset, root_offset, twiddle_r,
                        twiddle_i, root_r, root_i):
            _power_block(yr, yi, split_ar, split_ai, split_br, split_bi, magnitude,
                         divisor, power)
        else:
            _power_block(xr, xi, split_ar, split_ai, split_br, split_bi, magnitude,
                         divisor, power)
        _filter_block(power, filters_t, first, stop, lo, count, energies, out)


def mel_energies_fast(frames: np.ndarray, n_fft: int, analysis_window: np.ndarray,
                      filters_t: np.ndarray, remove_dc: bool = False,
                      preemphasis: float | None = None, preemphasis_first: str = "copy",
                      spectrum: str = "power", scale_by_nfft: bool = False) -> np.ndarray:
    """(n_frames, n_mels) filterbank energies of `frames` (n_frames, L), L <= n_fft, even
    n_fft, in the frames' dtype (float32 or float64; the window and filters_t
    (n_fft // 2 + 1, n_mels) in the same dtype). The steps and arguments are those of
    `analysis_frames` and `power_spectrum`; see the module docstring for the algorithm."""
    dtype = frames.dtype
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"frames must be float32 or float64, got {dtype}")
    n_frames, length = frames.shape
    if length > n_fft:
        raise ValueError(f"frames of {length} samples exceed n_fft={n_fft}")
    plan = fft_plan(n_fft, dtype)
    first, stop = filter_spans(filters_t)
    out = np.empty((n_frames, filters_t.shape[1]), dtype)
    if n_frames == 0:
        return out
    samples, hop = frame_samples(frames)
    arguments = (samples, hop, n_frames, np.ascontiguousarray(analysis_window, dtype),
                 remove_dc, preemphasis is not None, dtype.type(preemphasis or 0.0),
                 PREEMPHASIS_FIRST[preemphasis_first], spectrum == "magnitude",
                 dtype.type(n_fft if scale_by_nfft else 0), *plan,
                 np.ascontiguousarray(filters_t, dtype), first, stop)
    workers = min(THREADS, -(-n_frames // LANES))
    threads = [threading.Thread(target=_mel_energies_blocks,
                                args=(*arguments, worker, workers, out))
               for worker in range(1, workers)]
    for thread in threads:
        thread.start()
    _mel_energies_blocks(*arguments, 0, workers, out)
    for thread in threads:
        thread.join()
    return out

