"""Myrtle.ai RNN-T v1.3 (the MLPerf RNN-T lineage): module tree, key names and forward.

Reproduces (see ../shared/reference/state_dict_keys/myrtle_v1.3_keys.txt):

    encoder      ModuleDict(pre_rnn: LSTM(lstm, dropout), stack_time, post_rnn: LSTM(...))
    prediction   ModuleDict(embed: Embedding(V - 1, P), dec_rnn: LSTM(...))
    joint_pred   Linear(P, J);  joint_enc Linear(E, J)
    joint_net    Sequential(ReLU, Dropout, Linear(J, V))

Conventions: input (T, B, F) time-major, F = 3 stacked 80-bin frames; StackTime(2) between
pre_rnn and post_rnn shifts over the padded batch (frame s = [x_2s, x_2s+1], zeros past the
padded end, not each utterance's: a padded utterance's last stacked frame can see the
LSTM's output on padding); lengths ceil(L/2). Blank is the last index and has no embedding
row; the start of the label sequence is a zero vector. Raw logits (B, T', U+1, V).
Hard activations (`custom_lstm` and `hard_activation_functions`: Myrtle's CustomLSTM with
hard=True) use `HardLSTM` (same keys); custom_lstm alone is CustomLSTM's sigmoid/tanh, the
same function as nn.LSTM. `enc_batch_norm` / `pred_batch_norm` (separate flags, as Myrtle's
RNNT takes them) give the batch-norm variant of that network: single-layer LSTMs `lstms.{k}`
each followed by `batch_norms.{k}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reference_impls.models.canonical import CanonicalConfig
from rnnt_parity.models.lstm import HardLSTM


@dataclass(frozen=True)
class MyrtleConfig:
    """The `rnnt:` section of a Myrtle v1.3 YAML config (names as there)."""

    in_feats: int = 240
    enc_n_hid: int = 1024
    enc_pre_rnn_layers: int = 2
    enc_post_rnn_layers: int = 3
    enc_stack_time_factor: int = 2
    pred_n_hid: int = 512
    pred_rnn_layers: int = 2
    joint_n_hid: int = 512
    n_classes: int = 1024
    enc_dropout: float = 0.1
    pred_dropout: float = 0.3
    joint_dropout: float = 0.3
    custom_lstm: bool = False
    hard_activation_functions: bool = False
    enc_batch_norm: bool = False
    pred_batch_norm: bool = False

    def canonical(self) -> CanonicalConfig:
        """The canonical config this model maps to (the batch-norm variant has none)."""
        if self.enc_batch_norm or self.pred_batch_norm:
            raise ValueError("the batch-norm variant has no canonical counterpart: the "
                             "canonical model has no batch norm between LSTM layers")
        hard = self.custom_lstm and self.hard_activation_functions
        return CanonicalConfig(
            input_features=self.in_feats, encoder_hidden=self.enc_n_hid,
            pre_layers=self.enc_pre_rnn_layers, post_layers=self.enc_post_rnn_layers,
            time_stack=self.enc_stack_time_factor, prediction_hidden=self.pred_n_hid,
            prediction_layers=self.pred_rnn_layers, joint_hidden=self.joint_n_hid,
            vocab_size=self.n_classes, blank=self.n_classes - 1, start_symbol="zero",
            joint_activation="relu", lstm_gates="hard" if hard else "sigmoid",
            lstm_cell="hard" if hard else "tanh")


MYRTLE_CONFIGS = {
    "testing-1023sp": MyrtleConfig(),
    "base-8703sp": MyrtleConfig(enc_post_rnn_layers=6, joint_n_hid=768, n_classes=8704),
}
"""The two published configurations (49,006,080 and 84,690,432 parameters)."""


class MyrtleLSTM(nn.Module):
    """Myrtle's LSTM wrapper: `lstm` (nn.LSTM or HardLSTM) and `dropout`, or, with batch
    norm, `lstms.{k}` single-layer LSTMs (nn.LSTM or, with hard activations, HardLSTM: v1.3's
    rnn.py builds one CustomLSTM(hard=...) per layer) each followed by `batch_norms.{k}`."""

    def __init__(self, input_size, hidden_size, num_layers, dropout, custom, batch_norm):
        super().__init__()
        self.batch_norm = batch_norm
        if batch_norm:
            layer = HardLSTM if custom else nn.LSTM
            self.lstms = nn.ModuleList(
                layer(input_size if k == 0 else hidden_size, hidden_size, 1)
                for k in range(num_layers))
            self.batch_norms = nn.ModuleList(nn.BatchNorm1d(hidden_size)
                                             for _ in range(num_layers))
        elif custom:
            self.lstm = HardLSTM(input_size, hidden_size, num_layers)
        else:
            self.lstm = nn.LSTM(input_size, hidden_size, num_layers,
                                dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout) if dropout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Time-major (T, B, I) -> (T, B, H)."""
        if self.batch_norm:
            for lstm, norm in zip(self.lstms, self.batch_norms, strict=True):
                x, _ = lstm(x)
                x = norm(x.permute(1, 2, 0)).permute(2, 0, 1)
        else:
            x, _ = self.lstm(x)
        return self.dropout(x) if self.dropout is not None else x


