"""`rnnt-parity bench loss` and `bench ctc`: time the oracle's fast paths against production.

`bench loss`: RNN-T loss + gradient (CPU), the oracle and every production loss installed
here side by side: torchaudio always; warp-transducer, optimized_transducer and NeMo when
importable (`LOSS_IMPLEMENTATIONS`). Each is called as its users call it, blank last,
reduction "mean" (batch mean): warp-transducer applies its log_softmax in Python;
optimized_transducer gets its packed `(sum T(U+1), V)` layout, built before timing (a
reshape: the lengths are full), and a fresh copy of it per call, since it overwrites its
input with the gradient; NeMo's RNNTLoss runs its numba kernel (compiled by a warm-up call).
`bench ctc`: CTC loss + gradient, oracle vs torch.nn.functional.ctc_loss (CPU), and prefix
beam search (beam 16, no LM) alone.

Each (implementation, shape) runs in its own child process, so that its memory is its own.
Peak extra memory is the largest resident set size sampled (every millisecond, from
/proc/self/statm) during one call before the timed ones, minus the resident set size just
before it: what the loss and its gradient allocated and touched. (ru_maxrss cannot be used:
an earlier transient peak, such as LLVM loading the cached kernels, hides a later, smaller
one.)
Numba's compiled kernels come from the on-disk cache (`cache=True`), so a child does not
recompile; one tiny warm-up call loads them before timing. What compiling and that first
load cost is `bench_first_call`'s; how each loss's time grows with T, U and V,
`bench_scaling`'s. This module imports no oracle module at its top, so that a child can
time the oracle's import.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

from rnnt_parity.progress import step

DEFAULT_SHAPES = ((4, 150, 40, 1024), (8, 200, 50, 29), (1, 500, 100, 1024), (16, 1000, 100, 29))
DEFAULT_CTC_SHAPES = ((1000, 16, 29, 200), (500, 8, 1024, 100))
BEAM_SEARCH_SHAPE = (1000, 29, 16)


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


def _warprnnt_call(inputs):
    import torch
    import warprnnt_pytorch

    def call(logits, targets, logit_lengths, target_lengths):
        leaf = torch.from_numpy(logits).requires_grad_(True)
        loss = warprnnt_pytorch.RNNTLoss(blank=logits.shape[-1] - 1)(
            leaf, torch.from_numpy(targets), torch.from_numpy(logit_lengths),
            torch.from_numpy(target_lengths))
        loss.backward()
        return loss.item(), leaf.grad

    call(*make_inputs(1, 2, 1, 3))
    return lambda: call(*inputs)


def _optimized_transducer_call(inputs):
    import optimized_transducer
    import torch

    def prepared(logits, targets, logit_lengths, target_lengths):
        packed = torch.from_numpy(logits.reshape(-1, logits.shape[-1]))  # full lengths
        args = [torch.from_numpy(a) for a in (targets, logit_lengths, target_lengths)]

        def call():
            leaf = packed.clone().requires_grad_(True)
            loss = optimized_transducer.transducer_loss(
                leaf, *args, blank=logits.shape[-1] - 1, from_log_softmax=False,
                reduction="mean")
            loss.backward()
            return loss.item(), leaf.grad
        return call

    prepared(*make_inputs(1, 2, 1, 3))()
    return prepared(*inputs)


def _nemo_call(inputs):
    import torch
    from nemo.collections.asr.losses.rnnt import RNNTLoss

    def call(logits, targets, logit_lengths, target_lengths):
        leaf = torch.from_numpy(logits).requires_grad_(True)
        loss = RNNTLoss(num_classes=logits.shape[-1] - 1, reduction="mean_batch")(
            log_probs=leaf, targets=torch.from_numpy(targets).long(),
            input_lengths=torch.from_numpy(logit_lengths).long(),
            target_lengths=torch.from_numpy(target_lengths).long())
        loss.backward()
        return loss.item(), leaf.grad

    call(*make_inputs(1, 2, 1, 3))
    return lambda: call(*inputs)


LOSS_IMPLEMENTATIONS = {"oracle": None, "torchaudio": None, "warprnnt": "warprnnt_pytorch",
                        "optimized_transducer": "optimized_transducer", "nemo": "nemo"}
"""Every RNN-T loss `bench loss` times, with the module it needs (None: always here)."""


def installed_loss_implementations() -> list[str]:
    """The implementations of `LOSS_IMPLEMENTATIONS` whose module this interpreter finds."""
    import importlib.util

    return [name for name, module in LOSS_IMPLEMENTATIONS.items()
            if module is None or importlib.util.find_spec(module) is not None]


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Samples the resident set size every millisecond while in its `with` block."""

    def __enter__(self):
        self.peak = self.start = _rss_bytes()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.001):
            self.sample_now()

    def sample_now(self):
        self.peak = max(self.peak, _rss_bytes())

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()

    @property
    def extra_bytes(self) -> int:
        return self.peak - self.start


