"""The greedy TDT oracle against NeMo's own two greedy TDT decoders, run by NeMo 3.0.0 on the
tiny TDT archive NeMo wrote (goldens: fixtures/goldens/tdt/nemo_tdt_greedy.json, made by
scripts/goldens/nemo_tdt_greedy.py, and the greedy stages of the archive's forward golden,
fixtures/goldens/forward/nemo-tdt_char_tiny; the archive's heads read and mapped by this
project).

The oracle equals the label-looping `GreedyBatchedTDTInfer` decoding each utterance alone,
at every budget. NeMo 3.0.0 has two known bugs, and the goldens show both:
* batched, its token durations depend on the other utterances of the batch
  (NVIDIA-NeMo/Speech#16097): its tokens and frames are still the oracle's;
* its per-utterance `GreedyTDTInfer` moves one more frame when the budget is spent
  (NVIDIA-NeMo/Speech#16095): it is NeMo 3.0.0's loop (tests/reference_impls/tdt/
  nemo_3_0_greedy.py) exactly, and differs from the oracle there."""

import json
from pathlib import Path

import numpy as np
import pytest

from reference_impls.tdt.decode import TDTHypothesis, tdt_greedy_decode
from rnnt_parity.mapping.tdt_joint import nemo_tdt_to_canonical
from rnnt_parity.port import inspect_checkpoint
from tests.reference_impls.tdt.nemo_3_0_greedy import nemo_3_0_greedy_tdt

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = json.loads((ROOT / "fixtures" / "goldens" / "tdt" / "nemo_tdt_greedy.json").read_text())
FORWARD = ROOT / "fixtures" / "goldens" / "forward" / "nemo-tdt_char_tiny"
FORWARD_DECODERS = {"greedy_tdt": nemo_3_0_greedy_tdt, "greedy_batch_tdt": tdt_greedy_decode}
"""The forward golden's decoding stages (GreedyTDTInfer, GreedyBatchedTDTInfer on a batch
of two, budgets 1 and 10, float64) -> what reproduces them (the batched stage's tokens and
frames: its durations carry #16097)."""


@pytest.fixture(scope="module")
def tdt_model():
    inspection = inspect_checkpoint(ROOT / GOLDEN["provenance"]["checkpoint"])
    return nemo_tdt_to_canonical(inspection.state, inspection.inferred.config)


def decoded_by(decoder, tdt_model, golden_set, budget):
    params, config = tdt_model
    encodings = np.asarray(golden_set["encodings"], dtype=np.float64).transpose(0, 2, 1)
    return [decoder(params, config, encodings[b], length, budget)
            for b, length in enumerate(golden_set["lengths"])]


def nemo_hypotheses(golden_set, budget, name):
    return [TDTHypothesis(tuple(h["tokens"]), tuple(h["frames"]), tuple(h["durations"]))
            for h in golden_set["decoded"][str(budget)][name]]


def test_the_golden_is_nemos_tdt_archive_with_its_durations(tdt_model):
    assert GOLDEN["provenance"]["version"] == "3.0.0"
    assert tdt_model[1].durations == tuple(GOLDEN["durations"]) == (0, 1, 2, 3, 4)


def tokens_and_frames(hypotheses):
    return [(h.tokens, h.frames) for h in hypotheses]


@pytest.mark.parametrize("budget", GOLDEN["budgets"])
@pytest.mark.parametrize("index", range(len(GOLDEN["sets"])))
def test_the_oracle_is_nemos_label_looping_decoder_on_each_utterance_alone(tdt_model, index,
                                                                           budget):
    golden_set = GOLDEN["sets"][index]
    assert decoded_by(tdt_greedy_decode, tdt_model, golden_set, budget) == nemo_hypotheses(
        golden_set, budget, "GreedyBatchedTDTInfer alone")


@pytest.mark.parametrize("budget", GOLDEN["budgets"])
@pytest.mark.parametrize("index", range(len(GOLDEN["sets"])))
def test_the_batched_decoders_tokens_and_frames_are_the_oracles(tdt_model, index, budget):
    golden_set = GOLDEN["sets"][index]
    assert tokens_and_frames(decoded_by(tdt_greedy_decode, tdt_model, golden_set, budget)) == \
        tokens_and_frames(nemo_hypotheses(golden_set, budget, "GreedyBatchedTDTInfer"))


def test_the_batched_decoders_durations_depend_on_the_batch():
    """#16097: the durations NeMo 3.0.0's batched decoder records for an utterance change
    when other utterances share its batch (here in 22 of the 48 decodings: all budgets,
    both sets); alone, they are the oracle's (above)."""
    changed = sum(alone.durations != batched.durations
                  for golden_set in GOLDEN["sets"] for budget in GOLDEN["budgets"]
                  for alone, batched in zip(
                      nemo_hypotheses(golden_set, budget, "GreedyBatchedTDTInfer alone"),
                      nemo_hypotheses(golden_set, budget, "GreedyBatchedTDTInfer"), strict=True))
    assert changed == 22


@pytest.mark.parametrize("budget", GOLDEN["budgets"])
@pytest.mark.parametrize("index", range(len(GOLDEN["sets"])))
def test_nemo_3_0s_greedy_tdt_infer_is_its_loop_with_the_frame_skip(tdt_model, index, budget):
    golden_set = GOLDEN["sets"][index]
    assert decoded_by(nemo_3_0_greedy_tdt, tdt_model, golden_set, budget) == nemo_hypotheses(
        golden_set, budget, "GreedyTDTInfer")


def test_the_frame_skip_shows_in_the_golden_and_the_oracle_does_not_have_it(tdt_model):
    """Where NeMo 3.0.0's GreedyTDTInfer and its label-looping decoder (alone) disagree, a
    spent budget, the oracle sides with label looping: 10 of the 12 utterances at budget 1,
    1 at budget 2, none at 3 and 10."""
    counts = {}
    for budget in GOLDEN["budgets"]:
        disagreements = 0
        for golden_set in GOLDEN["sets"]:
            per_utterance = nemo_hypotheses(golden_set, budget, "GreedyTDTInfer")
            looping = nemo_hypotheses(golden_set, budget, "GreedyBatchedTDTInfer alone")
            oracle = decoded_by(tdt_greedy_decode, tdt_model, golden_set, budget)
            for mine, buggy, fixed in zip(oracle, per_utterance, looping, strict=True):
                if buggy != fixed:
                    disagreements += 1
                    assert mine == fixed != buggy
        counts[budget] = disagreements
    assert counts == {1: 10, 2: 1, 3: 0, 10: 0}


@pytest.mark.parametrize("budget", [1, 10])
@pytest.mark.parametrize("stage", sorted(FORWARD_DECODERS))
def test_the_forward_goldens_greedy_tdt_stages_are_reproduced(tdt_model, stage, budget):
    params, config = tdt_model
    inputs, outputs = np.load(FORWARD / "inputs.npz"), np.load(FORWARD / "outputs.npz")
    name = f"{stage}_max{budget}"
    for b, length in enumerate(inputs["encoder_lengths"]):
        count = int(outputs[f"{name}_lengths"][b])
        expected = TDTHypothesis(*(tuple(int(v) for v in outputs[key][b, :count]) for key in
                                   (name, f"{name}_timestamp", f"{name}_token_duration")))
        found = FORWARD_DECODERS[stage](params, config, inputs["encoder"][b], int(length),
                                        budget)
        if stage == "greedy_batch_tdt":
            found, expected = tokens_and_frames([found]), tokens_and_frames([expected])
        assert found == expected
