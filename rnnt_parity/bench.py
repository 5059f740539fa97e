"""`rnnt-parity bench loss`: time the oracle's fast path against torchaudio on the CPU.

Each (implementation, shape) runs in its own child process, so that its peak memory is its
own: the child records its maximum resident set size after building the inputs and again
after the timed calls; the difference is the extra memory the loss (and its gradient) took.
Numba's compiled kernels come from the on-disk cache (`cache=True`), so a child does not
recompile; one tiny warm-up call loads them before timing.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

DEFAULT_SHAPES = ((4, 150, 40, 1024), (8, 200, 50, 29), (1, 500, 100, 1024), (16, 1000, 100, 29))
IMPLEMENTATIONS = ("oracle", "torchaudio")


def make_inputs(batch, frames, labels, vocab, seed=0):
    """Random float32 logits `(B, T, U+1, V)` and labels avoiding blank = V-1, full lengths."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((batch, frames, labels + 1, vocab), dtype=np.float32)
    targets = rng.integers(0, vocab - 1, (batch, labels), dtype=np.int32)
    return (logits, targets, np.full(batch, frames, dtype=np.int32),
            np.full(batch, labels, dtype=np.int32))


def _oracle_call(inputs):
    from reference_impls.rnnt import rnnt_loss

    def call(logits, targets, logit_lengths, target_lengths):
        return rnnt_loss(logits, targets, logit_lengths, target_lengths, blank=-1)

    call(*make_inputs(1, 2, 1, 3))
    return lambda: call(*inputs)


def _torchaudio_call(inputs):
    import torch
    import torchaudio.functional as F

    def call(logits, targets, logit_lengths, target_lengths):
        leaf = torch.from_numpy(logits).requires_grad_(True)
        loss = F.rnnt_loss(leaf, torch.from_numpy(targets), torch.from_numpy(logit_lengths),
                           torch.from_numpy(target_lengths), blank=-1)
        loss.backward()
        return loss.item(), leaf.grad

    call(*make_inputs(1, 2, 1, 3))
    return lambda: call(*inputs)


def _max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_in_this_process(implementation: str, shape, repeats: int) -> dict:
    """Median seconds of loss + gradient and the peak extra memory, in this process."""
    inputs = make_inputs(*shape)
    call = {"oracle": _oracle_call, "torchaudio": _torchaudio_call}[implementation](inputs)
    before = _max_rss_bytes()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "peak_extra_bytes": _max_rss_bytes() - before,
            "logits_bytes": inputs[0].nbytes}


def measure(implementation: str, shape, repeats: int) -> dict:
    """`measure_in_this_process` in a fresh child process; its JSON result."""
    code = ("import json, sys; from rnnt_parity.bench import measure_in_this_process as m; "
            "print(json.dumps(m(sys.argv[1], tuple(json.loads(sys.argv[2])), int(sys.argv[3]))))")
    done = subprocess.run([sys.executable, "-c", code, implementation, json.dumps(shape),
                           str(repeats)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{implementation} {shape} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_loss_benchmark(shapes=DEFAULT_SHAPES, repeats: int = 3, out=print) -> list[dict]:
    """Time both implementations on every shape; print a table; return its rows."""
    rows = []
    header = (f"{'(B, T, U, V)':>22} {'oracle s':>9} {'torchaudio s':>12} {'ratio':>6} "
              f"{'oracle extra mem':>17} {'torchaudio extra mem':>21}")
    out(header)
    out("-" * len(header))
    for shape in shapes:
        oracle = measure("oracle", shape, repeats)
        peer = measure("torchaudio", shape, repeats)
        ratio = oracle["median_s"] / peer["median_s"]
        logits_mb = oracle["logits_bytes"] / 2**20

        def memory(result):
            extra = result["peak_extra_bytes"] / 2**20
            return f"{extra:7.0f} MB ({extra / logits_mb:.2f}x)"

        out(f"{str(tuple(shape)):>22} {oracle['median_s']:9.3f} {peer['median_s']:12.3f} "
            f"{ratio:6.3f} {memory(oracle):>17} {memory(peer):>21}")
        rows.append({"shape": list(shape), "oracle": oracle, "torchaudio": peer, "ratio": ratio})
    out(f"median of {repeats} runs each, loss + gradient, float32 input; memory in units of "
        "the logits' size (the gradient itself is 1.00x)")
    return rows