def make_ctc_inputs(frames, batch, classes, labels, seed=0):
    """float32 log-probs `(T, B, C)`, labels avoiding blank 0 and adjacent repeats, full lengths."""
    from reference_impls.rnnt.spec import log_softmax

    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((frames, batch, classes), dtype=np.float32)
    log_probs = log_softmax(logits).astype(np.float32)
    targets = rng.integers(1, classes, (batch, labels))
    for s in range(1, labels):
        repeat = targets[:, s] == targets[:, s - 1]
        targets[repeat, s] = targets[repeat, s] % (classes - 1) + 1
    return (log_probs, targets, np.full(batch, frames, dtype=np.int64),
            np.full(batch, labels, dtype=np.int64))


def _oracle_ctc_call(inputs):
    from reference_impls.ctc import ctc_loss

    ctc_loss(*make_ctc_inputs(3, 1, 3, 1))
    return lambda: ctc_loss(*inputs)


def _torch_ctc_call(inputs):
    import torch
    import torch.nn.functional as F

    def call(log_probs, targets, input_lengths, target_lengths):
        leaf = torch.from_numpy(log_probs).requires_grad_(True)
        loss = F.ctc_loss(leaf, torch.from_numpy(targets), torch.from_numpy(input_lengths),
                          torch.from_numpy(target_lengths))
        loss.backward()
        return loss.item(), leaf.grad

    call(*make_ctc_inputs(3, 1, 3, 1))
    return lambda: call(*inputs)


def _beam_search_call(inputs):
    from reference_impls.ctc.decode import prefix_beam_search

    log_probs, beam = inputs
    return lambda: prefix_beam_search(log_probs, beam_size=beam)


TDT_DURATIONS = (0, 1, 2, 3, 4)
"""The durations `bench loss --tdt` gives the TDT loss (NeMo's example configs')."""
TDT_OVER_RNNT = 2.0
"""Issue 20's target: the TDT oracle at most 2x the RNN-T oracle's time on the same shape."""


def make_tdt_inputs(batch, frames, labels, vocab, seed=0):
    """`make_inputs`, with float32 logits for TDT_DURATIONS appended to each node's V."""
    logits, *rest = make_inputs(batch, frames, labels, vocab, seed)
    durations = np.random.default_rng(seed + 1).standard_normal(
        logits.shape[:3] + (len(TDT_DURATIONS),), dtype=np.float32)
    return (np.concatenate([logits, durations], axis=-1), *rest)


def _tdt_oracle_call(inputs):
    from reference_impls.tdt import tdt_loss

    def call(logits, targets, logit_lengths, target_lengths):
        return tdt_loss(logits, targets, logit_lengths, target_lengths, list(TDT_DURATIONS))

    call(*make_tdt_inputs(1, 2, 1, 3))
    return lambda: call(*inputs)


CALLS = {"oracle": (_oracle_call, make_inputs), "torchaudio": (_torchaudio_call, make_inputs),
         "tdt-oracle": (_tdt_oracle_call, make_tdt_inputs),
         "warprnnt": (_warprnnt_call, make_inputs),
         "optimized_transducer": (_optimized_transducer_call, make_inputs),
         "nemo": (_nemo_call, make_inputs),
         "oracle-ctc": (_oracle_ctc_call, make_ctc_inputs),
         "torch-ctc": (_torch_ctc_call, make_ctc_inputs),
         "beam-search": (_beam_search_call,
                         lambda frames, classes, beam: (make_ctc_inputs(frames, 1, classes, 1)[0][
                             :, 0].astype(np.float64), beam))}


