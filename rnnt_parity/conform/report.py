"""The conformance report every `rnnt-parity conform` kind writes: checks (passed or failed,
the largest errors against the oracle, hypothesis's shrunk example for a failed search), the
convention the run used, and, for losses, the malformed-input table.

Files: `conformance.json` and `conformance.md` in the report folder, each written atomically
and never over an existing report without `force`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rnnt_parity.files import atomic_output, json_text
from rnnt_parity.progress import step


@dataclass
class CheckOutcome:
    """One check. `max_abs_loss` / `max_abs_grad` are the largest errors against the oracle
    (for non-loss kinds: the first and second compared quantity, named in `detail`).
    `deviation`: for a failed check, the named deviation (`backends.deviations`) its failure
    is, when the check can tell; `declared`: the convention declares that deviation, so the
    failure does not fail the report."""

    name: str
    passed: bool
    max_abs_loss: float | None = None
    max_abs_grad: float | None = None
    detail: str = ""
    example: dict | None = None
    deviation: str | None = None
    declared: bool = False

    @property
    def verdict(self) -> str:
        if self.passed:
            return "pass"
        return f"deviates as declared ({self.deviation})" if self.declared else "FAIL"


@dataclass
class ConformanceReport:
    kind: str
    target: str
    convention: dict
    checks: list[CheckOutcome] = field(default_factory=list)
    bad_input: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every check passed or failed only by a deviation its convention declares."""
        return all(c.passed or c.declared for c in self.checks)

    def declare(self, deviations) -> None:
        """Mark each failed check whose deviation is among `deviations` as declared, and
        note each declared deviation no check showed."""
        for check in self.checks:
            check.declared = not check.passed and check.deviation in deviations
        shown = {c.deviation for c in self.checks if c.declared}
        notes = self.convention.setdefault("notes", [])
        notes += [f"declared deviation not seen: {d}" for d in deviations if d not in shown]


def raised(name: str, error: Exception, example: dict | None = None) -> CheckOutcome:
    """A failed check whose implementation raised instead of answering."""
    return CheckOutcome(name, False, detail=f"raised {type(error).__name__}: {error}",
                        example=example)


def guarded(name: str, action, example: dict | None = None) -> CheckOutcome:
    """`action()`'s CheckOutcome, or a failed one if the implementation under it raised."""
    try:
        return action()
    except Exception as error:  # the implementation under test may raise anything
        return raised(name, error, example)
    finally:
        step(name)


ERROR_COLUMNS = {
    "RNN-T loss": ("loss: largest abs error", "gradient: largest abs error"),
    "CTC loss": ("loss: largest abs error", "gradient: largest abs error"),
    "RNN-T beam search": ("scores: largest abs error", "-"),
    "model": ("forward: largest abs error", "-"),
    "other": ("largest abs error", "-"),
}
"""The two error columns of the report table, by report kind (what `max_abs_loss` and
`max_abs_grad` hold for it)."""


def _figure(value) -> str:
    """A table cell: "-" for nothing measured, NaN and infinities by name."""
    if value is None:
        return "-"
    return f"{value:.3g}" if value == value and abs(value) != float("inf") else (
        "NaN" if value != value else str(value))


def render_markdown(report: ConformanceReport) -> str:
    passed = sum(c.passed for c in report.checks)
    declared = sum(c.declared for c in report.checks)
    lines = [f"# Conformance of {report.target} ({report.kind})", "",
             f"{passed} of {len(report.checks)} checks passed"
             + (f", {declared} deviate as declared." if declared else "."), "",
             "## Convention", ""]
    lines += [f"- {k}: {v}" for k, v in report.convention.items() if k != "notes"]
    lines += [f"- note: {n}" for n in report.convention.get("notes", [])]
    first, second = ERROR_COLUMNS.get(report.kind, ERROR_COLUMNS["other"])
    lines += ["", f"| check | verdict | {first} | {second} | detail |",
              "|---|---|---|---|---|"]
    for c in report.checks:
        lines.append(f"| {c.name.replace('|', '/')} | {c.verdict} | "
                     f"{_figure(c.max_abs_loss)} | "
                     f"{_figure(c.max_abs_grad)} | {c.detail.replace('|', '/')} |")
    if report.bad_input:
        lines += ["", "## Malformed input (each probe in its own process)", "",
                  "| defect | outcome | detail |", "|---|---|---|"]
        lines += [f"| {r['defect']} | {r['outcome']} | {r['detail'].replace('|', '/')} |"
                  for r in report.bad_input]
    for c in report.checks:
        if c.example is not None:
            example = {k: v for k, v in c.example.items() if k != "replay"}
            lines += ["", f"## Shrunk failing example: {c.name}", "", "```json",
                      json.dumps(example), "```"]
            if "replay" in c.example:
                lines += ["", "The same call as the callable received it (its blank, "
                          "dtypes and inputs), to run as it stands:", "", "```python",
                          c.example["replay"], "```"]
    return "\n".join(lines) + "\n"


def report_json(report: ConformanceReport) -> dict:
    return {"kind": report.kind, "target": report.target, "convention": report.convention,
            "passed": report.passed, "checks": [asdict(c) for c in report.checks],
            "bad_input": report.bad_input}


def write_conformance_report(report: ConformanceReport, folder: Path, force: bool = False):
    """conformance.json and conformance.md in `folder`; FileExistsError before writing
    either if one exists and `force` is not set."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    texts = {"conformance.json": json_text(report_json(report)),
             "conformance.md": render_markdown(report)}
    if not force:
        for name in texts:
            if (folder / name).exists():
                raise FileExistsError(f"{folder / name} exists; pass --force to overwrite it")
    for name, text in texts.items():
        with atomic_output(folder / name, force=True) as temporary:
            temporary.write_text(text)
