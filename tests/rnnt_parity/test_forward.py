"""`rnnt-parity forward` and `compare --against` reproduce the real models (golden outputs
written by the real code: fixtures/goldens/forward), stage by stage on the valid region, and
the greedy decoders reproduce the real codebases' greedy decoders (seed 001's workflow:
NeMo's heads, greedy RNN-T with a symbol budget and greedy CTC on given encoder outputs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnt_parity.cli import main
from rnnt_parity.compare.arrays import compare
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.forward import _valid, run_forward
from rnnt_parity.models.greedy import decode_any
from rnnt_parity.port import load_model

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "fixtures" / "goldens" / "forward"
SETS = sorted(p.name for p in GOLDEN.iterdir() if (p / "provenance.json").is_file())


def golden(name: str) -> tuple[dict, dict, dict]:
    folder = GOLDEN / name
    with np.load(folder / "inputs.npz") as i, np.load(folder / "outputs.npz") as o:
        inputs, outputs = {k: i[k] for k in i.files}, {k: o[k] for k in o.files}
    return json.loads((folder / "provenance.json").read_text()), inputs, outputs


def statements(name: str, provenance: dict) -> dict:
    """The Myrtle training checkpoints do not say their LSTM kind: the set's name does."""
    if provenance["family"] != "myrtle_rnnt" or name.startswith("myrtle-v1.14"):
        return {}
    return {"hard_activations": "true" if "hard" in name else "false"}


def inputs_file(tmp_path: Path, inputs: dict, family: str) -> Path:
    path = tmp_path / "in.npz"
    if family == "nemo":
        arrays = {"encoder": inputs["encoder"], "encoder_lengths": inputs["encoder_lengths"]}
    else:
        arrays = {"features": inputs.get("features_dsi", inputs["features"]),
                  "feature_lengths": inputs["feature_lengths"]}
    np.savez(path, labels=inputs["labels"], label_lengths=inputs["label_lengths"], **arrays)
    return path


def forward(name: str, tmp_path: Path):
    provenance, inputs, outputs = golden(name)
    ours, read, _ = run_forward(ROOT / provenance["checkpoint"],
                                inputs_file(tmp_path, inputs, provenance["family"]),
                                provenance["family"], ema=name.endswith("-ema"),
                                assume=statements(name, provenance))
    return provenance, read, ours, outputs


def assert_stage(ours, real, lengths, label_lengths, label_axis, provenance, stage):
    dtype = provenance["settings"]["dtype"].split()[0]
    tolerance = tolerance_for(dtype, "cpu", "model.forward")
    expected = _valid(real.astype(np.float64), lengths, label_lengths, label_axis)
    actual = _valid(ours, lengths, label_lengths, label_axis)
    peak = np.abs(expected).reshape(expected.shape[0], -1).max(axis=1, initial=0.0)
    result = compare(actual, expected, tolerance, peak)
    assert result.passed, f"{stage}: max abs {result.max_abs:.3e} at {result.worst_index}"


@pytest.mark.parametrize("name", SETS)
def test_forward_reproduces_the_real_models_stages(name, tmp_path):
    provenance, read, ours, real = forward(name, tmp_path)
    lengths = ours["encoder_lengths"]
    if "encoder_lengths" in real:
        np.testing.assert_array_equal(lengths, real["encoder_lengths"])
    assert int(ours["blank"]) == int(real["blank"])
    encoder = real.get("encoder_before_joint_enc", real.get("encoder"))
    if provenance["family"] != "nemo":
        assert_stage(ours["encoder"], encoder, lengths, None, None, provenance, "encoder")
    prediction = real.get("prediction_before_joint_pred", real["prediction"])
    assert_stage(ours["prediction"], prediction, None, read.label_lengths, 1, provenance,
                 "prediction")
    assert_stage(ours["joint"], real["joint"], lengths, read.label_lengths, 2, provenance,
                 "joint")
    if "ctc" in real:  # NeMo's CTC decoder returns log-probs
        log_probs = torch.from_numpy(ours["ctc"]).log_softmax(-1).numpy()
        assert_stage(log_probs, real["ctc"], lengths, None, None, provenance, "ctc")


def hypotheses(real: dict, key: str) -> list[list[int]]:
    return [list(map(int, row[:n])) for row, n in zip(real[key], real[f"{key}_lengths"],
                                                       strict=True)]


GREEDY = [(name, key, int(key.rsplit("max", 1)[1])) for name in SETS if "batchnorm" not in name
          for key in golden(name)[2] if key.startswith(("greedy_max", "greedy_rnnt_max",
                                                        "greedy_batch_rnnt_loop_labels_max",
                                                        "greedy_batch_rnnt_loop_frames_max"))
          and not key.endswith(("_lengths", "_timestamp"))]
"""Every real greedy decoding recorded, but for the batch-norm Myrtle models: the decoders
here run a model's canonical port, and batch norm between LSTM layers has none (their forward
passes are compared above)."""


@pytest.mark.parametrize(("name", "key", "budget"), GREEDY,
                         ids=[f"{n}-{k}" for n, k, _ in GREEDY])
def test_greedy_decoding_equals_the_real_greedy_decoder(name, key, budget, tmp_path):
    provenance, inputs, real = golden(name)
    model = load_model(ROOT / provenance["checkpoint"], provenance["family"],
                       ema=name.endswith("-ema"),
                       assume=statements(name, provenance)).double()
    x = inputs["encoder"] if provenance["family"] == "nemo" else inputs.get(
        "features_dsi", inputs["features"])
    lengths = inputs["encoder_lengths" if provenance["family"] == "nemo" else "feature_lengths"]
    assert decode_any(model, x, lengths, budget) == hypotheses(real, key)


