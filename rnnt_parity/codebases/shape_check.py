"""Which tensors are damaged: a config is read off a few tensors' shapes, so one damaged tensor
(truncated, transposed, from another model) either passes unnoticed into the config, making
the others look wrong, or is the one that disagrees. `shape_problems` finds the model that
the most tensors agree on (the inferred config, or it with one size changed) and names the
tensors whose shapes do not fit it. Keys the model lacks, or tensors it has and the checkpoint
lacks, are the weight map's report (`inspect`'s "cannot be accounted for").

A size read off only the damaged tensor itself (the first layer's input width, say) cannot be
told from a real one: every tensor agrees with it. That is what a native config file
(`--config`) is for.
"""

from __future__ import annotations

import dataclasses

import torch

GATE_FACTORS = (2, 3, 4)
"""Divisors tried on a disagreeing dimension: an LSTM stacks 4 gates' rows, time stacking
multiplies a width (by 2 or 3 in the codebases here)."""


def meta_layout(build, config) -> dict[str, tuple[int, ...]]:
    """Key -> shape of `build(config)`, built on the meta device (no memory, no init)."""
    with torch.device("meta"):
        model = build(config)
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def disagreeing(layout: dict, shapes: dict) -> list[str]:
    """The keys of both whose shapes differ (keys only one has are the weight map's
    question: a tensor outside the model, a layer missing)."""
    return sorted(key for key in set(layout) & set(shapes) if layout[key] != shapes[key])


def _candidate_values(layout: dict, shapes: dict, keys: list[str]) -> set[int]:
    dims = {d for key in keys for shape in (layout.get(key), shapes.get(key)) if shape
            for d in shape}
    return {v for d in dims for v in (d, *(d // k for k in GATE_FACTORS if d % k == 0))
            if v > 0}


def _variants(config, values: set[int]):
    """(field, `config` with that int field, or one entry of an int-tuple field, set to each
    value); where the change alone is invalid and the config has a blank, blank moves to the
    new last index (a vocabulary read off a damaged tensor)."""
    for f in dataclasses.fields(config):
        current = getattr(config, f.name)
        if isinstance(current, bool):
            continue
        if isinstance(current, int):
            options = [(v, {f.name: v}) for v in values if v != current]
        elif isinstance(current, tuple) and all(isinstance(w, int) for w in current):
            options = [(v, {f.name: current[:i] + (v,) + current[i + 1:]})
                       for i in range(len(current)) for v in values if v != current[i]]
        else:
            continue
        for value, change in options:
            variant = _replaced(config, change)
            if variant is None and hasattr(config, "blank"):
                variant = _replaced(config, {**change, "blank": value - 1})
            if variant is not None:
                yield f.name, variant


def _replaced(config, change: dict):
    """`config` with `change`, or None where the config refuses it."""
    try:
        return dataclasses.replace(config, **change)
    except (ValueError, TypeError):
        return None


def shape_problems(build, config, state: dict, source: str) -> list[str]:
    """One line per tensor of `state` that does not fit the model the most tensors agree on
    (empty when all fit `build(config)`). `source` says where `config` came from ("the tensor
    shapes", "the checkpoint's canonical_config")."""
    shapes = {key: tuple(value.shape) for key, value in state.items()}
    layout = meta_layout(build, config)
    wrong = disagreeing(layout, shapes)
    if not wrong:
        return []
    best = (wrong, layout, None)
    for name, variant in _variants(config, _candidate_values(layout, shapes, wrong)):
        try:
            variant_layout = meta_layout(build, variant)
        except (ValueError, TypeError, RuntimeError):
            continue
        if variant_layout.keys() != layout.keys():
            continue
        variant_wrong = disagreeing(variant_layout, shapes)
        if len(variant_wrong) < len(best[0]):
            best = (variant_wrong, variant_layout, (name, getattr(variant, name)))
    wrong, layout, change = best
    if change is not None and not wrong:
        return [f"{source} does not describe these tensors: it gives {change[0]} = "
                f"{getattr(config, change[0])}, and every tensor fits {change[0]} = {change[1]}"]
    agree = len(set(shapes) & set(layout)) - len(wrong)
    model = ("the model read off " + source if change is None else
             f"the model they agree on ({change[0]} = {change[1]}, where {source} gave "
             f"{getattr(config, change[0])})")
    lines = [f"{len(wrong)} tensor(s) do not fit {model}, which the other {agree} fit; "
             "a damaged tensor, or one from another model:"]
    return lines + [f"  {key} is {shapes[key]}; the model's is {layout[key]}" for key in wrong]
