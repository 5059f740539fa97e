"""`rnnt-parity conform --catalogue`: the conformance kit against every entry of the
known-bug catalogue (`fixtures/known_bugs/catalogue.json`), and the catch rate.

An entry is a mutant expected to be caught, a correct implementation expected to pass
clean, or a real library expected to deviate as documented: `deviations` names the
deviations (`rnnt_parity.backends.deviations`) its checks show, and it is "deviates as
documented" when the failed checks are exactly those (each named by the check that found it);
a failed check that is not one of them (a new, undocumented deviation), or a documented one
no check shows, FAILS it. `caught_by` says how a mutant is caught: "checks" (at least one
check fails) or "bad input: DEFECT" (that malformed input is not refused; the mutants of this
kind are built on the oracle-backed losses, which refuse every malformed input). A kit that refuses
to run an entry (ValueError: a convention with no oracle counterpart, say) has caught a
mutant and failed a correct implementation. A clean entry passes every check; its
malformed-input table is reported, not judged (torchaudio accepts inputs the catalogue's own
mutants are caught for accepting: that is where those bugs come from). Entries whose
`requires` module is not installed are skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rnnt_parity.backends.deviations import DEVIATIONS
from rnnt_parity.conform.report import ConformanceReport
from rnnt_parity.conform.run import KINDS, conform
from rnnt_parity.fixtures import DEFAULT_FIXTURE_ROOT

CATALOGUE = DEFAULT_FIXTURE_ROOT / "known_bugs" / "catalogue.json"
FIELDS = ("name", "kind", "target", "options", "source", "expect")
EXPECTATIONS = ("caught", "clean", "deviates")
DEVIATES = "deviates as documented"
PATH_OPTIONS = ("convention", "checkpoint", "model_input")


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    target: str
    options: dict
    source: str
    expect: str
    caught_by: str = "checks"
    breaks: str = ""
    requires: str | None = None
    deviations: tuple[str, ...] = ()


@dataclass
class Verdict:
    entry: Entry
    as_expected: bool
    outcome: str
    evidence: str
    seconds: float


@dataclass
class CatalogueRun:
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def all_as_expected(self) -> bool:
        return all(v.as_expected for v in self.verdicts if v.outcome != "skipped")


def load_catalogue(path: Path = CATALOGUE) -> list[Entry]:
    """The entries, with option paths resolved against the catalogue's folder; ValueError
    naming the entry and field when one is malformed."""
    data = json.loads(Path(path).read_text())
    entries = []
    for index, raw in enumerate(data["entries"]):
        missing = [f for f in FIELDS if f not in raw]
        if missing:
            raise ValueError(f"{path}: entry {index} lacks {missing}")
        if raw["kind"] not in KINDS or raw["expect"] not in EXPECTATIONS:
            raise ValueError(f"{path}: entry {index} ({raw['name']}): kind must be one of "
                             f"{KINDS} and expect 'caught', 'clean' or 'deviates'")
        unknown = [d for d in raw.get("deviations", []) if d not in DEVIATIONS]
        if unknown or (raw["expect"] == "deviates") != bool(raw.get("deviations")):
            raise ValueError(f"{path}: entry {index} ({raw['name']}): an entry that deviates "
                             f"names its deviations, among {sorted(DEVIATIONS)}"
                             + (f"; unknown: {unknown}" if unknown else ""))
        options = dict(raw["options"])
        for key in PATH_OPTIONS:
            candidate = Path(path).parent / str(options.get(key, ""))
            if key in options and candidate.is_file():
                options[key] = candidate.resolve()
        try:
            entries.append(Entry(**{**raw, "options": options,
                                    "deviations": tuple(raw.get("deviations", []))}))
        except TypeError as error:  # a field Entry does not have
            raise ValueError(f"{path}: entry {index} ({raw['name']}): {error}") from error
    return entries


def make_importable(folder: str) -> None:
    """Put `folder` on this process's import path and on PYTHONPATH (for the probe
    processes), once."""
    if folder not in sys.path:
        sys.path.insert(0, folder)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if folder not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([folder, *paths])


def judge(entry: Entry, report: ConformanceReport) -> tuple[bool, str, str]:
    """(as expected, outcome, evidence) of one kit run."""
    failed = [f"{c.name}: {c.detail}" for c in report.checks if not c.passed]
    if entry.expect == "deviates":
        return judge_deviations(entry, report)
    if entry.expect == "clean":
        evidence = "; ".join(failed) if failed else f"{len(report.checks)} checks pass"
        if report.bad_input:
            refused = sum(r["outcome"] == "raises" for r in report.bad_input)
            evidence += f"; refuses {refused} of {len(report.bad_input)} malformed inputs"
        return not failed, "clean" if not failed else "FAILS", evidence
    if entry.caught_by.startswith("bad input: "):
        defect = entry.caught_by.removeprefix("bad input: ")
        row = next((r for r in report.bad_input if r["defect"] == defect), None)
        caught = row is not None and row["outcome"] != "raises"
        evidence = f"{defect}: {row['outcome'] if row else 'not probed'}"
        return caught, "caught" if caught else "MISSED", evidence
    return bool(failed), "caught" if failed else "MISSED", "; ".join(failed)[:300]


def judge_deviations(entry: Entry, report: ConformanceReport) -> tuple[bool, str, str]:
    """A real library: its failed checks are exactly its documented deviations."""
    failed = [c for c in report.checks if not c.passed]
    undocumented = [f"{c.name}: {c.detail}" for c in failed
                    if c.deviation not in entry.deviations]
    shown = {c.deviation for c in failed}
    missing = [d for d in entry.deviations if d not in shown]
    refused = sum(r["outcome"] == "raises" for r in report.bad_input)
    problems = ([f"undocumented: {u}" for u in undocumented]
                + [f"documented deviation not seen: {m}" for m in missing])
    if problems:
        return False, "FAILS", "; ".join(problems)[:400]
    return True, DEVIATES, (f"{'; '.join(entry.deviations)}; "
                            f"{len(report.checks) - len(failed)} other checks pass; refuses "
                            f"{refused} of {len(report.bad_input)} malformed inputs")


def run_catalogue(only: list[str] | None = None, path: Path = CATALOGUE, out=print,
                  profile: str = "ci", tables: bool = True) -> CatalogueRun:
    """Run the kit on each entry (all, or those named in `only`) under the hypothesis
    `profile` and print the table. `tables=False` probes malformed inputs only for the
    entries caught by one (no other verdict reads the table; the evidence then omits how
    many malformed inputs a clean or real library refuses)."""
    entries = load_catalogue(path)
    if only:
        unknown = sorted(set(only) - {e.name for e in entries})
        if unknown:
            raise ValueError(f"no catalogue entries named {unknown}")
        entries = [e for e in entries if e.name in only]
    make_importable(str(Path(path).parent.parent))  # known_bugs is a package there
    run = CatalogueRun()
    for entry in entries:
        start = time.perf_counter()
        if entry.requires and importlib.util.find_spec(entry.requires) is None:
            run.verdicts.append(Verdict(entry, True, "skipped",
                                        f"{entry.requires} is not installed", 0.0))
        else:
            try:
                probe = tables or entry.caught_by.startswith("bad input: ")
                judged = judge(entry, conform(entry.kind, entry.target, profile=profile,
                                              bad_input=probe, **entry.options))
            except ValueError as error:  # the kit refused to run it (e.g. an odd reduction)
                refused = entry.expect == "caught"
                judged = (refused, "caught" if refused else "FAILS", f"the kit refused it: "
                                                                     f"{error}")
            run.verdicts.append(Verdict(entry, *judged, time.perf_counter() - start))
        verdict = run.verdicts[-1]
        out(f"{verdict.outcome:<8} {entry.kind:<12} {entry.name} ({entry.source}) "
            f"[{verdict.seconds:.1f} s]: {verdict.evidence}")
    mutants = [v for v in run.verdicts if v.entry.expect == "caught"]
    correct = [v for v in run.verdicts if v.entry.expect == "clean" and v.outcome != "skipped"]
    real = [v for v in run.verdicts if v.entry.expect == "deviates" and v.outcome != "skipped"]
    skipped = [v for v in run.verdicts if v.outcome == "skipped"]
    out(f"caught {sum(v.as_expected for v in mutants)} of {len(mutants)} catalogued bugs"
        + "".join(f"; MISSED {v.entry.name}" for v in mutants if not v.as_expected))
    out(f"clean {sum(v.as_expected for v in correct)} of {len(correct)} correct "
        "implementations" + "".join(f"; FAILS {v.entry.name}" for v in correct
                                    if not v.as_expected)
        + "".join(f"; skipped {v.entry.name} ({v.evidence})" for v in skipped
                  if v.entry.expect == "clean"))
    out(f"{DEVIATES} {sum(v.as_expected for v in real)} of {len(real)} real libraries"
        + "".join(f"; FAILS {v.entry.name}" for v in real if not v.as_expected)
        + "".join(f"; skipped {v.entry.name} ({v.evidence})" for v in skipped
                  if v.entry.expect == "deviates"))
    out(f"total {sum(v.seconds for v in run.verdicts):.0f} s")
    return run
