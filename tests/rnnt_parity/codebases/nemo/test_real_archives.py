""".nemo archives NeMo 3.0 itself wrote (fixtures/models/nemo, `scripts/goldens/nemo_models.py`):
a hybrid RNN-T + CTC, an RNN-T and a TDT model. The heads are read, the Conformer encoder and
the preprocessor set aside and declared dropped by a port, the joint activation settled by
the archive's model config, a TDT joint's durations read from it and their rows declared
dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rnnt_parity.cli import main
from rnnt_parity.codebases import family
from rnnt_parity.port import inspect_checkpoint

ARCHIVES = Path(__file__).resolve().parents[4] / "fixtures" / "models" / "nemo"
KINDS = {"hybrid_char_tiny": True, "rnnt_char_tiny": False, "tdt_char_tiny": False}
"""archive -> whether it has a CTC head (EncDecHybridRNNTCTCModel's layout)."""
ENCODER_TENSORS, PREPROCESSOR_TENSORS = 52, 2
"""What the tiny ConformerEncoder and AudioToMelSpectrogramPreprocessor hold in the archives."""


def port(source: Path, target: str, out: Path) -> dict:
    assert main(["port", "--to", target, str(source), str(out)]) == 0
    return json.loads(out.with_name(out.name + ".provenance.json").read_text())


@pytest.mark.parametrize("name", sorted(KINDS))
def test_an_archive_reads_its_heads_and_sets_the_encoder_and_preprocessor_aside(name):
    inspection = inspect_checkpoint(ARCHIVES / f"{name}.nemo")
    outside = inspection.inferred.outside
    assert sum(key.startswith("encoder.") for key in outside) == ENCODER_TENSORS
    assert sum(key.startswith("preprocessor.") for key in outside) == PREPROCESSOR_TENSORS
    assert not any(key.startswith(("encoder.", "preprocessor.")) for key in inspection.state)
    config = inspection.inferred.config
    assert (config.vocab_size, family("nemo").blank(config)) == (28, 28)
    assert config.ctc_head is KINDS[name]


@pytest.mark.parametrize("name", sorted(KINDS))
def test_the_archives_model_config_settles_the_joint_activation(name):
    inferred = inspect_checkpoint(ARCHIVES / f"{name}.nemo").inferred
    assert inferred.unknown == {}
    assert inferred.stated["joint_activation"] == "relu (the .nemo's model_config.yaml)"


def test_the_same_heads_as_a_bare_state_dict_leave_the_joint_activation_unknown(tmp_path):
    inspection = inspect_checkpoint(ARCHIVES / "rnnt_char_tiny.nemo")
    torch.save(inspection.state, tmp_path / "heads.pt")
    assert set(inspect_checkpoint(tmp_path / "heads.pt").inferred.unknown) == {
        "joint_activation"}


def test_a_tdt_archive_reads_its_durations_from_the_model_config():
    config = inspect_checkpoint(ARCHIVES / "tdt_char_tiny.nemo").inferred.config
    assert config.durations == (0, 1, 2, 3, 4)


def test_a_tdt_port_declares_the_duration_rows_dropped(tmp_path):
    dropped = port(ARCHIVES / "tdt_char_tiny.nemo", "canonical", tmp_path / "c.pt")["dropped"]
    assert {"joint.joint_net.2.weight rows 29-33", "joint.joint_net.2.bias rows 29-33"} <= set(
        dropped)
    canonical = torch.load(tmp_path / "c.pt", weights_only=True)
    assert canonical["state_dict"]["joint.output.weight"].shape[0] == 29


@pytest.mark.parametrize("name", sorted(KINDS))
def test_a_port_declares_every_set_aside_tensor_dropped(name, tmp_path):
    dropped = port(ARCHIVES / f"{name}.nemo", "canonical", tmp_path / "c.pt")["dropped"]
    assert sum(key.startswith("encoder.") for key in dropped) == ENCODER_TENSORS
    assert sum(key.startswith("preprocessor.") for key in dropped) == PREPROCESSOR_TENSORS


@pytest.mark.parametrize("name", ["hybrid_char_tiny", "rnnt_char_tiny"])
def test_the_heads_port_to_canonical_and_back_exactly(name, tmp_path):
    heads = inspect_checkpoint(ARCHIVES / f"{name}.nemo").state
    port(ARCHIVES / f"{name}.nemo", "canonical", tmp_path / "c.pt")
    port(tmp_path / "c.pt", "nemo", tmp_path / "n.pt")
    back = torch.load(tmp_path / "n.pt", weights_only=True)["state_dict"]
    assert back.keys() == heads.keys()
    assert all(torch.equal(back[key], value) for key, value in heads.items())
