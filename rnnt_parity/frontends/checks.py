"""Front-end parity for `rnnt-parity check` and the tests: a reference preset against the
production library it reproduces, float64.

Log features are compared as mel energies exp(feature) divided by the utterance's largest
reference energy, under `features.mel_energy`: rounding in the FFT, DC removal and
pre-emphasis is relative to the largest quantities in play, not to each band, so a band far
below them carries a proportionally larger log-domain error (hypothesis found a tone on a
DC offset with 2.7e-9 in the log of a band 1e-8 below its frame's peak, and a quiet frame of
a loud 400-sample signal with 4.6e-14 relative error: 200 eps64 of its own energy). Where
a preset replaces exact zeros by a floor (python_speech_features, myrtlespeech's
torchaudio LogMelFB), both sides' energies are raised to that floor first: a band that one
side rounds to exactly 0 and the other to 1e-40 would otherwise differ by the whole floor
(hypothesis found 2.9e-8 of a quiet utterance's peak with myrtlespeech's float32 eps).
"""

from __future__ import annotations

import numpy as np

from reference_impls.features import preset
from rnnt_parity.compare import Comparison, compare, tolerance_for
from rnnt_parity.frontends.sources import LIBRARY_PREFIX, compute

N_MELS_VARIANTS = (None, 80)
"""Each library's default n_mels, and 80 (python_speech_features' 80-filter bank has an
all-zero filter; Kaldi and torchaudio models commonly use 80)."""


def feature_comparison(preset_name: str, signal: np.ndarray, sample_rate: int,
                       n_mels: int | None = None) -> Comparison:
    """Library features against the reference preset's; ValueError if the shapes differ."""
    reference = compute(preset_name, signal, sample_rate, n_mels).features
    library = compute(LIBRARY_PREFIX + preset_name, signal, sample_rate, n_mels).features
    if reference.shape != library.shape:
        raise ValueError(f"{preset_name}: the reference gives {reference.shape} features, "
                         f"the library {library.shape}")
    config = preset(preset_name)
    floor = config.log_floor if config.log_floor_rule == "replace_zeros" else 0.0
    return compare_log_features(library, reference, floor)


def compare_log_features(actual: np.ndarray, expected: np.ndarray,
                         floor: float = 0.0) -> Comparison:
    """(frames, n_mels) natural-log features compared as energies, each at least `floor`,
    relative to the largest expected energy of the utterance."""
    actual, expected = np.maximum(np.exp(actual), floor), np.maximum(np.exp(expected), floor)
    peak = max(float(expected.max()), np.finfo(float).tiny)
    return compare(actual / peak, expected / peak,
                   tolerance_for("float64", "cpu", "features.mel_energy"))
