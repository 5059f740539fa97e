"""The weight-mapping engine: applies a declarative map (JSON data, `WeightMap`) to a state
dict and refuses to drop or invent anything.

A map is a list of rules. Each rule's `source` is a regular expression (full match) with
named groups, or, for rules with two inputs, a list whose first entry is the expression and
whose second is a template; `target` is a template (or a list of two). Templates fill
`{group}` from the match, with integer arithmetic `{k*2}`, `{k+1}`, `{k-1}`, `{k//2}` (layer
index arithmetic: nn.LSTM's `_l1` <-> `layers.2`). Rule kinds:

    rename         copy                       transpose      W -> W.T
    squeeze        Conv1d(k=1) weight -> Linear weight (drop the last axis)
    unsqueeze      Linear weight -> Conv1d(k=1) weight
    gate_reorder   reorder the four gate blocks of an LSTM tensor ("ifgo" -> "ifog", ...)
    pad_rows       append/prepend `rows` rows of `value` (a blank row a family lacks)
    drop_rows      remove `rows` rows at the "start"/"end" (with a reason); rows "surplus":
                   as many as the source has beyond the target's expected shape (a TDT
                   joint's duration outputs)
    move_row       move row `from` to position `to` (blank first <-> blank last)
    merge_sum      two sources -> their sum (bias_ih + bias_hh -> one fused bias)
    split_sum      one source -> two targets: the source and zeros (a fused bias split)
    concat_columns two sources -> one, side by side (two projections -> a concat Linear)
    split_columns  one source -> two targets, columns split at `at`, or at the width of the
                   first target's expected shape (`at_from`: that target's key)
    drop           consume a source without a target (needs a reason)

A one-to-one rule with option "target_pattern" treats its filled target as a regular expression
and writes to the one key of the target layout it matches (a Sequential index that moves
with dropout: `fully_connected\\.[23]`).

Every source tensor must be consumed exactly once, every expected target filled exactly
once, with the expected shape and the source's dtype; all violations are collected and
raised together in one `MappingError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

MAPS_ROOT = Path(__file__).resolve().parents[1] / "codebases"
TEMPLATE_FIELD = re.compile(r"\{(\w+)(?:(//|[*+\-])(\d+))?\}")
ONE_TO_ONE = ("rename", "transpose", "squeeze", "unsqueeze", "gate_reorder", "pad_rows",
              "drop_rows", "move_row")
KINDS = ONE_TO_ONE + ("merge_sum", "split_sum", "concat_columns", "split_columns", "drop")
NEEDS_REASON = ("pad_rows", "drop_rows", "split_sum", "drop")


class MappingError(ValueError):
    """Every problem found while applying a map, one per line."""

    def __init__(self, map_name: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"map {map_name!r} cannot be applied ({len(problems)} problem(s)):\n"
                         + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Rule:
    kind: str
    source: tuple[str, ...]
    target: tuple[str, ...]
    options: dict = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True)
class WeightMap:
    """A named, versioned list of rules from one family's keys to another's."""

    name: str
    version: int
    source_family: str
    target_family: str
    rules: tuple[Rule, ...]

    @classmethod
    def from_json(cls, data: dict) -> WeightMap:
        rules = []
        for index, raw in enumerate(data["rules"]):
            kind = raw.get("kind")
            if kind not in KINDS:
                raise ValueError(f"map {data.get('name')!r} rule {index}: unknown kind {kind!r}")
            if kind in NEEDS_REASON and not raw.get("reason"):
                raise ValueError(f"map {data.get('name')!r} rule {index}: a {kind} rule needs a "
                                 "reason")
            source = raw["source"] if isinstance(raw["source"], list) else [raw["source"]]
            target = raw.get("target", [])
            target = target if isinstance(target, list) else [target]
            rules.append(Rule(kind, tuple(source), tuple(target), raw.get("options", {}),
                              raw.get("reason", "")))
        return cls(data["name"], int(data["version"]), data["source_family"],
                   data["target_family"], tuple(rules))


def map_files() -> dict[str, Path]:
    """Every weight map by name: rnnt_parity/codebases/<codebase>/maps/NAME.json."""
    return {path.stem: path for path in sorted(MAPS_ROOT.glob("*/maps/*.json"))}


def load_map(name: str) -> WeightMap:
    """The map `name` (see `map_files`)."""
    files = map_files()
    if name not in files:
        raise ValueError(f"no weight map named {name!r}; known: {sorted(files)}")
    return WeightMap.from_json(json.loads(files[name].read_text()))


def fill(template: str, groups: Mapping[str, str]) -> str:
    """Fill `{name}` / `{name*2}` / `{name//2}` / `{name+1}` / `{name-1}` from `groups`."""
    def value(match: re.Match) -> str:
        name, op, operand = match.groups()
        text = groups[name]
        if op is None:
            return text
        k, n = int(text), int(operand)
        return str({"*": k * n, "//": k // n, "+": k + n, "-": k - n}[op])
    return TEMPLATE_FIELD.sub(value, template)


def _gate_reorder(tensor: torch.Tensor, source: str, target: str) -> torch.Tensor:
    blocks = dict(zip(source, tensor.chunk(4, dim=0), strict=True))
    return torch.cat([blocks[gate] for gate in target], dim=0)


def _one_to_one(rule: Rule, tensor: torch.Tensor, key: str, problems: list[str],
                target_shape: tuple[int, ...] | None = None):
    o = rule.options
    if rule.kind == "transpose":
        return tensor.T.contiguous()
    if rule.kind == "squeeze":
        if tensor.ndim != 3 or tensor.shape[-1] != 1:
            problems.append(f"{key}: squeeze needs a (out, in, 1) Conv1d weight, got "
                            f"{tuple(tensor.shape)}")
            return None
        return tensor[..., 0]
    if rule.kind == "unsqueeze":
        return tensor[..., None]
    if rule.kind == "gate_reorder":
        return _gate_reorder(tensor, o["from"], o["to"])
    if rule.kind == "pad_rows":
        pad = tensor.new_full((o["rows"], *tensor.shape[1:]), float(o.get("value", 0.0)))
        return torch.cat([tensor, pad] if o.get("at", "end") == "end" else [pad, tensor])
    if rule.kind == "drop_rows":
        rows = o["rows"]
        if rows == "surplus":
            if target_shape is None:
                problems.append(f"{key}: drop_rows 'surplus' needs the target's expected shape")
                return None
            rows = tensor.shape[0] - target_shape[0]
            if rows < 0:
                problems.append(f"{key} has {tensor.shape[0]} rows, fewer than the target's "
                                f"{target_shape[0]}")
                return None
            if rows == 0:
                return tensor
        return tensor[:-rows] if o.get("at", "end") == "end" else tensor[rows:]
    if rule.kind == "move_row":
        order = list(range(tensor.shape[0]))
        order.insert(o["to"] % tensor.shape[0], order.pop(o["from"] % tensor.shape[0]))
        return tensor[order]
    return tensor


def _layout_key(pattern: str, expected, key: str, problems: list[str]) -> str | None:
    """The one key of the target layout that `pattern` (a filled target template that is a
    regular expression, e.g. a Sequential index `[23]` with or without dropout) matches."""
    if expected is None:
        problems.append(f"{key}: a target pattern needs the target's layout")
        return None
    found = [k for k in expected if re.fullmatch(pattern, k)]
    if len(found) != 1:
        problems.append(f"{key}: the target pattern {pattern!r} matches {len(found)} keys of "
                        f"the target layout {found[:3]}, not one")
        return None
    return found[0]


def apply_map(weight_map: WeightMap, state: Mapping[str, torch.Tensor],
              expected: Mapping[str, tuple[int, ...]] | None = None,
              declared: dict[str, str] | None = None) -> dict[str, torch.Tensor]:
    """Map `state` (key -> tensor) to the target family's keys.

    `expected` (target key -> shape) is the target model's state dict layout: every entry
    must be filled with that shape. `declared`, when given, receives what the map dropped by
    a rule that says why ({"key rows a-b" or "key": reason}). Raises MappingError listing
    every problem.
    """
    problems: list[str] = []
    consumed: dict[str, str] = {}
    out: dict[str, torch.Tensor] = {}

    def consume(key: str, why: str) -> torch.Tensor | None:
        if key not in state:
            problems.append(f"{why}: needs source tensor {key}, which is missing")
            return None
        if key in consumed:
            problems.append(f"{key} consumed twice ({consumed[key]}; {why})")
            return None
        if not isinstance(state[key], torch.Tensor):
            problems.append(f"{key} is a {type(state[key]).__name__}, not a tensor")
            return None
        consumed[key] = why
        return state[key]

    def emit(key: str, tensor, source_dtype) -> None:
        if tensor is None:
            return
        if key in out:
            problems.append(f"{key} is filled twice")
        elif tensor.dtype != source_dtype:
            problems.append(f"{key}: dtype changed from {source_dtype} to {tensor.dtype}")
        out[key] = tensor

    for key in state:
        if key in consumed:
            continue
        matches = [(r, m) for r in weight_map.rules
                   if (m := re.fullmatch(r.source[0], key)) is not None]
        if not matches:
            problems.append(f"{key} is not consumed: no rule matches it and it is not declared "
                            "dropped")
            continue
        if len(matches) > 1:
            problems.append(f"{key} matches {len(matches)} rules; maps must be unambiguous")
            continue
        rule, match = matches[0]
        groups = match.groupdict()
        why = f"rule {rule.kind} {rule.source[0]!r}"
        first = consume(key, why)
        if first is None:
            continue
        if rule.kind in ONE_TO_ONE:
            target = fill(rule.target[0], groups)
            if rule.options.get("target_pattern"):
                target = _layout_key(target, expected, key, problems)
                if target is None:
                    continue
            mapped = _one_to_one(rule, first, key, problems,
                                 None if expected is None else expected.get(target))
            if declared is not None and mapped is not None and rule.kind == "drop_rows" \
                    and mapped.shape[0] < first.shape[0]:
                at_end = rule.options.get("at", "end") == "end"
                lo = mapped.shape[0] if at_end else 0
                hi = first.shape[0] if at_end else first.shape[0] - mapped.shape[0]
                declared[f"{key} rows {lo}-{hi - 1}"] = rule.reason
            emit(target, mapped, first.dtype)
        elif rule.kind in ("merge_sum", "concat_columns"):
            second = consume(fill(rule.source[1], groups), why)
            if second is None:
                continue
            if rule.kind == "merge_sum":
                merged = first + second
            else:
                merged = torch.cat([first, second], dim=1)
            emit(fill(rule.target[0], groups), merged, first.dtype)
        elif rule.kind == "split_sum":
            emit(fill(rule.target[0], groups), first.clone(), first.dtype)
            emit(fill(rule.target[1], groups), torch.zeros_like(first), first.dtype)
        elif rule.kind == "split_columns":
            at = rule.options.get("at")
            if at is None:
                first_target = fill(rule.options["at_from"], groups)
                if expected is None or first_target not in expected:
                    problems.append(f"{key}: the split point comes from {first_target}'s "
                                    "expected shape, which the target layout lacks")
                    continue
                at = expected[first_target][1]
            emit(fill(rule.target[0], groups), first[:, :at].contiguous(), first.dtype)
            emit(fill(rule.target[1], groups), first[:, at:].contiguous(), first.dtype)
        elif rule.kind == "drop" and declared is not None:
            declared[key] = rule.reason
    if expected is not None:
        for key, shape in expected.items():
            if key not in out:
                problems.append(f"{key} {tuple(shape)} is not filled by any rule")
            elif tuple(out[key].shape) != tuple(shape):
                problems.append(f"{key}: shape {tuple(out[key].shape)} where the target "
                                f"expects {tuple(shape)}")
        for key in out:
            if key not in expected:
                problems.append(f"{key} is produced but the target has no such tensor")
    if problems:
        raise MappingError(weight_map.name, problems)
    return out
