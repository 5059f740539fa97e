"""Stage-by-stage comparison of two RNN-T models, or of a torch canonical model against the
NumPy canonical forward pass.

Encoder output, prediction output, joint logits, CTC logits (when both have a head) and the
RNN-T loss (each model's logits with
its own blank index, by the float64 loss oracle) are compared in pipeline order under the
`model.forward` tolerance of the dtype, and the first stage that diverges is named: a bug in
an LSTM gate shows at "encoder", a wrong hard-sigmoid slope at "encoder", a blank index moved
without permuting the output rows at "loss".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reference_impls.models import (
    CanonicalConfig,
    ctc_forward,
    encoder_forward,
    joint_forward,
    prediction_forward,
)
from reference_impls.rnnt import rnnt_loss
from rnnt_parity.compare.arrays import Comparison, compare
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.models.stages import stage_outputs

STAGES = ("encoder", "prediction", "joint", "ctc", "loss", "greedy")


@dataclass(frozen=True)
class StageReport:
    """Comparisons per stage, in pipeline order, and the first stage that failed (or None)."""

    comparisons: dict[str, Comparison]

    @property
    def first_divergence(self) -> str | None:
        return next((stage for stage in STAGES
                     if stage in self.comparisons and not self.comparisons[stage].passed), None)

    def describe(self) -> str:
        return "; ".join(f"{stage}: {'pass' if c.passed else 'FAIL'} (max abs {c.max_abs:.2e})"
                         for stage, c in self.comparisons.items())


def per_utterance_peak(values: np.ndarray) -> np.ndarray:
    """`(B,)`: each utterance's largest |value|."""
    return np.abs(values).reshape(values.shape[0], -1).max(axis=1, initial=0.0)


def rnnt_losses(logits: np.ndarray, labels, logit_lengths, blank: int) -> np.ndarray:
    """Per-utterance RNN-T loss of float64 logits, every label counted."""
    labels = np.asarray(labels)
    loss, _ = rnnt_loss(logits.astype(np.float64), labels.astype(np.int64),
                        np.asarray(logit_lengths, dtype=np.int64),
                        np.full(labels.shape[0], labels.shape[1], dtype=np.int64), blank=blank,
                        reduction="none")
    return loss


