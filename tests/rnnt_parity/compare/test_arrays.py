"""`compare`: which element a verdict names, and strict JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnt_parity.compare.arrays import compare
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.files import json_text

TOLERANCE = tolerance_for("float64", "any", "model.forward")


def test_a_failed_comparison_names_the_element_over_its_limit_not_the_largest_error():
    """Utterance 0 (peak 1e9) holds the largest error, within its scaled limit; utterance 1
    (peak 1) holds a smaller one, over its limit: that is the element reported."""
    expected = np.array([[1e9, 0.0], [1.0, 0.0]])
    actual = expected + np.array([[1e-4, 0.0], [1e-6, 0.0]])
    result = compare(actual, expected, TOLERANCE, np.abs(expected).max(axis=1))
    assert not result.passed and result.largest_index == (1, 0)
    assert (result.expected_there, result.limit_there) == (1.0, 1e-12)
    assert result.max_abs == np.float64(actual[0, 0] - expected[0, 0])


def test_a_passing_comparison_names_the_largest_error():
    expected = np.array([[2.0, 1.0]])
    actual = expected + np.array([[1e-14, 3e-14]])
    result = compare(actual, expected, TOLERANCE, [2.0])
    assert result.passed and result.largest_index == (0, 1)


def test_the_json_of_a_comparison_is_strict_even_with_nan():
    result = compare(np.array([np.nan, 1.0]), np.array([0.0, 1.0]), TOLERANCE, [1.0])
    record = json.loads(json_text(result.as_json()),
                        parse_constant=lambda c: pytest.fail(f"non-strict {c}"))
    assert not result.passed and record["max_abs"] is None and record["actual"] is None
    assert record["non_finite"] == {"max_abs": "inf", "max_rel": "inf", "of_peak": "inf",
                                    "actual": "nan"}
