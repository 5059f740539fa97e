"""The model input of a myrtlespeech task config's `pre_process_step`s, per revision (the
deepspeech-internal input that 45899f7 reproduced is `rnnt_parity.codebases.dsi.model_input`).

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
reported length is the last dimension's size.
"""

from __future__ import annotations

from pathlib import Path

from rnnt_parity.configs.common import ConfigError

PSF_REVISIONS = ("ef42c3f", "24d2df3", "45899f7")
TORCHAUDIO_REVISIONS = ("a7eea9a",)
REVISIONS = PSF_REVISIONS + TORCHAUDIO_REVISIONS
DEFAULT_REVISION = "24d2df3"
"""ef42c3f's twin that runs (same preprocessing and model code; its config parses)."""
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


def read_steps(path: Path, revision: str | None) -> tuple[tuple, list[str]]:
    """A config's pre_process_steps, read with `revision`'s own schema; where the file does
    not parse with it (the real 45899f7 and a7eea9a rnn_t_en.config never did: `dropout:
    0.25`), with the default schema, whose PreProcessStep messages are the same, and a note
    says so."""
    from rnnt_parity.codebases.myrtlespeech.config import read_myrtlespeech_config

    try:
        return read_myrtlespeech_config(path, revision=revision).pre_process_steps, []
    except ConfigError as error:
        if revision is None:
            raise
        note = (f"{path.name} does not parse with revision {revision}'s own protos "
                f"({str(error).split(': ', 1)[-1]}); its pre_process_steps were read with the "
                "default schema, whose PreProcessStep messages are the same")
        return read_myrtlespeech_config(path).pre_process_steps, [note]


def read_myrtlespeech_model_input(path: Path | None, revision: str | None = None):
    """(ModelInput, sample rate, revision, notes) of a task config's eval pre_process_steps."""
    from rnnt_parity.codebases.myrtlespeech.protos import revision_of

    if path is None:
        raise ConfigError("a myrtlespeech task config is needed for its pre_process_steps")
    revision = None if revision is None else revision_of(revision)
    steps, notes = read_steps(path, revision)
    model_input, revision, more = myrtlespeech_model_input(steps, revision, path)
    return model_input, SAMPLE_RATE, revision, tuple(notes) + more
