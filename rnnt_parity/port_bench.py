"""`rnnt-parity bench port`: inspect + port + verify of a real-size checkpoint.

Writes a checkpoint of the chosen model (random weights) to a temporary folder, then, in a
fresh child process, times `inspect_checkpoint` + `port_checkpoint` (to canonical,
verification on) and samples its peak extra resident memory, reported against the
checkpoint's size. Targets: at most 15 s, and 5x the checkpoint: 3x for reading, mapping and
writing, and 2x for the float64 copy of the weights that verification runs on.

    base-8703sp, testing-1023sp, ...   a Myrtle training checkpoint (MYRTLE_CONFIGS)
    nemo-fastconformer-hybrid-large    a .nemo archive laid out as NeMo's
                                       stt_en_fastconformer_hybrid_large: 17 Conformer
                                       layers of d_model 512 (692 encoder tensors, 108.8M
                                       elements, set aside by the port) and the hybrid
                                       heads (vocabulary 1024)
"""

from __future__ import annotations

import io
import tarfile
import tempfile
import time
from pathlib import Path

import torch

from rnnt_parity.bench import PeakRSS, run_in_child
from rnnt_parity.codebases.myrtle.model import MYRTLE_CONFIGS, MyrtleRNNT
from rnnt_parity.codebases.nemo.model import NeMoConfig, NeMoHybridHead

NEMO_LARGE = "nemo-fastconformer-hybrid-large"
FASTCONFORMER_LARGE = {"d_model": 512, "layers": 17, "ff": 2048, "heads": 8, "kernel": 9,
                       "subsampling_channels": 256, "features": 80, "subsampling": 8}
"""stt_en_fastconformer_hybrid_large's encoder (FastConformer, dw_striding subsampling by 8)."""
NEMO_JOINT_CONFIG = b"joint:\n  jointnet:\n    activation: relu\n"
"""The one model-config entry a port reads: the joint's activation."""


