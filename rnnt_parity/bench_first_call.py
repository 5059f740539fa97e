"""`bench loss`'s first-call figures: what the oracle's Numba kernels cost to compile, and
what a new process pays on its first call once they are cached on disk (`cache=True`).

For one shape (float32 loss + gradient, blank last, reduction mean), each figure from a
fresh child process (`bench.run_in_child`):

* compiling: the first call in a process whose NUMBA_CACHE_DIR is a new, empty folder, so
  that every kernel compiles;
* cached: the first call in a process started after another has filled the usual cache
  (a cold process: every kernel is loaded from disk);
* warm: the median of `repeats` further calls in that same process.

A first call is timed from just before `import reference_impls.rnnt` to the return of the
first `rnnt_loss`: importing numba and the oracle, Numba's set-up of its CPU target on the
first dispatch, compiling or loading every kernel, starting Numba's threads, and the call.
Not timed: the interpreter's start, importing numpy, making the inputs.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

from rnnt_parity.bench import make_inputs, run_in_child

FIRST_CALL_SHAPE = (8, 200, 50, 29)
"""(B, T, U, V): the smallest of `bench.DEFAULT_SHAPES`."""
_CHILD = "rnnt_parity.bench_first_call:first_call_in_this_process"


def first_call_in_this_process(shape, repeats: int) -> dict:
    """This process's first oracle call on `shape` (seconds, and of them the import's), the
    median of `repeats` more, and this process's id. RuntimeError when numba is already
    imported here: the first call would not count its import."""
    if "numba" in sys.modules:
        raise RuntimeError("numba is already imported in this process")
    inputs = make_inputs(*shape)
    start = time.perf_counter()
    from reference_impls.rnnt import rnnt_loss

    imported = time.perf_counter()
    rnnt_loss(*inputs, blank=-1)
    first = time.perf_counter()
    warm = []
    for _ in range(repeats):
        begin = time.perf_counter()
        rnnt_loss(*inputs, blank=-1)
        warm.append(time.perf_counter() - begin)
    return {"first_call_s": first - start, "import_s": imported - start,
            "warm_s": statistics.median(warm), "pid": os.getpid()}


def first_call_in_child(shape, repeats: int, cache_dir: str | None = None) -> dict:
    """`first_call_in_this_process` in a fresh child process, whose NUMBA_CACHE_DIR is
    `cache_dir` when one is given."""
    env = None if cache_dir is None else {"NUMBA_CACHE_DIR": str(cache_dir)}
    return run_in_child(_CHILD, list(shape), repeats, env=env)


def measure_first_calls(shape=FIRST_CALL_SHAPE, repeats: int = 3) -> dict:
    """`first_call_in_child` compiling (an empty NUMBA_CACHE_DIR) and cached (the usual one,
    filled by a child before), and the cached first call over the warm call."""
    with tempfile.TemporaryDirectory(prefix="rnnt-parity-numba-cache-") as empty:
        compiling = first_call_in_child(shape, repeats, empty)
    first_call_in_child(shape, 1)  # fills the usual cache, should it be stale
    cached = first_call_in_child(shape, repeats)
    return {"shape": list(shape), "repeats": repeats, "compiling": compiling, "cached": cached,
            "cold_over_warm": cached["first_call_s"] / cached["warm_s"]}


def format_first_calls(result: dict) -> str:
    """`measure_first_calls`'s figures in two lines, and what a first call counts."""
    compiling, cached = result["compiling"], result["cached"]
    return (f"oracle first call on (B, T, U, V) = {tuple(result['shape'])}: "
            f"{compiling['first_call_s']:.2f} s compiling (empty NUMBA_CACHE_DIR); "
            f"{cached['first_call_s']:.3f} s in a new process with the kernels cached (import "
            f"{cached['import_s']:.3f} s + call {cached['first_call_s'] - cached['import_s']:.3f}"
            f" s); warm call {cached['warm_s']:.4f} s (median of {result['repeats']}): "
            f"cold / warm {result['cold_over_warm']:.1f}x\n"
            "first call: from `import reference_impls.rnnt` (numba with it) to the first loss "
            "and gradient, Numba's set-up, kernel compiling or loading and thread start "
            "included; the interpreter's start, numpy's import and making the inputs not")
