"""Golden TDT losses and gradients from NeMo's own pure-PyTorch TDT loss.

Run in the goldens venv (scripts/goldens/make_env.sh):
    VENV/bin/python scripts/goldens/make_tdt_golden.py fixtures/goldens/tdt/nemo_tdt_pytorch.json

`nemo.collections.asr.losses.rnnt_pytorch.TDTLossPytorch` allocates its lattice with
`.cuda()`; with no GPU here `torch.Tensor.cuda` is made the identity so that it runs on the
CPU, unchanged otherwise. Inputs are float64; NeMo's alphas are float32 (torch.zeros'
default), so the golden is float32-accurate.
"""

import json
import sys

import nemo
import numpy as np
import torch

torch.Tensor.cuda = lambda self, *args, **kwargs: self
from nemo.collections.asr.losses.rnnt_pytorch import TDTLossPytorch  # noqa: E402

# (B, T, U, V tokens with blank last, durations, sigma)
CASES = [(2, 5, 2, 4, [0, 1, 2, 3], 0.0), (3, 6, 3, 5, [0, 1, 2, 3, 4], 0.05),
         (1, 4, 1, 3, [0, 1, 2], 0.0)]


def main(path: str) -> None:
    rng = np.random.default_rng(20261201)
    cases = []
    for batch, frames, labels, vocab, durations, sigma in CASES:
        logits = rng.standard_normal((batch, frames, labels + 1, vocab + len(durations)))
        targets = rng.integers(0, vocab - 1, (batch, labels))
        logit_lengths = np.array([frames, *rng.integers(2, frames + 1, batch - 1)])
        target_lengths = np.array([labels, *rng.integers(0, labels + 1, batch - 1)])
        acts = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
        loss = TDTLossPytorch(blank=vocab - 1, durations=durations, reduction="sum",
                              sigma=sigma)
        losses = torch.stack([loss(acts=acts[b:b + 1, :logit_lengths[b], :target_lengths[b] + 1],
                                   labels=torch.tensor(targets[b:b + 1, :target_lengths[b]]),
                                   act_lens=torch.tensor(logit_lengths[b:b + 1]),
                                   label_lens=torch.tensor(target_lengths[b:b + 1]))
                              for b in range(batch)])
        losses.sum().backward()
        cases.append({"logits": logits.tolist(), "targets": targets.tolist(),
                      "logit_lengths": logit_lengths.tolist(),
                      "target_lengths": target_lengths.tolist(), "durations": durations,
                      "sigma": sigma, "blank": vocab - 1,
                      "losses": losses.detach().tolist(), "grad_of_sum": acts.grad.tolist()})
    provenance = {"library": "nemo-toolkit", "version": nemo.__version__,
                  "torch": torch.__version__,
                  "callable": "nemo.collections.asr.losses.rnnt_pytorch.TDTLossPytorch",
                  "settings": "reduction='sum' per utterance (cropped to its lengths), float64 "
                              "input, torch.Tensor.cuda made the identity to run on the CPU",
                  "script": "scripts/goldens/make_tdt_golden.py"}
    with open(path, "w") as handle:
        json.dump({"provenance": provenance, "cases": cases}, handle)


if __name__ == "__main__":
    main(sys.argv[1])
