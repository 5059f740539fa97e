"""Verification neither refuses a correct port nor passes a wrong one: float64 judges the map,
reduced precision is judged by a bound measured on the same models (see
`rnnt_parity.compare.verification`)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from reference_impls.models import CanonicalConfig
from rnnt_parity.cli import main
from rnnt_parity.codebases import family
from rnnt_parity.codebases.dsi.model import DSIConfig
from rnnt_parity.codebases.myrtle.model import MyrtleConfig
from rnnt_parity.codebases.myrtlespeech.model import MyrtlespeechConfig
from rnnt_parity.codebases.nemo.model import NeMoConfig
from rnnt_parity.compare.models import compare_models
from rnnt_parity.compare.verification import random_inputs, side_of, speech_inputs
from rnnt_parity.port import verify

MYRTLE = MyrtleConfig(in_feats=240, enc_n_hid=64, enc_pre_rnn_layers=2, enc_post_rnn_layers=2,
                      pred_n_hid=32, pred_rnn_layers=2, joint_n_hid=48, n_classes=29)
FAMILIES = {
    "canonical": ("canonical", CanonicalConfig(160, 64, 1, 1, 2, 32, 1, 48, 29, 28),
                  ["--assume", "hard_activations=false", "--assume", "joint_activation=relu",
                   "--assume", "start_symbol=zero"], "myrtle_rnnt"),
    "myrtle": ("myrtle_rnnt", MYRTLE, ["--assume", "hard_activations=false"], "canonical"),
    "myrtle_hard": ("myrtle_rnnt", dataclasses.replace(
        MYRTLE, custom_lstm=True, hard_activation_functions=True),
        ["--assume", "hard_activations=true"], "canonical"),
    "myrtlespeech": ("myrtlespeech", MyrtlespeechConfig(
        input_features=80, input_channels=5, fc1_hidden=128, rnn_hidden=64, rnn_layers=2,
        fc2_hidden=128, encoder_out=64, pred_hidden=32, pred_layers=2, joint_hidden=64,
        vocab_size=29, dropout=None), [], "canonical"),
    "dsi": ("dsi", DSIConfig(input_features=320, fc1_hidden=128, rnn_hidden=64, rnn_layers=2,
                             fc2_hidden=128, encoder_out=64, pred_hidden=32, pred_layers=2,
                             joint_hidden=64, vocab_size=29), [], "canonical"),
    "nemo": ("nemo", NeMoConfig(encoder_dim=64, pred_hidden=32, pred_rnn_layers=1,
                                joint_hidden=48, vocab_size=28),
             ["--assume", "joint_activation=relu"], "canonical"),
}
"""Each shipped family at a size where realistic weights reach Hardtanh's ceiling: (family,
config, statements its weights need, the family it is ported to)."""
HARDTANH_CEILING = 20.0


def realistic(model: torch.nn.Module, kind: str, scale: float = 0.3, seed: int = 0):
    """Every parameter N(0, scale^2) or uniform in [-scale, scale]: trained models' range."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            if kind == "normal":
                values = torch.randn(parameter.shape, generator=generator) * scale
            else:
                values = (torch.rand(parameter.shape, generator=generator) * 2 - 1) * scale
            parameter.copy_(values)
    return model.eval()


def checkpoint(tmp_path, name: str, kind: str):
    family_name, config, statements, target = FAMILIES[name]
    model = realistic(family(family_name).build(config), kind)
    path = tmp_path / f"{name}.pt"
    torch.save(model.state_dict(), path)
    return path, statements, target


def provenance(path) -> dict:
    return json.loads(path.with_name(path.name + ".provenance.json").read_text())


@pytest.mark.parametrize("kind", ["uniform", "normal"])
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_a_correct_port_at_realistic_weights_passes_in_float64_and_in_float32(
        name, kind, tmp_path, capsys):
    path, statements, target = checkpoint(tmp_path, name, kind)
    out, back = tmp_path / "ported.pt", tmp_path / "back.pt"
    assert main(["port", "--to", target, *statements, str(path), str(out)]) == 0
    assert main(["port", "--to", FAMILIES[name][0], str(out), str(back)]) == 0
    for written in (out, back):
        verification = provenance(written)["verification"]
        assert verification["passed"]
        for report in verification["reports"]:
            assert report["judged"] and report["precision"] in ("float64", "float32")
            for stage in report["stages"].values():
                assert stage["passed"]
                if report["precision"] == "float64":
                    assert stage["of_peak"] < 1e-13
    assert "float64: agrees to" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["myrtlespeech", "dsi"])
