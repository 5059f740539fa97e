"""NeMo model_config.yaml (alone or inside .nemo) -> NeMoConfig, the nemo front end, and
the decoder's max symbols."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from rnnt_parity.codebases.nemo.infer import infer_nemo
from rnnt_parity.codebases.nemo.model import NeMoConfig, NeMoHybridHead
from rnnt_parity.configs import ConfigError, config_vs_checkpoint, read_config

CONFIG = Path(__file__).resolve().parents[4] / "fixtures" / "configs" / \
    "nemo_hybrid_model_config.yaml"
TEXT = CONFIG.read_text()


def test_the_fastconformer_defaults_are_read_with_interpolations_resolved():
    native = read_config(CONFIG, "nemo")
    assert native.config == NeMoConfig()
    assert native.model_input.n_mels == 80
    assert dict(native.model_input.overrides)["win_length"] == 400
    assert native.decoder == {"max_symbols_per_frame": 10}


def test_config_model_inferred_config_round_trip():
    native = read_config(CONFIG, "nemo")
    inferred = infer_nemo(NeMoHybridHead(native.config).state_dict()).config
    assert config_vs_checkpoint("nemo", native.config, inferred) == []


def nemo_archive(tmp_path: Path, config: str | None) -> Path:
    path = tmp_path / "m.nemo"
    with tarfile.open(path, "w") as archive:
        if config is not None:
            data = config.encode()
            info = tarfile.TarInfo("./model_config.yaml")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_the_config_is_read_from_inside_a_nemo_archive(tmp_path):
    assert read_config(nemo_archive(tmp_path, TEXT), "nemo").config == NeMoConfig()


def test_a_nemo_archive_without_model_config_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="a .nemo archive without model_config.yaml"):
        read_config(nemo_archive(tmp_path, None), "nemo")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("normalization_mode: null", "normalization_mode: batch", "batch-norm decoder"),
    ("activation: relu", "activation: tanh", "only relu is reproduced"),
    ("pred_rnn_layers: 1", "pred_rnn_layers: one", "'decoder.prednet.pred_rnn_layers' must be"),
    ("dropout: 0.2\ndecoding", "dropout: 0.2\n    depth: 2\ndecoding",
     r"unknown field\(s\) in 'joint.jointnet'"),
    ("${model.decoder.vocab_size}", "${model.decoder.missing}", "names a missing field"),
])
def test_bad_nemo_configs_are_refused_naming_the_field(tmp_path, old, new, message):
    path = tmp_path / "model_config.yaml"
    text = TEXT.replace("    dropout: 0.2\ndecoding", "    dropout: 0.2\ndecoding")
    assert old in text
    path.write_text(text.replace(old, new))
    with pytest.raises(ConfigError, match=message):
        read_config(path, "nemo")


# The real model_config.yaml NeMo 3.0.0 wrote (scripts/goldens/nemo_configs.py) and its
# 8 kHz twin; their preprocessors are checked against NeMo's own output in
# tests/rnnt_parity/frontends/test_nemo_goldens.py.
NEMO_FIXTURES = Path(__file__).resolve().parents[4] / "fixtures"
REAL = NEMO_FIXTURES / "configs" / "nemo" / "hybrid_char_tiny" / "model_config.yaml"
REAL_8K = NEMO_FIXTURES / "configs" / "nemo" / "hybrid_char_tiny_8k" / "model_config.yaml"
REAL_NEMO = NEMO_FIXTURES / "models" / "nemo" / "hybrid_char_tiny.nemo"
DEFAULTS = NEMO_FIXTURES / "configs" / "nemo" / "variants" / "preprocessor_defaults.yaml"


def with_preprocessor(tmp_path: Path, **fields) -> Path:
    """The real config with preprocessor fields set (None writes null)."""
    import yaml

    data = yaml.safe_load(REAL.read_text())
    data["preprocessor"].update(fields)
    path = tmp_path / "model_config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_real_hybrid_model_config_reads():
    native = read_config(REAL, "nemo")
    assert native.config == NeMoConfig(encoder_dim=32, pred_hidden=32, pred_rnn_layers=1,
                                       joint_hidden=32, vocab_size=28, joint_dropout=0.2,
                                       log_softmax=None)
    model_input = native.model_input
    assert (model_input.source, model_input.n_mels, model_input.stack,
            model_input.subsample) == ("nemo", 80, 1, 1)
    assert dict(model_input.overrides) == {"win_length": 400, "hop_length": 160, "n_fft": 512,
                                           "pad_to": 0}
    assert native.revision == "3.0"


def test_the_real_nemo_archive_reads_like_its_config():
    assert read_config(REAL_NEMO, "nemo").model_input == read_config(REAL, "nemo").model_input


def test_n_fft_null_gives_256_at_8_khz():
    from reference_impls.features import frame_sizes, preset

    model_input = read_config(REAL_8K, "nemo").model_input
    config = preset(model_input.source, **dict(model_input.overrides))
    assert frame_sizes(config, 8000) == (200, 80, 256)


def test_n_fft_null_is_noted_with_its_value():
    assert any("n_fft None is the next power of two of the 200-sample window: 256" in note
               for note in read_config(REAL_8K, "nemo").notes)


def test_the_config_dither_is_noted_and_not_applied():
    native = read_config(REAL, "nemo")
    assert "dither" not in dict(native.model_input.overrides)
    assert any(note.startswith("dither 1e-05 in the config is not applied") for note in
               native.notes)


def test_nemo_defaults_are_the_nemo_preset():
    from reference_impls.features import frame_sizes, preset

    model_input = read_config(DEFAULTS, "nemo").model_input
    overrides = dict(model_input.overrides)
    assert model_input.n_mels == 64
    assert overrides == {"win_length": 320, "hop_length": 160}
    assert frame_sizes(preset("nemo"), 16000) == (320, 160, 512)


def test_read_nemo_model_input_gives_the_rate_and_revision():
    from rnnt_parity.codebases.nemo.config import read_nemo_model_input

    model_input, rate, revision, _ = read_nemo_model_input(REAL_8K)
    assert (rate, revision) == (8000, "3.0")
    assert model_input == read_config(REAL_8K, "nemo").model_input


def test_an_unknown_nemo_revision_is_refused():
    from rnnt_parity.codebases.nemo.config import read_nemo_model_input

    with pytest.raises(ConfigError, match=r"unknown NeMo revision '2.0'; known: \['3.0'\]"):
        read_nemo_model_input(REAL, "2.0")


@pytest.mark.parametrize(("fields", "overrides"), [
    ({"window": "hamming"}, {"window": "hamming"}),
    ({"window": "blackman"}, {"window": "blackman"}),
    ({"window": "bartlett"}, {"window": "bartlett"}),
    ({"preemph": None}, {"preemphasis": None}),
    ({"lowfreq": 300, "highfreq": 3400}, {"f_min": 300.0, "f_max": 3400.0}),
    ({"highfreq": 0}, {}),
    ({"log": False}, {"log": "none"}),
    ({"log_zero_guard_type": "clamp"}, {"log_floor_rule": "clamp"}),
    ({"log_zero_guard_value": "eps"}, {"log_floor": 1.1920928955078125e-07}),
    ({"mag_power": 1.0}, {"spectrum": "magnitude"}),
    ({"mel_norm": None}, {"area_norm": False}),
    ({"normalize": "all_features"}, {"normalise": "all_features"}),
    ({"normalize": None}, {"normalise": "none"}),
    ({"normalize": "none"}, {"normalise": "none"}),
    ({"exact_pad": True}, {"framing": "exact_pad", "preemphasis_time_mask": True}),
    ({"exact_pad": True, "preemph": None}, {"framing": "exact_pad", "preemphasis": None}),
    ({"frame_splicing": 3}, {"feature_repeat": 3}),
    ({"pad_value": -5}, {"pad_value": -5.0}),
    ({"window_size": None, "n_window_size": 512}, {"win_length": 512}),
])
def test_each_feature_field_is_modelled(tmp_path, fields, overrides):
    base = dict(read_config(REAL, "nemo").model_input.overrides)
    model_input = read_config(with_preprocessor(tmp_path, **fields), "nemo").model_input
    assert dict(model_input.overrides) == {**base, **overrides}


def test_fixed_normalisation_is_modelled_per_feature(tmp_path):
    fields = {"normalize": {"fixed_mean": [0.5] * 80, "fixed_std": [2.0] * 80}}
    overrides = dict(read_config(with_preprocessor(tmp_path, **fields), "nemo")
                     .model_input.overrides)
    assert (overrides["normalise"], overrides["fixed_mean"], overrides["fixed_std"]) == (
        "fixed", (0.5,) * 80, (2.0,) * 80)


@pytest.mark.parametrize(("fields", "message"), [
    ({"window": "ones"}, r"'preprocessor.window' = 'ones': NeMo 3.0.0's FilterbankFeatures "
                         "builds no window"),
    ({"mag_power": 1.5}, r"'preprocessor.mag_power' = 1.5: only 2 \(power\) and 1"),
    ({"mel_norm": 1.0}, r"'preprocessor.mel_norm' = 1.0: librosa's mel norm"),
    ({"pad_to": "max"}, r"'preprocessor.pad_to' = 'max': NeMo 3.0.0 builds only an int"),
    ({"window_stride": 0.0100625, "exact_pad": True},
     r"'preprocessor.exact_pad' = True: NeMo raises NotImplementedError .* odd hop \(161"),
    ({"n_fft": 300}, r"'preprocessor.n_fft' = 300: torch.stft needs n_fft >= the window"),
    ({"n_fft": 514 + 1}, r"'preprocessor.n_fft' = 515: an odd n_fft is not modelled"),
    ({"log_zero_guard_type": "floor"}, r"'preprocessor.log_zero_guard_type' = 'floor'"),
    ({"log_zero_guard_value": "huge"}, r"'preprocessor.log_zero_guard_value' = 'huge'"),
    ({"log_zero_guard_value": 0}, r"'preprocessor.log_zero_guard_value' = 0: a positive"),
    ({"preemph": 1.5}, r"'preprocessor.preemph' = 1.5: pre-emphasis outside \[0, 1\]"),
    ({"highfreq": 9000}, r"'preprocessor.highfreq' = 9000.0: must lie in \(0, 8000\] Hz"),
    ({"lowfreq": 9000}, r"'preprocessor.lowfreq' = 9000.0: must lie in \[0, highfreq\)"),
    ({"normalize": {"mean": [0.0]}}, r"'preprocessor.normalize' = \{'mean'"),
    ({"normalize": {"fixed_mean": [0.0], "fixed_std": [1.0]}},
     r"'preprocessor.normalize.fixed_mean' = \[0.0\]: must be a list of 80 numbers"),
    ({"n_window_size": 400}, r"'preprocessor.n_window_size' = 400: NeMo refuses both"),
    ({"_target_": "nemo.collections.asr.modules.AudioToMFCCPreprocessor"},
     r"'preprocessor._target_' = .*AudioToMFCCPreprocessor'"),
    ({"features": 0}, r"'preprocessor.features' = 0: must be a positive number"),
    ({"nb_augmentation_prob": 0.5, "n_fft": None},
     r"'preprocessor.nb_augmentation_prob' = 0.5: NeMo 3.0.0 fails to build it"),
])
def test_each_unmodelled_field_value_is_refused_by_name(tmp_path, fields, message):
    with pytest.raises(ConfigError, match=message):
        read_config(with_preprocessor(tmp_path, **fields), "nemo")


@pytest.mark.parametrize("field", ["use_grads", "mel_scale", "max_duration", "n_mels"])
def test_unknown_preprocessor_fields_are_refused_listing_the_known(tmp_path, field):
    with pytest.raises(ConfigError, match=rf"unknown field\(s\) in 'preprocessor': \['{field}'\]"
                                          r".* takes \['_target_', 'dither', 'exact_pad'"):
        read_config(with_preprocessor(tmp_path, **{field: 1}), "nemo")


@pytest.mark.parametrize(("fields", "note"), [
    ({"nb_augmentation_prob": 0.5}, "nb_augmentation_prob acts only in training mode"),
    ({"rng": "seed"}, "rng is used only by training-mode augmentation"),
    ({"stft_conv": True}, "stft_conv: true is ignored"),
    ({"stft_exact_pad": True}, "stft_exact_pad: true is ignored"),
    ({"use_torchaudio": True}, "use_torchaudio: true is ignored"),
    ({"normalize": "per_featur"}, "normalize 'per_featur' applies no normalisation"),
    ({"pad_to": -3}, "pad_to -3 pads nothing"),
])
def test_fields_without_effect_in_evaluation_are_noted(tmp_path, fields, note):
    native = read_config(with_preprocessor(tmp_path, **fields), "nemo")
    assert any(n.startswith(note) for n in native.notes), native.notes


@pytest.mark.parametrize("fields", [{"nb_augmentation_prob": 0.5}, {"rng": "seed"},
                                    {"stft_conv": True}, {"stft_exact_pad": True},
                                    {"use_torchaudio": True}, {"nb_max_freq": 2000}])
def test_training_only_and_deprecated_fields_leave_the_model_input_alone(tmp_path, fields):
    assert read_config(with_preprocessor(tmp_path, **fields), "nemo").model_input == \
        read_config(REAL, "nemo").model_input
