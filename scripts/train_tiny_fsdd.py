"""Train the tiny hybrid RNN-T + CTC digit recogniser on FSDD, on the CPU.

The model is the canonical family (`rnnt_parity.codebases.canonical.model`) in one of the
variants of `rnnt_parity.models.tiny` (`--variant hybrid`, the default: RNN-T + CTC, the
myrtle_centred front end with stack-3/keep-3 stacking; `--variant myrtlespeech`: the seed's
myrtlespeech shape), its vocabulary the seed's 28 characters plus blank. Training audio:
utterances of 1-5 digits composed from FSDD's training recordings (indices 5-49) of every
speaker but the held-out one (`rnnt_parity.corpus.fsdd`); nothing from the held-out
recordings is read.
Loss: RNN-T (torchaudio.functional.rnnt_loss, mean over utterances), + CTC_WEIGHT * CTC
when the model has a CTC head.

Fine-tuning (`--init CKPT`) with `--pitfall off_by_one_label_length` reproduces seed 000's
first difference: every target length is one short, so the last label of each transcript
never enters the loss (myrtlespeech packed its targets with a length that counted the
start token). Fine-tuning the same checkpoint without it gives the control.

Usage: python scripts/train_tiny_fsdd.py [--variant hybrid|myrtlespeech]
           [--fsdd ../shared/data/fsdd] [--out PATH] [--epochs N] [--learning-rate LR]
           [--init CKPT] [--pitfall off_by_one_label_length] [--force]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch
import torchaudio

from rnnt_parity.checkpoints import read_checkpoint, write_checkpoint
from rnnt_parity.codebases import CONFIG_EXTRA
from rnnt_parity.codebases.canonical.model import CanonicalRNNT
from rnnt_parity.corpus.fsdd import (
    ATTRIBUTION,
    compose_utterances,
    list_recordings,
    training_recordings,
)
from rnnt_parity.models.loading import load_exactly
from rnnt_parity.models.tiny import TINY_VOCABULARY, VARIANTS

UTTERANCES = 8000
EPOCHS = 18
BATCH = 32
LEARNING_RATE = 2e-3
CTC_WEIGHT = 0.3
SEED = 0


def batches(rows, labels, rng):
    """Length-bucketed batches: shuffle, sort within windows of 50 batches, shuffle batches."""
    order = rng.permutation(len(rows))
    window = BATCH * 50
    groups = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: rows[i].shape[0])
        groups += [chunk[k:k + BATCH] for k in range(0, len(chunk), BATCH)]
    for g in rng.permutation(len(groups)):
        members = groups[g]
        lengths = torch.tensor([rows[i].shape[0] for i in members])
        x = torch.zeros(len(members), int(lengths.max()), rows[members[0]].shape[1])
        for k, i in enumerate(members):
            x[k, :lengths[k]] = torch.from_numpy(rows[i])
        label_lengths = torch.tensor([len(labels[i]) for i in members])
        y = torch.zeros(len(members), int(label_lengths.max()), dtype=torch.long)
        for k, i in enumerate(members):
            y[k, :label_lengths[k]] = torch.tensor(labels[i])
        yield x, lengths, y, label_lengths


PITFALLS = ("off_by_one_label_length",)


def losses(model: CanonicalRNNT, x, lengths, y, label_lengths, pitfall: str | None = None):
    if pitfall == "off_by_one_label_length":
        label_lengths = label_lengths - 1
        y = y[:, :int(label_lengths.max())]
    encodings, out_lengths = model.encoder(x, lengths)
    logits = model.joint(encodings, model.prediction(y))
    blank = model.config.blank
    rnnt = torchaudio.functional.rnnt_loss(logits, y.int(), out_lengths.int(),
                                           label_lengths.int(), blank=blank)
    if model.ctc is None:
        return rnnt, torch.zeros(())
    log_probs = model.ctc(encodings).log_softmax(-1).transpose(0, 1)
    ctc = torch.nn.functional.ctc_loss(log_probs, y, out_lengths, label_lengths, blank=blank,
                                       zero_infinity=True)
    return rnnt, ctc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsdd", type=Path, default=Path("../shared/data/fsdd"))
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="hybrid")
    parser.add_argument("--out", type=Path, help="default: the variant's fixtures path")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--learning-rate", type=float, default=LEARNING_RATE)
    parser.add_argument("--init", type=Path, help="start from this checkpoint's weights")
    parser.add_argument("--pitfall", choices=PITFALLS, help="train with a catalogued bug")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    variant = VARIANTS[args.variant]
    out = args.out or variant.checkpoint
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    train = training_recordings(list_recordings(args.fsdd / "recordings"))
    utterances = compose_utterances(train, UTTERANCES, SEED, "train")
    rows = [variant.model_input.rows(u.signal, 16000) for u in utterances]
    labels = [TINY_VOCABULARY.encode(u.transcript) for u in utterances]
    print(f"{len(train)} training recordings -> {len(rows)} utterances, "
          f"{sum(u.signal.size for u in utterances) / 16000 / 3600:.2f} h, features in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    model = CanonicalRNNT(variant.config)
    init = None
    if args.init:
        checkpoint = read_checkpoint(args.init)
        load_exactly(model, checkpoint.state)
        init = {"path": str(args.init), "sha256": checkpoint.sha256}
    optimiser = torch.optim.Adam(model.parameters(), lr=args.learning_rate)
    steps = args.epochs * -(-len(rows) // BATCH)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, args.learning_rate,
                                                   total_steps=steps, pct_start=0.1)
    for epoch in range(args.epochs):
        totals = np.zeros(2)
        count = 0
        for x, lengths, y, label_lengths in batches(rows, labels, rng):
            rnnt, ctc = losses(model, x, lengths, y, label_lengths, args.pitfall)
            optimiser.zero_grad()
            (rnnt + CTC_WEIGHT * ctc).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            totals += (rnnt.item(), ctc.item())
            count += 1
        print(f"epoch {epoch + 1}: rnnt {totals[0] / count:.3f} ctc {totals[1] / count:.3f} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    minutes = (time.perf_counter() - started) / 60
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    extras = {CONFIG_EXTRA: dataclasses.asdict(variant.config), **variant.system_extras(),
              "training": {"utterances": UTTERANCES, "epochs": args.epochs, "batch": BATCH,
                           "learning_rate": args.learning_rate, "ctc_weight": CTC_WEIGHT,
                           "seed": SEED, "init": init, "pitfall": args.pitfall,
                           "minutes": round(minutes, 2),
                           "torch": str(torch.__version__)},
              "license": ATTRIBUTION}
    write_checkpoint(out, state, extras, force=args.force)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) after {minutes:.1f} min")


if __name__ == "__main__":
    main()
