"""Module-level localisation: a planted bug is named at the first module pair it reaches."""

from __future__ import annotations

import dataclasses

import torch

from rnnt_parity.codebases.myrtle.model import MyrtleRNNT
from rnnt_parity.codebases.myrtlespeech.model import MyrtlespeechRNNT
from rnnt_parity.codebases.nemo.model import NeMoHybridHead
from rnnt_parity.compare.localise import first_divergent_pair, localise
from rnnt_parity.mapping import load_map
from rnnt_parity.mapping.engine import Rule
from tests.rnnt_parity.codebases.myrtlespeech.test_model import SMALL as SMALL_MYRTLESPEECH
from tests.rnnt_parity.codebases.nemo.test_model import SMALL as SMALL_NEMO
from tests.rnnt_parity.models.helpers import (
    SMALL_MYRTLE,
    full_length_inputs,
    port_to_canonical,
    randomise,
)


def test_every_pair_matches_for_correct_ports():
    for model, family in ((MyrtleRNNT(SMALL_MYRTLE), "myrtle_rnnt"),
                          (MyrtlespeechRNNT(SMALL_MYRTLESPEECH), "myrtlespeech"),
                          (NeMoHybridHead(SMALL_NEMO), "nemo")):
        model = randomise(model.double())
        report = localise(model, port_to_canonical(model, family),
                          *full_length_inputs(model.config.canonical()))
        assert first_divergent_pair(report) is None, [
            (p.family_module, p.comparison.max_abs) for p in report]


def test_swapped_gates_in_the_post_rnn_only_are_localised_there():
    model = randomise(MyrtleRNNT(SMALL_MYRTLE).double())
    good = load_map("myrtle_rnnt_to_canonical")
    rules = list(good.rules)
    rules[1] = Rule("gate_reorder", rules[1].source, rules[1].target,
                    {"from": "ifgo", "to": "iofg"})
    report = localise(model, port_to_canonical(model, "myrtle_rnnt", dataclasses.replace(good,
                                                                            rules=tuple(rules))),
                      *full_length_inputs(SMALL_MYRTLE.canonical()))
    first = first_divergent_pair(report)
    assert (first.family_module, first.canonical_module) == ("encoder.post_rnn",
                                                             "encoder.post.1")
    assert report[0].comparison.passed


def test_a_wrong_prediction_projection_is_localised_at_joint_pred():
    model = randomise(MyrtleRNNT(SMALL_MYRTLE).double())
    canonical = port_to_canonical(model, "myrtle_rnnt")
    with torch.no_grad():
        canonical.joint.prediction.bias.add_(0.01)
    first = first_divergent_pair(localise(model, canonical,
                                          *full_length_inputs(SMALL_MYRTLE.canonical())))
    assert first.family_module == "joint_pred"
