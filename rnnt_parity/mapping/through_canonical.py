"""Mapping a state dict from one family to another through the canonical layout: every family
maps to and from canonical, so N families need 2N maps, not N^2. This layer sits below `port`
and `compare`, which both use it, and above the codebases, which it only reads."""

from __future__ import annotations

import dataclasses

import torch

from rnnt_parity.codebases import family
from rnnt_parity.mapping.engine import apply_map, load_map


def state_layout(family_name: str, config) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the family's model for `config`, built on the meta device."""
    with torch.device("meta"):
        model = family(family_name).build(config)
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


ORIGIN_EXTRA = "origin"
"""The extras entry in which a canonical checkpoint written by `port` records the family and
config it was ported from ({"family", "config"}), so that a port back restores what the
canonical layout cannot hold (dropout layouts, the context split)."""


def origin_fields(target: str, origin: dict | None) -> dict:
    """The target config fields a canonical checkpoint's `origin` restores: those the
    canonical layout cannot hold (`not_inferable`, `presence_only`), when it came from
    `target`'s family."""
    if not origin or origin.get("family") != target:
        return {}
    entry = family(target)
    kept = set(entry.not_inferable) | set(entry.presence_only)
    return {k: v for k, v in origin.get("config", {}).items() if k in kept}


def map_to(state: dict, source: str, target: str, source_config,
           drop_ctc_head: bool = False, origin: dict | None = None,
           declared: dict[str, str] | None = None) -> tuple[dict, object, list]:
    """Map `state` from `source` to `target` through canonical; (state, target config, maps).

    `drop_ctc_head` removes a CTC head at the canonical hub (for targets without one, such as
    Myrtle's RNN-T); every other weight is carried. `origin` (a canonical checkpoint's
    ORIGIN_EXTRA) restores the target fields canonical cannot hold when the weights came
    from the target's family. `declared` receives what the maps dropped, with why."""
    canonical_config = family(source).to_canonical_config(source_config)
    maps, mapped = [], state
    if source != "canonical":
        weight_map = load_map(f"{source}_to_canonical")
        mapped = apply_map(weight_map, mapped, state_layout("canonical", canonical_config),
                           declared)
        maps.append(weight_map)
    if drop_ctc_head:
        if not canonical_config.ctc_head:
            raise ValueError("--drop-ctc-head: the source model has no CTC head")
        canonical_config = dataclasses.replace(canonical_config, ctc_head=False)
        mapped = {k: v for k, v in mapped.items() if not k.startswith("ctc.")}
    target_config = family(target).from_canonical_config(canonical_config)
    restored = origin_fields(target, origin)
    if restored:
        target_config = dataclasses.replace(target_config, **restored)
    if target != "canonical":
        weight_map = load_map(f"canonical_to_{target}")
        mapped = apply_map(weight_map, mapped, state_layout(target, target_config), declared)
        maps.append(weight_map)
    return mapped, target_config, maps


def as_canonical_state(model: torch.nn.Module) -> tuple[dict, object]:
    """A model's weights mapped to canonical: (state, canonical config)."""
    from rnnt_parity.codebases import family_of

    state, config, _ = map_to(model.state_dict(), family_of(model), "canonical", model.config)
    return state, config
