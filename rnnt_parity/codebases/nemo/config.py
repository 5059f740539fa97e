"""NeMo's model_config.yaml (alone, or inside a .nemo archive) -> `NeMoConfig`, the model
input its preprocessor computes, and the greedy decoder's max symbols.

Read: encoder.d_model; decoder.vocab_size (or joint.num_classes), decoder.prednet
(pred_hidden, pred_rnn_layers), decoder.normalization_mode (must be null: the batch-norm
decoder has no canonical counterpart); joint.jointnet (joint_hidden, activation: relu,
dropout), joint.log_softmax; decoding.greedy.max_symbols; and every field of the
`preprocessor` section (`read_nemo_model_input`). OmegaConf interpolations "${a.b}" are
resolved against the file (a leading "model." is dropped).

The preprocessor is NeMo 3.0.0's AudioToMelSpectrogramPreprocessor -> FilterbankFeatures in
eval mode, read off nemo/collections/asr/modules/audio_preprocessing.py and
nemo/collections/asr/parts/preprocessing/features.py and checked against NeMo itself
(fixtures/goldens/frontends/nemo_*). Each field that changes features becomes a
`FrontEndConfig` field of the `nemo` preset (overrides keep only what differs from it) or is
refused naming the field; fields that only act in training are noted. NeMo's frame_splicing
and pad_to are part of the model input (`feature_repeat`, `pad_to`).
"""

from __future__ import annotations

import math
import re
import tarfile
from pathlib import Path

import numpy as np

from rnnt_parity.codebases.nemo.model import NeMoConfig
from rnnt_parity.configs.common import (
    ConfigError,
    NativeConfig,
    load_yaml_mapping,
    reject_unknown,
    section,
    typed,
)

INTERPOLATION = re.compile(r"^\$\{([\w.]+)\}$")
PREDNET_FIELDS = {"pred_hidden", "pred_rnn_layers", "t_max", "dropout", "forget_gate_bias",
                  "rnn_hidden_size", "weights_init_scale", "hidden_hidden_bias_scale"}
JOINTNET_FIELDS = {"joint_hidden", "activation", "dropout", "encoder_hidden", "pred_hidden"}

REVISIONS = ("3.0",)
PREPROCESSOR_TARGETS = (
    "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
    "nemo.collections.asr.modules.audio_preprocessing.AudioToMelSpectrogramPreprocessor")
PREPROCESSOR_DEFAULTS = {
    "sample_rate": 16000, "window_size": 0.02, "window_stride": 0.01, "n_window_size": None,
    "n_window_stride": None, "window": "hann", "normalize": "per_feature", "n_fft": None,
    "preemph": 0.97, "features": 64, "lowfreq": 0, "highfreq": None, "log": True,
    "log_zero_guard_type": "add", "log_zero_guard_value": 2 ** -24, "dither": 1e-5,
    "pad_to": 16, "frame_splicing": 1, "exact_pad": False, "pad_value": 0, "mag_power": 2.0,
    "rng": None, "nb_augmentation_prob": 0.0, "nb_max_freq": 4000, "mel_norm": "slaney",
    "use_torchaudio": False, "stft_exact_pad": False, "stft_conv": False}
"""AudioToMelSpectrogramPreprocessor.__init__'s arguments and defaults in NeMo 3.0.0."""
PREPROCESSOR_FIELDS = frozenset(PREPROCESSOR_DEFAULTS) | {"_target_"}
WINDOWS = {"hann": "hann_symmetric", "hamming": "hamming", "blackman": "blackman",
           "bartlett": "bartlett"}
"""NeMo's torch windows, all built with periodic=False."""
GUARD_NAMES = {"tiny": float(np.finfo(np.float32).tiny), "eps": float(np.finfo(np.float32).eps)}
"""log_zero_guard_value names: torch.finfo of the float32 features."""
NORM_EPSILON = 1e-5
"""features.py CONSTANT: added to the std by per_feature and all_features normalisation."""


def _resolve(data: dict, value, path: Path, depth: int = 0):
    match = INTERPOLATION.match(value) if isinstance(value, str) else None
    if match is None:
        return value
    if depth > 8:
        raise ConfigError(f"{path}: interpolation {value} does not resolve (a cycle?)")
    node = data
    for part in match.group(1).removeprefix("model.").split("."):
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"{path}: interpolation {value} names a missing field")
        node = node[part]
    return _resolve(data, node, path, depth + 1)


