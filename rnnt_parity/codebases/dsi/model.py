"""deepspeech-internal's (DSI's) RNN-T, `dsi.rnnt_dsi.Network(80 * 4, 28)`: key names and
forward pass as far as they are known.

Known facts (../shared/reference/upstream_facts.md): seed 000's hand-written map gives every
parameter name (`dsi.rnnt_dsi` itself is not available); myrtlespeech commit 45899f7 changed
myrtlespeech until DSI's weights reproduced DSI's WER in it, so the forward pass is 45899f7's:

    encoder.0          Linear(320, H1), then Hardtanh(0, 20) and dropout (parameter-free)
    encoder.3          Linear(H1, R), then Hardtanh(0, 20) (45899f7's extra one)
    encoder.6.layers.{2k}.rnn
                       LSTM layer k (nn.LSTM of one layer, time-major), dropout between
    encoder.8          Linear(R, H2), then Hardtanh(0, 20) and dropout
    encoder.11         Linear(H2, E), then Hardtanh(0, 20) (the other extra one)
    prediction.embed   Embedding(V - 1, P): blank (last) has no row
    prediction.dec_rnn.layers.{2k}.rnn
                       LSTM layer k (batch-first)
    joint_net.0, .3    Linear(E + P, J), Hardtanh(0, 20), dropout, Linear(J, V) on [f, g]

The parameter-free modules between the numbered Linear layers (indices 1, 2, 4, 5, 7, 9, 10,
12) are not in the weights: they are nn.Identity placeholders keeping the indices, and the
activations are applied where 45899f7 applies them. Input (T, B, 320) time-major, the
4 context channels t-1..t+2 of 80 bins flattened channel-major (`dsi.model_input`). The label
sequence starts with a zero vector and the prediction network runs on [0, y_1, ..., y_U]
(U + 1 steps); blank is the last index. Checkpoints hold the state dict under 'network', in
float16.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reference_impls.models.canonical import CanonicalConfig

HARDTANH = (0.0, 20.0)


@dataclass(frozen=True)
class DSIConfig:
    """Sizes of DSI's `Network(input_features, vocab)` (seed 000: 320 inputs, 28 + blank)."""

    input_features: int = 320
    fc1_hidden: int = 1152
    rnn_hidden: int = 1152
    rnn_layers: int = 2
    fc2_hidden: int = 1152
    encoder_out: int = 512
    pred_hidden: int = 256
    pred_layers: int = 2
    joint_hidden: int = 512
    vocab_size: int = 29

    def canonical(self) -> CanonicalConfig:
        return CanonicalConfig(
            input_features=self.input_features, encoder_hidden=self.rnn_hidden,
            pre_layers=self.rnn_layers, post_layers=0, time_stack=1,
            prediction_hidden=self.pred_hidden, prediction_layers=self.pred_layers,
            joint_hidden=self.joint_hidden, vocab_size=self.vocab_size,
            blank=self.vocab_size - 1, start_symbol="zero", joint_activation="hardtanh_0_20",
            encoder_fc_in=(self.fc1_hidden, self.rnn_hidden),
            encoder_fc_out=(self.fc2_hidden, self.encoder_out), fc_activation="hardtanh_0_20")


class RNN(nn.Module):
    """One LSTM layer, as DSI's `layers.{2k}.rnn`."""

    def __init__(self, size_in: int, size: int, batch_first: bool):
        super().__init__()
        self.rnn = nn.LSTM(size_in, size, 1, batch_first=batch_first)


class StackedLSTM(nn.Module):
    """`layers`: LSTM layer k at index 2k, a parameter-free module between."""

    def __init__(self, size_in: int, size: int, count: int, batch_first: bool):
        super().__init__()
        modules = []
        for k in range(count):
            if k:
                modules.append(nn.Identity())
            modules.append(RNN(size_in if k == 0 else size, size, batch_first))
        self.layers = nn.ModuleList(modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self.layers:
            x = module.rnn(x)[0] if isinstance(module, RNN) else module(x)
        return x


class DSIRNNT(nn.Module):
    """DSI's RNN-T; see the module docstring."""

    def __init__(self, config: DSIConfig):
        super().__init__()
        self.config = c = config
        placeholder = nn.Identity
        self.encoder = nn.Sequential(
            nn.Linear(c.input_features, c.fc1_hidden), placeholder(), placeholder(),
            nn.Linear(c.fc1_hidden, c.rnn_hidden), placeholder(), placeholder(),
            StackedLSTM(c.rnn_hidden, c.rnn_hidden, c.rnn_layers, batch_first=False),
            placeholder(), nn.Linear(c.rnn_hidden, c.fc2_hidden), placeholder(),
            placeholder(), nn.Linear(c.fc2_hidden, c.encoder_out), placeholder())
        self.prediction = nn.ModuleDict({
            "embed": nn.Embedding(c.vocab_size - 1, c.pred_hidden),
            "dec_rnn": StackedLSTM(c.pred_hidden, c.pred_hidden, c.pred_layers,
                                   batch_first=True)})
        self.joint_net = nn.Sequential(nn.Linear(c.encoder_out + c.pred_hidden, c.joint_hidden),
                                       placeholder(), placeholder(),
                                       nn.Linear(c.joint_hidden, c.vocab_size))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(T, B, F) -> (T, B, E): each Linear followed by Hardtanh(0, 20)."""
        e = self.encoder
        h = nn.functional.hardtanh(e[0](x), *HARDTANH)
        h = nn.functional.hardtanh(e[3](h), *HARDTANH)
        h = e[6](h)
        h = nn.functional.hardtanh(e[8](h), *HARDTANH)
        return nn.functional.hardtanh(e[11](h), *HARDTANH)

    def predict(self, labels: torch.Tensor) -> torch.Tensor:
        """(B, U) labels in [0, V-1) -> (B, U+1, P) over [0, y_1, ..., y_U]."""
        y = self.prediction["embed"](labels)
        y = torch.cat([y.new_zeros(y.shape[0], 1, y.shape[2]), y], dim=1)
        return self.prediction["dec_rnn"](y)

    def joint(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """(B, T, E), (B, U+1, P) -> (B, T, U+1, V) on the concatenation [f, g]."""
        frames, labels = f.shape[1], g.shape[1]
        joint = torch.cat([f[:, :, None].expand(-1, -1, labels, -1),
                           g[:, None].expand(-1, frames, -1, -1)], dim=3)
        hidden = nn.functional.hardtanh(self.joint_net[0](joint), *HARDTANH)
        return self.joint_net[3](hidden)

    def forward(self, x, labels):
        """(T, B, F), (B, U) -> logits (B, T, U+1, V)."""
        return self.joint(self.encode(x).transpose(0, 1), self.predict(labels))


def stages(model: DSIRNNT, x: torch.Tensor, lengths: torch.Tensor,
           labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Stage outputs (see `rnnt_parity.models.stages`): DSI reads time-major input."""
    encodings = model.encode(x.transpose(0, 1)).transpose(0, 1)
    predictions = model.predict(labels)
    return {"encoder": encodings, "prediction": predictions,
            "joint": model.joint(encodings, predictions), "lengths": lengths}
