"""Verification of two models: exact in float64, reduced precision under measured bounds.

A weight map renames, reorders, splits and sums tensors: it is exact, so a correct port
computes its source's function to float64 rounding. `verify_sides` therefore judges first in
float64, both models built from float64 weights (a port's target from the map applied to the
float64 source): under `model.float64.forward` (1e-12 of each utterance's peak) a correct
port agrees to about 1e-14 of the peak, and any real map error shows orders of magnitude
above that.

Reduced precision (float32, bfloat16, float16) is reported beside it, under a bound measured
on the same models and inputs (`model.<precision>.measured_spread`): each model's own spread
S = max |X_d - X_64| per utterance and stage (X_d: the model with its stored weights in
precision d, run in d; X_64: the same model in float64). When a and b agree in float64,
|b_d - a_d| <= S_a + S_b elementwise (triangle inequality), so the bound

    4 x max(S_a, S_b) + 1 eps_d x max(1, peak of the utterance)

is never exceeded by a correct port. Nor, once float64 passes, by any port: each model's own
spread absorbs what it does in precision d, so this verdict reports the precision's cost and
does not test the map again. A port's written tensors are checked instead, one by one,
against the float64 map rounded to the stored dtype (`rounding_problems`). A reduced run
that is not finite where float64 is fails (`NO_ALLOWANCE`).

Stages (`STAGE_REGIONS`): encoder, joint and CTC logits on each utterance's valid frames,
prediction at every label position, the RNN-T loss per utterance (the float64 loss oracle on
each model's own logits). In a padded batch, two codebases whose encoders stack frames but
find different things past an utterance's end (`TimeStacking`: Myrtle's StackTime reads the
padded batch, the canonical model zeroes it) legitimately differ at that utterance's last
stacked frame: such a divergence is explained, with the verdict on the valid frames outside
those frames (and on the losses of the utterances without one) beside it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from reference_impls.features.pipeline import log_mel
from reference_impls.features.stacking import stack_frames
from rnnt_parity.audio import load_audio
from rnnt_parity.codebases import build_with_weights, family
from rnnt_parity.compare.arrays import Comparison, compare
from rnnt_parity.compare.models import per_utterance_peak, rnnt_losses, valid_frames_only
from rnnt_parity.compare.tolerances import spread_tolerance_for, tolerance_for
from rnnt_parity.models.stages import stage_outputs
from rnnt_parity.progress import step

PRECISIONS: dict[str, torch.dtype] = {"float64": torch.float64, "float32": torch.float32,
                                      "bfloat16": torch.bfloat16, "float16": torch.float16}
STAGE_REGIONS = {"encoder": "valid frames", "prediction": "every label position",
                 "joint": "valid frames", "ctc": "valid frames", "loss": "per utterance"}
PER_FRAME = ("encoder", "joint", "ctc")
NO_ALLOWANCE = -1.0
"""The limit of an utterance whose reduced run is not finite where float64 is: every
element fails, so an overflow is never compared as if it were rounding."""
RANDOM_BATCH, RANDOM_FRAMES, LABELS = 2, 12, 3
SPEECH = ("digits_en_us.flac", "numbers_f3.flac")
"""The fixture recordings whose log-mels are the speech inputs (fixtures/audio/)."""
SPEECH_ROWS, SPEECH_SKIP, MEL_BANDS = 24, 4, 80
AUDIO = Path(__file__).resolve().parents[2] / "fixtures" / "audio"


def precision_of(state: dict) -> str:
    """The precision most of a state's floating elements are stored in."""
    counts: dict[str, int] = {}
    for tensor in state.values():
        if tensor.is_floating_point():
            name = str(tensor.dtype).removeprefix("torch.")
            counts[name] = counts.get(name, 0) + tensor.numel()
    if not counts:
        return "float64"
    name = max(counts, key=counts.get)
    if name not in PRECISIONS:
        raise ValueError(f"weights stored in {name}: verification knows {sorted(PRECISIONS)}")
    return name