def measure_in_this_process(implementation: str, shape, repeats: int) -> dict:
    """The peak extra memory of a first call, then the median seconds of `repeats` more, in
    this process (the memory sampler's thread runs only in the first call, so that it takes
    no core from the timed ones; a later call would reuse memory the first one freed)."""
    build, make = CALLS[implementation]
    inputs = make(*shape)
    call = build(inputs)
    with PeakRSS() as memory:
        result = call()
        memory.sample_now()
        del result
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
        del result
    return {"median_s": statistics.median(times), "peak_extra_bytes": memory.extra_bytes,
            "logits_bytes": inputs[0].nbytes}


def run_ctc_benchmark(shapes=DEFAULT_CTC_SHAPES, repeats: int = 3, out=print) -> list[dict]:
    """CTC loss + gradient, oracle vs torch CPU, and prefix beam search; print a table."""
    rows = []
    header = f"{'(T, B, C, S)':>22} {'oracle s':>9} {'torch s':>9} {'ratio':>6}"
    out(header)
    out("-" * len(header))
    for shape in shapes:
        oracle = measure("oracle-ctc", shape, repeats)
        peer = measure("torch-ctc", shape, repeats)
        ratio = oracle["median_s"] / peer["median_s"]
        out(f"{str(tuple(shape)):>22} {oracle['median_s']:9.3f} {peer['median_s']:9.3f} "
            f"{ratio:6.3f}")
        rows.append({"shape": list(shape), "oracle": oracle, "torch": peer, "ratio": ratio})
    frames, classes, beam = BEAM_SEARCH_SHAPE
    search = measure("beam-search", BEAM_SEARCH_SHAPE, repeats)
    out(f"prefix beam search, T={frames}, C={classes}, beam {beam}, no LM: "
        f"{search['median_s']:.3f} s")
    out(f"median of {repeats} runs each; loss + gradient, float32 log-probs, reduction 'mean'")
    rows.append({"beam_search": search})
    return rows


