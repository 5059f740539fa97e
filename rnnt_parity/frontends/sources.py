"""Named feature sources for the CLI and checks: "PRESET" is the reference preset,
"lib:PRESET" the production library that preset reproduces."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference_impls.features import PRESETS, log_mel_with_length, preset
from reference_impls.features.mel import all_zero_filters, mel_filters
from reference_impls.features.pipeline import frame_sizes
from rnnt_parity.frontends.production import PRODUCTION_FRONTENDS

LIBRARY_PREFIX = "lib:"


@dataclass(frozen=True)
class Features:
    """Features (frames, n_mels) from a named source, the length it reports (NeMo reports
    fewer frames than it computes), and the bands a zero filter makes constant."""

    source: str
    features: np.ndarray
    zero_filter_bands: tuple[int, ...]
    length: int


def source_names() -> list[str]:
    return sorted(PRESETS) + [LIBRARY_PREFIX + name for name in sorted(PRODUCTION_FRONTENDS)]


def compute_with_length(source: str, signal: np.ndarray, sample_rate: int,
                        n_mels: int | None = None, overrides: dict | None = None) -> Features:
    """Run the named source on a float64 [-1, 1] signal; `n_mels` and `overrides` (further
    `FrontEndConfig` fields, reference presets only) change its defaults."""
    name = source.removeprefix(LIBRARY_PREFIX)
    if name not in PRESETS or (source.startswith(LIBRARY_PREFIX)
                               and name not in PRODUCTION_FRONTENDS):
        raise ValueError(f"unknown front end {source!r}; known: {', '.join(source_names())}")
    options = {} if n_mels is None else {"n_mels": n_mels}
    if overrides and source.startswith(LIBRARY_PREFIX):
        raise ValueError(f"{source} is a library: it takes no front-end overrides")
    config = preset(name, **options, **(overrides or {}))
    _, _, n_fft = frame_sizes(config, sample_rate)
    zero = tuple(int(b) for b in all_zero_filters(mel_filters(
        config.filters, config.n_mels, n_fft, sample_rate, config.f_min, config.f_max,
        config.mel_scale)))
    if source.startswith(LIBRARY_PREFIX):
        features = PRODUCTION_FRONTENDS[name](signal, sample_rate, **options)
        return Features(source, features, zero, features.shape[0])
    out = log_mel_with_length(signal, sample_rate, config)
    return Features(source, out.features, zero, out.length)


def compute(source: str, signal: np.ndarray, sample_rate: int,
            n_mels: int | None = None) -> Features:
    """Run the named source on a float64 [-1, 1] signal; `n_mels` overrides the default."""
    return compute_with_length(source, signal, sample_rate, n_mels)