def lowest_precision(names) -> str:
    """The least precise of `names` (bfloat16 < float16 < float32 < float64)."""
    order = ("bfloat16", "float16", "float32", "float64")
    return min(names, key=order.index)


@dataclass(frozen=True)
class Side:
    """One model to verify: its family and config, its weights in float64 (`exact`: for a
    port's target, the map applied to the float64 source) and as stored or written."""

    family: str
    config: object
    exact: dict
    stored: dict

    @property
    def stored_precision(self) -> str:
        return precision_of(self.stored)

    def model(self, precision: str) -> torch.nn.Module:
        dtype = PRECISIONS[precision]
        source = self.exact if precision == "float64" else self.stored
        return build_with_weights(self.family, self.config, {
            k: v.to(dtype) if v.is_floating_point() else v for k, v in source.items()})

    @property
    def blank(self) -> int:
        return family(self.family).blank(self.config)


def float64_copy(state: dict) -> dict:
    """`state` with every floating tensor converted (exactly) to float64."""
    return {k: v.double() if v.is_floating_point() else v for k, v in state.items()}


def side_of(family_name: str, config, stored: dict) -> Side:
    """A side whose float64 weights are its stored weights, exactly converted."""
    return Side(family_name, config, float64_copy(stored), stored)


@dataclass(frozen=True)
class Inputs:
    """One batch of canonical inputs: features (B, T, F), lengths (B,), labels (B, U) in a's
    vocabulary (labels avoid blank); `name` says what they are."""

    name: str
    features: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray


def _labels(rng, interface, batch: int) -> np.ndarray:
    symbols = [v for v in range(interface.vocab_size) if v != interface.blank]
    return rng.choice(symbols, (batch, LABELS))


def random_inputs(interface, seed: int = 0, full_length: bool = True) -> Inputs:
    """Standard-normal features for a model with `interface`'s input width, vocabulary and
    blank; every utterance full length, or (not `full_length`) every utterance but the
    first of an odd length of about half, so padding meets time stacking."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((RANDOM_BATCH, RANDOM_FRAMES, interface.input_features))
    lengths = np.full(RANDOM_BATCH, RANDOM_FRAMES)
    if not full_length:
        lengths[1:] = RANDOM_FRAMES // 2 + 1
    return Inputs("random inputs" + ("" if full_length else ", padded batch"), features,
                  lengths, _labels(rng, interface, RANDOM_BATCH))


@functools.cache
def speech_log_mels() -> tuple[np.ndarray, ...]:
    """The `SPEECH` recordings' normalised 80-band log-mels, computed once per process."""
    mels = []
    for name in SPEECH:
        signal, rate = load_audio(AUDIO / name)
        mels.append(log_mel(signal, rate, "myrtle"))
    return tuple(mels)


def speech_inputs(interface, seed: int = 0) -> Inputs | None:
    """The fixture recordings `SPEECH` as normalised 80-band log-mels (the `myrtle` preset),
    k = width / 80 consecutive frames stacked into each row, `SPEECH_ROWS` rows each, full
    length; None when the model's rows are not a multiple of 80 wide."""
    if interface.input_features % MEL_BANDS:
        return None
    stack = interface.input_features // MEL_BANDS
    rows = [stack_frames(mels, stack, stack)[SPEECH_SKIP:SPEECH_SKIP + SPEECH_ROWS]
            for mels in speech_log_mels()]
    features = np.stack(rows)
    return Inputs(f"speech inputs ({', '.join(SPEECH)})", features,
                  np.full(len(rows), SPEECH_ROWS),
                  _labels(np.random.default_rng(seed), interface, len(rows)))


def input_batches(interface, full_length: bool = True) -> tuple[list[Inputs], list[str]]:
    """The random batch and, where the width allows, the speech batch; notes on what is
    left out."""
    batches = [random_inputs(interface, full_length=full_length)]
    speech = speech_inputs(interface)
    if speech is None:
        return batches, [f"no speech inputs: the model reads {interface.input_features}-wide "
                         f"rows, not stacked {MEL_BANDS}-band log-mels"]
    return [*batches, speech], []