def fastconformer_encoder_shapes(d_model: int, layers: int, ff: int, heads: int, kernel: int,
                                 subsampling_channels: int, features: int,
                                 subsampling: int) -> dict[str, tuple[int, ...]]:
    """Key -> shape of a NeMo ConformerEncoder with dw_striding subsampling (the key names
    and shapes NeMo 3.0 writes, as in fixtures/models/nemo/*.nemo at tiny sizes)."""
    c = subsampling_channels
    shapes: dict[str, tuple[int, ...]] = {
        "encoder.pre_encode.out.weight": (d_model, c * (features // subsampling)),
        "encoder.pre_encode.out.bias": (d_model,),
        "encoder.pre_encode.conv.0.weight": (c, 1, 3, 3), "encoder.pre_encode.conv.0.bias": (c,)}
    for depthwise, pointwise in ((2, 3), (5, 6)):
        shapes[f"encoder.pre_encode.conv.{depthwise}.weight"] = (c, 1, 3, 3)
        shapes[f"encoder.pre_encode.conv.{depthwise}.bias"] = (c,)
        shapes[f"encoder.pre_encode.conv.{pointwise}.weight"] = (c, c, 1, 1)
        shapes[f"encoder.pre_encode.conv.{pointwise}.bias"] = (c,)
    vector = (d_model,)
    for i in range(layers):
        for name in ("norm_feed_forward1", "norm_conv", "conv.batch_norm", "norm_self_att",
                     "norm_feed_forward2", "norm_out"):
            shapes[f"encoder.layers.{i}.{name}.weight"] = vector
            shapes[f"encoder.layers.{i}.{name}.bias"] = vector
        for name in ("running_mean", "running_var"):
            shapes[f"encoder.layers.{i}.conv.batch_norm.{name}"] = vector
        shapes[f"encoder.layers.{i}.conv.batch_norm.num_batches_tracked"] = ()
        for block in ("feed_forward1", "feed_forward2"):
            shapes[f"encoder.layers.{i}.{block}.linear1.weight"] = (ff, d_model)
            shapes[f"encoder.layers.{i}.{block}.linear1.bias"] = (ff,)
            shapes[f"encoder.layers.{i}.{block}.linear2.weight"] = (d_model, ff)
            shapes[f"encoder.layers.{i}.{block}.linear2.bias"] = vector
        convs = {"pointwise_conv1": (2 * d_model, d_model, 1),
                 "depthwise_conv": (d_model, 1, kernel), "pointwise_conv2": (d_model, d_model, 1)}
        for name, shape in convs.items():
            shapes[f"encoder.layers.{i}.conv.{name}.weight"] = shape
            shapes[f"encoder.layers.{i}.conv.{name}.bias"] = (shape[0],)
        for name in ("pos_bias_u", "pos_bias_v"):
            shapes[f"encoder.layers.{i}.self_attn.{name}"] = (heads, d_model // heads)
        for name in ("linear_q", "linear_k", "linear_v", "linear_out"):
            shapes[f"encoder.layers.{i}.self_attn.{name}.weight"] = (d_model, d_model)
            shapes[f"encoder.layers.{i}.self_attn.{name}.bias"] = vector
        shapes[f"encoder.layers.{i}.self_attn.linear_pos.weight"] = (d_model, d_model)
    return shapes


def write_nemo_large(path: Path) -> None:
    """A .nemo tar (model_config.yaml, model_weights.ckpt) of the large hybrid: random heads,
    a zero encoder (set aside by the port; its values do not matter)."""
    generator = torch.Generator().manual_seed(0)
    heads = NeMoHybridHead(NeMoConfig())
    state = {k: torch.randn(v.shape, generator=generator) * 0.05 if v.is_floating_point() else v
             for k, v in heads.state_dict().items()}
    for key, shape in fastconformer_encoder_shapes(**FASTCONFORMER_LARGE).items():
        state[key] = torch.zeros(shape, dtype=torch.int64 if not shape else torch.float32)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    with tarfile.open(path, "w") as archive:
        for name, data in (("model_config.yaml", NEMO_JOINT_CONFIG),
                           ("model_weights.ckpt", buffer.getbuffer())):
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def write_myrtle(config_name: str, path: Path) -> None:
    model = MyrtleRNNT(MYRTLE_CONFIGS[config_name])
    torch.save({"state_dict": model.state_dict(), "epoch": 1}, path)


BENCH_MODELS = (*sorted(MYRTLE_CONFIGS), NEMO_LARGE)
NN_LSTM = {"hard_activations": "false"}
"""The random Myrtle checkpoints are nn.LSTM models (the weights cannot show it)."""


def measure_in_this_process(source: str, out: str, assume: dict) -> dict:
    from rnnt_parity.port import inspect_checkpoint, port_checkpoint

    with PeakRSS() as memory:
        start = time.perf_counter()
        inspect_checkpoint(Path(source))
        port_checkpoint(Path(source), Path(out), "canonical", assume=assume,
                        out=lambda line: None)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_extra_bytes": memory.extra_bytes}


def run_port_benchmark(config_name: str = "base-8703sp", out=print) -> dict:
    """Time and peak memory of inspect + port + verify of `config_name` (BENCH_MODELS)."""
    if config_name not in BENCH_MODELS and config_name not in MYRTLE_CONFIGS:
        raise ValueError(f"unknown bench model {config_name!r}; known: {list(BENCH_MODELS)}")
    with tempfile.TemporaryDirectory() as folder:
        if config_name == NEMO_LARGE:
            source, assume = Path(folder) / "model.nemo", {}
            write_nemo_large(source)
        else:
            source, assume = Path(folder) / "myrtle.pt", NN_LSTM
            write_myrtle(config_name, source)
        size = source.stat().st_size
        result = run_in_child("rnnt_parity.port_bench:measure_in_this_process", str(source),
                              str(Path(folder) / "canonical.pt"), assume)
    result["checkpoint_bytes"] = size
    out(f"{config_name}: checkpoint {size / 2**20:.0f} MB; inspect + port + verify "
        f"{result['seconds']:.2f} s, peak extra memory {result['peak_extra_bytes'] / 2**20:.0f} "
        f"MB ({result['peak_extra_bytes'] / size:.2f}x the checkpoint)")
    out("targets: at most 15 s and 5x the checkpoint (3x, and 2x for the float64 copy of "
        "the weights verification runs on)")
    return result
