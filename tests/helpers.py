"""Helpers shared by the tests: assertions under the central tolerances."""

from __future__ import annotations

import pytest

from rnnt_parity.compare import compare, tolerance_for


def assert_within(actual, expected, tolerance, magnitudes=None, what="", batch_axis=0):
    """Fail with the worst element if `actual` is not within `tolerance` of `expected`."""
    result = compare(actual, expected, tolerance, magnitudes, batch_axis)
    assert result.passed, (
        f"{what}: max abs err {result.max_abs:.3e} at {result.worst_index} exceeds "
        f"{tolerance.name} ({tolerance.describe()}; {tolerance.reason})")


def spec_vs_numba():
    return tolerance_for("float64", "any", "rnnt.oracle_spec_vs_numba")


def assert_rejected_with_a_named_error(loss_fn, call, **options):
    """`loss_fn(**call.kwargs)` raises `call.error` whose message names `call.names`."""
    with pytest.raises(call.error) as raised:
        loss_fn(**call.kwargs, **options)
    assert call.names in str(raised.value), (call.defect, str(raised.value))
