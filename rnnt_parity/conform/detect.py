"""Probe an RNN-T loss callable for its conventions, by asking it questions whose answers
the oracle (`reference_impls.rnnt.rnnt_loss`) knows.

The callable is called torchaudio-style, `loss(logits, targets, logit_lengths,
target_lengths)` with torch tensors ((B, T, U+1, V) float32, (B, U) and (B,) integers);
bind anything else (blank, reduction) with functools.partial. Probes, in order:
    length dtype   which of int32 / int64 lengths and targets it accepts
    blank          U = 0: the loss is -sum_t log p(blank | t, 0), so on normalised inputs
                   exactly one index k reproduces it; asked at two vocabulary sizes, so that
                   "the last" (reported as -1) is told from a fixed index (inputs
                   log-softmaxed first, so the answer does not depend on whether it
                   normalises); if U = 0 is refused or
                   undefined, the one k whose oracle losses (U >= 1) fit the output under
                   some reduction
    inputs         adding a random constant to each (b, t, u) row leaves the loss unchanged
                   only if it applies log_softmax itself ("logits"); else "log_probs"
    reduction      a batch of 2 against the oracle's per-utterance losses: "none" (B,),
                   "sum", "mean", or "mean_over_target_lengths"; when none fits, the named
                   hypotheses (`HYPOTHESES`: the oracle on a lattice the loss may have
                   truncated, each reduction of it) are tried, and the one that fits is
                   recorded in `suspected` (with the reduction it fits under): the loss is
                   then checked under that reduction and fails, named; when none fits
                   either, it is checked as "sum" (a scalar) or "none" and fails
    gradient       autograd's gradient of the summed output against the oracle's exact
                   derivative w.r.t. the inputs as taken ("true derivative" or not)
    padding        logits padded past max(logit_lengths) in T (NaN there) give the same
                   losses; refusing them answers False
A probe that raises records the error and leaves its answer None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from reference_impls.rnnt import rnnt_loss as oracle_rnnt_loss

PROBE_RTOL = 1e-4
"""float32 inputs, float64 oracle; losses of a few nats over a handful of frames."""
GRADIENT_ATOL = 1e-4
"""float32 gradients of O(1) entries against the float64 oracle."""
REDUCTIONS = ("sum", "mean", "mean_over_target_lengths")


@dataclass
class DetectedConvention:
    length_dtypes: tuple[str, ...] = ()
    blank: int | None = None
    inputs: str | None = None
    reduction: str | None = None
    gradient: str | None = None
    accepts_padding: bool | None = None
    notes: list[str] = field(default_factory=list)
    deviations: tuple[str, ...] = ()
    """Named deviations (`backends.deviations`) the loss is declared to show: a check
    failing by one of them does not fail the report (presets and convention files declare
    them; detection never does)."""
    suspected: list[str] = field(default_factory=list)
    """What detection found the loss to compute instead of the oracle's loss under any
    convention (a named hypothesis that fits, or that nothing does): the report fails."""

    def describe(self) -> str:
        lines = [f"length dtypes accepted: {', '.join(self.length_dtypes) or 'none'}",
                 f"blank index: {self.blank}", f"inputs: {self.inputs}",
                 f"reduction: {self.reduction}", f"gradient: {self.gradient}",
                 f"accepts T padded past the longest utterance: {self.accepts_padding}",
                 f"declared deviations: {', '.join(self.deviations) or 'none'}"]
        return "\n".join(lines + [f"suspected: {s}" for s in self.suspected]
                         + [f"note: {n}" for n in self.notes])


def _call(loss, logits, targets, logit_lengths, target_lengths, dtype):
    return loss(logits, targets.to(dtype), logit_lengths.to(dtype), target_lengths.to(dtype))


def _oracle(x: torch.Tensor, targets, logit_lengths, target_lengths, blank, fused, reduction):
    """(loss, gradient) of the oracle, float64."""
    return oracle_rnnt_loss(x.detach().double().numpy(), targets.numpy(), logit_lengths.numpy(),
                            target_lengths.numpy(), blank=blank, reduction=reduction,
                            fused_log_softmax=fused)


def truncation_hypotheses(lengths: str, inputs: str, frame_axis: int) -> dict:
    """Named ways a loss truncates its lattice: name -> (what the oracle is given, the
    oracle's inputs (inputs, targets, frame lengths, target lengths) under it), for inputs
    whose frames run along `frame_axis` and whose frame lengths are called `lengths`."""
    return {
        "last label not scored": ("target_lengths - 1", lambda x, t, frames, labels: (
            x, t, frames, (labels - 1).clamp(min=0))),
        "last frame not scored": (f"{lengths} - 1", lambda x, t, frames, labels: (
            x, t, (frames - 1).clamp(min=1), labels)),
        "first frame not scored": (f"{inputs} from frame 1 on", lambda x, t, frames, labels: (
            x.narrow(frame_axis, 1, x.shape[frame_axis] - 1), t, (frames - 1).clamp(min=1),
            labels)),
    }


HYPOTHESES = truncation_hypotheses("logit_lengths", "the logits", 1)
"""The RNN-T loss's named truncations ((B, T, U+1, V) logits)."""


def _reduction_of(values: np.ndarray, per_utterance: np.ndarray, target_lengths) -> str | None:
    """The reduction that turns the oracle's per-utterance losses into `values`, if one does."""
    if values.shape == per_utterance.shape:
        return "none" if np.allclose(values, per_utterance, rtol=PROBE_RTOL) else None
    candidates = {"sum": per_utterance.sum(), "mean": per_utterance.mean(),
                  "mean_over_target_lengths": (per_utterance / target_lengths.numpy()).mean()}
    matching = [k for k, v in candidates.items() if np.isclose(values, v, rtol=PROBE_RTOL)]
    return matching[0] if len(matching) == 1 else None


def suspect(values: np.ndarray, per_utterance: np.ndarray, hypotheses: dict,
            losses_under: Callable, reduction_of: Callable) -> tuple[str, str]:
    """(reduction, the line to report) for an output `values` that fits no reduction of the
    oracle's `per_utterance` losses: the first named hypothesis (name -> (what the oracle is
    given, the input transform)) whose oracle losses, `losses_under(transform)`, some
    reduction turns into `values`; else the fallback "none" for a per-utterance output or
    "sum" for a scalar, and a line saying that nothing fits."""
    for name, (given, truncate) in hypotheses.items():
        reduction = reduction_of(values, losses_under(truncate))
        if reduction is not None:
            return reduction, (f"{name}: the output {np.round(values, 6).tolist()} is the "
                               f"oracle's {reduction} with {given} to {PROBE_RTOL:g} (the true "
                               f"losses: {np.round(per_utterance, 6).tolist()})")
    fallback = "none" if values.shape == per_utterance.shape else "sum"
    return fallback, (f"the output {np.round(values, 6).tolist()} fits no reduction of the "
                      f"oracle's per-utterance losses {np.round(per_utterance, 6).tolist()} "
                      f"and none of the named hypotheses ({', '.join(hypotheses)}); checked "
                      f"as {fallback!r}")


def probe_or_note(convention: DetectedConvention, name: str, action):
    """`action()`, or None with the error recorded in `convention.notes`."""
    try:
        return action()
    except Exception as error:  # the callable under test may raise anything
        convention.notes.append(f"{name} probe failed: {type(error).__name__}: {error}")
        return None


def detect_rnnt_convention(loss, vocab_size: int = 5, frames: int = 4, labels: int = 2,
                           seed: int = 0) -> DetectedConvention:
    """What `loss` expects and returns; see the module docstring."""
    generator = torch.Generator().manual_seed(seed)
    found = DetectedConvention()
    x = torch.randn(2, frames, labels + 1, vocab_size, generator=generator) * 2
    # labels avoid both ends so a first or last blank cannot collide with them
    targets = torch.randint(1, vocab_size - 1, (2, labels), generator=generator)
    logit_lengths = torch.tensor([frames, frames - 1])
    target_lengths = torch.tensor([labels, labels - 1])
    accepted = []
    for dtype in (torch.int32, torch.int64):
        if probe_or_note(found, f"{dtype} lengths",
                  lambda d=dtype: _call(loss, x, targets, logit_lengths, target_lengths, d)
                  ) is not None:
            accepted.append(str(dtype).removeprefix("torch."))
    found.length_dtypes = tuple(accepted)
    if not accepted:
        return found
    dtype = getattr(torch, accepted[0])

    def blank_at(vocab: int) -> int:
        normalised = torch.log_softmax(
            torch.randn(1, frames, 1, vocab, generator=generator) * 2, dim=-1)
        value = float(_call(loss, normalised, targets[:1, :0], logit_lengths[:1],
                            torch.tensor([0]), dtype).sum())
        expected = -normalised[0, :, 0].double().sum(dim=0).numpy()
        matches = np.flatnonzero(np.isclose(expected, value, rtol=PROBE_RTOL))
        if len(matches) != 1:
            raise ValueError(f"U = 0 loss {value:.6g} matches {len(matches)} indices")
        return int(matches[0])

    def blank_probe():
        small, large = blank_at(vocab_size), blank_at(vocab_size + 1)
        if (small, large) == (vocab_size - 1, vocab_size):
            return -1
        if small != large:
            raise ValueError(f"blank is {small} of {vocab_size} but {large} of {vocab_size + 1}")
        return small

    def blank_by_search():  # answers for this vocabulary size only
        normalised = torch.log_softmax(x, dim=-1)
        out = _call(loss, normalised, targets, logit_lengths, target_lengths, dtype)
        values = out.detach().double().numpy()
        used = set(targets[0, :int(target_lengths[0])].tolist()) | set(
            targets[1, :int(target_lengths[1])].tolist())
        matches = [k for k in range(vocab_size) if k not in used and _reduction_of(
            values, _oracle(normalised, targets, logit_lengths, target_lengths, k, False,
                            "none")[0], target_lengths) is not None]
        if len(matches) != 1:
            raise ValueError(f"the U >= 1 losses fit {len(matches)} blank indices")
        found.notes.append("blank found from U >= 1 losses at one vocabulary size (U = 0 was "
                           "not usable); the last index is reported as -1")
        return -1 if matches[0] == vocab_size - 1 else matches[0]

    found.blank = probe_or_note(found, "blank", blank_probe)
    if found.blank is None:
        found.blank = probe_or_note(found, "blank (U >= 1)", blank_by_search)
    if found.blank is None:
        return found
    resolved = found.blank % vocab_size
    targets = torch.where(targets == resolved, (resolved + 1) % vocab_size, targets)

    def inputs_probe():
        shift = torch.randn(2, frames, labels + 1, 1, generator=generator) * 3
        a = _call(loss, x, targets, logit_lengths, target_lengths, dtype)
        b = _call(loss, x + shift, targets, logit_lengths, target_lengths, dtype)
        return "logits" if torch.allclose(a, b, rtol=PROBE_RTOL) else "log_probs"

    found.inputs = probe_or_note(found, "inputs", inputs_probe)
    if found.inputs is None:
        return found
    fused = found.inputs == "logits"
    inputs = x if fused else torch.log_softmax(x, dim=-1)
    per_utterance, _ = _oracle(inputs, targets, logit_lengths, target_lengths, found.blank,
                               fused, "none")

    def reduction_probe():
        out = _call(loss, inputs, targets, logit_lengths, target_lengths, dtype)
        values = out.detach().double().numpy()
        reduction = _reduction_of(values, per_utterance, target_lengths)
        if reduction is not None:
            return reduction
        reduction, line = suspect(values, per_utterance, HYPOTHESES, lambda truncate: _oracle(
            *truncate(inputs, targets, logit_lengths, target_lengths), found.blank, fused,
            "none")[0], lambda v, losses: _reduction_of(v, losses, target_lengths))
        found.suspected.append(line)
        return reduction

    found.reduction = probe_or_note(found, "reduction", reduction_probe)

    def gradient_probe():
        leaf = inputs.clone().requires_grad_(True)
        _call(loss, leaf, targets, logit_lengths, target_lengths, dtype).sum().backward()
        weights = {None: 1.0, "none": 1.0, "sum": 1.0, "mean": 0.5}.get(found.reduction)
        expected = np.stack([
            _oracle(inputs[b:b + 1], targets[b:b + 1], logit_lengths[b:b + 1],
                    target_lengths[b:b + 1], found.blank, fused, "sum")[1][0]
            * (weights if weights is not None else 0.5 / int(target_lengths[b]))
            for b in range(2)])
        difference = np.abs(leaf.grad.double().numpy() - expected).max()
        if difference <= GRADIENT_ATOL:
            return "true derivative"
        return f"not the derivative w.r.t. its {found.inputs} (max |difference| {difference:.3g})"

    found.gradient = probe_or_note(found, "gradient", gradient_probe)

    def padding_probe():
        padded = torch.cat([inputs, torch.full_like(inputs[:, :2], float("nan"))], dim=1)
        a = _call(loss, inputs, targets, logit_lengths, target_lengths, dtype)
        try:
            b = _call(loss, padded, targets, logit_lengths, target_lengths, dtype)
        except Exception as error:  # refusing padding is an answer, not a failed probe
            found.notes.append(f"padded T refused: {type(error).__name__}: {error}")
            return False
        return bool(torch.allclose(a, b, rtol=PROBE_RTOL))

    found.accepts_padding = probe_or_note(found, "padding", padding_probe)
    return found

