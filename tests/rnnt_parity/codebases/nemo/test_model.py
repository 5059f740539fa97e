"""NeMo's hybrid heads: exact keys, the map to canonical, NeMo's CPU log_softmax, refusals,
and .nemo archives."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
import torch

from rnnt_parity.cli import main
from rnnt_parity.codebases.nemo.infer import infer_nemo
from rnnt_parity.codebases.nemo.model import NeMoConfig, NeMoHybridHead
from rnnt_parity.compare.models import compare_canonical_to_oracle, compare_models
from tests.rnnt_parity.models.helpers import (
    inputs,
    key_file_sections,
    port_to_canonical,
    randomise,
)

FASTCONFORMER = NeMoConfig()
SMALL = NeMoConfig(encoder_dim=8, pred_hidden=6, pred_rnn_layers=2, joint_hidden=5,
                   vocab_size=6)


def reference_section(index: int) -> dict:
    return key_file_sections("nemo_keys.txt")[index][1]


@pytest.mark.parametrize(("section", "dropout"), [(0, 0.2), (1, 0.0)])
def test_keys_and_shapes_are_nemos(section, dropout):
    config = NeMoConfig(joint_dropout=dropout)
    state = NeMoHybridHead(config).state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == reference_section(section)


def test_embedding_blank_row_is_zero_padding():
    embed = NeMoHybridHead(FASTCONFORMER).decoder.prediction["embed"]
    assert embed.padding_idx == 1024 and embed.weight[1024].abs().sum() == 0


def test_inference_reads_the_config_back():
    for dropout in (0.2, 0.0):
        config = NeMoConfig(**{**SMALL.__dict__, "joint_dropout": dropout})
        assert infer_nemo(NeMoHybridHead(config).state_dict()).config == config


def ported(config: NeMoConfig = SMALL):
    model = randomise(NeMoHybridHead(config).double())
    return model, port_to_canonical(model, "nemo"), config.canonical()


def test_nemo_heads_equal_the_oracle_through_the_map_with_the_ctc_head():
    model, canonical, config = ported()
    data = inputs(config)
    report = compare_models(model, canonical, *data, config.blank, config.blank)
    assert report.first_divergence is None and "ctc" in report.comparisons, report.describe()
    oracle = compare_canonical_to_oracle(canonical, config, *data)
    assert oracle.first_divergence is None, oracle.describe()


def test_nemo_joint_returns_log_probs_on_the_cpu():
    """NeMo's joint (log_softmax=None) normalises on the CPU and not on CUDA: compared as
    logits its CPU output differs from any codebase's raw logits by a constant per (t, u),
    while every loss agrees (log_softmax is idempotent)."""
    model, _, config = ported()
    features, _, labels = inputs(config)
    x = torch.tensor(features).transpose(1, 2)
    g = model.predict(torch.tensor(labels))
    raw, output = model.joint_logits(x, g), model.joint_output(x, g)
    torch.testing.assert_close(output, raw.log_softmax(dim=-1))
    assert not torch.allclose(output, raw)


@pytest.mark.parametrize(("section", "message"), [
    (2, "batch-norm decoder"), (3, "projected LSTM")])
def test_variants_without_a_canonical_counterpart_are_refused(section, message):
    state = {k: torch.zeros(shape) for k, shape in reference_section(section).items()}
    with pytest.raises(ValueError, match=message):
        infer_nemo(state)


def write_nemo(path: Path, state: dict, with_weights: bool = True) -> None:
    with tarfile.open(path, "w") as archive:
        members = {"model_config.yaml": b"decoder:\n  prednet:\n    pred_hidden: 6\n"}
        if with_weights:
            buffer = io.BytesIO()
            torch.save(state, buffer)
            members["model_weights.ckpt"] = buffer.getvalue()
        for name, data in members.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_port_a_nemo_archive_to_canonical_and_back(tmp_path):
    model = randomise(NeMoHybridHead(SMALL))
    write_nemo(tmp_path / "m.nemo", model.state_dict())
    assert main(["port", "--to", "canonical", "--assume", "joint_activation=relu",
                 str(tmp_path / "m.nemo"), str(tmp_path / "c.pt")]) == 0
    assert main(["port", "--to", "nemo", str(tmp_path / "c.pt"), str(tmp_path / "n.pt")]) == 0
    back = torch.load(tmp_path / "n.pt", weights_only=True)
    assert all(torch.equal(back["state_dict"][k], v) for k, v in model.state_dict().items())
    assert back["nemo_model_config_yaml"].startswith("decoder:")


def test_a_nemo_archive_without_weights_is_refused(tmp_path, capsys):
    write_nemo(tmp_path / "m.nemo", {}, with_weights=False)
    assert main(["inspect", str(tmp_path / "m.nemo")]) == 2
    assert "without model_weights.ckpt" in capsys.readouterr().err


def test_myrtle_cannot_become_nemo(tmp_path, capsys):
    from rnnt_parity.codebases.myrtle.model import MyrtleRNNT
    from tests.rnnt_parity.models.helpers import SMALL_MYRTLE

    torch.save(MyrtleRNNT(SMALL_MYRTLE).state_dict(), tmp_path / "m.pt")
    assert main(["port", "--to", "nemo", str(tmp_path / "m.pt"), str(tmp_path / "n.pt")]) == 2
    err = capsys.readouterr().err
    assert "no nemo counterpart" in err and "NeMo's encoder is a Conformer" in err
