"""log_mel end to end: preset defaults, lengths, options, dtype paths and bad input.

Parity with the real libraries lives in tests/rnnt_parity/frontends (this package never
imports them).
"""

import numpy as np
import pytest

from reference_impls.features import PRESETS, log_mel, log_mel_with_length, preset
from rnnt_parity.compare import compare, tolerance_for
from tests.helpers import assert_comparisons_pass
from tests.reference_impls.features.audio import speech_and_tones

ONE_SECOND = np.random.default_rng(0).uniform(-0.5, 0.5, 16000)

# (preset, frames computed for 1 s at 16 kHz, reported length, n_mels): from each
# library's defaults, as documented in reference_impls/features/presets.py.
DEFAULT_SHAPES = [
    ("python_speech_features", 1 + 98, 99, 26),   # 1 + ceil((16000 - 400)/160)
    ("torchaudio_melspectrogram", 81, 81, 128),   # 1 + 16000//200
    ("kaldi", 98, 98, 23),                        # 1 + (16000 - 400)//160
    ("nemo", 112, 100, 64),                       # 101 frames padded to 7*16; 16000//160
    ("myrtle", 99, 99, 80),                       # 1 + (16000 - 320)//160, uncentred
    ("myrtle_centred", 101, 101, 80),             # 1 + 16000//160
    ("myrtlespeech_psf", 99, 99, 80),             # 1 + ceil((16000 - 400)/160)
    ("myrtlespeech_torchaudio", 101, 101, 80),    # 1 + 16000//160
]


@pytest.mark.parametrize(("name", "frames", "length", "n_mels"), DEFAULT_SHAPES)
def test_preset_default_shapes(name, frames, length, n_mels):
    out = log_mel_with_length(ONE_SECOND, 16000, preset(name))
    assert out.features.shape == (frames, n_mels)
    assert out.length == length


def test_nemo_masks_frames_past_the_reported_length():
    out = log_mel_with_length(ONE_SECOND, 16000, preset("nemo"))
    assert np.all(out.features[out.length:] == 0.0)
    assert np.all(out.features[:out.length].std(axis=0) > 0.5)


def test_nemo_legacy_length_counts_one_more_frame():
    out = log_mel_with_length(ONE_SECOND, 16000,
                              preset("nemo", reported_length="samples_div_hop_plus_one"))
    assert out.length == 101


def test_myrtle_features_are_normalised_per_bin_with_ddof_0():
    feats = log_mel(ONE_SECOND, 16000, "myrtle")
    np.testing.assert_allclose(feats.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(feats.std(axis=0), 1.0, rtol=1e-12)


def test_int16_and_float_input_of_the_same_audio_agree():
    pcm = np.round(ONE_SECOND * 32767).astype(np.int16)
    for name in PRESETS:
        np.testing.assert_array_equal(log_mel(pcm, 16000, name),
                                      log_mel(pcm.astype(np.float64) / 32768, 16000, name))


def test_overrides_change_one_step():
    assert log_mel(ONE_SECOND, 16000, "kaldi", n_mels=80).shape == (98, 80)


def test_dither_changes_the_features_deterministically():
    noise = np.random.default_rng(1).standard_normal(16000) * 1e-3
    a = log_mel(ONE_SECOND, 16000, "kaldi", dither=noise)
    np.testing.assert_array_equal(a, log_mel(ONE_SECOND, 16000, "kaldi", dither=noise))
    assert not np.array_equal(a, log_mel(ONE_SECOND, 16000, "kaldi"))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_float32_path_matches_float64_in_energy(name):
    """float32 mel energies within the float32 tolerance of float64, scaled per frame."""
    options = dict(log="none", normalise="none", mask_beyond_length=False, pad_to=0)
    tolerance = tolerance_for("float32", "any", "features.mel_energy")
    comparisons = []
    for signal in speech_and_tones():
        exact = log_mel(signal, 16000, name, **options)
        single = log_mel(signal.astype(np.float32), 16000, name, dtype="float32", **options)
        assert single.dtype == np.float32
        comparisons.append(compare(single, exact, tolerance, exact.max(axis=1)))
    assert_comparisons_pass(comparisons, what=[name] * len(comparisons))


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("n", [0, 1, 319])
def test_every_preset_rejects_audio_shorter_than_one_window_the_same_way(name, n):
    with pytest.raises(ValueError, match="at least one analysis window"):
        log_mel(np.zeros(n), 16000, name)


def test_unknown_preset_is_rejected_listing_the_known():
    with pytest.raises(ValueError, match="unknown preset 'librosa'; known: .*kaldi"):
        log_mel(ONE_SECOND, 16000, "librosa")


def test_unknown_option_is_rejected_listing_the_known():
    with pytest.raises(TypeError, match=r"unknown front-end option\(s\) \['nfilt'\]"):
        log_mel(ONE_SECOND, 16000, "kaldi", nfilt=40)


@pytest.mark.parametrize(("option", "value", "message"), [
    ("window", "kaiser", "window must be one of"),
    ("n_mels", 0, "n_mels must be a positive int"),
    ("preemphasis", 1.5, "preemphasis must lie in"),
    ("log_floor", 0.0, "log_floor must be positive"),
    ("n_fft", 256, "win_length 400 exceeds n_fft 256"),
])
def test_bad_option_values_are_rejected_naming_the_option(option, value, message):
    with pytest.raises(ValueError, match=message):
        log_mel(ONE_SECOND, 16000, "kaldi", **{option: value})


@pytest.mark.parametrize("rate", [0, -16000, "16000", True])
def test_bad_sample_rate_is_rejected(rate):
    with pytest.raises(ValueError, match="sample_rate must be a positive number"):
        log_mel(ONE_SECOND, rate, "kaldi")


def test_fixed_normalisation_needs_statistics():
    with pytest.raises(ValueError, match="needs fixed_mean and fixed_std"):
        preset("kaldi", normalise="fixed")
