"""The torch canonical model against the NumPy oracle, stage by stage."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from reference_impls.models import CanonicalConfig, parameter_shapes
from rnnt_parity.codebases.canonical.model import CanonicalRNNT
from rnnt_parity.compare.arrays import compare
from rnnt_parity.compare.models import compare_canonical_to_oracle, oracle_stages, rounded_to
from rnnt_parity.compare.tolerances import tolerance_for
from rnnt_parity.models.stages import stage_outputs
from tests.rnnt_parity.models.helpers import inputs, randomise


@st.composite
def canonical_configs(draw):
    vocab = draw(st.integers(2, 6))
    hard = draw(st.booleans())
    time_stack = draw(st.integers(1, 3))
    return CanonicalConfig(
        input_features=draw(st.integers(1, 5)), encoder_hidden=draw(st.integers(1, 6)),
        pre_layers=draw(st.integers(1, 2)),
        post_layers=draw(st.integers(1 if time_stack > 1 else 0, 2)), time_stack=time_stack,
        prediction_hidden=draw(st.integers(1, 5)),
        prediction_layers=draw(st.integers(1, 2)), joint_hidden=draw(st.integers(1, 5)),
        vocab_size=vocab, blank=draw(st.integers(0, vocab - 1)),
        start_symbol=draw(st.sampled_from(["zero", "blank_embedding"])),
        joint_activation=draw(st.sampled_from(["relu", "tanh", "hardtanh_0_20"])),
        lstm_gates="hard" if hard else "sigmoid", lstm_cell="hard" if hard else "tanh",
        ctc_head=draw(st.booleans()),
        encoder_fc_in=tuple(draw(st.lists(st.integers(1, 5), max_size=2))),
        encoder_fc_out=tuple(draw(st.lists(st.integers(1, 5), max_size=2))),
        fc_activation=draw(st.sampled_from(["relu", "tanh", "hardtanh_0_20"])))


@given(config=canonical_configs(), seed=st.integers(0, 99))
def test_torch_canonical_matches_the_oracle_in_float64(config, seed):
    model = randomise(CanonicalRNNT(config).double(), seed)
    report = compare_canonical_to_oracle(model, config, *inputs(config, seed=seed))
    assert report.first_divergence is None, report.comparisons


@pytest.mark.parametrize("hard", [False, True])
def test_torch_canonical_matches_the_oracle_in_float32(device, hard):
    config = CanonicalConfig(6, 8, 2, 1, 2, 5, 2, 7, 6, 5, lstm_gates="hard" if hard else
                             "sigmoid", lstm_cell="hard" if hard else "tanh")
    model = randomise(CanonicalRNNT(config)).to(device)
    report = compare_canonical_to_oracle(model, config, *inputs(config, frames=20))
    assert report.first_divergence is None, report.comparisons


def test_state_dict_keys_and_shapes_are_the_canonical_ones():
    config = CanonicalConfig(6, 8, 2, 1, 2, 5, 2, 7, 6, 5, ctc_head=True)
    state = CanonicalRNNT(config).state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == parameter_shapes(config)


def test_tf32_is_off_while_stage_outputs_run_and_restored_after():
    """Even when the caller has turned TF32 on (cuDNN allows it by default), the compared
    forward passes run without it."""
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        config = CanonicalConfig(6, 8, 1, 0, 1, 5, 1, 7, 6, 5)
        model = randomise(CanonicalRNNT(config))
        seen = []
        model.joint.register_forward_hook(lambda *_: seen.append(
            (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)))
        stage_outputs(model, *inputs(config))
        assert seen == [(False, False)]
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("hard", [False, True])
def test_torch_canonical_matches_the_oracle_in_reduced_precision(device, dtype, hard):
    """The oracle runs in float64 on the model's own rounded weights and inputs; each of the
    model's ops rounds to `dtype`, under `model.bfloat16.forward` / `model.float16.forward`."""
    config = CanonicalConfig(6, 8, 2, 1, 2, 5, 2, 7, 6, 5, lstm_gates="hard" if hard else
                             "sigmoid", lstm_cell="hard" if hard else "tanh", ctc_head=True)
    model = randomise(CanonicalRNNT(config)).to(device=device, dtype=dtype)
    report = compare_canonical_to_oracle(model, config, *inputs(config, frames=20))
    assert report.first_divergence is None, report.comparisons
    tolerance = report.comparisons["encoder"].tolerance.name
    assert tolerance == f"model.{str(dtype).removeprefix('torch.')}.forward"


def test_pitfall_a_float32_tolerance_does_not_pass_a_bfloat16_model():
    """The reduced-precision bound is the dtype's own: bfloat16 outputs judged by the float32
    tolerance fail, so the named tolerance is not a rubber stamp."""
    config = CanonicalConfig(6, 8, 2, 1, 2, 5, 2, 7, 6, 5)
    model = randomise(CanonicalRNNT(config)).to(torch.bfloat16)
    features, lengths, labels = inputs(config, frames=20)
    rounded = rounded_to(features, torch.bfloat16)
    params = {k: v.double().numpy() for k, v in model.state_dict().items()}
    expected = oracle_stages(params, config, rounded, lengths, labels)["prediction"]
    actual = stage_outputs(model, rounded, lengths, labels)["prediction"]
    peaks = abs(expected).reshape(3, -1).max(axis=1)
    assert not compare(actual, expected, tolerance_for("float32", "cpu", "model.forward"),
                       peaks).passed
    assert compare(actual, expected, tolerance_for("bfloat16", "cpu", "model.forward"),
                   peaks).passed


def test_tf32_on_lstm_outputs_is_what_stage_outputs_turns_off(device, record_property):
    """cuDNN allows TF32 by default (torch.backends.cudnn.allow_tf32 is True): on Ampere and
    later GPUs, float32 LSTM and Linear products then round operands to a 10-bit significand.
    Measured against the float64 oracle with TF32 forced on and with it off: off must meet
    the float32 tolerance; on an Ampere or later GPU, on must not (the reason `stage_outputs`
    turns it off); on the CPU the flags change nothing. Both figures are recorded as test
    properties (junit XML). The cuda case has not run here: no GPU."""
    config = CanonicalConfig(64, 256, 2, 1, 2, 128, 1, 128, 30, 29)
    model = randomise(CanonicalRNNT(config), scale=0.2).to(device)
    features, lengths, labels = inputs(config, batch=4, frames=50)
    rounded = rounded_to(features, torch.float32)
    params = {k: v.double().cpu().numpy() for k, v in model.state_dict().items()}
    expected = oracle_stages(params, config, rounded, lengths, labels)["encoder"]
    errors = {}
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        for tf32 in (True, False):
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
            with torch.no_grad():
                x = torch.tensor(rounded, dtype=torch.float32, device=device)
                encodings, out_lengths = model.encoder(x, torch.tensor(lengths, device=device))
            valid = torch.arange(encodings.shape[1])[None, :] < out_lengths.cpu()[:, None]
            difference = (encodings.double().cpu() - torch.tensor(expected))[valid]
            errors[tf32] = float(difference.abs().max())
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before
    record_property("encoder_max_abs_error_tf32_on", errors[True])
    record_property("encoder_max_abs_error_tf32_off", errors[False])
    bound = tolerance_for("float32", device, "model.forward").atol * max(1.0, abs(expected).max())
    assert errors[False] <= bound
    if device == "cpu":
        assert errors[True] == errors[False]
    elif torch.cuda.get_device_capability() >= (8, 0):
        assert errors[True] > bound