def test_greedy_ctc_equals_nemos_on_the_hybrids_ctc_head(tmp_path):
    provenance, inputs, real = golden("nemo-hybrid_char_tiny")
    ours, _, _ = run_forward(ROOT / provenance["checkpoint"],
                             inputs_file(tmp_path, inputs, "nemo"), "nemo")
    blank = int(real["ctc_blank"])
    decoded = []
    for row, length in zip(ours["ctc"].argmax(-1), inputs["encoder_lengths"], strict=True):
        path = row[:length].tolist()
        decoded.append([k for t, k in enumerate(path) if k != blank
                        and (t == 0 or path[t - 1] != k)])
    assert decoded == hypotheses(real, "greedy_ctc")


def test_the_dsi_port_to_myrtlespeech_reproduces_45899f7s_model(tmp_path):
    """Seed 000's job: DSI's weights into myrtlespeech, as 45899f7 ran them."""
    provenance, inputs, real = golden("dsi-45899f7-dsi_style_tiny_80mel")
    ported = tmp_path / "ms.pt"
    assert main(["port", "--to", "myrtlespeech", str(ROOT / provenance["checkpoint"]),
                 str(ported)]) == 0
    ours, read, _ = run_forward(ported, inputs_file(tmp_path, inputs, "dsi"), "myrtlespeech")
    assert_stage(ours["joint"], real["joint"], ours["encoder_lengths"], read.label_lengths, 2,
                 provenance, "joint")


def test_compare_against_names_the_first_divergent_stage(tmp_path, capsys):
    provenance, inputs, real = golden("myrtle-v1.3.0-lstm")
    inputs_path = inputs_file(tmp_path, inputs, "myrtle_rnnt")
    checkpoint = str(ROOT / provenance["checkpoint"])
    np.savez(tmp_path / "theirs.npz", encoder=real["encoder"], prediction=real["prediction"],
             joint=real["joint"])
    common = ["compare", checkpoint, "--inputs", str(inputs_path), "--assume",
              "hard_activations=false", "--against"]
    assert main([*common, str(tmp_path / "theirs.npz")]) == 0
    assert "no stage diverges" in capsys.readouterr().out
    wrong = real["prediction"].copy()
    wrong[0, 2, 3] += 0.5
    np.savez(tmp_path / "wrong.npz", encoder=real["encoder"], prediction=wrong,
             joint=real["joint"])
    assert main([*common, str(tmp_path / "wrong.npz")]) == 1
    assert "first divergence: prediction" in capsys.readouterr().out


def test_pitfall_a_float32_dump_saved_as_float64_is_judged_by_its_stated_precision(tmp_path,
                                                                                  capsys):
    """Real Myrtle code in float32, its stages stored as float64 (the golden set's format):
    judged by the arrays' dtype they fail float64's bound by float32 rounding (6e-8);
    stated with --their-precision float32 they pass."""
    provenance, inputs, _ = golden("myrtle-v1.3.0-hard_lstm")
    assert provenance["settings"]["dtype"].startswith("float32")
    folder = GOLDEN / "myrtle-v1.3.0-hard_lstm"
    common = ["compare", str(ROOT / provenance["checkpoint"]), "--inputs",
              str(inputs_file(tmp_path, inputs, "myrtle_rnnt")), "--assume",
              "hard_activations=true", "--against", str(folder / "outputs.npz")]
    assert main(common) == 1
    assert "first divergence: encoder" in capsys.readouterr().out
    assert main([*common, "--their-precision", "float32"]) == 0
    assert "no stage diverges" in capsys.readouterr().out


def test_their_precision_without_against_is_refused(capsys):
    checkpoint = str(ROOT / "fixtures/models/tiny_fsdd.pt")
    assert main(["compare", checkpoint, checkpoint, "--their-precision", "float32"]) == 2
    assert "--their-precision is for --against" in capsys.readouterr().err


def test_forward_writes_the_stages_and_refuses_to_overwrite(tmp_path, capsys):
    provenance, inputs, _ = golden("nemo-rnnt_char_tiny")
    inputs_path = inputs_file(tmp_path, inputs, "nemo")
    command = ["forward", str(ROOT / provenance["checkpoint"]), "--inputs", str(inputs_path),
               "--out", str(tmp_path / "out.npz")]
    assert main(command) == 0
    with np.load(tmp_path / "out.npz") as written:
        assert {"encoder", "prediction", "joint", "blank", "encoder_lengths"} == set(
            written.files)
    assert main(command) == 2 and "pass --force" in capsys.readouterr().err


@pytest.mark.parametrize(("change", "message"), [
    ({"labels": np.full((2, 4), 28)}, "labels[0, 0] = 28 is not a label"),
    ({"encoder_lengths": np.array([13, 9])}, "encoder lengths[0] = 13 is outside"),
    ({"encoder": np.zeros((2, 12, 7))}, "encoder rows are 7 wide"),
    ({"label_lengths": np.array([4])}, "label_lengths has batch 1"),
])
def test_bad_inputs_are_refused_naming_the_array(tmp_path, capsys, change, message):
    provenance, inputs, _ = golden("nemo-rnnt_char_tiny")
    arrays = {"encoder": inputs["encoder"], "encoder_lengths": inputs["encoder_lengths"],
              "labels": inputs["labels"], "label_lengths": inputs["label_lengths"], **change}
    np.savez(tmp_path / "in.npz", **arrays)
    assert main(["forward", str(ROOT / provenance["checkpoint"]), "--inputs",
                 str(tmp_path / "in.npz"), "--out", str(tmp_path / "o.npz")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o.npz").exists()
