"""The Myrtle v1.3 family: key names and shapes exactly as the real code's, and its forward
pass through the myrtle -> canonical map equal to the NumPy oracle."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch

from reference_impls.models import encoder_forward
from rnnt_parity.codebases.canonical.model import CanonicalRNNT
from rnnt_parity.codebases.myrtle.model import MYRTLE_CONFIGS, MyrtleRNNT
from rnnt_parity.compare.models import compare_canonical_to_oracle
from rnnt_parity.mapping import apply_map, load_map
from tests.rnnt_parity.models.helpers import (
    SMALL_HARD_MYRTLE,
    SMALL_MYRTLE,
    full_length_inputs,
    header_number,
    inputs,
    key_file_sections,
    port_to_canonical,
    randomise,
)


def reference_sections() -> dict[str, tuple[dict, int]]:
    """config name -> ({key: shape}, element count) of the nn.LSTM sections of
    myrtle_v1.3_keys.txt."""
    sections = {}
    for header, keys in key_file_sections("myrtle_v1.3_keys.txt"):
        name = re.match(r"### Myrtle v1\.3 (\S+)\.yaml n_classes=\d+ \(PyTorch LSTM\)", header)
        if name:
            sections[name.group(1)] = (keys, header_number(header, r"([\d,]+) elements"))
    return sections


@pytest.mark.parametrize("name", sorted(MYRTLE_CONFIGS))
def test_keys_and_shapes_are_exactly_the_real_codes(name):
    expected, elements = reference_sections()[name]
    state = MyrtleRNNT(MYRTLE_CONFIGS[name]).state_dict()
    assert list(state) == list(expected)
    assert {k: tuple(v.shape) for k, v in state.items()} == expected
    assert sum(v.numel() for v in state.values()) == elements


@pytest.mark.parametrize("name", sorted(MYRTLE_CONFIGS))
def test_custom_hard_lstm_has_the_same_keys(name):
    hard = dataclasses.replace(MYRTLE_CONFIGS[name], custom_lstm=True,
                               hard_activation_functions=True)
    plain = MyrtleRNNT(MYRTLE_CONFIGS[name]).state_dict()
    assert {k: v.shape for k, v in MyrtleRNNT(hard).state_dict().items()} == {
        k: v.shape for k, v in plain.items()}


def test_batch_norm_variant_has_70_tensors_and_49030663_elements():
    config = dataclasses.replace(MYRTLE_CONFIGS["testing-1023sp"], enc_batch_norm=True,
                                 pred_batch_norm=True)
    state = MyrtleRNNT(config).state_dict()
    assert len(state) == 70 and sum(v.numel() for v in state.values()) == 49_030_663
    assert "encoder.post_rnn.batch_norms.2.running_var" in state


def test_batch_norm_variant_has_no_canonical_counterpart():
    config = dataclasses.replace(SMALL_MYRTLE, enc_batch_norm=True)
    with pytest.raises(ValueError, match="batch-norm variant has no canonical counterpart"):
        config.canonical()


def to_canonical(model: MyrtleRNNT) -> CanonicalRNNT:
    return port_to_canonical(model, "myrtle_rnnt")


@pytest.mark.parametrize("config", [SMALL_MYRTLE, SMALL_HARD_MYRTLE], ids=["lstm", "hard"])
def test_myrtle_forward_equals_the_oracle_through_the_map(config):
    """Myrtle's weights, mapped to canonical, match the NumPy oracle stage by stage; and
    Myrtle's own forward pass gives the canonical model's logits (equal lengths)."""
    model = randomise(MyrtleRNNT(config).double())
    canonical = to_canonical(model)
    features, lengths, labels = full_length_inputs(config.canonical())
    report = compare_canonical_to_oracle(canonical, config.canonical(), features, lengths,
                                         labels)
    assert report.first_divergence is None, report.comparisons
    with torch.no_grad():
        logits, out_lengths = model(torch.tensor(features).transpose(0, 1),
                                    torch.tensor(lengths), torch.tensor(labels))
        expected, expected_lengths = canonical(torch.tensor(features), torch.tensor(lengths),
                                               torch.tensor(labels))
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-12)
    assert torch.equal(out_lengths, expected_lengths)


def test_round_trip_through_canonical_is_exact():
    model = randomise(MyrtleRNNT(SMALL_MYRTLE))
    back = apply_map(load_map("canonical_to_myrtle_rnnt"), to_canonical(model).state_dict(),
                     {k: tuple(v.shape) for k, v in model.state_dict().items()})
    for key, value in model.state_dict().items():
        assert torch.equal(back[key], value), key


def test_stack_time_reads_the_padded_batch_unlike_the_canonical_model():
    """Myrtle's StackTime shifts over the padded batch: a padded odd-length utterance's last
    stacked frame holds the LSTM's output on a padding frame. The canonical model (and the
    oracle) zero it, so batches with padding differ at exactly that frame."""
    model = randomise(MyrtleRNNT(SMALL_MYRTLE).double())
    config = SMALL_MYRTLE.canonical()
    features, _, labels = inputs(config, batch=2, frames=8)
    lengths = np.array([8, 5])
    with torch.no_grad():
        f, _ = model.encode(torch.tensor(features).transpose(0, 1), torch.tensor(lengths))
    params = {k: v.double().numpy() for k, v in to_canonical(model).state_dict().items()}
    expected, _ = encoder_forward(params, config, features, lengths)
    np.testing.assert_allclose(f[1, :2].numpy(), expected[1, :2], atol=1e-12)
    assert not np.allclose(f[1, 2].numpy(), expected[1, 2])
