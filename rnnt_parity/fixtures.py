"""Hand-worked fixtures (fixtures/rnnt/*.json, fixtures/ctc/*.json): loading, schema checks.

Every JSON file holds: name, description, source, derivation (the arithmetic by hand),
inputs, expected {reduction: "none", loss (per utterance), grad (or null)} and tolerance (a
name in `rnnt_parity.compare.tolerances`).

RNN-T inputs: {kind: "logits" | "log_probs", values `(B, T, U+1, V)`, targets, logit_lengths,
target_lengths, blank, fastemit_lambda}; inputs of kind "log_probs" are also valid logits
(log_softmax is idempotent), so every RNN-T fixture runs through the fused loss and its grad
is w.r.t. the logits.
CTC inputs: {log_probs `(T, B, C)`, targets `(B, S)` padded, input_lengths, target_lengths,
blank}; its grad is the true derivative w.r.t. the log-probs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnt_parity.compare.tolerances import Tolerance, tolerance_named
from rnnt_parity.names import FIXTURE_ROOT

DEFAULT_FIXTURE_ROOT = FIXTURE_ROOT
DEFAULT_FIXTURE_DIR = DEFAULT_FIXTURE_ROOT / "rnnt"
DEFAULT_CTC_FIXTURE_DIR = DEFAULT_FIXTURE_ROOT / "ctc"
REQUIRED_FIELDS = ("name", "description", "source", "derivation", "inputs", "expected",
                   "tolerance")


@dataclass(frozen=True)
class Fixture:
    """What every fixture has: its story, its expectations, its tolerance, its file."""

    name: str
    description: str
    source: str
    derivation: tuple[str, ...]
    expected_loss: np.ndarray
    expected_grad: np.ndarray | None
    tolerance: Tolerance
    path: Path

    @property
    def loss_is_finite(self) -> bool:
        return bool(np.all(np.isfinite(self.expected_loss)))


@dataclass(frozen=True)
class RNNTFixture(Fixture):
    kind: str
    logits: np.ndarray
    targets: np.ndarray
    logit_lengths: np.ndarray
    target_lengths: np.ndarray
    blank: int
    fastemit_lambda: float


@dataclass(frozen=True)
class CTCFixture(Fixture):
    log_probs: np.ndarray
    targets: np.ndarray
    input_lengths: np.ndarray
    target_lengths: np.ndarray
    blank: int


def _read(path: Path, build):
    """Parse the common fields, then `build(data, grad)`; errors name the file and field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        missing = [field for field in REQUIRED_FIELDS if field not in data]
        if missing:
            raise ValueError(f"missing fields {missing}")
        if data["expected"]["reduction"] != "none":
            raise ValueError("expected.reduction must be 'none' (per-utterance losses)")
        grad = data["expected"].get("grad")
        return build(data, None if grad is None else np.array(grad, dtype=np.float64))
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as error:
        raise ValueError(f"malformed fixture {path}: {error}") from error


def _targets(rows) -> np.ndarray:
    return np.array(rows, dtype=np.int64).reshape(len(rows), -1)


def load_rnnt_fixture(path: Path) -> RNNTFixture:
    """Read one RNN-T fixture; ValueError naming the file and field if it is malformed."""

    def build(data, grad):
        inputs, expected = data["inputs"], data["expected"]
        if inputs["kind"] not in ("logits", "log_probs"):
            raise ValueError(f"inputs.kind must be 'logits' or 'log_probs', got {inputs['kind']!r}")
        return RNNTFixture(
            name=data["name"],
            description=data["description"],
            source=data["source"],
            derivation=tuple(data["derivation"]),
            kind=inputs["kind"],
            logits=np.array(inputs["values"], dtype=np.float64),
            targets=_targets(inputs["targets"]),
            logit_lengths=np.array(inputs["logit_lengths"], dtype=np.int64),
            target_lengths=np.array(inputs["target_lengths"], dtype=np.int64),
            blank=int(inputs["blank"]),
            fastemit_lambda=float(inputs.get("fastemit_lambda", 0.0)),
            expected_loss=np.array(expected["loss"], dtype=np.float64),
            expected_grad=grad,
            tolerance=tolerance_named(data["tolerance"]),
            path=Path(path),
        )

    return _read(path, build)


def load_ctc_fixture(path: Path) -> CTCFixture:
    """Read one CTC fixture; ValueError naming the file and field if it is malformed."""

    def build(data, grad):
        inputs = data["inputs"]
        return CTCFixture(
            name=data["name"], description=data["description"], source=data["source"],
            derivation=tuple(data["derivation"]),
            log_probs=np.array(inputs["log_probs"], dtype=np.float64),
            targets=_targets(inputs["targets"]),
            input_lengths=np.array(inputs["input_lengths"], dtype=np.int64),
            target_lengths=np.array(inputs["target_lengths"], dtype=np.int64),
            blank=int(inputs["blank"]),
            expected_loss=np.array(data["expected"]["loss"], dtype=np.float64),
            expected_grad=grad, tolerance=tolerance_named(data["tolerance"]), path=Path(path))

    return _read(path, build)


def _load_all(directory: Path, kind: str, load):
    paths = sorted(Path(directory).glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no {kind} fixtures (*.json) in {directory}")
    return [load(path) for path in paths]


def load_rnnt_fixtures(directory: Path | None = None) -> list[RNNTFixture]:
    """Every `*.json` fixture in `directory` (default: the repository's fixtures/rnnt)."""
    return _load_all(directory or DEFAULT_FIXTURE_DIR, "RNN-T", load_rnnt_fixture)


def load_ctc_fixtures(directory: Path | None = None) -> list[CTCFixture]:
    """Every `*.json` fixture in `directory` (default: the repository's fixtures/ctc)."""
    return _load_all(directory or DEFAULT_CTC_FIXTURE_DIR, "CTC", load_ctc_fixture)


DEFAULT_AUDIO_DIR = DEFAULT_FIXTURE_ROOT / "audio"


@dataclass(frozen=True)
class AudioFixture:
    """One committed utterance (fixtures/audio): its file, transcript and float64 samples."""

    name: str
    text: str
    sample_rate: int
    signal: np.ndarray


def load_audio_fixtures(directory: Path | None = None) -> list[AudioFixture]:
    """Every utterance listed in `directory`/transcripts.json, read with `load_audio`."""
    from rnnt_parity.audio import load_audio

    directory = Path(directory or DEFAULT_AUDIO_DIR)
    manifest = directory / "transcripts.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"no audio fixtures: {manifest} is missing")
    fixtures = []
    for utterance in json.loads(manifest.read_text())["utterances"]:
        signal, rate = load_audio(directory / utterance["file"], utterance["sample_rate"])
        fixtures.append(AudioFixture(utterance["file"], utterance["text"], rate, signal))
    return fixtures
