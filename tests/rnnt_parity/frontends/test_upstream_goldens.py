"""The same golden comparisons, live: each Myrtle and myrtlespeech golden set is made again by
the real code and must equal the committed one and pass against the project's model input.

Runs where the real code runs (marker `upstream`); skipped with the reason elsewhere. Set
    RNNT_PARITY_UPSTREAM_PYTHON   an interpreter with the real code's dependencies
                                  (scripts/goldens/make_env.sh VENV makes one)
    RNNT_PARITY_CAIMAN            a git clone of MyrtleSoftware/caiman-asr
    RNNT_PARITY_MYRTLESPEECH      a git clone of MyrtleSoftware/myrtlespeech
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from rnnt_parity.frontends.goldens import (
    REPOSITORY,
    compare_with_golden,
    golden_sets,
    load_golden_set,
)

pytestmark = pytest.mark.upstream
SCRIPTS = REPOSITORY / "scripts" / "goldens"
CLONES = {"myrtle_rnnt": "RNNT_PARITY_CAIMAN", "myrtlespeech": "RNNT_PARITY_MYRTLESPEECH",
          "dsi": "RNNT_PARITY_MYRTLESPEECH"}
SETS = [name for name in golden_sets()
        if load_golden_set(name).provenance["family"] in CLONES]


def environment(family: str) -> tuple[str, Path]:
    python = os.environ.get("RNNT_PARITY_UPSTREAM_PYTHON")
    clone = os.environ.get(CLONES[family])
    if not python or not clone:
        pytest.skip(f"set RNNT_PARITY_UPSTREAM_PYTHON and {CLONES[family]} to run the real "
                    f"{family} pipeline")
    return python, Path(clone)


def checkout(clone: Path, commit: str, folder: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(clone), "archive", commit, folder],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / folder


def make_again(name: str, tmp_path: Path) -> Path:
    provenance = load_golden_set(name).provenance
    python, clone = environment(provenance["family"])
    audio = [str(REPOSITORY / path) for path in provenance["audio"].values()]
    config = str(REPOSITORY / provenance["config"])
    if provenance["family"] == "myrtle_rnnt":
        training = checkout(clone, provenance["commit"], "training", tmp_path)
        command = [python, str(SCRIPTS / "myrtle_frontend.py"), "--training", str(training)]
    else:
        src = checkout(clone, provenance["commit"], "src", tmp_path)
        command = [python, str(SCRIPTS / "myrtlespeech_frontend.py"), "--src", str(src),
                   "--revision", provenance["revision"] if provenance["family"] != "dsi"
                   else provenance["commit"], *(["--dsi"] if provenance["family"] == "dsi"
                                                else [])]
    root = tmp_path / "goldens"
    subprocess.run([*command, "--config", config, "--name", name, "--root", str(root),
                    *audio], check=True, capture_output=True, cwd=REPOSITORY)
    return root


@pytest.mark.parametrize("name", SETS)
def test_the_real_code_makes_the_committed_golden_again(name, tmp_path):
    fresh = load_golden_set(name, make_again(name, tmp_path))
    committed = load_golden_set(name)
    assert fresh.lengths == committed.lengths
    for stem, rows in committed.rows.items():
        np.testing.assert_array_equal(fresh.rows[stem], rows, err_msg=stem)
    results = compare_with_golden(fresh)
    assert all(r.passed for r in results), [r.describe() for r in results]
