"""deepspeech-internal's RNN-T: its weights land where seed 000's hand-written map put them in
myrtlespeech, ports are exact in DSI's float16, and blank has no embedding row."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from rnnt_parity.cli import main
from rnnt_parity.port import inspect_checkpoint

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "checkpoints" / "dsi"
CHECKPOINT = FIXTURES / "dsi_style_tiny.pt"
SEED_000_MAP = json.loads((FIXTURES / "seed_000_dict_map_partial.json").read_text())[
    "dict_map_partial"]
"""Seed 000's `dict_map_partial` (DSI prefix -> myrtlespeech prefix), as written there."""


def seed_000_key_map(myrtlespeech_keys) -> dict[str, str]:
    """DSI key -> myrtlespeech key, expanded as seed 000's loop does (every partial entry a
    myrtlespeech key contains rewrites it; later entries add to the map)."""
    mapping = {}
    for key in myrtlespeech_keys:
        for dsi_prefix, ms_prefix in SEED_000_MAP.items():
            if ms_prefix in key:
                mapping[key.replace(ms_prefix, dsi_prefix)] = key
    return mapping


def test_a_port_to_myrtlespeech_puts_every_tensor_where_seed_000s_map_does(tmp_path):
    dsi = inspect_checkpoint(CHECKPOINT).state
    assert main(["port", "--to", "myrtlespeech", str(CHECKPOINT), str(tmp_path / "ms.pt")]) == 0
    ported = torch.load(tmp_path / "ms.pt", weights_only=True)
    by_seed = seed_000_key_map(ported)
    for key, value in dsi.items():
        assert torch.equal(ported[by_seed[key]], value), key


def test_a_port_to_canonical_and_back_is_exact_in_float16(tmp_path):
    dsi = inspect_checkpoint(CHECKPOINT).state
    assert main(["port", "--to", "canonical", str(CHECKPOINT), str(tmp_path / "c.pt")]) == 0
    assert main(["port", "--to", "dsi", str(tmp_path / "c.pt"), str(tmp_path / "d.pt")]) == 0
    back = inspect_checkpoint(tmp_path / "d.pt").state
    assert back.keys() == dsi.keys()
    assert all(back[k].dtype == torch.float16 and torch.equal(back[k], v) for k, v in dsi.items())


def test_blank_has_no_embedding_row():
    inspection = inspect_checkpoint(CHECKPOINT)
    rows = inspection.state["prediction.embed.weight"].shape[0]
    assert rows == inspection.inferred.config.vocab_size - 1
    assert inspection.state["joint_net.3.weight"].shape[0] == rows + 1