def _resolved(data: dict, mapping: dict, path: Path) -> dict:
    return {k: _resolve(data, v, path) for k, v in mapping.items()}


def config_text(path: Path) -> str:
    """model_config.yaml's text, from the file or from inside a .nemo archive."""
    if path.suffix != ".nemo":
        return path.read_text()
    try:
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                if Path(member.name).name == "model_config.yaml" and member.isfile():
                    return archive.extractfile(member).read().decode()
    except tarfile.TarError as error:
        raise ConfigError(f"{path}: not a readable .nemo (tar) archive ({error})") from error
    raise ConfigError(f"{path}: a .nemo archive without model_config.yaml")


def read_nemo_yaml(path: Path, text: str | None = None) -> NativeConfig:
    data = load_yaml_mapping(path, config_text(path) if text is None else text)
    data = data.get("model", data) if isinstance(data.get("model"), dict) else data
    encoder = _resolved(data, section(data, "encoder", path), path)
    decoder = _resolved(data, section(data, "decoder", path), path)
    joint = _resolved(data, section(data, "joint", path), path)
    prednet = _resolved(data, section(decoder, "prednet", path), path)
    jointnet = _resolved(data, section(joint, "jointnet", path), path)
    reject_unknown(prednet, PREDNET_FIELDS, path, "decoder.prednet")
    reject_unknown(jointnet, JOINTNET_FIELDS, path, "joint.jointnet")
    if decoder.get("normalization_mode") is not None:
        raise ConfigError(f"{path}: decoder.normalization_mode = "
                          f"{decoder['normalization_mode']!r}: the batch-norm decoder has no "
                          "canonical counterpart")
    if prednet.get("rnn_hidden_size", -1) not in (-1, None, prednet.get("pred_hidden")):
        raise ConfigError(f"{path}: decoder.prednet.rnn_hidden_size differs from pred_hidden "
                          "(a projected LSTM): no canonical counterpart")
    activation = jointnet.get("activation", "relu")
    if activation != "relu":
        raise ConfigError(f"{path}: joint.jointnet.activation = {activation!r}; only relu is "
                          "reproduced")
    vocab = decoder.get("vocab_size", joint.get("num_classes"))
    if isinstance(vocab, bool) or not isinstance(vocab, int):
        raise ConfigError(f"{path}: 'decoder.vocab_size' must be int, got {vocab!r}")
    log_softmax = joint.get("log_softmax")
    config = NeMoConfig(
        encoder_dim=typed(encoder, "d_model", int, path, "encoder"),
        pred_hidden=typed(prednet, "pred_hidden", int, path, "decoder.prednet"),
        pred_rnn_layers=typed(prednet, "pred_rnn_layers", int, path, "decoder.prednet", 1),
        joint_hidden=typed(jointnet, "joint_hidden", int, path, "joint.jointnet"),
        vocab_size=vocab,
        joint_dropout=typed(jointnet, "dropout", float, path, "joint.jointnet", 0.0),
        log_softmax=log_softmax if isinstance(log_softmax, bool) else None)
    model_input, notes, revision = None, (), REVISIONS[0]
    if data.get("preprocessor") is not None:
        model_input, _, revision, notes = _model_input(data, path, None)
    greedy = data.get("decoding", {}).get("greedy", {}) if isinstance(
        data.get("decoding"), dict) else {}
    max_symbols = greedy.get("max_symbols", 10) if isinstance(greedy, dict) else 10
    return NativeConfig("nemo", config, path, decoder={"max_symbols_per_frame": max_symbols},
                        model_input=model_input, notes=notes, revision=revision)


def read_nemo_model_input(path: Path, revision: str | None = None, text: str | None = None):
    """(ModelInput, sample_rate, revision, notes) of the file's `preprocessor` section."""
    data = load_yaml_mapping(path, config_text(path) if text is None else text)
    data = data.get("model", data) if isinstance(data.get("model"), dict) else data
    if data.get("preprocessor") is None:
        raise ConfigError(f"{path}: no 'preprocessor' section: the model input is unknown")
    return _model_input(data, path, revision)


