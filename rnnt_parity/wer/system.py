"""A speech recogniser assembled from a checkpoint: model input, model, decoder, labels.

A system is described by a JSON object (`SystemSpec.from_dict`):
    {"checkpoint": "fixtures/models/tiny_fsdd.pt",   required; relative to the JSON file
     "family": "canonical",                           default: detected from the keys
     "model_input": {"source": "myrtle", "n_mels": 80, "stack": 3, "subsample": 3,
                     "context": "none", "context_frames": 0},
                                                      default: the checkpoint's own entry;
                                                      or {"config": "testing-1023sp.yaml",
                                                      "family": ..., "revision": ...}: the
                                                      codebase's own config, read as
                                                      `features extract` reads it
     "labels": [" ", "a", ...],                       default: the checkpoint's, else the
                                                      28 characters of `rnnt_parity.text`
     "activations": {"fc_activation": "relu"},        what the weights cannot show, stated:
                                                      any of ACTIVATION_FIELDS of the
                                                      canonical config (default: the family's)
     "decoder": {"kind": "rnnt_greedy", "max_symbols_per_frame": 30, "beam": 4}}
Decoders: "rnnt_greedy" (batched torch, `rnnt_parity.models.greedy`; the oracle's budget
semantics), "rnnt_beam" (Graves 2012 beam search with exact merging,
`rnnt_parity.models.beam`, Graves's in-frame stopping rule, at most 3 labels per frame),
"ctc_greedy" (argmax per frame of the CTC head, repeats collapsed, blanks dropped).
Every model is run as its verified canonical port, in float32, TF32 off.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

from rnnt_parity.frontends.model_input import ModelInput
from rnnt_parity.frontends.native import model_input_from_json
from rnnt_parity.models.greedy import as_canonical, greedy_decode
from rnnt_parity.models.stages import tf32_disabled
from rnnt_parity.text import CHARACTERS, CharVocabulary

DECODERS = ("rnnt_greedy", "rnnt_beam", "ctc_greedy")
ACTIVATION_FIELDS = ("joint_activation", "fc_activation", "lstm_gates", "lstm_cell")
TRAINING_CONDITIONS = ("utterances", "epochs", "learning_rate", "seed", "init", "pitfall")
"""Entries of a checkpoint's "training" record that are conditions of its output (run
times and library versions of the training machine are not)."""
BEAM_LABELS_PER_FRAME = 3
DEFAULT_MAX_SYMBOLS = 30
"""MLPerf/Myrtle's per-frame budget (`reference_impls.rnnt.decode.FAMILY_MAX_SYMBOLS`)."""


@dataclass(frozen=True)
class DecoderSettings:
    kind: str = "rnnt_greedy"
    max_symbols_per_frame: int | None = DEFAULT_MAX_SYMBOLS
    beam: int = 4

    def __post_init__(self):
        if self.kind not in DECODERS:
            raise ValueError(f"decoder kind must be one of {DECODERS}, got {self.kind!r}")
        budget = self.max_symbols_per_frame
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)
                                   or budget < 1):
            raise ValueError(f"max_symbols_per_frame must be a positive int or null, got "
                             f"{budget!r}")
        if isinstance(self.beam, bool) or not isinstance(self.beam, int) or self.beam < 1:
            raise ValueError(f"beam must be a positive int, got {self.beam!r}")


def _known(cls, values: dict, where: str) -> dict:
    if not isinstance(values, dict):
        raise ValueError(f"{where} must be a JSON object, got {values!r}")
    allowed = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    return values


@dataclass(frozen=True)
class SystemSpec:
    checkpoint: Path
    family: str | None = None
    model_input: ModelInput | None = None
    labels: tuple[str, ...] | None = None
    decoder: DecoderSettings = field(default_factory=DecoderSettings)
    activations: dict = field(default_factory=dict)

    def __post_init__(self):
        unknown = sorted(set(self.activations) - set(ACTIVATION_FIELDS))
        if unknown:
            raise ValueError(f"activations: unknown field(s) {unknown}; allowed: "
                             f"{list(ACTIVATION_FIELDS)}")

    @classmethod
    def from_dict(cls, values: dict, base: Path = Path("."), where: str = "system"):
        values = dict(_known(cls, values, where))
        if "checkpoint" not in values:
            raise ValueError(f"{where}: missing 'checkpoint'")
        values["checkpoint"] = base / values["checkpoint"]
        if values.get("model_input") is not None:
            values["model_input"] = model_input_from_json(values["model_input"], base,
                                                          f"{where} model_input")
        if values.get("labels") is not None:
            values["labels"] = tuple(values["labels"])
        values["decoder"] = DecoderSettings(**_known(DecoderSettings,
                                                     values.get("decoder", {}),
                                                     f"{where} decoder"))
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path):
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no system file at {path}")
        try:
            values = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from error
        return cls.from_dict(values, path.parent, str(path))


