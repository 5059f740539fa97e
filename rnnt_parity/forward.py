"""`rnnt-parity forward`: a checkpoint's stage outputs on given inputs, and `compare
--against`: those outputs against stages dumped by another codebase.

IN.npz holds, batch-first and zero-padded:
    features (B, T, F), feature_lengths (B,)   the model input as `features extract` writes
                                              it, one utterance per row (for families that
                                              start at features)
    encoder (B, T', H), encoder_lengths (B,)  encoder outputs, for heads-only families (nemo)
    labels (B, U), label_lengths (B,)          in the checkpoint's own vocabulary, no blank
OUT.npz holds (float64 unless asked for float32):
    encoder (B, T', H), encoder_lengths (B,)  the encoder's output (for nemo, the input)
    prediction (B, U+1, P)                    after the zero start vector
    joint (B, T', U+1, V)                     raw logits in the checkpoint's own vocabulary
                                              order (a TDT joint's durations after the blank)
    ctc (B, T', V)                            raw CTC logits, where the model has a CTC head
    blank ()                                  the blank index
The contract covers frames t < encoder_lengths and label positions u <= label_lengths;
labels past a label length are replaced by 0 before the model sees them.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import torch

from rnnt_parity.codebases import build_with_weights, family
from rnnt_parity.compare.arrays import compare
from rnnt_parity.compare.models import StageReport
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.files import atomic_output, refuse_to_overwrite
from rnnt_parity.models.stages import stage_outputs

DTYPES = {"float64": torch.float64, "float32": torch.float32}
OUTPUT_STAGES = ("encoder", "prediction", "joint", "ctc")


@dataclasses.dataclass(frozen=True)
class ForwardInputs:
    inputs: np.ndarray
    input_lengths: np.ndarray
    labels: np.ndarray
    label_lengths: np.ndarray
    kind: str


def _array(data, name: str, path: Path, ndim: int, integer: bool) -> np.ndarray:
    if name not in data:
        raise ValueError(f"{path}: missing {name!r} (holds {sorted(data)})")
    value = np.asarray(data[name])
    if value.ndim != ndim:
        raise ValueError(f"{path}: {name!r} must be {ndim}-D, got shape {value.shape}")
    if integer != np.issubdtype(value.dtype, np.integer):
        raise ValueError(f"{path}: {name!r} must be {'integer' if integer else 'floating'}, "
                         f"got {value.dtype}")
    return value


def read_inputs(path: Path, heads_only: bool) -> ForwardInputs:
    """IN.npz checked: shapes, dtypes, lengths within their axes, batch sizes equal."""
    if not path.is_file():
        raise FileNotFoundError(f"no inputs file at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            data = {k: archive[k] for k in archive.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable .npz file ({error})") from error
    kind = "encoder" if heads_only else "features"
    inputs = _array(data, kind, path, 3, integer=False)
    input_lengths = _array(data, f"{kind}_lengths" if kind == "encoder" else "feature_lengths",
                           path, 1, integer=True)
    labels = _array(data, "labels", path, 2, integer=True)
    label_lengths = _array(data, "label_lengths", path, 1, integer=True)
    batch = inputs.shape[0]
    for name, value in (("lengths", input_lengths), ("labels", labels),
                        ("label_lengths", label_lengths)):
        if value.shape[0] != batch:
            raise ValueError(f"{path}: {name} has batch {value.shape[0]}, {kind} {batch}")
    for name, lengths, limit in ((f"{kind} lengths", input_lengths, inputs.shape[1]),
                                 ("label_lengths", label_lengths, labels.shape[1])):
        bad = np.flatnonzero((lengths < (1 if "label" not in name else 0)) | (lengths > limit))
        if bad.size:
            raise ValueError(f"{path}: {name}[{bad[0]}] = {lengths[bad[0]]} is outside "
                             f"[{1 if 'label' not in name else 0}, {limit}]")
    return ForwardInputs(inputs, input_lengths, labels, label_lengths, kind)


def _load(checkpoint: Path, family_name, config, ema, assume, dtype: str):
    from rnnt_parity.port import inspect_checkpoint

    if dtype not in DTYPES:
        raise ValueError(f"--dtype must be one of {list(DTYPES)}, got {dtype!r}")
    inspection = inspect_checkpoint(checkpoint, family_name, ema, assume, config)
    inspection.require_usable(str(checkpoint))
    model = build_with_weights(inspection.family, inspection.inferred.config, inspection.state)
    return inspection, model.to(DTYPES[dtype])


def run_forward(checkpoint: Path, inputs_path: Path, family_name: str | None = None,
                config: Path | None = None, ema: bool = False, assume: dict | None = None,
                dtype: str = "float64") -> tuple[dict[str, np.ndarray], ForwardInputs, str]:
    """(outputs as OUT.npz holds them, the inputs, the family)."""
    inspection, model = _load(checkpoint, family_name, config, ema, assume, dtype)
    entry = family(inspection.family)
    inputs = read_inputs(inputs_path, entry.heads_only)
    interface = entry.interface(inspection.inferred.config)
    if inputs.inputs.shape[2] != interface.input_features:
        raise ValueError(f"{inputs_path}: {inputs.kind} rows are {inputs.inputs.shape[2]} wide; "
                         f"{checkpoint} reads {interface.input_features}")
    labels = np.where(np.arange(inputs.labels.shape[1])[None] < inputs.label_lengths[:, None],
                      inputs.labels, 0)
    bad = np.argwhere((labels < 0) | (labels >= interface.vocab_size) |
                      (labels == interface.blank))
    if bad.size:
        b, u = bad[0]
        raise ValueError(f"{inputs_path}: labels[{b}, {u}] = {labels[b, u]} is not a label of "
                         f"{checkpoint} (0..{interface.vocab_size - 1}, blank "
                         f"{interface.blank} excluded)")
    stages = stage_outputs(model, inputs.inputs, inputs.input_lengths, labels)
    joint = stages["joint"]
    if "durations" in stages:
        joint = np.concatenate([joint, stages["durations"]], axis=-1)
    out = {"encoder": stages["encoder"], "encoder_lengths": stages["lengths"].astype(np.int64),
           "prediction": stages["prediction"], "joint": joint,
           "blank": np.asarray(interface.blank, dtype=np.int64)}
    if "ctc" in stages:
        out["ctc"] = stages["ctc"]
    if dtype == "float32":
        out = {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in out.items()}
    return out, inputs, inspection.family


def forward_checkpoint(checkpoint: Path, inputs_path: Path, out_path: Path,
                       family_name: str | None = None, config: Path | None = None,
                       ema: bool = False, assume: dict | None = None, dtype: str = "float64",
                       force: bool = False, out=print) -> dict[str, np.ndarray]:
    """Run the checkpoint on IN.npz and write OUT.npz atomically."""
    refuse_to_overwrite(out_path, force)
    outputs, _, name = run_forward(checkpoint, inputs_path, family_name, config, ema, assume,
                                   dtype)
    buffer = io.BytesIO()
    np.savez(buffer, **outputs)
    with atomic_output(out_path, force) as temporary:
        temporary.write_bytes(buffer.getvalue())
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in outputs.items() if v.ndim)
    out(f"{checkpoint} ({name}, {dtype}): {shapes} -> {out_path}")
    return outputs


def _valid(values: np.ndarray, lengths: np.ndarray, label_lengths: np.ndarray | None,
           label_axis: int | None) -> np.ndarray:
    """Values outside the contract (frames past a length, label positions past U_b) zeroed."""
    keep = np.ones(values.shape, dtype=bool)
    if lengths is not None:
        frames = np.arange(values.shape[1])[None, :] >= lengths[:, None]
        keep &= ~frames.reshape(*frames.shape, *([1] * (values.ndim - 2)))
    if label_lengths is not None and label_axis is not None:
        positions = np.arange(values.shape[label_axis])
        shape = [1] * values.ndim
        shape[0], shape[label_axis] = values.shape[0], values.shape[label_axis]
        keep &= (positions[None, :] <= label_lengths[:, None]).reshape(shape)
    return np.where(keep, values, 0.0)


def compare_against(checkpoint: Path, inputs_path: Path, against: Path,
                    family_name: str | None = None, config: Path | None = None,
                    ema: bool = False, assume: dict | None = None,
                    their_precision: str | None = None, out=print) -> StageReport:
    """The checkpoint's float64 stages against OUT.npz dumped by another codebase on the same
    inputs, stage by stage on the valid region, under the `model.forward` tolerance of the
    precision the other codebase computed in (`their_precision`; None: the dumped arrays'
    dtype, which a float32 run saved as float64 hides); prints which stage diverges first."""
    if their_precision not in (None, *DTYPES):
        raise ValueError(f"their precision must be one of {list(DTYPES)}, got "
                         f"{their_precision!r}")
    ours, inputs, name = run_forward(checkpoint, inputs_path, family_name, config, ema, assume)
    if not against.is_file():
        raise FileNotFoundError(f"no stages file at {against}")
    with np.load(against, allow_pickle=False) as archive:
        theirs = {k: archive[k] for k in archive.files}
    present = [stage for stage in OUTPUT_STAGES if stage in theirs]
    if not present:
        raise ValueError(f"{against} holds none of the stages {list(OUTPUT_STAGES)} "
                         f"(holds {sorted(theirs)})")
    dtype = their_precision or (
        "float32" if any(theirs[s].dtype == np.float32 for s in present) else "float64")
    tolerance = tolerance_for(dtype, "cpu", "model.forward")
    lengths = ours["encoder_lengths"]
    comparisons = {}
    for stage in present:
        if stage not in ours:
            raise ValueError(f"{against} has {stage!r}; {checkpoint} ({name}) has no such stage")
        if theirs[stage].shape != ours[stage].shape:
            raise ValueError(f"{stage}: {against} holds {theirs[stage].shape}, {checkpoint} "
                             f"gives {ours[stage].shape}")
        label_axis = {"prediction": 1, "joint": 2}.get(stage)
        frames = None if stage == "prediction" else lengths
        expected = _valid(ours[stage], frames, inputs.label_lengths, label_axis)
        actual = _valid(theirs[stage].astype(np.float64), frames, inputs.label_lengths,
                        label_axis)
        peak = np.abs(expected).reshape(expected.shape[0], -1).max(axis=1, initial=0.0)
        comparisons[stage] = compare(actual, expected, tolerance, peak)
    report = StageReport(comparisons)
    for stage, comparison in comparisons.items():
        out(f"  {stage:<10} {'pass' if comparison.passed else 'FAIL':<4}  max abs "
            f"{comparison.max_abs:.3e} at {comparison.worst_index}  ({comparison.tolerance.name}"
            f", valid region)")
    divergence = report.first_divergence
    out("no stage diverges" if divergence is None else f"first divergence: {divergence}")
    return report
