"""Myrtle.ai RNN-T YAML configs (MyrtleSoftware/caiman-asr, training/configs/*.yaml): the
`rnnt:` section -> `MyrtleConfig`, the `input_val:` section -> the `ModelInput` Myrtle's
evaluation pipeline computes.

Two revisions, told apart by the fields each one's code accepts (its `RNNT.__init__`
arguments and its dataset parameters; the real `validate_and_fill` asserts on any other):
    v1.3   caiman-asr c5d9abf "Release v1.3.0" (training/rnnt_train): the default.
    v1.14  caiman-asr 08d60d8 "Release v1.14.0" (training/caiman_asr_train).
A file both revisions accept is read as v1.3, and a note says so (`--revision` picks the
other). `n_classes` is never in the `rnnt:` section: the real code passes it separately
(sentencepiece pieces + 1) and raises TypeError when the section also has it; take it from
the checkpoint or `--n-classes`.

Model input at v1.3, from `DaliPipeline.from_config` and val.py's FrameSplicing: the
`myrtle` preset (DALI, frames uncentred) with the YAML's window_size, window_stride, n_fft
and n_filt, pre-emphasis fixed at 0.97; each mel bin normalised over the utterance; frames
stacked `frame_stacking` and subsampled `frame_subsampling`. The pipeline does not read
`filterbank_features.normalize` or `window` (it always normalises per feature and always uses
DALI's Hann window): other values are noted, not applied. Dither is never applied here (the
features are deterministic), and a note says so. v1.14 normalises with dataset statistics
from `stats_path` files and pads the start of the audio for streaming: not modelled, refused
when a model input is asked for.
"""

from __future__ import annotations

from pathlib import Path

from rnnt_parity.codebases.myrtle.model import MyrtleConfig
from rnnt_parity.configs.common import (
    ConfigError,
    NativeConfig,
    load_yaml_mapping,
    reject_unknown,
    section,
    typed,
)

REVISIONS = {"v1.3": "caiman-asr c5d9abf (Release v1.3.0)",
             "v1.14": "caiman-asr 08d60d8 (Release v1.14.0)"}
DEFAULT_REVISION = "v1.3"

REQUIRED_INTS = ("in_feats", "enc_n_hid", "enc_pre_rnn_layers", "enc_post_rnn_layers",
                 "enc_stack_time_factor", "pred_n_hid", "pred_rnn_layers", "joint_n_hid")
REQUIRED_OTHER = ("enc_batch_norm", "pred_batch_norm", "enc_dropout", "pred_dropout",
                  "joint_dropout", "forget_gate_bias")
MODELLED = {"enc_dropout": float, "pred_dropout": float, "joint_dropout": float,
            "enc_batch_norm": bool, "pred_batch_norm": bool, "custom_lstm": bool,
            "hard_activation_functions": bool}
TRAINING_ONLY = {
    "v1.3": {"forget_gate_bias", "hidden_hidden_bias_scale", "weights_init_scale",
             "enc_lr_factor", "pred_lr_factor", "joint_enc_lr_factor", "joint_pred_lr_factor",
             "joint_net_lr_factor"},
    "v1.14": {"forget_gate_bias", "hidden_hidden_bias_scale", "weights_init_scale",
              "enc_lr_factor", "pred_lr_factor", "joint_enc_lr_factor", "joint_pred_lr_factor",
              "joint_net_lr_factor", "enc_rw_dropout", "pred_rw_dropout",
              "joint_apex_transducer", "joint_apex_relu_dropout", "enc_freeze",
              "gpu_unavailable"},
}
"""Per revision, the `RNNT.__init__` arguments that change training (initialisation,
learning rates, recurrent-weight dropout, fused joint kernels that inference never uses),
not the trained model's forward pass: read, and not applied."""
DEPRECATED = {"v1.3": set(), "v1.14": {"hard_activation_functions"}}
"""Fields a revision's `config.rnnt` accepts and drops (v1.14: hard activations are gone
since v1.6.0)."""
RNNT_FIELDS = {revision: set(REQUIRED_INTS) | set(MODELLED) | {"quantize"} | extra
               for revision, extra in TRAINING_ONLY.items()}