class System:
    """A loaded recogniser: `rows` (audio -> model input) and `decode` (inputs -> texts)."""

    def __init__(self, spec: SystemSpec):
        from rnnt_parity.codebases import build_with_weights
        from rnnt_parity.models.tiny import INPUT_EXTRA, LABELS_EXTRA
        from rnnt_parity.port import inspect_checkpoint

        self.spec = spec
        inspection = inspect_checkpoint(spec.checkpoint, spec.family)
        inspection.require_usable(f"{spec.checkpoint} (port it with --assume to state what "
                                  "its weights cannot show)")
        extras = inspection.checkpoint.extras
        self.family = inspection.family
        self.sha256 = inspection.checkpoint.sha256
        self.training = {k: v for k, v in extras.get("training", {}).items()
                         if k in TRAINING_CONDITIONS}
        self.model = as_canonical(build_with_weights(
            inspection.family, inspection.inferred.config, inspection.checkpoint.state)).float()
        if spec.activations:
            config = dataclasses.replace(self.model.config, **spec.activations)
            self.model = build_with_weights("canonical", config, self.model.state_dict())
        if spec.model_input is not None:
            self.model_input = spec.model_input
        elif INPUT_EXTRA in extras:
            self.model_input = ModelInput(**extras[INPUT_EXTRA])
        else:
            raise ValueError(f"{spec.checkpoint} names no model input; give 'model_input' in "
                             "the system")
        config = self.model.config
        symbols = spec.labels or tuple(extras.get(LABELS_EXTRA, CHARACTERS))
        if len(symbols) + 1 != config.vocab_size:
            raise ValueError(f"{len(symbols)} labels plus blank make {len(symbols) + 1} "
                             f"symbols; the model has {config.vocab_size}")
        self.vocabulary = CharVocabulary(symbols, config.blank)
        if self.model_input.width is not None and self.model_input.width != config.input_features:
            raise ValueError(f"model_input makes rows of width {self.model_input.width}; the "
                             f"model reads {config.input_features}")
        if spec.decoder.kind == "ctc_greedy" and self.model.ctc is None:
            raise ValueError(f"{spec.checkpoint} has no CTC head: ctc_greedy needs one")

    def conditions(self) -> dict:
        """Everything that decides this system's output, for the report's comparison."""
        from importlib.metadata import version

        import jiwer  # noqa: F401  (its version is part of the conditions)

        return {"checkpoint": str(self.spec.checkpoint), "checkpoint_sha256": self.sha256,
                **{f"training.{k}": v for k, v in self.training.items()},
                "family": self.family, **{f"model_input.{k}": v for k, v in
                                          self.model_input.describe().items()},
                **{f"decoder.{k}": v for k, v in asdict(self.spec.decoder).items()},
                **{f"activations.{k}": getattr(self.model.config, k) for k in ACTIVATION_FIELDS},
                "labels": "".join(self.vocabulary.symbols), "blank": self.vocabulary.blank,
                "versions": {name: version(name) for name in ("rnnt-parity", "torch", "numpy",
                                                              "jiwer")}}

    def rows(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        return self.model_input.rows(signal, sample_rate)

    @torch.no_grad()
    def decode(self, batch: list[np.ndarray]) -> list[str]:
        """Texts of a list of (T_i', F') input rows, decoded as one padded batch."""
        return [self.vocabulary.decode(i) for i in self.decode_ids(batch)]

    @torch.no_grad()
    def decode_ids(self, batch: list[np.ndarray]) -> list[list[int]]:
        """Label ids of a list of (T_i', F') input rows, decoded as one padded batch."""
        lengths = torch.tensor([r.shape[0] for r in batch])
        x = torch.zeros(len(batch), int(lengths.max()), batch[0].shape[1])
        for k, r in enumerate(batch):
            x[k, :r.shape[0]] = torch.from_numpy(r)
        with tf32_disabled():
            encodings, out_lengths = self.model.encoder(x, lengths)
            return self._decode_encodings(encodings, out_lengths)

    def _decode_encodings(self, encodings, lengths) -> list[list[int]]:
        kind = self.spec.decoder.kind
        if kind == "rnnt_greedy":
            return greedy_decode(self.model, encodings, lengths,
                                 self.spec.decoder.max_symbols_per_frame)
        if kind == "ctc_greedy":
            best = self.model.ctc(encodings).argmax(-1)
            out = []
            for b in range(best.shape[0]):
                path = best[b, :int(lengths[b])].tolist()
                out.append([k for t, k in enumerate(path) if k != self.vocabulary.blank
                            and (t == 0 or path[t - 1] != k)])
            return out
        from rnnt_parity.models.beam import batched_beam_search

        lengths = [int(n) for n in lengths]
        found = batched_beam_search(self.model, encodings, lengths, self.spec.decoder.beam,
                                    [BEAM_LABELS_PER_FRAME * n for n in lengths],
                                    stop_early=True)
        return [list(results[0][0]) for results in found]
