"""NVIDIA NeMo's transducer heads: the decoder (prediction network), the joint and, for the
hybrid RNN-T + CTC models, the CTC decoder, with NeMo's key names; a TDT joint (token and
duration transducer) adds `len(durations)` outputs after the blank. The encoder (a
Conformer) and the preprocessor are outside this family: the encoder's output is the input
here (the canonical model with no encoder layers).

Reproduces (../shared/reference/state_dict_keys/nemo_keys.txt, fixtures/models/):

    decoder.prediction.embed        Embedding(V + 1, P, padding_idx=V): blank (last) row zero
    decoder.prediction.dec_rnn.lstm nn.LSTM(P, P, layers), time-major inside
    joint.pred, joint.enc           Linear(P, J), Linear(D, J)
    joint.joint_net                 Sequential(ReLU, Dropout, Linear(J, V + 1)); without
                                    dropout Sequential(ReLU, Linear): index .2 becomes .1;
                                    a TDT joint's Linear has V + 1 + len(durations) outputs
    ctc_decoder.decoder_layers.0    Conv1d(D, V + 1, kernel_size=1) (hybrid models only)

Conventions: channel-second layouts, encodings (B, D, T) and decoder output (B, P, U+1); the
label sequence starts with a zero vector; blank is the last index. NeMo's joint applies
log_softmax when `log_softmax` is None and the tensor is on the CPU (raw logits on CUDA), and
the CTC decoder returns log-probs: `joint_logits` and `ctc_logits` give the raw values.
Not reproduced (refused by inference): the batch-norm decoder (BNRNNSum) and LSTMs with a
projection (rnn_hidden_size > pred_hidden).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reference_impls.models.canonical import CanonicalConfig


@dataclass(frozen=True)
class NeMoConfig:
    """Sizes of NeMo's decoder / joint / CTC head (NeMo's own names where it has them)."""

    encoder_dim: int = 512
    pred_hidden: int = 640
    pred_rnn_layers: int = 1
    joint_hidden: int = 640
    vocab_size: int = 1024
    joint_dropout: float = 0.2
    log_softmax: bool | None = None
    ctc_head: bool = True
    durations: tuple[int, ...] = ()
    """A TDT joint's durations (NeMo's `num_extra_outputs` outputs after the blank); values
    unknown from the weights are -1 (only their count shows)."""

    def canonical(self) -> CanonicalConfig:
        """The RNN-T part: tokens and blank (a TDT joint's duration outputs have no canonical
        counterpart and are dropped, declared, by the map)."""
        return CanonicalConfig(
            input_features=self.encoder_dim, encoder_hidden=self.encoder_dim, pre_layers=0,
            post_layers=0, time_stack=1, prediction_hidden=self.pred_hidden,
            prediction_layers=self.pred_rnn_layers, joint_hidden=self.joint_hidden,
            vocab_size=self.vocab_size + 1, blank=self.vocab_size, start_symbol="zero",
            joint_activation="relu", ctc_head=self.ctc_head)


class _LSTM(nn.Module):
    def __init__(self, size: int, layers: int):
        super().__init__()
        self.lstm = nn.LSTM(size, size, layers)


class _Decoder(nn.Module):
    def __init__(self, config: NeMoConfig):
        super().__init__()
        self.prediction = nn.ModuleDict({
            "embed": nn.Embedding(config.vocab_size + 1, config.pred_hidden,
                                  padding_idx=config.vocab_size),
            "dec_rnn": _LSTM(config.pred_hidden, config.pred_rnn_layers)})


class _Joint(nn.Module):
    def __init__(self, config: NeMoConfig):
        super().__init__()
        self.pred = nn.Linear(config.pred_hidden, config.joint_hidden)
        self.enc = nn.Linear(config.encoder_dim, config.joint_hidden)
        layers = [nn.ReLU(inplace=True)]
        if config.joint_dropout:
            layers.append(nn.Dropout(config.joint_dropout))
        layers.append(nn.Linear(config.joint_hidden,
                                config.vocab_size + 1 + len(config.durations)))
        self.joint_net = nn.Sequential(*layers)


class _CTCDecoder(nn.Module):
    def __init__(self, config: NeMoConfig):
        super().__init__()
        self.decoder_layers = nn.Sequential(nn.Conv1d(config.encoder_dim,
                                                      config.vocab_size + 1, kernel_size=1))


class NeMoHybridHead(nn.Module):
    """NeMo's RNN-T decoder + joint + CTC decoder; see the module docstring."""

    def __init__(self, config: NeMoConfig):
        super().__init__()
        self.config = config
        self.decoder = _Decoder(config)
        self.joint = _Joint(config)
        if config.ctc_head:
            self.ctc_decoder = _CTCDecoder(config)

    def predict(self, labels: torch.Tensor) -> torch.Tensor:
        """(B, U) -> decoder output (B, P, U+1), channel-second, after a zero start vector."""
        y = self.decoder.prediction["embed"](labels)
        y = torch.cat([y.new_zeros(y.shape[0], 1, y.shape[2]), y], dim=1)
        g, _ = self.decoder.prediction["dec_rnn"].lstm(y.transpose(0, 1))
        return g.permute(1, 2, 0)

    def joint_logits(self, encodings: torch.Tensor, decoder_output: torch.Tensor) -> torch.Tensor:
        """(B, D, T), (B, P, U+1) -> raw logits (B, T, U+1, V+1 [+ durations])."""
        f = self.joint.enc(encodings.transpose(1, 2))[:, :, None]
        g = self.joint.pred(decoder_output.transpose(1, 2))[:, None]
        return self.joint.joint_net(f + g)

    def joint_output(self, encodings: torch.Tensor, decoder_output: torch.Tensor):
        """What NeMo's joint returns: log-probs on the CPU when log_softmax is None."""
        logits = self.joint_logits(encodings, decoder_output)
        use = self.config.log_softmax
        if use or (use is None and not logits.is_cuda):
            return logits.log_softmax(dim=-1)
        return logits

    def ctc_logits(self, encodings: torch.Tensor) -> torch.Tensor:
        """(B, D, T) -> raw CTC logits (B, T, V+1) (NeMo's decoder returns their log_softmax)."""
        return self.ctc_decoder.decoder_layers(encodings).transpose(1, 2)

    def forward(self, encodings, labels):
        """(B, D, T), (B, U) -> (NeMo's joint output (B, T, U+1, V+1), CTC log-probs or
        None without a CTC head)."""
        ctc = self.ctc_logits(encodings).log_softmax(dim=-1) if self.config.ctc_head else None
        return self.joint_output(encodings, self.predict(labels)), ctc


def stages(model: NeMoHybridHead, x: torch.Tensor, lengths: torch.Tensor,
           labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """Stage outputs (see `rnnt_parity.models.stages`): the input is the encodings (B, T, D),
    zero past each length; NeMo's channel-second layouts are turned batch-first, and the
    joint and CTC outputs are the raw logits."""
    valid = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
    encodings = x.masked_fill(~valid[..., None], 0.0)
    decoder_output = model.predict(labels)
    joint = model.joint_logits(encodings.transpose(1, 2), decoder_output)
    tokens = model.config.vocab_size + 1
    out = {"encoder": encodings, "prediction": decoder_output.transpose(1, 2),
           "joint": joint[..., :tokens], "lengths": lengths}
    if model.config.durations:
        out["durations"] = joint[..., tokens:]
    if model.config.ctc_head:
        out["ctc"] = model.ctc_logits(encodings.transpose(1, 2))
    return out
