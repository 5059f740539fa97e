"""Goldens from Myrtle.ai's real evaluation pipeline (caiman-asr v1.3.0, c5d9abf).

    python scripts/goldens/myrtle_frontend.py --training CAIMAN/training --config YAML \
        --name SET AUDIO...

CAIMAN is a clone of github.com/MyrtleSoftware/caiman-asr checked out at c5d9abf
("Release v1.3.0"). Runs, unchanged, its `DaliPipeline.from_config` (NVIDIA DALI's CPU
operators, `device_id=None`, as its own valCPU.py does) with the YAML's `input_val` section,
the eval pipeline type and normalisation on, then val.py's `FrameSplicing` and
`PermuteAudio`, on each file; the rows are what `RNNT.forward` receives, (T', B, 240) for
B = 1. Changed, and recorded in the provenance: dither 0 (deterministic); one import stubbed
(`rnnt_train.common.data.webdataset`, which reads tar shards through torchdata's
DataLoader2, gone from current torchdata; the file reader used here never touches it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import types
from importlib.metadata import version
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_sets import GOLDENS, relative, write_golden_set  # noqa: E402


def import_caiman(training: Path):
    sys.path.insert(0, str(training))
    stub = types.ModuleType("rnnt_train.common.data.webdataset")
    stub.WebDatasetReader, stub.LengthUnknownError = object, Exception
    sys.modules["rnnt_train.common.data.webdataset"] = stub
    from rnnt_train.common.data import features
    from rnnt_train.common.data.dali.pipeline import DaliPipeline
    from rnnt_train.common.data.dali.sampler import SimpleSampler
    from rnnt_train.rnnt import config

    return config, features, DaliPipeline, SimpleSampler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--training", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--root", type=Path, default=GOLDENS,
                        help="folder of golden sets (default fixtures/goldens/frontends)")
    parser.add_argument("audio", type=Path, nargs="+")
    args = parser.parse_args()
    config, features, DaliPipeline, SimpleSampler = import_caiman(args.training)
    import numpy as np
    import torch

    cfg = config.load(str(args.config))
    dataset_kw, features_kw, splicing_kw, _ = config.input(cfg, "val")
    dataset_kw.setdefault("max_duration", float("inf"))
    dataset_kw.setdefault("speed_perturbation", None)
    original_dither = features_kw["dither"]
    features_kw["dither"] = 0.0
    splicing = torch.nn.Sequential(features.FrameSplicing(optim_level=0, **splicing_kw),
                                   features.PermuteAudio())
    rows, lengths = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        sampler = SimpleSampler()
        sampler.file_list_path = os.path.join(scratch, "file_list.txt")
        sampler.write_file_list([(str(p.resolve()), k) for k, p in enumerate(args.audio)])
        pipeline = DaliPipeline.from_config(
            pipeline_type="val", device_id=None, batch_size=1, file_root="/", sampler=sampler,
            config_data=dataset_kw, config_features=features_kw, normalize=True,
            num_cpu_threads=1, device_type="cpu", no_logging=True)
        pipeline.build()
        for path in args.audio:
            audio, audio_len, _, _ = pipeline.run()
            x = torch.from_numpy(np.array(audio[0]))[None]          # (1, n_mels, T)
            x_len = torch.from_numpy(np.array(audio_len[0])[1:])    # (1,): T
            spliced, spliced_len = splicing((x, x_len))             # (T', 1, 240)
            rows[path.stem] = spliced[:, 0].numpy()
            lengths[path.stem] = int(spliced_len[0])
            print(f"{path.name}: {tuple(x.shape)} -> {tuple(rows[path.stem].shape)}, "
                  f"length {lengths[path.stem]}")
    write_golden_set(args.name, rows, lengths, {
        "family": "myrtle_rnnt", "revision": "v1.3", "config": relative(args.config),
        "audio": {p.stem: relative(p) for p in args.audio},
        "library": "caiman-asr training/rnnt_train (DaliPipeline, FrameSplicing)",
        "version": "v1.3.0", "commit": "c5d9abf",
        "dali": version("nvidia-dali-cuda120"), "torch": torch.__version__,
        "settings": {"dither": 0.0, "config_dither": original_dither,
                     "pipeline_type": "val", "normalize": True, "device": "cpu",
                     "stubbed_import": "rnnt_train.common.data.webdataset"},
        "yaml_input_val": yaml.safe_load(args.config.read_text())["input_val"]}, args.root)


if __name__ == "__main__":
    main()
