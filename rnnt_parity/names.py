"""The names the command line offers as choices, written out so that building the parser
(and so `rnnt-parity --help`) imports neither torch nor numpy. Each is held equal to the
registry it names by `tests/rnnt_parity/test_names.py`."""

from __future__ import annotations

from pathlib import Path

FIXTURE_ROOT = Path(__file__).resolve().parent.parent / "fixtures"
"""The shipped fixtures (`rnnt_parity.fixtures.DEFAULT_FIXTURE_ROOT`)."""
FAMILY_NAMES = ("canonical", "dsi", "myrtle_rnnt", "myrtlespeech", "nemo", "torchaudio")
"""`rnnt_parity.codebases.FAMILIES`, sorted."""
MODEL_INPUT_FAMILIES = ("dsi", "myrtle_rnnt", "myrtlespeech", "nemo")
"""The families whose codebase's model input is read from a config (`read_model_input`)."""
FEATURE_SOURCES = (
    "kaldi", "myrtle", "myrtle_centred", "myrtlespeech_psf", "myrtlespeech_torchaudio",
    "nemo", "python_speech_features", "torchaudio_melspectrogram", "lib:kaldi",
    "lib:myrtlespeech_psf", "lib:myrtlespeech_torchaudio", "lib:python_speech_features",
    "lib:torchaudio_melspectrogram")
"""`rnnt_parity.frontends.sources.source_names()`: the presets, then lib:PRESET."""
BENCH_MODELS = ("base-8703sp", "testing-1023sp", "nemo-fastconformer-hybrid-large")
"""`rnnt_parity.port_bench.BENCH_MODELS`."""
BACKEND_NAMES = ("nemo", "optimized_transducer", "torch", "torchaudio", "warprnnt")
"""The RNN-T loss backends and the CTC backend `check --backend` takes, sorted."""