class StackTime(nn.Module):
    """Frame s = [x_ks, ..., x_ks+k-1] over the padded (T, B, H) batch; lengths ceil(L/k)."""

    def __init__(self, factor: int):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor, lengths: torch.Tensor):
        shifted = [x]
        for k in range(1, self.factor):
            tail = torch.zeros_like(x)
            tail[:-k] = x[k:]
            shifted.append(tail)
        stacked = torch.cat(shifted, dim=2)[::self.factor]
        return stacked, torch.div(lengths + self.factor - 1, self.factor, rounding_mode="floor")


class MyrtleRNNT(nn.Module):
    """Myrtle.ai RNN-T v1.3 with its exact module tree; see the module docstring."""

    def __init__(self, config: MyrtleConfig):
        super().__init__()
        self.config = c = config
        custom = c.custom_lstm and c.hard_activation_functions
        self.encoder = nn.ModuleDict({
            "pre_rnn": MyrtleLSTM(c.in_feats, c.enc_n_hid, c.enc_pre_rnn_layers, c.enc_dropout,
                                  custom, c.enc_batch_norm),
            "stack_time": StackTime(c.enc_stack_time_factor),
            "post_rnn": MyrtleLSTM(c.enc_stack_time_factor * c.enc_n_hid, c.enc_n_hid,
                                   c.enc_post_rnn_layers, c.enc_dropout, custom,
                                   c.enc_batch_norm)})
        self.prediction = nn.ModuleDict({
            "embed": nn.Embedding(c.n_classes - 1, c.pred_n_hid),
            "dec_rnn": MyrtleLSTM(c.pred_n_hid, c.pred_n_hid, c.pred_rnn_layers, c.pred_dropout,
                                  custom, c.pred_batch_norm)})
        self.joint_pred = nn.Linear(c.pred_n_hid, c.joint_n_hid)
        self.joint_enc = nn.Linear(c.enc_n_hid, c.joint_n_hid)
        self.joint_net = nn.Sequential(nn.ReLU(inplace=True), nn.Dropout(c.joint_dropout),
                                       nn.Linear(c.joint_n_hid, c.n_classes))

    def encode(self, x: torch.Tensor, lengths: torch.Tensor):
        """(T, B, F) -> ((B, T', E), lengths)."""
        x = self.encoder["pre_rnn"](x)
        x, lengths = self.encoder["stack_time"](x, lengths)
        return self.encoder["post_rnn"](x).transpose(0, 1), lengths

    def predict(self, labels: torch.Tensor) -> torch.Tensor:
        """(B, U) labels in [0, V-1) -> (B, U+1, P), the start being a zero vector."""
        y = self.prediction["embed"](labels)
        y = torch.cat([y.new_zeros(y.shape[0], 1, y.shape[2]), y], dim=1)
        return self.prediction["dec_rnn"](y.transpose(0, 1)).transpose(0, 1)

    def joint(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.joint_net(self.joint_enc(f)[:, :, None] + self.joint_pred(g)[:, None])

    def forward(self, x, lengths, labels):
        """(T, B, F), (B,), (B, U) -> (logits (B, T', U+1, V), lengths T')."""
        f, lengths = self.encode(x, lengths)
        return self.joint(f, self.predict(labels)), lengths


def stages(model: MyrtleRNNT, x: torch.Tensor, lengths: torch.Tensor,
           labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Stage outputs (see `rnnt_parity.models.stages`): Myrtle reads time-major input."""
    encodings, out_lengths = model.encode(x.transpose(0, 1), lengths)
    predictions = model.predict(labels)
    return {"encoder": encodings, "prediction": predictions,
            "joint": model.joint(encodings, predictions), "lengths": out_lengths}
