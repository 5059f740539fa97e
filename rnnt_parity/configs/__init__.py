"""Each family's native configuration format, read into its constructor arguments by the
family's own reader (`rnnt_parity.codebases.<codebase>.config`): Myrtle YAML, NeMo's
model_config.yaml or .nemo, myrtlespeech's protobuf text or binary. `read_config` picks the
reader by family; `config_vs_checkpoint` lists every field where a config and a checkpoint
differ."""

from __future__ import annotations

from pathlib import Path

from rnnt_parity.configs.common import ConfigError, NativeConfig, disagreements


def read_config(path: str | Path, family: str, n_classes: int | None = None) -> NativeConfig:
    """Read `path` in `family`'s native format."""
    from rnnt_parity.codebases import FAMILIES
    from rnnt_parity.codebases import family as codebase

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no config file at {path}")
    reader = codebase(family).read_config
    if reader is None:
        known = sorted(name for name, c in FAMILIES.items() if c.read_config is not None)
        raise ConfigError(f"the {family} family has no native config format here (known: "
                          f"{', '.join(known)})")
    return reader(path, n_classes)


def config_vs_checkpoint(family: str, from_config, from_checkpoint) -> list[str]:
    """Every disagreement between a config and what a checkpoint shows."""
    from rnnt_parity.codebases import family as codebase

    entry = codebase(family)
    problems = disagreements(from_config, from_checkpoint, entry.not_inferable)
    for name in entry.presence_only:
        said, seen = bool(getattr(from_config, name)), bool(getattr(from_checkpoint, name))
        if said != seen:
            problems.append(f"{name}: config {'has' if said else 'has no'} dropout, the "
                            f"checkpoint's layer indices say it {'has' if seen else 'has none'}")
    if entry.config_problems is not None:
        problems += entry.config_problems(from_config, from_checkpoint)
    return problems


__all__ = ["ConfigError", "NativeConfig", "config_vs_checkpoint", "read_config"]
