"""The installed torchaudio.models.RNNT (emformer_rnnt_base and the like), as a family to
inspect and to refuse ports for, naming the components that have no canonical counterpart.

torchaudio's predictor is embedding -> input LayerNorm -> LSTM layers (`x2g` Linear with the
fused bias b_ih + b_hh, `p2g` Linear without bias, optional `c_norm`/`g_norm` LayerNorms) ->
`linear` -> output LayerNorm, and its joiner is Linear(ReLU(source + target)) on inputs the
transcriber and predictor have already projected. The LSTM layers alone would map (gate
order i, f, g, o; bias split as (fused, 0)), but the layer norms and the predictor's output
projection have no canonical counterpart, and the transcriber (Emformer or Conformer) is no
LSTM encoder: ports in either direction are refused with those reasons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TorchaudioRNNTConfig:
    """Sizes read off a torchaudio RNNT state dict (names as torchaudio's factory arguments)."""

    num_symbols: int
    symbol_embedding_dim: int
    num_lstm_layers: int
    lstm_hidden_dim: int
    lstm_layer_norm: bool
    encoding_dim: int
    transcriber: str


NO_COUNTERPART = (
    "transcriber ({transcriber}): the canonical encoder is a stack of LSTM layers",
    "predictor.input_layer_norm and predictor.output_layer_norm (LayerNorm): the canonical "
    "prediction network has no normalisation",
    "predictor.linear (the predictor's output projection before the joiner): the canonical "
    "prediction network ends at its last LSTM",
)


def infer_torchaudio(state: dict) -> TorchaudioRNNTConfig:
    missing = [key for key in ("predictor.embedding.weight", "predictor.linear.weight",
                               "joiner.linear.weight") if key not in state]
    if missing:
        raise ValueError(f"not a complete torchaudio RNNT state dict: missing {missing}")
    layers = sum(1 for key in state
                 if re.fullmatch(r"predictor\.lstm_layers\.\d+\.x2g\.weight", key))
    transcriber = ("emformer" if any("emformer_layers" in key for key in state) else
                   "conformer" if any("conformer_layers" in key for key in state) else "other")
    return TorchaudioRNNTConfig(
        num_symbols=state["predictor.embedding.weight"].shape[0],
        symbol_embedding_dim=state["predictor.embedding.weight"].shape[1],
        num_lstm_layers=layers,
        lstm_hidden_dim=state["predictor.lstm_layers.0.p2g.weight"].shape[1],
        lstm_layer_norm="predictor.lstm_layers.0.c_norm.weight" in state,
        encoding_dim=state["joiner.linear.weight"].shape[1], transcriber=transcriber)


def refusal(config: TorchaudioRNNTConfig) -> str:
    return "; ".join(reason.format(transcriber=config.transcriber) for reason in NO_COUNTERPART)
