"""What a myrtlespeech RNN-T state dict shows (sizes, the presence of dropout) and what it
cannot (how its input width splits into context channels x features), and the myrtlespeech
config of a canonical model."""

from __future__ import annotations

from reference_impls.models.canonical import CanonicalConfig
from rnnt_parity.codebases.base import (
    InferredConfig,
    count_keys,
    fc_lstm_fc_problems,
    require_keys,
)
from rnnt_parity.codebases.myrtlespeech.model import MyrtlespeechConfig


def infer_myrtlespeech(state: dict, extras: dict | None = None,
                       stated: dict | None = None) -> InferredConfig:
    prefix = "joint_net.fully_connected.fully_connected."
    require_keys(state, ["encode.fc1.fully_connected.0.weight", "encode.rnn1.rnn.weight_hh_l0",
                     "encode.fc2.fully_connected.0.weight", "predict_net.embed.weight",
                     prefix + "0.weight"], "myrtlespeech")
    dropout = prefix + "3.weight" in state
    last = "3" if dropout else "2"
    width = state["encode.fc1.fully_connected.0.weight"].shape[1]
    channels = 5 if width % 5 == 0 else 1
    config = MyrtlespeechConfig(
        input_features=width // channels, input_channels=channels,
        fc1_hidden=state["encode.fc1.fully_connected.0.weight"].shape[0],
        rnn_hidden=state["encode.rnn1.rnn.weight_hh_l0"].shape[1],
        rnn_layers=count_keys(state, r"encode\.rnn1\.rnn\.weight_ih_l\d+"),
        fc2_hidden=state["encode.fc2.fully_connected.0.weight"].shape[0],
        encoder_out=state[f"encode.fc2.fully_connected.{last}.weight"].shape[0],
        pred_hidden=state["predict_net.embed.weight"].shape[1],
        pred_layers=count_keys(state, r"predict_net\.dec_rnn\.rnn\.weight_ih_l\d+"),
        joint_hidden=state[prefix + "0.weight"].shape[0],
        vocab_size=state[prefix + f"{last}.weight"].shape[0],
        dropout=0.25 if dropout else None)
    assumed = {"input channels x features": f"{channels} x {width // channels} (only their "
                                             f"product {width} shows)",
               "dropout": f"{config.dropout} (only its presence shows, in the Sequential index)",
               "blank": "last index; start symbol zero vector (myrtlespeech's conventions)"}
    return InferredConfig("myrtlespeech", config, assumed)


def myrtlespeech_from_canonical(config: CanonicalConfig) -> MyrtlespeechConfig:
    """The myrtlespeech config holding a canonical model, or ValueError with every reason."""
    problems = fc_lstm_fc_problems(config, "myrtlespeech's")
    if problems:
        raise ValueError("no myrtlespeech counterpart: " + "; ".join(problems))
    channels = 5 if config.input_features % 5 == 0 else 1
    return MyrtlespeechConfig(
        input_features=config.input_features // channels, input_channels=channels,
        fc1_hidden=config.encoder_fc_in[0], rnn_hidden=config.encoder_hidden,
        rnn_layers=config.pre_layers, fc2_hidden=config.encoder_fc_out[0],
        encoder_out=config.encoder_fc_out[1], pred_hidden=config.prediction_hidden,
        pred_layers=config.prediction_layers, joint_hidden=config.joint_hidden,
        vocab_size=config.vocab_size)


def input_width_problems(from_config, from_checkpoint) -> list[str]:
    """Channels and features are not inferable one by one, but their product is."""
    width_config = from_config.input_channels * from_config.input_features
    width_checkpoint = from_checkpoint.input_channels * from_checkpoint.input_features
    if width_config != width_checkpoint:
        return [f"input width: config says {width_config}, checkpoint has {width_checkpoint}"]
    return []