def valid_frames_only(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(B, T, ...) with frames at or past each utterance's length set to 0: what a model
    computes on padding is not part of its contract."""
    valid = np.arange(values.shape[1])[None, :] < np.asarray(lengths)[:, None]
    return np.where(valid.reshape(*valid.shape, *([1] * (values.ndim - 2))), values, 0.0)


def compare_stage_outputs(a: dict, b: dict, tolerance, blank_a: int, blank_b: int,
                          labels_a, labels_b) -> StageReport:
    """Two models' `stage_outputs` (b in a's vocabulary order), compared stage by stage on
    valid frames; different output lengths fail the encoder stage outright."""
    comparisons = {}
    for stage in ("encoder", "prediction", "joint", "ctc"):
        if stage not in a or stage not in b:
            continue
        expected, actual = a[stage], b[stage]
        if stage != "prediction":
            if not np.array_equal(a["lengths"], b["lengths"]) or expected.shape != actual.shape:
                actual = np.full_like(expected, np.nan)
            else:
                expected = valid_frames_only(expected, a["lengths"])
                actual = valid_frames_only(actual, a["lengths"])
        comparisons[stage] = compare(actual, expected, tolerance, per_utterance_peak(expected))
    loss_a = rnnt_losses(a["joint_own"], labels_a, a["lengths"], blank_a)
    loss_b = rnnt_losses(b["joint_own"], labels_b, b["lengths"], blank_b)
    comparisons["loss"] = compare(loss_b, loss_a, tolerance, np.abs(loss_a))
    return StageReport(comparisons)


def compare_hypotheses(a: list[list[int]], b: list[list[int]]) -> Comparison:
    """Token sequences compared exactly; max_abs counts the utterances that differ."""
    differing = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return Comparison(max_abs=float(len(differing)), max_rel=0.0,
                      worst_index=(differing[0],) if differing else (),
                      passed=not differing, tolerance=tolerance_for("exact", "any", "tokens"))


def compare_models(model_a, model_b, features, lengths, labels, blank_a: int, blank_b: int,
                   vocabulary_b=None, greedy: tuple[int | None, int | None] | None = None
                   ) -> StageReport:
    """Run both models (any families with a layout adapter) on the same inputs.

    `labels` are in model a's vocabulary; `vocabulary_b[v]` is the index of a's symbol v in
    b's vocabulary (None: the same order). b's logits are reordered into a's order for the
    joint comparison; the loss uses each model's own logits, labels and blank. `greedy`
    (a's and b's max symbols per frame) adds the greedy hypotheses (b's mapped into a's
    vocabulary), decoded through each model's port to canonical.
    """
    parameter = next(model_b.parameters())
    dtype = str(parameter.dtype).removeprefix("torch.")
    tolerance = tolerance_for(dtype, parameter.device.type, "model.forward")
    labels = np.asarray(labels)
    order = None if vocabulary_b is None else np.asarray(vocabulary_b)
    labels_b = labels if order is None else order[labels]
    a = stage_outputs(model_a, features, lengths, labels)
    b = stage_outputs(model_b, features, lengths, labels_b)
    a["joint_own"], b["joint_own"] = a["joint"], b["joint"]
    if order is not None:
        for stage in ("joint", "ctc"):
            if stage in b:
                b[stage] = b[stage][..., order]
    report = compare_stage_outputs(a, b, tolerance, blank_a, blank_b, labels, labels_b)
    if greedy is not None:
        from rnnt_parity.models.greedy import decode_any

        hyps_a = decode_any(model_a, features, lengths, greedy[0])
        hyps_b = decode_any(model_b, features, lengths, greedy[1])
        if order is not None:
            back = np.argsort(order)
            hyps_b = [[int(back[v]) for v in hyp] for hyp in hyps_b]
        report.comparisons["greedy"] = compare_hypotheses(hyps_a, hyps_b)
    return report


def oracle_stages(params: dict, config: CanonicalConfig, features, lengths, labels) -> dict:
    """The NumPy oracle's stage outputs, as `stage_outputs` gives them."""
    encodings, out_lengths = encoder_forward(params, config, features, lengths)
    predictions = prediction_forward(params, config, labels)
    stages = {"encoder": encodings, "prediction": predictions,
              "joint": joint_forward(params, config, encodings, predictions),
              "lengths": out_lengths}
    if config.ctc_head:
        stages["ctc"] = ctc_forward(params, encodings)
    return stages


def rounded_to(features, dtype: torch.dtype) -> np.ndarray:
    """float64 `features` rounded to the model's torch `dtype` (bfloat16 included), as
    float64: the oracle then sees exactly the input the model sees."""
    return torch.as_tensor(np.asarray(features, dtype=np.float64)).to(dtype).double().numpy()


def compare_canonical_to_oracle(model, config: CanonicalConfig, features: np.ndarray,
                                lengths: np.ndarray, labels: np.ndarray) -> StageReport:
    """Run a torch `CanonicalRNNT` and the NumPy oracle on its own float64 weights."""
    parameter = next(model.parameters())
    params = {key: value.double().cpu().numpy() for key, value in model.state_dict().items()}
    dtype = str(parameter.dtype).removeprefix("torch.")
    rounded = rounded_to(features, parameter.dtype)
    tolerance = tolerance_for(dtype, parameter.device.type, "model.forward")
    expected = oracle_stages(params, config, rounded, lengths, labels)
    actual = stage_outputs(model, rounded, lengths, labels)
    expected["joint_own"], actual["joint_own"] = expected["joint"], actual["joint"]
    return compare_stage_outputs(expected, actual, tolerance, config.blank, config.blank,
                                 labels, labels)
