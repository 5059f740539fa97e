"""`rnnt-parity conform rnnt-greedy` / `rnnt-beam`: the project's decoders conform, and each
catalogued decoding bug fails the check meant for it."""

import json

import numpy as np
import torch

from rnnt_parity.cli import main
from rnnt_parity.conform.decoders import (
    EMIT_BIAS,
    conform_rnnt_beam,
    conform_rnnt_greedy,
    kit_model,
)
from rnnt_parity.models.greedy import greedy_decode
from tests.rnnt_parity.conform.known_bugs import DECODERS


def test_the_project_greedy_decoder_conforms(tmp_path):
    assert main(["conform", "rnnt-greedy", "rnnt_parity.models.greedy:greedy_decode", "--out",
                 str(tmp_path)]) == 0
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["kind"] == "RNN-T greedy decoder" and len(report["checks"]) == 5


def test_the_project_beam_search_conforms():
    assert conform_rnnt_beam("rnnt_parity.models.beam:beam_search").passed


def test_the_kit_model_emits_on_every_frame_so_budgets_run_out():
    model, _, _ = kit_model(5, 0, seed=1, emit_bias=EMIT_BIAS)
    encodings = torch.tensor(np.random.default_rng(0).standard_normal((1, 6, 4)) * 2)
    hypotheses = greedy_decode(model, encodings, torch.tensor([6]), 2)
    assert len(hypotheses[0]) == 12  # 2 symbols on each of 6 frames


def _failed(report) -> list[str]:
    return [c.name for c in report.checks if not c.passed]


def test_pitfall_skipping_a_frame_after_a_spent_budget_is_caught():
    failed = _failed(conform_rnnt_greedy(DECODERS + "greedy_budget_skips_a_frame"))
    assert "a spent budget of 1 moves to the next frame, skipping none" in failed


def test_pitfall_padding_frames_that_emit_are_caught():
    failed = _failed(conform_rnnt_greedy(DECODERS + "greedy_padding_frames_emit"))
    assert "padding frames never emit (lengths 6, 1, 0)" in failed


def test_pitfall_merging_by_max_is_caught_by_the_exact_scores():
    report = conform_rnnt_beam(DECODERS + "beam_merges_by_max")
    assert _failed(report)[0].startswith("unpruned scores are the exact log P")