@dataclass(frozen=True)
class Explanation:
    """A stage's divergence a codebase documents: why, where, and the verdict elsewhere."""

    reason: str
    where: tuple[tuple[int, int], ...]
    """(utterance, frame) of each frame explained; for the loss, (utterance, -1)."""
    elsewhere: Comparison


@dataclass(frozen=True)
class PrecisionReport:
    """Every stage of one precision on one input batch."""

    precision: str
    inputs: str
    judged: bool
    comparisons: dict[str, Comparison]
    spreads: dict[str, tuple[float, float]] = field(default_factory=dict)
    """stage -> (a's, b's) largest own spread (reduced precision only)."""
    explained: dict[str, Explanation] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    """What the report cannot judge by its bound (a reduced run that overflowed)."""

    def judged_comparison(self, stage: str) -> Comparison:
        """The stage's comparison, or for an explained stage the one outside the explained
        frames."""
        if stage in self.explained:
            return self.explained[stage].elsewhere
        return self.comparisons[stage]

    def stage_passes(self, stage: str) -> bool:
        if self.comparisons[stage].passed:
            return True
        explanation = self.explained.get(stage)
        return explanation is not None and explanation.elsewhere.passed

    @property
    def first_divergence(self) -> str | None:
        return next((s for s in self.comparisons if not self.stage_passes(s)), None)

    def lines(self) -> list[str]:
        head = (f"{self.precision} on {self.inputs}" + ("" if self.judged else
                                                       " (reported, not judged)") + ":")
        lines = [head]
        for stage, c in self.comparisons.items():
            verdict = "pass" if c.passed else (
                "explained" if self.stage_passes(stage) else "FAIL")
            at = ",".join(str(i) for i in c.largest_index)
            spread = self.spreads.get(stage)
            lines.append(
                f"  {stage:<10} {verdict:<9} {STAGE_REGIONS[stage]}: max abs {c.max_abs:.2e}"
                f" = {c.of_magnitude:.1e} of the peak, at [{at}] (a {c.expected_there:.9g},"
                f" b {c.actual_there:.9g}); bound there {c.limit_there:.2e}: "
                f"{c.tolerance.describe()}"
                + ("" if spread is None else
                   f" (own spreads a {spread[0]:.1e}, b {spread[1]:.1e})"))
            if stage in self.explained:
                e = self.explained[stage].elsewhere
                lines.append(f"             elsewhere: {'pass' if e.passed else 'FAIL'} (max abs "
                             f"{e.max_abs:.2e} = {e.of_magnitude:.1e} of the peak)")
        for reason, places in self.explained_places().items():
            lines.append(f"  {'explained' if self.first_divergence is None else 'excluded'} at "
                         f"{', '.join(places)}: {reason}")
        return lines + [f"  note: {note}" for note in self.notes]

    def explained_places(self) -> dict[str, list[str]]:
        """reason -> the frames it excludes ("utterance u frame f", and "the loss of
        utterance u" where the loss is excluded with it)."""
        places: dict[str, list[str]] = {}
        for e in self.explained.values():
            for u, f in e.where:
                place = f"utterance {u} frame {f}" if f >= 0 else f"the loss of utterance {u}"
                if place not in places.setdefault(e.reason, []):
                    places[e.reason].append(place)
        return places

    def as_json(self) -> dict:
        return {"precision": self.precision, "inputs": self.inputs, "judged": self.judged,
                "notes": list(self.notes), "stages": {stage: {
                    "region": STAGE_REGIONS[stage], "passed": self.stage_passes(stage),
                    **c.as_json(),
                    **({"own_spreads": {"a": self.spreads[stage][0],
                                        "b": self.spreads[stage][1]}}
                       if stage in self.spreads else {}),
                    **({"explained": {"reason": self.explained[stage].reason,
                                      "where": [list(w) for w in self.explained[stage].where],
                                      "elsewhere": self.explained[stage].elsewhere.as_json()}}
                       if stage in self.explained else {})}
                    for stage, c in self.comparisons.items()}}


