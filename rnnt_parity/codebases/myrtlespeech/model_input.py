"""The model input of a myrtlespeech task config's `pre_process_step`s, per revision, and
the deepspeech-internal (DSI) input that myrtlespeech 45899f7 reproduced.

Read off MyrtleSoftware/myrtlespeech (src/myrtlespeech/data/preprocess.py, builders/
pre_process_step.py, builders/speech_to_text.py, model/rnn_t.py). Eval-stage steps run in
config order on torchaudio.load's (1, N) float32 signal in [-1, 1]:
    lmfb            a7eea9a (before 45899f7): `torchaudio.transforms.MelSpectrogram(n_mels,
                    win_length, hop_length)` (n_fft 400), exact zeros -> float32 eps, ln:
                    preset `myrtlespeech_torchaudio`.
                    45899f7, ef42c3f, 24d2df3: `python_speech_features.logfbank` at a fixed
                    25 ms / 10 ms / 16 kHz (the step's win_length and hop_length are not
                    read), no effective pre-emphasis: preset `myrtlespeech_psf`.
    standardize     (x - mean) / std over the whole (1, F, T) tensor, torch's std (ddof 1),
                    no epsilon: the front end's normalise="all_features", norm_ddof=1.
    context_frames  symmetric windows t-k ... t+k, zeros outside, as (2k+1, F, T); from
                    45899f7 on the step then keeps every 2nd window (0, 2, 4, ...).
The encoder flattens (C, F, T) channel-major to C*F inputs (`x.view(B, 1, C*F, T)`); the
reported length is the last dimension's size. DSI (45899f7's port): the same steps, then
the encoder drops the first of the 5 channels (`x[:, 1:]`, t-2): 4 x 80 = 320 inputs.
"""

from __future__ import annotations

from pathlib import Path

from rnnt_parity.configs.common import ConfigError

PSF_REVISIONS = ("ef42c3f", "24d2df3", "45899f7")
TORCHAUDIO_REVISIONS = ("a7eea9a",)
REVISIONS = PSF_REVISIONS + TORCHAUDIO_REVISIONS
DEFAULT_REVISION = "24d2df3"
"""ef42c3f's twin that runs (same preprocessing and model code; its config parses)."""
DSI_REVISION = "45899f7"
DSI_STEPS = (("lmfb", "TRAIN_AND_EVAL", {"n_mels": 80, "win_length": 400, "hop_length": 160}),
             ("standardize", "TRAIN_AND_EVAL", {}),
             ("context_frames", "TRAIN_AND_EVAL", {"n_context": 2}))
"""45899f7's rnn_t_en.config pre_process_steps: the input DSI's weights were run on."""
PSF_WINDOW = {"win_length": 400, "hop_length": 160}
SAMPLE_RATE = 16000
"""Both LogMelFB versions compute at 16 kHz whatever the audio's rate."""


WIDTH_STEPS = ("lmfb", "context_frames")
"""Steps that fix the model's input width: exactly one lmfb and at most one context_frames,
each at TRAIN_AND_EVAL (the builder reads the width off them whatever the stage)."""
AT_EVALUATION = ("EVAL", "TRAIN_AND_EVAL")


def _eval_steps(steps, path: Path) -> dict[str, dict]:
    """{step: fields} of the steps that run at evaluation, checked: refusals name the step."""
    kept = {}
    order = []
    for index, (kind, stage, fields) in enumerate(steps):
        where = f"speech_to_text.pre_process_step[{index}].{kind}"
        if kind == "mfcc":
            raise ConfigError(f"{path}: {where}: MFCC features are not modelled (lmfb's "
                              "log-mel filterbanks are)")
        if kind in WIDTH_STEPS and (stage != "TRAIN_AND_EVAL" or kind in kept):
            raise ConfigError(f"{path}: {where} at {stage}: {kind} fixes the model's input "
                              "width, so it is needed once, at TRAIN_AND_EVAL")
        if kind == "spec_augment" and stage in AT_EVALUATION:
            raise ConfigError(f"{path}: {where} at {stage}: evaluation with random masks "
                              "cannot be reproduced")
        if stage in AT_EVALUATION and kind != "spec_augment":
            kept[kind] = fields
            order.append(kind)
    if "lmfb" not in kept:
        raise ConfigError(f"{path}: no lmfb pre_process_step: the input width is unknown")
    if order not in (["lmfb"], ["lmfb", "standardize"], ["lmfb", "context_frames"],
                     ["lmfb", "standardize", "context_frames"]):
        raise ConfigError(f"{path}: eval pre_process_steps in the order {order} are not "
                          "modelled (lmfb, then standardize, then context_frames)")
    return kept


def myrtlespeech_model_input(steps, revision: str | None, path: Path,
                             drop_leading_context: int = 0):
    """(ModelInput, revision, notes) of a config's pre_process_steps, as (name, stage,
    fields) triples in config order."""
    from rnnt_parity.frontends.model_input import ModelInput

    notes = []
    if revision is None:
        revision = DEFAULT_REVISION
        notes.append(f"read as myrtlespeech {DEFAULT_REVISION} (ef42c3f's twin, same "
                     f"preprocessing); --revision picks one of {list(REVISIONS)}")
    if revision not in REVISIONS:
        raise ConfigError(f"{path}: unknown myrtlespeech revision {revision!r}; known: "
                          f"{list(REVISIONS)}")
    kept = _eval_steps(steps, path)
    lmfb = kept["lmfb"]
    psf = revision in PSF_REVISIONS
    overrides = {}
    if psf:
        ignored = {k: lmfb[k] for k, v in PSF_WINDOW.items() if lmfb.get(k, v) != v}
        if ignored:
            notes.append(f"lmfb {ignored} not read at {revision}: its LogMelFB uses "
                         "python_speech_features' 25 ms / 10 ms")
    else:
        overrides = {k: lmfb[k] for k in PSF_WINDOW if lmfb.get(k)}
    if "standardize" in kept:
        overrides |= {"normalise": "all_features", "norm_ddof": 1, "norm_epsilon": 0.0}
    context = kept.get("context_frames", {}).get("n_context", 0)
    model_input = ModelInput(
        source="myrtlespeech_psf" if psf else "myrtlespeech_torchaudio",
        n_mels=lmfb["n_mels"], overrides=overrides, stack=1,
        subsample=2 if psf and context else 1,
        context="symmetric" if context else "none", context_frames=context,
        context_first=True, drop_leading_context=drop_leading_context)
    return model_input, revision, tuple(notes)


def dsi_model_input(steps=None, path: Path = Path("<DSI>")):
    """(ModelInput, revision, notes) of deepspeech-internal as myrtlespeech 45899f7 fed it:
    `steps` default to 45899f7's rnn_t_en.config."""
    model_input, _, notes = myrtlespeech_model_input(steps or DSI_STEPS, DSI_REVISION, path,
                                                     drop_leading_context=1)
    if model_input.context != "symmetric" or model_input.context_frames != 2:
        raise ConfigError(f"{path}: DSI's input is the +-2 context with t-2 dropped; this "
                          f"config has context {model_input.context_frames}")
    return model_input, DSI_REVISION, notes