def test_the_realistic_weights_reach_hardtanhs_ceiling(name):
    """The premise of the test above for the Hardtanh(0, 20) families: some Linear layer's
    output passes 20, so its Hardtanh clips there."""
    from rnnt_parity.models.stages import stage_outputs

    family_name, config, _, _ = FAMILIES[name]
    model = realistic(family(family_name).build(config), "normal").double()
    peaks = []
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.register_forward_hook(lambda m, i, o: peaks.append(float(o.max())))
    batch = random_inputs(family(family_name).interface(config))
    stage_outputs(model, batch.features, batch.lengths, batch.labels)
    assert max(peaks) > HARDTANH_CEILING


def compare_with_a_mutated_port(tmp_path, name: str, kind: str, key_part: str,
                                how: str) -> dict:
    """Port the family's checkpoint, change the first tensor of the port whose key holds
    `key_part` ("nudge": 1e-6 of the tensor's largest |value| added to one element; "swap":
    its first two quarters, two LSTM gate blocks, exchanged), compare the source with it
    (exit status 1 expected) and return the verification JSON."""
    path, statements, target = checkpoint(tmp_path, name, kind)
    ported = tmp_path / "ported.pt"
    assert main(["port", "--to", target, *statements, str(path), str(ported)]) == 0
    state = torch.load(ported, weights_only=True)
    tensors = state["state_dict"] if "state_dict" in state else state
    key = next(k for k in tensors if key_part in k and tensors[k].is_floating_point())
    tensor = tensors[key].clone()
    if how == "nudge":
        tensor.view(-1)[0] += 1e-6 * tensor.abs().max()
    else:
        i, f, g, o = tensor.chunk(4, dim=0)
        tensor = torch.cat([f, i, g, o])
    tensors[key] = tensor
    torch.save(state, tmp_path / "wrong.pt")
    assert main(["compare", *statements, "--json", str(tmp_path / "v.json"), str(path),
                 str(tmp_path / "wrong.pt")]) == 1
    return json.loads((tmp_path / "v.json").read_text())


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_a_gate_swap_fails_in_float64_and_in_float32(name, tmp_path, capsys):
    reports = compare_with_a_mutated_port(tmp_path, name, "uniform", "weight_hh",
                                          "swap")["reports"]
    assert {r["precision"] for r in reports if any(
        not s["passed"] for s in r["stages"].values())} == {"float64", "float32"}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_pitfall_an_error_float32_cannot_see_is_caught_in_float64(name, tmp_path, capsys):
    """One weight off by 1e-6 of its tensor's peak hides inside float32's own spread: only
    the float64 verdict shows it."""
    verification = compare_with_a_mutated_port(tmp_path, name, "normal", "weight_ih", "nudge")
    assert verification["first_divergence"].startswith("float64 ")
    float32 = [r for r in verification["reports"] if r["precision"] == "float32"]
    assert all(s["passed"] for r in float32 for s in r["stages"].values())


def test_pitfall_a_fixed_float32_bound_refuses_a_correct_port_at_hardtanhs_ceiling():
    """64 eps32 x the peak (the old bound) is float32 rounding alone at a Hardtanh ceiling of
    20 through a real-size fc1: a correct myrtlespeech port failed it; the float64 verdict
    and the measured float32 bound pass the same port."""
    family_name, config, _, _ = FAMILIES["myrtlespeech"]
    source = realistic(family(family_name).build(MyrtlespeechConfig(dropout=None)), "normal",
                       scale=0.15)
    a = side_of(family_name, source.config, source.state_dict())
    from rnnt_parity.compare.verification import float64_copy
    from rnnt_parity.port import map_to

    state, canonical, _ = map_to(source.state_dict(), family_name, "canonical", source.config)
    b = side_of("canonical", canonical, state)
    batch = random_inputs(family(family_name).interface(source.config))
    fixed = compare_models(a.model("float32"), b.model("float32"), batch.features,
                           batch.lengths, batch.labels, a.blank, b.blank)
    assert fixed.first_divergence == "encoder"
    exact = map_to(float64_copy(source.state_dict()), family_name, "canonical",
                   source.config)[0]
    measured = verify(a, dataclasses.replace(b, exact=exact))
    assert measured.passed, measured.lines()


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_a_correct_port_passes_in_bfloat16_and_float16_under_the_measured_bound(
        precision, tmp_path):
    path, statements, target = checkpoint(tmp_path, "myrtle_hard", "uniform")
    out = tmp_path / "ported.pt"
    assert main(["port", "--to", target, *statements, "--precision", precision, str(path),
                 str(out)]) == 0
    reports = provenance(out)["verification"]["reports"]
    assert [r["precision"] for r in reports] == ["float64", "float32", precision] * 2
    assert all(s["passed"] for r in reports for s in r["stages"].values())


