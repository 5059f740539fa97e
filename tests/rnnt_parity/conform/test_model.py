"""`rnnt-parity conform model`: the project's loader conforms on both fixture checkpoints,
and each catalogued porting bug is caught at the right key or stage."""

import json

import pytest

from rnnt_parity.cli import main
from rnnt_parity.conform.model import conform_model
from rnnt_parity.fixtures import DEFAULT_FIXTURE_ROOT
from tests.rnnt_parity.conform.known_bugs import MODELS

HYBRID = DEFAULT_FIXTURE_ROOT / "models" / "tiny_fsdd.pt"
MYRTLESPEECH_SHAPE = DEFAULT_FIXTURE_ROOT / "models" / "tiny_fsdd_myrtlespeech.pt"


@pytest.mark.parametrize("checkpoint", [HYBRID, MYRTLESPEECH_SHAPE])
def test_the_project_loader_conforms(checkpoint, tmp_path):
    assert main(["conform", "model", "rnnt_parity.port:load_model", "--checkpoint",
                 str(checkpoint), "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert len(report["checks"]) == 3 and report["convention"]["family"] == "canonical"


@pytest.mark.parametrize("mutant, key, stage", [
    ("lstm_gates_swapped", "encoder.pre.0.weight_ih", "encoder"),
    ("bias_hh_dropped", "encoder.pre.0.bias_hh", "encoder"),
    ("strict_false_misses_a_key", "joint.output.bias", "joint"),
])
def test_pitfall_a_damaged_weight_is_named_by_key_and_stage(mutant, key, stage):
    weights, full, padded = conform_model(MODELS + mutant, HYBRID).checks
    assert not weights.passed and key in weights.detail
    assert not full.passed and f"first divergent stage: float64 {stage}" in full.detail


def test_pitfall_extra_activations_leave_the_weights_alone_and_fail_the_encoder():
    weights, full, _ = conform_model(MODELS + "two_extra_hardtanh", HYBRID).checks
    assert weights.passed
    assert "first divergent stage: float64 encoder" in full.detail


def test_a_loader_that_returns_no_module_is_a_failed_check():
    report = conform_model("tests.rnnt_parity.conform.test_model:_not_a_model", HYBRID)
    assert not report.passed and "not a torch.nn.Module" in report.checks[0].detail


def _not_a_model(path):
    return {"path": path}


def test_a_myrtle_ports_padded_batch_divergence_is_explained_and_judged_elsewhere(tmp_path):
    """Myrtle's StackTime reads the padded batch (README, Models): the kit names that
    codebase behaviour where it shows and judges the padded batch on every other frame."""
    from rnnt_parity.port import port_checkpoint

    ported = tmp_path / "myrtle.pt"
    port_checkpoint(HYBRID, ported, "myrtle_rnnt", drop_ctc_head=True, out=lambda _: None)
    report = conform_model("rnnt_parity.port:load_model", ported)
    assert [c.passed for c in report.checks] == [True, True, True]
    assert "outside the explained frames (encoder, joint, loss)" in report.checks[2].detail
    assert "explained at utterance 1 frame 3, the loss of utterance 1:" in \
        report.checks[2].detail
    assert "StackTime" in report.checks[2].detail


MYRTLE_TRAINING = DEFAULT_FIXTURE_ROOT / "checkpoints" / "myrtle" / "v1.3.0" / \
    "hard_lstm.training.pt"
"""A real Myrtle training checkpoint: it does not say whether its LSTMs are hard."""


def test_a_checkpoint_whose_lstm_kind_is_unknown_is_refused_until_stated(tmp_path, capsys):
    common = ["conform", "model", "rnnt_parity.port:load_model", "--checkpoint",
              str(MYRTLE_TRAINING), "--out", str(tmp_path / "r")]
    assert main(common) == 2
    assert "--assume hard_activations=VALUE" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
    report = conform_model("tests.rnnt_parity.conform.test_model:_hard_lstm_loader",
                           MYRTLE_TRAINING, assume={"hard_activations": "true"})
    assert report.checks[0].passed and report.checks[1].passed, report.checks


def _hard_lstm_loader(path):
    from rnnt_parity.port import load_model

    return load_model(path, assume={"hard_activations": "true"})
