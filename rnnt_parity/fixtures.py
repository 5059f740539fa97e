"""Hand-worked RNN-T lattices (fixtures/rnnt/*.json): loading and schema checks.

Each JSON file holds: name, description, source, derivation (the arithmetic by hand),
inputs {kind: "logits" | "log_probs", values `(B, T, U+1, V)`, targets, logit_lengths,
target_lengths, blank, fastemit_lambda}, expected {reduction, loss, grad (or null)} and
tolerance (a name in `rnnt_parity.compare.tolerances`). Inputs of kind "log_probs" are also
valid logits (log_softmax is idempotent), so every fixture runs through the fused loss.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnt_parity.compare.tolerances import Tolerance, tolerance_named

DEFAULT_FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "rnnt"
REQUIRED_FIELDS = ("name", "description", "source", "derivation", "inputs", "expected",
                   "tolerance")


@dataclass(frozen=True)
class RNNTFixture:
    name: str
    description: str
    source: str
    derivation: tuple[str, ...]
    kind: str
    logits: np.ndarray
    targets: np.ndarray
    logit_lengths: np.ndarray
    target_lengths: np.ndarray
    blank: int
    fastemit_lambda: float
    expected_loss: np.ndarray
    expected_grad: np.ndarray | None
    tolerance: Tolerance
    path: Path

    @property
    def loss_is_finite(self) -> bool:
        return bool(np.all(np.isfinite(self.expected_loss)))


def load_rnnt_fixture(path: Path) -> RNNTFixture:
    """Read one fixture; ValueError naming the file and field if it is malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        missing = [field for field in REQUIRED_FIELDS if field not in data]
        if missing:
            raise ValueError(f"missing fields {missing}")
        inputs, expected = data["inputs"], data["expected"]
        if inputs["kind"] not in ("logits", "log_probs"):
            raise ValueError(f"inputs.kind must be 'logits' or 'log_probs', got {inputs['kind']!r}")
        if expected["reduction"] != "none":
            raise ValueError("expected.reduction must be 'none' (per-utterance losses)")
        grad = expected.get("grad")
        return RNNTFixture(
            name=data["name"],
            description=data["description"],
            source=data["source"],
            derivation=tuple(data["derivation"]),
            kind=inputs["kind"],
            logits=np.array(inputs["values"], dtype=np.float64),
            targets=np.array(inputs["targets"], dtype=np.int64).reshape(
                len(inputs["targets"]), -1),
            logit_lengths=np.array(inputs["logit_lengths"], dtype=np.int64),
            target_lengths=np.array(inputs["target_lengths"], dtype=np.int64),
            blank=int(inputs["blank"]),
            fastemit_lambda=float(inputs.get("fastemit_lambda", 0.0)),
            expected_loss=np.array(expected["loss"], dtype=np.float64),
            expected_grad=None if grad is None else np.array(grad, dtype=np.float64),
            tolerance=tolerance_named(data["tolerance"]),
            path=path,
        )
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as error:
        raise ValueError(f"malformed RNN-T fixture {path}: {error}") from error


def load_rnnt_fixtures(directory: Path | None = None) -> list[RNNTFixture]:
    """Every `*.json` fixture in `directory` (default: the repository's fixtures/rnnt)."""
    directory = Path(directory) if directory is not None else DEFAULT_FIXTURE_DIR
    paths = sorted(directory.glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no RNN-T fixtures (*.json) in {directory}")
    return [load_rnnt_fixture(path) for path in paths]
