"""The Numba spectrum kernel (`mel_energies_fast`) against the spec's steps: `analysis_frames`
-> `power_spectrum` (scipy's FFT) -> `@ filters_t`, in float64 to the fast-spectrum
tolerance and in float32 to the float32 mel-energy tolerance, both per frame's peak."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import reference_impls.features.spectrum_kernels as kernels
from reference_impls.features.framing import frame_signal
from reference_impls.features.mel import mel_filters
from reference_impls.features.pipeline import mel_energies
from reference_impls.features.presets import preset
from reference_impls.features.spectrum import analysis_frames, power_spectrum, window
from reference_impls.features.spectrum_kernels import (
    LANES,
    filter_spans,
    mel_energies_fast,
    radices,
)
from rnnt_parity.compare import compare, tolerance_for
from tests.helpers import assert_comparisons_pass

FAST = tolerance_for("float64", "any", "features.fast_spectrum")
SINGLE = tolerance_for("float32", "any", "features.mel_energy")

# (n_fft, frame length): radix-4 stages (512), 2 and 5 (400 = 2^4 5^2), the generic
# radix (30: M = 15 = 3 x 5; 28: M = 14 = 2 x 7), a tiny transform and M = 1 (no stage).
SIZES = [(512, 400), (512, 320), (400, 400), (30, 27), (28, 28), (8, 5), (2, 2)]
# (remove_dc, preemphasis, preemphasis_first, spectrum, scale_by_nfft)
STEPS = [(False, None, "copy", "power", False), (True, 0.97, "scaled", "power", False),
         (False, 0.97, "reflect", "magnitude", True), (True, 0.97, "copy", "power", True)]


def filters_for(n_fft, dtype=np.float64):
    n_mels = 80 if n_fft >= 256 else 3
    return mel_filters("hz_triangles", n_mels, n_fft, 16000, 0.0, None, "slaney",
                       True).T.astype(dtype)


def spec_energies(frames, n_fft, analysis_window, filters_t, remove_dc=False, preemphasis=None,
                  first="copy", spectrum="power", scale=False):
    """The spec's steps in float64."""
    buffer = analysis_frames(frames.astype(np.float64), n_fft, analysis_window.astype(np.float64),
                             remove_dc, preemphasis, first)
    return power_spectrum(buffer, spectrum, scale) @ filters_t.astype(np.float64)


