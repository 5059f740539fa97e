"""A tiny checkpoint in deepspeech-internal's (DSI) container, written here with torch.save.

    python scripts/goldens/dsi_style_checkpoint.py [--out fixtures/checkpoints/dsi/FILE.pt]

NOT written by DSI's code, which is not available. Its format is known only as a fact (shared
reference notes, upstream_facts.md, and seed 000's notebook): a dict holding the model's state
dict under 'network', in fp16, with the key names of seed 000's hand-written map
(`encoder.{0,3,8,11}`, `encoder.6.layers.{0,2}.rnn.*_l0`, `prediction.embed`,
`prediction.dec_rnn.layers.{0,2}.rnn.*_l0`, `joint_net.{0,3}`). Shapes follow the
myrtlespeech RNN-T those keys map to, shrunk: 4 context channels x 3 features = 12 inputs,
fc width 8, encoder output 6, embedding / prediction LSTM 4, joint 6, 5 symbols + blank.
torch.save's defaults (zip format, pickle protocol 2); seeded, so reproducible. Imports
nothing from rnnt-parity.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

F_IN, H, E, P, J, V = 12, 8, 6, 4, 6, 5


def lstm(prefix: str, n_in: int, n_hid: int) -> dict:
    return {f"{prefix}.rnn.weight_ih_l0": (4 * n_hid, n_in),
            f"{prefix}.rnn.weight_hh_l0": (4 * n_hid, n_hid),
            f"{prefix}.rnn.bias_ih_l0": (4 * n_hid,), f"{prefix}.rnn.bias_hh_l0": (4 * n_hid,)}


def linear(prefix: str, n_in: int, n_out: int) -> dict:
    return {f"{prefix}.weight": (n_out, n_in), f"{prefix}.bias": (n_out,)}


SHAPES = {**linear("encoder.0", F_IN, H), **linear("encoder.3", H, H),
          **lstm("encoder.6.layers.0", H, H), **lstm("encoder.6.layers.2", H, H),
          **linear("encoder.8", H, H), **linear("encoder.11", H, E),
          "prediction.embed.weight": (V, P),
          **lstm("prediction.dec_rnn.layers.0", P, P), **lstm("prediction.dec_rnn.layers.2", P, P),
          **linear("joint_net.0", E + P, J), **linear("joint_net.3", J, V + 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2]
                        / "fixtures/checkpoints/dsi/dsi_style_tiny.pt")
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(0)
    network = {key: (torch.rand(shape, generator=generator) - 0.5).half()
               for key, shape in SHAPES.items()}
    torch.save({"network": network}, args.out)
    print(f"{args.out}: {len(network)} tensors, float16, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
