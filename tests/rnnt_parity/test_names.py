"""The command line's written-out choices equal the registries they name, and building the
parser imports neither torch nor numpy (so every `--help` is instant)."""

from __future__ import annotations

import subprocess
import sys

from rnnt_parity import names


def test_family_names_are_the_registered_families():
    from rnnt_parity.codebases import FAMILIES

    assert names.FAMILY_NAMES == tuple(sorted(FAMILIES))
    assert names.MODEL_INPUT_FAMILIES == tuple(sorted(
        name for name, entry in FAMILIES.items() if entry.read_model_input is not None))


def test_feature_sources_are_the_front_end_sources():
    from rnnt_parity.frontends.sources import source_names

    assert names.FEATURE_SOURCES == tuple(source_names())


def test_bench_models_and_backends_are_the_registered_ones():
    from rnnt_parity.backends import RNNT_LOSS_BACKENDS
    from rnnt_parity.checks import CTC_BACKEND
    from rnnt_parity.port_bench import BENCH_MODELS

    assert names.BENCH_MODELS == BENCH_MODELS
    assert names.BACKEND_NAMES == tuple(sorted([*RNNT_LOSS_BACKENDS, CTC_BACKEND.name]))


def test_the_fixture_root_is_the_fixtures_folder():
    from rnnt_parity.fixtures import DEFAULT_FIXTURE_ROOT

    assert DEFAULT_FIXTURE_ROOT == names.FIXTURE_ROOT and (names.FIXTURE_ROOT / "rnnt").is_dir()


def test_building_the_parser_imports_neither_torch_nor_numpy():
    code = ("import sys; from rnnt_parity.cli import build_parser; build_parser(); "
            "heavy = sorted({'torch', 'numpy', 'torchaudio', 'numba'} & set(sys.modules)); "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
