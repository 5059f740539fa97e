"""Probe a CTC loss callable for its conventions, as `detect` does for RNN-T losses.

The callable is called torch-style, `loss(log_probs, targets, input_lengths,
target_lengths)` with torch tensors (float32 inputs, `(B, S)` padded integer targets and
`(B,)` integer lengths); bind anything else (blank, reduction, zero_infinity) with
functools.partial. Probes, in order:
    layout, length dtype   which of (T, B, C) / (B, T, C) and int64 / int32 the callable
                   takes, told apart by the blank probe (T != B, so only the right layout
                   reproduces the S = 0 losses)
    blank          S = 0: the loss is -sum_t log p(blank | t), so on normalised inputs exactly
                   one index k reproduces it; asked at two class counts, so that "the last"
                   (reported as -1) is told from a fixed index
    inputs         adding a random constant to each frame leaves the loss unchanged only if it
                   applies log_softmax itself ("logits"); else "log_probs"
    reduction      against the oracle's per-utterance losses: "none", "sum", "mean"
                   (each loss / max(target length, 1), then the batch mean: torch's), or
                   "batch_mean" (sum / B); when none fits, the named hypotheses
                   (`HYPOTHESES`, as for RNN-T) are tried and the one that fits is recorded in
                   `suspected`: the loss is then checked under that reduction and fails,
                   named; when none fits either, it is checked as "sum" or "none" and fails
    gradient       autograd's gradient w.r.t. the inputs as taken: "true derivative", or
                   "logits gradient (pytorch 52241)" (exp(log_probs) - occupancy, what torch
                   returns), or what else it is
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from reference_impls.ctc import ctc_logits_gradient
from reference_impls.ctc import ctc_loss as oracle_ctc_loss
from rnnt_parity.conform.detect import (
    GRADIENT_ATOL,
    PROBE_RTOL,
    probe_or_note,
    suspect,
    truncation_hypotheses,
)

LAYOUTS = ("TBC", "BTC")
LOGITS_GRADIENT = "logits gradient (pytorch 52241)"


@dataclass
class CTCConvention:
    length_dtypes: tuple[str, ...] = ()
    layout: str | None = None
    blank: int | None = None
    inputs: str | None = None
    reduction: str | None = None
    gradient: str | None = None
    notes: list[str] = field(default_factory=list)
    suspected: list[str] = field(default_factory=list)
    """What detection found the loss to compute instead of the oracle's loss under any
    convention (a named hypothesis that fits, or that nothing does): the report fails."""


HYPOTHESES = truncation_hypotheses("input_lengths", "the log-probs", 0)
"""The CTC loss's named truncations ((T, B, C) log-probs)."""


def arrange(x: torch.Tensor, layout: str) -> torch.Tensor:
    """(T, B, C) -> the callable's layout."""
    return x if layout == "TBC" else x.transpose(0, 1)


def _call(loss, x, layout, targets, input_lengths, target_lengths, dtype):
    return loss(arrange(x, layout), targets.to(dtype), input_lengths.to(dtype),
                target_lengths.to(dtype))


def _per_utterance(x: torch.Tensor, targets, input_lengths, target_lengths, blank) -> tuple:
    """The oracle's (per-utterance losses, true gradient of their sum w.r.t. log-probs),
    float64, for (T, B, C) log-probs."""
    return oracle_ctc_loss(x.detach().double().numpy(), targets.numpy(), input_lengths.numpy(),
                           target_lengths.numpy(), blank=blank, reduction="none")


def _reductions(per_utterance: np.ndarray, target_lengths) -> dict:
    divisors = np.maximum(np.asarray(target_lengths), 1)
    return {"sum": per_utterance.sum(), "mean": (per_utterance / divisors).mean(),
            "batch_mean": per_utterance.mean()}


def _reduction_of(values: np.ndarray, per_utterance: np.ndarray, target_lengths) -> str | None:
    if values.shape == per_utterance.shape:
        return "none" if np.allclose(values, per_utterance, rtol=PROBE_RTOL) else None
    matching = [k for k, v in _reductions(per_utterance, target_lengths).items()
                if np.isclose(values, v, rtol=PROBE_RTOL)]
    return matching[0] if len(matching) == 1 else None


def _fits_a_reduction(values: np.ndarray, per_utterance: np.ndarray) -> bool:
    """S = 0 (every divisor 1): "mean" and "batch_mean" coincide, so any fit will do."""
    if values.shape == per_utterance.shape:
        return bool(np.allclose(values, per_utterance, rtol=PROBE_RTOL))
    return any(np.isclose(values, v, rtol=PROBE_RTOL)
               for v in _reductions(per_utterance, np.zeros(len(per_utterance))).values())


