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
                   prediction, joint, CTC head and loss under `model.forward`, the first
                   divergent stage named
"""

from __future__ import annotations

from pathlib import Path

import torch

from rnnt_parity.codebases import family, family_of
from rnnt_parity.compare.models import compare_stage_outputs, oracle_stages, rounded_to
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.conform.report import CheckOutcome, ConformanceReport, guarded, raised
from rnnt_parity.conform.targets import load_callable
from rnnt_parity.models.stages import stage_outputs
from rnnt_parity.port import inspect_checkpoint, map_to, verification_inputs

KNOWN_PADDING_BEHAVIOUR = {
    "myrtle_rnnt": "Myrtle's StackTime shifts over the padded batch: a shorter odd-length "
                   "utterance's last stacked frame reads a padding frame, so the padded-batch "
                   "forward check fails at the encoder (the codebase's behaviour, not a port "
                   "error; the full-length check is the port's)"}
"""Family -> what its own codebase does with padded batches that the oracle does not."""
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


def forward_check(model, model_family: str, params: dict, config, full_length: bool
                  ) -> CheckOutcome:
    name = forward_name(full_length)
    parameter = next(model.parameters())
    dtype = str(parameter.dtype).removeprefix("torch.")
    features, lengths, labels = verification_inputs(config, seed=0, full_length=full_length)
    rounded = rounded_to(features, parameter.dtype)
    expected = oracle_stages(params, config, rounded, lengths, labels)
    actual = stage_outputs(model, rounded, lengths, labels)
    expected["joint_own"], actual["joint_own"] = expected["joint"], actual["joint"]
    report = compare_stage_outputs(
        expected, actual, tolerance_for(dtype, parameter.device.type, "model.forward"),
        config.blank, family(model_family).blank(model.config), labels, labels)
    first = report.first_divergence
    worst = max((c.max_abs for c in report.comparisons.values()), default=0.0)
    return CheckOutcome(name, first is None, max_abs_loss=worst,
                        detail="" if first is None else
                        f"first divergent stage: {first}; {report.describe()}")


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
    if model_family in KNOWN_PADDING_BEHAVIOUR:
        report.convention["notes"] = [KNOWN_PADDING_BEHAVIOUR[model_family]]
    model.eval()
    report.checks += [
        guarded(WEIGHTS_CHECK,
                lambda: weights_check(model, model_family, inspection)),
        guarded(forward_name(True),
                lambda: forward_check(model, model_family, params, config, True)),
        guarded(forward_name(False),
                lambda: forward_check(model, model_family, params, config, False))]
    return report
