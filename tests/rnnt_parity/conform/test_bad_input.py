"""The bad-input table tells raising, returning, crashing and hanging apart, per process."""

import pytest

from rnnt_parity.conform.bad_input import probe

MUTANTS = "tests.rnnt_parity.conform.mutants"
TORCHAUDIO = "torchaudio.functional:rnnt_loss"


@pytest.mark.parametrize("defect, outcome", [
    ("lengths of the wrong batch size", "raises"),
    ("blank inside targets", "returns"),  # torchaudio 2.11 accepts it (catalogued bug)
])
def test_torchaudio_answers_are_recorded(defect, outcome):
    result = probe(TORCHAUDIO, defect, -1, "logits", "int32")
    assert result["outcome"] == outcome and result["defect"] == defect


def test_a_process_that_dies_is_reported_as_a_crash_not_an_error_here():
    result = probe(f"{MUTANTS}:aborts_on_out_of_range_labels", "label out of range", -1,
                   "logits", "int32")
    assert result["outcome"] == "crashes" and "signal 6" in result["detail"]


def test_a_probe_that_never_answers_is_reported_as_a_hang():
    result = probe(f"{MUTANTS}:hangs_on_nan", "NaN logits in the valid region", -1, "logits",
                   "int32", timeout=20)
    assert result["outcome"] == "hangs"


