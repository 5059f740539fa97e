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

from rnnt_parity.checkpoints import (
    Checkpoint,
    dtype_summary,
    read_checkpoint,
    write_checkpoint,
)
from rnnt_parity.codebases import (
    CONFIG_EXTRA,
    STATED_EXTRA,
    InferredConfig,
    build_with_weights,
    detect_family,
    family,
)
from rnnt_parity.codebases.shape_check import shape_problems
from rnnt_parity.compare.models import StageReport, compare_models
from rnnt_parity.configs import config_vs_checkpoint, read_config
from rnnt_parity.files import atomic_output, refuse_to_overwrite
from rnnt_parity.mapping import MappingError
from rnnt_parity.mapping.through_canonical import ORIGIN_EXTRA, map_to, origin_fields

VERIFY_BATCH, VERIFY_FRAMES, VERIFY_LABELS = 2, 12, 3


@dataclass(frozen=True)
class Inspection:
    """A checkpoint read and understood: its family, the config its weights (and extras, a
    config file or statements) give, and `state`, the tensors of the family (those outside
    it, `inferred.outside`, set aside)."""

    checkpoint: Checkpoint
    family: str
    inferred: InferredConfig
    parameters: int
    unaccounted: tuple[str, ...]
    state: dict
    damaged: tuple[str, ...] = ()
    """The tensors that do not fit the model the others agree on (`shape_problems`)."""

    def require_intact(self, what: str) -> None:
        """ValueError naming the damaged tensors, if any."""
        if self.damaged:
            raise ValueError(f"{what}: " + "\n".join(self.damaged))

    def require_usable(self, what: str) -> None:
        """ValueError when a tensor is damaged or a forward-relevant property is unknown."""
        self.require_intact(what)
        self.inferred.require_known(what)


def inspect_checkpoint(path: Path, family_name: str | None = None, ema: bool = False,
                       assume: dict[str, str] | None = None, config: Path | None = None,
                       only_its_own: bool = False, family_flag: str = "--family") -> Inspection:
    """Read a checkpoint, detect its family and infer its config. `assume` states properties
    the weights cannot show ({name: value}, as `--assume name=value`): a statement fills a
    gap and never overrides what the checkpoint says (ValueError); with `only_its_own` (two
    checkpoints sharing statements), statements about other families' properties, or about
    what this checkpoint itself settles, are left out instead of refused; with
    `config` (the family's native config file) every disagreement between the two is an
    error, and the config supplies what the weights cannot show. `family_flag`: the option
    that names the family, for the message when it cannot be detected."""
    checkpoint = read_checkpoint(path, ema=ema)
    try:
        detected = detect_family(checkpoint.state, family_flag) if family_name is None \
            else family_name
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    entry = family(detected)
    own, assume = dict(checkpoint.extras.get(STATED_EXTRA, {})), dict(assume or {})
    if only_its_own:
        own = {k: v for k, v in own.items() if k in entry.unreadable}
        settled = infer_readably(entry, checkpoint, own, path).stated
        assume = {k: v for k, v in assume.items() if k in entry.unreadable and k not in settled}
    inferred = infer_readably(entry, checkpoint, {**own, **assume}, path)
    if assume:
        refuse_contradictions(entry, checkpoint, own, assume, path)
    if config is not None:
        native = read_config(config, detected, getattr(inferred.config, "n_classes", None))
        refuse_contradicting_config(entry, native.config, assume or {}, config)
        problems = config_vs_checkpoint(detected, native.config, inferred.config)
        if problems:
            raise ValueError(f"{config} and {path} disagree ({len(problems)}):\n"
                             + "\n".join(f"  - {p}" for p in problems))
        inferred = InferredConfig(
            detected, native.config, {"every field": f"from {config} (agrees with the weights)"},
            {}, {name: f"from {config}" for name in entry.unreadable}, inferred.outside)
    state = {k: v for k, v in checkpoint.state.items() if k not in inferred.outside}
    total = sum(t.numel() for t in state.values())
    source = (f"{config}" if config is not None else
              f"the checkpoint's {CONFIG_EXTRA}" if CONFIG_EXTRA in checkpoint.extras
              else "the tensor shapes")
    damaged = () if entry.build is None else tuple(
        shape_problems(entry.build, inferred.config, state, source))
    unaccounted = damaged or unaccounted_keys(state, detected, inferred.config)
    return Inspection(checkpoint, detected, inferred, total, unaccounted, state, damaged)


