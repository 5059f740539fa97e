"""`rnnt-parity inspect`, `port` and `compare`: read checkpoints, map weights to another
family through the canonical layout, prove the port, write it atomically, or compare two
checkpoints stage by stage.

Verification (on by default) builds the source model on the source weights and the target
model on the mapped weights and compares them stage by stage (`compare_models`: encoder,
prediction, joint logits, RNN-T loss) on random inputs with every utterance full length; a
failed verification raises before anything is written. Beside OUT goes OUT.provenance.json:
source file and sha256, container, families, maps (name and version), inferred config and
what was assumed, verification errors per stage, dropped entries with reasons, versions.
"""

from __future__ import annotations

import dataclasses
import json
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnnt_parity.checkpoints import Checkpoint, read_checkpoint, write_checkpoint
from rnnt_parity.compare.models import StageReport, compare_models
from rnnt_parity.configs import config_vs_checkpoint, read_config
from rnnt_parity.files import atomic_output, refuse_to_overwrite
from rnnt_parity.mapping import MappingError, apply_map, load_map
from rnnt_parity.models.families import (
    CONFIG_EXTRA,
    InferredConfig,
    build_with_weights,
    detect_family,
    family,
)

VERIFY_BATCH, VERIFY_FRAMES, VERIFY_LABELS = 2, 12, 3


@dataclass(frozen=True)
class Inspection:
    checkpoint: Checkpoint
    family: str
    inferred: InferredConfig
    parameters: int
    unaccounted: tuple[str, ...]


def inspect_checkpoint(path: Path, family_name: str | None = None, ema: bool = False,
                       hard_activations: bool = False, config: Path | None = None) -> Inspection:
    """Read a checkpoint, detect its family and infer its config; with `config` (the
    family's native config file) every disagreement between the two is an error, and the
    config supplies what the weights cannot show."""
    checkpoint = read_checkpoint(path, ema=ema)
    detected = detect_family(checkpoint.state) if family_name is None else family_name
    inferred = family(detected).infer(checkpoint.state, hard_activations=hard_activations,
                                      extras=checkpoint.extras)
    if config is not None:
        native = read_config(config, detected, getattr(inferred.config, "n_classes", None))
        problems = config_vs_checkpoint(detected, native.config, inferred.config)
        if problems:
            raise ValueError(f"{config} and {path} disagree ({len(problems)}):\n"
                             + "\n".join(f"  - {p}" for p in problems))
        inferred = InferredConfig(detected, native.config,
                                  {"every field": f"from {config} (agrees with the weights)"})
    total = sum(t.numel() for t in checkpoint.state.values())
    return Inspection(checkpoint, detected, inferred, total,
                      unaccounted_keys(checkpoint.state, detected, inferred.config))


def load_model(path: str | Path, family_name: str | None = None,
               ema: bool = False) -> torch.nn.Module:
    """The checkpoint's model in its own family (detected unless named), weights loaded
    exactly (every key, every shape), in eval mode."""
    inspection = inspect_checkpoint(Path(path), family_name, ema)
    return build_with_weights(inspection.family, inspection.inferred.config,
                              inspection.checkpoint.state)


def unaccounted_keys(state: dict, family_name: str, config) -> tuple[str, ...]:
    """What mapping this checkpoint to canonical would refuse (one line per problem), or
    why there is no mapping; empty when every tensor is accounted for."""
    try:
        map_to(state, family_name, "canonical", config)
    except MappingError as error:
        return tuple(error.problems)
    except ValueError as error:
        return (str(error),)
    return ()


