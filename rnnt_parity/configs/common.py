"""Shared pieces of the config readers: the result type, YAML loading, field checks, and the
config-vs-checkpoint comparison."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path


class ConfigError(ValueError):
    """A config file that cannot be read into a model config; names the file and field."""


@dataclass(frozen=True)
class NativeConfig:
    """A family config read from its native file, the model input it sets up and the decoder
    settings it holds. myrtlespeech configs also give their pre-processing steps, (kind,
    stage name, {field: value}) in config order."""

    family: str
    config: object
    path: Path
    decoder: dict = field(default_factory=dict)
    pre_process_steps: tuple = ()
    model_input: object = None
    """The `rnnt_parity.frontends.model_input.ModelInput` the codebase's evaluation pipeline
    computes from audio as this config sets it up (None if the file has no input section)."""
    notes: tuple = ()
    """What the reader decided that the file does not say (the revision assumed, dither
    switched off, fields the real code does not read), one sentence each."""
    revision: str = ""
    """The codebase revision the file was read as (e.g. Myrtle "v1.3")."""


def load_yaml_mapping(path: Path, text: str | None = None) -> dict:
    import yaml

    try:
        data = yaml.safe_load(path.read_text() if text is None else text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the YAML document is a {type(data).__name__}, not a mapping")
    return data


def section(data: dict, name: str, path: Path) -> dict:
    value = data.get(name)
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: missing section '{name}' (a mapping)"
                          if value is None else f"{path}: '{name}' must be a mapping")
    return value


def typed(values: dict, name: str, kind, path: Path, where: str, default=dataclasses.MISSING):
    """values[name] checked to be `kind` (bool is not an int; ints are accepted as floats)."""
    if name not in values:
        if default is dataclasses.MISSING:
            raise ConfigError(f"{path}: missing required field '{where}.{name}'")
        return default
    value = values[name]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise ConfigError(f"{path}: '{where}.{name}' must be {kind.__name__}, got "
                          f"{type(value).__name__} {value!r}")
    return value


def reject_unknown(values: dict, known: set[str], path: Path, where: str) -> None:
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown field(s) in '{where}': {unknown}; known: "
                          f"{sorted(known)}")


def disagreements(from_config, from_checkpoint, not_inferable: set[str]) -> list[str]:
    """Every field (of two configs of one dataclass) where they differ, skipping the fields
    a checkpoint cannot show."""
    return [f"{f.name}: config says {getattr(from_config, f.name)!r}, checkpoint has "
            f"{getattr(from_checkpoint, f.name)!r}"
            for f in dataclasses.fields(from_config)
            if f.name not in not_inferable
            and getattr(from_config, f.name) != getattr(from_checkpoint, f.name)]
