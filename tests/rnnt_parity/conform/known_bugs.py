"""The catalogue's mutants, importable from the tests (fixtures/known_bugs is imported as
the package `known_bugs`, as `rnnt-parity conform --catalogue` imports it)."""

import os
import sys

from rnnt_parity.conform.catalogue import CATALOGUE

FOLDER = str(CATALOGUE.parent.parent)
if FOLDER not in sys.path:
    sys.path.insert(0, FOLDER)
os.environ["PYTHONPATH"] = os.pathsep.join([FOLDER, *filter(None, [
    os.environ.get("PYTHONPATH")])])  # the bad-input probes import targets in new processes

RNNT = "known_bugs.rnnt_losses:"
CTC = "known_bugs.ctc_losses:"
DECODERS = "known_bugs.decoders:"
MODELS = "known_bugs.models:"
FRONT_ENDS = "known_bugs.front_ends:"
CORRECT = "known_bugs.correct:"
