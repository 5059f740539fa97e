"""Utterances of spoken digits built from the Free Spoken Digit Dataset (FSDD).

FSDD (Jakobovski/free-spoken-digit-dataset, Zenodo DOI 10.5281/zenodo.1342401; CC BY-SA 4.0)
holds 8 kHz recordings named `{digit}_{speaker}_{index}.wav`; indices 0-4 are the official
test split. An utterance concatenates 1-5 recordings of one speaker, resampled to 16 kHz,
with short gaps of very quiet noise between them (zeros would put -46 nats of log floor into
the features' per-utterance statistics), transcribed "three seven two".

Split used here: training = indices 5-49 of every speaker but `HELD_OUT_SPEAKER`; held out =
indices 0-4 of the seen speakers ("seen") and of `HELD_OUT_SPEAKER` ("unseen"), whose
recordings never enter training.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnt_parity.audio import load_audio

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SAMPLE_RATE = 16000
SOURCE_RATE = 8000
TEST_INDICES = range(0, 5)
HELD_OUT_SPEAKER = "george"
GAP_SECONDS = (0.05, 0.25)
GAP_NOISE_STD = 1e-4
ATTRIBUTION = ("Derived from the Free Spoken Digit Dataset (Jakobovski et al., "
               "github.com/Jakobovski/free-spoken-digit-dataset, Zenodo DOI "
               "10.5281/zenodo.1342401), licensed CC BY-SA 4.0; derived files carry the same "
               "license.")
_NAME = re.compile(r"(\d)_([a-z]+)_(\d+)")


@dataclass(frozen=True)
class Recording:
    path: Path
    digit: int
    speaker: str
    index: int

    @property
    def is_test(self) -> bool:
        return self.index in TEST_INDICES


@dataclass(frozen=True)
class Utterance:
    """One composed utterance: 16 kHz float64 samples in [-1, 1] and its transcript."""

    id: str
    speaker: str
    transcript: str
    signal: np.ndarray


def list_recordings(folder: str | Path) -> list[Recording]:
    """Every `{digit}_{speaker}_{index}` audio file in `folder`, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no FSDD recordings folder at {folder}")
    recordings = []
    for path in sorted(folder.iterdir()):
        match = _NAME.fullmatch(path.stem)
        if match and path.suffix in (".wav", ".flac"):
            digit, speaker, index = match.groups()
            recordings.append(Recording(path, int(digit), speaker, int(index)))
    if not recordings:
        raise ValueError(f"{folder} holds no files named like 3_theo_12.wav")
    return recordings


def training_recordings(recordings: list[Recording]) -> list[Recording]:
    return [r for r in recordings if not r.is_test and r.speaker != HELD_OUT_SPEAKER]


def held_out_recordings(recordings: list[Recording], unseen: bool) -> list[Recording]:
    """The test-index recordings of the held-out speaker (unseen) or of the others (seen)."""
    return [r for r in recordings if r.is_test and (r.speaker == HELD_OUT_SPEAKER) == unseen]


def read_recording(recording: Recording) -> np.ndarray:
    """The recording at 16 kHz (scipy's polyphase resampler from the file's own rate)."""
    signal, _ = load_audio(recording.path, SAMPLE_RATE, resample=True)
    return signal


def compose_utterances(recordings: list[Recording], count: int, seed: int, prefix: str,
                       max_digits: int = 5, cache: dict | None = None) -> list[Utterance]:
    """`count` utterances, each 1..`max_digits` recordings of one speaker drawn at random.

    Deterministic in (`recordings`, `count`, `seed`); ids are `{prefix}-{k:05d}-{speaker}`.
    `cache` (path -> 16 kHz signal) saves re-reading recordings across calls.
    """
    if count < 0 or max_digits < 1:
        raise ValueError(f"count must be >= 0 and max_digits >= 1, got {count}, {max_digits}")
    by_speaker: dict[str, list[Recording]] = {}
    for recording in recordings:
        by_speaker.setdefault(recording.speaker, []).append(recording)
    if not by_speaker:
        raise ValueError("no recordings to compose utterances from")
    speakers = sorted(by_speaker)
    cache = {} if cache is None else cache
    rng = np.random.default_rng(seed)
    utterances = []
    for k in range(count):
        speaker = speakers[rng.integers(len(speakers))]
        pool = by_speaker[speaker]
        chosen = [pool[i] for i in rng.integers(len(pool), size=rng.integers(1, max_digits + 1))]
        pieces = []
        for position, recording in enumerate(chosen):
            if position:
                gap = int(rng.uniform(*GAP_SECONDS) * SAMPLE_RATE)
                pieces.append(rng.normal(0.0, GAP_NOISE_STD, gap))
            if recording.path not in cache:
                cache[recording.path] = read_recording(recording)
            pieces.append(cache[recording.path])
        transcript = " ".join(DIGIT_WORDS[r.digit] for r in chosen)
        utterances.append(Utterance(f"{prefix}-{k:05d}-{speaker}", speaker, transcript,
                                    np.clip(np.concatenate(pieces), -1.0, 1.0)))
    return utterances


FIXTURE_RECORDINGS = Path(__file__).resolve().parents[2] / "fixtures" / "fsdd" / "recordings"
HELD_OUT_SEED = {"seen": 2024, "unseen": 2025}


def held_out_utterances(seen: int, unseen: int, folder: str | Path = FIXTURE_RECORDINGS,
                        seed_offset: int = 0) -> list[Utterance]:
    """The held-out evaluation utterances: `seen` from the seen speakers' test recordings and
    `unseen` from `HELD_OUT_SPEAKER`'s (ids prefixed "seen"/"unseen")."""
    recordings = list_recordings(folder)
    cache: dict = {}
    return (compose_utterances(held_out_recordings(recordings, unseen=False), seen,
                               HELD_OUT_SEED["seen"] + seed_offset, "seen", cache=cache)
            + compose_utterances(held_out_recordings(recordings, unseen=True), unseen,
                                 HELD_OUT_SEED["unseen"] + seed_offset, "unseen", cache=cache))


def write_utterances(utterances: list[Utterance], folder: str | Path, force: bool = False):
    """Write each utterance as 16-bit FLAC at 16 kHz under `folder`/audio, with a Myrtle
    manifest.json and a NeMo manifest.jsonl; returns the two manifest paths."""
    import soundfile

    from rnnt_parity.corpus.manifests import Entry, write_manifest
    from rnnt_parity.files import atomic_output

    folder = Path(folder)
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    entries = []
    for utterance in utterances:
        path = folder / "audio" / f"{utterance.id}.flac"
        with atomic_output(path, force) as temporary:
            soundfile.write(temporary, utterance.signal, SAMPLE_RATE, subtype="PCM_16",
                            format="FLAC")
        entries.append(Entry(f"audio/{utterance.id}", path, utterance.transcript,
                             utterance.signal.shape[0] / SAMPLE_RATE, utterance.speaker))
    manifests = folder / "manifest.json", folder / "manifest.jsonl"
    for manifest in manifests:
        write_manifest(manifest, entries, SAMPLE_RATE, force)
    return manifests