def speech_like_frames(n_frames, length, seed=0, dtype=np.float64):
    """Frames of a signal with a DC offset and a tone, so that DC removal and pre-emphasis
    matter."""
    rng = np.random.default_rng(seed)
    hop = max(1, length // 2)
    n = np.arange((n_frames - 1) * hop + length)
    signal = 0.3 + 0.5 * np.sin(0.07 * n) + 0.1 * rng.standard_normal(n.size)
    return frame_signal(signal.astype(dtype), "snip_edges", length, hop)


def test_radices_take_fours_then_a_two_then_the_odd_primes():
    assert radices(256) == [4, 4, 4, 4]
    assert radices(200) == [4, 2, 5, 5]
    assert radices(15) == [3, 5]
    assert radices(14) == [2, 7]
    assert radices(1) == []


@pytest.mark.parametrize(("n_fft", "length"), SIZES)
@pytest.mark.parametrize("steps", STEPS, ids=lambda s: "-".join(map(str, s)))
def test_float64_energies_equal_the_spec_steps(n_fft, length, steps):
    frames = speech_like_frames(2 * LANES + 3, length)
    analysis_window = window("povey", length)
    filters_t = filters_for(n_fft)
    fast = mel_energies_fast(frames, n_fft, analysis_window, filters_t, *steps)
    exact = spec_energies(frames, n_fft, analysis_window, filters_t, *steps)
    assert_comparisons_pass([compare(fast, exact, FAST, exact.max(axis=1))])


@pytest.mark.parametrize(("n_fft", "length"), SIZES[:4])
def test_float32_energies_are_within_the_float32_tolerance_of_the_float64_spec(n_fft, length):
    frames = speech_like_frames(LANES + 5, length, dtype=np.float32)
    analysis_window = window("hann_periodic", length, np.float32)
    filters_t = filters_for(n_fft, np.float32)
    fast = mel_energies_fast(frames, n_fft, analysis_window, filters_t, True, 0.97, "scaled")
    assert fast.dtype == np.float32
    exact = spec_energies(frames, n_fft, analysis_window, filters_t, True, 0.97, "scaled")
    assert_comparisons_pass([compare(fast, exact, SINGLE, exact.max(axis=1))])


@given(st.integers(1, 40), st.integers(1, 3 * LANES), st.data())
def test_any_even_transform_equals_the_spec(half, n_frames, data):
    n_fft = 2 * half
    length = data.draw(st.integers(1, n_fft))
    seed = data.draw(st.integers(0, 2**31))
    frames = np.random.default_rng(seed).standard_normal((n_frames, length))
    analysis_window = window("hann_symmetric", length)
    filters_t = np.abs(np.random.default_rng(seed + 1).standard_normal((half + 1, 4)))
    fast = mel_energies_fast(frames, n_fft, analysis_window, filters_t)
    exact = spec_energies(frames, n_fft, analysis_window, filters_t)
    assert_comparisons_pass([compare(fast, exact, FAST, exact.max(axis=1))])


@pytest.mark.parametrize("planted", ["conjugated twiddles", "swapped split factors"])
def test_the_agreement_bound_fails_a_planted_transform_bug(monkeypatch, planted):
    """The comparison above can fail: a kernel fed wrong tables is far outside it."""
    right = kernels.fft_plan

    def wrong_plan(n_fft, dtype):
        plan = list(right(n_fft, dtype))
        if planted == "conjugated twiddles":
            plan[4] = -plan[4]
        else:
            plan[7:9], plan[9:11] = plan[9:11], plan[7:9]
        return tuple(plan)

    monkeypatch.setattr(kernels, "fft_plan", wrong_plan)
    frames = speech_like_frames(LANES, 400)
    analysis_window = window("povey", 400)
    filters_t = filters_for(512)
    fast = mel_energies_fast(frames, 512, analysis_window, filters_t)
    exact = spec_energies(frames, 512, analysis_window, filters_t)
    assert not compare(fast, exact, FAST, exact.max(axis=1)).passed


def test_results_do_not_depend_on_the_thread_count_or_the_block(monkeypatch):
    frames = speech_like_frames(3 * LANES + 7, 400)
    analysis_window = window("povey", 400)
    filters_t = filters_for(512)
    two = mel_energies_fast(frames, 512, analysis_window, filters_t, True, 0.97, "scaled")
    monkeypatch.setattr(kernels, "THREADS", 1)
    one = mel_energies_fast(frames, 512, analysis_window, filters_t, True, 0.97, "scaled")
    alone = mel_energies_fast(frames[LANES + 3:LANES + 4], 512, analysis_window, filters_t, True,
                              0.97, "scaled")
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(alone[0], two[LANES + 3])


def test_strided_copied_and_reversed_frames_give_the_same_rows():
    frames = speech_like_frames(LANES + 9, 320)
    analysis_window = window("hann_periodic", 320)
    filters_t = filters_for(512)
    view = mel_energies_fast(frames, 512, analysis_window, filters_t)
    np.testing.assert_array_equal(
        mel_energies_fast(np.ascontiguousarray(frames), 512, analysis_window, filters_t), view)
    np.testing.assert_array_equal(
        mel_energies_fast(frames[::-1], 512, analysis_window, filters_t), view[::-1])


def test_filter_spans_cover_each_filters_nonzero_bins_and_an_all_zero_filter_is_empty():
    filters_t = np.zeros((9, 3))
    filters_t[2:5, 0] = 1.0
    filters_t[[4, 8], 2] = 1.0
    first, stop = filter_spans(filters_t)
    assert first.tolist() == [2, 0, 4]
    assert stop.tolist() == [5, 0, 9]
    frames = speech_like_frames(4, 16)
    energies = mel_energies_fast(frames, 16, np.ones(16), filters_t)
    np.testing.assert_array_equal(energies[:, 1], 0.0)


def test_an_odd_n_fft_takes_the_spec_steps_in_the_pipeline():
    config = preset("kaldi", n_fft=401)
    frames = speech_like_frames(LANES + 1, 400)
    analysis_window = window("povey", 400)
    filters_t = mel_filters("mel_triangles", 23, 401, 16000, 20.0, 0.0, "kaldi", False).T
    with pytest.raises(ValueError, match="even n_fft >= 2, got 401"):
        mel_energies_fast(frames, 401, analysis_window, filters_t)
    np.testing.assert_allclose(
        mel_energies(frames, 401, analysis_window, filters_t, config),
        spec_energies(frames, 401, analysis_window, filters_t, True, 0.97, "scaled"),
        rtol=1e-12)


def test_bad_frames_are_refused_naming_the_problem():
    with pytest.raises(TypeError, match="float32 or float64, got int64"):
        mel_energies_fast(np.ones((2, 8), np.int64), 8, np.ones(8), np.ones((5, 2)))
    with pytest.raises(ValueError, match="frames of 9 samples exceed n_fft=8"):
        mel_energies_fast(np.ones((2, 9)), 8, np.ones(9), np.ones((5, 2)))