def refuse_contradictions(entry, checkpoint: Checkpoint, own: dict, assume: dict,
                          path: Path) -> None:
    """ValueError when an --assume statement contradicts what the checkpoint itself says of
    that property (a hardware checkpoint's rnnt_config, a .nemo's model config; `own`: the
    statements the checkpoint carries): a statement fills a gap, it never overrides."""
    unstated = infer_readably(entry, checkpoint, own, path)
    for name in assume:
        if name not in entry.unreadable or name not in unstated.stated:
            continue
        with_statement = infer_readably(entry, checkpoint, {**own, name: assume[name]}, path)
        if with_statement.config != unstated.config:
            raise ValueError(f"{path}: --assume {name}={assume[name]} contradicts the "
                             f"checkpoint, which says {name} = {unstated.stated[name]}")


def refuse_contradicting_config(entry, native_config, assume: dict, config: Path) -> None:
    """ValueError when an --assume statement contradicts the native config file."""
    says = entry.statements_of(native_config) if entry.statements_of else {}
    for name, value in assume.items():
        if name in says and str(says[name]).lower() != str(value).lower():
            raise ValueError(f"--assume {name}={value} contradicts {config}, which says "
                             f"{name} = {says[name]}")


def infer_readably(entry, checkpoint: Checkpoint, statements: dict, path: Path) -> InferredConfig:
    """`entry.infer` on the checkpoint; a tensor of the wrong rank (a 1-D weight matrix) is
    a ValueError naming the tensors whose rank is unusual, not an IndexError."""
    try:
        return entry.infer(checkpoint.state, extras=checkpoint.extras,
                           stated=entry.parse_statements(statements))
    except (IndexError, ZeroDivisionError) as error:
        odd = [f"{key} {tuple(t.shape)}" for key, t in checkpoint.state.items()
               if (key.endswith("bias") and t.dim() != 1) or
               (key.rsplit(".", 1)[-1].startswith("weight") and t.dim() < 2)]
        raise ValueError(f"{path}: the tensors cannot be read as one {entry.name} model "
                         f"({type(error).__name__}: {error}); tensors of an unusual rank: "
                         f"{odd or 'none'}") from None


def load_model(path: str | Path, family_name: str | None = None, ema: bool = False,
               assume: dict[str, str] | None = None) -> torch.nn.Module:
    """The checkpoint's model in its own family (detected unless named), weights loaded
    exactly (every key, every shape), in eval mode; ValueError when a forward-relevant
    property the weights cannot show is not stated in `assume`."""
    inspection = inspect_checkpoint(Path(path), family_name, ema, assume)
    inspection.require_usable(str(path))
    return build_with_weights(inspection.family, inspection.inferred.config, inspection.state)


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
    c, inferred = inspection.checkpoint, inspection.inferred
    kind = c.kind or c.container
    lines = [f"{path}: {inspection.family} ({kind}"
             + (f", pickle protocol {c.pickle_protocol}" if c.pickle_protocol else "")
             + (f", prefix {c.prefix!r} stripped" if c.prefix else "") + ")",
             f"tensors: {len(inspection.state)} ({dtype_summary(inspection.state)}), "
             f"elements: {inspection.parameters:,}"]
    if inferred.outside:
        lines.append(f"set aside, outside the {inspection.family} family: "
                     f"{describe_set_aside(inferred.outside)}")
    lines.append("config (read off the tensor shapes):")
    lines += [f"  {k} = {v}" for k, v in dataclasses.asdict(inferred.config).items()]
    if inferred.unknown:
        lines.append("cannot be read from the weights (state each with --assume NAME=VALUE, "
                     "or give --config; port and compare refuse until then):")
        lines += [f"  {k}: {v}" for k, v in inferred.unknown.items()]
    if inferred.stated:
        lines.append("forward-relevant properties the weights cannot show, settled:")
        lines += [f"  {k} = {v}" for k, v in inferred.stated.items()]
    lines.append("not inferable from weights, no effect on the forward pass (assumed):")
    lines += [f"  {k}: {v}" for k, v in inferred.assumed.items()]
    if inspection.unaccounted:
        lines.append("damaged (port, forward and compare refuse):" if inspection.damaged else
                     "cannot be accounted for (mapping to canonical):")
        lines += [f"  {problem}" for problem in inspection.unaccounted]
    else:
        lines.append("every tensor maps to the canonical layout")
    if c.extras:
        lines.append(f"carried extras: {sorted(c.extras)}")
    lines += [f"dropped: {k} ({why})" for k, why in c.dropped.items()]
    return "\n".join(lines)


