"""The bad-input table tells raising, returning, crashing and hanging apart, and one dead or
stuck probe costs only its own answer."""

import pytest

from rnnt_parity.conform.bad_input import CTC_DEFECTS, RNNT_DEFECTS, probe, probe_all
from tests.rnnt_parity.conform.known_bugs import CORRECT, RNNT

MUTANTS = "tests.rnnt_parity.conform.mutants"
TORCHAUDIO = "torchaudio.functional:rnnt_loss"
TORCHAUDIO_CONVENTION = {"blank": -1, "inputs": "logits", "length_dtypes": ["int32"]}


@pytest.mark.parametrize("defect, outcome", [
    ("lengths of the wrong batch size", "raises"),
    ("blank inside targets", "returns"),  # torchaudio 2.11 accepts it (catalogued bug)
])
def test_torchaudio_answers_are_recorded(defect, outcome):
    result = probe("rnnt", TORCHAUDIO, defect, TORCHAUDIO_CONVENTION)
    assert result["outcome"] == outcome and result["defect"] == defect


def test_a_process_that_dies_is_reported_as_a_crash_and_the_rest_still_answered():
    defects = ["label out of range", "lengths of the wrong batch size"]
    results = probe_all("rnnt", f"{MUTANTS}:aborts_on_out_of_range_labels", defects,
                        TORCHAUDIO_CONVENTION)
    assert [r["defect"] for r in results] == defects
    assert results[0]["outcome"] == "crashes" and "signal 6" in results[0]["detail"]
    assert results[1]["outcome"] == "raises"


def test_a_probe_that_never_answers_is_reported_as_a_hang_and_the_rest_still_answered():
    defects = ["NaN logits in the valid region", "lengths of the wrong batch size"]
    results = probe_all("rnnt", f"{MUTANTS}:hangs_on_nan", defects, TORCHAUDIO_CONVENTION,
                        timeout=10)
    assert [r["outcome"] for r in results] == ["hangs", "raises"]


def test_the_oracle_backed_losses_refuse_every_malformed_input():
    rnnt = probe_all("rnnt", CORRECT + "oracle_rnnt_loss", list(RNNT_DEFECTS),
                     TORCHAUDIO_CONVENTION)
    ctc = probe_all("ctc", CORRECT + "oracle_ctc_loss", list(CTC_DEFECTS),
                    {"blank": 0, "inputs": "log_probs", "length_dtypes": ["int64"],
                     "layout": "TBC"})
    assert {r["outcome"] for r in rnnt + ctc} == {"raises"}


@pytest.mark.parametrize("mutant, defect", [
    ("logit_length_0_returns_uninitialised", "logit length 0"),
    ("accepts_blank_inside_targets", "blank inside targets"),
    ("accepts_out_of_range_labels", "label out of range"),
])
def test_pitfall_a_malformed_input_accepted_is_recorded_as_returns(mutant, defect):
    assert probe("rnnt", RNNT + mutant, defect, TORCHAUDIO_CONVENTION)["outcome"] == "returns"
