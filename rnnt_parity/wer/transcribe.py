"""Decode a manifest's utterances with a system; unusable entries are skipped with a reason.

Audio is read at the system's 16 kHz without resampling (`rnnt_parity.audio.load_audio`): a
missing file, an unreadable file, a wrong rate or more than one channel skips the entry,
and the reason is kept (the report counts and lists every skip; nothing is dropped silently).
"""

from __future__ import annotations

from rnnt_parity.audio import load_audio
from rnnt_parity.corpus.manifests import Entry
from rnnt_parity.progress import Progress
from rnnt_parity.wer.system import System

SAMPLE_RATE = 16000
BATCH = 16


def transcribe(system: System, entries: list[Entry], label: str = "decoding",
               progress: bool = True, cache: dict | None = None
               ) -> tuple[dict[str, str], dict[str, str]]:
    """({id: hypothesis text}, {id: reason skipped}) for `entries`. `cache`, shared between
    systems, keeps each entry's model input (or its skip reason) per `ModelInput`, so a
    second system with the same input neither reads the audio again nor recomputes it."""
    cache = {} if cache is None else cache
    rows, skipped = {}, {}
    for entry in entries:
        key = (entry.id, system.model_input)
        if key not in cache:
            try:
                signal, _ = load_audio(entry.audio, SAMPLE_RATE)
                cache[key] = system.rows(signal, SAMPLE_RATE)
            except (FileNotFoundError, ValueError) as error:
                cache[key] = str(error)
        if isinstance(cache[key], str):
            skipped[entry.id] = cache[key]
        else:
            rows[entry.id] = cache[key]
    bar = Progress(label, len(rows)) if progress else None
    order = sorted(rows, key=lambda i: rows[i].shape[0])
    hypotheses = {}
    for start in range(0, len(order), BATCH):
        ids = order[start:start + BATCH]
        hypotheses.update(zip(ids, system.decode([rows[i] for i in ids]), strict=True))
        if bar:
            bar.advance(len(ids))
    if bar:
        bar.close()
    return hypotheses, skipped
