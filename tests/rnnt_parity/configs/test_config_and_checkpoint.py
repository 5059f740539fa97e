"""--config with a checkpoint: the config supplies what weights cannot show, and every
disagreement is reported before anything is written."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch

from rnnt_parity.cli import main
from rnnt_parity.codebases.myrtle.model import MyrtleRNNT
from rnnt_parity.codebases.myrtlespeech.model import MyrtlespeechConfig, MyrtlespeechRNNT
from tests.rnnt_parity.models.helpers import randomise

CONFIGS = Path(__file__).resolve().parents[3] / "fixtures" / "configs"
SMALL_YAML = """rnnt:
  in_feats: 12
  enc_n_hid: 8
  enc_pre_rnn_layers: 2
  enc_post_rnn_layers: 2
  enc_stack_time_factor: 2
  pred_n_hid: 6
  pred_rnn_layers: 2
  joint_n_hid: 5
  enc_batch_norm: false
  pred_batch_norm: false
  enc_dropout: 0.1
  pred_dropout: 0.3
  joint_dropout: 0.3
  forget_gate_bias: 1.0
  custom_lstm: true
  hard_activation_functions: true
"""


def small_myrtle(tmp_path: Path, hard: bool = True) -> Path:
    from tests.rnnt_parity.models.helpers import SMALL_MYRTLE

    config = dataclasses.replace(SMALL_MYRTLE, custom_lstm=hard, hard_activation_functions=hard)
    path = tmp_path / "m.pt"
    torch.save(randomise(MyrtleRNNT(config)).state_dict(), path)
    return path


def test_the_config_supplies_the_activation_type_the_weights_cannot_show(tmp_path, capsys):
    checkpoint = small_myrtle(tmp_path)
    (tmp_path / "c.yaml").write_text(SMALL_YAML)
    assert main(["inspect", "--config", str(tmp_path / "c.yaml"), str(checkpoint)]) == 0
    out = capsys.readouterr().out
    assert "hard_activation_functions = True" in out and "from " in out
    assert main(["port", "--to", "canonical", "--config", str(tmp_path / "c.yaml"),
                 str(checkpoint), str(tmp_path / "c.pt")]) == 0
    provenance = json.loads((tmp_path / "c.pt.provenance.json").read_text())
    assert provenance["target"]["config"]["lstm_gates"] == "hard"


def test_every_disagreement_is_reported_and_nothing_is_written(tmp_path, capsys):
    checkpoint = small_myrtle(tmp_path)
    (tmp_path / "c.yaml").write_text(SMALL_YAML.replace("enc_n_hid: 8", "enc_n_hid: 16")
                                     .replace("joint_n_hid: 5", "joint_n_hid: 7"))
    assert main(["port", "--to", "canonical", "--config", str(tmp_path / "c.yaml"),
                 str(checkpoint), str(tmp_path / "c.pt")]) == 2
    err = capsys.readouterr().err
    assert "disagree (2)" in err
    assert "enc_n_hid: config says 16, checkpoint has 8" in err
    assert "joint_n_hid: config says 7, checkpoint has 5" in err
    assert not (tmp_path / "c.pt").exists()


def test_a_myrtlespeech_config_and_checkpoint_that_agree(tmp_path, capsys):
    config = MyrtlespeechConfig(input_features=80, input_channels=5, fc1_hidden=12,
                                rnn_hidden=8, rnn_layers=2, fc2_hidden=12, encoder_out=6,
                                pred_hidden=4, pred_layers=2, joint_hidden=6, vocab_size=29)
    torch.save(MyrtlespeechRNNT(config).state_dict(), tmp_path / "ms.pt")
    text = (CONFIGS / "myrtlespeech_rnn_t_seed.config").read_text()
    for old, new in (("hidden_size: 1152; dropout", "hidden_size: 12; dropout"),
                     ("hidden_size: 1152; num_layers", "hidden_size: 8; num_layers"),
                     ("hidden_size: 256", "hidden_size: 4"),
                     ("hidden_size: 512", "hidden_size: 6")):
        text = text.replace(old, new)
    (tmp_path / "ms.config").write_text(text)
    assert main(["compare", "--config-a", str(tmp_path / "ms.config"), str(tmp_path / "ms.pt"),
                 str(tmp_path / "ms.pt")]) == 0
    assert "no stage diverges" in capsys.readouterr().out
    (tmp_path / "ms.config").write_text(text.replace("n_context: 2", "n_context: 1"))
    assert main(["inspect", "--config", str(tmp_path / "ms.config"),
                 str(tmp_path / "ms.pt")]) == 2
    assert "input width: config says 240, checkpoint has 400" in capsys.readouterr().err


def test_a_statement_contradicting_the_config_file_is_refused(tmp_path, capsys):
    checkpoint = small_myrtle(tmp_path)
    (tmp_path / "c.yaml").write_text(SMALL_YAML)
    assert main(["port", "--to", "canonical", "--config", str(tmp_path / "c.yaml"),
                 "--assume", "hard_activations=false", str(checkpoint),
                 str(tmp_path / "c.pt")]) == 2
    assert "--assume hard_activations=false contradicts" in capsys.readouterr().err
    assert not (tmp_path / "c.pt").exists()