def _model_input(data: dict, path: Path, revision: str | None):
    from reference_impls.features import PRESETS
    from rnnt_parity.frontends.model_input import ModelInput

    if revision is not None and revision not in REVISIONS:
        raise ConfigError(f"{path}: unknown NeMo revision {revision!r}; known: "
                          f"{list(REVISIONS)}")
    notes = []
    written = data.get("nemo_version")
    if written is not None and not str(written).startswith("3.0"):
        notes.append(f"the file was written by NeMo {written}; its preprocessor is read as "
                     "NeMo 3.0.0's")
    p = _resolved(data, section(data, "preprocessor", path), path)
    values, rate, more = preprocessor_values(p, path)
    notes += more
    n_mels = values.pop("n_mels")
    preset = PRESETS["nemo"]
    overrides = {k: v for k, v in values.items() if getattr(preset, k) != v}
    model_input = ModelInput(source="nemo", n_mels=n_mels, stack=1, subsample=1,
                             overrides=overrides)
    return model_input, rate, revision or REVISIONS[0], tuple(notes)


def _where(name: str) -> str:
    return f"preprocessor.{name}"


def _refuse(path: Path, name: str, value, why: str):
    raise ConfigError(f"{path}: '{_where(name)}' = {value!r}: {why}")


def _number(p: dict, name: str, path: Path, nullable: bool = False):
    """p[name] (or NeMo's default) as a float, or None where null is allowed."""
    value = p.get(name, PREPROCESSOR_DEFAULTS[name])
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _refuse(path, name, value, "must be a number" + (" or null" if nullable else ""))
    return float(value)


def _samples(p: dict, rate: int, seconds: str, samples: str, path: Path) -> int:
    """NeMo's window or hop in samples: int(seconds * sample_rate), or the sample count."""
    size = p.get(seconds, PREPROCESSOR_DEFAULTS[seconds])
    count = p.get(samples)
    if size and count:
        _refuse(path, samples, count, f"NeMo refuses both {seconds} and {samples} (its "
                                      f"{seconds} defaults to 0.02/0.01: set it to null)")
    if size:
        if isinstance(size, bool) or not isinstance(size, (int, float)):
            _refuse(path, seconds, size, "must be a number of seconds")
        count = int(size * rate)
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        _refuse(path, seconds if size else samples, size or count,
                "NeMo needs a positive window and hop in samples")
    return count