def verify(source: str, source_config, source_state, target: str, target_config,
           target_state, seed: int = 0, full_length: bool = True) -> StageReport:
    """Compare the two models on random inputs (labels avoid blank); every utterance full
    length unless `full_length` is False (then every utterance but the first has an odd
    length of about half: padding is exercised, and odd lengths meet time stacking)."""
    a = build_with_weights(source, source_config, source_state)
    b = build_with_weights(target, target_config, target_state)
    interface = family(source).interface(source_config)
    other = family(target).interface(target_config)
    if other.input_features != interface.input_features:
        raise ValueError(f"the models read {interface.input_features} and "
                         f"{other.input_features} input features: not comparable")
    return compare_models(a, b, *verification_inputs(interface, seed, full_length),
                          family(source).blank(source_config),
                          family(target).blank(target_config))


def verification_inputs(config, seed: int = 0, full_length: bool = True):
    """Random canonical inputs (features, lengths, labels avoiding blank) for a model with
    `config`'s input_features, vocab_size and blank (an `Interface` or a canonical config);
    see `verify` for the lengths."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((VERIFY_BATCH, VERIFY_FRAMES, config.input_features))
    lengths = np.full(VERIFY_BATCH, VERIFY_FRAMES)
    if not full_length:
        lengths[1:] = VERIFY_FRAMES // 2 + 1
    symbols = [v for v in range(config.vocab_size) if v != config.blank]
    return features, lengths, rng.choice(symbols, (VERIFY_BATCH, VERIFY_LABELS))


def port_checkpoint(source_path: Path, out_path: Path, target: str, source: str | None = None,
                    verify_port: bool = True, force: bool = False, ema: bool = False,
                    assume: dict[str, str] | None = None, out=print,
                    config: Path | None = None, drop_ctc_head: bool = False) -> dict:
    """Port a checkpoint; returns the provenance record (also written beside OUT)."""
    provenance_path = out_path.with_name(out_path.name + ".provenance.json")
    for path in (out_path, provenance_path):
        refuse_to_overwrite(path, force)
    inspection = inspect_checkpoint(source_path, source, ema, assume, config,
                                    family_flag="--from")
    inspection.require_intact(f"{source_path}: nothing written")
    source = inspection.family
    family(target)
    origin = inspection.checkpoint.extras.get(ORIGIN_EXTRA)
    declared: dict[str, str] = {}
    state, target_config, maps = map_to(inspection.state, source, target,
                                        inspection.inferred.config, drop_ctc_head, origin,
                                        declared)
    for key, why in declared.items():
        out(f"dropped by the map: {key} ({why})")
    inspection.inferred.require_known(f"{source_path}: nothing written")
    set_aside = inspection.inferred.outside
    if set_aside:
        out(f"set aside: {describe_set_aside(set_aside)}")
    report = None
    if verify_port:
        report = verify(source, inspection.inferred.config, inspection.state, target,
                        target_config, state)
        out(f"verification: {report.describe()}")
        if report.first_divergence is not None:
            raise ValueError(f"verification failed at {report.first_divergence}: "
                             f"{report.describe()}; nothing written")
    extras = dict(inspection.checkpoint.extras)
    extras.pop(CONFIG_EXTRA, None)
    extras.pop(STATED_EXTRA, None)
    extras.pop(ORIGIN_EXTRA, None)
    if target == "canonical":
        extras[CONFIG_EXTRA] = dataclasses.asdict(target_config)
        extras[ORIGIN_EXTRA] = origin if source == "canonical" and origin else {
            "family": source, "config": dataclasses.asdict(inspection.inferred.config)}
    elif family(target).statements_of is not None:
        extras[STATED_EXTRA] = family(target).statements_of(target_config)
    provenance = {
        "source": {"path": str(source_path), "sha256": inspection.checkpoint.sha256,
                   "container": inspection.checkpoint.container,
                   "prefix_stripped": inspection.checkpoint.prefix, "family": source},
        "target": {"path": str(out_path), "family": target,
                   "config": dataclasses.asdict(target_config)},
        "source_config": dataclasses.asdict(inspection.inferred.config),
        "assumed": inspection.inferred.assumed,
        "stated": inspection.inferred.stated,
        "restored_from_origin": origin_fields(target, origin),
        "maps": [{"name": m.name, "version": m.version} for m in maps],
        "verification": None if report is None else {
            stage: {"passed": c.passed, "max_abs": c.max_abs, "max_rel": c.max_rel,
                    "tolerance": c.tolerance.name}
            for stage, c in report.comparisons.items()},
        "carried_extras": sorted(extras),
        "dropped": {**inspection.checkpoint.dropped, **set_aside, **declared,
                    **({"ctc.*": "--drop-ctc-head"} if drop_ctc_head else {})},
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }
    write_checkpoint(out_path, state, extras, force=force)
    with atomic_output(provenance_path, force) as temporary:
        temporary.write_text(json.dumps(provenance, indent=2, default=str) + "\n")
    out(f"wrote {out_path} and {provenance_path.name}")
    return provenance


def describe_set_aside(outside: dict[str, str]) -> str:
    """One line: how many tensors were set aside, by prefix, and why."""
    groups: dict[str, list[str]] = {}
    for key, why in outside.items():
        groups.setdefault(why, []).append(key)
    return "; ".join(f"{len(keys)} tensor(s) {sorted({k.split('.')[0] + '.*' for k in keys})} "
                     f"({why})" for why, keys in groups.items())


def compare_checkpoints(path_a: Path, path_b: Path, family_a: str | None = None,
                        family_b: str | None = None, padded: bool = False, out=print,
                        config_a: Path | None = None, config_b: Path | None = None,
                        assume: dict[str, str] | None = None) -> StageReport:
    """Build both checkpoints' models and compare them stage by stage; print the report."""
    a = inspect_checkpoint(path_a, family_a, assume=assume, config=config_a, only_its_own=True,
                           family_flag="--family-a")
    b = inspect_checkpoint(path_b, family_b, assume=assume, config=config_b, only_its_own=True,
                           family_flag="--family-b")
    unused = sorted(set(assume or {}) - set(family(a.family).unreadable)
                    - set(family(b.family).unreadable))
    if unused:
        raise ValueError(f"--assume {unused}: not properties the {a.family} or {b.family} "
                         "weights cannot show")
    a.require_usable(str(path_a))
    b.require_usable(str(path_b))
    report = verify(a.family, a.inferred.config, a.state, b.family,
                    b.inferred.config, b.state, full_length=not padded)
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
    from rnnt_parity.compare.localise import first_divergent_pair, localise
    from rnnt_parity.models.greedy import as_canonical

    if not family(a.family).correspondences:
        return None
    model = build_with_weights(a.family, a.inferred.config, a.state)
    other = as_canonical(build_with_weights(b.family, b.inferred.config, b.state))
    canonical = family(a.family).to_canonical_config(a.inferred.config)
    return first_divergent_pair(localise(model, other, *verification_inputs(canonical)))
