"""Tolerance policy and array comparison."""

from rnnt_parity.compare.arrays import Comparison, compare, ctc_magnitudes, rnnt_magnitudes
from rnnt_parity.compare.tolerances import TOLERANCES, Tolerance, tolerance_for, tolerance_named

__all__ = ["Comparison", "compare", "ctc_magnitudes", "rnnt_magnitudes", "TOLERANCES", "Tolerance",
           "tolerance_for", "tolerance_named"]
