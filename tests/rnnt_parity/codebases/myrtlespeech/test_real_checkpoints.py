"""Checkpoints of the model myrtlespeech 24d2df3's own builder made
(fixtures/checkpoints/myrtlespeech): read, and ported to canonical and back to the same key
layout, the dropout (`.3`) or dropout-free (`.2`) one, which canonical cannot hold and the
canonical checkpoint's origin restores."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnt_parity.cli import main
from rnnt_parity.port import inspect_checkpoint

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "checkpoints" / "myrtlespeech" / \
    "24d2df3"
SECOND_LINEAR = {"tiny_dropout": "3", "tiny_no_dropout": "2"}
"""file -> the index of the second Linear in fc1 / fc2 / the joint (Dropout adds one)."""


@pytest.mark.parametrize("name", sorted(SECOND_LINEAR))
def test_a_real_checkpoint_reads_with_nothing_unknown(name):
    inspection = inspect_checkpoint(FIXTURES / f"{name}.pt")
    assert inspection.family == "myrtlespeech"
    assert inspection.inferred.unknown == {} and inspection.unaccounted == ()


@pytest.mark.parametrize("name", sorted(SECOND_LINEAR))
def test_a_port_to_canonical_and_back_restores_the_dropout_layout(name, tmp_path):
    source = FIXTURES / f"{name}.pt"
    original = inspect_checkpoint(source).state
    assert main(["port", "--to", "canonical", str(source), str(tmp_path / "c.pt")]) == 0
    assert main(["port", "--to", "myrtlespeech", str(tmp_path / "c.pt"),
                 str(tmp_path / "back.pt")]) == 0
    back = torch.load(tmp_path / "back.pt", weights_only=True)
    assert f"encode.fc1.fully_connected.{SECOND_LINEAR[name]}.weight" in back
    assert back.keys() == original.keys()
    assert all(torch.equal(back[key], value) for key, value in original.items())


def test_the_two_layouts_hold_the_same_numbers_under_different_names():
    with_dropout = inspect_checkpoint(FIXTURES / "tiny_dropout.pt").state
    without = inspect_checkpoint(FIXTURES / "tiny_no_dropout.pt").state
    renamed = {key.replace("fully_connected.3.", "fully_connected.2."): value
               for key, value in with_dropout.items()}
    assert renamed.keys() == without.keys()
    assert all(torch.equal(renamed[key], value) for key, value in without.items())
