"""Steps after the filterbank: log compression, normalisation, masking and padding.

Features are (frames, n_mels). Normalisation statistics come from the first `length` frames
(the reported length), as NeMo's normalize_batch computes them from seq_len frames.
"""

from __future__ import annotations

import numpy as np


def log_compress(energies: np.ndarray, base: str, floor_rule: str, floor: float,
                 overwrite: bool = False) -> np.ndarray:
    """log(energies) with a floor rule: "add" log(x + floor), "clamp" log(max(x, floor)),
    "replace_zeros" (exact zeros become floor, python_speech_features). base "e", "10", "none".
    `overwrite=True` computes it in the energies' own buffer.
    """
    if base == "none":
        return energies
    floor_value = energies.dtype.type(floor)
    guarded = energies if overwrite else np.empty_like(energies)
    if floor_rule == "add":
        np.add(energies, floor_value, out=guarded)
    elif floor_rule == "clamp":
        np.maximum(energies, floor_value, out=guarded)
    else:
        guarded[...] = energies
        guarded[guarded == 0] = floor_value
    logarithm = np.log if base == "e" else np.log10
    return logarithm(guarded, out=guarded)


def normalise(features: np.ndarray, length: int, kind: str, ddof: int = 0, epsilon: float = 0.0,
              epsilon_placement: str = "std", fixed_mean=None, fixed_std=None) -> np.ndarray:
    """(x - mean) / std over the first `length` frames.

    "per_feature": one mean/std per mel bin; "all_features": one over every bin and frame;
    "fixed": the given per-bin mean and std. std = sqrt(sum((x - mean)^2) / (count - ddof)),
    count being the frames (per feature) or frames times bins (all features);
    then `epsilon` is added to the std ("std", NeMo's 1e-5) or to the variance under the
    root ("variance"). A zero std with epsilon 0 divides by zero, as the libraries do.
    """
    if kind == "none":
        return features
    dtype = features.dtype.type
    if kind == "fixed":
        mean = np.asarray(fixed_mean, dtype=features.dtype)
        std = np.asarray(fixed_std, dtype=features.dtype)
        if mean.shape != (features.shape[1],) or std.shape != (features.shape[1],):
            raise ValueError(f"fixed_mean and fixed_std need {features.shape[1]} values (one per "
                             f"mel bin), got {mean.shape[0]} and {std.shape[0]}")
        return (features - mean) / std
    valid = features[:length]
    axis = 0 if kind == "per_feature" else None
    count = length if kind == "per_feature" else valid.size
    if count - ddof <= 0:
        raise ValueError(f"normalising with ddof={ddof} needs more than {ddof} values per "
                         f"statistic, got {count} ({length} frames)")
    centred = features - valid.mean(axis=axis)
    deviations = centred[:length]
    variance = np.einsum("ij,ij->j" if axis == 0 else "ij,ij->", deviations, deviations) \
        / dtype(count - ddof)
    if epsilon_placement == "variance":
        std = np.sqrt(variance + dtype(epsilon))
    else:
        std = np.sqrt(variance) + dtype(epsilon)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(centred, std, out=centred)


def mask_and_pad(features: np.ndarray, length: int, mask: bool, pad_to: int,
                 pad_value: float) -> np.ndarray:
    """Set frames >= length to pad_value (when `mask`), then append pad_value frames until
    the frame count is a multiple of `pad_to` (0: never). A new array, unless nothing
    changes."""
    rows = features.shape[0]
    if pad_to and rows % pad_to:
        rows += pad_to - rows % pad_to
    kept = min(length, features.shape[0]) if mask else features.shape[0]
    if rows == features.shape[0] and kept == rows:
        return features
    out = np.empty((rows, features.shape[1]), features.dtype)
    out[:kept] = features[:kept]
    out[kept:] = pad_value
    return out