def format_inspection(inspection: Inspection, path: Path) -> str:
    c = inspection.checkpoint
    lines = [f"{path}: {inspection.family} ({c.container}"
             + (f", prefix {c.prefix!r} stripped" if c.prefix else "") + ")",
             f"tensors: {len(c.state)}, elements: {inspection.parameters:,}",
             "config (read off the tensor shapes):"]
    lines += [f"  {k} = {v}" for k, v in dataclasses.asdict(inspection.inferred.config).items()]
    lines.append("not inferable from weights (assumed):")
    lines += [f"  {k}: {v}" for k, v in inspection.inferred.assumed.items()]
    if inspection.unaccounted:
        lines.append("cannot be accounted for (mapping to canonical):")
        lines += [f"  {problem}" for problem in inspection.unaccounted]
    else:
        lines.append("every tensor maps to the canonical layout")
    if c.extras:
        lines.append(f"carried extras: {sorted(c.extras)}")
    lines += [f"dropped: {k} ({why})" for k, why in c.dropped.items()]
    return "\n".join(lines)


def state_layout(family_name: str, config) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the family's model for `config`, built on the meta device."""
    with torch.device("meta"):
        model = family(family_name).build(config)
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def map_to(state: dict, source: str, target: str, source_config,
           drop_ctc_head: bool = False) -> tuple[dict, object, list]:
    """Map `state` from `source` to `target` through canonical; (state, target config, maps).

    `drop_ctc_head` removes a CTC head at the canonical hub (for targets without one, such as
    Myrtle's RNN-T); every other weight is carried."""
    canonical_config = family(source).to_canonical_config(source_config)
    maps, mapped = [], state
    if source != "canonical":
        weight_map = load_map(f"{source}_to_canonical")
        mapped = apply_map(weight_map, mapped, state_layout("canonical", canonical_config))
        maps.append(weight_map)
    if drop_ctc_head:
        if not canonical_config.ctc_head:
            raise ValueError("--drop-ctc-head: the source model has no CTC head")
        canonical_config = dataclasses.replace(canonical_config, ctc_head=False)
        mapped = {k: v for k, v in mapped.items() if not k.startswith("ctc.")}
    target_config = family(target).from_canonical_config(canonical_config)
    if target != "canonical":
        weight_map = load_map(f"canonical_to_{target}")
        mapped = apply_map(weight_map, mapped, state_layout(target, target_config))
        maps.append(weight_map)
    return mapped, target_config, maps


def verify(source: str, source_config, source_state, target: str, target_config,
           target_state, seed: int = 0, full_length: bool = True) -> StageReport:
    """Compare the two models on random inputs (labels avoid blank); every utterance full
    length unless `full_length` is False (then every utterance but the first has an odd
    length of about half: padding is exercised, and odd lengths meet time stacking)."""
    a = build_with_weights(source, source_config, source_state)
    b = build_with_weights(target, target_config, target_state)
    canonical = family(source).to_canonical_config(source_config)
    other = family(target).to_canonical_config(target_config)
    if other.input_features != canonical.input_features:
        raise ValueError(f"the models read {canonical.input_features} and "
                         f"{other.input_features} input features: not comparable")
    return compare_models(a, b, *verification_inputs(canonical, seed, full_length),
                          family(source).blank(source_config),
                          family(target).blank(target_config))


