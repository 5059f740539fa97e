"""The central tolerance table and the comparison it drives."""

from __future__ import annotations

import numpy as np
import pytest

from rnnt_parity.compare import TOLERANCES, compare, tolerance_for, tolerance_named


def test_every_tolerance_has_a_one_line_reason_and_a_unique_name():
    names = [t.name for t in TOLERANCES.values()]
    assert len(names) == len(set(names))
    for tolerance in TOLERANCES.values():
        assert tolerance.reason and "\n" not in tolerance.reason
        assert tolerance.rtol >= 0 and tolerance.atol >= 0


def test_lookup_falls_back_to_any_device_and_names_the_known_keys():
    assert tolerance_for("float64", "cuda", "rnnt.brute_force").name == "rnnt.brute_force"
    with pytest.raises(KeyError, match="known:"):
        tolerance_for("bfloat16", "cpu", "rnnt.loss")
    with pytest.raises(KeyError, match="no tolerance named"):
        tolerance_named("loose")


def test_loss_scaled_tolerance_grows_with_each_utterances_loss():
    tolerance = tolerance_for("float32", "cpu", "rnnt.grad")
    expected = np.zeros((2, 1, 1, 1))
    error = 10 * tolerance.atol
    actual = np.full_like(expected, error)
    assert not compare(actual, expected, tolerance, magnitudes=[1.0, 1.0]).passed
    assert compare(actual, expected, tolerance, magnitudes=[20.0, 20.0]).passed
    assert not compare(actual, expected, tolerance, magnitudes=[20.0, 1.0]).passed


def test_loss_scaled_tolerance_requires_the_losses():
    with pytest.raises(ValueError, match="pass magnitudes"):
        compare(np.zeros(2), np.zeros(2), tolerance_for("float32", "cpu", "rnnt.loss"))


def test_non_finite_values_match_only_themselves():
    tolerance = tolerance_named("exact_float64")
    losses = np.ones(3)
    assert compare([np.inf, np.nan, 1.0], [np.inf, np.nan, 1.0], tolerance, losses).passed
    assert not compare([np.inf, 1.0, 1.0], [np.inf, np.nan, 1.0], tolerance, losses).passed
    assert not compare([-np.inf, np.nan, 1.0], [np.inf, np.nan, 1.0], tolerance, losses).passed
    assert not compare([1.0, 2.0, 1.0], [1.0, 2.0, np.nan], tolerance, losses).passed


def test_comparison_reports_the_worst_element():
    result = compare([1.0, 2.0, 3.5], [1.0, 2.0, 3.0], tolerance_named("published_6_decimals"))
    assert result.worst_index == (2,) and result.max_abs == 0.5 and not result.passed


def test_shape_mismatch_is_an_error_not_a_broadcast():
    with pytest.raises(ValueError, match="shape mismatch"):
        compare(np.zeros((2, 1)), np.zeros(2), tolerance_named("published_6_decimals"))
