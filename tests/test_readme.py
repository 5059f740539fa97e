"""The README's quick start runs as written, on the files that ship, from the repository
root (its /tmp/rp outputs moved to a temporary folder, its .venv/bin/ the running
interpreter's)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.docs

ROOT = Path(__file__).resolve().parents[1]
BIN = f"{Path(sys.executable).parent}/"
"""Where this interpreter's `rnnt-parity` is (the README's .venv/bin/ in a fresh clone)."""


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1]
    block = re.search(r"^```\n(.*?)^```", section, re.M | re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_the_quick_start_runs_as_written(tmp_path):
    commands = quick_start_commands()
    assert len(commands) == 7 and commands[0] == "mkdir -p /tmp/rp"
    outputs = []
    for command in commands:
        argv = [part.replace("/tmp/rp", str(tmp_path)).replace(".venv/bin/", BIN)
                for part in shlex.split(command)]
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
        outputs.append(done)
        expected = 1 if "--fail-on" in argv else 0
        assert done.returncode == expected, (command, done.stdout[-2000:], done.stderr[-2000:])
    assert "checks passed." in outputs[1].stdout
    assert "myrtle_rnnt (Myrtle hardware checkpoint 1.3.0" in outputs[2].stdout
    assert "the map is exact" in outputs[3].stdout
    assert "no stage diverges" in outputs[4].stdout
    assert "wer-drift gate failed: abs:2%" in outputs[6].stdout
    assert (tmp_path / "drift" / "report.md").is_file()
