"""Batched torch greedy TDT decoding against the NumPy oracle: random TDT joints with every
budget, and NeMo's own tiny TDT archive on the golden's encodings."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from reference_impls.models import CanonicalConfig, random_parameters
from reference_impls.tdt.decode import tdt_greedy_decode_batch
from rnnt_parity.codebases import build_with_weights
from rnnt_parity.mapping.tdt_joint import nemo_tdt_to_canonical
from rnnt_parity.models.greedy import greedy_decode
from rnnt_parity.models.tdt_greedy import tdt_greedy_decode
from rnnt_parity.port import inspect_checkpoint

ROOT = Path(__file__).resolve().parents[3]
CONFIG = CanonicalConfig(input_features=4, encoder_hidden=4, pre_layers=0, post_layers=0,
                         time_stack=1, prediction_hidden=5, prediction_layers=2,
                         joint_hidden=6, vocab_size=5, blank=4, durations=(0, 1, 2, 3, 4))


def torch_model(config, params):
    return build_with_weights("canonical", config, {k: torch.tensor(v) for k, v in
                                                    params.items()})


@settings(max_examples=50)
@given(seed=st.integers(0, 100), budget=st.sampled_from([1, 2, 3, 10]),
       zero_bias=st.floats(-2.0, 3.0))
def test_batched_torch_tdt_greedy_equals_the_oracle(seed, budget, zero_bias):
    """`zero_bias` on duration 0 makes tokens that stay on their frame, so budgets run out."""
    params = random_parameters(CONFIG, seed=seed, scale=1.5)
    params["joint.output.bias"][CONFIG.vocab_size] += zero_bias
    encodings = np.random.default_rng(seed).standard_normal((4, 10, 4)) * 2
    lengths = np.array([10, 6, 1, 0])
    expected = tdt_greedy_decode_batch(params, CONFIG, encodings, lengths, budget)
    assert tdt_greedy_decode(torch_model(CONFIG, params), torch.tensor(encodings),
                             torch.tensor(lengths), budget) == expected


@pytest.mark.parametrize("budget", [1, 10])
def test_nemos_tdt_archive_decodes_batched_as_the_oracle_decodes_it(budget):
    golden = json.loads((ROOT / "fixtures" / "goldens" / "tdt" / "nemo_tdt_greedy.json")
                        .read_text())
    inspection = inspect_checkpoint(ROOT / golden["provenance"]["checkpoint"])
    params, config = nemo_tdt_to_canonical(inspection.state, inspection.inferred.config)
    model = torch_model(config, params)
    for golden_set in golden["sets"]:
        encodings = np.asarray(golden_set["encodings"], dtype=np.float64).transpose(0, 2, 1)
        lengths = np.array(golden_set["lengths"])
        assert tdt_greedy_decode(model, torch.tensor(encodings), torch.tensor(lengths),
                                 budget) == tdt_greedy_decode_batch(params, config, encodings,
                                                                    lengths, budget)


def test_rnnt_and_tdt_torch_decoders_refuse_each_others_joints():
    params = random_parameters(CONFIG)
    encodings, lengths = torch.zeros(1, 2, 4, dtype=torch.float64), torch.tensor([2])
    with pytest.raises(ValueError, match="TDT joint"):
        greedy_decode(torch_model(CONFIG, params), encodings, lengths, 1)
    rnnt = dataclasses.replace(CONFIG, durations=())
    with pytest.raises(ValueError, match="RNN-T joint"):
        tdt_greedy_decode(torch_model(rnnt, random_parameters(rnnt)), encodings, lengths, 1)
