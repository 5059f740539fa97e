"""Helpers shared by the tests: assertions under the central tolerances."""

from __future__ import annotations

import pytest

from rnnt_parity.compare import compare, tolerance_for


def assert_within(actual, expected, tolerance, magnitudes=None, what="", batch_axis=0):
    """Fail with the worst element if `actual` is not within `tolerance` of `expected`."""
    assert_comparisons_pass([compare(actual, expected, tolerance, magnitudes, batch_axis)],
                            what=(what,))


def spec_vs_numba():
    return tolerance_for("float64", "any", "rnnt.oracle_spec_vs_numba")


def assert_comparisons_pass(comparisons, what=("loss", "grad")):
    """Fail on the first comparison over its tolerance, naming the quantity and worst element."""
    for name, result in zip(what, comparisons, strict=False):
        assert result.passed, (
            f"{name}: max abs err {result.max_abs:.3e} at {result.worst_index} exceeds "
            f"{result.tolerance.name} ({result.tolerance.describe()}; {result.tolerance.reason})")


def assert_rejected_with_a_named_error(loss_fn, call, **options):
    """`loss_fn(**call.kwargs)` raises `call.error` whose message names `call.names`."""
    with pytest.raises(call.error) as raised:
        loss_fn(**call.kwargs, **options)
    assert call.names in str(raised.value), (call.defect, str(raised.value))
