"""This project's NeMo model input against NeMo 3.0.0 itself.

Each golden set under fixtures/goldens/frontends/nemo_* was written by NeMo's own
AudioToMelSpectrogramPreprocessor (scripts/goldens/nemo_frontend.py, eval mode, dither 0)
from a model_config.yaml NeMo wrote (fixtures/configs/nemo). Here that config is read with
`read_config(path, "nemo")` and its `model_input` run on the same audio: frame count and
length must be equal and every value within `features.golden_model_input` (a few times our
own float32 spread on that utterance). Mutants put one wrong NeMo knob into the model
input's overrides and must fail the same comparison; the `upstream` test runs NeMo live.
"""

from __future__ import annotations

import dataclasses
import functools
import json

import numpy as np
import pytest

from rnnt_parity.audio import load_audio
from rnnt_parity.configs import read_config
from rnnt_parity.frontends.goldens import (
    GOLDEN_ROOT,
    REPOSITORY,
    compare_rows,
    float32_bound,
    load_golden_set,
)

REAL = "nemo_hybrid_char_tiny"
REAL_8K = "nemo_hybrid_char_tiny_8k"
VARIANTS = ("preprocessor_defaults", "window_hamming", "window_blackman", "window_bartlett",
            "n_fft_1024", "n_fft_null", "normalize_all_features", "normalize_null", "log_false",
            "log_zero_guard_clamp", "mag_power_1", "mel_norm_null", "band_limited", "preemph_null",
            "exact_pad_true", "pad_to_16", "pad_value_minus_5", "frame_splicing_3")
EXPECTED_SETS = {REAL, REAL_8K} | {f"nemo_variant_{name}" for name in VARIANTS}
NEMO_SETS = sorted(p.parent.name for p in GOLDEN_ROOT.glob("*/provenance.json")
                   if json.loads(p.read_text()).get("family") == "nemo")

# (golden set, the wrong overrides, what NeMo 3.0.0 does instead)
MUTANTS = {
    "normalisation_ddof_1_to_0": (REAL, {"norm_ddof": 0}, "per_feature std has ddof 1"),
    "all_features_ddof_1_to_0": ("nemo_variant_normalize_all_features", {"norm_ddof": 0},
                                 "all_features uses torch's std(), ddof 1"),
    "n_fft_null_to_512_at_8k": (REAL_8K, {"n_fft": 512},
                                "n_fft null is the next power of two of 200 samples: 256"),
    "preemphasis_off": (REAL, {"preemphasis": None}, "preemph defaults to 0.97"),
    "preemphasis_first_scaled": (REAL, {"preemphasis_first": "scaled"}, "y0 = x0"),
    "window_hann_to_hamming": (REAL, {"window": "hamming"}, "hann"),
    "window_symmetric_to_periodic": (REAL, {"window": "hann_periodic"}, "periodic=False"),
    "centred_to_exact_pad": (REAL, {"framing": "exact_pad"}, "exact_pad false: centred"),
    "exact_pad_to_centred": ("nemo_variant_exact_pad_true", {"framing": "centre"},
                             "exact_pad true: center=False after (n_fft - hop)//2 zeros"),
    "exact_pad_tail_kept": ("nemo_variant_exact_pad_true", {"preemphasis_time_mask": False},
                            "exact_pad zeroes the last (n_fft - hop)//2 samples"),
    "centre_padding_reflect": (REAL, {"centre_padding": "reflect"}, "pad_mode constant"),
    "log_guard_add_to_clamp": (REAL, {"log_floor_rule": "clamp"}, "ln(x + 2^-24)"),
    "log_guard_clamp_to_add": ("nemo_variant_log_zero_guard_clamp", {"log_floor_rule": "add"},
                               "ln(max(x, 2^-24))"),
    "mel_norm_slaney_off": (REAL, {"area_norm": False}, "mel_norm slaney"),
    "mel_norm_null_on": ("nemo_variant_mel_norm_null", {"area_norm": True}, "mel_norm null"),
    "mel_scale_htk": (REAL, {"mel_scale": "htk"}, "librosa's Slaney mel scale"),
    "mag_power_2_to_1": (REAL, {"spectrum": "magnitude"}, "mag_power 2"),
    "mag_power_1_to_2": ("nemo_variant_mag_power_1", {"spectrum": "power"}, "mag_power 1"),
    "pad_to_0_to_16": (REAL, {"pad_to": 16}, "the config's pad_to 0"),
    "pad_to_16_to_0": ("nemo_variant_pad_to_16", {"pad_to": 0}, "pad_to 16"),
    "pad_value_ignored": ("nemo_variant_pad_value_minus_5", {"pad_value": 0.0},
                          "frames past the length are pad_value"),
    "length_plus_one": (REAL, {"reported_length": "samples_div_hop_plus_one"},
                        "(N + 2 pad - n_fft)//hop"),
    "exact_pad_length_n_div_hop": ("nemo_variant_exact_pad_true",
                                   {"reported_length": "samples_div_hop"},
                                   "exact_pad reports N//hop - 1"),
    "frame_splicing_ignored": ("nemo_variant_frame_splicing_3", {"feature_repeat": 1},
                               "features tiled 3 times"),
    "band_limits_ignored": ("nemo_variant_band_limited", {"f_min": 0.0, "f_max": None},
                            "lowfreq 300, highfreq 3400"),
}