def preprocessor_values(p: dict, path: Path) -> tuple[dict, int, list[str]]:
    """({FrontEndConfig field: value} including n_mels, sample_rate, notes) of one
    AudioToMelSpectrogramPreprocessor section as NeMo 3.0.0 builds it in eval mode."""
    unknown = sorted(set(p) - PREPROCESSOR_FIELDS)
    if unknown:
        raise ConfigError(f"{path}: unknown field(s) in 'preprocessor': {unknown}; NeMo "
                          "3.0.0's AudioToMelSpectrogramPreprocessor takes "
                          f"{sorted(PREPROCESSOR_FIELDS)}")
    notes = []
    target = p.get("_target_")
    if target is None:
        notes.append("the preprocessor has no _target_: read as NeMo's "
                      "AudioToMelSpectrogramPreprocessor")
    elif target not in PREPROCESSOR_TARGETS:
        _refuse(path, "_target_", target, "only AudioToMelSpectrogramPreprocessor's features "
                                          "are modelled")
    absent = sorted(set(PREPROCESSOR_DEFAULTS) - set(p) - {"n_window_size", "n_window_stride"})
    if absent:
        notes.append("fields absent from the preprocessor take NeMo 3.0.0's defaults: "
                     + ", ".join(f"{k} {PREPROCESSOR_DEFAULTS[k]!r}" for k in absent))
    rate = typed(p, "sample_rate", int, path, "preprocessor", 16000)
    if rate <= 0:
        _refuse(path, "sample_rate", rate, "must be a positive number of Hz")
    notes.append(f"the model input expects {rate} Hz audio (NeMo's data loader resamples "
                 "other rates before the preprocessor; the preprocessor itself does not)")
    win = _samples(p, rate, "window_size", "n_window_size", path)
    hop = _samples(p, rate, "window_stride", "n_window_stride", path)
    values = {"signal_range": "unit", "win_length": win, "hop_length": hop,
              "n_mels": typed(p, "features", int, path, "preprocessor", 64)}
    if values["n_mels"] < 1:
        _refuse(path, "features", values["n_mels"], "must be a positive number of mel bins")

    n_fft = p.get("n_fft")
    if n_fft is not None and (isinstance(n_fft, bool) or not isinstance(n_fft, int)):
        _refuse(path, "n_fft", n_fft, "must be an int or null")
    if not n_fft:  # NeMo: `n_fft or 2 ** ceil(log2(win_length))`
        resolved = 2 ** math.ceil(math.log2(win))
        notes.append(f"n_fft {n_fft!r} is the next power of two of the {win}-sample window: "
                     f"{resolved}")
        n_fft = None
    else:
        resolved = n_fft
        if n_fft < win:
            _refuse(path, "n_fft", n_fft, f"torch.stft needs n_fft >= the window ({win} "
                                          "samples)")
        if n_fft % 2:
            _refuse(path, "n_fft", n_fft, "an odd n_fft is not modelled (torch.stft's "
                                          "centred frame count differs from 1 + N//hop)")
    values["n_fft"] = n_fft

    window = p.get("window", "hann")
    if window not in WINDOWS:
        _refuse(path, "window", window, f"NeMo 3.0.0's FilterbankFeatures builds no window for "
                                        f"it and its STFT fails; it knows {sorted(WINDOWS)}")
    values["window"] = WINDOWS[window]

    preemph = _number(p, "preemph", path, nullable=True)
    if preemph is not None and not 0.0 <= preemph <= 1.0:
        _refuse(path, "preemph", preemph, "pre-emphasis outside [0, 1] is not modelled")
    values.update(preemphasis=preemph, preemphasis_scope="signal", preemphasis_first="copy")

    exact_pad = p.get("exact_pad", False)
    if not isinstance(exact_pad, bool):
        _refuse(path, "exact_pad", exact_pad, "must be true or false")
    if exact_pad and hop % 2:
        _refuse(path, "exact_pad", exact_pad, f"NeMo raises NotImplementedError for exact_pad "
                                              f"with an odd hop ({hop} samples)")
    values.update(framing="exact_pad" if exact_pad else "centre", centre_padding="constant",
                  preemphasis_time_mask=exact_pad and preemph is not None,
                  reported_length="frames_minus_one", mask_beyond_length=True)
    if exact_pad and preemph is not None:
        notes.append(f"exact_pad with pre-emphasis: NeMo pads before pre-emphasising and masks "
                     f"the padded signal at the original length, so the signal's last "
                     f"{(resolved - hop) // 2} samples are zeroed (modelled)")

    mag_power = _number(p, "mag_power", path)
    if mag_power not in (1.0, 2.0):
        _refuse(path, "mag_power", mag_power, "only 2 (power) and 1 (magnitude) are modelled")
    values["spectrum"] = "power" if mag_power == 2.0 else "magnitude"
    values["power_scale_by_nfft"] = False

    lowfreq = _number(p, "lowfreq", path)
    highfreq = _number(p, "highfreq", path, nullable=True)
    if not highfreq:  # NeMo: `highfreq or sample_rate / 2`
        highfreq = None
    elif highfreq < 0 or highfreq > rate / 2:
        _refuse(path, "highfreq", highfreq, f"must lie in (0, {rate / 2:g}] Hz (Nyquist) or be "
                                            "null; others are not modelled")
    if lowfreq < 0 or lowfreq >= (highfreq or rate / 2):
        _refuse(path, "lowfreq", lowfreq, "must lie in [0, highfreq)")
    mel_norm = p.get("mel_norm", "slaney")
    if mel_norm not in ("slaney", None):
        _refuse(path, "mel_norm", mel_norm, "librosa's mel norm: only 'slaney' (area) and "
                                            "null are modelled")
    values.update(f_min=lowfreq, f_max=highfreq, mel_scale="slaney", filters="hz_triangles",
                  area_norm=mel_norm == "slaney")

    log = p.get("log", True)
    if not isinstance(log, bool):
        _refuse(path, "log", log, "must be true or false")
    guard_type = p.get("log_zero_guard_type", "add")
    if guard_type not in ("add", "clamp"):
        _refuse(path, "log_zero_guard_type", guard_type, "NeMo accepts only 'add' or 'clamp'")
    guard = p.get("log_zero_guard_value", 2 ** -24)
    if isinstance(guard, str):
        if guard not in GUARD_NAMES:
            _refuse(path, "log_zero_guard_value", guard, "NeMo accepts a number, 'tiny' or "
                                                         "'eps'")
        guard = GUARD_NAMES[guard]
    elif isinstance(guard, bool) or not isinstance(guard, (int, float)) or guard <= 0:
        _refuse(path, "log_zero_guard_value", guard, "a positive number is modelled")
    values.update(log="e" if log else "none", log_floor_rule=guard_type, log_floor=float(guard))

    splicing = p.get("frame_splicing", 1)
    if isinstance(splicing, bool) or not isinstance(splicing, int):
        _refuse(path, "frame_splicing", splicing, "must be an int")
    if splicing < 1:
        notes.append(f"frame_splicing {splicing} splices nothing (NeMo splices only when "
                     "frame_splicing > 1)")
        splicing = 1
    values["feature_repeat"] = splicing
    if splicing > 1:
        notes.append(f"frame_splicing {splicing} repeats each frame's features {splicing} "
                     "times (NeMo's splice_frames concatenates x with itself), before "
                     "normalisation")

    values.update(_normalisation(p.get("normalize", "per_feature"),
                                 values["n_mels"] * splicing, path, notes))

    pad_to = p.get("pad_to", 16)
    if isinstance(pad_to, bool) or not isinstance(pad_to, int):
        _refuse(path, "pad_to", pad_to, "NeMo 3.0.0 builds only an int pad_to ('max' fails in "
                                        "FilterbankFeatures.__init__)")
    if pad_to < 0:
        notes.append(f"pad_to {pad_to} pads nothing (NeMo pads only when pad_to > 0)")
    values["pad_to"] = max(0, pad_to)
    values["pad_value"] = _number(p, "pad_value", path)

    dither = _number(p, "dither", path)
    if dither:
        notes.append(f"dither {dither:g} in the config is not applied: NeMo dithers only in "
                     "training mode, and features are evaluation's, deterministic")
    nb_prob, nb_max_freq = _number(p, "nb_augmentation_prob", path), _number(p, "nb_max_freq", path)
    if nb_prob > 0 and nb_max_freq < rate / 2 and p.get("n_fft") is None:
        _refuse(path, "nb_augmentation_prob", nb_prob, "NeMo 3.0.0 fails to build it with "
                "n_fft null (int(nb_max_freq / sample_rate * n_fft) reads the config's n_fft)")
    if nb_prob:
        notes.append("nb_augmentation_prob acts only in training mode: not applied")
    if p.get("rng") is not None:
        notes.append("rng is used only by training-mode augmentation: ignored")
    for name in ("use_torchaudio", "stft_exact_pad", "stft_conv"):
        if p.get(name):
            notes.append(f"{name}: true is ignored: a deprecated argument NeMo 3.0.0 accepts "
                         "and does not apply (exact_pad is the field that changes framing)")
    values["dtype"] = "float64"
    return values, rate, notes


