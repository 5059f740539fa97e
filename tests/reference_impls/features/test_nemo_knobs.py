"""The knobs NeMo 3.0.0's preprocessor needs: exact_pad framing and its pre-emphasis tail
mask, torch's symmetric Blackman and Bartlett windows, the frames-minus-one reported length
and frame_splicing's feature repeat. Their agreement with NeMo itself is checked against
NeMo's goldens in tests/rnnt_parity/frontends/test_nemo_goldens.py."""

import numpy as np
import pytest

from reference_impls.features import log_mel_with_length, preset
from reference_impls.features.framing import frame_count, frame_signal, frame_starts
from reference_impls.features.spectrum import window

SIGNAL = np.random.default_rng(3).uniform(-0.5, 0.5, 12364)


@pytest.mark.parametrize(("n", "frames"), [(12364, 77), (16000, 100), (16159, 100)])
def test_exact_pad_computes_n_div_hop_frames_for_an_even_pad(n, frames):
    # 1 + (N + 2*176 - 512)//160 = N//160 with n_fft 512, hop 160
    assert frame_count(n, "exact_pad", 400, 160, 512) == frames


def test_exact_pad_frames_start_after_the_pad_with_the_window_centred():
    # frame t covers padded samples [160 t, 160 t + 512); the 400-sample window sits 56 in
    assert list(frame_starts(3, "exact_pad", 400, 160, 512)) == [-120, 40, 200]


def test_exact_pad_fills_outside_the_signal_with_zeros():
    # pad (6 - 2)//2 = 2; frame 0 is padded [0, 6) = samples [-2, 4), its window [-1, 3)
    frames = frame_signal(np.arange(1.0, 11.0), "exact_pad", 4, 2, n_fft=6)
    np.testing.assert_array_equal(frames[:2], [[0, 1, 2, 3], [2, 3, 4, 5]])


def test_exact_pad_refuses_a_signal_shorter_than_one_padded_frame():
    with pytest.raises(ValueError, match="exact_pad framing needs N"):
        frame_count(100, "exact_pad", 400, 160, 512)


def test_the_preemphasis_time_mask_zeroes_the_last_pad_samples():
    config = preset("nemo", framing="exact_pad", pad_to=0)
    emphasised = SIGNAL.copy()
    emphasised[1:] -= 0.97 * SIGNAL[:-1]
    emphasised[-(512 - 160) // 2:] = 0.0
    masked = log_mel_with_length(SIGNAL, 16000, config.with_overrides(
        preemphasis_time_mask=True)).features
    by_hand = log_mel_with_length(emphasised, 16000, config.with_overrides(
        preemphasis=None)).features
    np.testing.assert_allclose(masked, by_hand, atol=1e-9)


def test_blackman_is_torchs_symmetric_blackman():
    w = window("blackman", 5)
    np.testing.assert_allclose(w, [0.0, 0.34, 1.0, 0.34, 0.0], atol=1e-12)


def test_bartlett_is_torchs_symmetric_triangle():
    np.testing.assert_allclose(window("bartlett", 5), [0.0, 0.5, 1.0, 0.5, 0.0], atol=1e-15)


def test_frames_minus_one_reports_one_fewer_than_computed():
    out = log_mel_with_length(SIGNAL, 16000, preset("nemo", pad_to=0))
    assert (out.features.shape[0], out.length) == (78, 77)


def test_feature_repeat_tiles_the_features_before_normalisation():
    base = log_mel_with_length(SIGNAL, 16000, preset("nemo", normalise="none")).features
    out = log_mel_with_length(SIGNAL, 16000, preset("nemo", feature_repeat=3,
                                                    normalise="none")).features
    np.testing.assert_array_equal(out, np.tile(base, (1, 3)))


def test_feature_repeat_all_features_statistics_count_every_copy():
    # ddof 1 over 3x the values: the variance differs from one copy's (n - 1 vs 3n - 1)
    one = log_mel_with_length(SIGNAL, 16000, preset("nemo", normalise="all_features")).features
    three = log_mel_with_length(SIGNAL, 16000, preset("nemo", normalise="all_features",
                                                      feature_repeat=3)).features
    assert not np.allclose(three[:, :64], one, atol=1e-7, rtol=0)


def test_feature_repeat_must_be_a_positive_int():
    with pytest.raises(ValueError, match="feature_repeat must be a positive int, got 0"):
        preset("nemo", feature_repeat=0)
