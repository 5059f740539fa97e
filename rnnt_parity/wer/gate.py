"""`--fail-on` thresholds for CI gating, in the style of pytest-benchmark's compare-fail.

    abs:0.5%    fail when WER_B - WER_A exceeds 0.5 percentage points
    rel:5%      fail when (WER_B - WER_A) / WER_A exceeds 5% (WER_A = 0: any rise fails)
    ci          fail when the whole 95% bootstrap interval lies above zero (a significant rise)
    identity:100%
                fail when fewer than 100% of the hypotheses are identical (ports)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RULE = re.compile(r"(abs|rel|identity):(\d+(?:\.\d+)?)%|ci")


@dataclass(frozen=True)
class Threshold:
    kind: str
    percent: float | None
    text: str


def parse_threshold(text: str) -> Threshold:
    match = _RULE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"--fail-on {text!r}: expected abs:X%, rel:X%, identity:X% or ci")
    if text.strip() == "ci":
        return Threshold("ci", None, "ci")
    return Threshold(match.group(1), float(match.group(2)), text.strip())


def failures(report: dict, thresholds: list[Threshold]) -> list[str]:
    """One line per threshold the report exceeds (empty: the gate passes)."""
    wer, out = report["wer"], []
    delta, base = wer["delta"], wer["a"]["wer"]
    for rule in thresholds:
        if rule.kind == "abs" and 100 * delta > rule.percent:
            out.append(f"{rule.text}: WER rose by {100 * delta:.3f} points")
        elif rule.kind == "rel" and delta > 0 and (base == 0 or 100 * delta / base > rule.percent):
            out.append(f"{rule.text}: WER rose by "
                       + ("an infinite share (WER_A = 0)" if base == 0
                          else f"{100 * delta / base:.2f}% of WER_A"))
        elif rule.kind == "ci" and report["bootstrap"]["delta_ci95"][0] > 0:
            low, high = report["bootstrap"]["delta_ci95"]
            out.append(f"ci: the 95% interval [{100 * low:.3f}, {100 * high:.3f}] points lies "
                       "above zero")
        elif rule.kind == "identity" and 100 * report["identity"]["rate"] < rule.percent:
            out.append(f"{rule.text}: {100 * report['identity']['rate']:.2f}% of hypotheses "
                       "are identical")
    return out
