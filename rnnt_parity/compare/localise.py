"""Localise a divergence to the first pair of corresponding modules whose outputs differ.

Forward hooks record each listed module's output while both models run the same inputs
(through `stage_outputs`); pairs are compared in pipeline order under `model.forward`. The
pairs are data, each codebase's `correspondences`: which of its modules computes the same
tensor as which module of the canonical model, and how to bring the family's layout to the
canonical one (time-major, the canonical LSTMs' own layout, or batch-first). They follow the
maps: the tensors a map sends to canonical module X come from the family module paired with X.
Inputs should be full length (padding is not compared here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnt_parity.codebases import family, family_of
from rnnt_parity.compare.arrays import Comparison, compare
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.models.stages import stage_outputs

SAME = "same"
SWAP_01 = "swap_0_1"      # (T, B, H) <-> (B, T, H)
SWAP_12 = "swap_1_2"      # NeMo's channel-second (B, V, T) -> (B, T, V)

@dataclass(frozen=True)
class ModulePair:
    family_module: str
    canonical_module: str
    comparison: Comparison


def _resolve(canonical, path: str) -> str:
    if "{last}" not in path:
        return path
    container = canonical.get_submodule(path.split(".{last}")[0])
    return path.replace("{last}", str(len(container) - 1))


def _record(model: torch.nn.Module, paths: list[str], store: dict) -> list:
    handles = []
    for path in paths:
        def hook(module, inputs, output, path=path):
            store[path] = output[0] if isinstance(output, tuple) else output
        handles.append(model.get_submodule(path).register_forward_hook(hook))
    return handles


def _layout(tensor: torch.Tensor, how: str) -> np.ndarray:
    if how == SWAP_01:
        tensor = tensor.transpose(0, 1)
    elif how == SWAP_12:
        tensor = tensor.transpose(1, 2)
    return tensor.detach().double().cpu().numpy()


def localise(model: torch.nn.Module, canonical: torch.nn.Module, features, lengths,
             labels) -> list[ModulePair]:
    """Every corresponding module pair's comparison, in pipeline order."""
    pairs = [(f, _resolve(canonical, c), how)
             for f, c, how in family(family_of(model)).correspondences]
    seen_model, seen_canonical = {}, {}
    handles = (_record(model, [p[0] for p in pairs], seen_model)
               + _record(canonical, [p[1] for p in pairs], seen_canonical))
    try:
        stage_outputs(model, features, lengths, labels)
        stage_outputs(canonical, features, lengths, labels)
    finally:
        for handle in handles:
            handle.remove()
    parameter = next(canonical.parameters())
    tolerance = tolerance_for(str(parameter.dtype).removeprefix("torch."),
                              parameter.device.type, "model.forward")
    report = []
    for family_path, canonical_path, how in pairs:
        expected = _layout(seen_canonical[canonical_path], SAME)
        actual = _layout(seen_model[family_path], how)
        peak = np.abs(expected).reshape(expected.shape[0], -1).max(axis=1, initial=0.0)
        report.append(ModulePair(family_path, canonical_path,
                                 compare(actual, expected, tolerance, peak)))
    return report


def first_divergent_pair(report: list[ModulePair]) -> ModulePair | None:
    return next((pair for pair in report if not pair.comparison.passed), None)
