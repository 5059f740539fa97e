"""Golden model inputs written by the real codebases, and the comparison against them.

A golden set (fixtures/goldens/frontends/<set>/, written by scripts/goldens/*_frontend.py in
an environment where the real code runs) holds, per utterance, the rows the real pipeline
hands its model and the length it reports, with provenance (library, version, commit,
settings, command). `compare_with_golden` runs this project's model input for the set's
config on the same audio and reports, per utterance, whether frame count and length are
equal and the largest difference of the values, where it is and the two values there.
The bound is the spread tolerance `features.golden_model_input`: a few times what float32
rounding does to this same pipeline on this same utterance (our float32 path against our
float64 path), because the real pipelines compute in float32 and their error is largest in
log bands far below a frame's peak energy.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnt_parity.audio import load_audio
from rnnt_parity.compare.tolerances import spread_tolerance_for
from rnnt_parity.fixtures import DEFAULT_FIXTURE_ROOT
from rnnt_parity.frontends.model_input import ModelInput
from rnnt_parity.frontends.native import NativeInput, read_native_input

GOLDEN_ROOT = DEFAULT_FIXTURE_ROOT / "goldens" / "frontends"
REPOSITORY = DEFAULT_FIXTURE_ROOT.parent


@dataclass(frozen=True)
class GoldenSet:
    name: str
    provenance: dict
    rows: dict[str, np.ndarray]
    lengths: dict[str, int]

    @property
    def audio(self) -> dict[str, Path]:
        return {stem: REPOSITORY / path for stem, path in self.provenance["audio"].items()}

    def native_input(self) -> NativeInput:
        """This project's reading of the set's config, as `features extract` reads it."""
        config = self.provenance.get("config")
        return read_native_input(None if config is None else REPOSITORY / config,
                                 self.provenance["family"], self.provenance.get("revision"))


@dataclass(frozen=True)
class UtteranceComparison:
    stem: str
    frames: tuple[int, int]
    lengths: tuple[int, int]
    max_abs: float
    worst: tuple[int, int] | None
    values: tuple[float, float] | None
    bound: float

    @property
    def passed(self) -> bool:
        return (self.frames[0] == self.frames[1] and self.lengths[0] == self.lengths[1]
                and self.max_abs <= self.bound)

    def describe(self) -> str:
        """One line: what differs, where, and the two values there."""
        if self.frames[0] != self.frames[1]:
            return f"{self.stem}: {self.frames[0]} frames, the real code {self.frames[1]}"
        if self.lengths[0] != self.lengths[1]:
            return f"{self.stem}: length {self.lengths[0]}, the real code {self.lengths[1]}"
        where = "" if self.worst is None else (
            f" at frame {self.worst[0]}, column {self.worst[1]} (ours {self.values[0]:.7g}, "
            f"real {self.values[1]:.7g})")
        verdict = "within" if self.max_abs <= self.bound else "beyond"
        return f"{self.stem}: max abs {self.max_abs:.3g}{where}, {verdict} {self.bound:.3g}"


def golden_sets(root: Path = GOLDEN_ROOT) -> list[str]:
    """Names of the committed golden sets."""
    return sorted(p.parent.name for p in root.glob("*/provenance.json"))


def load_golden_set(name: str, root: Path = GOLDEN_ROOT) -> GoldenSet:
    folder = root / name
    provenance = json.loads((folder / "provenance.json").read_text())
    with np.load(folder / "goldens.npz") as arrays:
        rows = {k.removesuffix(".rows"): arrays[k] for k in arrays.files if k.endswith(".rows")}
        lengths = {k.removesuffix(".length"): int(arrays[k]) for k in arrays.files
                   if k.endswith(".length")}
    return GoldenSet(name, provenance, rows, lengths)


def compare_rows(stem: str, ours: np.ndarray, length: int, real: np.ndarray,
                 real_length: int, bound: float) -> UtteranceComparison:
    """One utterance's rows against the real code's, with its bound."""
    if ours.shape != real.shape:
        return UtteranceComparison(stem, (ours.shape[0], real.shape[0]), (length, real_length),
                                   float("inf"), None, None, bound)
    difference = np.abs(ours.astype(np.float64) - real.astype(np.float64))
    if difference.size == 0:
        return UtteranceComparison(stem, (0, 0), (length, real_length), 0.0, None, None, bound)
    worst = np.unravel_index(int(np.argmax(difference)), difference.shape)
    return UtteranceComparison(stem, (ours.shape[0], real.shape[0]), (length, real_length),
                               float(difference[worst]), (int(worst[0]), int(worst[1])),
                               (float(ours[worst]), float(real[worst])), bound)


def float32_bound(model_input: ModelInput, signal: np.ndarray, sample_rate: int,
                  rows: np.ndarray) -> float:
    """`features.golden_model_input` for one utterance: `model_input` run in float32 on the
    float32-rounded signal against its float64 `rows`."""
    single = dataclasses.replace(model_input, overrides={**dict(model_input.overrides),
                                                         "dtype": "float32"})
    rounded = single.rows_and_length(signal.astype(np.float32), sample_rate).rows
    spread = 0.0 if rounded.shape != rows.shape or rows.size == 0 else float(
        np.abs(rounded.astype(np.float64) - rows).max())
    peak = float(np.abs(rows).max()) if rows.size else 0.0
    return spread_tolerance_for("float32", "features.golden_model_input").bound(spread, peak)


def compare_with_golden(golden: GoldenSet, model_input: ModelInput | None = None
                        ) -> list[UtteranceComparison]:
    """Each utterance of `golden` against this project's model input (the set's config as
    read by `features extract`, or `model_input` instead, e.g. a mutant)."""
    native = golden.native_input()
    model_input = model_input or native.model_input
    results = []
    for stem, path in golden.audio.items():
        signal, rate = load_audio(path, native.sample_rate)
        ours = model_input.rows_and_length(signal, rate)
        bound = float32_bound(model_input, signal, rate, ours.rows.astype(np.float64))
        results.append(compare_rows(stem, ours.rows, ours.length, golden.rows[stem],
                                    golden.lengths[stem], bound))
    return results
