"""Known porting pitfalls, each planted in a correct port and caught at the right stage by
`compare_models` (or refused by the mapping engine / loader before any comparison)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnt_parity.codebases.canonical.model import CanonicalRNNT
from rnnt_parity.codebases.myrtle.model import MyrtleRNNT
from rnnt_parity.compare.models import compare_canonical_to_oracle, compare_models
from rnnt_parity.mapping import MappingError, apply_map, load_map
from rnnt_parity.mapping.engine import Rule, WeightMap
from rnnt_parity.models import lstm as lstm_module
from rnnt_parity.models.loading import load_exactly
from tests.rnnt_parity.models.helpers import (
    SMALL_HARD_MYRTLE,
    SMALL_MYRTLE,
    full_length_inputs,
    port_to_canonical,
    randomise,
)

MYRTLE_TO_CANONICAL = load_map("myrtle_rnnt_to_canonical")


def port(model: MyrtleRNNT, weight_map: WeightMap = MYRTLE_TO_CANONICAL, config=None):
    """`model`'s weights mapped into a canonical model (config: the model's own)."""
    return port_to_canonical(model, "myrtle_rnnt", weight_map, config)


def with_rule(weight_map: WeightMap, index: int, rule: Rule) -> WeightMap:
    rules = list(weight_map.rules)
    rules[index] = rule
    return dataclasses.replace(weight_map, rules=tuple(rules))


@pytest.fixture
def myrtle():
    return randomise(MyrtleRNNT(SMALL_MYRTLE).double())


def test_a_correct_port_passes_every_stage(myrtle):
    config = SMALL_MYRTLE.canonical()
    report = compare_models(myrtle, port(myrtle), *full_length_inputs(config), config.blank,
                            config.blank)
    assert report.first_divergence is None, report.describe()


def test_swapped_lstm_gates_are_caught_at_the_encoder(myrtle):
    """A map that reorders gates as if the source were ONNX's i, o, f, c."""
    buggy = with_rule(MYRTLE_TO_CANONICAL, 0, Rule(
        "gate_reorder", (r"encoder\.pre_rnn\.lstm\.(?P<w>weight_ih|weight_hh|bias_ih|bias_hh)"
                         r"_l(?P<k>\d+)",), ("encoder.pre.{k}.{w}",),
        {"from": "ifgo", "to": "iofg"}))
    config = SMALL_MYRTLE.canonical()
    report = compare_models(myrtle, port(myrtle, buggy), *full_length_inputs(config),
                            config.blank, config.blank)
    assert report.first_divergence == "encoder", report.describe()


def test_a_dropped_bias_hh_is_refused_by_the_engine(myrtle):
    buggy = dataclasses.replace(MYRTLE_TO_CANONICAL, rules=(
        Rule("drop", (r".*bias_hh_l\d+",), (), {}, "planted bug"), *MYRTLE_TO_CANONICAL.rules))
    with pytest.raises(MappingError) as raised:
        port(myrtle, buggy)
    assert "encoder.pre.0.bias_hh (32,) is not filled by any rule" in str(raised.value)


def test_a_dropped_bias_hh_goes_unnoticed_only_with_zero_initialised_biases():
    """Why every test randomises both LSTM biases: with bias_hh = 0 a port that drops it is
    exact, so only randomised weights can catch the drop."""
    model = MyrtleRNNT(SMALL_MYRTLE).double().eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "bias_hh" in name:
                parameter.zero_()
    canonical = port(model)
    with torch.no_grad():
        for name, parameter in canonical.named_parameters():
            if name.endswith("bias_hh"):
                parameter.fill_(0.0)
    config = SMALL_MYRTLE.canonical()
    assert compare_models(model, canonical, *full_length_inputs(config), config.blank,
                          config.blank).first_divergence is None


def test_load_state_dict_strict_false_skipping_a_key_is_refused_and_caught(myrtle):
    canonical = CanonicalRNNT(SMALL_MYRTLE.canonical()).double().eval()
    mapped = apply_map(MYRTLE_TO_CANONICAL, myrtle.state_dict())
    del mapped["joint.output.bias"]
    with pytest.raises(ValueError, match=r"missing: joint.output.bias \(7,\)"):
        load_exactly(canonical, mapped)
    canonical.load_state_dict(mapped, strict=False)
    config = SMALL_MYRTLE.canonical()
    report = compare_models(myrtle, canonical, *full_length_inputs(config), config.blank,
                            config.blank)
    assert report.first_divergence == "joint", report.describe()


def test_torch_hardsigmoid_slope_one_sixth_is_caught_at_the_encoder(monkeypatch):
    """Myrtle's hard sigmoid is clamp(0.5 + x/8); torch.nn.Hardsigmoid is clamp(0.5 + x/6)."""
    model = randomise(MyrtleRNNT(SMALL_HARD_MYRTLE).double())
    config = SMALL_HARD_MYRTLE.canonical()
    canonical = port(model)
    data = full_length_inputs(config)
    assert compare_canonical_to_oracle(canonical, config, *data).first_divergence is None
    monkeypatch.setitem(lstm_module.GATES, "hard", F.hardsigmoid)
    report = compare_canonical_to_oracle(canonical, config, *data)
    assert report.first_divergence == "encoder", report.describe()


def test_blank_moved_without_permuting_the_rows_is_caught_at_the_loss(myrtle):
    """Declaring blank first (index 0) while the output rows still hold blank last: the
    logits are unchanged, every loss is not."""
    config = SMALL_MYRTLE.canonical()
    moved = dataclasses.replace(config, blank=0)
    canonical = port(myrtle, config=moved)
    report = compare_models(myrtle, canonical, *full_length_inputs(config), config.blank,
                            moved.blank)
    assert report.first_divergence == "loss", report.describe()


def blank_first(rule: Rule) -> Rule:
    """Myrtle -> canonical with blank first: output rows move blank (last) to 0; the blank
    embedding row is padded at the start instead of the end."""
    if "joint_net" in rule.source[0]:
        return Rule("move_row", rule.source, rule.target, {"from": -1, "to": 0})
    if rule.kind == "pad_rows":
        return Rule("pad_rows", rule.source, rule.target, {**rule.options, "at": "start"},
                    rule.reason)
    return rule


def test_blank_moved_with_its_rows_permuted_passes(myrtle):
    config = SMALL_MYRTLE.canonical()
    moved = dataclasses.replace(config, blank=0)
    permuted = dataclasses.replace(MYRTLE_TO_CANONICAL, name="myrtle_rnnt_to_canonical_blank_first",
                                   rules=tuple(blank_first(r) for r in MYRTLE_TO_CANONICAL.rules))
    canonical = port(myrtle, permuted, moved)
    vocabulary = np.r_[np.arange(1, config.vocab_size), 0]    # Myrtle v -> canonical index
    report = compare_models(myrtle, canonical, *full_length_inputs(config), config.blank,
                            moved.blank, vocabulary_b=vocabulary)
    assert report.first_divergence is None, report.describe()
