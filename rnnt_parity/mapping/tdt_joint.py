"""A NeMo TDT model's decoder and joint in the canonical layout with its duration outputs
kept, for the TDT decoders (`reference_impls.tdt.decode`). A port to canonical keeps only
the RNN-T part (tokens and blank) and declares the duration rows dropped, since the other
families have no TDT joint; decoding needs them."""

from __future__ import annotations

import dataclasses

import numpy as np

from reference_impls.models.canonical import CanonicalConfig
from rnnt_parity.codebases.nemo.model import NeMoConfig
from rnnt_parity.mapping.engine import apply_map, load_map
from rnnt_parity.mapping.through_canonical import state_layout


def nemo_tdt_to_canonical(state: dict, config: NeMoConfig
                          ) -> tuple[dict[str, np.ndarray], CanonicalConfig]:
    """(canonical float64 parameters, canonical config with `durations`) of a NeMo TDT
    model's heads (`state` with NeMo's keys, as `port.inspect_checkpoint` reads them).

    Raises ValueError for an RNN-T joint, or a TDT joint whose durations are unknown (-1:
    the model config did not say, and the weights show only their count)."""
    if not config.durations:
        raise ValueError("the model has an RNN-T joint (no duration outputs), not a TDT joint")
    if min(config.durations) < 0:
        raise ValueError(f"the TDT joint's durations are unknown ({list(config.durations)}): "
                         "the model config does not say, and the weights show only their "
                         "count")
    canonical = dataclasses.replace(config.canonical(), durations=tuple(config.durations))
    mapped = apply_map(load_map("nemo_to_canonical"), state, state_layout("canonical", canonical))
    return {key: value.double().numpy() for key, value in mapped.items()}, canonical
