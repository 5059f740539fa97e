"""What every loss kind does the same way, whatever its lattice: reading and checking a
convention, putting a batch into the callable's vocabulary, log-probs that leave padding
alone, a second backward through one graph, the same batch on every execution path, and the
gradient w.r.t. the log-probs as given, and the failed check of a suspected deviation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from rnnt_parity.backends.deviations import SECOND_BACKWARD_RESCALES
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.conform.report import CheckOutcome, raised

CONVENTION_FIELDS = ("blank", "inputs", "reduction")
"""The fields a convention file must give; the rest have defaults."""
SUSPECTED_CHECK = "the output is the oracle's loss under some convention (auto detection)"


def suspected_check(suspected: list[str]) -> list[CheckOutcome]:
    """The failing first check of a loss whose detection suspected a deviation (a named
    hypothesis that fits, or that nothing does), or nothing."""
    return [CheckOutcome(SUSPECTED_CHECK, False, detail="; ".join(suspected))] if suspected else []


def read_loss_convention(text: str, loss, presets: dict, detect: Callable, build: Callable):
    """"auto" (`detect(loss)`), a name of `presets`, or a JSON file given to `build(values)`;
    ValueError naming the file and what is wrong with it."""
    if text == "auto":
        return detect(loss)
    if text in presets:
        return presets[text]
    path = Path(text)
    if not path.is_file():
        raise ValueError(f"--convention {text!r}: not auto, a preset {sorted(presets)} or a "
                         "JSON file")
    try:
        values = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"--convention {path}: not JSON ({error})") from error
    missing = [k for k in CONVENTION_FIELDS if k not in values]
    if missing:
        raise ValueError(f"--convention {path}: missing {missing}")
    return build(values)


def expected_gradient(convention_text: str) -> str | None:
    """The gradient a loss is held to: the true derivative when its convention was detected
    ("auto": a gradient that is not the derivative is a defect, not a convention), else
    None (what the preset or file declares)."""
    return "true derivative" if convention_text == "auto" else None


def check_convention(convention, fields: tuple[str, ...], reductions: tuple[str, ...]) -> None:
    """ValueError unless every field of `fields` and the length dtypes are known and the
    reduction has an oracle counterpart among `reductions`."""
    missing = [k for k in fields if getattr(convention, k) is None]
    if missing or not convention.length_dtypes:
        raise ValueError(f"the convention is incomplete ({missing or 'length dtypes'}); "
                         "give --convention")
    if convention.reduction not in reductions:
        raise ValueError(f"reduction {convention.reduction!r} has no oracle counterpart; "
                         f"comparable: {reductions}")


def their_vocabulary(targets, target_lengths, blank: int, their_blank: int, size: int):
    """(order, targets): `order` swaps the batch's blank with the callable's (index k of the
    callable's vocabulary holds the batch's symbol order[k]; the swap is its own inverse),
    and the targets in the callable's vocabulary, padding labels set to a non-blank symbol."""
    theirs = their_blank % size
    order = np.arange(size)
    order[[blank, theirs]] = order[[theirs, blank]]
    targets = np.asarray(targets)
    valid = np.arange(targets.shape[1])[None, :] < np.asarray(target_lengths)[:, None]
    return order, order[np.where(valid, targets, 0 if blank else 1)]


