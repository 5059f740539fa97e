"""Reference presets reproduce the real libraries (python_speech_features 0.6, torchaudio
MelSpectrogram, torchaudio.compliance.kaldi.fbank, and psf and MelSpectrogram called as
myrtlespeech's LogMelFB calls them) in float64, on real speech and on drawn signals; and each
known front-end pitfall, written as a mutant of the reference config, is caught by the same
comparison."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reference_impls.features import log_mel_with_length, preset
from reference_impls.features.spectrum import window
from rnnt_parity.fixtures import load_audio_fixtures
from rnnt_parity.frontends.checks import (
    N_MELS_VARIANTS,
    compare_log_features,
    feature_comparison,
)
from rnnt_parity.frontends.production import PRODUCTION_FRONTENDS, python_speech_features_logfbank
from rnnt_parity.strategies import audio_signals
from tests.helpers import assert_comparisons_pass

AUDIO = load_audio_fixtures()
# The middle of an utterance: speech up to both edges, where padding conventions differ
# (the files themselves begin and end in silence, where reflect and zero padding agree).
SPEECH = AUDIO[1].signal[AUDIO[1].signal.size // 4: 3 * AUDIO[1].signal.size // 4]


@pytest.mark.parametrize("preset_name", sorted(PRODUCTION_FRONTENDS))
@pytest.mark.parametrize("n_mels", N_MELS_VARIANTS)
def test_reference_preset_reproduces_the_library_on_real_speech(preset_name, n_mels):
    assert_comparisons_pass(
        [feature_comparison(preset_name, u.signal, u.sample_rate, n_mels) for u in AUDIO],
        what=[f"{preset_name} on {u.name}" for u in AUDIO])


@pytest.mark.parametrize("preset_name", sorted(PRODUCTION_FRONTENDS))
@given(signal=audio_signals(), n_mels=st.sampled_from([20, 40, 80]))
def test_reference_preset_reproduces_the_library_on_drawn_signals(preset_name, signal, n_mels):
    assert_comparisons_pass([feature_comparison(preset_name, signal, 16000, n_mels)],
                            what=[preset_name])


def test_python_speech_features_80_filters_leave_band_2_constant_in_the_library_too():
    library = python_speech_features_logfbank(SPEECH, 16000, n_mels=80)
    np.testing.assert_array_equal(library[:, 2], np.log(np.finfo(float).eps))
    assert np.ptp(library, axis=0).nonzero()[0].size == 79


def mutant_is_caught(preset_name: str, **mutation) -> bool:
    """True when the reference with `mutation` applied no longer matches the library."""
    reference = log_mel_with_length(SPEECH, 16000, preset(preset_name, **mutation)).features
    library = PRODUCTION_FRONTENDS[preset_name](SPEECH, 16000)
    if reference.shape != library.shape:
        return True
    return not compare_log_features(library, reference).passed


def test_the_unmutated_presets_pass_so_the_mutants_below_mean_something():
    assert not any(mutant_is_caught(name) for name in PRODUCTION_FRONTENDS)


def test_whole_signal_preemphasis_in_kaldi_is_caught():
    assert mutant_is_caught("kaldi", preemphasis_scope="signal", preemphasis_first="copy")


def test_missing_dc_removal_in_kaldi_is_caught():
    assert mutant_is_caught("kaldi", remove_dc_offset=False)


def test_kaldi_first_sample_rule_is_invisible_under_the_povey_window():
    """The povey window is 0 at sample 0, so y0 = x0 and y0 = 0.03 x0 give the same features:
    a port may get this rule wrong and no comparison with Kaldi can tell."""
    assert window("povey", 400)[0] == 0.0
    assert not mutant_is_caught("kaldi", preemphasis_first="copy")


def test_htk_and_kaldi_mel_constants_give_the_same_filterbank():
    """2595 log10(1 + f/700) = 1126.994 ln(1 + f/700) vs Kaldi's 1127 ln(1 + f/700): both
    scales are c ln(1 + f/700), and triangles spaced evenly in mels are invariant to c, so
    swapping them is harmless (a suspicion to rule out, not a pitfall)."""
    assert not mutant_is_caught("kaldi", mel_scale="htk")


def test_hann_instead_of_povey_window_in_kaldi_is_caught():
    assert mutant_is_caught("kaldi", window="hann_symmetric")


def test_snip_edges_false_in_kaldi_is_caught():
    assert mutant_is_caught("kaldi", framing="kaldi_reflect")


def test_unit_amplitude_instead_of_int16_in_kaldi_is_caught():
    assert mutant_is_caught("kaldi", signal_range="unit")


def test_symmetric_hann_instead_of_periodic_in_torchaudio_is_caught():
    assert mutant_is_caught("torchaudio_melspectrogram", window="hann_symmetric")


def test_constant_centre_padding_instead_of_reflect_in_torchaudio_is_caught():
    assert mutant_is_caught("torchaudio_melspectrogram", centre_padding="constant")


def test_slaney_area_norm_in_torchaudio_is_caught():
    assert mutant_is_caught("torchaudio_melspectrogram", area_norm=True)


def test_hz_triangles_instead_of_integer_bins_in_python_speech_features_is_caught():
    assert mutant_is_caught("python_speech_features", filters="hz_triangles")


def test_missing_one_over_nfft_in_python_speech_features_is_caught():
    assert mutant_is_caught("python_speech_features", power_scale_by_nfft=False)


def test_hamming_window_in_python_speech_features_is_caught():
    """logfbank() ignores winfunc: its window is rectangular whatever fbank() offers."""
    assert mutant_is_caught("python_speech_features", window="hamming")