DATASET_FIELDS = {
    "v1.3": {"sample_rate", "max_duration", "max_transcript_len", "normalize_transcripts",
             "trim_silence", "speed_perturbation"},
    "v1.14": {"sample_rate", "max_duration", "max_transcript_len", "min_duration",
              "normalize_transcripts", "trim_silence", "speed_perturbation", "standardize_wer",
              "standardize_text", "replacements", "remove_tags", "error_rate"},
}
"""`input_*.audio_dataset` fields each revision's PipelineParams accepts."""
FEATURE_FIELDS = {"normalize", "sample_rate", "window_size", "window_stride", "window", "n_fft",
                  "n_filt", "dither", "max_duration", "stats_path"}
INPUT_SECTIONS = {"audio_dataset", "filterbank_features", "frame_splicing", "spec_augment",
                  "cutout_augment"}
SPLICING_FIELDS = {"frame_stacking", "frame_subsampling"}
V1_14_INPUT = ("v1.14 normalises the features with dataset statistics from "
               "'input_val.filterbank_features.stats_path' (files outside the config) and pads "
               "the audio's start for streaming")


def _revision_of(data: dict, path: Path, revision: str | None) -> tuple[str, list[str]]:
    """The revision to read `data` as, and a note when the file does not decide it."""
    if revision is not None:
        if revision not in REVISIONS:
            raise ConfigError(f"{path}: unknown Myrtle revision {revision!r}; known: "
                              f"{sorted(REVISIONS)}")
        return revision, []
    rnnt = data.get("rnnt") if isinstance(data.get("rnnt"), dict) else {}
    dataset = {}
    for name in ("input_val", "input_train"):
        part = data.get(name)
        if isinstance(part, dict) and isinstance(part.get("audio_dataset"), dict):
            dataset |= part["audio_dataset"]
    fits = [r for r in REVISIONS
            if set(rnnt) - {"n_classes"} <= RNNT_FIELDS[r] | DEPRECATED[r]
            and set(dataset) <= DATASET_FIELDS[r]]
    if len(fits) == 1:
        return fits[0], []
    if not fits:
        return DEFAULT_REVISION, []
    return DEFAULT_REVISION, [f"both Myrtle revisions accept this file: read as "
                              f"{DEFAULT_REVISION} ({REVISIONS[DEFAULT_REVISION]}); "
                              "--revision v1.14 reads it as the other"]


def _model_config(rnnt: dict, revision: str, path: Path, n_classes: int | None) -> MyrtleConfig:
    if "n_classes" in rnnt:
        raise ConfigError(f"{path}: 'rnnt.n_classes': Myrtle's code passes n_classes "
                          "separately (sentencepiece pieces + 1) and raises TypeError when the "
                          "rnnt section also has it; remove it and pass --n-classes or a "
                          "checkpoint")
    reject_unknown(rnnt, RNNT_FIELDS[revision] | DEPRECATED[revision], path,
                   f"rnnt ({revision})")
    for name in REQUIRED_OTHER:
        if name not in rnnt:
            raise ConfigError(f"{path}: missing required field 'rnnt.{name}'")
    if rnnt.get("quantize") is True:
        raise ConfigError(f"{path}: 'rnnt.quantize: true' changes Myrtle's forward pass (bf16 "
                          "and block-floating-point quantisers inside its custom LSTM), which "
                          "no family reproduces")
    fields = {name: typed(rnnt, name, int, path, "rnnt") for name in REQUIRED_INTS}
    for name, kind in MODELLED.items():
        default = MyrtleConfig.__dataclass_fields__[name].default
        fields[name] = typed(rnnt, name, kind, path, "rnnt", default)
    for name in DEPRECATED[revision]:
        fields[name] = MyrtleConfig.__dataclass_fields__[name].default
    if n_classes is None:
        raise ConfigError(f"{path}: n_classes is not in the config (Myrtle takes it from the "
                          "sentencepiece model: pieces + 1); pass --n-classes or a checkpoint")
    return MyrtleConfig(n_classes=n_classes, **fields)


