"""The family registry: detection, config conversion refusals (all reasons at once)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from rnnt_parity.codebases import build_with_weights, detect_family
from rnnt_parity.codebases.myrtle.infer import myrtle_from_canonical
from rnnt_parity.codebases.myrtle.model import MyrtleRNNT
from rnnt_parity.codebases.nemo.infer import nemo_from_canonical
from rnnt_parity.codebases.nemo.model import NeMoHybridHead
from tests.rnnt_parity.codebases.nemo.test_model import SMALL as SMALL_NEMO
from tests.rnnt_parity.models.helpers import SMALL_MYRTLE


@pytest.mark.parametrize(("model", "name"), [(MyrtleRNNT(SMALL_MYRTLE), "myrtle_rnnt"),
                                             (NeMoHybridHead(SMALL_NEMO), "nemo")])
def test_families_are_detected_from_their_keys(model, name):
    assert detect_family(model.state_dict()) == name


def test_canonical_round_trips_through_each_family_config():
    assert myrtle_from_canonical(SMALL_MYRTLE.canonical()) == dataclasses.replace(
        SMALL_MYRTLE, enc_dropout=0.1)
    assert nemo_from_canonical(SMALL_NEMO.canonical()) == SMALL_NEMO


def test_every_reason_a_canonical_model_cannot_be_myrtle_is_given_at_once():
    config = dataclasses.replace(SMALL_MYRTLE.canonical(), blank=0,
                                 start_symbol="blank_embedding", joint_activation="tanh",
                                 ctc_head=True)
    with pytest.raises(ValueError) as raised:
        myrtle_from_canonical(config)
    message = str(raised.value)
    for reason in ("blank is 0", "start symbol is the blank embedding", "is relu",
                   "has a CTC head"):
        assert reason in message


def test_inspection_only_families_cannot_be_built():
    with pytest.raises(ValueError, match="for inspection only"):
        build_with_weights("torchaudio", None, {"x": torch.zeros(1)})


def test_unknown_family_lists_the_known():
    with pytest.raises(ValueError, match="unknown model family 'espnet'; known:"):
        build_with_weights("espnet", None, {})