def verification_inputs(config, seed: int = 0, full_length: bool = True):
    """Random canonical inputs (features, lengths, labels avoiding blank) for a model of
    canonical `config`; see `verify` for the lengths."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((VERIFY_BATCH, VERIFY_FRAMES, config.input_features))
    lengths = np.full(VERIFY_BATCH, VERIFY_FRAMES)
    if not full_length:
        lengths[1:] = VERIFY_FRAMES // 2 + 1
    symbols = [v for v in range(config.vocab_size) if v != config.blank]
    return features, lengths, rng.choice(symbols, (VERIFY_BATCH, VERIFY_LABELS))


def port_checkpoint(source_path: Path, out_path: Path, target: str, source: str | None = None,
                    verify_port: bool = True, force: bool = False, ema: bool = False,
                    hard_activations: bool = False, out=print,
                    config: Path | None = None, drop_ctc_head: bool = False) -> dict:
    """Port a checkpoint; returns the provenance record (also written beside OUT)."""
    provenance_path = out_path.with_name(out_path.name + ".provenance.json")
    for path in (out_path, provenance_path):
        refuse_to_overwrite(path, force)
    inspection = inspect_checkpoint(source_path, source, ema, hard_activations, config)
    source = inspection.family
    family(target)
    state, target_config, maps = map_to(inspection.checkpoint.state, source, target,
                                        inspection.inferred.config, drop_ctc_head)
    report = None
    if verify_port:
        report = verify(source, inspection.inferred.config, inspection.checkpoint.state, target,
                        target_config, state)
        out(f"verification: {report.describe()}")
        if report.first_divergence is not None:
            raise ValueError(f"verification failed at {report.first_divergence}: "
                             f"{report.describe()}; nothing written")
    extras = dict(inspection.checkpoint.extras)
    extras.pop(CONFIG_EXTRA, None)
    if target == "canonical":
        extras[CONFIG_EXTRA] = dataclasses.asdict(target_config)
    provenance = {
        "source": {"path": str(source_path), "sha256": inspection.checkpoint.sha256,
                   "container": inspection.checkpoint.container,
                   "prefix_stripped": inspection.checkpoint.prefix, "family": source},
        "target": {"path": str(out_path), "family": target,
                   "config": dataclasses.asdict(target_config)},
        "source_config": dataclasses.asdict(inspection.inferred.config),
        "assumed": inspection.inferred.assumed,
        "maps": [{"name": m.name, "version": m.version} for m in maps],
        "verification": None if report is None else {
            stage: {"passed": c.passed, "max_abs": c.max_abs, "max_rel": c.max_rel,
                    "tolerance": c.tolerance.name}
            for stage, c in report.comparisons.items()},
        "carried_extras": sorted(extras),
        "dropped": {**inspection.checkpoint.dropped,
                    **({"ctc.*": "--drop-ctc-head"} if drop_ctc_head else {})},
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }
    write_checkpoint(out_path, state, extras, force=force)
    with atomic_output(provenance_path, force) as temporary:
        temporary.write_text(json.dumps(provenance, indent=2, default=str) + "\n")
    out(f"wrote {out_path} and {provenance_path.name}")
    return provenance


def compare_checkpoints(path_a: Path, path_b: Path, family_a: str | None = None,
                        family_b: str | None = None, padded: bool = False, out=print,
                        config_a: Path | None = None, config_b: Path | None = None
                        ) -> StageReport:
    """Build both checkpoints' models and compare them stage by stage; print the report."""
    a = inspect_checkpoint(path_a, family_a, config=config_a)
    b = inspect_checkpoint(path_b, family_b, config=config_b)
    report = verify(a.family, a.inferred.config, a.checkpoint.state, b.family,
                    b.inferred.config, b.checkpoint.state, full_length=not padded)
    out(f"a: {path_a} ({a.family}); b: {path_b} ({b.family})")
    for stage, comparison in report.comparisons.items():
        out(f"  {stage:<10} {'pass' if comparison.passed else 'FAIL':<4}  max abs "
            f"{comparison.max_abs:.3e}  max rel {comparison.max_rel:.3e}  "
            f"({comparison.tolerance.name})")
    divergence = report.first_divergence
    out("no stage diverges" if divergence is None else f"first divergence: {divergence}")
    if divergence is not None and not padded:
        pair = localise_checkpoints(a, b)
        if pair is not None:
            out(f"first divergent module pair: {pair.family_module} ({a.family}) vs "
                f"{pair.canonical_module} (canonical port of b): max abs "
                f"{pair.comparison.max_abs:.3e}")
    return report


def localise_checkpoints(a: Inspection, b: Inspection):
    """The first divergent module pair between a (when a has module correspondences) and
    b's weights ported to canonical; None when a's family has no correspondences."""
    from rnnt_parity.compare.localise import CORRESPONDENCES, first_divergent_pair, localise
    from rnnt_parity.models.greedy import as_canonical

    if a.family not in CORRESPONDENCES:
        return None
    model = build_with_weights(a.family, a.inferred.config, a.checkpoint.state)
    other = as_canonical(build_with_weights(b.family, b.inferred.config, b.checkpoint.state))
    canonical = family(a.family).to_canonical_config(a.inferred.config)
    return first_divergent_pair(localise(model, other, *verification_inputs(canonical)))
