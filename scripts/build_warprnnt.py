#!/usr/bin/env python3
"""Build warp-transducer's CPU library and its `warprnnt_pytorch` binding from a source folder,
outside this project's tree, cached by source hash (see peer_build.py).

    python scripts/build_warprnnt.py --source PATH/TO/warp-transducer [--prefix DIR]
                                     [--python .venv/bin/python] [--install] [--jobs N]

Prints the folder to put on PYTHONPATH (`.../site`) as its last line; `--install` also
installs the wheel into the interpreter's environment. A second run on the same source,
interpreter and torch takes seconds.

Only build flags are changed, never the library's code:
- CMake >= 4 refuses warp-transducer's `cmake_minimum_required(VERSION 2.8)`:
  `-DCMAKE_POLICY_VERSION_MINIMUM=3.5` is passed (a no-op on older CMake);
- the binding's setup.py passes `-std=c++14`, and torch 2.14's headers `#error` below C++20:
  the copy's flag becomes `-std=c++20`.
The library is built for the CPU (`-DWITH_GPU=OFF`; the binding with CUDA_HOME unset and no
GPU visible). setup.py writes an rpath to the build folder, so that folder stays in place.
Measured on the project's 2-core machine: about 25 s for the library, 3 to 6 min for the
binding.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_build import DEFAULT_CACHE, Fix, build_env, cached_build, run  # noqa: E402

FIXES = [Fix("pytorch_binding/setup.py", "'-std=c++14'", "'-std=c++20'",
             "torch 2.14's headers #error below C++20")]
CMAKE_FLAGS = ["-DWITH_GPU=OFF", "-DCMAKE_POLICY_VERSION_MINIMUM=3.5",
               "-DCMAKE_BUILD_TYPE=Release"]


def steps(python: str, jobs: int):
    def build(folder: Path, log) -> Path:
        source, build_dir = folder / "source", folder / "build"
        run(["cmake", "-S", str(source), "-B", str(build_dir), *CMAKE_FLAGS], folder, log=log)
        run(["cmake", "--build", str(build_dir), "--target", "warprnnt", "-j", str(jobs)],
            folder, log=log)
        env = build_env(WARP_RNNT_PATH=str(build_dir), MAX_JOBS=str(jobs))
        run([python, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--wheel-dir",
             str(folder / "dist"), "."], source / "pytorch_binding", env=env, log=log)
        (wheel,) = (folder / "dist").glob("warprnnt_pytorch-*.whl")
        return wheel
    return build


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True,
                        help="a warp-transducer checkout (HawkAaron/warp-transducer)")
    parser.add_argument("--prefix", type=Path, default=DEFAULT_CACHE / "warp-transducer",
                        help="where builds are kept (default: %(default)s)")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter whose torch the binding is built against")
    parser.add_argument("--install", action="store_true",
                        help="also pip-install the binding into that interpreter's environment")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    if not (args.source / "pytorch_binding" / "setup.py").is_file():
        parser.error(f"--source {args.source}: no pytorch_binding/setup.py "
                     "(not a warp-transducer checkout)")
    cached_build("warp-transducer", args.source, args.prefix, args.python, FIXES,
                 steps(args.python, args.jobs), extra_key=" ".join(CMAKE_FLAGS),
                 install=args.install)
    return 0


if __name__ == "__main__":
    sys.exit(main())