def log_softmax_within(leaf: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """log_softmax over the last axis where `valid` (broadcast to `leaf`), `leaf` itself
    elsewhere: padding reaches the callable untouched, and its gradient there is the
    callable's own (a log_softmax over NaN padding would turn an upstream 0 into NaN)."""
    valid = valid.expand_as(leaf)
    return torch.where(valid, torch.log_softmax(leaf.where(valid, 0.0), -1), leaf)


UPSTREAM = 0.5
"""The upstream gradient of the second-backward check: not 1, so an in-place scaling shows."""


def second_backward(forward: Callable) -> CheckOutcome:
    """`forward() -> (leaf, output)`; backward twice through the output (retain_graph, an
    upstream gradient of 0.5 so that a scaling shows) gives the same gradient twice: a
    kernel that multiplies its saved gradient in place (warp-transducer) returns a rescaled
    one. Refusing the second backward is conforming."""
    name = "second backward gives the same gradient"
    try:
        leaf, out = forward()
        (out.sum() * UPSTREAM).backward(retain_graph=True)
        first = leaf.grad.clone()
        leaf.grad = None
    except Exception as error:  # the implementation under test may raise anything
        return raised(name, error)
    try:
        (out.sum() * UPSTREAM).backward()
    except RuntimeError as error:
        return CheckOutcome(name, True, detail=f"refuses a second backward: {error}"[:200])
    difference = float((leaf.grad - first).abs().max())
    limit = tolerance_for("float32", "any", "repeated_backward").atol
    passed = difference <= limit
    rescaled = not passed and float((leaf.grad - first * UPSTREAM).abs().max()) <= limit
    detail = ("" if passed else f"the second gradient is the first times the upstream "
              f"{UPSTREAM} again (the saved gradient was scaled in place)" if rescaled
              else "the second gradient differs from the first")
    return CheckOutcome(name, passed, max_abs_grad=difference, detail=detail,
                        deviation=SECOND_BACKWARD_RESCALES if rescaled else None)


def execution_paths(compare_on: Callable, device: str) -> CheckOutcome:
    """`compare_on(device) -> CheckOutcome` (one fixed batch against the oracle) on every
    execution path: 1 thread and torch's thread count (at least 2) on the CPU, and `device`
    too when it is not the CPU (warp-transducer 93: its CPU and GPU kernels disagree)."""
    name = "every execution path agrees with the oracle"
    threads = torch.get_num_threads()
    paths = [("cpu", 1), ("cpu", max(threads, 2))]
    if device != "cpu":
        paths.append((device, threads))
    failing, worst_loss, worst_grad = [], 0.0, 0.0
    try:
        for path_device, count in paths:
            torch.set_num_threads(count)
            result = compare_on(path_device)
            worst_loss = max(worst_loss, result.max_abs_loss)
            worst_grad = max(worst_grad, result.max_abs_grad)
            if not result.passed:
                failing.append(f"{path_device} with {count} thread(s): {result.detail}")
    except Exception as error:  # the implementation under test may raise anything
        return raised(name, error)
    finally:
        torch.set_num_threads(threads)
    return CheckOutcome(name, not failing, worst_loss, worst_grad, "; ".join(failing))


def gradient_as_taken(name: str, expected: str | None, run: Callable,
                      true_gradient, logits_gradient=None) -> CheckOutcome:
    """`run() -> gradient` w.r.t. the log-probs as given; it must be the `expected` one: the
    true derivative (`true_gradient`) unless the convention declares "logits gradient"
    (torch CTC's documented deviation, pytorch 52241: `logits_gradient`). Both are
    `compare(actual) -> Comparison` functions; `logits_gradient` None: only the true
    derivative has an oracle."""
    expected = expected or "true derivative"
    if expected != "true derivative" and logits_gradient is None:
        return CheckOutcome(name, False, detail=f"no oracle for the declared gradient "
                                                f"{expected!r}")
    try:
        grad = run()
    except Exception as error:  # the implementation under test may raise anything
        return raised(name, error)
    check = (true_gradient if expected == "true derivative" else logits_gradient)(grad)
    found = "it" if check.passed else (
        "the true derivative" if true_gradient(grad).passed else
        "the logits gradient (pytorch 52241)" if logits_gradient is not None
        and logits_gradient(grad).passed else "neither the true derivative nor the logits "
        "gradient")
    return CheckOutcome(name, check.passed, max_abs_grad=check.max_abs,
                        detail="" if check.passed else f"expected {expected!r}, found {found}")