@dataclass(frozen=True)
class Verification:
    """Every precision on every input batch; passes when every judged report does."""

    reports: tuple[PrecisionReport, ...]
    notes: tuple[str, ...] = ()
    subject: str = "the same function"
    """What float64 agreement shows ("the map is exact" for a port)."""
    weight_problems: tuple[str, ...] = ()
    """Written tensors that are not the float64 map rounded once (`rounding_problems`)."""

    @property
    def first_divergence(self) -> str | None:
        """"<precision> <stage> (<inputs>)" of the first judged failure, "written weights"
        when a written tensor is not the rounded float64 map, or None."""
        if self.weight_problems:
            return "written weights"
        for report in self.reports:
            if report.judged and report.first_divergence is not None:
                return f"{report.precision} {report.first_divergence} ({report.inputs})"
        return None

    @property
    def passed(self) -> bool:
        return self.first_divergence is None

    def summary(self) -> str:
        """One line per precision: its largest error relative to the peak, and its verdict."""
        parts = []
        for precision in dict.fromkeys(r.precision for r in self.reports):
            reports = [r for r in self.reports if r.precision == precision]
            worst = max(r.judged_comparison(stage).of_magnitude
                        for r in reports for stage in r.comparisons)
            explained = sorted({stage for r in reports for stage in r.explained})
            failed = [r for r in reports if r.first_divergence is not None]
            judged = any(r.judged for r in reports)
            if precision == "float64":
                verdict = (f"agrees to {{:.0e}} of the peak; {self.subject}" if not failed
                           else "differs by {:.1e} of the peak: not the same function"
                           if judged else "differs by {:.1e} of the peak")
            else:
                verdict = ("within its measured bound (largest error {:.1e} of the peak)"
                           if not failed else "outside its measured bound ({:.1e} of the peak)")
            parts.append(f"{precision}: " + verdict.format(worst)
                         + (f" outside the explained frames ({', '.join(explained)})"
                            if explained else "")
                         + ("" if judged else " (reported, not judged)"))
        if self.weight_problems:
            parts.append(f"{len(self.weight_problems)} written tensor(s) not the float64 map "
                         "rounded once")
        return "; ".join(parts)

    def explanations(self) -> list[str]:
        """Each documented divergence that explains a stage once: "<where>: <reason>"."""
        return list(dict.fromkeys(
            f"{', '.join(places)}: {reason}" for report in self.reports
            if report.first_divergence is None
            for reason, places in report.explained_places().items()))

    def lines(self) -> list[str]:
        return [line for report in self.reports for line in report.lines()] + [
            f"written weights: {problem}" for problem in self.weight_problems] + [
            f"note: {n}" for n in self.notes]

    def as_json(self) -> dict:
        return {"passed": self.passed, "first_divergence": self.first_divergence,
                "summary": self.summary(), "notes": list(self.notes),
                "weight_problems": list(self.weight_problems),
                "reports": [r.as_json() for r in self.reports]}


def stage_arrays(outputs: dict, labels, blank: int) -> dict[str, np.ndarray]:
    """`stage_outputs` as compared: per-frame stages with frames past each utterance's
    length zeroed, the per-utterance loss of the model's own logits, labels and blank (NaN
    for an utterance whose logits are not finite); "lengths" kept."""
    lengths = np.asarray(outputs["lengths"])
    arrays = {"lengths": lengths}
    for stage in ("encoder", "prediction", "joint", "ctc"):
        if stage not in outputs:
            continue
        values = outputs[stage]
        arrays[stage] = valid_frames_only(values, lengths) if stage in PER_FRAME else values
    finite = np.isfinite(arrays["joint"]).reshape(len(lengths), -1).all(axis=1)
    arrays["loss"] = np.full(len(lengths), np.nan)
    if finite.any():
        arrays["loss"][finite] = rnnt_losses(outputs["joint"][finite],
                                             np.asarray(labels)[finite], lengths[finite], blank)
    return arrays


