"""Seed 000's scenario on the tiny FSDD model: the same weights in two codebases.

(a) A faithful port (canonical -> Myrtle v1.3, the CTC head left behind) with the same front
    end and decoder: identical hypotheses, zero drift, and the report says so.
(b) The seed's differences that live outside the weights, one at a time: no subsampling, and
    python_speech_features in place of the Myrtle front end. The report shows the drift and
    its interval, and names the differing condition first.
"""

import json

import pytest

from rnnt_parity.cli import main
from rnnt_parity.corpus.fsdd import held_out_utterances, write_utterances
from rnnt_parity.models.tiny import TINY_CHECKPOINT, TINY_INPUT


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seed")
    write_utterances(held_out_utterances(24, 6), folder / "data")
    assert main(["port", str(TINY_CHECKPOINT), str(folder / "myrtle.pt"), "--to",
                 "myrtle_rnnt", "--drop-ctc-head"]) == 0
    systems = {
        "canonical": {"checkpoint": str(TINY_CHECKPOINT)},
        "myrtle": {"checkpoint": str(folder / "myrtle.pt")},
        "no_subsampling": {"checkpoint": str(folder / "myrtle.pt"),
                           "model_input": {**TINY_INPUT.describe(), "subsample": 1}},
        "psf_front_end": {"checkpoint": str(folder / "myrtle.pt"),
                          "model_input": {**TINY_INPUT.describe(),
                                          "source": "lib:python_speech_features"}},
    }
    for name, spec in systems.items():
        (folder / f"{name}.json").write_text(json.dumps(spec))
    return folder


def _drift(folder, out, b, *extra) -> tuple[int, dict]:
    status = main(["wer-drift", "--manifest", str(folder / "data" / "manifest.jsonl"),
                   "--system-a", str(folder / "canonical.json"), "--system-b",
                   str(folder / f"{b}.json"), "--out", str(out), "--no-progress",
                   "--replicates", "2000", *extra])
    return status, json.loads((out / "report.json").read_text())


def test_faithful_port_gives_identical_hypotheses_and_zero_drift(scenario, tmp_path):
    status, report = _drift(scenario, tmp_path, "myrtle", "--fail-on", "identity:100%",
                            "--fail-on", "abs:0%")
    assert status == 0
    assert report["identity"]["rate"] == 1.0 and report["wer"]["delta"] == 0.0
    fields = {d["field"] for d in report["conditions"]["differences"]}
    assert fields == {"checkpoint", "checkpoint_sha256", "family"}
    assert "No drift: every hypothesis is identical." in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize("variant, field", [("no_subsampling", "model_input.subsample"),
                                            ("psf_front_end", "model_input.source")])
def test_seed_difference_shows_drift_and_names_its_condition(scenario, tmp_path, variant, field):
    status, report = _drift(scenario, tmp_path, variant, "--fail-on", "ci")
    differences = [d["field"] for d in report["conditions"]["differences"]]
    assert field in differences
    assert set(differences) - {"checkpoint", "checkpoint_sha256", "family"} == {field}
    low, high = report["bootstrap"]["delta_ci95"]
    assert low > 0 and high >= report["wer"]["delta"] >= low
    assert status == 1
    markdown = (tmp_path / "report.md").read_text()
    assert markdown.index(field) < markdown.index("## Errors")
