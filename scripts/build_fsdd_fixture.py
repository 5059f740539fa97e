"""Copy FSDD's official test recordings (indices 0-4, all five speakers) into
fixtures/fsdd/recordings as 8 kHz 16-bit FLAC: the audio every held-out utterance is built from.

Usage: python scripts/build_fsdd_fixture.py [--fsdd ../shared/data/fsdd] [--force]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import soundfile

from rnnt_parity.corpus.fsdd import ATTRIBUTION, FIXTURE_RECORDINGS, list_recordings
from rnnt_parity.files import atomic_output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fsdd", type=Path, default=Path("../shared/data/fsdd"))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    FIXTURE_RECORDINGS.mkdir(parents=True, exist_ok=True)
    tests = [r for r in list_recordings(args.fsdd / "recordings") if r.is_test]
    for recording in tests:
        samples, rate = soundfile.read(recording.path, dtype="int16")
        with atomic_output(FIXTURE_RECORDINGS / f"{recording.path.stem}.flac",
                           args.force) as temporary:
            soundfile.write(temporary, samples, rate, subtype="PCM_16", format="FLAC")
    print(f"{len(tests)} recordings -> {FIXTURE_RECORDINGS}\n{ATTRIBUTION}")


if __name__ == "__main__":
    main()
