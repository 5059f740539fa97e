"""deepspeech-internal's model input, as myrtlespeech commit 45899f7 fed it to DSI's weights
(the commit that reproduced DSI's WER in myrtlespeech): 45899f7's pre_process_steps
(python_speech_features log-mels, Standardize, symmetric context t-2..t+2 then every 2nd
window), then its encoder's `x[:, 1:]` drops channel 0 (t-2; the code's comment says "final"):
4 channels x 80 = 320 inputs, DSI's `Network(80 * 4, 28)`."""

from __future__ import annotations

from pathlib import Path

from rnnt_parity.codebases.myrtlespeech.model_input import (
    SAMPLE_RATE,
    myrtlespeech_model_input,
    read_steps,
)
from rnnt_parity.configs.common import ConfigError

REVISION = "45899f7"
STEPS = (("lmfb", "TRAIN_AND_EVAL", {"n_mels": 80, "win_length": 400, "hop_length": 160}),
         ("standardize", "TRAIN_AND_EVAL", {}),
         ("context_frames", "TRAIN_AND_EVAL", {"n_context": 2}))
"""45899f7's rnn_t_en.config pre_process_steps: the input DSI's weights were run on."""


def dsi_model_input(steps=None, path: Path = Path("<DSI>")):
    """(ModelInput, revision, notes) of DSI as 45899f7 fed it; `steps` default to 45899f7's
    rnn_t_en.config."""
    model_input, _, notes = myrtlespeech_model_input(steps or STEPS, REVISION, path,
                                                     drop_leading_context=1)
    if model_input.context != "symmetric" or model_input.context_frames != 2:
        raise ConfigError(f"{path}: DSI's input is the +-2 context with t-2 dropped; this "
                          f"config has context {model_input.context_frames}")
    return model_input, REVISION, notes


def read_dsi_model_input(path: Path | None, revision: str | None = None):
    """(ModelInput, sample rate, revision, notes): 45899f7's steps, or those of a myrtlespeech
    config `path` (read with `revision`'s schema, default 24d2df3's)."""
    if revision is not None and revision != REVISION:
        raise ConfigError(f"DSI's input is known at myrtlespeech {REVISION} only, not "
                          f"{revision!r}")
    if path is None:
        model_input, revision, notes = dsi_model_input()
        return model_input, SAMPLE_RATE, revision, notes
    steps, notes = read_steps(path, None)
    model_input, revision, more = dsi_model_input(steps, path)
    return model_input, SAMPLE_RATE, revision, tuple(notes) + more