def _normalisation(normalize, width: int, path: Path, notes: list[str]) -> dict:
    """FrontEndConfig normalisation fields of NeMo's `normalize` (normalize_batch)."""
    if normalize in ("per_feature", "all_features"):
        return {"normalise": normalize, "norm_ddof": 1, "norm_epsilon": NORM_EPSILON,
                "norm_epsilon_placement": "std", "fixed_mean": None, "fixed_std": None}
    none = {"normalise": "none", "fixed_mean": None, "fixed_std": None}
    if normalize is None or normalize is False or normalize == "":
        return none
    if isinstance(normalize, str):
        if "fixed_mean" in normalize and "fixed_std" in normalize:
            _refuse(path, "normalize", normalize, "NeMo indexes this string as a mapping and "
                                                  "fails")
        notes.append(f"normalize {normalize!r} applies no normalisation (NeMo's "
                     "normalize_batch normalises only per_feature, all_features and a "
                     "fixed_mean/fixed_std mapping)")
        return none
    if isinstance(normalize, dict) and {"fixed_mean", "fixed_std"} <= set(normalize):
        mean, std = normalize["fixed_mean"], normalize["fixed_std"]
        for name, value in (("fixed_mean", mean), ("fixed_std", std)):
            if not isinstance(value, list) or len(value) != width or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                _refuse(path, f"normalize.{name}", value, f"must be a list of {width} numbers "
                                                          "(one per feature)")
        return {"normalise": "fixed", "fixed_mean": tuple(float(v) for v in mean),
                "fixed_std": tuple(float(v) for v in std)}
    _refuse(path, "normalize", normalize, "must be per_feature, all_features, null or a "
                                          "mapping with fixed_mean and fixed_std")
