"""Checkpoints written by Myrtle's own save routines (fixtures/checkpoints/myrtle): every
variant inspected correctly, what the weights cannot show settled by what the file carries or
refused until stated, and the ports verified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnt_parity.cli import main
from rnnt_parity.codebases import build_with_weights
from rnnt_parity.models.lstm import HardLSTM
from rnnt_parity.port import inspect_checkpoint

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "checkpoints" / "myrtle"
V13, V114 = FIXTURES / "v1.3.0", FIXTURES / "v1.14.0"
VARIANTS = {"lstm": (False, False, False), "hard_lstm": (True, False, False),
            "batchnorm_hard_lstm": (True, True, True), "enc_batchnorm": (False, True, False)}
"""variant -> (hard activations, encoder batch norm, prediction batch norm), as the fixture
README records the YAML each was trained from."""


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_v1_3_hardware_checkpoint_says_its_lstm_kind_and_batch_norm(variant):
    inspection = inspect_checkpoint(V13 / f"{variant}.hardware.pt")
    config = inspection.inferred.config
    hard, encoder_norm, prediction_norm = VARIANTS[variant]
    assert (config.hard_activation_functions, config.enc_batch_norm,
            config.pred_batch_norm) == (hard, encoder_norm, prediction_norm)
    assert inspection.inferred.unknown == {}
    assert "rnnt_config" in inspection.inferred.stated["hard_activations"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_v1_3_training_checkpoint_leaves_the_lstm_kind_unknown(variant):
    inspection = inspect_checkpoint(V13 / f"{variant}.training.pt")
    assert set(inspection.inferred.unknown) == {"hard_activations"}
    assert inspection.inferred.config.enc_batch_norm == VARIANTS[variant][1]


def test_batch_norm_with_hard_activations_builds_hard_lstm_layers():
    inspection = inspect_checkpoint(V13 / "batchnorm_hard_lstm.hardware.pt")
    model = build_with_weights("myrtle_rnnt", inspection.inferred.config, inspection.state)
    layers = [*model.encoder["pre_rnn"].lstms, *model.prediction["dec_rnn"].lstms]
    assert layers and all(isinstance(layer, HardLSTM) for layer in layers)


@pytest.mark.parametrize("name", ["lstm.training.pt", "lstm.hardware.pt",
                                  "enc_batchnorm.training.pt"])
def test_v1_14_checkpoints_have_no_hard_activations(name):
    inspection = inspect_checkpoint(V114 / name)
    assert inspection.inferred.unknown == {}
    assert not inspection.inferred.config.hard_activation_functions


def test_a_training_checkpoint_ports_once_its_lstm_kind_is_stated(tmp_path, capsys):
    source = V13 / "hard_lstm.training.pt"
    assert main(["port", "--to", "canonical", str(source), str(tmp_path / "c.pt")]) == 2
    assert "--assume hard_activations=VALUE" in capsys.readouterr().err
    assert main(["port", "--to", "canonical", "--assume", "hard_activations=true",
                 str(source), str(tmp_path / "c.pt")]) == 0
    provenance = json.loads((tmp_path / "c.pt.provenance.json").read_text())
    assert provenance["target"]["config"]["lstm_gates"] == "hard"
    assert provenance["stated"] == {"hard_activations": "true (stated)"}


def test_a_port_back_to_myrtle_carries_the_lstm_kind_it_was_given(tmp_path):
    assert main(["port", "--to", "canonical", str(V13 / "hard_lstm.hardware.pt"),
                 str(tmp_path / "c.pt")]) == 0
    assert main(["port", "--to", "myrtle_rnnt", str(tmp_path / "c.pt"),
                 str(tmp_path / "back.pt")]) == 0
    back = inspect_checkpoint(tmp_path / "back.pt")
    assert back.inferred.unknown == {} and back.inferred.config.hard_activation_functions


def test_the_hard_and_soft_readings_of_one_checkpoint_differ():
    """The property is forward-relevant: the same weights give other outputs."""
    from rnnt_parity.compare.verification import side_of
    from rnnt_parity.port import verify

    hard = inspect_checkpoint(V13 / "hard_lstm.training.pt", assume={"hard_activations": "true"})
    soft = inspect_checkpoint(V13 / "hard_lstm.training.pt",
                              assume={"hard_activations": "false"})
    report = verify(side_of("myrtle_rnnt", hard.inferred.config, hard.state),
                    side_of("myrtle_rnnt", soft.inferred.config, soft.state))
    assert report.first_divergence == "float64 encoder (random inputs)"


def test_separate_encoder_and_prediction_batch_norm_compare_with_themselves():
    path = str(V13 / "enc_batchnorm.hardware.pt")
    assert main(["compare", path, path]) == 0


@pytest.mark.parametrize("statement", ["hard_activations=maybe", "dropout=0.1"])
def test_a_bad_statement_is_refused_naming_it(tmp_path, capsys, statement):
    assert main(["inspect", "--assume", statement, str(V13 / "lstm.training.pt")]) == 2
    assert f"--assume {statement.split('=')[0]}" in capsys.readouterr().err
