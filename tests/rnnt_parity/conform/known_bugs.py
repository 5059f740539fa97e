"""The catalogue's mutants, importable from the tests (fixtures/known_bugs is imported as
the package `known_bugs`, as `rnnt-parity conform --catalogue` imports it)."""

from rnnt_parity.conform.catalogue import CATALOGUE, make_importable

FOLDER = str(CATALOGUE.parent.parent)
make_importable(FOLDER)  # the bad-input probes import targets in new processes too

RNNT = "known_bugs.rnnt_losses:"
CTC = "known_bugs.ctc_losses:"
DECODERS = "known_bugs.decoders:"
MODELS = "known_bugs.models:"
FRONT_ENDS = "known_bugs.front_ends:"
CORRECT = "known_bugs.correct:"