def detect_ctc_convention(loss, classes: int = 5, frames: int = 6, labels: int = 2,
                          seed: int = 0) -> CTCConvention:
    """What `loss` expects and returns; see the module docstring."""
    generator = torch.Generator().manual_seed(seed)
    found = CTCConvention()
    lengths = torch.tensor([frames, frames - 1])

    def blank_at(count: int, layout: str, dtype) -> int:
        x = torch.log_softmax(torch.randn(frames, 2, count, generator=generator) * 2, dim=-1)
        values = _call(loss, x, layout, torch.zeros(2, 0, dtype=torch.long), lengths,
                       torch.zeros(2, dtype=torch.long), dtype).detach().double().numpy()
        mask = (torch.arange(frames)[:, None] < lengths[None, :]).double()[..., None]
        per_blank = -(x.double() * mask).sum(dim=0).numpy()  # (B, C)
        matches = [k for k in range(count) if _fits_a_reduction(values, per_blank[:, k])]
        if len(matches) != 1:
            raise ValueError(f"S = 0 loss matches {len(matches)} blank indices in {layout}")
        return matches[0]

    refusals = []
    for layout in LAYOUTS:
        for dtype in (torch.int64, torch.int32):
            try:
                small, large = blank_at(classes, layout, dtype), blank_at(classes + 1, layout,
                                                                          dtype)
            except Exception as error:  # the callable under test may raise anything
                refusals.append(f"{layout} with {dtype}: {type(error).__name__}: {error}")
                continue
            found.length_dtypes += (str(dtype).removeprefix("torch."),)
            if found.layout is None:
                found.layout = layout
                found.blank = -1 if (small, large) == (classes - 1, classes) else small
                if found.blank != -1 and small != large:
                    found.notes.append(f"blank {small} of {classes} but {large} of "
                                       f"{classes + 1}")
                    found.blank = None
    if found.layout is None:
        found.notes += refusals
    if found.blank is None:
        return found
    dtype = getattr(torch, found.length_dtypes[0])
    blank = found.blank % classes
    x = torch.randn(frames, 2, classes, generator=generator) * 2
    # offsets 1 .. classes - 2 from blank: never blank, whatever its index
    targets = (torch.randint(1, classes - 1, (2, labels), generator=generator) + blank) % classes
    target_lengths = torch.tensor([labels, labels - 1])

    def inputs_probe():
        shift = torch.randn(frames, 2, 1, generator=generator) * 3
        a = _call(loss, x, found.layout, targets, lengths, target_lengths, dtype)
        b = _call(loss, x + shift, found.layout, targets, lengths, target_lengths, dtype)
        return "logits" if torch.allclose(a, b, rtol=PROBE_RTOL) else "log_probs"

    found.inputs = probe_or_note(found, "inputs", inputs_probe)
    if found.inputs is None:
        return found
    log_probs = torch.log_softmax(x, dim=-1)
    inputs = x if found.inputs == "logits" else log_probs
    per_utterance, true_grad = _per_utterance(log_probs, targets, lengths, target_lengths,
                                              blank)

    def reduction_probe():
        out = _call(loss, inputs, found.layout, targets, lengths, target_lengths, dtype)
        values = out.detach().double().numpy()
        reduction = _reduction_of(values, per_utterance, target_lengths)
        if reduction is not None:
            return reduction
        reduction, line = suspect(values, per_utterance, HYPOTHESES, lambda truncate: (
            _per_utterance(*truncate(log_probs, targets, lengths, target_lengths), blank)[0]),
            lambda v, losses: _reduction_of(v, losses, target_lengths))
        found.suspected.append(line)
        return reduction

    found.reduction = probe_or_note(found, "reduction", reduction_probe)
    if found.reduction is None:
        return found

    def gradient_probe():
        leaf = arrange(inputs, found.layout).clone().requires_grad_(True)
        loss(leaf, targets.to(dtype), lengths.to(dtype),
             target_lengths.to(dtype)).sum().backward()
        grad = arrange(leaf.grad, found.layout).double().numpy()
        weights = utterance_weights(found.reduction, target_lengths.numpy())
        expected = true_grad * weights[None, :, None]
        if found.inputs == "logits":
            expected = ctc_logits_gradient(log_probs.double().numpy(), expected, lengths)
        difference = np.abs(grad - expected).max()
        if difference <= GRADIENT_ATOL:
            return "true derivative"
        if found.inputs == "log_probs" and np.abs(grad - ctc_logits_gradient(
                log_probs.double().numpy(), expected, lengths)).max() <= GRADIENT_ATOL:
            return LOGITS_GRADIENT
        return f"not the derivative w.r.t. its {found.inputs} (max |difference| {difference:.3g})"

    found.gradient = probe_or_note(found, "gradient", gradient_probe)
    return found


def utterance_weights(reduction: str, target_lengths: np.ndarray) -> np.ndarray:
    """d(reduced loss) / d(loss_b) for each utterance b."""
    batch = len(target_lengths)
    if reduction in ("none", "sum"):
        return np.ones(batch)
    if reduction == "batch_mean":
        return np.full(batch, 1.0 / batch)
    return 1.0 / (np.maximum(target_lengths, 1) * batch)
