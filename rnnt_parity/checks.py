"""The registered parity checks that `rnnt-parity check` runs on the built-in fixtures.

For every hand-worked fixture:
  * the oracle (Numba) against the hand derivation (loss, and gradient where derived);
  * the oracle's spec against its Numba kernels (float64);
  * every production backend, on every device here, against the oracle (loss and logits
    gradient, float32). A backend that cannot run here is reported as skipped, with why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from reference_impls.rnnt import rnnt_loss
from rnnt_parity.backends import RNNT_LOSS_BACKENDS, BackendUnavailable
from rnnt_parity.compare import Comparison, compare, rnnt_magnitudes, tolerance_for
from rnnt_parity.fixtures import RNNTFixture

PASS, FAIL, SKIP = "pass", "FAIL", "skip"


@dataclass(frozen=True)
class CheckResult:
    """One row of the report."""

    check: str
    implementations: str
    max_abs: float | None
    max_rel: float | None
    tolerance: str
    verdict: str
    detail: str = ""


def _result(check, implementations, comparisons: list[Comparison]) -> CheckResult:
    passed = all(c.passed for c in comparisons)
    worst = max(comparisons, key=lambda c: c.max_abs)
    return CheckResult(check, implementations, worst.max_abs, max(c.max_rel for c in comparisons),
                       worst.tolerance.describe(), PASS if passed else FAIL)


def oracle(fixture: RNNTFixture, implementation="numba", dtype=np.float64):
    return rnnt_loss(fixture.logits.astype(dtype), fixture.targets, fixture.logit_lengths,
                     fixture.target_lengths, blank=fixture.blank, reduction="none",
                     fastemit_lambda=fixture.fastemit_lambda, implementation=implementation)


def check_against_derivation(fixture: RNNTFixture) -> CheckResult:
    loss, grad = oracle(fixture)
    comparisons = [compare(loss, fixture.expected_loss, fixture.tolerance, fixture.expected_loss)]
    if fixture.expected_grad is not None:
        comparisons.append(compare(grad, fixture.expected_grad, fixture.tolerance,
                                   fixture.expected_loss))
    what = "loss+grad" if fixture.expected_grad is not None else "loss"
    return _result(f"{fixture.name} [{what}]", "oracle vs hand derivation", comparisons)


def check_spec_vs_numba(fixture: RNNTFixture) -> CheckResult:
    spec_loss, spec_grad = oracle(fixture, implementation="spec")
    fast_loss, fast_grad = oracle(fixture)
    tolerance = tolerance_for("float64", "any", "rnnt.oracle_spec_vs_numba")
    return _result(f"{fixture.name} [float64]", "oracle spec vs numba", [
        compare(fast_loss, spec_loss, tolerance, spec_loss),
        compare(fast_grad, spec_grad, tolerance, spec_loss)])


def check_backend(fixture: RNNTFixture, backend_name: str, device: str,
                  dtype: str = "float32") -> CheckResult:
    backend = RNNT_LOSS_BACKENDS[backend_name]
    check = f"{fixture.name} [{dtype}, {device}]"
    implementations = f"{backend_name} vs oracle"
    if fixture.fastemit_lambda:
        return CheckResult(check, implementations, None, None, "-", SKIP,
                           f"{backend_name} has no FastEmit")
    try:
        result = backend(fixture.logits, fixture.targets, fixture.logit_lengths,
                         fixture.target_lengths, blank=fixture.blank, reduction="none",
                         device=device, dtype=dtype)
    except BackendUnavailable as reason:
        return CheckResult(check, implementations, None, None, "-", SKIP, str(reason))
    rounded = fixture.logits.astype(dtype).astype(np.float64)
    expected_loss, expected_grad = rnnt_loss(
        rounded, fixture.targets, fixture.logit_lengths, fixture.target_lengths,
        blank=fixture.blank, reduction="none")
    magnitudes = rnnt_magnitudes(rounded, fixture.logit_lengths, fixture.target_lengths,
                                 expected_loss)
    comparisons = [compare(result.loss, expected_loss,
                           tolerance_for(dtype, device, "rnnt.loss"), magnitudes)]
    if fixture.loss_is_finite:
        comparisons.append(compare(result.grad, expected_grad,
                                   tolerance_for(dtype, device, "rnnt.grad"), magnitudes))
    return _result(check, implementations, comparisons)


def available_devices() -> list[str]:
    import torch

    return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def run_checks(fixtures: list[RNNTFixture], backends=None, devices=None) -> Iterator[CheckResult]:
    """Yield every registered check's result, fixture by fixture."""
    backends = list(RNNT_LOSS_BACKENDS) if backends is None else backends
    devices = available_devices() if devices is None else devices
    for fixture in fixtures:
        yield check_against_derivation(fixture)
        yield check_spec_vs_numba(fixture)
        for backend_name in backends:
            for device in devices:
                yield check_backend(fixture, backend_name, device)
