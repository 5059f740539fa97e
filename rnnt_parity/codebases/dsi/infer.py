"""What a DSI state dict shows (every size) and the DSI config of a canonical model."""

from __future__ import annotations

from reference_impls.models.canonical import CanonicalConfig
from rnnt_parity.codebases.base import (
    InferredConfig,
    count_keys,
    fc_lstm_fc_problems,
    require_keys,
)
from rnnt_parity.codebases.dsi.model import DSIConfig


def infer_dsi(state: dict, extras: dict | None = None,
              stated: dict | None = None) -> InferredConfig:
    require_keys(state, ["encoder.0.weight", "encoder.3.weight", "encoder.8.weight",
                         "encoder.11.weight", "encoder.6.layers.0.rnn.weight_hh_l0",
                         "prediction.embed.weight", "joint_net.0.weight", "joint_net.3.weight"],
                 "dsi")
    config = DSIConfig(
        input_features=state["encoder.0.weight"].shape[1],
        fc1_hidden=state["encoder.0.weight"].shape[0],
        rnn_hidden=state["encoder.6.layers.0.rnn.weight_hh_l0"].shape[1],
        rnn_layers=count_keys(state, r"encoder\.6\.layers\.\d+\.rnn\.weight_ih_l0"),
        fc2_hidden=state["encoder.8.weight"].shape[0],
        encoder_out=state["encoder.11.weight"].shape[0],
        pred_hidden=state["prediction.embed.weight"].shape[1],
        pred_layers=count_keys(state, r"prediction\.dec_rnn\.layers\.\d+\.rnn\.weight_ih_l0"),
        joint_hidden=state["joint_net.0.weight"].shape[0],
        vocab_size=state["joint_net.3.weight"].shape[0])
    assumed = {"blank": "last index; start symbol zero vector (seed 000, 45899f7)",
               "activations": "Hardtanh(0, 20) after every Linear of the encoder and the "
                              "joint's hidden layer (45899f7's forward pass, which reproduced "
                              "DSI's WER; DSI's own code is not available)"}
    return InferredConfig("dsi", config, assumed)


def dsi_from_canonical(config: CanonicalConfig) -> DSIConfig:
    """The DSI config holding a canonical model, or ValueError with every reason."""
    problems = fc_lstm_fc_problems(config, "DSI's")
    if problems:
        raise ValueError("no dsi counterpart: " + "; ".join(problems))
    return DSIConfig(
        input_features=config.input_features, fc1_hidden=config.encoder_fc_in[0],
        rnn_hidden=config.encoder_hidden, rnn_layers=config.pre_layers,
        fc2_hidden=config.encoder_fc_out[0], encoder_out=config.encoder_fc_out[1],
        pred_hidden=config.prediction_hidden, pred_layers=config.prediction_layers,
        joint_hidden=config.joint_hidden, vocab_size=config.vocab_size)
