"""Conformance of a user's RNN-T loss callable: every hand-worked fixture and a hypothesis
search against the oracle, under the callable's own conventions (detected or given).

Malformed inputs are probed in subprocesses (`rnnt_parity.conform.bad_input`) and tabled;
the table informs, it does not fail the run.

`UserRNNTLoss` puts the callable behind the oracle's conventions: the batch's blank is moved
to the callable's blank by swapping two vocabulary indices (logits' last axis and target
labels; a target never holds blank), log-probs are made with torch's log_softmax when the
callable takes them (so gradients are always w.r.t. logits), lengths get the callable's
dtype, and the loss is compared with the oracle's under the callable's reduction.
A property failure keeps hypothesis's shrunk example (the last one it runs).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings

from reference_impls.rnnt import rnnt_loss as oracle_rnnt_loss
from rnnt_parity.compare.arrays import compare, rnnt_magnitudes
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.conform.bad_input import bad_input_table
from rnnt_parity.conform.detect import DetectedConvention, detect_rnnt_convention
from rnnt_parity.fixtures import load_rnnt_fixtures
from rnnt_parity.strategies import HYPOTHESIS_PROFILES, rnnt_batches

COMPARABLE_REDUCTIONS = ("none", "sum", "mean")
PRESETS = {
    "torchaudio": DetectedConvention(("int32",), -1, "logits", "mean"),
}
"""Named conventions (blank -1 is the last index): torchaudio.functional.rnnt_loss's defaults."""


def load_callable(target: str):
    """The object named by "package.module:attribute[.attribute...]"; the working folder is
    searched first, as `python -m` would (so a user's own module is found)."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"target {target!r}: expected PACKAGE.MODULE:CALLABLE")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"target {target!r}: cannot import {module_name!r} ({error})") from error
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise ValueError(f"target {target!r}: {module_name} has no {attribute!r}")
        found = getattr(found, part)
    if not callable(found):
        raise ValueError(f"target {target!r} is a {type(found).__name__}, not callable")
    return found


def read_convention(text: str, loss) -> DetectedConvention:
    """"auto" (probe), a preset name, or a JSON file {"blank", "inputs", "reduction",
    "length_dtypes"}."""
    if text == "auto":
        return detect_rnnt_convention(loss)
    if text in PRESETS:
        return PRESETS[text]
    path = Path(text)
    if not path.is_file():
        raise ValueError(f"--convention {text!r}: not auto, a preset {sorted(PRESETS)} or a "
                         "JSON file")
    values = json.loads(path.read_text())
    return DetectedConvention(tuple(values.get("length_dtypes", ["int32"])), values["blank"],
                              values["inputs"], values["reduction"])


class UserRNNTLoss:
    """The callable behind the oracle's conventions: __call__ -> (loss, grad w.r.t. logits)."""

    def __init__(self, loss, convention: DetectedConvention):
        missing = [k for k in ("blank", "inputs", "reduction") if getattr(convention, k) is None]
        if missing or not convention.length_dtypes:
            raise ValueError(f"the convention is incomplete ({missing or 'length dtypes'}); "
                             "give --convention")
        if convention.reduction not in COMPARABLE_REDUCTIONS:
            raise ValueError(f"reduction {convention.reduction!r} has no oracle counterpart; "
                             f"comparable: {COMPARABLE_REDUCTIONS}")
        self.loss, self.convention = loss, convention
        self.dtype = getattr(torch, convention.length_dtypes[0])

    def __call__(self, logits, targets, logit_lengths, target_lengths, blank):
        logits, targets = np.asarray(logits), np.asarray(targets)
        vocab = logits.shape[-1]
        theirs = self.convention.blank % vocab
        order = np.arange(vocab)
        order[[blank, theirs]] = order[[theirs, blank]]
        frames, labels = logits.shape[1], targets.shape[1]
        if not self.convention.accepts_padding:  # trim to the longest utterance
            frames, labels = int(np.max(logit_lengths)), int(np.max(target_lengths))
        valid = np.arange(targets.shape[1])[None, :] < np.asarray(target_lengths)[:, None]
        targets = np.where(valid, targets, 0 if blank else 1)[:, :labels]
        leaf = torch.tensor(np.ascontiguousarray(logits[:, :frames, :labels + 1][..., order]),
                            dtype=torch.float32, requires_grad=True)
        inputs = leaf if self.convention.inputs == "logits" else torch.log_softmax(leaf, -1)
        out = self.loss(inputs, torch.tensor(order[targets], dtype=self.dtype),
                        torch.tensor(logit_lengths, dtype=self.dtype),
                        torch.tensor(target_lengths, dtype=self.dtype))
        out.sum().backward()
        grad = np.zeros(logits.shape)
        grad[:, :frames, :labels + 1] = leaf.grad.double().numpy()[..., order]
        return out.detach().double().numpy(), grad


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    max_abs_loss: float | None = None
    max_abs_grad: float | None = None
    detail: str = ""
    example: dict | None = None


