"""Goldens from myrtlespeech's real preprocessing (MyrtleSoftware/myrtlespeech), and from the
deepspeech-internal input that its commit 45899f7 reproduced.

    python scripts/goldens/myrtlespeech_frontend.py --src CHECKOUT/src --config CONFIG \
        --revision REV [--dsi] --name SET AUDIO...

CHECKOUT is myrtlespeech at REV (e.g. `git archive REV src | tar -x`). The script compiles
the checkout's own protos with grpc_tools.protoc into a scratch copy, parses CONFIG with them,
builds each pre_process_step with the real `builders.pre_process_step.build`, runs the
eval-stage steps in config order on the audio (as `SeqToSeq.pre_process` does when not
training), takes the length as the result's last dimension (the dataset's AddSequenceLength
rule) and flattens with the real `RNNTEncoder._prepare_inputs_fc1` (at 45899f7 it drops
channel 0: the DSI input; `--dsi` records that family). Rows: (T', C*F) float32.
Recorded in the provenance: audio read with soundfile as float32 / 32768 in a (1, N) tensor
(what the torchaudio.load of the time returned); at revisions whose own protos reject the
committed config's `dropout: 0.25` (45899f7, a7eea9a), that one line is given as
`dropout { value: 0.25 }` before parsing (it does not reach preprocessing); torchaudio is
today's, standing in for 0.4.0 in the a7eea9a MelSpectrogram path.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_sets import GOLDENS, relative, write_golden_set  # noqa: E402

DROPOUT_LINE = re.compile(r"dropout:\s*([0-9.]+)\s*;")


def compile_protos(src: Path, scratch: Path) -> Path:
    copy = scratch / "src"
    shutil.copytree(src, copy)
    protos = sorted(str(p.relative_to(copy)) for p in (copy / "myrtlespeech" / "protos")
                    .glob("*.proto"))
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{copy}",
                    f"--python_out={copy}", *protos], check=True)
    return copy


def parse_config(text: str):
    from google.protobuf import text_format
    from myrtlespeech.protos import task_config_pb2

    try:
        return text_format.Parse(text, task_config_pb2.TaskConfig()), None
    except text_format.ParseError:
        patched = DROPOUT_LINE.sub(r"dropout { value: \1 }", text)
        return (text_format.Parse(patched, task_config_pb2.TaskConfig()),
                "dropout: X; given as dropout { value: X } (the revision's own protos)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--revision", required=True)
    parser.add_argument("--dsi", action="store_true")
    parser.add_argument("--name", required=True)
    parser.add_argument("--root", type=Path, default=GOLDENS,
                        help="folder of golden sets (default fixtures/goldens/frontends)")
    parser.add_argument("audio", type=Path, nargs="+")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        sys.path.insert(0, str(compile_protos(args.src, Path(scratch))))
        import numpy as np
        import soundfile
        import torch
        from myrtlespeech.builders.pre_process_step import build
        from myrtlespeech.model.rnn_t import RNNTEncoder
        from myrtlespeech.run.stage import Stage

        task, patch = parse_config(args.config.read_text())
        steps = [build(cfg) for cfg in task.speech_to_text.pre_process_step]
        rows, lengths = {}, {}
        for path in args.audio:
            audio, rate = soundfile.read(path, dtype="float32")
            x = torch.from_numpy(audio)[None]                      # (1, N)
            for step, stage in steps:
                if stage is not Stage.TRAIN:
                    x = step(x)
            length = torch.tensor([x.size(-1)])
            flat, _ = RNNTEncoder._prepare_inputs_fc1((x[None], length))  # (1, 1, C*F, T)
            rows[path.stem] = flat[0, 0].T.numpy().astype(np.float32)
            lengths[path.stem] = int(length[0])
            print(f"{path.name} ({rate} Hz): {tuple(x.shape)} -> {rows[path.stem].shape}")
    write_golden_set(args.name, rows, lengths, {
        "family": "dsi" if args.dsi else "myrtlespeech", "revision": args.revision,
        "config": relative(args.config), "audio": {p.stem: relative(p) for p in args.audio},
        "library": "myrtlespeech (data/preprocess.py, builders/pre_process_step.py, "
                   "model/rnn_t.py RNNTEncoder._prepare_inputs_fc1)",
        "version": None, "commit": args.revision, "torch": torch.__version__,
        "torchaudio": version("torchaudio"),
        "python_speech_features": version("python_speech_features"),
        "settings": {"stage": "eval (steps at TRAIN skipped)",
                     "audio": "soundfile float32 / 32768 as a (1, N) tensor",
                     "config_patch": patch,
                     "steps": [str(step) for step, _ in steps]}}, args.root)


if __name__ == "__main__":
    main()