def read_myrtle_yaml(path: Path, n_classes: int | None = None, text: str | None = None,
                     revision: str | None = None) -> NativeConfig:
    """The model (`rnnt:`) and, where the file has `input_val`, its model input."""
    data = load_yaml_mapping(path, text)
    revision, notes = _revision_of(data, path, revision)
    config = _model_config(section(data, "rnnt", path), revision, path, n_classes)
    notes += [f"rnnt.{name} is deprecated in Myrtle {revision}, which drops it (no hard "
              "activations since v1.6.0)" for name in sorted(DEPRECATED[revision])
              if name in data["rnnt"]]
    if "input_val" not in data:
        model_input, input_notes = None, []
    elif revision == "v1.14":
        model_input, input_notes = None, [f"Myrtle v1.14's model input is not modelled: "
                                          f"{V1_14_INPUT}"]
    else:
        model_input, _, input_notes = _model_input(data, revision, path)
    if model_input is not None and model_input.width != config.in_feats:
        raise ConfigError(f"{path}: rnnt.in_feats = {config.in_feats} but n_filt x "
                          f"frame_stacking = {model_input.n_mels} x {model_input.stack}")
    return NativeConfig("myrtle_rnnt", config, path, decoder={"max_symbols_per_frame": 30},
                        model_input=model_input, notes=tuple(notes + input_notes),
                        revision=revision)


def read_myrtle_model_input(path: Path, revision: str | None = None, text: str | None = None):
    """(ModelInput, sample_rate, revision, notes) of the file's `input_val` section alone:
    no `rnnt:` section or n_classes needed."""
    data = load_yaml_mapping(path, text)
    revision, notes = _revision_of(data, path, revision)
    model_input, rate, input_notes = _model_input(data, revision, path)
    return model_input, rate, revision, tuple(notes + input_notes)


def _model_input(data: dict, revision: str, path: Path):
    from rnnt_parity.frontends.model_input import ModelInput

    where = "input_val"
    part = section(data, where, path)
    reject_unknown(part, INPUT_SECTIONS, path, where)
    for name in ("spec_augment", "cutout_augment"):
        if part.get(name):
            raise ConfigError(f"{path}: '{where}.{name}': augmentation during evaluation is "
                              "random; the model input cannot be reproduced")
    dataset = section(part, "audio_dataset", path)
    reject_unknown(dataset, DATASET_FIELDS[revision], path, f"{where}.audio_dataset")
    if dataset.get("trim_silence"):
        raise ConfigError(f"{path}: '{where}.audio_dataset.trim_silence: true' trims silence "
                          "with DALI's NonsilentRegion before the features: not modelled")
    features = section(part, "filterbank_features", path)
    reject_unknown(features, FEATURE_FIELDS, path, f"{where}.filterbank_features")
    fwhere = f"{where}.filterbank_features"
    if revision == "v1.14":
        raise ConfigError(f"{path}: {V1_14_INPUT}; only v1.3's is modelled (--revision v1.3 "
                          "if the model was trained with v1.3)")
    rate = typed(features, "sample_rate", int, path, fwhere)
    if typed(dataset, "sample_rate", int, path, f"{where}.audio_dataset", rate) != rate:
        raise ConfigError(f"{path}: sample_rate should match in audio_dataset and "
                          f"filterbank_features ({dataset['sample_rate']} vs {rate}), as "
                          "Myrtle's config.input asserts")
    splicing = section(part, "frame_splicing", path)
    reject_unknown(splicing, SPLICING_FIELDS, path, f"{where}.frame_splicing")
    notes = []
    dither = typed(features, "dither", float, path, fwhere, 0.0)
    if dither:
        notes.append(f"{fwhere}.dither = {dither:g} is not applied: the model input is "
                     "deterministic (Myrtle's pipeline adds N(0, dither^2) noise)")
    if features.get("normalize", "per_feature") != "per_feature":
        notes.append(f"{fwhere}.normalize = {features['normalize']!r} is not read by Myrtle "
                     f"{revision}: its pipeline normalises each mel bin over the utterance")
    if features.get("window", "hann") != "hann":
        notes.append(f"{fwhere}.window = {features['window']!r} is not read by Myrtle "
                     f"{revision}: its pipeline always uses DALI's Hann window")
    model_input = ModelInput(
        source="myrtle", n_mels=typed(features, "n_filt", int, path, fwhere),
        overrides={"frame_length_s": typed(features, "window_size", float, path, fwhere),
                   "frame_shift_s": typed(features, "window_stride", float, path, fwhere),
                   "n_fft": typed(features, "n_fft", int, path, fwhere)},
        stack=typed(splicing, "frame_stacking", int, path, f"{where}.frame_splicing", 1),
        subsample=typed(splicing, "frame_subsampling", int, path, f"{where}.frame_splicing",
                        1))
    return model_input, rate, notes