def _with_overrides(model_input, overrides: dict):
    return dataclasses.replace(model_input,
                               overrides={**dict(model_input.overrides), **overrides})


@functools.cache
def comparisons(name: str, mutant: str | None = None):
    """Per utterance of golden set `name`: this project's rows for the set's config (with
    MUTANTS[mutant]'s overrides) against NeMo's."""
    golden = load_golden_set(name)
    native = read_config(REPOSITORY / golden.provenance["config"], "nemo")
    model_input = native.model_input
    if mutant is not None:
        model_input = _with_overrides(model_input, MUTANTS[mutant][1])
    results = []
    for stem, path in golden.audio.items():
        signal, rate = load_audio(path, None)
        ours = model_input.rows_and_length(signal, rate)
        bound = float32_bound(model_input, signal, rate, ours.rows.astype(np.float64))
        results.append(compare_rows(stem, ours.rows, ours.length, golden.rows[stem],
                                    golden.lengths[stem], bound))
    return results


def test_every_nemo_golden_set_is_committed():
    assert set(NEMO_SETS) == EXPECTED_SETS


@pytest.mark.parametrize("name", NEMO_SETS)
def test_the_golden_set_was_written_by_nemo_3_0_0_without_dither(name):
    provenance = load_golden_set(name).provenance
    assert (provenance["library"], provenance["version"]) == ("nemo-toolkit", "3.0.0")
    assert provenance["settings"]["dither"] == 0.0
    assert (REPOSITORY / provenance["config"]).is_file()


@pytest.mark.parametrize("name", NEMO_SETS)
def test_frame_counts_and_lengths_equal_nemos(name):
    for result in comparisons(name):
        assert result.frames[0] == result.frames[1] and result.lengths[0] == result.lengths[1], \
            result.describe()


@pytest.mark.parametrize("name", NEMO_SETS)
def test_values_are_within_the_golden_tolerance(name):
    for result in comparisons(name):
        assert result.passed, result.describe()


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_a_wrong_nemo_knob_fails_the_golden_comparison(mutant):
    name, overrides, nemo_does = MUTANTS[mutant]
    assert comparisons(name), f"{name} has no utterances"
    failed = [r.describe() for r in comparisons(name, mutant) if not r.passed]
    assert failed, f"{overrides} passed the {name} goldens although NeMo: {nemo_does}"


def _live_nemo():
    try:
        import nemo.collections.asr  # noqa: F401
        from nemo.core.classes.modelPT import ModelPT
        from omegaconf import OmegaConf
    except Exception as error:  # ImportError, or NeMo failing inside its own imports
        pytest.skip(f"nemo.collections.asr is not importable here: {type(error).__name__}: "
                    f"{str(error)[:200]}")
    return ModelPT, OmegaConf


@pytest.mark.upstream
@pytest.mark.parametrize("name", [REAL, REAL_8K, "nemo_variant_exact_pad_true",
                                  "nemo_variant_frame_splicing_3"])
def test_the_model_input_matches_nemo_run_live(name):
    model_pt, omegaconf = _live_nemo()
    import torch

    golden = load_golden_set(name)
    config = REPOSITORY / golden.provenance["config"]
    cfg = omegaconf.load(config)
    section = (cfg.model if "model" in cfg else cfg).preprocessor
    section.dither = 0.0
    preprocessor = model_pt.from_config_dict(section)
    preprocessor.eval()
    model_input = read_config(config, "nemo").model_input
    for stem, path in golden.audio.items():
        signal, rate = load_audio(path, None)
        with torch.no_grad():
            features, length = preprocessor(
                input_signal=torch.from_numpy(signal.astype(np.float32))[None],
                length=torch.tensor([signal.shape[0]]))
        real = features[0].T.numpy().astype(np.float32)
        ours = model_input.rows_and_length(signal, rate)
        bound = float32_bound(model_input, signal, rate, ours.rows.astype(np.float64))
        result = compare_rows(stem, ours.rows, ours.length, real, int(length[0]), bound)
        assert result.passed, result.describe()
