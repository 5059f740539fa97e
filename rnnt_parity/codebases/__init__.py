"""The codebases rnnt-parity reproduces, one package each, registered here by family name.

    canonical     the hub every weight map routes through
    myrtle_rnnt   Myrtle.ai RNN-T (caiman-asr v1.3 / v1.14)         codebases/myrtle/
    myrtlespeech  myrtlespeech's RNN-T                              codebases/myrtlespeech/
    nemo          NeMo's hybrid RNN-T + CTC heads                   codebases/nemo/
    dsi           deepspeech-internal's RNN-T (seed 000, 45899f7)     codebases/dsi/
    torchaudio    torchaudio.models.RNNT (inspection only)          codebases/torchaudio/

Each package's `CODEBASE` (`base.Codebase`) says how to recognise, infer, build, run and map
its models and read its configs; `family`, `family_of`, `detect_family` and
`build_with_weights` work through this registry. Weights cannot show some properties of a
config: inference lists them in `InferredConfig.assumed`, with the default taken.
"""

from __future__ import annotations

import torch

from rnnt_parity.codebases import canonical, dsi, myrtle, myrtlespeech, nemo, torchaudio
from rnnt_parity.codebases.base import STATED_EXTRA, Codebase, InferredConfig
from rnnt_parity.codebases.canonical import CONFIG_EXTRA

FAMILIES: dict[str, Codebase] = {package.CODEBASE.name: package.CODEBASE for package in (
    myrtle, nemo, myrtlespeech, dsi, torchaudio, canonical)}


def family(name: str) -> Codebase:
    if name not in FAMILIES:
        raise ValueError(f"unknown model family {name!r}; known: {sorted(FAMILIES)}")
    return FAMILIES[name]


def family_of(model: torch.nn.Module) -> str:
    """The family name of a model instance."""
    for name, entry in FAMILIES.items():
        if entry.model_class is not None and type(model) is entry.model_class:
            return name
    raise TypeError(f"{type(model).__name__} belongs to no registered family")


def detect_family(state: dict, flag: str = "--family") -> str:
    """The family whose marker keys all occur in `state`; ValueError if none or several,
    saying to name it with `flag` (the option of the command at hand)."""
    found = [name for name, f in FAMILIES.items()
             if all(any(key.startswith(marker) for key in state) for marker in f.marker_keys)]
    if len(found) != 1:
        sample = sorted(state)[:5]
        raise ValueError(f"cannot tell the model family from the keys (matches: {found}; "
                         f"first keys: {sample}); name it with {flag} (one of "
                         f"{', '.join(sorted(FAMILIES))})")
    return found[0]


def build_with_weights(family_name: str, config, state: dict) -> torch.nn.Module:
    """The family's model holding `state` itself (no copy: built on the meta device, then
    loaded with assign=True after an exact key and shape check)."""
    from rnnt_parity.models.loading import load_exactly

    build = family(family_name).build
    if build is None:
        raise ValueError(f"the {family_name} family is for inspection only: ports to and from "
                         "it are refused")
    with torch.device("meta"):
        model = build(config)
    load_exactly(model, state, assign=True)
    return model.eval()


__all__ = ["CONFIG_EXTRA", "FAMILIES", "STATED_EXTRA", "Codebase", "InferredConfig",
           "build_with_weights", "detect_family", "family", "family_of"]
