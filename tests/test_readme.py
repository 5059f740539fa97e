"""The README's quick start runs as written, on the files that ship, from the repository
root (its /tmp/rp outputs moved to a temporary folder, its .venv/bin/ the running
interpreter's)."""

from __future__ import annotations

import os
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


NOT_RUN = {
    "python3 -m venv .venv": "the set-up commands: .ci/run runs the second; "
                             "test_the_first_command_s_main_job_runs runs the first's job",
    "mkdir -p /tmp/rp": "the quick start: test_the_quick_start_runs_as_written",
    "git clone https://github.com/HawkAaron/warp-transducer": "needs the network; .ci/run "
                             "runs the same build scripts on ../shared/upstream's copy",
}
"""Blocks not run here, by their first line, with where they are run instead."""


def readme_blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block of the README."""
    text = (ROOT / "README.md").read_text()
    return re.findall(r"^```([^\n]*)\n(.*?)^```", text, re.M | re.S)


def runnable_blocks() -> list[tuple[str, str]]:
    return [(language, text) for language, text in readme_blocks()
            if language != "text" and not any(text.startswith(k) for k in NOT_RUN)]


def _sandbox(tmp_path: Path) -> Path:
    """A working folder where the README's relative paths (fixtures/, examples/) resolve
    and its outputs land outside the checkout."""
    for name in ("fixtures", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def test_every_block_is_run_here_or_says_where_it_is_run():
    kinds = {language for language, _ in readme_blocks()}
    assert kinds <= {"", "python", "sh", "text"}
    for prefix in NOT_RUN:
        assert sum(text.startswith(prefix) for _, text in readme_blocks()) >= 1, prefix
    assert len(runnable_blocks()) >= 10


@pytest.mark.parametrize("language, text", runnable_blocks(),
                         ids=[text.splitlines()[0][:50] for _, text in runnable_blocks()])
def test_every_readme_block_runs_as_written(language, text, tmp_path):
    folder = _sandbox(tmp_path)
    environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    if language == "python" and "def test_" in text:
        (folder / "test_snippet.py").write_text(text)
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "test_snippet.py"]
    elif language == "python":
        argv = [sys.executable, "-c", text]
    else:
        argv = ["bash", "-euo", "pipefail", "-c", text.replace(".venv/bin/", BIN)]
    done = subprocess.run(argv, cwd=folder, env=environment, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])


def test_the_first_command_s_main_job_runs():
    first = readme_blocks()[0][1].strip()
    assert first.endswith("&& .venv/bin/rnnt-parity check")
    done = subprocess.run([f"{BIN}rnnt-parity", "check"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert " 0 failed" in done.stdout
