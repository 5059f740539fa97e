"""myrtlespeech's RNN-T (MyrtleSoftware/myrtlespeech, rnn_t_en config): module tree, keys
and forward.

Reproduces (fixtures/models/myrtlespeech_keys.txt):

    encode.fc1.fully_connected      Sequential(Linear(C*F, H1), Hardtanh(0, 20), [Dropout],
                                               Linear(H1, R))      then Hardtanh(0, 20)
    encode.rnn1.rnn                 nn.LSTM(R, R, layers), time-major
    encode.fc2.fully_connected      Sequential(Linear(R, H2), Hardtanh(0, 20), [Dropout],
                                               Linear(H2, E))      then Hardtanh(0, 20)
    predict_net.embed               Embedding(V - 1, P): blank (last) has no row
    predict_net.dec_rnn.rnn         nn.LSTM(P, P, layers), batch-first
    joint_net.fully_connected.fully_connected
                                    Sequential(Linear(E + P, J), Hardtanh(0, 20), [Dropout],
                                               Linear(J, V)) on the concatenation [f, g]

Without dropout the Sequential indices shift (.3 becomes .2). Input (B, C, F, T): C context
frames (symmetric, `reference_impls.features.stacking.symmetric_context`) flattened
channel-major to C*F features (index c*F + f) before fc1. The label sequence starts with a
zero vector; the prediction network runs on [0, y_1, ..., y_U] with length U + 1 (the seed
notebook's first bug was packing it with length U, so the last label was never scored).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reference_impls.models.canonical import CanonicalConfig


@dataclass(frozen=True)
class MyrtlespeechConfig:
    """Sizes of the rnn_t_en configuration (seed 000: 80 features x 5 context, 28 + blank)."""

    input_features: int = 80
    input_channels: int = 5
    fc1_hidden: int = 1152
    rnn_hidden: int = 1152
    rnn_layers: int = 2
    fc2_hidden: int = 1152
    encoder_out: int = 512
    pred_hidden: int = 256
    pred_layers: int = 2
    joint_hidden: int = 512
    vocab_size: int = 29
    dropout: float | None = 0.25

    def canonical(self) -> CanonicalConfig:
        return CanonicalConfig(
            input_features=self.input_channels * self.input_features,
            encoder_hidden=self.rnn_hidden, pre_layers=self.rnn_layers, post_layers=0,
            time_stack=1, prediction_hidden=self.pred_hidden,
            prediction_layers=self.pred_layers, joint_hidden=self.joint_hidden,
            vocab_size=self.vocab_size, blank=self.vocab_size - 1, start_symbol="zero",
            joint_activation="hardtanh_0_20", encoder_fc_in=(self.fc1_hidden, self.rnn_hidden),
            encoder_fc_out=(self.fc2_hidden, self.encoder_out), fc_activation="hardtanh_0_20")


def _sequential(inputs: int, hidden: int, outputs: int, dropout: float | None) -> nn.Sequential:
    layers = [nn.Linear(inputs, hidden), nn.Hardtanh(0.0, 20.0)]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, outputs))
    return nn.Sequential(*layers)


class FullyConnected(nn.Module):
    def __init__(self, inputs: int, hidden: int, outputs: int, dropout: float | None):
        super().__init__()
        self.fully_connected = _sequential(inputs, hidden, outputs, dropout)


class RNN(nn.Module):
    def __init__(self, size_in: int, size: int, layers: int, batch_first: bool):
        super().__init__()
        self.rnn = nn.LSTM(size_in, size, layers, batch_first=batch_first)


class Encoder(nn.Module):
    def __init__(self, c: MyrtlespeechConfig):
        super().__init__()
        self.fc1 = FullyConnected(c.input_channels * c.input_features, c.fc1_hidden,
                                  c.rnn_hidden, c.dropout)
        self.rnn1 = RNN(c.rnn_hidden, c.rnn_hidden, c.rnn_layers, batch_first=False)
        self.fc2 = FullyConnected(c.rnn_hidden, c.fc2_hidden, c.encoder_out, c.dropout)
        self.hardtanh = nn.Hardtanh(0.0, 20.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, F, T) -> (T, B, E)."""
        batch, channels, features, frames = x.shape
        h = x.reshape(batch, channels * features, frames).permute(2, 0, 1)
        h = self.hardtanh(self.fc1.fully_connected(h))
        h, _ = self.rnn1.rnn(h)
        return self.hardtanh(self.fc2.fully_connected(h))


class PredictNet(nn.Module):
    def __init__(self, c: MyrtlespeechConfig):
        super().__init__()
        self.embed = nn.Embedding(c.vocab_size - 1, c.pred_hidden)
        self.dec_rnn = RNN(c.pred_hidden, c.pred_hidden, c.pred_layers, batch_first=True)

    def forward(self, labels: torch.Tensor, label_lengths: torch.Tensor) -> torch.Tensor:
        """(B, U) labels, (B,) lengths -> (B, U+1, P) over [0, y_1, ..., y_U], packed with
        length U + 1 per utterance (positions past it are zero)."""
        y = self.embed(labels)
        y = torch.cat([y.new_zeros(y.shape[0], 1, y.shape[2]), y], dim=1)
        packed = nn.utils.rnn.pack_padded_sequence(y, (label_lengths + 1).cpu(),
                                                   batch_first=True, enforce_sorted=False)
        out, _ = self.dec_rnn.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                  total_length=y.shape[1])
        return out


class JointNet(nn.Module):
    def __init__(self, c: MyrtlespeechConfig):
        super().__init__()
        self.fully_connected = FullyConnected(c.encoder_out + c.pred_hidden, c.joint_hidden,
                                              c.vocab_size, c.dropout)

    def forward(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """(B, T, E), (B, U+1, P) -> (B, T, U+1, V) on the concatenation [f, g]."""
        frames, labels = f.shape[1], g.shape[1]
        joint = torch.cat([f[:, :, None].expand(-1, -1, labels, -1),
                           g[:, None].expand(-1, frames, -1, -1)], dim=3)
        return self.fully_connected.fully_connected(joint)


class MyrtlespeechRNNT(nn.Module):
    """myrtlespeech's RNN-T; see the module docstring."""

    def __init__(self, config: MyrtlespeechConfig):
        super().__init__()
        self.config = config
        self.encode = Encoder(config)
        self.predict_net = PredictNet(config)
        self.joint_net = JointNet(config)

    def forward(self, x, lengths, labels, label_lengths):
        """(B, C, F, T), (B,), (B, U), (B,) -> (logits (B, T, U+1, V), lengths)."""
        f = self.encode(x).transpose(0, 1)
        return self.joint_net(f, self.predict_net(labels, label_lengths)), lengths


def stages(model: MyrtlespeechRNNT, x: torch.Tensor, lengths: torch.Tensor,
           labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Stage outputs (see `rnnt_parity.models.stages`): canonical feature c*F + f becomes
    channel c, feature f of myrtlespeech's (B, C, F, T) input; labels are packed full
    length."""
    c = model.config
    channel_major = x.transpose(1, 2).reshape(x.shape[0], c.input_channels, c.input_features,
                                              x.shape[1])
    encodings = model.encode(channel_major).transpose(0, 1)
    full = torch.full((labels.shape[0],), labels.shape[1], device=labels.device)
    predictions = model.predict_net(labels, full)
    return {"encoder": encodings, "prediction": predictions,
            "joint": model.joint_net(encodings, predictions), "lengths": lengths}
