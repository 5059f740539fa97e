"""What a loss callable does with malformed input, each probe in its own process.

A probe builds one defective call (`RNNT_DEFECTS` or `CTC_DEFECTS`) under the callable's
convention and reports one of: "raises" (an exception: the wanted answer, with its
message), "returns" (a value: garbage, since the input has no defined loss; finite or not is
recorded), "crashes" (the process died without reporting: a signal or an abort, as an
out-of-bounds kernel would), or "hangs" (no answer within the time limit). Running each in a
subprocess keeps a crash from taking the conformance run down with it. The time limit starts
when the prober says it is ready (torch and the implementation imported), so a loaded
machine's slow interpreter start never turns into a hang.

Run as a module, it is the prober itself (a ready line, then one JSON line per defect, in
order):
    python -m rnnt_parity.conform.bad_input KIND TARGET CONVENTION_JSON DEFECT...
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading

PROBE_SECONDS = 120
"""Each probe's time limit, from the prober's ready line or its previous answer."""
STARTUP_SECONDS = 600
"""How long a prober may take to import torch and the implementation."""
READY = {"ready": True}
"""The prober's first line, once torch and the implementation are imported."""
B, T, U, V = 2, 4, 2, 5
"""Batch, frames, labels and vocabulary of every probe's otherwise valid call."""


def _set(tensor, index, value):
    tensor = tensor.clone()
    tensor[index] = value
    return tensor


def _shared_defects(nan_index):
    """Defects both losses share: (x, y, x_lengths, y_lengths, blank) -> the defective call."""
    return {
        "negative logit length": lambda x, y, tl, ul, blank: (x, y, _set(tl, 1, -1), ul),
        "logit length 0": lambda x, y, tl, ul, blank: (x, y, _set(tl, 1, 0), ul),
        "logit length above T": lambda x, y, tl, ul, blank: (x, y, _set(tl, 1, T + 3), ul),
        "target length above U": lambda x, y, tl, ul, blank: (x, y, tl, _set(ul, 1, U + 2)),
        "label out of range": lambda x, y, tl, ul, blank: (x, _set(y, (0, 0), V + 7), tl, ul),
        "blank inside targets": lambda x, y, tl, ul, blank: (x, _set(y, (0, 0), blank % V),
                                                             tl, ul),
        "NaN logits in the valid region": lambda x, y, tl, ul, blank: (
            _set(x, nan_index, float("nan")), y, tl, ul),
        "lengths of the wrong batch size": lambda x, y, tl, ul, blank: (x, y, tl[:1], ul),
    }


RNNT_DEFECTS = _shared_defects((0, 0, 0, 0))
CTC_DEFECTS = _shared_defects((0, 0, 0))
DEFECTS = {"rnnt": RNNT_DEFECTS, "ctc": CTC_DEFECTS}


def _valid(kind: str, blank: int, layout: str):
    import torch

    generator = torch.Generator().manual_seed(0)
    shape = (B, T, U + 1, V) if kind == "rnnt" else (
        (T, B, V) if layout == "TBC" else (B, T, V))
    x = torch.randn(*shape, generator=generator)
    targets = torch.full((B, U), (blank + 1) % V)
    return x, targets, torch.tensor([T, T - 1]), torch.tensor([U, U - 1])


def probe(kind: str, target: str, defect: str, convention: dict,
          timeout: float = PROBE_SECONDS) -> dict:
    """One probe in a fresh interpreter; {"defect", "outcome", "detail"}."""
    return probe_all(kind, target, [defect], convention, timeout)[0]


def probe_all(kind: str, target: str, defects: list[str], convention: dict,
              timeout: float = PROBE_SECONDS) -> list[dict]:
    """Every defect of `defects`, in order, in as few interpreters as possible: one runs them
    all, printing one answer per line; when it dies, or gives no answer within `timeout` of
    being ready or of its previous answer, the defect it was on is recorded as "crashes" or
    "hangs" and a fresh interpreter takes the rest."""
    results: list[dict] = []
    while len(results) < len(defects):
        pending = defects[len(results):]
        command = [sys.executable, "-m", "rnnt_parity.conform.bad_input", kind, target,
                   json.dumps(convention), *pending]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_forward_lines, args=(process.stdout, lines),
                         daemon=True).start()
        results += _answers(pending, lines, process, timeout)
        process.stderr.close()
    return results


def _answers(pending: list[str], lines: queue.Queue, process, timeout: float) -> list[dict]:
    """The answers of one prober, up to and including the defect it crashed or hung on."""
    try:
        if _next_answer(lines, STARTUP_SECONDS) is None:
            return [_crashed(pending[0], process)]
    except queue.Empty:
        _stop(process)
        return [{"defect": pending[0], "outcome": "hangs",
                 "detail": f"not ready in {STARTUP_SECONDS} s (loading the implementation)"}]
    answers = []
    for defect in pending:
        try:
            line = _next_answer(lines, timeout)
        except queue.Empty:
            _stop(process)
            return [*answers, {"defect": defect, "outcome": "hangs",
                               "detail": f"no answer in {timeout} s"}]
        if line is None:
            return [*answers, _crashed(defect, process)]
        answers.append({"defect": defect, **json.loads(line)})
    process.wait()
    return answers


def _stop(process) -> None:
    process.kill()
    process.wait()


def _crashed(defect: str, process) -> dict:
    returncode = process.wait()
    how = f"signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    stderr = process.stderr.read().strip()[-300:]
    return {"defect": defect, "outcome": "crashes", "detail": f"{how}; stderr: {stderr}"}


def _forward_lines(stream, lines: queue.Queue) -> None:
    """Each line of `stream` into `lines`, then None at its end."""
    for line in stream:
        lines.put(line)
    lines.put(None)


def _next_answer(lines: queue.Queue, timeout: float) -> str | None:
    """The next JSON line (None when the process has ended); queue.Empty after `timeout`."""
    while True:
        line = lines.get(timeout=timeout)
        if line is None or line.startswith("{"):
            return line


def bad_input_table(kind: str, target: str, convention: dict) -> list[dict]:
    """Every defect of `DEFECTS[kind]`."""
    return probe_all(kind, target, list(DEFECTS[kind]), convention)


def _answer(loss, kind: str, defect: str, convention: dict) -> dict:
    import torch

    blank = int(convention["blank"])
    x, targets, x_lengths, target_lengths = DEFECTS[kind][defect](
        *_valid(kind, blank, convention.get("layout", "TBC")), blank)
    if convention["inputs"] == "log_probs":
        x = torch.log_softmax(x, dim=-1)
    dtype = getattr(torch, convention["length_dtypes"][0])
    try:
        out = loss(x, targets.to(dtype), x_lengths.to(dtype), target_lengths.to(dtype))
    except Exception as error:  # the answer wanted from malformed input
        return {"outcome": "raises", "detail": f"{type(error).__name__}: {str(error)[:300]}"}
    values = torch.as_tensor(out).detach().double().flatten()
    finite = "finite" if bool(torch.isfinite(values).all()) else "non-finite"
    return {"outcome": "returns", "detail": f"{finite} value(s) {values.tolist()[:4]}"}


def _main(kind: str, target: str, convention_json: str, *defects: str) -> None:
    from rnnt_parity.conform.targets import load_callable

    loss = load_callable(target)
    convention = json.loads(convention_json)
    import torch  # noqa: F401  (imported before the ready line, so no probe's time holds it)

    print(json.dumps(READY), flush=True)
    for defect in defects:
        print(json.dumps(_answer(loss, kind, defect, convention)), flush=True)


if __name__ == "__main__":
    _main(*sys.argv[1:])
