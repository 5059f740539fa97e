"""`rnnt-parity conform features`: production front ends conform to their presets, and the
seed's input-stage differences are caught."""

import json

import pytest

from rnnt_parity.cli import main
from rnnt_parity.conform.catalogue import CATALOGUE
from rnnt_parity.conform.features import conform_features, read_model_input
from rnnt_parity.fixtures import DEFAULT_FIXTURE_ROOT
from tests.rnnt_parity.conform.known_bugs import CORRECT, FRONT_ENDS

MODEL_INPUT = CATALOGUE.parent / "front_end_model_input.json"


def test_kaldi_fbank_conforms_to_the_kaldi_preset(tmp_path):
    assert main(["conform", "features", "rnnt_parity.frontends.production:kaldi_fbank",
                 "--preset", "kaldi", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["kind"] == "front end" and len(report["checks"]) >= 7


def test_a_stacked_front_end_with_context_conforms_to_its_model_input():
    assert conform_features(CORRECT + "front_end", read_model_input(None, MODEL_INPUT)).passed


@pytest.mark.parametrize("mutant, detail", [
    ("missing_subsampling", "shape"),
    ("different_front_end", "differ"),
    ("left_context_for_symmetric", "values differ"),
])
def test_pitfall_an_input_stage_difference_is_caught(mutant, detail):
    report = conform_features(FRONT_ENDS + mutant, read_model_input(None, MODEL_INPUT))
    first = next(c for c in report.checks if not c.passed)
    assert first.name.startswith("audio fixture") and detail in first.detail


def test_a_production_library_is_refused_as_the_reference():
    with pytest.raises(ValueError, match="never the oracle"):
        read_model_input("lib:kaldi", None)


def test_exactly_one_reference_must_be_given():
    with pytest.raises(ValueError, match="exactly one"):
        read_model_input(None, None)


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "not valid JSON"),
    ('{"source": "kaldi", "colour": "red"}', "not ModelInput fields"),
    ('{"config": "c.yaml", "colour": "red"}', r"unknown field\(s\) \['colour'\] beside"),
])
def test_a_bad_model_input_file_is_refused_naming_it(tmp_path, text, message):
    path = tmp_path / "model_input.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as raised:
        read_model_input(None, path)
    assert str(path) in str(raised.value)


def test_a_codebase_config_names_the_reference_as_features_extract_reads_it(tmp_path):
    path = tmp_path / "model_input.json"
    config = DEFAULT_FIXTURE_ROOT / "configs" / "myrtle" / "v1.3.0" / "testing-1023sp.yaml"
    path.write_text(json.dumps({"config": str(config)}))
    reference = read_model_input(None, path)
    assert reference.source == "myrtle" and reference.width == 240
    assert dict(reference.overrides)["frame_length_s"] == 0.02