@dataclass
class ConformanceReport:
    target: str
    convention: dict
    checks: list[CheckOutcome] = field(default_factory=list)
    bad_input: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def _compare_batch(user: UserRNNTLoss, logits, targets, logit_lengths, target_lengths, blank):
    reduction = user.convention.reduction
    per_utterance, grad_of_sum = oracle_rnnt_loss(
        np.asarray(logits, dtype=np.float32), targets, logit_lengths, target_lengths,
        blank=blank, reduction="none")
    scale = 1.0 / len(per_utterance) if reduction == "mean" else 1.0
    expected_loss = per_utterance if reduction == "none" else np.array(
        per_utterance.sum() * scale)
    expected_grad = grad_of_sum * scale
    loss, grad = user(logits, targets, logit_lengths, target_lengths, blank)
    magnitudes = rnnt_magnitudes(logits, logit_lengths, target_lengths, per_utterance)
    loss_scale = magnitudes if reduction == "none" else np.array(magnitudes.max())
    loss_check = compare(loss.reshape(expected_loss.shape), expected_loss,
                         tolerance_for("float32", "cpu", "rnnt.loss"), loss_scale)
    grad_check = compare(grad, expected_grad, tolerance_for("float32", "cpu", "rnnt.grad"),
                         magnitudes)
    return loss_check, grad_check


def _outcome(name, loss_check, grad_check, example=None) -> CheckOutcome:
    wrong = [what for what, check in (("loss", loss_check), ("gradient", grad_check))
             if not check.passed]
    detail = f"{' and '.join(wrong)} differ{'s' if len(wrong) == 1 else ''}" if wrong else ""
    return CheckOutcome(name, not wrong, loss_check.max_abs, grad_check.max_abs, detail,
                        example)


def run_fixtures(user: UserRNNTLoss) -> list[CheckOutcome]:
    out = []
    for fixture in load_rnnt_fixtures():
        if fixture.fastemit_lambda or not fixture.loss_is_finite:
            continue
        try:
            checks = _compare_batch(user, fixture.logits, fixture.targets, fixture.logit_lengths,
                                    fixture.target_lengths, fixture.blank)
            out.append(_outcome(f"fixture {fixture.name}", *checks))
        except Exception as error:  # the implementation under test may raise anything
            out.append(CheckOutcome(f"fixture {fixture.name}", False,
                                    detail=f"raised {type(error).__name__}: {error}"))
    return out


def run_property(user: UserRNNTLoss, profile: str = "ci") -> CheckOutcome:
    """Random float32 batches (full-length first utterance) against the oracle, under one
    of `HYPOTHESIS_PROFILES`."""
    if profile not in HYPOTHESIS_PROFILES:
        raise ValueError(f"profile must be one of {sorted(HYPOTHESIS_PROFILES)}, got {profile!r}")
    last: dict = {}

    @settings(database=None, suppress_health_check=list(HealthCheck),
              **HYPOTHESIS_PROFILES[profile])
    @given(case=rnnt_batches(dtype=np.float32, full_lengths=True))
    def agrees(case):
        last["example"] = {"logits": case.logits.tolist(), "targets": case.targets.tolist(),
                           "logit_lengths": case.logit_lengths.tolist(),
                           "target_lengths": case.target_lengths.tolist(), "blank": case.blank}
        loss_check, grad_check = _compare_batch(user, *case.arrays(), case.blank)
        last["checks"] = (loss_check, grad_check)
        assert loss_check.passed and grad_check.passed

    name = "property: random batches vs the oracle"
    try:
        agrees()
    except AssertionError:
        return _outcome(name, *last["checks"], last["example"])
    except Exception as error:  # the implementation under test may raise anything
        return CheckOutcome(name, False, detail=f"raised {type(error).__name__}: {error}",
                            example=last.get("example"))
    return CheckOutcome(name, True, detail="every example agreed")


def conform_rnnt_loss(target: str, convention: str = "auto",
                      profile: str = "ci") -> ConformanceReport:
    loss = load_callable(target)
    found = read_convention(convention, loss)
    report = ConformanceReport(target, asdict(found))
    user = UserRNNTLoss(loss, found)
    report.checks += run_fixtures(user)
    report.checks.append(run_property(user, profile))
    report.bad_input = bad_input_table(target, found.blank, found.inputs,
                                       found.length_dtypes[0])
    return report


def render_markdown(report: ConformanceReport) -> str:
    passed = sum(c.passed for c in report.checks)
    lines = [f"# Conformance of {report.target} (RNN-T loss)", "",
             f"{passed} of {len(report.checks)} checks passed.", "", "## Convention", ""]
    lines += [f"- {k}: {v}" for k, v in report.convention.items() if k != "notes"]
    lines += [f"- note: {n}" for n in report.convention.get("notes", [])]
    lines += ["", "| check | verdict | max abs loss err | max abs grad err | detail |",
              "|---|---|---|---|---|"]
    for c in report.checks:
        lines.append(f"| {c.name} | {'pass' if c.passed else 'FAIL'} | {c.max_abs_loss} | "
                     f"{c.max_abs_grad} | {c.detail} |")
    lines += ["", "## Malformed input (each probe in its own process)", "",
              "| defect | outcome | detail |", "|---|---|---|"]
    lines += [f"| {r['defect']} | {r['outcome']} | {r['detail'].replace('|', '/')} |"
              for r in report.bad_input]
    for c in report.checks:
        if c.example is not None:
            lines += ["", f"## Shrunk failing example: {c.name}", "", "```json",
                      json.dumps(c.example), "```"]
    return "\n".join(lines) + "\n"


def write_conformance_report(report: ConformanceReport, folder: Path, force: bool = False):
    from rnnt_parity.files import atomic_output

    folder.mkdir(parents=True, exist_ok=True)
    texts = {"conformance.json": json.dumps({"target": report.target,
                                             "convention": report.convention,
                                             "passed": report.passed,
                                             "checks": [asdict(c) for c in report.checks],
                                             "bad_input": report.bad_input},
                                            indent=1),
             "conformance.md": render_markdown(report)}
    for name, text in texts.items():
        with atomic_output(folder / name, force) as temporary:
            temporary.write_text(text)
