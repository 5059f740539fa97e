"""Conformance of a user's model loading: `loader(checkpoint path) -> torch.nn.Module` (a
model of one of the families in `rnnt_parity.codebases`) against the NumPy forward
pass of the checkpoint's own weights (`reference_impls.models`).

The oracle side reads the checkpoint itself (weights_only), maps it to the canonical layout
with the project's maps, and runs `oracle_stages`; the user's model runs through its
family's layout adapter (`stage_outputs`). Checks:
    weights        the model's tensors equal the checkpoint's, key by key (a key the loader
                   skipped, as `load_state_dict(strict=False)` allows, or a bias it dropped,
                   is named)
    forward        random inputs, every utterance full length, then a padded batch: encoder,
                   prediction, joint, CTC head and loss, first with a float64 copy of the
                   model (`model.float64.forward`: the loaded function must be the
                   checkpoint's exactly), then the model as loaded, under a bound measured
                   from its own spread against that float64 copy
                   (`rnnt_parity.compare.verification`); the first divergent stage named.
                   In the padded batch a divergence the family documents (Myrtle's StackTime
                   reads the padded batch) is explained, with the verdict elsewhere.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from rnnt_parity.codebases import family, family_of
from rnnt_parity.compare.models import oracle_stages
from rnnt_parity.compare.verification import (
    Verification,
    batch_reports,
    explained_frames,
    random_inputs,
    stage_arrays,
)
from rnnt_parity.conform.report import CheckOutcome, ConformanceReport, guarded, raised
from rnnt_parity.conform.targets import load_callable
from rnnt_parity.models.stages import stage_outputs
from rnnt_parity.port import inspect_checkpoint, map_to

WEIGHTS_CHECK = "the model holds the checkpoint's weights, key by key"


def forward_name(full_length: bool) -> str:
    return f"forward pass vs the NumPy oracle ({'full-length' if full_length else 'padded'} batch)"


def weights_check(model: torch.nn.Module, model_family: str, inspection) -> CheckOutcome:
    """The model's state equals the checkpoint's, key by key (both in canonical layout when
    the model is of another family than the checkpoint)."""
    name = WEIGHTS_CHECK
    expected = inspection.checkpoint.state
    actual = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if model_family != inspection.family:
        expected = map_to(expected, inspection.family, "canonical",
                          inspection.inferred.config)[0]
        actual = map_to(actual, model_family, "canonical", model.config)[0]
    missing = sorted(set(expected) - set(actual))
    unexpected = sorted(set(actual) - set(expected))
    differing = sorted(k for k in set(expected) & set(actual)
                       if actual[k].shape != expected[k].shape
                       or not torch.equal(actual[k].to(expected[k].dtype), expected[k]))
    problems = ([f"missing {missing}"] if missing else []) + (
        [f"not in the checkpoint {unexpected}"] if unexpected else []) + (
        [f"differ from the checkpoint {differing}"] if differing else [])
    return CheckOutcome(name, not problems, detail="; ".join(problems))


def float64_copy_of(model: torch.nn.Module) -> torch.nn.Module:
    """A float64 copy of the model (hooks included); ValueError when it cannot be made."""
    try:
        return copy.deepcopy(model).double()
    except Exception as error:  # the implementation under test may raise anything
        raise ValueError(f"the model cannot be copied to float64 ({type(error).__name__}: "
                         f"{error}); rnnt-parity verifies a model in float64 first") from None


def forward_verification(model, model_family: str, params: dict, config,
                         full_length: bool) -> Verification:
    """The model (as loaded, and its float64 copy) against the oracle in float64."""
    batch = random_inputs(config, full_length=full_length)
    precision = str(next(model.parameters()).dtype).removeprefix("torch.")
    blank = family(model_family).blank(model.config)
    expected = oracle_stages(params, config, batch.features, batch.lengths, batch.labels)
    outputs = {("a", "float64"): stage_arrays(expected, batch.labels, config.blank)}
    runs = {"float64": float64_copy_of(model), precision: model}
    for name, run in runs.items():
        outputs[("b", name)] = stage_arrays(
            stage_outputs(run, batch.features, batch.lengths, batch.labels), batch.labels,
            blank)
    explanation = explained_frames(("canonical", config), (model_family, model.config), batch,
                                   outputs[("a", "float64")]["encoder"].shape[1])
    return Verification(tuple(batch_reports(batch, outputs, list(runs), list(runs),
                                            explanation)))


def forward_check(model, model_family: str, params: dict, config, full_length: bool
                  ) -> CheckOutcome:
    verification = forward_verification(model, model_family, params, config, full_length)
    first = verification.first_divergence
    worst = max((c.max_abs for r in verification.reports if r.judged
                 for stage, c in r.comparisons.items() if stage not in r.explained),
                default=0.0)
    return CheckOutcome(forward_name(full_length), first is None, max_abs_loss=worst,
                        detail="; ".join([verification.summary(), *(
                            f"explained at {e}" for e in verification.explanations())])
                        if first is None else
                        f"first divergent stage: {first}; " + "\n".join(verification.lines()))


def conform_model(target: str, checkpoint: Path, family_name: str | None = None,
                  ema: bool = False, assume: dict[str, str] | None = None) -> ConformanceReport:
    """The loader's model against the oracle on the checkpoint's own weights; ValueError
    when a tensor is damaged or a forward-relevant property the weights cannot show is
    neither in the checkpoint nor stated in `assume`."""
    loader = load_callable(target)
    inspection = inspect_checkpoint(Path(checkpoint), family_name, ema, assume)
    inspection.require_usable(str(checkpoint))
    state, config, _ = map_to(inspection.checkpoint.state, inspection.family, "canonical",
                              inspection.inferred.config)
    params = {k: v.double().numpy() for k, v in state.items()}
    report = ConformanceReport("model", target, {"checkpoint": str(checkpoint),
                                                  "family": inspection.family})
    try:
        model = loader(str(checkpoint))
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"the loader returned a {type(model).__name__}, not a "
                            "torch.nn.Module")
        model_family = family_of(model)
    except Exception as error:  # the implementation under test may raise anything
        report.checks.append(raised("load the checkpoint", error))
        return report
    report.convention["model family"] = model_family
    model.eval()
    report.checks += [
        guarded(WEIGHTS_CHECK,
                lambda: weights_check(model, model_family, inspection)),
        guarded(forward_name(True),
                lambda: forward_check(model, model_family, params, config, True)),
        guarded(forward_name(False),
                lambda: forward_check(model, model_family, params, config, False))]
    return report
