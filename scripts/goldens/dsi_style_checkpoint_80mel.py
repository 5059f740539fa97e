"""A tiny DSI-shaped checkpoint whose fc1 takes DSI's real input width, 4 x 80 = 320.

    python scripts/goldens/dsi_style_checkpoint_80mel.py \
        [--out fixtures/checkpoints/dsi/dsi_style_tiny_80mel.pt]

Like scripts/goldens/dsi_style_checkpoint.py (whose key names, sizes and container it reuses)
and NOT written by DSI's code, which is not available: a dict holding the state dict under
'network', float16, seed 000's key names. The one difference: `encoder.0.weight` is (8, 320),
not (8, 12). myrtlespeech 45899f7, the commit that ran DSI's weights, hard-codes that width
(`RNNTEncoder.__init__` slices fc1's first weight to `[:, :320]` and `_prepare_inputs_fc1`
drops channel 0 of 5), so its real model takes only 5 channels x 80 features; the 12-input
dsi_style_tiny.pt cannot be loaded into any model 45899f7 builds (see
scripts/goldens/myrtlespeech_forward.py). torch.save's defaults; seeded (generator seed 80),
reproducible. Imports nothing from rnnt-parity.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dsi_style_checkpoint import SHAPES  # noqa: E402

F_IN = 4 * 80


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2]
                        / "fixtures/checkpoints/dsi/dsi_style_tiny_80mel.pt")
    args = parser.parse_args()
    shapes = dict(SHAPES)
    shapes["encoder.0.weight"] = (shapes["encoder.0.weight"][0], F_IN)
    generator = torch.Generator().manual_seed(80)
    network = {key: (torch.rand(shape, generator=generator) - 0.5).half()
               for key, shape in shapes.items()}
    torch.save({"network": network}, args.out)
    print(f"{args.out}: {len(network)} tensors, "
          f"{sum(t.numel() for t in network.values())} float16 elements, "
          f"{args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
