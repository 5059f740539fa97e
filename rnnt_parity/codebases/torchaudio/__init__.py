"""torchaudio.models.RNNT (emformer_rnnt_base and the like): inspected, its ports refused
naming the components without a canonical counterpart (`model`)."""

from rnnt_parity.codebases.base import Codebase
from rnnt_parity.codebases.torchaudio.infer import (
    infer_torchaudio_family,
    torchaudio_from_canonical,
    torchaudio_to_canonical,
)

CODEBASE = Codebase(
    "torchaudio", ("predictor.lstm_layers.", "joiner.linear.weight"), infer_torchaudio_family,
    None, torchaudio_to_canonical, torchaudio_from_canonical, lambda c: c.num_symbols - 1)

__all__ = ["CODEBASE"]
