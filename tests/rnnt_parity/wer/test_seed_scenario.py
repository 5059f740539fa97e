"""Seed 000's scenario on a tiny FSDD model: the same weights in two codebases.

The model (`rnnt_parity.models.tiny.VARIANTS["myrtlespeech"]`) has the seed's myrtlespeech
shape and input (80 mels x 5 symmetric context frames, subsampled by 2); it was trained in
the canonical family and is ported here to the myrtlespeech family.
(a) The faithful port, same front end and decoder: identical hypotheses, zero drift, and
    the report says so.
(b) The seed's differences that live outside the weights, one at a time: no subsampling;
    python_speech_features in place of the Myrtle front end; the fully connected
    activation stated differently (Hardtanh(0, 20) vs ReLU: the seed's "extra hardtanhs");
    left in place of symmetric context. The report gives the drift, its interval, and names
    the one differing condition first.
(c) The seed's fifth difference, the off-by-one packed label length, is a training bug: it
    lives in the weights. The same model fine-tuned for one epoch with and without it
    (`FINE_TUNED`) differ only in the checkpoint's training record, which the report names.
"""

import json

import pytest

from rnnt_parity.cli import main
from rnnt_parity.corpus.fsdd import held_out_utterances, write_utterances
from rnnt_parity.models.tiny import FINE_TUNED, VARIANTS

MODEL = VARIANTS["myrtlespeech"]
PORT_ONLY = {"checkpoint", "checkpoint_sha256", "family"}
DIFFERENCES = {
    "no_subsampling": ("model_input", {"subsample": 1}, "model_input.subsample"),
    "psf_front_end": ("model_input", {"source": "lib:python_speech_features"},
                      "model_input.source"),
    "relu_for_hardtanh": ("activations", {"fc_activation": "relu"},
                          "activations.fc_activation"),
    "left_context": ("model_input", {"context": "left", "context_frames": 5},
                     "model_input.context"),
}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seed")
    write_utterances(held_out_utterances(24, 6), folder / "data")
    assert main(["port", str(MODEL.checkpoint), str(folder / "ms.pt"), "--to",
                 "myrtlespeech"]) == 0
    (folder / "canonical.json").write_text(json.dumps({"checkpoint": str(MODEL.checkpoint)}))
    (folder / "ms.json").write_text(json.dumps({"checkpoint": str(folder / "ms.pt")}))
    for name, (section, change, _) in DIFFERENCES.items():
        spec = {"checkpoint": str(folder / "ms.pt")}
        spec[section] = ({**MODEL.model_input.describe(), **change} if section == "model_input"
                         else change)
        (folder / f"{name}.json").write_text(json.dumps(spec))
    return folder


def _drift(folder, out, b, *extra) -> tuple[int, dict]:
    status = main(["wer-drift", "--manifest", str(folder / "data" / "manifest.jsonl"),
                   "--system-a", str(folder / "canonical.json"), "--system-b",
                   str(folder / f"{b}.json"), "--out", str(out), "--no-progress",
                   "--replicates", "2000", *extra])
    return status, json.loads((out / "report.json").read_text())


def test_faithful_port_gives_identical_hypotheses_and_zero_drift(scenario, tmp_path):
    status, report = _drift(scenario, tmp_path, "ms", "--fail-on", "identity:100%",
                            "--fail-on", "abs:0%")
    assert status == 0
    assert report["identity"]["rate"] == 1.0 and report["wer"]["delta"] == 0.0
    assert {d["field"] for d in report["conditions"]["differences"]} == PORT_ONLY
    assert report["conditions"]["b"]["family"] == "myrtlespeech"
    assert "No drift: every hypothesis is identical." in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize("variant", sorted(DIFFERENCES))
def test_seed_difference_is_named_and_its_drift_measured(scenario, tmp_path, variant):
    _, _, field = DIFFERENCES[variant]
    _, report = _drift(scenario, tmp_path, variant)
    differences = {d["field"] for d in report["conditions"]["differences"]} - PORT_ONLY
    assert field in differences and len(differences) <= 2  # context carries its frame count
    low, high = report["bootstrap"]["delta_ci95"]
    assert low <= report["wer"]["delta"] <= high
    markdown = (tmp_path / "report.md").read_text()
    assert markdown.index(field) < markdown.index("## Errors")


@pytest.mark.parametrize("variant", ["psf_front_end", "left_context"])
def test_input_differences_raise_wer_significantly_and_fail_the_ci_gate(scenario, tmp_path,
                                                                       variant):
    status, report = _drift(scenario, tmp_path, variant, "--fail-on", "ci")
    assert report["bootstrap"]["delta_ci95"][0] > 0 and status == 1


def test_off_by_one_label_length_in_training_is_named_and_raises_wer(scenario, tmp_path):
    for name, path in FINE_TUNED.items():
        (tmp_path / f"{name}.json").write_text(json.dumps({"checkpoint": str(path)}))
    status = main(["wer-drift", "--manifest", str(scenario / "data" / "manifest.jsonl"),
                   "--system-a", str(tmp_path / "control.json"), "--system-b",
                   str(tmp_path / "off_by_one_label_length.json"), "--out",
                   str(tmp_path / "r"), "--no-progress", "--replicates", "2000",
                   "--fail-on", "ci"])
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    differences = {d["field"]: d for d in report["conditions"]["differences"]}
    assert set(differences) == {"checkpoint", "checkpoint_sha256", "training.pitfall"}
    assert differences["training.pitfall"]["b"] == "off_by_one_label_length"
    assert report["bootstrap"]["delta_ci95"][0] > 0 and status == 1