def test_checkpoints_in_two_precisions_are_judged_in_the_lower(tmp_path, capsys):
    path, _, _ = checkpoint(tmp_path, "dsi", "uniform")
    half = tmp_path / "half.pt"
    torch.save({k: v.half() for k, v in torch.load(path, weights_only=True).items()}, half)
    assert main(["compare", "--json", str(tmp_path / "v.json"), str(path), str(half)]) == 0
    out = capsys.readouterr().out
    assert "a is stored in float32 and b in float16: float64 compares two roundings of the " \
           "weights and is reported only, as is every other precision; judged in float16" in out
    reports = json.loads((tmp_path / "v.json").read_text())["reports"]
    assert {(r["precision"], r["judged"]) for r in reports} == {
        ("float64", False), ("float32", False), ("float16", True)}
    assert not all(s["passed"] for r in reports if r["precision"] == "float64"
                   for s in r["stages"].values())


def test_every_verdict_names_stage_precision_region_error_index_values_and_bound(
        tmp_path, capsys):
    path, statements, target = checkpoint(tmp_path, "myrtle", "normal")
    ported = tmp_path / "ported.pt"
    assert main(["port", "--to", target, *statements, str(path), str(ported)]) == 0
    capsys.readouterr()
    assert main(["compare", *statements, "--json", str(tmp_path / "v.json"), str(path),
                 str(ported)]) == 0
    out = capsys.readouterr().out
    assert "float32 on speech inputs (digits_en_us.flac, numbers_f3.flac):" in out
    assert "  encoder    pass      valid frames: max abs " in out
    assert "bound there" in out and "4 x the measured float32 spread" in out
    text = (tmp_path / "v.json").read_text()
    verification = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict {c}"))
    stage = verification["reports"][1]["stages"]["joint"]
    assert set(stage) >= {"region", "passed", "max_abs", "of_peak", "largest_at", "actual",
                          "expected", "limit", "tolerance", "rule", "own_spreads"}
    assert stage["region"] == "valid frames" and len(stage["largest_at"]) == 4
    assert main(["compare", "--json", str(tmp_path / "v.json"), *statements, str(path),
                 str(ported)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err


def test_speech_inputs_are_stacked_log_mels_of_the_fixture_recordings():
    batch = speech_inputs(family("dsi").interface(FAMILIES["dsi"][1]))
    assert batch.features.shape == (2, 24, 320) and list(batch.lengths) == [24, 24]
    assert speech_inputs(family("nemo").interface(FAMILIES["nemo"][1])) is None


def test_written_weights_that_are_not_the_float64_map_rounded_once_are_refused(
        tmp_path, monkeypatch, capsys):
    """A map whose float32 result differs from its float64 one (here: a gate swap only when
    the tensors are float32) passes in float64 and hides in the float32 model's own
    spread; the written tensors, checked against the float64 map rounded, do not."""
    import rnnt_parity.port as port

    path, statements, target = checkpoint(tmp_path, "myrtle", "uniform")
    honest = port.map_to

    def float32_only_bug(state, *args, **options):
        mapped, config, maps = honest(state, *args, **options)
        key = next(k for k in mapped if k.endswith("weight_hh"))
        if mapped[key].dtype == torch.float32:
            i, f, g, o = mapped[key].chunk(4, dim=0)
            mapped = {**mapped, key: torch.cat([f, i, g, o])}
        return mapped, config, maps

    monkeypatch.setattr(port, "map_to", float32_only_bug)
    out = tmp_path / "ported.pt"
    assert main(["port", "--to", target, *statements, str(path), str(out)]) == 2
    captured = capsys.readouterr()
    assert "verification failed at written weights" in captured.err and not out.exists()
    assert "written weights: " in captured.out
    assert "not the float64 map rounded to torch.float32" in captured.out


def test_a_bfloat16_and_a_float16_export_of_one_model_are_judged_in_bfloat16(tmp_path, capsys):
    path, _, _ = checkpoint(tmp_path, "dsi", "uniform")
    state = torch.load(path, weights_only=True)
    torch.save({k: v.bfloat16() for k, v in state.items()}, tmp_path / "bf16.pt")
    torch.save({k: v.half() for k, v in state.items()}, tmp_path / "fp16.pt")
    assert main(["compare", "--precision", "float32", str(tmp_path / "bf16.pt"),
                 str(tmp_path / "fp16.pt")]) == 0
    assert "judged in bfloat16" in capsys.readouterr().out


def test_a_reduced_run_that_overflows_fails_with_a_note():
    config = FAMILIES["canonical"][1]
    model = realistic(family("canonical").build(config), "uniform")
    with torch.no_grad():
        model.joint.output.weight.mul_(1e5)
    side = side_of("canonical", config, model.state_dict())
    verification = verify(side, side, ["float16"])
    assert not verification.passed and verification.first_divergence.startswith("float16 ")
    assert any("a's float16 run is not finite where its float64 run is" in line
               for line in verification.lines())
