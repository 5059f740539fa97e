"""The examples/ package runs as its docstrings say: a user's own RNN-T loss conforms, its
buggy twin is caught and named, through the pytest plugin and through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.docs

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "my_rnnt_loss"


def test_the_example_suite_passes_with_the_plugin():
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_my_losses.py"], cwd=EXAMPLE, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "3 passed" in done.stdout


def test_the_buggy_example_loss_through_the_command_line(tmp_path):
    command = [str(Path(sys.executable).parent / "rnnt-parity"), "conform", "rnnt-loss"]
    bad = subprocess.run([*command, "my_losses:rnnt_loss_last_label_dropped", "--out",
                          str(tmp_path / "bad")], cwd=EXAMPLE, capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 1, bad.stdout[-2000:] + bad.stderr[-2000:]
    report = json.loads((tmp_path / "bad" / "conformance.json").read_text())
    assert report["checks"][0]["detail"].startswith("last label not scored: ")
