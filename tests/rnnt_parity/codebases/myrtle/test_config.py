"""Myrtle YAML (caiman-asr's training/configs) -> MyrtleConfig and the v1.3 model input.

The files under fixtures/configs/myrtle/ are the real ones (v1.3.0 at c5d9abf, v1.14.0 at
08d60d8); errors name the file and the field.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnt_parity.codebases.myrtle.config import read_myrtle_model_input, read_myrtle_yaml
from rnnt_parity.codebases.myrtle.infer import infer_myrtle
from rnnt_parity.codebases.myrtle.model import MYRTLE_CONFIGS, MyrtleRNNT
from rnnt_parity.configs import ConfigError, config_vs_checkpoint, read_config

MYRTLE = Path(__file__).resolve().parents[4] / "fixtures" / "configs" / "myrtle"
V13 = MYRTLE / "v1.3.0"
V114 = MYRTLE / "v1.14.0"
CLASSES = {"testing-1023sp": 1024, "base-8703sp": 8704}


@pytest.mark.parametrize(("name", "elements"), [("testing-1023sp", 49_006_080),
                                                ("base-8703sp", 84_690_432)])
def test_real_v1_3_configs_build_the_published_models(name, elements):
    native = read_config(V13 / f"{name}.yaml", "myrtle_rnnt", CLASSES[name])
    assert native.config == MYRTLE_CONFIGS[name] and native.revision == "v1.3"
    state = MyrtleRNNT(native.config).state_dict()
    assert sum(v.numel() for v in state.values()) == elements


@pytest.mark.parametrize("path", sorted(MYRTLE.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_real_config_is_read(path):
    native = read_myrtle_yaml(path, 1024)
    assert native.revision == ("v1.3" if path.parent == V13 else "v1.14")


@pytest.mark.parametrize(("name", "window"), [("testing-1023sp", 0.02), ("base-8703sp", 0.025)])
def test_the_input_section_sets_the_window_stacking_and_width(name, window):
    model_input, rate, revision, notes = read_myrtle_model_input(V13 / f"{name}.yaml")
    assert dict(model_input.overrides)["frame_length_s"] == window
    assert (model_input.stack, model_input.subsample, model_input.width) == (3, 3, 240)
    assert rate == 16000 and revision == "v1.3"
    assert any("dither = 1e-05 is not applied" in note for note in notes)


def test_config_model_inferred_config_round_trip():
    native = read_config(V13 / "base-8703sp.yaml", "myrtle_rnnt", 8704)
    inferred = infer_myrtle(MyrtleRNNT(native.config).state_dict()).config
    assert config_vs_checkpoint("myrtle_rnnt", native.config, inferred) == []


def test_a_v1_14_model_input_is_refused_naming_stats_path():
    with pytest.raises(ConfigError, match="stats_path"):
        read_myrtle_model_input(V114 / "testing-1023sp.yaml")


def test_a_v1_3_file_read_as_v1_14_drops_hard_activations_as_v1_14_does(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(BASE.replace("custom_lstm: false", "custom_lstm: true")
                    .replace("hard_activation_functions: false",
                             "hard_activation_functions: true"))
    assert read_myrtle_yaml(path, 1024).config.hard_activation_functions
    native = read_myrtle_yaml(path, 1024, revision="v1.14")
    assert not native.config.hard_activation_functions
    assert any("hard_activation_functions is deprecated" in note for note in native.notes)


def test_an_unknown_revision_is_refused_listing_the_known():
    with pytest.raises(ConfigError, match=r"known: \['v1.14', 'v1.3'\]"):
        read_myrtle_yaml(V13 / "testing-1023sp.yaml", 1024, revision="v2")


def test_a_file_both_revisions_accept_is_read_as_v1_3_and_says_so(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("\n".join(line for line in BASE.splitlines()
                              if "hard_activation_functions" not in line))
    native = read_myrtle_yaml(path, 1024)
    assert native.revision == "v1.3"
    assert any("both Myrtle revisions accept this file" in note for note in native.notes)


def test_fields_the_v1_3_pipeline_does_not_read_are_noted_not_applied(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(BASE.replace("normalize: per_feature", "normalize: all_features")
                    .replace("window: hann", "window: hamming"))
    model_input, _, _, notes = read_myrtle_model_input(path)
    assert model_input == read_myrtle_model_input(V13 / "testing-1023sp.yaml")[0]
    assert any("normalize = 'all_features' is not read" in note for note in notes)
    assert any("window = 'hamming' is not read" in note for note in notes)


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


BASE = (V13 / "testing-1023sp.yaml").read_text()


@pytest.mark.parametrize(("text", "message"), [
    ("- a\n- b\n", "the YAML document is a list, not a mapping"),
    ("rnnt: [1, 2]\n", "'rnnt' must be a mapping"),
    ("input_val: {}\n", "missing section 'rnnt'"),
    (BASE.replace("  in_feats: 240", "  #"), "missing required field 'rnnt.in_feats'"),
    (BASE.replace("  forget_gate_bias: 1.0", "  #"),
     "missing required field 'rnnt.forget_gate_bias'"),
    (BASE.replace("in_feats: 240", "in_feats: '240'"), "'rnnt.in_feats' must be int, got str"),
    (BASE.replace("custom_lstm: false", "custom_lstm: 1"), "'rnnt.custom_lstm' must be bool"),
    (BASE + "  enc_layers: 3\n", r"unknown field\(s\) in 'rnnt \(v1.3\)': \['enc_layers'\]"),
    (BASE.replace("n_filt: &n_filt 80", "n_filt: &n_filt 64"),
     r"rnnt.in_feats = 240 but n_filt x frame_stacking = 64 x 3"),
    (BASE + "  n_classes: 1024\n", "'rnnt.n_classes': Myrtle's code passes n_classes "
                                   "separately"),
    (BASE.replace("quantize: false", "quantize: true"),
     "'rnnt.quantize: true' changes Myrtle's forward pass"),
    (BASE.replace("    trim_silence: false\n    normalize_transcripts",
                  "    trim_silence: true\n    normalize_transcripts", 1),
     "'input_val.audio_dataset.trim_silence: true' trims silence"),
    (BASE.replace("    dither: 0.00001", "    dither: 0.00001\n    lowfreq: 20"),
     r"unknown field\(s\) in 'input_val.filterbank_features': \['lowfreq'\]"),
    ("rnnt: {in_feats: [\n", "not valid YAML"),
])
def test_bad_configs_are_refused_naming_file_and_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as raised:
        read_config(path, "myrtle_rnnt", 1024)
    assert str(path) in str(raised.value)


def test_evaluation_spec_augment_is_refused_as_random(tmp_path):
    text = BASE.replace("  frame_splicing: &val_splicing",
                        "  spec_augment: {freq_masks: 2}\n  frame_splicing: &val_splicing", 1)
    with pytest.raises(ConfigError, match="'input_val.spec_augment': augmentation during "
                                          "evaluation is random"):
        read_myrtle_model_input(write(tmp_path, text))


def test_n_classes_must_be_given_when_it_is_not_in_the_config():
    with pytest.raises(ConfigError, match="n_classes is not in the config"):
        read_config(V13 / "testing-1023sp.yaml", "myrtle_rnnt")
    assert read_config(V13 / "testing-1023sp.yaml", "myrtle_rnnt", 1024).config.n_classes == 1024
