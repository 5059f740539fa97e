"""What a Myrtle.ai RNN-T state dict shows (every size, batch norm per network) and what it
cannot (whether the LSTMs use hard activations: the keys are the same), what the checkpoint's
extras settle of it, and the Myrtle config of a canonical model."""

from __future__ import annotations

import re

from reference_impls.models.canonical import CanonicalConfig
from rnnt_parity.codebases.base import (
    InferredConfig,
    count_keys,
    require_keys,
    shared_convention_problems,
)
from rnnt_parity.codebases.myrtle.model import MyrtleConfig

HARD = "hard_activations"
"""Myrtle's custom LSTM with hard activation functions (custom_lstm and
hard_activation_functions), or sigmoid/tanh: the same keys, a different forward pass."""
NO_HARD_ACTIVATIONS_FROM = (1, 6)
"""caiman-asr removed the hard activation functions in v1.6.0 (v1.5.0 is the last with them)."""


def _version(extras: dict) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in str(extras["version"]).split(".")[:2])
    except (KeyError, ValueError):
        return None


def hard_activations_from(extras: dict | None) -> tuple[bool | None, str]:
    """(hard activations, where that was read) from what a Myrtle checkpoint carries, or
    (None, "") when it does not say: a v1.3-era hardware checkpoint's whole `rnnt_config`
    says it; a checkpoint of v1.6 or later (its `version`, or `logmel_norm_weight`, written
    from v1.9) has none."""
    extras = extras or {}
    config = extras.get("rnnt_config")
    rnnt = config.get("rnnt", config) if isinstance(config, dict) else None
    if isinstance(rnnt, dict) and "custom_lstm" in rnnt:
        hard = bool(rnnt.get("custom_lstm")) and bool(rnnt.get("hard_activation_functions"))
        return hard, "the checkpoint's rnnt_config"
    version = _version(extras)
    if version is not None and version >= NO_HARD_ACTIVATIONS_FROM:
        return False, f"the checkpoint's version {extras['version']} (none since v1.6.0)"
    if "logmel_norm_weight" in extras:
        return False, "the checkpoint's logmel_norm_weight (written from v1.9.0; no hard " \
                      "activations since v1.6.0)"
    return None, ""


def _lstm_layout(state: dict, network: str) -> tuple[bool, str, int]:
    """(batch norm, the first layer's key pattern, layers) of one of Myrtle's LSTMs."""
    escaped = re.escape(network)
    if any(key.startswith(f"{network}.lstms.") for key in state):
        pattern = f"{network}.lstms.0.{{}}_l0"
        return True, pattern, count_keys(state, rf"{escaped}\.lstms\.\d+\.weight_ih_l0")
    return False, f"{network}.lstm.{{}}_l0", count_keys(
        state, rf"{escaped}\.lstm\.weight_ih_l\d+")


def infer_myrtle(state: dict, extras: dict | None = None,
                 stated: dict | None = None) -> InferredConfig:
    encoder_norm, first, pre = _lstm_layout(state, "encoder.pre_rnn")
    post_norm, post_first, post = _lstm_layout(state, "encoder.post_rnn")
    pred_norm, _, pred = _lstm_layout(state, "prediction.dec_rnn")
    if encoder_norm != post_norm:
        raise ValueError("encoder.pre_rnn and encoder.post_rnn differ in batch norm; Myrtle's "
                         "enc_batch_norm sets both")
    require_keys(state, [first.format("weight_ih"), post_first.format("weight_ih"),
                         "prediction.embed.weight", "joint_enc.weight", "joint_net.2.weight"],
                 "myrtle_rnnt")
    stated = stated or {}
    hard, source = (stated[HARD], "stated") if HARD in stated else hard_activations_from(extras)
    hidden = state[first.format("weight_hh")].shape[1]
    config = MyrtleConfig(
        in_feats=state[first.format("weight_ih")].shape[1], enc_n_hid=hidden,
        enc_pre_rnn_layers=pre, enc_post_rnn_layers=post,
        enc_stack_time_factor=state[post_first.format("weight_ih")].shape[1] // hidden,
        pred_n_hid=state["prediction.embed.weight"].shape[1], pred_rnn_layers=pred,
        joint_n_hid=state["joint_enc.weight"].shape[0],
        n_classes=state["joint_net.2.weight"].shape[0], custom_lstm=bool(hard),
        hard_activation_functions=bool(hard), enc_batch_norm=encoder_norm,
        pred_batch_norm=pred_norm)
    stacked = config.in_feats
    front_end = (f"{stacked // 80} stacked frames of 80 mel bins" if stacked % 80 == 0
                 else f"{stacked} input features (not a multiple of 80 bins)")
    assumed = {"front-end stacking": f"{front_end}, read off the first layer's input width "
                                     "(the split into bins x frames is assumed)",
               "dropouts": "0.1 / 0.3 / 0.3 (no effect in eval mode)",
               "blank": "last index (Myrtle's convention)",
               "start symbol": "zero vector (Myrtle's convention)"}
    unknown, known = {}, {}
    if hard is None:
        unknown[HARD] = ("Myrtle's custom LSTM with hard activations (true) or sigmoid/tanh "
                         "(false): the keys are the same; a v1.3-era hardware checkpoint's "
                         "rnnt_config or the training YAML (--config) says which")
    else:
        known[HARD] = f"{str(hard).lower()} ({source})"
    return InferredConfig("myrtle_rnnt", config, assumed, unknown, known)


def myrtle_from_canonical(config: CanonicalConfig) -> MyrtleConfig:
    """The Myrtle config holding a canonical model, or ValueError naming what has no
    counterpart in Myrtle's architecture."""
    problems = shared_convention_problems(config, "Myrtle's")
    if not config.pre_layers:
        problems.append("the model has no encoder layers; Myrtle's encoder is an LSTM")
    if config.ctc_head:
        problems.append("the model has a CTC head; Myrtle's has none (port with --drop-ctc-head to "
                        "leave it behind)")
    if config.lstm_gates != ("hard" if config.lstm_cell == "hard" else "sigmoid"):
        problems.append("mixed hard and smooth LSTM activations")
    if problems:
        raise ValueError("no myrtle_rnnt counterpart: " + "; ".join(problems))
    hard = config.lstm_gates == "hard"
    return MyrtleConfig(
        in_feats=config.input_features, enc_n_hid=config.encoder_hidden,
        enc_pre_rnn_layers=config.pre_layers, enc_post_rnn_layers=config.post_layers,
        enc_stack_time_factor=config.time_stack, pred_n_hid=config.prediction_hidden,
        pred_rnn_layers=config.prediction_layers, joint_n_hid=config.joint_hidden,
        n_classes=config.vocab_size, custom_lstm=hard, hard_activation_functions=hard)
