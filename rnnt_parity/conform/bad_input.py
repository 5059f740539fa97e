"""What an RNN-T loss callable does with malformed input, each probe in its own process.

A probe builds one defective call (`DEFECTS`) under the callable's convention and reports
one of: "raises" (an exception: the wanted answer, with its message), "returns" (a value:
garbage, since the input has no defined loss; finite or not is recorded), "crashes" (the
process died without reporting: a signal or an abort, as an out-of-bounds kernel would), or
"hangs" (no answer within the time limit). Running each in a subprocess keeps a crash from
taking the conformance run down with it.

Run as a module, it is the probe itself:
    python -m rnnt_parity.conform.bad_input TARGET DEFECT BLANK INPUTS LENGTH_DTYPE
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

PROBE_SECONDS = 120
B, T, U, V = 2, 4, 2, 5


def _valid(blank: int):
    import torch

    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(B, T, U + 1, V, generator=generator)
    label = (blank + 1) % V
    targets = torch.full((B, U), label)
    return logits, targets, torch.tensor([T, T - 1]), torch.tensor([U, U - 1])


def _set(tensor, index, value):
    tensor = tensor.clone()
    tensor[index] = value
    return tensor


DEFECTS = {
    "negative logit length": lambda x, y, tl, ul, blank: (x, y, _set(tl, 1, -1), ul),
    "logit length 0": lambda x, y, tl, ul, blank: (x, y, _set(tl, 1, 0), ul),
    "logit length above T": lambda x, y, tl, ul, blank: (x, y, _set(tl, 1, T + 3), ul),
    "target length above U": lambda x, y, tl, ul, blank: (x, y, tl, _set(ul, 1, U + 2)),
    "label out of range": lambda x, y, tl, ul, blank: (x, _set(y, (0, 0), V + 7), tl, ul),
    "blank inside targets": lambda x, y, tl, ul, blank: (x, _set(y, (0, 0), blank % V), tl,
                                                         ul),
    "NaN logits in the valid region": lambda x, y, tl, ul, blank: (
        _set(x, (0, 0, 0, 0), float("nan")), y, tl, ul),
    "lengths of the wrong batch size": lambda x, y, tl, ul, blank: (x, y, tl[:1], ul),
}
"""Defect -> (logits, targets, logit_lengths, target_lengths, blank) -> the defective call."""


def probe(target: str, defect: str, blank: int, inputs: str, length_dtype: str,
          timeout: float = PROBE_SECONDS) -> dict:
    """Run one probe in a fresh interpreter; {"defect", "outcome", "detail"}."""
    command = [sys.executable, "-m", "rnnt_parity.conform.bad_input", target, defect,
               str(blank), inputs, length_dtype]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"defect": defect, "outcome": "hangs", "detail": f"no answer in {timeout} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode == 0 and lines:
        return {"defect": defect, **json.loads(lines[-1])}
    how = (f"signal {-done.returncode}" if done.returncode < 0
           else f"exit status {done.returncode}")
    return {"defect": defect, "outcome": "crashes",
            "detail": f"{how}; stderr: {done.stderr.strip()[-300:]}"}


def bad_input_table(target: str, blank: int, inputs: str, length_dtype: str,
                    workers: int = 2) -> list[dict]:
    """Every defect of `DEFECTS`, probed `workers` at a time."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda d: probe(target, d, blank, inputs, length_dtype),
                             DEFECTS))


def _main(target: str, defect: str, blank: str, inputs: str, length_dtype: str) -> None:
    import torch

    from rnnt_parity.conform.rnnt_loss import load_callable

    loss = load_callable(target)
    logits, targets, logit_lengths, target_lengths = DEFECTS[defect](*_valid(int(blank)),
                                                                     int(blank))
    if inputs == "log_probs":
        logits = torch.log_softmax(logits, dim=-1)
    dtype = getattr(torch, length_dtype)
    try:
        out = loss(logits, targets.to(dtype), logit_lengths.to(dtype), target_lengths.to(dtype))
    except Exception as error:  # the answer wanted from malformed input
        print(json.dumps({"outcome": "raises", "detail": f"{type(error).__name__}: "
                                                         f"{str(error)[:300]}"}))
        return
    values = torch.as_tensor(out).detach().double().flatten()
    finite = "finite" if bool(torch.isfinite(values).all()) else "non-finite"
    print(json.dumps({"outcome": "returns", "detail": f"{finite} value(s) {values.tolist()[:4]}"}))


if __name__ == "__main__":
    _main(*sys.argv[1:6])
