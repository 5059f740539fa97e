"""Tolerance policy and array comparison."""

from rnnt_parity.compare.arrays import Comparison, compare
from rnnt_parity.compare.tolerances import TOLERANCES, Tolerance, tolerance_for, tolerance_named

__all__ = ["Comparison", "compare", "TOLERANCES", "Tolerance", "tolerance_for", "tolerance_named"]
