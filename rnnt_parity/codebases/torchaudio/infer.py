"""torchaudio's RNNT: inspected, never ported (see `model`)."""

from __future__ import annotations

from reference_impls.models.canonical import CanonicalConfig
from rnnt_parity.codebases.base import InferredConfig
from rnnt_parity.codebases.torchaudio.model import TorchaudioRNNTConfig, infer_torchaudio, refusal


def infer_torchaudio_family(state: dict, extras: dict | None = None,
                            stated: dict | None = None) -> InferredConfig:
    config = infer_torchaudio(state)
    return InferredConfig("torchaudio", config, {
        "blank": "not stored in the weights (torchaudio's RNNT takes it at decoding time)"})


def torchaudio_to_canonical(config: TorchaudioRNNTConfig) -> CanonicalConfig:
    raise ValueError(f"no canonical counterpart for torchaudio's RNNT: {refusal(config)}")


def torchaudio_from_canonical(config: CanonicalConfig) -> TorchaudioRNNTConfig:
    placeholder = TorchaudioRNNTConfig(config.vocab_size, config.prediction_hidden,
                                       config.prediction_layers, config.prediction_hidden, False,
                                       config.joint_hidden, "emformer")
    raise ValueError(f"no torchaudio counterpart for the canonical model: {refusal(placeholder)}")
