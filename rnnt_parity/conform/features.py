"""Conformance of a user's front end: `front_end(signal, sample_rate) -> (T', F')` rows
(float64 mono signal in [-1, 1]; NumPy or torch output) against the NumPy reference of a
named model input (`rnnt_parity.frontends.model_input.ModelInput` with a reference preset
as its source: the log-mel pipeline, then stacking / subsampling / context windows).

Checks: every audio fixture (real speech and synthetic signals), then a hypothesis search
over synthetic signals (noise, tones, chirps, clicks, DC offsets, -90 dBFS to full scale).
A row count or width that differs fails with both shapes (a missing subsampling halves
nothing: it keeps every frame); values compare under `features.model_input_rows`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from reference_impls.features.presets import PRESETS
from rnnt_parity.compare.arrays import compare
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.conform.report import CheckOutcome, ConformanceReport, guarded
from rnnt_parity.conform.search import search
from rnnt_parity.conform.targets import load_callable
from rnnt_parity.fixtures import load_audio_fixtures
from rnnt_parity.frontends.model_input import ModelInput
from rnnt_parity.frontends.native import model_input_from_json
from rnnt_parity.strategies import audio_signals

SAMPLE_RATE = 16000


def read_model_input(preset: str | None, model_input: Path | None) -> ModelInput:
    """The reference: a preset alone (no stacking), or a JSON file of ModelInput fields
    whose source is a reference preset, or of {"config", "family", "revision"} naming a
    codebase's own config (read as `features extract` reads it)."""
    if (preset is None) == (model_input is None):
        raise ValueError("give exactly one of --preset NAME and --model-input FILE.json")
    if preset is not None:
        reference = ModelInput(source=preset, n_mels=None, stack=1, subsample=1)
    else:
        path = Path(model_input)
        try:
            values = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"--model-input {path}: not valid JSON ({error})") from error
        reference = model_input_from_json(values, path.parent, f"--model-input {path}")
    if reference.source not in PRESETS:
        raise ValueError(f"the reference source must be a reference preset {sorted(PRESETS)}, "
                         f"not {reference.source!r}: production code is never the oracle")
    return reference


def _rows(front_end, signal: np.ndarray, sample_rate: int) -> np.ndarray:
    out = front_end(signal, sample_rate)
    if isinstance(out, torch.Tensor):
        out = out.detach().cpu().numpy()
    return np.asarray(out, dtype=np.float64)


def compare_rows(front_end, reference: ModelInput, signal: np.ndarray, sample_rate: int,
                 name: str = "") -> CheckOutcome:
    expected = reference.rows(signal, sample_rate)
    actual = _rows(front_end, signal, sample_rate)
    if actual.shape != expected.shape:
        return CheckOutcome(name, False, detail=f"shape {actual.shape} where the reference "
                                                f"has {expected.shape}")
    check = compare(actual, expected, tolerance_for("float32", "any",
                                                    "features.model_input_rows"))
    return CheckOutcome(name, check.passed, max_abs_loss=check.max_abs,
                        detail="" if check.passed else f"values differ (worst at row, column "
                                                       f"{check.worst_index})")


def conform_features(target: str, reference: ModelInput, profile: str = "ci"
                     ) -> ConformanceReport:
    front_end = load_callable(target)
    report = ConformanceReport("front end", target, {"reference": reference.describe(),
                                                     "sample_rate": SAMPLE_RATE})
    for fixture in load_audio_fixtures():
        name = f"audio fixture {fixture.name}"
        report.checks.append(guarded(name, lambda f=fixture, n=name: compare_rows(
            front_end, reference, f.signal, f.sample_rate, n)))
    report.checks.append(search(
        "property: synthetic signals vs the reference", audio_signals(),
        lambda signal: compare_rows(front_end, reference, signal, SAMPLE_RATE),
        lambda signal: {"signal": signal.tolist(), "sample_rate": SAMPLE_RATE}, profile))
    return report