def _aligned(expected: dict, actual: dict, stage: str) -> np.ndarray:
    """b's stage, or NaN of a's shape when the two disagree on lengths or shapes."""
    if (stage != "prediction" and not np.array_equal(expected["lengths"], actual["lengths"])
            or expected[stage].shape != actual[stage].shape):
        return np.full_like(expected[stage], np.nan)
    return actual[stage]


def _spread(x_d: dict, x_64: dict, stage: str) -> np.ndarray:
    """Per utterance, the largest |x_d - x_64| (inf where x_d is not finite and x_64 is)."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(_aligned(x_64, x_d, stage) - x_64[stage])
    diff = np.where(np.isnan(diff), np.where(np.isnan(x_64[stage]), 0.0, np.inf), diff)
    return diff.reshape(diff.shape[0], -1).max(axis=1, initial=0.0)


def explained_frames(a: tuple[str, object], b: tuple[str, object], inputs: Inputs,
                     encoder_frames: int) -> tuple[str, np.ndarray] | None:
    """(reason, mask (B, T') of output frames) where the time stacking of a and b
    ((family, config) each) finds different things past a shorter utterance's end; None
    when they cannot differ."""
    (family_a, config_a), (family_b, config_b) = a, b
    stacking_a = family(family_a).time_stacking
    stacking_b = family(family_b).time_stacking
    if stacking_a is None or stacking_b is None or \
            stacking_a.convention == stacking_b.convention:
        return None
    factor = stacking_a.factor(config_a)
    if factor != stacking_b.factor(config_b) or factor == 1:
        return None
    lengths = np.asarray(inputs.lengths)
    total = inputs.features.shape[1]
    mask = np.zeros((lengths.size, encoder_frames), dtype=bool)
    for u, length in enumerate(lengths):
        if length % factor and length < total:
            mask[u, -(-length // factor) - 1] = True
    if not mask.any():
        return None
    reason = (f"the last stacked frame of an utterance whose length is not a multiple of "
              f"{factor} reaches past its end, where {family_a} finds "
              f"{stacking_a.past_the_end} and {family_b} finds {stacking_b.past_the_end}")
    return reason, mask


def _judge(a_x: dict, b_x: dict, stage: str, tolerance, limits=None, peaks=None
           ) -> Comparison:
    expected = a_x[stage]
    return compare(_aligned(a_x, b_x, stage), expected, tolerance,
                   per_utterance_peak(expected) if peaks is None else peaks, limits=limits)


def _excluding(arrays: dict, stage: str, mask: np.ndarray) -> dict:
    """A copy of `arrays` with the masked frames (or, for the loss, the utterances holding
    one) zeroed in `stage`."""
    values = arrays[stage].copy()
    if stage == "loss":
        values[mask.any(axis=1)] = 0.0
    else:
        values[:, :mask.shape[1]][mask] = 0.0
    return {**arrays, stage: values}


def _report(precision: str, inputs: Inputs, judged: bool, a: dict, b: dict,
            explanation, limits_of=None, spreads=None) -> PrecisionReport:
    """Compare stage arrays a (expected) and b; `limits_of(stage)` gives measured limits."""
    tolerance = (tolerance_for("float64", "any", "model.forward") if limits_of is None
                 else spread_tolerance_for(precision, "model.forward"))
    comparisons, explained = {}, {}
    for stage in STAGE_REGIONS:
        if stage not in a or stage not in b:
            continue
        limits = None if limits_of is None else limits_of(stage)
        peaks = per_utterance_peak(a[stage])
        comparisons[stage] = _judge(a, b, stage, tolerance, limits, peaks)
        if comparisons[stage].passed or explanation is None or stage == "prediction":
            continue
        reason, mask = explanation
        elsewhere = _judge(_excluding(a, stage, mask), _excluding(b, stage, mask), stage,
                           tolerance, limits, peaks)
        where = tuple((int(u), -1 if stage == "loss" else int(f))
                      for u, f in zip(*np.nonzero(mask), strict=True))
        if stage == "loss":
            where = tuple(dict.fromkeys(where))
        explained[stage] = Explanation(reason, where, elsewhere)
    return PrecisionReport(precision, inputs.name, judged, comparisons, spreads or {},
                           explained)


def batch_reports(batch: Inputs, outputs: dict, precisions: Sequence[str],
                  judged: Sequence[str], explanation) -> list[PrecisionReport]:
    """The reports of one batch from `outputs[(side, precision)]` (stage arrays, side "a"
    or "b"; a float64 reference without reduced runs, an oracle, counts as spread 0)."""
    a64, b64 = outputs[("a", "float64")], outputs[("b", "float64")]
    reports = [_report("float64", batch, "float64" in judged, a64, b64, explanation)]
    for p in precisions:
        if p == "float64":
            continue
        a_d, b_d = outputs.get(("a", p), a64), outputs[("b", p)]
        rule = spread_tolerance_for(p, "model.forward")
        spread_of = {stage: (_spread(a_d, a64, stage), _spread(b_d, b64, stage))
                     for stage in STAGE_REGIONS if stage in a64 and stage in b64}

        def limits_of(stage, spread_of=spread_of, rule=rule):
            spread = np.maximum(*spread_of[stage])
            bound = rule.bound(np.where(np.isfinite(spread), spread, 0.0),
                               per_utterance_peak(a64[stage]))
            return np.where(np.isfinite(spread), bound, NO_ALLOWANCE)

        spreads = {stage: (float(s_a.max()), float(s_b.max()))
                   for stage, (s_a, s_b) in spread_of.items()}
        overflow = tuple(
            f"{stage}: {side}'s {p} run is not finite where its float64 run is, in "
            f"utterance(s) {np.flatnonzero(~np.isfinite(spread)).tolist()}"
            for stage, pair in spread_of.items() for side, spread in zip("ab", pair, strict=True)
            if not np.isfinite(spread).all())
        report = _report(p, batch, p in judged, a_d, b_d, explanation, limits_of, spreads)
        reports.append(dataclasses.replace(report, notes=overflow))
    return reports


def verify_sides(a: Side, b: Side, batches: Sequence[Inputs], precisions: Sequence[str],
                 judged: Sequence[str], notes: Sequence[str] = (),
                 subject: str = "the same function") -> Verification:
    """Compare b with a in float64 and in each other precision of `precisions` (spreads
    measured per batch), on every batch; `judged`: the precisions whose failure fails the
    verification. Both models share a's vocabulary order and blank convention's labels."""
    reports = []
    models: dict = {}
    for batch in batches:
        outputs = {}
        for p in dict.fromkeys(["float64", *precisions]):
            for name, side in (("a", a), ("b", b)):
                if models.get((name, p)) is None:
                    models[(name, p)] = side.model(p)
                raw = stage_outputs(models[(name, p)], batch.features, batch.lengths,
                                    batch.labels)
                step(f"{name} in {p} on {batch.name}")
                outputs[(name, p)] = stage_arrays(raw, batch.labels, side.blank)
        explanation = explained_frames((a.family, a.config), (b.family, b.config), batch,
                                       outputs[("a", "float64")]["encoder"].shape[1])
        reports += batch_reports(batch, outputs, precisions, judged, explanation)
    return Verification(tuple(reports), tuple(notes), subject=subject)


def rounding_problems(side: Side) -> list[str]:
    """The stored tensors that are not their float64 counterpart rounded to the stored
    dtype, one line each: weights a port wrote are the float64 map, rounded once."""
    problems = []
    for key, stored in side.stored.items():
        exact = side.exact[key]
        rounded = exact.to(stored.dtype) if stored.is_floating_point() else exact
        if stored.shape != exact.shape or not torch.equal(stored, rounded):
            worst = (stored.double() - exact.double()).abs().max() \
                if stored.shape == exact.shape else float("nan")
            problems.append(f"{key}: not the float64 map rounded to {stored.dtype} "
                            f"(largest difference {float(worst):.3g})")
    return problems
