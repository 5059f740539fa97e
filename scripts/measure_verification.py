"""Measure `port` verification on the shipped checkpoints and on real-size models: for each
port to canonical, the float64 error (of the peak) and, in float32, bfloat16 and float16,
the largest error, the largest own spread and the largest error / bound ratio over every
stage and input batch (`rnnt_parity.compare.verification`). Prints a Markdown table (the
README's Tolerances section quotes it).

    .venv/bin/python scripts/measure_verification.py [--real-size-only | --shipped-only]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import torch

from rnnt_parity.codebases import family
from rnnt_parity.codebases.dsi.model import DSIConfig
from rnnt_parity.codebases.myrtle.model import MyrtleConfig
from rnnt_parity.codebases.myrtlespeech.model import MyrtlespeechConfig
from rnnt_parity.codebases.nemo.model import NeMoConfig
from rnnt_parity.compare.verification import Side, float64_copy, side_of
from rnnt_parity.mapping.through_canonical import map_to
from rnnt_parity.port import inspect_checkpoint, verify

ROOT = Path(__file__).resolve().parents[1] / "fixtures"
REDUCED = ("float32", "bfloat16", "float16")
SHIPPED = [
    ("tiny FSDD (myrtlespeech)", ROOT / "models" / "tiny_fsdd_myrtlespeech.pt", {}),
    ("Myrtle v1.3.0 lstm.training", ROOT / "checkpoints/myrtle/v1.3.0/lstm.training.pt",
     {"hard_activations": "false"}),
    ("Myrtle v1.3.0 hard_lstm.hardware", ROOT / "checkpoints/myrtle/v1.3.0/hard_lstm.hardware.pt",
     {}),
    ("Myrtle v1.14.0 lstm.training", ROOT / "checkpoints/myrtle/v1.14.0/lstm.training.pt",
     {"hard_activations": "false"}),
    ("myrtlespeech 24d2df3 tiny_no_dropout",
     ROOT / "checkpoints/myrtlespeech/24d2df3/tiny_no_dropout.pt", {}),
    ("DSI-shaped float16 (80 mel)", ROOT / "checkpoints/dsi/dsi_style_tiny_80mel.pt", {}),
    ("NeMo hybrid_char_tiny.nemo", ROOT / "models/nemo/hybrid_char_tiny.nemo", {}),
]
REAL_SIZE = [
    ("Myrtle base-8703sp sizes, nn.LSTM", "myrtle_rnnt", MyrtleConfig()),
    ("Myrtle base-8703sp sizes, hard LSTM", "myrtle_rnnt",
     dataclasses.replace(MyrtleConfig(), custom_lstm=True, hard_activation_functions=True)),
    ("myrtlespeech rnn_t_en sizes", "myrtlespeech", MyrtlespeechConfig(dropout=None)),
    ("DSI seed 000 sizes", "dsi", DSIConfig()),
    ("NeMo FastConformer heads", "nemo", NeMoConfig()),
]


def realistic(model: torch.nn.Module, kind: str, scale: float) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            values = (torch.randn(parameter.shape, generator=generator) * scale
                      if kind == "normal" else
                      (torch.rand(parameter.shape, generator=generator) * 2 - 1) * scale)
            parameter.copy_(values)
    return model.eval()


def port_sides(family_name: str, config, state: dict) -> tuple[Side, Side]:
    """The source and its port to canonical (float64 map beside the stored one)."""
    target, canonical, _ = map_to(state, family_name, "canonical", config)
    exact = map_to(float64_copy(state), family_name, "canonical", config)[0]
    return side_of(family_name, config, state), Side("canonical", canonical, exact, target)


def row(label: str, a: Side, b: Side) -> str:
    start = time.perf_counter()
    verification = verify(a, b, REDUCED)
    cells = [label, a.stored_precision]
    for precision in ("float64", *REDUCED):
        reports = [r for r in verification.reports if r.precision == precision]
        error = max(r.judged_comparison(s).of_magnitude for r in reports for s in r.comparisons)
        if precision == "float64":
            cells.append(f"{error:.1e}")
            continue
        ratio = max(r.judged_comparison(s).max_abs / r.judged_comparison(s).limit_there
                    for r in reports for s in r.comparisons
                    if r.judged_comparison(s).limit_there > 0)
        cells.append(f"{error:.1e} ({ratio:.2f})")
    cells.append("pass" if verification.passed else "FAIL")
    cells.append(f"{time.perf_counter() - start:.1f} s")
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real-size-only", action="store_true")
    parser.add_argument("--shipped-only", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    print("| port to canonical | stored | float64 error / peak | float32 error / peak "
          "(error / bound) | bfloat16 | float16 | verdict | time |")
    print("|---|---|---|---|---|---|---|---|")
    if not args.real_size_only:
        for label, path, statements in SHIPPED:
            inspection = inspect_checkpoint(path, assume=statements)
            print(row(label, *port_sides(inspection.family, inspection.inferred.config,
                                         inspection.state)), flush=True)
    if not args.shipped_only:
        for label, family_name, config in REAL_SIZE:
            for kind, scale in (("normal", 0.15), ("uniform", 0.3)):
                model = realistic(family(family_name).build(config), kind, scale)
                print(row(f"{label}, {kind} {scale}",
                          *port_sides(family_name, config, model.state_dict())), flush=True)


if __name__ == "__main__":
    main()
