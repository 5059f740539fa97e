"""What the real-peer build scripts (build_warprnnt.py, build_optimized_transducer.py) share:
a build cached by source hash, outside the project's tree.

A build lives in `PREFIX/<key>/`, where `<key>` hashes the source tree (every file's path
and bytes), the build fixes applied, the interpreter's version and torch's version (the
binding links against that torch). It holds:

    source/     a writable copy of the source, with the build-flag fixes applied to the copy
    build/      the CMake build folder (the binding's rpath points here: keep it)
    dist/       the binding's wheel
    site/       the wheel installed with `pip install --target` (put it on PYTHONPATH)
    LICENSE     the upstream licence
    build.json  what was built, from where, with which fixes, and how long it took

`build.json` is written last, so a folder without it is an interrupted build and is
rebuilt; a folder with it is reused, which takes seconds. The shared source is only read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CACHE = Path(os.environ.get("RNNT_PARITY_CACHE",
                                    Path.home() / ".cache" / "rnnt-parity"))
SKIPPED_NAMES = {".git", "__pycache__", "build", "dist"}
"""Never part of a source tree's identity (VCS data, byte code, earlier in-tree builds)."""


@dataclass(frozen=True)
class Fix:
    """One build-only fix: replace `old` (found exactly once) by `new` in the copy's `path`."""

    path: str
    old: str
    new: str
    why: str

    def apply(self, root: Path) -> None:
        target = root / self.path
        text = target.read_text()
        if text.count(self.old) != 1:
            raise SystemExit(f"build fix for {self.path}: expected {self.old!r} exactly once, "
                             f"found it {text.count(self.old)} times (another upstream "
                             "revision?); nothing was changed")
        target.write_text(text.replace(self.old, self.new))


def source_files(source: Path) -> list[Path]:
    files = []
    for folder, names, file_names in os.walk(source):
        names[:] = sorted(n for n in names if n not in SKIPPED_NAMES)
        files += [Path(folder, n) for n in sorted(file_names) if not n.endswith(".pyc")]
    return files


def tree_hash(source: Path) -> str:
    """sha256 over every file's relative path and bytes (sorted)."""
    digest = hashlib.sha256()
    for path in source_files(source):
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def interpreter_facts(python: str) -> dict:
    """The interpreter's and its torch's versions (the binding's ABI depends on both)."""
    code = ("import json, sys, torch; print(json.dumps({'python': sys.version.split()[0], "
            "'torch': torch.__version__}))")
    output = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def build_key(source_hash: str, fixes: list[Fix], facts: dict, extra: str = "") -> str:
    digest = hashlib.sha256(json.dumps({
        "source": source_hash, "fixes": [vars(f) for f in fixes], "facts": facts,
        "extra": extra}, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def copy_source(source: Path, destination: Path) -> None:
    """A writable copy of `source` (the shared tree is read-only)."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(*SKIPPED_NAMES))
    for folder, _, file_names in os.walk(destination):
        os.chmod(folder, os.stat(folder).st_mode | stat.S_IWUSR)
        for name in file_names:
            path = Path(folder, name)
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def run(command: list[str], cwd: Path, env: dict | None = None, log=None) -> None:
    """Run `command`, its output into `log` (a file) or ours; SystemExit naming it on failure."""
    print("+ " + " ".join(command), file=sys.stderr, flush=True)
    result = subprocess.run(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        where = f" (log: {log.name})" if log is not None else ""
        raise SystemExit(f"failed with exit status {result.returncode}: "
                         f"{' '.join(command)}{where}")


def build_env(**extra) -> dict:
    """The environment of a CPU-only build: CUDA_HOME unset, no GPU visible (so that setup
    scripts which turn on CUDA when torch sees a GPU build the CPU extension)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_HOME", "CUDA_PATH")}
    env["CUDA_VISIBLE_DEVICES"] = ""
    env.update(extra)
    return env


def cached_build(name: str, source: Path, prefix: Path, python: str, fixes: list[Fix],
                 steps: Callable[[Path, object], Path], extra_key: str = "",
                 install: bool = False) -> Path:
    """Build `name` from `source` into `prefix/<key>/` unless it is there already.

    `steps(folder, log) -> wheel` does the build in `folder` (whose `source/` is the fixed
    copy), logging into `log`, and returns the wheel's path. Returns the folder; prints its
    `site/` path on stdout (the last line), the one thing a caller needs.
    """
    source = source.resolve()
    if not source.is_dir():
        raise SystemExit(f"--source {source}: not a folder")
    start = time.perf_counter()
    facts = interpreter_facts(python)
    source_hash = tree_hash(source)
    folder = prefix.expanduser().resolve() / build_key(source_hash, fixes, facts, extra_key)
    record = folder / "build.json"
    if record.is_file():
        built = json.loads(record.read_text())
        print(f"{name}: cached build {folder} (built in {built['seconds']:.0f} s; "
              f"checked in {time.perf_counter() - start:.1f} s)", file=sys.stderr)
    else:
        if folder.exists():  # an interrupted build
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        copy_source(source, folder / "source")
        for fix in fixes:
            fix.apply(folder / "source")
        license_file = next((folder / "source" / n for n in ("LICENSE", "LICENSE.txt")
                             if (folder / "source" / n).is_file()), None)
        if license_file is not None:
            shutil.copy(license_file, folder / "LICENSE")
        with open(folder / "build.log", "w") as log:
            wheel = steps(folder, log)
            run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                 str(folder / "site"), str(wheel)], folder, log=log)
        seconds = time.perf_counter() - start
        record.write_text(json.dumps({
            "name": name, "source": str(source), "source_sha256": source_hash,
            "fixes": [vars(f) for f in fixes], "interpreter": facts, "python": python,
            "wheel": str(wheel), "seconds": round(seconds, 1)}, indent=1))
        print(f"{name}: built {folder} in {seconds:.0f} s", file=sys.stderr)
    if install:
        wheel = json.loads(record.read_text())["wheel"]
        run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
             wheel], folder)
        print(f"{name}: installed {Path(wheel).name} into {python}'s environment",
              file=sys.stderr)
    print(folder / "site")
    return folder
