"""`rnnt-parity conform tdt-greedy`: the project's batched TDT decoder conforms, each
catalogued greedy TDT bug (NeMo 3.0.0's) fails the check meant for it, and hypotheses in
any of the accepted forms are read."""

import json

import pytest

from reference_impls.tdt import TDTHypothesis
from rnnt_parity.cli import main
from rnnt_parity.conform.tdt_decoders import as_hypothesis, conform_tdt_greedy
from tests.rnnt_parity.conform.known_bugs import DECODERS


def _failed(report) -> list[str]:
    return [c.name for c in report.checks if not c.passed]


def test_the_project_tdt_greedy_decoder_conforms(tmp_path):
    assert main(["conform", "tdt-greedy", "rnnt_parity.models.tdt_greedy:tdt_greedy_decode",
                 "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["kind"] == "TDT greedy decoder" and len(report["checks"]) == 8


def test_pitfall_nemo_3_0s_extra_frame_after_a_spent_budget_is_caught():
    failed = _failed(conform_tdt_greedy(DECODERS + "tdt_greedy_budget_skips_a_frame",
                                            "quick"))
    assert "a step that moved time by its duration and spent the budget moves no further " \
           "(NeMo 16095)" in failed
    assert "tokens of duration 0 spend a budget of 1, then time moves one frame" in failed


def test_pitfall_stale_durations_of_batched_decoding_are_caught():
    failed = _failed(conform_tdt_greedy(DECODERS + "tdt_greedy_stale_durations", "quick"))
    assert "each utterance of a batch decodes, durations included, as if alone " \
           "(NeMo 16097)" in failed


@pytest.mark.parametrize("found", [TDTHypothesis((1,), (0,), (2,)),
                                   {"tokens": [1], "frames": [0], "durations": [2]},
                                   ([1], [0], [2])])
def test_a_hypothesis_is_read_as_an_object_a_mapping_or_a_triple(found):
    assert as_hypothesis(found) == TDTHypothesis((1,), (0,), (2,))


def test_a_hypothesis_without_durations_is_refused_by_name():
    with pytest.raises(TypeError, match="tokens, frames and durations"):
        as_hypothesis(([1], [0]))
