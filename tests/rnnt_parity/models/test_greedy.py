"""Batched torch greedy decoding against the NumPy oracle, and decoder settings as a
pitfall the comparison harness names."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from reference_impls.models import CanonicalConfig, encoder_forward, random_parameters
from reference_impls.rnnt.decode import greedy_decode_batch
from rnnt_parity.codebases.canonical.model import CanonicalRNNT
from rnnt_parity.codebases.myrtle.model import MyrtleRNNT
from rnnt_parity.compare.models import compare_models
from rnnt_parity.models.greedy import as_canonical, greedy_decode
from tests.rnnt_parity.models.helpers import SMALL_MYRTLE, full_length_inputs, randomise


def model_and_params(config: CanonicalConfig, seed: int, blank_bias: float):
    params = random_parameters(config, seed=seed, scale=2.0)
    params["joint.output.bias"][config.blank] += blank_bias
    model = CanonicalRNNT(config).double().eval()
    model.load_state_dict({k: torch.tensor(v) for k, v in params.items()})
    return model, params


@given(seed=st.integers(0, 50), budget=st.integers(1, 4), blank_bias=st.floats(-1.0, 4.0),
       hard=st.booleans())
def test_batched_torch_greedy_equals_the_oracle_token_for_token(seed, budget, blank_bias,
                                                                 hard):
    config = CanonicalConfig(6, 8, 1, 1, 2, 5, 2, 7, 5, 4, lstm_gates="hard" if hard else
                             "sigmoid", lstm_cell="hard" if hard else "tanh")
    model, params = model_and_params(config, seed, blank_bias)
    features = np.random.default_rng(seed).standard_normal((3, 12, 6)) * 2
    lengths = np.array([12, 7, 3])
    f, f_lengths = encoder_forward(params, config, features, lengths)
    expected = greedy_decode_batch(params, config, f, f_lengths, budget)
    assert greedy_decode(model, torch.tensor(f), torch.tensor(f_lengths), budget) == expected


def test_batched_equals_one_at_a_time_and_padding_never_emits(device):
    config = CanonicalConfig(6, 8, 1, 1, 2, 5, 1, 7, 5, 4)
    model, params = model_and_params(config, 2, 0.0)
    model = model.to(device)
    f, lengths = encoder_forward(params, config,
                                 np.random.default_rng(0).standard_normal((3, 12, 6)) * 2,
                                 np.array([12, 7, 3]))
    padded = torch.tensor(f, device=device)
    padded[1, 4:] = float("nan")
    padded[2, 2:] = float("nan")
    batched = greedy_decode(model, padded, torch.tensor(lengths, device=device), 2)
    alone = [greedy_decode(model, torch.tensor(f[b:b + 1, :n], device=device),
                           torch.tensor([n], device=device), 2)[0]
             for b, n in enumerate(lengths)]
    assert batched == alone


def test_a_family_decodes_through_its_port():
    model = randomise(MyrtleRNNT(SMALL_MYRTLE).double())
    assert isinstance(as_canonical(model), CanonicalRNNT)


def test_decoding_with_a_different_max_symbols_per_frame_is_caught_at_greedy():
    """Myrtle's decoder allows 30 symbols per frame, NeMo's 10: the same weights decode
    differently when a frame wants more than the smaller budget."""
    config = CanonicalConfig(6, 8, 1, 1, 2, 5, 1, 7, 5, 4)
    model, _ = model_and_params(config, 2, 0.0)
    features = np.random.default_rng(0).standard_normal((2, 12, 6)) * 2
    lengths, labels = np.array([12, 12]), np.zeros((2, 2), dtype=int)
    same = compare_models(model, model, features, lengths, labels, 4, 4, greedy=(2, 2))
    assert same.first_divergence is None, same.describe()
    different = compare_models(model, model, features, lengths, labels, 4, 4, greedy=(2, 1))
    assert different.first_divergence == "greedy", different.describe()


def test_a_correct_port_decodes_identically():
    model = randomise(MyrtleRNNT(SMALL_MYRTLE).double())
    canonical = as_canonical(model)
    config = SMALL_MYRTLE.canonical()
    report = compare_models(model, canonical, *full_length_inputs(config), config.blank,
                            config.blank, greedy=(30, 30))
    assert report.first_divergence is None, report.describe()
