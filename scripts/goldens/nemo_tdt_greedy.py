"""Golden greedy TDT hypotheses from NeMo's own two greedy TDT decoders, on the real tiny TDT
archive that NeMo wrote (fixtures/models/nemo/tdt_char_tiny.nemo, scripts/goldens/nemo_models.py).

Run in the goldens venv (scripts/goldens/make_env.sh), from the repository root:
    VENV/bin/python scripts/goldens/nemo_tdt_greedy.py fixtures/goldens/tdt/nemo_tdt_greedy.json

The archive is restored on the CPU (`EncDecRNNTModel.restore_from`). Its decoder and joint
decode random encoder outputs (B, D, T) (the Conformer is not run: the decoders read only
its output) with
* `GreedyTDTInfer` (per utterance; in NeMo 3.0.0 it moves one more frame whenever the
  symbol budget is spent, NVIDIA-NeMo/Speech#16095, fixed by #16096 after 3.0.0), and
* `GreedyBatchedTDTInfer` (label looping, `use_cuda_graph_decoder=False`),
each with `max_symbols_per_step` in BUDGETS and `include_duration=True`; the batched decoder
also decodes each utterance alone (a batch of one, "GreedyBatchedTDTInfer alone"): in NeMo
3.0.0 its recorded token durations depend on the other utterances of the batch
(NVIDIA-NeMo/Speech#16097, fixed by #16098 after 3.0.0). Every hypothesis's tokens
(`y_sequence`), frames (`timestamp`) and durations (`token_duration`) are recorded.
The encodings are scaled by ENCODING_SCALES so that tokens of duration 0 occur and the
small budgets run out.
"""

import json
import sys

import nemo
import numpy as np
import torch
from nemo.collections.asr.models import EncDecRNNTModel
from nemo.collections.asr.parts.submodules.rnnt_greedy_decoding import (
    GreedyBatchedTDTInfer,
    GreedyTDTInfer,
)

ARCHIVE = "fixtures/models/nemo/tdt_char_tiny.nemo"
BUDGETS = (1, 2, 3, 10)
ENCODING_SCALES = (1.0, 4.0)
BATCH, FRAMES = 6, 14


def hypotheses(decoder_class, model, durations, encodings, lengths, budget):
    decoder = decoder_class(decoder_model=model.decoder, joint_model=model.joint,
                            blank_index=model.decoder.blank_idx, durations=durations,
                            max_symbols_per_step=budget, include_duration=True,
                            **({"use_cuda_graph_decoder": False}
                               if decoder_class is GreedyBatchedTDTInfer else {}))
    (found,) = decoder(encoder_output=torch.tensor(encodings, dtype=torch.float32),
                       encoded_lengths=torch.tensor(lengths))
    return [{"tokens": [int(k) for k in h.y_sequence],
             "frames": [int(t) for t in h.timestamp],
             "durations": [int(d) for d in h.token_duration]} for h in found]


def main(path: str) -> None:
    model = EncDecRNNTModel.restore_from(ARCHIVE, map_location="cpu").eval()
    durations = list(model.cfg.model_defaults.tdt_durations)
    rng = np.random.default_rng(20261202)
    sets = []
    for scale in ENCODING_SCALES:
        encodings = scale * rng.standard_normal((BATCH, model.joint.encoder_hidden, FRAMES))
        lengths = np.array([FRAMES, *rng.integers(1, FRAMES + 1, BATCH - 1)])
        decoded = {}
        for budget in BUDGETS:
            decoded[str(budget)] = {
                name: hypotheses(decoder_class, model, durations, encodings, lengths, budget)
                for name, decoder_class in (("GreedyTDTInfer", GreedyTDTInfer),
                                            ("GreedyBatchedTDTInfer", GreedyBatchedTDTInfer))}
            decoded[str(budget)]["GreedyBatchedTDTInfer alone"] = [
                hypotheses(GreedyBatchedTDTInfer, model, durations, encodings[b:b + 1],
                           lengths[b:b + 1], budget)[0] for b in range(BATCH)]
        sets.append({"encodings": encodings.astype(np.float32).tolist(),
                     "lengths": lengths.tolist(), "scale": scale, "decoded": decoded})
    provenance = {"library": "nemo-toolkit", "version": nemo.__version__,
                  "torch": torch.__version__, "checkpoint": ARCHIVE,
                  "callables": ["nemo.collections.asr.parts.submodules.rnnt_greedy_decoding."
                                f"{name}" for name in ("GreedyTDTInfer", "GreedyBatchedTDTInfer")],
                  "settings": f"durations {durations}, blank {model.decoder.blank_idx}, "
                              "include_duration=True, use_cuda_graph_decoder=False (batched), "
                              "CPU, float32 encodings (B, D, T)",
                  "script": "scripts/goldens/nemo_tdt_greedy.py"}
    with open(path, "w") as handle:
        json.dump({"provenance": provenance, "durations": durations, "budgets": list(BUDGETS),
                   "sets": sets}, handle)


if __name__ == "__main__":
    main(sys.argv[1])
