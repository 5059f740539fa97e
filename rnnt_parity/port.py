"""`rnnt-parity inspect`, `port` and `compare`: read checkpoints, map weights to another
family through the canonical layout, prove the port, write it atomically, or compare two
checkpoints stage by stage.

Verification (on by default, `rnnt_parity.compare.verification`) builds the source model
and the target model and compares them stage by stage (encoder, prediction, joint and CTC
logits, RNN-T loss) on random inputs and on the speech fixtures, every utterance full
length: first in float64 (the map applied to the float64 source; a map is exact, so this is
where a port is judged), then in the weights' own precision under a bound measured on the
same models and inputs; a failed verification raises before anything is written. Beside
OUT goes OUT.provenance.json: source file and sha256, container, families, maps (name and
version), inferred config and what was assumed, every verdict of the verification (stage,
precision, region, largest error with its index and values, bound and rule), dropped
entries with reasons, versions.
"""

from __future__ import annotations

import dataclasses
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
from rnnt_parity.compare.verification import (
    Side,
    Verification,
    float64_copy,
    input_batches,
    lowest_precision,
    random_inputs,
    rounding_problems,
    side_of,
    verify_sides,
)
from rnnt_parity.configs import config_vs_checkpoint, read_config
from rnnt_parity.files import json_text, refuse_to_overwrite, write_json_atomically
from rnnt_parity.mapping import MappingError
from rnnt_parity.mapping.through_canonical import ORIGIN_EXTRA, map_to, origin_fields


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


def verify(a: Side, b: Side, precisions=(), full_length: bool = True,
           judged=None, subject: str = "the same function") -> Verification:
    """b against a on the random batch (full length, or padded: see `random_inputs`) and
    the speech batch, in float64 and in each stored precision and each of `precisions`;
    `judged` (default: all of them) decides the verdict, and so do b's stored tensors that
    are not its float64 weights rounded once (`rounding_problems`: a port's written
    weights)."""
    interface = family(a.family).interface(a.config)
    other = family(b.family).interface(b.config)
    if other.input_features != interface.input_features:
        raise ValueError(f"the models read {interface.input_features} and "
                         f"{other.input_features} input features: not comparable")
    reduced = [p for p in dict.fromkeys([a.stored_precision, b.stored_precision, *precisions])
               if p != "float64"]
    batches, notes = input_batches(interface, full_length)
    if not full_length:
        batches = batches[:1]
    everything = ["float64", *reduced]
    verification = verify_sides(a, b, batches, everything,
                                everything if judged is None else judged, notes, subject)
    return dataclasses.replace(verification, weight_problems=tuple(rounding_problems(b)))


def port_checkpoint(source_path: Path, out_path: Path, target: str, source: str | None = None,
                    verify_port: bool = True, force: bool = False, ema: bool = False,
                    assume: dict[str, str] | None = None, out=print,
                    config: Path | None = None, drop_ctc_head: bool = False,
                    precisions=()) -> dict:
    """Port a checkpoint; returns the provenance record (also written beside OUT).
    `precisions`: reduced precisions verified (and judged) besides float64 and the
    weights' own."""
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
        source_exact = float64_copy(inspection.state)
        exact = map_to(source_exact, source, target, inspection.inferred.config,
                       drop_ctc_head, origin, {})[0]
        report = verify(Side(source, inspection.inferred.config, source_exact,
                             inspection.state),
                        Side(target, target_config, exact, state), precisions,
                        subject="the map is exact")
        for line in report.lines():
            out(line)
        out(f"verification: {report.summary()}")
        if report.first_divergence is not None:
            raise ValueError(f"verification failed at {report.first_divergence}: "
                             f"{report.summary()}; nothing written")
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
        "verification": None if report is None else report.as_json(),
        "carried_extras": sorted(extras),
        "dropped": {**inspection.checkpoint.dropped, **set_aside, **declared,
                    **({"ctc.*": "--drop-ctc-head"} if drop_ctc_head else {})},
        "versions": {"torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }
    json_text(provenance)  # a record strict JSON cannot hold fails before anything is written
    write_checkpoint(out_path, state, extras, force=force)
    write_json_atomically(provenance_path, provenance, force)
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
                        assume: dict[str, str] | None = None, precisions=()) -> Verification:
    """Build both checkpoints' models and compare them stage by stage in float64 and in
    their stored precisions (and `precisions`); print the report. Checkpoints stored in
    different precisions are judged in the lower one (float64 then compares two roundings
    of the weights, and is reported only)."""
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
    side_a = side_of(a.family, a.inferred.config, a.state)
    side_b = side_of(b.family, b.inferred.config, b.state)
    stored = {side_a.stored_precision, side_b.stored_precision}
    judged = None
    if len(stored) > 1:
        judged = [lowest_precision(stored)]
        out(f"note: a is stored in {side_a.stored_precision} and b in "
            f"{side_b.stored_precision}: float64 compares two roundings of the weights and "
            f"is reported only, as is every other precision; judged in {judged[0]}")
    report = verify(side_a, side_b, precisions, full_length=not padded, judged=judged)
    out(f"a: {path_a} ({a.family}); b: {path_b} ({b.family})")
    for line in report.lines():
        out(line)
    out(report.summary())
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
    b's weights ported to canonical, both in float64; None when a's family has no
    correspondences."""
    from rnnt_parity.compare.localise import first_divergent_pair, localise
    from rnnt_parity.models.greedy import as_canonical

    if not family(a.family).correspondences:
        return None
    model = build_with_weights(a.family, a.inferred.config, float64_copy(a.state))
    other = as_canonical(build_with_weights(b.family, b.inferred.config,
                                            float64_copy(b.state)))
    canonical = family(a.family).to_canonical_config(a.inferred.config)
    batch = random_inputs(canonical)
    return first_divergent_pair(localise(model, other, batch.features, batch.lengths,
                                         batch.labels))
