"""`rnnt-parity bench decode`: the tiny FSDD model's decoding speed and wer-drift's scale.

1. Batched torch greedy decoding (encoder + greedy, float32, batches of 16) of the held-out
   utterances, in utterances per second, against the NumPy oracle's one-at-a-time encoder +
   greedy decode (float64) of the same utterances; the hypotheses must agree token for
   token, and the ratio is printed.
2. Beam search, beam 4 with Graves's stopping rule (`rnnt_parity.models.beam`, what an
   `rnnt_beam` system runs): batched (batches of 16) against one utterance at a time, on the
   same 200 held-out utterances; target < 30 s batched. The hypotheses must agree.
3. A whole `wer-drift` run (audio reading, front end, two greedy systems, bootstrap with
   10,000 draws, three report files) on `utterances` held-out utterances; target < 2 min.
Features are computed before timing part 1.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from reference_impls.models.canonical import encoder_forward
from reference_impls.rnnt.decode import greedy_decode as oracle_greedy
from rnnt_parity.corpus.fsdd import held_out_utterances, write_utterances
from rnnt_parity.models.tiny import TINY_CHECKPOINT
from rnnt_parity.progress import step
from rnnt_parity.wer.run import SideSource, run_drift
from rnnt_parity.wer.system import DEFAULT_MAX_SYMBOLS, DecoderSettings, System, SystemSpec

BATCH = 16


def _decode_in_batches(system: System, rows: list[np.ndarray], batch: int, what: str
                       ) -> list[list[int]]:
    out = []
    for start in range(0, len(rows), batch):
        out += system.decode_ids(rows[start:start + batch])
        step(what)
    return out


def _oracle_greedy(system: System, rows: list[np.ndarray]) -> list[list[int]]:
    params = {k: v.double().numpy() for k, v in system.model.state_dict().items()}
    config = system.model.config
    out = []
    for r in rows:
        encodings, lengths = encoder_forward(params, config, r[None].astype(np.float64),
                                             np.array([r.shape[0]]))
        out.append(oracle_greedy(params, config, encodings[0], int(lengths[0]),
                                 DEFAULT_MAX_SYMBOLS))
        step("oracle greedy")
    return out


def run_decode_benchmark(utterances: int = 1000) -> None:
    torch.set_num_threads(2)
    system = System(SystemSpec(TINY_CHECKPOINT))
    held_out = held_out_utterances(150, 50)
    rows = [system.rows(u.signal, 16000) for u in held_out]
    rows.sort(key=lambda r: r.shape[0])
    started = time.perf_counter()
    batched = _decode_in_batches(system, rows, BATCH, "batched greedy")
    batched_s = time.perf_counter() - started
    started = time.perf_counter()
    oracle = _oracle_greedy(system, rows)
    oracle_s = time.perf_counter() - started
    same = sum(a == b for a, b in zip(batched, oracle, strict=True))
    seconds = sum(u.signal.size for u in held_out) / 16000
    print(f"held-out set: {len(rows)} utterances, {seconds:.0f} s of audio; torch threads "
          f"{torch.get_num_threads()}")
    print(f"batched torch greedy (batch {BATCH}): {batched_s:.2f} s = "
          f"{len(rows) / batched_s:.1f} utterances/s")
    print(f"oracle greedy (NumPy, one at a time): {oracle_s:.2f} s = "
          f"{len(rows) / oracle_s:.1f} utterances/s")
    print(f"speed-up {oracle_s / batched_s:.1f}x; identical hypotheses {same}/{len(rows)}")
    beam_system = System(SystemSpec(TINY_CHECKPOINT,
                                    decoder=DecoderSettings("rnnt_beam", beam=4)))
    timings, results = {}, {}
    for batch in (BATCH, 1):
        started = time.perf_counter()
        results[batch] = _decode_in_batches(beam_system, rows, batch,
                                            f"beam search, batch {batch}")
        timings[batch] = time.perf_counter() - started
    same = sum(a == b for a, b in zip(results[BATCH], results[1], strict=True))
    print(f"beam search, beam 4, batched (batch {BATCH}): {timings[BATCH]:.2f} s = "
          f"{len(rows) / timings[BATCH]:.1f} utterances/s (target < 30 s)")
    print(f"beam search, beam 4, one utterance at a time: {timings[1]:.2f} s "
          f"({timings[1] / timings[BATCH]:.1f}x the batched time); identical hypotheses "
          f"{same}/{len(rows)}")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        seen = int(round(utterances * 0.8))
        write_utterances(held_out_utterances(seen, utterances - seen, seed_offset=1),
                         folder / "data")
        for name, budget in (("a", DEFAULT_MAX_SYMBOLS), ("b", 1)):
            (folder / f"{name}.json").write_text(json.dumps(
                {"checkpoint": str(TINY_CHECKPOINT),
                 "decoder": {"kind": "rnnt_greedy", "max_symbols_per_frame": budget}}))
        started = time.perf_counter()
        run_drift(folder / "data" / "manifest.json", SideSource(folder / "a.json"),
                  SideSource(folder / "b.json"), folder / "report", [], progress=False)
        print(f"wer-drift, {utterances} utterances, greedy max 30 vs max 1 symbols per frame: "
              f"{time.perf_counter() - started:.1f} s end to end (target < 120 s)")
