"""Goldens of NeMo's real preprocessor: for each config in SETS, build the `preprocessor`
section of a model_config.yaml with NeMo's own instantiation, run it in eval mode on audio
files and write fixtures/goldens/frontends/<set>/{goldens.npz, provenance.json}.

Run with the goldens venv (scripts/goldens/make_env.sh), from the repository root:

    VENV/bin/python scripts/goldens/nemo_frontend.py [--only SET ...]

goldens.npz holds, per utterance stem, `<stem>.rows` = processed_signal[0].T as float32
(frames, features), every frame NeMo returns (pad_to padding included), and `<stem>.length`
= processed_length[0] as a 0-d int64 array. The preprocessor's `dither` is set to 0 before
it is built (eval mode applies none anyway; this makes that explicit) and provenance.json
says so under "settings". Audio is read as NeMo's AudioSegment reads it: soundfile, float32,
one channel, at the file's rate (which must be the config's sample_rate).
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
AUDIO_16K = [f"fixtures/audio/{stem}.flac"
             for stem in ("short_yes", "digits_en_us", "weather_en_gb", "numbers_f3")]
AUDIO_16K_SHORT = AUDIO_16K[:2]
PROBE = "fixtures/goldens/audio/probe_chirp.flac"
"""Full scale to its last sample (fixtures/audio/*.flac end in digital silence): exact_pad's
zeroed tail shows only on audio that does not."""
AUDIO_8K = [f"fixtures/fsdd/recordings/{name}.flac"
            for name in ("0_george_0", "3_george_1", "7_george_2")]
VARIANTS = [
    "preprocessor_defaults", "window_hamming", "window_blackman", "window_bartlett",
    "n_fft_1024", "n_fft_null", "normalize_all_features", "normalize_null", "log_false",
    "log_zero_guard_clamp", "mag_power_1", "mel_norm_null", "band_limited", "preemph_null",
    "exact_pad_true", "pad_to_16", "pad_value_minus_5", "frame_splicing_3",
]
SETS = {
    "nemo_hybrid_char_tiny": ("fixtures/configs/nemo/hybrid_char_tiny/model_config.yaml",
                              AUDIO_16K),
    "nemo_hybrid_char_tiny_8k": (
        "fixtures/configs/nemo/hybrid_char_tiny_8k/model_config.yaml", AUDIO_8K),
    **{f"nemo_variant_{name}": (f"fixtures/configs/nemo/variants/{name}.yaml",
                                AUDIO_16K_SHORT + ([PROBE] if name == "exact_pad_true" else []))
       for name in VARIANTS},
}
SETTINGS = {"dither": 0.0, "mode": "eval", "batch_size": 1, "input_dtype": "float32"}


def build_preprocessor(config_path: Path):
    """NeMo's preprocessor from the config's `preprocessor` section, dither 0, eval mode."""
    from nemo.core.classes.modelPT import ModelPT
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(config_path)
    cfg = cfg.model if "model" in cfg else cfg
    section = cfg.preprocessor
    section.dither = 0.0
    preprocessor = ModelPT.from_config_dict(section)
    preprocessor.eval()
    return preprocessor, int(section.sample_rate)


def run(preprocessor, audio_path: Path, sample_rate: int):
    """(rows (T', F) float32, length int64) for one file, as NeMo returns them."""
    import soundfile
    import torch

    signal, rate = soundfile.read(audio_path, dtype="float32", always_2d=False)
    if rate != sample_rate:
        raise ValueError(f"{audio_path} is {rate} Hz; the config wants {sample_rate} Hz")
    with torch.no_grad():
        features, length = preprocessor(input_signal=torch.from_numpy(signal)[None],
                                        length=torch.tensor([signal.shape[0]]))
    return (features[0].T.contiguous().numpy().astype(np.float32),
            np.asarray(int(length[0]), dtype=np.int64))


def make_set(name: str, config: str, audio: list[str], out_root: Path, command: str) -> None:
    import nemo
    import torch

    preprocessor, sample_rate = build_preprocessor(ROOT / config)
    arrays, stems = {}, {}
    for path in audio:
        stem = Path(path).stem
        rows, length = run(preprocessor, ROOT / path, sample_rate)
        arrays[f"{stem}.rows"], arrays[f"{stem}.length"] = rows, length
        stems[stem] = path
    out = out_root / name
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "goldens.npz", **arrays)
    provenance = {
        "family": "nemo", "revision": "3.0", "config": config, "audio": stems,
        "library": "nemo-toolkit", "version": nemo.__version__, "commit": None,
        "settings": SETTINGS, "command": command, "torch": torch.__version__,
        "created": datetime.date.today().isoformat()}
    (out / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    shapes = ", ".join(f"{s} {arrays[s + '.rows'].shape}/{int(arrays[s + '.length'])}"
                       for s in stems)
    print(f"{name}: {shapes}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SETS), default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures/goldens/frontends")
    args = parser.parse_args(argv)
    command = shlex.join([sys.executable, *sys.argv])
    for name in args.only or SETS:
        config, audio = SETS[name]
        make_set(name, config, audio, args.out, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
