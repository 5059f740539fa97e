"""Write the held-out golden audio: real speech at 16 kHz and one synthetic probe.

    python scripts/goldens/make_audio.py        # needs numpy, scipy, soundfile

Writes fixtures/goldens/audio/:
- fsdd_george_<digit>_16k.flac: Free Spoken Digit Dataset recordings of george (the speaker
  training never hears), 8 kHz, upsampled by 2 with scipy.signal.resample_poly(x, 2, 1) and
  rounded to int16 (CC BY-SA 4.0, like their source).
- probe_chirp.flac: 0.61 s, 16 kHz: a 100 Hz to 7 kHz linear chirp at 0.9 full scale that
  starts at full amplitude on sample 0 (so the first frame, the first sample's pre-emphasis
  and a window's edges show), plus seeded white noise at -40 dBFS; int16.
It imports nothing from the project; the files are byte-identical on every run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import chirp, resample_poly

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "goldens" / "audio"
RECORDINGS = ROOT / "fixtures" / "fsdd" / "recordings"
GEORGE = ("3_george_3", "7_george_1", "9_george_4")
RATE = 16000


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for stem in GEORGE:
        signal, rate = soundfile.read(RECORDINGS / f"{stem}.flac", dtype="float64")
        assert rate == 8000, rate
        soundfile.write(OUT / f"fsdd_{stem}_16k.flac",
                        to_int16(resample_poly(signal, 2, 1)), RATE, subtype="PCM_16")
    t = np.arange(int(0.61 * RATE)) / RATE
    probe = 0.9 * chirp(t, f0=100.0, t1=t[-1], f1=7000.0, method="linear", phi=0.0)
    probe += np.random.default_rng(2026).normal(0.0, 0.01, t.size)
    soundfile.write(OUT / "probe_chirp.flac", to_int16(probe), RATE, subtype="PCM_16")


if __name__ == "__main__":
    main()
