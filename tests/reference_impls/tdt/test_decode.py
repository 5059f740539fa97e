"""Greedy TDT decoding: durations move time, tokens of duration 0 stay on the frame within
the budget, blank of duration 0 moves one frame, and the budget never moves time further
than the durations did (NVIDIA-NeMo/Speech#16095, pinned against NeMo 3.0.0's loop)."""

import dataclasses

import numpy as np
import pytest

from reference_impls.models.canonical import CanonicalConfig, parameter_shapes, random_parameters
from reference_impls.rnnt.beam import beam_search
from reference_impls.rnnt.decode import greedy_decode
from reference_impls.tdt.decode import (
    TDTHypothesis,
    tdt_greedy_decode,
    tdt_greedy_decode_batch,
)
from tests.reference_impls.tdt.nemo_3_0_greedy import nemo_3_0_greedy_tdt

DURATIONS = (0, 1, 2)
CONFIG = CanonicalConfig(input_features=2, encoder_hidden=2, pre_layers=0, post_layers=0,
                         time_stack=1, prediction_hidden=3, prediction_layers=1,
                         joint_hidden=2, vocab_size=3, blank=2, durations=DURATIONS)
"""Tokens 0 and 1, blank 2; durations 0, 1, 2; the joint reads the encodings directly."""
BLANK = CONFIG.blank


def joint_preferring(*preferences):
    """Parameters whose joint ignores the prediction network and, at a frame whose encoding
    is the one-hot e_k, predicts preferences[k] = (token, duration)."""
    params = {name: np.zeros(shape) for name, shape in parameter_shapes(CONFIG).items()}
    params["prediction.embedding.weight"] = np.ones((CONFIG.vocab_size, 3))
    params["joint.encoder.weight"] = np.eye(2)
    for column, (token, duration) in enumerate(preferences):
        params["joint.output.weight"][token, column] = 5.0
        params["joint.output.weight"][CONFIG.vocab_size + DURATIONS.index(duration), column] = 5.0
    return params


def frames_of(kinds):
    """Encodings (T, 2): frame t is e_kinds[t]."""
    return np.eye(2)[list(kinds)]


@pytest.mark.parametrize("budget", [None, 1, 2, 5])
def test_a_token_moves_time_by_its_duration_whatever_the_budget(budget):
    params = joint_preferring((1, 2), (1, 2))
    found = tdt_greedy_decode(params, CONFIG, frames_of([0] * 7), 7, budget)
    assert found == TDTHypothesis((1, 1, 1, 1), (0, 2, 4, 6), (2, 2, 2, 2))


def test_nemo_3_0s_spent_budget_moves_one_frame_more_than_the_duration():
    """#16095: with a budget of 1 every step spends it, and NeMo 3.0.0 moved d + 1 frames:
    frames 0, 3, 6 instead of 0, 2, 4, 6. The oracle must not reproduce it."""
    params = joint_preferring((1, 2), (1, 2))
    buggy = nemo_3_0_greedy_tdt(params, CONFIG, frames_of([0] * 7), 7, 1)
    assert buggy.frames == (0, 3, 6)
    assert tdt_greedy_decode(params, CONFIG, frames_of([0] * 7), 7, 1) != buggy


def test_a_blank_moves_time_by_its_duration_skipping_frames():
    """Frame 0 predicts blank for 2 frames, so frame 1's token is never read."""
    params = joint_preferring((BLANK, 2), (1, 1))
    found = tdt_greedy_decode(params, CONFIG, frames_of([0, 1, 1, 0, 0]), 5, 3)
    assert found == TDTHypothesis((1,), (2,), (1,))


@pytest.mark.parametrize("budget", [1, 2, 3])
def test_tokens_of_duration_zero_stay_on_the_frame_until_the_budget_is_spent(budget):
    params = joint_preferring((0, 0), (0, 0))
    found = tdt_greedy_decode(params, CONFIG, frames_of([0] * 3), 3, budget)
    assert found.frames == tuple(t for t in range(3) for _ in range(budget))
    assert found.durations == (0,) * (3 * budget)


def test_a_blank_of_duration_zero_moves_one_frame_even_with_no_budget():
    """It leaves the prediction state as it was: staying would repeat it forever (NeMo's
    GreedyTDTInfer with max_symbols_per_step=None does)."""
    params = joint_preferring((BLANK, 0), (1, 1))
    found = tdt_greedy_decode(params, CONFIG, frames_of([0, 0, 1]), 3, None)
    assert found == TDTHypothesis((1,), (2,), (1,))


def test_duration_zero_tokens_with_no_budget_raise_instead_of_looping_forever():
    params = joint_preferring((0, 0), (0, 0))
    with pytest.raises(RuntimeError, match="max_symbols_per_frame"):
        tdt_greedy_decode(params, CONFIG, frames_of([0]), 1, None)


def test_the_oracle_is_nemo_3_0s_loop_wherever_the_budget_is_never_spent():
    rng = np.random.default_rng(0)
    config = dataclasses.replace(CONFIG, joint_hidden=8, durations=(0, 1, 2, 3, 4))
    compared = 0
    for seed in range(20):
        params = random_parameters(config, seed=seed, scale=1.0)
        encodings = rng.standard_normal((12, 2)) * 3
        found = tdt_greedy_decode(params, config, encodings, 12, 100)
        assert found == nemo_3_0_greedy_tdt(params, config, encodings, 12, 100)
        compared += len(found.tokens)
    assert compared > 20


def test_a_batch_decodes_each_utterance_to_its_length():
    params = joint_preferring((1, 1), (1, 1))
    found = tdt_greedy_decode_batch(params, CONFIG, np.stack([frames_of([0] * 4)] * 2),
                                    [4, 2], 1)
    assert [h.frames for h in found] == [(0, 1, 2, 3), (0, 1)]


def test_rnnt_and_tdt_decoders_refuse_each_others_joints():
    params = joint_preferring((1, 1), (1, 1))
    with pytest.raises(ValueError, match="TDT joint"):
        greedy_decode(params, CONFIG, frames_of([0]), 1)
    with pytest.raises(ValueError, match="TDT joint"):
        beam_search(params, CONFIG, frames_of([0]), 1, 2, 3)
    rnnt = dataclasses.replace(CONFIG, durations=())
    with pytest.raises(ValueError, match="RNN-T joint"):
        tdt_greedy_decode(params, rnnt, frames_of([0]), 1)


@pytest.mark.parametrize("durations", [(1, 1), (0,), (-1, 1), (1.0, 2), [0, 1]])
def test_a_config_refuses_durations_a_decoder_cannot_use(durations):
    with pytest.raises(ValueError, match="durations"):
        dataclasses.replace(CONFIG, durations=durations)
