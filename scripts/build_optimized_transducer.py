#!/usr/bin/env python3
"""Build optimized_transducer (csukuangfj/optimized_transducer) for the CPU from a source folder,
outside this project's tree, cached by source hash (see peer_build.py).

    python scripts/build_optimized_transducer.py (--source DIR | --pypi 1.4) [--prefix DIR]
                                                 [--python .venv/bin/python] [--install]

`--pypi VERSION` downloads the sdist (`pip download --no-binary :all:`; PyPI has no wheel)
into the prefix and builds that. Prints the folder to put on PYTHONPATH (`.../site`) as its
last line; `--install` also installs the wheel into the interpreter's environment.

Three build-only fixes, applied to the copy, never to the library's code:
- pybind11 from its PyPI wheel (installed into the build folder, the version torch bundles)
  through `find_package(pybind11 CONFIG)`, instead of CMake FetchContent from GitHub;
- `CMAKE_CXX_STANDARD 20` instead of 14 (torch 2.14's headers `#error` below C++20);
- torch's include and lib folders named directly instead of `find_package(Torch)`, which on
  a CUDA-built torch wheel demands a CUDA toolkit.
CUDA is off (`-DOT_WITH_CUDA=OFF`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_build import DEFAULT_CACHE, Fix, build_env, cached_build, run  # noqa: E402

PYBIND11 = "pybind11==3.1.0"
"""The pybind11 release torch 2.14.1 bundles (torch/include/pybind11): one pybind11 ABI."""
TORCH_BY_PATH = """# rnnt-parity build fix: torch named by its folders (find_package(Torch) on a
# CUDA-built torch wheel demands a CUDA toolkit)
include_directories(${TORCH_DIR}/include ${TORCH_DIR}/include/torch/csrc/api/include)
set(TORCH_LIBRARIES ${TORCH_DIR}/lib/libtorch.so ${TORCH_DIR}/lib/libtorch_cpu.so
    ${TORCH_DIR}/lib/libc10.so)
execute_process(
  COMMAND "${PYTHON_EXECUTABLE}" -c "import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))"
  OUTPUT_STRIP_TRAILING_WHITESPACE
  OUTPUT_VARIABLE OT_TORCH_CXX11_ABI
)
set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=${OT_TORCH_CXX11_ABI}")"""
FIXES = [
    Fix("cmake/pybind11.cmake", "\ndownload_pybind11()", "\nfind_package(pybind11 CONFIG REQUIRED)",
        "pybind11 from its PyPI wheel, not downloaded from GitHub at configure time"),
    Fix("CMakeLists.txt", "set(CMAKE_CXX_STANDARD 14)", "set(CMAKE_CXX_STANDARD 20)",
        "torch 2.14's headers #error below C++20"),
    Fix("cmake/torch.cmake", "find_package(Torch REQUIRED)", TORCH_BY_PATH,
        "find_package(Torch) on a CUDA-built torch wheel demands a CUDA toolkit"),
]


def download_sdist(version: str, prefix: Path, python: str) -> Path:
    """optimized_transducer's sdist of `version`, extracted under `prefix/sdist/`."""
    where = prefix.expanduser().resolve() / "sdist" / version
    extracted = where / f"optimized_transducer-{version}"
    if not extracted.is_dir():
        where.mkdir(parents=True, exist_ok=True)
        run([python, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--dest", str(where), f"optimized-transducer=={version}"], where)
        (archive,) = where.glob("optimized_transducer-*.tar.gz")
        with tarfile.open(archive) as tar:
            tar.extractall(where, filter="data")
    return extracted


def steps(python: str, jobs: int):
    def build(folder: Path, log) -> Path:
        tools = folder / "tools"
        run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(tools),
             PYBIND11], folder, log=log)
        cmake_dir = subprocess.run(
            [python, "-c", "import pybind11; print(pybind11.get_cmake_dir())"],
            env={**os.environ, "PYTHONPATH": str(tools)}, check=True, capture_output=True,
            text=True).stdout.strip()
        env = build_env(
            OT_CMAKE_ARGS=f"-DCMAKE_BUILD_TYPE=Release -DOT_WITH_CUDA=OFF "
                          f"-Dpybind11_DIR={cmake_dir} -DPYTHON_EXECUTABLE={python}",
            OT_MAKE_ARGS=f"-j{jobs}")
        run([python, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--wheel-dir",
             str(folder / "dist"), "."], folder / "source", env=env, log=log)
        (wheel,) = (folder / "dist").glob("optimized_transducer-*.whl")
        return wheel
    return build


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--source", type=Path, help="an optimized_transducer source folder")
    source.add_argument("--pypi", metavar="VERSION", help="build PyPI's sdist of VERSION")
    parser.add_argument("--prefix", type=Path,
                        default=DEFAULT_CACHE / "optimized-transducer",
                        help="where builds are kept (default: %(default)s)")
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter whose torch the extension is built against")
    parser.add_argument("--install", action="store_true",
                        help="also pip-install the wheel into that interpreter's environment")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    folder = args.source or download_sdist(args.pypi, args.prefix, args.python)
    if not (folder / "cmake" / "torch.cmake").is_file():
        parser.error(f"{folder}: no cmake/torch.cmake (not an optimized_transducer source)")
    cached_build("optimized_transducer", folder, args.prefix, args.python, FIXES,
                 steps(args.python, args.jobs), extra_key=PYBIND11, install=args.install)
    return 0


if __name__ == "__main__":
    sys.exit(main())