def run_in_child(function: str, *args, env: dict[str, str] | None = None):
    """`function` ("package.module:name") called with `args` in a fresh Python process; its
    JSON-encoded result. Each measurement gets a process of its own, so that its memory is
    its own and no other library's worker threads are spinning beside it. `env`: variables
    set in the child's environment on top of this process's."""
    code = ("import importlib, json, sys; module, name = sys.argv[1].split(':'); "
            "result = getattr(importlib.import_module(module), name)(*json.loads(sys.argv[2])); "
            "print(json.dumps(result))")
    done = subprocess.run([sys.executable, "-c", code, function, json.dumps(args)],
                          capture_output=True, text=True, check=False,
                          env=None if env is None else {**os.environ, **env})
    if done.returncode != 0:
        how = (f"killed by signal {-done.returncode}" if done.returncode < 0
               else f"exit status {done.returncode}")
        raise RuntimeError(f"{function}{args} failed ({how}):\n{done.stderr}")
    step(f"{function.rsplit(':', 1)[-1]} {args[0] if args else ''}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(implementation: str, shape, repeats: int) -> dict:
    """`measure_in_this_process` in a fresh child process; its JSON result."""
    return run_in_child("rnnt_parity.bench:measure_in_this_process", implementation,
                        list(shape), repeats)


def failure_summary(error: RuntimeError) -> str:
    """`run_in_child`'s error in one line: how the child ended and its last error line."""
    lines = str(error).strip().splitlines()
    last = next((line for line in reversed(lines) if "Error" in line), "")
    return f"{lines[0].split(' failed ')[-1]} {last}"[:160]


def _memory(result: dict) -> str:
    """Peak extra memory in MB and in units of the logits' size."""
    extra = result["peak_extra_bytes"] / 2**20
    return f"{extra:7.0f} MB ({extra / (result['logits_bytes'] / 2**20):.2f}x)"


def measure_in_rounds(names, shape, repeats: int, rounds: int) -> dict[str, dict]:
    """`measure` of every implementation on `shape`, each once per round, in turn: per
    implementation the median over rounds of its medians and the largest of its peaks (or
    its failure), so that a machine whose speed drifts during the run moves them alike."""
    measured = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            if measured[name] and "error" in measured[name][-1]:
                continue
            try:
                measured[name].append(measure(name, shape, repeats))
            except RuntimeError as error:  # the library failed in its child process
                measured[name].append({"error": failure_summary(error)})
    results = {}
    for name, runs in measured.items():
        if "error" in runs[-1]:
            results[name] = runs[-1]
            continue
        results[name] = {"median_s": statistics.median(run["median_s"] for run in runs),
                         "peak_extra_bytes": max(run["peak_extra_bytes"] for run in runs),
                         "logits_bytes": runs[0]["logits_bytes"]}
    return results


def run_tdt_benchmark(shapes=DEFAULT_SHAPES, repeats: int = 3, out=print,
                      rounds: int = 1) -> list[dict]:
    """Time the TDT oracle (TDT_DURATIONS, float32 input, reduction "mean") against the RNN-T
    oracle on the same (B, T, U, V), each in its own process; print each ratio and the
    target's verdict; return the rows."""
    header = f"{'(B, T, U, V)':>22} {'RNN-T oracle s':>15} {'TDT oracle s':>13} {'TDT / RNN-T':>12}"
    out(header)
    out("-" * len(header))
    rows = []
    for shape in shapes:
        results = measure_in_rounds(["oracle", "tdt-oracle"], shape, repeats, rounds)
        rnnt, tdt = results["oracle"]["median_s"], results["tdt-oracle"]["median_s"]
        rows.append({"shape": list(shape), "rnnt_s": rnnt, "tdt_s": tdt, "ratio": tdt / rnnt})
        out(f"{str(tuple(shape)):>22} {rnnt:15.3f} {tdt:13.3f} {tdt / rnnt:12.2f}")
    worst = max(row["ratio"] for row in rows)
    out(f"TDT loss + gradient with durations {list(TDT_DURATIONS)}, median of {repeats} runs "
        f"each (and of {rounds} rounds); target: TDT / RNN-T <= {TDT_OVER_RNNT:.1f}: worst "
        f"{worst:.2f}, {'met' if worst <= TDT_OVER_RNNT else 'NOT met'}")
    return rows


def run_loss_benchmark(shapes=DEFAULT_SHAPES, repeats: int = 3, out=print,
                       implementations=None, rounds: int = 1) -> list[dict]:
    """Time every installed implementation (or those named) on every shape, each in its own
    process, `rounds` times (`measure_in_rounds`); print one row per (shape, implementation),
    its median time over torchaudio's and the oracle's over its; return the rows. An
    implementation that fails is reported on its row, not raised."""
    names = implementations or installed_loss_implementations()
    rows = []
    header = (f"{'(B, T, U, V)':>22} {'implementation':<21} {'median s':>9} "
              f"{'/ torchaudio':>12} {'oracle / this':>13} {'extra memory':>17}")
    out(header)
    out("-" * len(header))
    for shape in shapes:
        results = measure_in_rounds(names, shape, repeats, rounds)
        reference = results.get("torchaudio", {}).get("median_s")
        oracle = results.get("oracle", {}).get("median_s")
        for name, result in results.items():
            if "error" in result:
                out(f"{str(tuple(shape)):>22} {name:<21} failed: {result['error']}")
                continue
            ratio = result["median_s"] / reference if reference else float("nan")
            oracle_ratio = oracle / result["median_s"] if oracle else float("nan")
            out(f"{str(tuple(shape)):>22} {name:<21} {result['median_s']:9.3f} {ratio:12.3f} "
                f"{oracle_ratio:13.3f} {_memory(result):>17}")
            rows.append({"shape": list(shape), "implementation": name, **result,
                         "ratio_to_torchaudio": ratio, "oracle_over_this": oracle_ratio})
    out(f"median of {repeats} runs each (and of {rounds} rounds), loss + gradient, float32 "
        "input, blank last, reduction mean; oracle / this: the oracle's median over this "
        "implementation's; "
        "memory: peak extra resident set during the calls, in units of the logits' size (the "
        "gradient itself is 1.00x)")
    return rows
