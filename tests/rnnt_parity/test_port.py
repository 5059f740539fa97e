"""`rnnt-parity inspect` and `port`: detection, inference, verified ports, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rnnt_parity import port_bench
from rnnt_parity.cli import main
from rnnt_parity.codebases.myrtle.model import MyrtleRNNT
from rnnt_parity.mapping import load_map, through_canonical
from rnnt_parity.mapping.engine import Rule
from rnnt_parity.port import inspect_checkpoint
from rnnt_parity.port_bench import run_port_benchmark
from tests.rnnt_parity.models.helpers import SMALL_MYRTLE, randomise

NN_LSTM = ["--assume", "hard_activations=false"]
"""The random Myrtle checkpoints here are nn.LSTM models; their weights cannot show it."""


@pytest.fixture
def myrtle_checkpoint(tmp_path):
    model = randomise(MyrtleRNNT(SMALL_MYRTLE))
    path = tmp_path / "myrtle.pt"
    torch.save({"state_dict": model.state_dict(), "melmeans": torch.ones(80),
                "melalpha": 0.001, "sentpiece_model": b"sp-bytes",
                "optimizer": {"state": {}}}, path)
    return model, path


def test_inspect_detects_the_family_and_reads_the_sizes(myrtle_checkpoint, capsys):
    _, path = myrtle_checkpoint
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "myrtle_rnnt (Myrtle training checkpoint" in out and "elements: 3,518" in out
    assert "enc_post_rnn_layers = 2" in out and "n_classes = 7" in out
    assert "cannot be read from the weights" in out and "  hard_activations: " in out
    assert "dropped: optimizer" in out


def test_a_port_of_a_checkpoint_that_does_not_say_its_lstm_kind_is_refused_until_stated(
        myrtle_checkpoint, tmp_path, capsys):
    _, path = myrtle_checkpoint
    assert main(["port", "--to", "canonical", str(path), str(tmp_path / "c.pt")]) == 2
    assert "--assume hard_activations=VALUE" in capsys.readouterr().err
    assert not (tmp_path / "c.pt").exists()
    assert main(["port", "--to", "canonical", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 0
    provenance = json.loads((tmp_path / "c.pt.provenance.json").read_text())
    assert provenance["stated"] == {"hard_activations": "false (stated)"}


def test_port_to_canonical_and_back_is_exact_and_carries_the_extras(myrtle_checkpoint,
                                                                     tmp_path, capsys):
    model, path = myrtle_checkpoint
    assert main(["port", "--to", "canonical", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 0
    assert main(["port", "--to", "myrtle_rnnt", str(tmp_path / "c.pt"),
                 str(tmp_path / "back.pt")]) == 0
    back = torch.load(tmp_path / "back.pt", weights_only=True)
    assert all(torch.equal(back["state_dict"][k], v) for k, v in model.state_dict().items())
    assert back["sentpiece_model"] == b"sp-bytes" and back["melalpha"] == 0.001
    provenance = json.loads((tmp_path / "c.pt.provenance.json").read_text())
    assert provenance["maps"] == [{"name": "myrtle_rnnt_to_canonical", "version": 1}]
    verification = provenance["verification"]
    assert verification["passed"] and [(r["precision"], r["judged"])
                                       for r in verification["reports"]] == [
        ("float64", True), ("float32", True)]
    assert all(stage["passed"] for r in verification["reports"]
               for stage in r["stages"].values())
    assert provenance["dropped"] == {
        "optimizer": "optimizer state belongs to the source's parameter layout"}
    assert "verification: float64: agrees to 0e+00 of the peak; the map is exact; float32: " \
        "within its measured bound" in capsys.readouterr().out


def test_a_failed_verification_writes_nothing(myrtle_checkpoint, tmp_path, monkeypatch,
                                              capsys):
    _, path = myrtle_checkpoint
    good = load_map("myrtle_rnnt_to_canonical")
    swapped = Rule("gate_reorder", good.rules[0].source, good.rules[0].target,
                   {"from": "ifgo", "to": "ifog"})
    buggy = type(good)(good.name, good.version, good.source_family, good.target_family,
                       (swapped, *good.rules[1:]))
    monkeypatch.setattr(through_canonical, "load_map", lambda name: buggy)
    assert main(["port", "--to", "canonical", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 2
    assert "verification failed at float64 encoder (random inputs)" in capsys.readouterr().err
    assert not (tmp_path / "c.pt").exists()
    assert not (tmp_path / "c.pt.provenance.json").exists()


def test_port_never_overwrites_without_force(myrtle_checkpoint, tmp_path, capsys):
    _, path = myrtle_checkpoint
    (tmp_path / "c.pt").write_bytes(b"keep")
    assert main(["port", "--to", "canonical", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert (tmp_path / "c.pt").read_bytes() == b"keep"
    assert main(["port", "--to", "canonical", "--force", *NN_LSTM, str(path),
                 str(tmp_path / "c.pt")]) == 0


def test_unknown_keys_are_refused_naming_them(tmp_path, capsys):
    torch.save({"encoder.weight": torch.ones(2)}, tmp_path / "x.pt")
    assert main(["inspect", str(tmp_path / "x.pt")]) == 2
    assert "cannot tell the model family" in capsys.readouterr().err


def test_a_wrong_family_is_refused_with_the_missing_keys(myrtle_checkpoint, capsys):
    _, path = myrtle_checkpoint
    assert main(["inspect", "--family", "canonical", str(path)]) == 2
    assert "not a complete canonical state dict: missing" in capsys.readouterr().err


def test_a_batch_norm_checkpoint_cannot_be_ported_to_canonical(tmp_path, capsys):
    import dataclasses

    config = dataclasses.replace(SMALL_MYRTLE, enc_batch_norm=True, pred_batch_norm=True)
    torch.save(MyrtleRNNT(config).state_dict(), tmp_path / "bn.pt")
    assert main(["port", "--to", "canonical", str(tmp_path / "bn.pt"),
                 str(tmp_path / "c.pt")]) == 2
    assert "batch-norm variant has no canonical counterpart" in capsys.readouterr().err
    assert not (tmp_path / "c.pt").exists()


def test_port_benchmark_reports_time_and_memory(monkeypatch):
    from rnnt_parity.codebases.myrtle import model as myrtle

    monkeypatch.setitem(myrtle.MYRTLE_CONFIGS, "small", SMALL_MYRTLE)
    lines = []
    result = run_port_benchmark("small", out=lines.append)
    assert result["seconds"] > 0 and result["checkpoint_bytes"] > 0
    assert lines[0].startswith("small: checkpoint")


TINY_FASTCONFORMER = {"d_model": 32, "layers": 1, "ff": 64, "heads": 2, "kernel": 9,
                      "subsampling_channels": 32, "features": 80, "subsampling": 8}
"""The encoder of fixtures/models/nemo/*.nemo (their model_config.yaml)."""


def test_the_bench_encoder_layout_is_the_one_nemo_writes():
    real = inspect_checkpoint(FIXTURES / "models" / "nemo" / "rnnt_char_tiny.nemo")
    written = {key: tuple(real.checkpoint.state[key].shape) for key in real.inferred.outside
               if key.startswith("encoder.")}
    assert port_bench.fastconformer_encoder_shapes(**TINY_FASTCONFORMER) == written


def test_port_benchmark_of_a_nemo_archive_sets_its_encoder_aside(monkeypatch):
    monkeypatch.setattr(port_bench, "FASTCONFORMER_LARGE", TINY_FASTCONFORMER)
    lines = []
    result = run_port_benchmark(port_bench.NEMO_LARGE, out=lines.append)
    assert result["seconds"] > 0
    assert lines[0].startswith("nemo-fastconformer-hybrid-large: checkpoint")


@pytest.fixture(scope="module")
def torchaudio_checkpoint(tmp_path_factory):
    """A real torchaudio emformer_rnnt_base state dict (zeros: only the layout matters)."""
    from torchaudio.models import emformer_rnnt_base

    with torch.device("meta"):
        model = emformer_rnnt_base(num_symbols=33)
    state = {k: torch.zeros(v.shape) for k, v in model.state_dict().items()}
    path = tmp_path_factory.mktemp("ta") / "emformer.pt"
    torch.save(state, path)
    return path


def test_inspect_reads_a_real_torchaudio_rnnt(torchaudio_checkpoint, capsys):
    assert main(["inspect", str(torchaudio_checkpoint)]) == 0
    out = capsys.readouterr().out
    assert "torchaudio (plain state dict" in out
    assert "num_symbols = 33" in out and "num_lstm_layers = 3" in out
    assert "transcriber = emformer" in out


def test_a_torchaudio_port_is_refused_naming_the_components(torchaudio_checkpoint, tmp_path,
                                                             capsys):
    assert main(["port", "--to", "canonical", str(torchaudio_checkpoint),
                 str(tmp_path / "c.pt")]) == 2
    err = capsys.readouterr().err
    assert "transcriber (emformer)" in err and "predictor.input_layer_norm" in err
    assert "predictor.linear" in err
    assert not (tmp_path / "c.pt").exists()


def test_a_port_to_torchaudio_is_refused_naming_the_components(myrtle_checkpoint, tmp_path,
                                                                capsys):
    _, path = myrtle_checkpoint
    assert main(["port", "--to", "torchaudio", *NN_LSTM, str(path), str(tmp_path / "t.pt")]) == 2
    assert "no torchaudio counterpart" in capsys.readouterr().err
    assert not (tmp_path / "t.pt").exists()


def test_canonical_checkpoints_describe_themselves(myrtle_checkpoint, tmp_path, capsys):
    _, path = myrtle_checkpoint
    assert main(["port", "--to", "canonical", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 0
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "c.pt")]) == 0
    out = capsys.readouterr().out
    assert "cannot be read from the weights" not in out
    assert "joint_activation = relu (the checkpoint's canonical_config)" in out
    assert "(assumed):\n  " not in out


def test_a_canonical_config_that_does_not_fit_the_tensors_is_refused(myrtle_checkpoint,
                                                                     tmp_path, capsys):
    _, path = myrtle_checkpoint
    assert main(["port", "--to", "canonical", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 0
    checkpoint = torch.load(tmp_path / "c.pt", weights_only=True)
    checkpoint["canonical_config"]["joint_hidden"] += 1
    torch.save(checkpoint, tmp_path / "bad.pt")
    assert main(["inspect", str(tmp_path / "bad.pt")]) == 1
    out = capsys.readouterr().out
    assert ("the checkpoint's canonical_config does not describe these tensors: it gives "
            "joint_hidden = 6, and every tensor fits joint_hidden = 5") in out


def test_inspect_lists_keys_it_cannot_account_for(tmp_path, capsys):
    state = randomise(MyrtleRNNT(SMALL_MYRTLE)).state_dict()
    state["encoder.pre_rnn.extra_scale"] = torch.ones(1)
    torch.save(state, tmp_path / "m.pt")
    assert main(["inspect", str(tmp_path / "m.pt")]) == 0
    out = capsys.readouterr().out
    assert "cannot be accounted for" in out
    assert "encoder.pre_rnn.extra_scale is not consumed" in out


def test_inspect_says_when_every_tensor_maps(myrtle_checkpoint, capsys):
    _, path = myrtle_checkpoint
    assert main(["inspect", str(path)]) == 0
    assert "every tensor maps to the canonical layout" in capsys.readouterr().out


def test_compare_two_checkpoints_passes_for_a_port_and_fails_for_other_weights(
        myrtle_checkpoint, tmp_path, capsys):
    _, path = myrtle_checkpoint
    assert main(["port", "--to", "canonical", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 0
    assert main(["compare", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 0
    assert "no stage diverges" in capsys.readouterr().out
    torch.save(randomise(MyrtleRNNT(SMALL_MYRTLE), seed=7).state_dict(), tmp_path / "o.pt")
    assert main(["compare", *NN_LSTM, str(path), str(tmp_path / "o.pt")]) == 1
    out = capsys.readouterr().out
    assert "first divergence: float64 encoder (random inputs)" in out
    assert "first divergent module pair: encoder.pre_rnn (myrtle_rnnt) vs encoder.pre.1" in out


def test_compare_with_padding_explains_myrtles_stack_time_and_judges_the_other_frames(
        myrtle_checkpoint, tmp_path, capsys):
    """Myrtle's StackTime reads the padded batch; the canonical model zeroes past each
    utterance's length: the odd half-length utterance's last stacked frame differs, is
    explained, and every other valid frame is judged (and agrees exactly)."""
    _, path = myrtle_checkpoint
    assert main(["port", "--to", "canonical", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 0
    capsys.readouterr()
    assert main(["compare", "--padded", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 0
    out = capsys.readouterr().out
    assert "encoder    explained valid frames" in out and "prediction pass" in out
    assert "elsewhere: pass (max abs 0.00e+00" in out
    assert "explained at utterance 1 frame 3, the loss of utterance 1: the last stacked " \
        "frame of an utterance whose length is not a multiple of 2 reaches past its end, " \
        "where myrtle_rnnt finds the next frame of the padded batch" in out
    assert main(["compare", *NN_LSTM, str(path), str(tmp_path / "c.pt")]) == 0


def test_an_error_outside_the_explained_frames_still_fails_a_padded_compare(
        myrtle_checkpoint, tmp_path, capsys):
    _, path = myrtle_checkpoint
    torch.save(randomise(MyrtleRNNT(SMALL_MYRTLE), seed=7).state_dict(), tmp_path / "o.pt")
    assert main(["port", "--to", "canonical", *NN_LSTM, str(tmp_path / "o.pt"),
                 str(tmp_path / "o_c.pt")]) == 0
    capsys.readouterr()
    assert main(["compare", "--padded", *NN_LSTM, str(path), str(tmp_path / "o_c.pt")]) == 1
    out = capsys.readouterr().out
    assert "encoder    FAIL" in out and "elsewhere: FAIL" in out
    assert "first divergence: float64 encoder (random inputs, padded batch)" in out


def test_a_hybrid_reaches_a_family_without_ctc_only_by_dropping_the_head(tmp_path, capsys):
    from rnnt_parity.checkpoints import read_checkpoint
    from rnnt_parity.models.tiny import TINY_CHECKPOINT

    out = tmp_path / "myrtle.pt"
    assert main(["port", str(TINY_CHECKPOINT), str(out), "--to", "myrtle_rnnt"]) == 2
    assert "the model has a CTC head; Myrtle's has none" in capsys.readouterr().err
    assert not out.exists()
    assert main(["port", str(TINY_CHECKPOINT), str(out), "--to", "myrtle_rnnt",
                 "--drop-ctc-head"]) == 0
    provenance = json.loads((tmp_path / "myrtle.pt.provenance.json").read_text())
    assert provenance["dropped"]["ctc.*"] == "--drop-ctc-head"
    assert not any(key.startswith("ctc") for key in read_checkpoint(out).state)


def test_dropping_a_ctc_head_that_is_absent_is_refused(myrtle_checkpoint, tmp_path, capsys):
    assert main(["port", *NN_LSTM, str(myrtle_checkpoint[1]), str(tmp_path / "c.pt"), "--to",
                 "canonical", "--drop-ctc-head"]) == 2
    assert "has no CTC head" in capsys.readouterr().err


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
HARDWARE = FIXTURES / "checkpoints" / "myrtle" / "v1.3.0" / "lstm.hardware.pt"
"""A v1.3 hardware checkpoint: its rnnt_config says custom_lstm false."""
TINY_FSDD = FIXTURES / "models" / "tiny_fsdd.pt"


def test_a_statement_contradicting_what_the_checkpoint_says_is_refused(tmp_path, capsys):
    assert main(["port", "--to", "canonical", "--assume", "hard_activations=true",
                 str(HARDWARE), str(tmp_path / "c.pt")]) == 2
    assert ("--assume hard_activations=true contradicts the checkpoint, which says "
            "hard_activations = false (the checkpoint's rnnt_config)") in capsys.readouterr().err
    assert not (tmp_path / "c.pt").exists()


def test_a_statement_contradicting_a_canonical_config_is_refused(tmp_path, capsys):
    assert main(["inspect", "--assume", "joint_activation=tanh", str(TINY_FSDD)]) == 2
    assert ("--assume joint_activation=tanh contradicts the checkpoint's canonical_config, "
            "which says relu") in capsys.readouterr().err


def test_a_property_stated_twice_differently_is_refused(capsys):
    assert main(["inspect", "--hard-activations", "--assume", "hard_activations=false",
                 str(HARDWARE)]) == 2
    assert "--assume hard_activations is stated twice: false and true" in capsys.readouterr().err


def test_compare_gives_a_statement_only_to_the_checkpoint_that_cannot_show_it(tmp_path):
    training = str(HARDWARE).replace("hardware", "training")
    assert main(["port", "--to", "canonical", "--assume", "hard_activations=false", training,
                 str(tmp_path / "c.pt")]) == 0
    assert main(["compare", "--assume", "hard_activations=false", training,
                 str(tmp_path / "c.pt")]) == 0
