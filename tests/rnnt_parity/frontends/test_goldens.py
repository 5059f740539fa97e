"""Model inputs against golden outputs of the real codebases (fixtures/goldens/frontends).

Each golden set was written by the real pipeline (scripts/goldens/*_frontend.py: Myrtle's
DALI pipeline, myrtlespeech's preprocessing, NeMo's preprocessor) on committed audio. The
project's model input, read from the same config as `features extract` reads it, must give
the same frame counts and lengths and values within `features.golden_model_input`; each
planted mutant of a knob the real code sets must fail on at least one utterance.
"""

import dataclasses

import numpy as np
import pytest

from rnnt_parity.frontends.goldens import (
    REPOSITORY,
    compare_rows,
    compare_with_golden,
    golden_sets,
    load_golden_set,
)

SETS = golden_sets()
PROVENANCE_FIELDS = ("family", "revision", "config", "audio", "library", "commit", "settings",
                     "command", "created")


def mutated(name: str, **overrides):
    golden = load_golden_set(name)
    model_input = golden.native_input().model_input
    fields = {k: v for k, v in overrides.items() if k in dataclasses.asdict(model_input)}
    front_end = {k: v for k, v in overrides.items() if k not in fields}
    return golden, dataclasses.replace(model_input, **fields,
                                       overrides={**dict(model_input.overrides), **front_end})


def assert_caught(golden, model_input) -> None:
    results = compare_with_golden(golden, model_input)
    assert not all(r.passed for r in results), [r.describe() for r in results]


def test_there_is_a_golden_set_for_every_codebase_pipeline():
    families = {(load_golden_set(s).provenance["family"], load_golden_set(s).provenance[
        "revision"]) for s in SETS}
    assert {("myrtle_rnnt", "v1.3"), ("myrtlespeech", "24d2df3"), ("myrtlespeech", "a7eea9a"),
            ("dsi", "45899f7"), ("nemo", "3.0")} <= families


@pytest.mark.parametrize("name", SETS)
def test_golden_set_records_where_it_came_from(name):
    golden = load_golden_set(name)
    assert set(PROVENANCE_FIELDS) <= set(golden.provenance)
    assert (REPOSITORY / golden.provenance["config"]).is_file()
    assert all(path.is_file() for path in golden.audio.values())
    assert set(golden.rows) == set(golden.lengths) == set(golden.audio)


@pytest.mark.parametrize("name", SETS)
def test_model_input_reproduces_the_real_pipeline(name):
    results = compare_with_golden(load_golden_set(name))
    assert all(r.passed for r in results), [r.describe() for r in results]


def test_a_frame_count_that_differs_fails_naming_both_counts():
    rows = np.zeros((5, 3), np.float32)
    result = compare_rows("u", rows[:4], 4, rows, 5, bound=1e-3)
    assert not result.passed and "4 frames, the real code 5" in result.describe()


def test_a_value_that_differs_is_located_with_both_values():
    real = np.zeros((5, 3), np.float32)
    ours = real.copy()
    ours[2, 1] = 0.5
    result = compare_rows("u", ours, 5, real, 5, bound=1e-3)
    assert not result.passed
    assert "frame 2, column 1 (ours 0.5, real 0)" in result.describe()


MYRTLE = "myrtle-v1.3-testing-1023sp"
MYRTLE_MUTANTS = {
    "normalisation_ddof_1": {"norm_ddof": 1},
    "centred_frames": {"framing": "centre"},
    "n_fft_1024": {"n_fft": 1024},
    "no_preemphasis": {"preemphasis": None},
    "periodic_hann_window": {"window": "hann_periodic"},
    "25_ms_window_of_base_8703sp": {"frame_length_s": 0.025},
    "htk_mel_scale": {"mel_scale": "htk"},
    "no_subsampling": {"subsample": 1},
}


@pytest.mark.parametrize("mutant", sorted(MYRTLE_MUTANTS))
def test_myrtle_golden_catches(mutant):
    assert_caught(*mutated(MYRTLE, **MYRTLE_MUTANTS[mutant]))


MYRTLESPEECH = "myrtlespeech-24d2df3-rnn_t_en"
MYRTLESPEECH_MUTANTS = {
    "subsampling_before_the_context": {"context_first": False},
    "no_standardize": {"normalise": "none"},
    "standardize_with_ddof_0": {"norm_ddof": 0},
    "standardize_per_feature": {"normalise": "per_feature"},
    "psf_preemphasis_applied": {"preemphasis": 0.97},
    "int16_amplitude": {"signal_range": "int16"},
    "hann_window": {"window": "hann_periodic"},
    "n_fft_400": {"n_fft": 400, "truncate_frames": False},
    "no_subsampling": {"subsample": 1},
    "torchaudio_front_end": {"source": "myrtlespeech_torchaudio", "subsample": 2},
}


@pytest.mark.parametrize("mutant", sorted(MYRTLESPEECH_MUTANTS))
def test_myrtlespeech_golden_catches(mutant):
    overrides = dict(MYRTLESPEECH_MUTANTS[mutant])
    if overrides.get("source") == "myrtlespeech_torchaudio":
        golden, model_input = mutated(MYRTLESPEECH, subsample=2)
        model_input = dataclasses.replace(model_input, source="myrtlespeech_torchaudio")
    else:
        golden, model_input = mutated(MYRTLESPEECH, **overrides)
    assert_caught(golden, model_input)


def test_myrtlespeech_before_45899f7_golden_catches_the_psf_front_end():
    golden, model_input = mutated("myrtlespeech-a7eea9a-rnn_t_en")
    assert_caught(golden, dataclasses.replace(model_input, source="myrtlespeech_psf",
                                              overrides={}))


def test_dsi_golden_catches_the_final_channel_dropped_instead_of_the_first():
    """45899f7's comment says "delete the final channel"; its code drops the first (t-2)."""
    golden = load_golden_set("dsi-45899f7")
    model_input = golden.native_input().model_input
    full = dataclasses.replace(model_input, drop_leading_context=0)
    stem, path = next(iter(golden.audio.items()))
    from rnnt_parity.audio import load_audio

    signal, rate = load_audio(path, 16000)
    rows = full.rows_and_length(signal, rate)
    result = compare_rows(stem, rows.rows[:, :320], rows.length, golden.rows[stem],
                          golden.lengths[stem], bound=1e-3)
    assert not result.passed


def test_dsi_golden_catches_subsampling_before_the_context():
    assert_caught(*mutated("dsi-45899f7", context_first=False))
