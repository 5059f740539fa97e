"""A damaged tensor is named, whether or not the config was read off it; intact real
checkpoints are never called damaged; a family that cannot be detected is named with the
option of the command at hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rnnt_parity.cli import main
from rnnt_parity.codebases import family
from rnnt_parity.codebases.shape_check import shape_problems
from rnnt_parity.port import inspect_checkpoint

ROOT = Path(__file__).resolve().parents[3]
MYRTLE = ROOT / "fixtures" / "checkpoints" / "myrtle" / "v1.3.0" / "lstm.training.pt"
CANONICAL = ROOT / "fixtures" / "models" / "tiny_fsdd.pt"
INTACT = [
    *sorted((ROOT / "fixtures" / "checkpoints").glob("*/*/*.pt")),
    *sorted((ROOT / "fixtures" / "checkpoints" / "dsi").glob("*.pt")),
    *sorted((ROOT / "fixtures" / "models" / "nemo").glob("*.nemo")),
    CANONICAL, ROOT / "fixtures" / "models" / "tiny_fsdd_myrtlespeech.pt",
]
NN_LSTM = ["--assume", "hard_activations=false"]


def damaged_copy(source: Path, tmp_path: Path, key: str, damage) -> Path:
    """`source` with `key` of its state dict (and EMA copy) replaced by `damage(tensor)`."""
    checkpoint = torch.load(source, weights_only=True)
    for inner in ("state_dict", "ema_state_dict"):
        if inner in checkpoint:
            checkpoint[inner] = {**checkpoint[inner], key: damage(checkpoint[inner][key])}
    path = tmp_path / f"damaged_{source.stem}.pt"
    torch.save(checkpoint, path)
    return path


@pytest.mark.parametrize("path", INTACT, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_an_intact_real_checkpoint_has_no_damaged_tensor(path):
    assert inspect_checkpoint(path).damaged == ()


def test_a_truncated_bias_is_named_and_nothing_is_written(tmp_path, capsys):
    path = damaged_copy(MYRTLE, tmp_path, "joint_net.2.bias", lambda t: t[:-1])
    out = tmp_path / "c.pt"
    assert main(["port", "--to", "canonical", *NN_LSTM, str(path), str(out)]) == 2
    err = capsys.readouterr().err
    assert "joint_net.2.bias is (24,); the model's is (25,)" in err
    assert "1 tensor(s) do not fit" in err and "other 18 fit" in err
    assert not out.exists()


def test_a_damaged_tensor_the_config_was_read_off_is_named_not_its_neighbours(tmp_path,
                                                                              capsys):
    path = damaged_copy(MYRTLE, tmp_path, "joint_net.2.weight", lambda t: t[:-1])
    assert main(["port", "--to", "canonical", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 2
    err = capsys.readouterr().err
    assert "joint_net.2.weight is (24, 8); the model's is (25, 8)" in err
    assert "n_classes = 25, where the tensor shapes gave 24" in err
    assert "prediction.embed.weight" not in err and "joint_net.2.bias" not in err


def test_a_tensor_that_does_not_fit_the_stored_canonical_config_is_named(tmp_path, capsys):
    path = damaged_copy(CANONICAL, tmp_path, "prediction.lstm.0.weight_hh",
                        lambda t: t[:, :-1])
    assert main(["inspect", str(path)]) == 1
    out = capsys.readouterr().out
    assert "damaged (port, forward and compare refuse):" in out
    assert "prediction.lstm.0.weight_hh is (512, 127); the model's is (512, 128)" in out
    assert "the checkpoint's canonical_config" in out


def test_forward_refuses_a_damaged_checkpoint_naming_the_tensor(tmp_path, capsys):
    path = damaged_copy(CANONICAL, tmp_path, "ctc.bias", lambda t: t[:-1])
    inputs = tmp_path / "in.npz"
    np.savez(inputs, features=np.zeros((1, 4, 240), np.float32),
             feature_lengths=np.array([4]), labels=np.zeros((1, 1), np.int64),
             label_lengths=np.array([1]))
    assert main(["forward", str(path), "--inputs", str(inputs),
                 "--out", str(tmp_path / "out.npz")]) == 2
    assert "ctc.bias is (28,); the model's is (29,)" in capsys.readouterr().err
    assert not (tmp_path / "out.npz").exists()


def test_the_vote_keeps_the_inferred_config_when_changing_a_size_does_not_help():
    entry = family("canonical")
    inspection = inspect_checkpoint(CANONICAL)
    state = dict(inspection.state)
    state["joint.encoder.bias"] = state["joint.encoder.bias"][:-1]
    state["prediction.embedding.weight"] = state["prediction.embedding.weight"][:, :-1]
    lines = shape_problems(entry.build, inspection.inferred.config, state, "the test")
    assert lines[0].startswith("2 tensor(s) do not fit the model read off the test")
    assert len(lines) == 3


def test_a_flattened_tensor_a_size_is_read_from_is_a_clear_error_not_an_index_error(
        tmp_path, capsys):
    path = damaged_copy(MYRTLE, tmp_path, "prediction.embed.weight", lambda t: t.flatten())
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert "cannot be read as one myrtle_rnnt model" in err
    assert "tensors of an unusual rank: ['prediction.embed.weight (192,)']" in err


def test_a_flattened_tensor_elsewhere_is_named_as_damaged(tmp_path, capsys):
    path = damaged_copy(MYRTLE, tmp_path, "joint_net.2.weight", lambda t: t.flatten())
    assert main(["inspect", str(path)]) == 1
    assert "joint_net.2.weight is (200,); the model's is (25, 8)" in capsys.readouterr().out


@pytest.mark.parametrize("command, flag", [
    (["inspect", "{path}"], "--family"),
    (["port", "--to", "canonical", "{path}", "{out}"], "--from"),
    (["compare", "{path}", "{other}"], "--family-a"),
])
def test_an_undetectable_family_names_the_option_of_the_command(tmp_path, capsys, command,
                                                                flag):
    path = tmp_path / "odd.pt"
    torch.save({"state_dict": {"body.weight": torch.zeros(2, 2)}}, path)
    values = {"path": str(path), "out": str(tmp_path / "o.pt"), "other": str(CANONICAL)}
    assert main([part.format(**values) for part in command]) == 2
    err = capsys.readouterr().err
    assert f"name it with {flag} (one of canonical," in err
    assert str(path) in err
