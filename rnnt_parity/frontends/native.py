"""Each codebase's evaluation model input, read from the codebase's own config file.

`read_native_input(config, family, revision)` tells the family from the file when it is not
given (a `.nemo` archive or a YAML with a `preprocessor` section: nemo; a YAML with an `rnnt`
section: myrtle_rnnt; protobuf text or binary: myrtlespeech), reads it with that family's
reader and returns a `NativeInput`: the `ModelInput`, the sample rate the pipeline expects,
the revision read and the reader's notes. `extract` runs it on one signal, refusing audio at
another rate. `features extract`, `wer-drift` systems and `conform features` all compute
model inputs through `ModelInput`, so the three agree.

Families: myrtle_rnnt (caiman-asr v1.3), myrtlespeech (24d2df3/ef42c3f/45899f7 psf, a7eea9a
torchaudio), nemo (3.0), dsi (deepspeech-internal as myrtlespeech 45899f7 fed it: no config
of its own; a myrtlespeech config may be given for its steps).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnt_parity.configs.common import ConfigError, load_yaml_mapping
from rnnt_parity.frontends.model_input import ModelInput, ModelRows

PROTOBUF_SUFFIXES = (".config", ".pbtxt", ".pb", ".textproto")


@dataclass(frozen=True)
class NativeInput:
    family: str
    revision: str
    model_input: ModelInput
    sample_rate: int
    notes: tuple[str, ...]
    config: Path | None

    def describe(self) -> dict:
        return {"family": self.family, "revision": self.revision,
                "config": None if self.config is None else str(self.config),
                "sample_rate": self.sample_rate, "model_input": self.model_input.describe(),
                "notes": list(self.notes)}


def detect_family(path: Path) -> str:
    """The family whose config format `path` is in; ConfigError if none fits."""
    if path.suffix == ".nemo":
        return "nemo"
    if path.suffix in PROTOBUF_SUFFIXES:
        return "myrtlespeech"
    if path.suffix in (".yaml", ".yml"):
        data = load_yaml_mapping(path)
        model = data.get("model") if isinstance(data.get("model"), dict) else data
        if "preprocessor" in model:
            return "nemo"
        if "rnnt" in data or "input_val" in data:
            return "myrtle_rnnt"
        raise ConfigError(f"{path}: a YAML file with neither 'rnnt'/'input_val' (Myrtle) nor "
                          "'preprocessor' (NeMo): give --family")
    raise ConfigError(f"{path}: cannot tell the codebase from the suffix {path.suffix!r} "
                      f"(.yaml Myrtle or NeMo, .nemo, {'/'.join(PROTOBUF_SUFFIXES)} "
                      "myrtlespeech): give --family")


def read_native_input(config: str | Path | None, family: str | None = None,
                      revision: str | None = None) -> NativeInput:
    """The model input `config` sets up for `family` (detected when None), read by the
    family's own reader (`Codebase.read_model_input`)."""
    from rnnt_parity.codebases import FAMILIES

    readers = {name: c.read_model_input for name, c in FAMILIES.items()
               if c.read_model_input is not None}
    path = None if config is None else Path(config)
    if family is not None and family not in readers:
        raise ConfigError(f"unknown family {family!r} for a model input; known: "
                          f"{sorted(readers)}")
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"no config file at {path}")
    fixed = sorted(name for name, c in FAMILIES.items()
                   if c.read_model_input is not None and not c.model_input_needs_config)
    if path is None and (family is None or FAMILIES[family].model_input_needs_config):
        raise ConfigError(f"a config file is needed (only --family {', '.join(fixed)} has a "
                          "fixed input)")
    family = family or detect_family(path)
    model_input, rate, revision, notes = readers[family](path, revision)
    return NativeInput(family, revision, model_input, rate, tuple(notes), path)


def extract(native: NativeInput, signal: np.ndarray, sample_rate: int,
            source: str = "audio") -> ModelRows:
    """`native`'s model input of one float64 [-1, 1] signal; ValueError naming both rates
    when the audio is not at the rate the pipeline expects."""
    if sample_rate != native.sample_rate:
        where = f"the {native.family} config {native.config}" if native.config else \
            f"the {native.family} pipeline"
        raise ValueError(f"{source} is at {sample_rate} Hz; {where} expects "
                         f"{native.sample_rate} Hz (resample it first)")
    return native.model_input.rows_and_length(signal, sample_rate)


NATIVE_KEYS = ("config", "family", "revision")


def model_input_from_json(values: dict, base: Path = Path("."), where: str = "model_input"
                          ) -> ModelInput:
    """A model input named in JSON: either `ModelInput` fields, or {"config": PATH,
    "family": F, "revision": R} (PATH relative to `base`), the codebase's own config read as
    `features extract` reads it."""
    if not isinstance(values, dict):
        raise ValueError(f"{where} must be a JSON object, got {values!r}")
    if "config" not in values:
        try:
            return ModelInput(**values)
        except TypeError as error:
            raise ValueError(f"{where}: not ModelInput fields ({error}); or give "
                             f"{{\"config\": ..., \"family\": ..., \"revision\": ...}}") from error
    unknown = sorted(set(values) - set(NATIVE_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown} beside 'config'; allowed: "
                         f"{list(NATIVE_KEYS)}")
    return read_native_input(base / values["config"], values.get("family"),
                             values.get("revision")).model_input
