"""The canonical RNN-T in torch: the hub every weight map routes through.

Same layout, parameter names and semantics as `reference_impls.models.canonical` (its
docstring is the specification; that NumPy forward pass is this module's oracle).
"""

from __future__ import annotations

import torch
from torch import nn

from reference_impls.models.canonical import CanonicalConfig
from rnnt_parity.frontends.stacking import stack_frames
from rnnt_parity.models.lstm import LSTMLayer

JOINT_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh,
                     "hardtanh_0_20": lambda: nn.Hardtanh(0.0, 20.0)}


def _layers(count: int, inputs: int, hidden: int, config: CanonicalConfig) -> nn.ModuleList:
    return nn.ModuleList(LSTMLayer(inputs if k == 0 else hidden, hidden, config.lstm_gates,
                                   config.lstm_cell) for k in range(count))


def _run(layers: nn.ModuleList, x: torch.Tensor) -> torch.Tensor:
    for layer in layers:
        x = layer(x)
    return x


def _fully_connected(inputs: int, widths: tuple[int, ...]) -> nn.ModuleList:
    layers = nn.ModuleList()
    for width in widths:
        layers.append(nn.Linear(inputs, width))
        inputs = width
    return layers


class CanonicalEncoder(nn.Module):
    def __init__(self, config: CanonicalConfig):
        super().__init__()
        self.time_stack = config.time_stack
        self.fc_in = _fully_connected(config.input_features, config.encoder_fc_in)
        self.pre = _layers(config.pre_layers, config.lstm_input, config.encoder_hidden, config)
        self.post = _layers(config.post_layers, config.encoder_hidden * config.time_stack,
                            config.encoder_hidden, config)
        self.fc_out = _fully_connected(config.encoder_hidden, config.encoder_fc_out)
        self.fc_activation = JOINT_ACTIVATIONS[config.fc_activation]()

    def _fc(self, layers: nn.ModuleList, x: torch.Tensor) -> torch.Tensor:
        for layer in layers:
            x = self.fc_activation(layer(x))
        return x

    def forward(self, features: torch.Tensor, lengths: torch.Tensor):
        """(B, T, F), (B,) -> (B, T', E) with zeros past each length, (B,) lengths."""
        x = self._fc(self.fc_in, features)
        x = _run(self.pre, x.transpose(0, 1)).transpose(0, 1)
        if self.time_stack > 1:
            x, lengths = stack_frames(x, lengths, self.time_stack, self.time_stack)
        x = self._fc(self.fc_out, _run(self.post, x.transpose(0, 1)).transpose(0, 1))
        valid = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
        return x.masked_fill(~valid[..., None], 0.0), lengths


class CanonicalPrediction(nn.Module):
    def __init__(self, config: CanonicalConfig):
        super().__init__()
        self.start_symbol, self.blank = config.start_symbol, config.blank
        self.embedding = nn.Embedding(config.vocab_size, config.prediction_hidden)
        self.lstm = _layers(config.prediction_layers, config.prediction_hidden,
                            config.prediction_hidden, config)

    def start(self, batch: int) -> torch.Tensor:
        """The first input (B, P): zeros, or the blank's embedding."""
        weight = self.embedding.weight
        if self.start_symbol == "zero":
            return weight.new_zeros(batch, weight.shape[1])
        return weight[self.blank].expand(batch, -1)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        """(B, U) -> (B, U+1, P) after [start, y_1, ..., y_U]."""
        x = torch.cat([self.start(labels.shape[0])[:, None], self.embedding(labels)], dim=1)
        return _run(self.lstm, x.transpose(0, 1)).transpose(0, 1)


class CanonicalJoint(nn.Module):
    def __init__(self, config: CanonicalConfig):
        super().__init__()
        self.encoder = nn.Linear(config.encoder_output, config.joint_hidden)
        self.prediction = nn.Linear(config.prediction_hidden, config.joint_hidden)
        self.activation = JOINT_ACTIVATIONS[config.joint_activation]()
        self.output = nn.Linear(config.joint_hidden, config.joint_outputs)

    def forward(self, encodings: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
        """(B, T, E), (B, U+1, P) -> raw logits (B, T, U+1, V)."""
        hidden = self.encoder(encodings)[:, :, None] + self.prediction(predictions)[:, None]
        return self.output(self.activation(hidden))


class CanonicalRNNT(nn.Module):
    """Encoder, prediction network, joint and optional CTC head; see the oracle's docstring."""

    def __init__(self, config: CanonicalConfig):
        super().__init__()
        self.config = config
        self.encoder = CanonicalEncoder(config)
        self.prediction = CanonicalPrediction(config)
        self.joint = CanonicalJoint(config)
        self.ctc = nn.Linear(config.encoder_output, config.vocab_size) if config.ctc_head \
            else None

    def forward(self, features, lengths, labels):
        """-> (logits (B, T', U+1, V), lengths T')."""
        encodings, lengths = self.encoder(features, lengths)
        return self.joint(encodings, self.prediction(labels)), lengths


def stages(model: CanonicalRNNT, x: torch.Tensor, lengths: torch.Tensor,
           labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Stage outputs (see `rnnt_parity.models.stages`); the canonical layout is its own."""
    encodings, out_lengths = model.encoder(x, lengths)
    predictions = model.prediction(labels)
    out = {"encoder": encodings, "prediction": predictions,
           "joint": model.joint(encodings, predictions), "lengths": out_lengths}
    if model.ctc is not None:
        out["ctc"] = model.ctc(encodings)
    return out
