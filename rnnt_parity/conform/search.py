"""The hypothesis search every conformance kind runs: draw cases, compare each with the
oracle, keep hypothesis's shrunk failing example (the last one it runs) for the report."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings

from rnnt_parity.conform.report import CheckOutcome, raised
from rnnt_parity.strategies import HYPOTHESIS_PROFILES


def describe_case(case) -> dict:
    """A drawn case (a dict, or a dataclass such as `RNNTCase`) with its arrays as lists,
    JSON-able."""
    fields = case if isinstance(case, dict) else vars(case)
    return {k: v.tolist() if hasattr(v, "tolist") else v for k, v in fields.items()}


def check_profile(profile: str) -> None:
    if profile not in HYPOTHESIS_PROFILES:
        raise ValueError(f"profile must be one of {sorted(HYPOTHESIS_PROFILES)}, got {profile!r}")


def search(name: str, strategy, compare_case: Callable, describe_case: Callable,
           profile: str = "ci") -> CheckOutcome:
    """Run `compare_case(case) -> CheckOutcome` on cases drawn from `strategy` under the
    hypothesis `profile`; the first failure is shrunk and reported with
    `describe_case(case)` (a JSON-able dict) as its example."""
    check_profile(profile)
    last: dict = {}

    @settings(database=None, suppress_health_check=list(HealthCheck),
              **HYPOTHESIS_PROFILES[profile])
    @given(case=strategy)
    def agrees(case):
        last["example"] = describe_case(case)
        outcome = compare_case(case)
        last["outcome"] = outcome
        assert outcome.passed

    try:
        agrees()
    except AssertionError:
        outcome = last["outcome"]
        outcome.name, outcome.example = name, last["example"]
        return outcome
    except Exception as error:  # the implementation under test may raise anything
        return raised(name, error, last.get("example"))
    return CheckOutcome(name, True, detail="every example agreed")
