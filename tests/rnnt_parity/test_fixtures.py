"""The hand-worked lattices: coverage of the required cases and schema errors."""

from __future__ import annotations

import ast
import json
import math

import numpy as np
import pytest

from rnnt_parity.fixtures import DEFAULT_FIXTURE_DIR, load_rnnt_fixture, load_rnnt_fixtures

REQUIRED = {
    "seed_example1_near_one_hot", "seed_example2_binary_uniform",
    "warp_transducer_published_blank0", "warp_transducer_published_blank_last",
    "empty_target_only_blanks", "single_frame_T1", "uniform_logits_closed_form",
    "impossible_alignment_infinite_loss",
}


def test_at_least_ten_fixtures_each_with_a_derivation():
    fixtures = load_rnnt_fixtures()
    assert len(fixtures) >= 10
    for fixture in fixtures:
        assert fixture.derivation and all(line.strip() for line in fixture.derivation)


def test_the_required_cases_are_present():
    assert REQUIRED <= {f.name for f in load_rnnt_fixtures()}


def test_seed_example_2_is_ln_4_and_uniform_matches_its_closed_form():
    fixtures = {f.name: f for f in load_rnnt_fixtures()}
    assert fixtures["seed_example2_binary_uniform"].expected_loss[0] == pytest.approx(math.log(4))
    uniform = fixtures["uniform_logits_closed_form"]
    _, frames, _, vocab = uniform.logits.shape
    labels = uniform.targets.shape[1]
    closed_form = ((frames + labels) * math.log(vocab)
                   - math.log(math.comb(frames + labels - 1, labels)))
    assert uniform.expected_loss[0] == pytest.approx(closed_form, rel=1e-15)


def test_fixture_values_are_not_written_by_the_oracle():
    """The builder computes expectations by hand formulas; it imports nothing of ours."""
    tree = ast.parse((DEFAULT_FIXTURE_DIR / "build_fixtures.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "itertools", "json", "math", "pathlib", "random"}, imported


def test_a_malformed_fixture_names_its_file_and_problem(tmp_path):
    data = json.loads((DEFAULT_FIXTURE_DIR / "single_frame_T1.json").read_text())
    del data["derivation"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"broken.json: missing fields \['derivation'\]"):
        load_rnnt_fixture(path)


def test_an_empty_fixture_folder_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no RNN-T fixtures"):
        load_rnnt_fixtures(tmp_path)


def test_fixture_arrays_have_consistent_shapes():
    for f in load_rnnt_fixtures():
        batch, _, nodes, _ = f.logits.shape
        assert f.targets.shape == (batch, nodes - 1), f.name
        assert f.expected_loss.shape == (batch,), f.name
        if f.expected_grad is not None:
            assert f.expected_grad.shape == f.logits.shape, f.name
            assert np.all(np.isfinite(f.expected_grad)), f.name
