"""The torch beam search against the NumPy oracle: same sequences, same scores, same order."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from reference_impls.models import CanonicalConfig, encoder_forward
from reference_impls.rnnt.beam import beam_search as oracle_beam_search
from rnnt_parity.models.beam import batched_beam_search, beam_search
from tests.rnnt_parity.models.test_greedy import model_and_params

CONFIG = CanonicalConfig(6, 8, 1, 1, 2, 5, 2, 7, 4, 3)
SCORE_RTOL = 1e-12
"""float64 model and oracle; only the log-add formula differs (log1p vs numpy.logaddexp)."""


def _encodings(params, seed: int, frames: int):
    features = np.random.default_rng(seed).standard_normal((1, frames, 6)) * 2
    f, lengths = encoder_forward(params, CONFIG, features, np.array([frames]))
    return f[0], int(lengths[0])


@given(seed=st.integers(0, 40), beam=st.one_of(st.none(), st.integers(1, 4)),
       blank_bias=st.floats(-1.0, 3.0), frames=st.integers(1, 5), max_length=st.integers(0, 4),
       stop_early=st.booleans())
def test_equals_the_oracle_sequence_for_sequence(seed, beam, blank_bias, frames, max_length,
                                                 stop_early):
    model, params = model_and_params(CONFIG, seed, blank_bias)
    f, length = _encodings(params, seed, frames)
    expected = oracle_beam_search(params, CONFIG, f, length, beam, max_length, stop_early)
    found = beam_search(model, torch.tensor(f), length, beam, max_length, stop_early)
    assert [y for y, _ in found] == [y for y, _ in expected]
    np.testing.assert_allclose([s for _, s in found], [s for _, s in expected],
                               rtol=SCORE_RTOL)


@given(seed=st.integers(0, 40), beam=st.one_of(st.none(), st.integers(1, 3)),
       lengths=st.lists(st.integers(1, 4), min_size=1, max_size=4),
       max_lengths=st.lists(st.integers(0, 3), min_size=4, max_size=4), stop_early=st.booleans())
def test_a_batch_equals_the_oracle_utterance_by_utterance(seed, beam, lengths, max_lengths,
                                                          stop_early):
    """Ragged lengths and per-utterance label caps: each utterance's result in the batch is
    the oracle's on that utterance alone (the shared prediction cache and the lockstep frame
    loop leak nothing between utterances)."""
    model, params = model_and_params(CONFIG, seed, 0.5)
    frames = max(lengths)
    features = np.random.default_rng(seed).standard_normal((len(lengths), 2 * frames, 6)) * 2
    f, _ = encoder_forward(params, CONFIG, features, np.full(len(lengths), 2 * frames))
    caps = max_lengths[:len(lengths)]
    found = batched_beam_search(model, torch.tensor(f), lengths, beam, caps, stop_early)
    for b, (length, cap) in enumerate(zip(lengths, caps, strict=True)):
        expected = oracle_beam_search(params, CONFIG, f[b], length, beam, cap, stop_early)
        assert [y for y, _ in found[b]] == [y for y, _ in expected], f"batch index {b}"
        np.testing.assert_allclose([s for _, s in found[b]], [s for _, s in expected],
                                   rtol=SCORE_RTOL)


def test_batch_entries_are_named_in_errors():
    model, params = model_and_params(CONFIG, 0, 0.0)
    f = torch.zeros(2, 3, CONFIG.encoder_output, dtype=torch.float64)
    with pytest.raises(ValueError, match="batch index 1"):
        batched_beam_search(model, f, [3, 4], 2, 3)
    with pytest.raises(ValueError, match="max_length has 1 entries for a batch of 2"):
        batched_beam_search(model, f, [3, 3], 2, [3])


def test_pitfall_merging_by_max_instead_of_log_add_is_caught(monkeypatch):
    """Keeping the best path of a merged sequence (Viterbi merging) scores it below its
    probability: the oracle comparison above catches that mutant."""
    from rnnt_parity.models import beam as beam_module

    def max_merge(table, key, value):
        table[key] = max(table.get(key, -np.inf), value)

    model, params = model_and_params(CONFIG, 5, 0.0)
    f, length = _encodings(params, 5, 4)
    expected = dict(oracle_beam_search(params, CONFIG, f, length, None, 3))
    monkeypatch.setattr(beam_module, "_logadd", max_merge)
    mutant = dict(beam_search(model, torch.tensor(f), length, None, 3))
    assert any(not np.isclose(mutant[y], expected[y], rtol=SCORE_RTOL) for y in expected)


def test_stopping_early_visits_fewer_layers_and_keeps_the_best_here(monkeypatch):
    from rnnt_parity.models import beam as beam_module

    model, params = model_and_params(CONFIG, 7, 1.0)
    f, length = _encodings(params, 7, 5)
    calls = []
    original = beam_module._Predictions.outputs

    def counting(self, sequences):
        calls.append(len(sequences))
        return original(self, sequences)

    monkeypatch.setattr(beam_module._Predictions, "outputs", counting)
    full = beam_search(model, torch.tensor(f), length, 2, 12)
    layers_full = len(calls)
    calls.clear()
    early = beam_search(model, torch.tensor(f), length, 2, 12, stop_early=True)
    assert len(calls) < layers_full
    assert early[0][0] == full[0][0]


@pytest.mark.parametrize("argument, value", [("beam", 0), ("length", 0), ("max_length", -1)])
def test_bad_arguments_are_refused_by_name(argument, value):
    model, params = model_and_params(CONFIG, 0, 0.0)
    f, length = _encodings(params, 0, 3)
    kwargs = {"beam": 2, "length": length, "max_length": 3, argument: value}
    with pytest.raises(ValueError, match=argument):
        beam_search(model, torch.tensor(f), **kwargs)
