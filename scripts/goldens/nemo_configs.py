"""Make real NeMo model configs: build a tiny EncDecHybridRNNTCTCModel (char labels) with
NeMo's own code from NeMo's example FastConformer hybrid config, `save_to` a .nemo, and keep
the model_config.yaml that NeMo wrote inside it. Then derive the preprocessor variants.

Run with the goldens venv (scripts/goldens/make_env.sh), from the repository root:

    VENV/bin/python scripts/goldens/nemo_configs.py \
        --example-config EXAMPLE.yaml --out fixtures

EXAMPLE.yaml is examples/asr/conf/fastconformer/hybrid_transducer_ctc/
fastconformer_hybrid_transducer_ctc_char.yaml of the NeMo repository (the pip package ships
no example configs), e.g. `git -C NeMo show HEAD:examples/...yaml > EXAMPLE.yaml`.

Writes:
    configs/nemo/hybrid_char_tiny/model_config.yaml       16 kHz, the example's preprocessor
    configs/nemo/hybrid_char_tiny_8k/model_config.yaml    sample_rate 8000, n_fft null
    configs/nemo/variants/<name>.yaml                     the 16 kHz config, one preprocessor
                                                          field changed (VARIANTS below)
    models/nemo/hybrid_char_tiny.nemo                     the 16 kHz model's archive

The model is shrunk (1 FastConformer layer, d_model 32, 32-unit prediction and joint
networks) so that its .nemo stays far below 2 MB; the preprocessor section is the example's.
Variants are written with OmegaConf from the saved config, so they stay NeMo-readable.
"""

from __future__ import annotations

import argparse
import io
import shutil
import tarfile
import tempfile
from pathlib import Path

# Each variant: one preprocessor field of the 16 kHz config changed (two for "band_limited");
# "preprocessor_defaults" keeps only _target_ and sample_rate, so every field takes NeMo's
# default (64 mel bins, 20 ms / 10 ms, pad_to 16: the project's `nemo` preset).
VARIANTS = {
    "preprocessor_defaults": None,
    "window_hamming": {"window": "hamming"},
    "window_blackman": {"window": "blackman"},
    "window_bartlett": {"window": "bartlett"},
    "n_fft_1024": {"n_fft": 1024},
    "n_fft_null": {"n_fft": None},
    "normalize_all_features": {"normalize": "all_features"},
    "normalize_null": {"normalize": None},
    "log_false": {"log": False},
    "log_zero_guard_clamp": {"log_zero_guard_type": "clamp"},
    "mag_power_1": {"mag_power": 1.0},
    "mel_norm_null": {"mel_norm": None},
    "band_limited": {"lowfreq": 300, "highfreq": 3400},
    "preemph_null": {"preemph": None},
    "exact_pad_true": {"exact_pad": True},
    "pad_to_16": {"pad_to": 16},
    "pad_value_minus_5": {"pad_value": -5.0},
    "frame_splicing_3": {"frame_splicing": 3},
}


def shrink(cfg, sample_rate: int, n_fft) -> None:
    """The example's model made tiny; the preprocessor keeps the example's fields."""
    from omegaconf import open_dict

    model = cfg.model
    with open_dict(model):
        model.sample_rate = sample_rate
        model.preprocessor.sample_rate = sample_rate
        model.preprocessor.n_fft = n_fft
        for name in ("train_ds", "validation_ds", "test_ds"):
            model[name].manifest_filepath = None
        model.model_defaults.pred_hidden = 32
        model.model_defaults.joint_hidden = 32
        model.encoder.n_layers = 1
        model.encoder.d_model = 32
        model.encoder.n_heads = 2
        model.encoder.subsampling_conv_channels = 32
        model.encoder.ff_expansion_factor = 2
        model.joint.fused_batch_size = 4


def build_and_save(example: Path, sample_rate: int, n_fft, nemo_path: Path) -> str:
    """Instantiate the hybrid model with NeMo's code, save_to nemo_path, and return the
    model_config.yaml text NeMo wrote into the archive."""
    import torch
    from nemo.collections.asr.models import EncDecHybridRNNTCTCModel
    from omegaconf import OmegaConf

    torch.manual_seed(0)
    cfg = OmegaConf.load(example)
    shrink(cfg, sample_rate, n_fft)
    return save_and_read_config(EncDecHybridRNNTCTCModel(cfg=cfg.model, trainer=None),
                                nemo_path)


def save_and_read_config(model, nemo_path: Path) -> str:
    """`model.eval()`, NeMo's `save_to(nemo_path)`, and the model_config.yaml text it wrote."""
    model.eval()
    nemo_path.parent.mkdir(parents=True, exist_ok=True)
    model.save_to(str(nemo_path))
    with tarfile.open(nemo_path) as archive:
        for member in archive.getmembers():
            if Path(member.name).name == "model_config.yaml":
                return archive.extractfile(member).read().decode()
    raise RuntimeError(f"{nemo_path} holds no model_config.yaml")


def write_variants(config_text: str, out: Path) -> None:
    from omegaconf import OmegaConf

    out.mkdir(parents=True, exist_ok=True)
    for name, fields in VARIANTS.items():
        cfg = OmegaConf.load(io.StringIO(config_text))
        if fields is None:
            cfg.preprocessor = {"_target_": cfg.preprocessor["_target_"],
                                "sample_rate": cfg.preprocessor.sample_rate}
        for key, value in (fields or {}).items():
            cfg.preprocessor[key] = value
        # Build the variant's preprocessor with NeMo to be sure NeMo accepts it.
        from nemo.collections.asr.models import EncDecHybridRNNTCTCModel

        EncDecHybridRNNTCTCModel.from_config_dict(cfg.preprocessor)
        (out / f"{name}.yaml").write_text(OmegaConf.to_yaml(cfg))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example-config", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("fixtures"))
    args = parser.parse_args(argv)
    configs = args.out / "configs" / "nemo"
    with tempfile.TemporaryDirectory() as tmp:
        text16 = build_and_save(args.example_config, 16000, 512, Path(tmp) / "16k.nemo")
        text8 = build_and_save(args.example_config, 8000, None, Path(tmp) / "8k.nemo")
        for name, text in (("hybrid_char_tiny", text16), ("hybrid_char_tiny_8k", text8)):
            (configs / name).mkdir(parents=True, exist_ok=True)
            (configs / name / "model_config.yaml").write_text(text)
        models = args.out / "models" / "nemo"
        models.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(tmp) / "16k.nemo", models / "hybrid_char_tiny.nemo")
    write_variants(text16, configs / "variants")
    print(f"wrote {configs} and {models / 'hybrid_char_tiny.nemo'} "
          f"({(models / 'hybrid_char_tiny.nemo').stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
