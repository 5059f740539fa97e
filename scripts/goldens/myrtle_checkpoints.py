"""Tiny checkpoints written by Myrtle.ai's own save routines (caiman-asr v1.3.0 and v1.14.0).

    VENV/bin/python scripts/goldens/myrtle_checkpoints.py \
        --caiman /work/.mirror/MyrtleSoftware+caiman-asr/repo [--out fixtures/checkpoints/myrtle]

CAIMAN is a git clone of github.com/MyrtleSoftware/caiman-asr; each revision's `training/`
tree is exported with `git archive` into a scratch folder and imported from there, one
revision per subprocess. Run with the goldens venv (scripts/goldens/make_env.sh); imports
nothing from rnnt-parity.

Per revision and variant: the real YAML (configs/testing-1023sp.yaml) loaded by the real
`config.load`, its `rnnt:` section shrunk (in_feats 12 = 4 mel bins x 3 stacked, hidden 8,
one LSTM layer each side, stack-time 2), the real `config.rnnt` validation, the real `RNNT`
class, the real `Tokenizer` (n_classes = its num_labels + 1), one training step, the real
EMA update (train.py's `apply_ema`, compiled from its source text; decay 0.9), then
- the training checkpoint by the real `Checkpointer.save` (v1.3: `is_best=True`; v1.14:
  `filepath=RNN-T_best_checkpoint.pt`, since its `is_best=True` goes on to a hardware
  checkpoint only for the FPGA's model sizes, checked against JSON schemas read from a
  hard-coded /workspace path);
- the hardware checkpoint by the real `utils/hardware_ckpt.py` (v1.3: the script itself, run
  with its command-line arguments; v1.14: its `create_hardware_ckpt` and
  `save_hardware_ckpt`, which is what its `main` does after a schema check).

Made here because they do not exist (said in the README): a tiny sentencepiece model (trained
by sentencepiece with the flags of Myrtle's create_sentencepieces.sh, vocabulary 24,
identity normalisation to keep it small); mel statistics (train.py's / generate_mel_stats.py's
float64 sums and float32 conversion, over seeded random log-mel frames); the n-gram for v1.14
(caiman-asr's own test file tests/test_data/ngram/ngram.binary, a real KenLM binary). Stubbed
imports: apex (CUDA-only; `FusedLAMB` replaced by a pure-torch LAMB with apex's state layout:
param_groups with lr, bias_correction, betas, eps, weight_decay, grad_averaging,
max_grad_norm and an int 'step'; per-parameter exp_avg and exp_avg_sq), kenlm (v1.14 imports
it; nothing here calls it), and the webdataset reader (torchdata's DataLoader2, gone from
current torchdata). The training step's loss is the mean square of the real model's joint
output on seeded random features (the real loss is apex's CUDA transducer loss); the
checkpoint format does not depend on it.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

REVISIONS = {"v1.3.0": "c5d9abf", "v1.14.0": "08d60d8"}
TINY = {"in_feats": 12, "enc_n_hid": 8, "enc_pre_rnn_layers": 1, "enc_post_rnn_layers": 1,
        "enc_stack_time_factor": 2, "pred_n_hid": 8, "pred_rnn_layers": 1, "joint_n_hid": 8}
N_MELS = 4
VARIANTS = {
    "v1.3.0": {
        "lstm": {"custom_lstm": False, "hard_activation_functions": False},
        "hard_lstm": {"custom_lstm": True, "hard_activation_functions": True},
        "batchnorm_hard_lstm": {"custom_lstm": True, "hard_activation_functions": True,
                                "enc_batch_norm": True, "pred_batch_norm": True},
        "enc_batchnorm": {"enc_batch_norm": True, "pred_batch_norm": False},
    },
    "v1.14.0": {
        "lstm": {"custom_lstm": False},
        "enc_batchnorm": {"custom_lstm": False, "enc_batch_norm": True,
                          "pred_batch_norm": False},
    },
}
SP_TEXT = ["one two three four five six seven eight nine zero",
           "oh two four six eight", "nine eight seven", "three one four one five nine",
           "zero zero seven", "five five five", "six one two", "eight three"] * 20


# --- stand-ins for what cannot be imported here -------------------------------------------

def install_stubs(package: str) -> None:
    import torch

    class FusedLAMB(torch.optim.Optimizer):
        """apex.optimizers.FusedLAMB's constructor and state layout, in pure torch."""

        def __init__(self, params, lr=1e-3, bias_correction=True, betas=(0.9, 0.999),
                     eps=1e-6, weight_decay=0.01, amsgrad=False, adam_w_mode=True,
                     grad_averaging=True, set_grad_none=True, max_grad_norm=1.0,
                     use_nvlamb=False):
            defaults = dict(lr=lr, bias_correction=bias_correction, betas=betas, eps=eps,
                            weight_decay=weight_decay, grad_averaging=grad_averaging,
                            max_grad_norm=max_grad_norm)
            super().__init__(params, defaults)

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                group["step"] = group.get("step", 0) + 1
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if not state:
                        state["exp_avg"] = torch.zeros_like(p)
                        state["exp_avg_sq"] = torch.zeros_like(p)
                    state["exp_avg"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                    state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                    update = state["exp_avg"] / (state["exp_avg_sq"].sqrt() + group["eps"])
                    update += group["weight_decay"] * p
                    ratio = (p.norm() / update.norm()).nan_to_num(1.0) if update.norm() else 1.0
                    p.sub_(group["lr"] * ratio * update)

    def module(name, **attributes):
        made = types.ModuleType(name)
        made.__path__ = []
        made.__dict__.update(attributes)
        sys.modules[name] = made

    module("apex")
    module("apex.optimizers", FusedLAMB=FusedLAMB)
    module("apex.contrib")
    module("apex.contrib.transducer", TransducerJoint=object, TransducerLoss=object)
    module("kenlm", State=object, Model=object, LanguageModel=object)
    module(f"{package}.common.data.webdataset" if package == "rnnt_train"
           else f"{package}.data.webdataset", WebDatasetReader=object,
           LengthUnknownError=Exception)


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_sentencepiece(folder: Path) -> Path:
    import sentencepiece as spm

    prefix = folder / "tiny_sp24"
    # Myrtle's create_sentencepieces.sh flags; vocabulary 24, identity normalisation (the
    # default nmt_nfkc rules alone are 200 kB), one thread (reproducible).
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(SP_TEXT), model_prefix=str(prefix), vocab_size=24,
        character_coverage=1.0, bos_id=-1, eos_id=-1, model_type="unigram",
        normalization_rule_name="identity", num_threads=1, minloglevel=2)
    return prefix.with_suffix(".model")


def write_mel_stats(folder: Path) -> None:
    """train.py's --dump_mel_stats / generate_mel_stats.py arithmetic on random log-mels."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    logmel = torch.randn(3, N_MELS, 50, dtype=torch.float64) * 2 - 5   # (B, n_mels, T)
    melsum = torch.sum(logmel, (0, 2))
    melss = torch.sum(logmel * logmel, (0, 2))
    meln = torch.tensor([logmel.shape[0] * logmel.shape[2]], dtype=torch.float64)
    melmeans = (melsum / meln).type(torch.FloatTensor)
    melvars = (melss / meln - (melsum / meln) ** 2).type(torch.FloatTensor)
    torch.save(melmeans, folder / "melmeans.pt")
    torch.save(melvars, folder / "melvars.pt")
    torch.save(meln.type(torch.FloatTensor), folder / "meln.pt")


def tiny_config(config, training: Path, variant: dict, spm_model: str, version: str) -> str:
    import yaml

    cfg = config.load(str(training / "configs" / "testing-1023sp.yaml"))
    cfg["rnnt"].update(TINY)
    cfg["rnnt"].update(variant)
    cfg["tokenizer"]["sentpiece_model"] = spm_model
    for split in ("input_val", "input_train"):
        cfg[split]["filterbank_features"]["n_filt"] = N_MELS
        if version != "v1.3.0":
            cfg[split]["filterbank_features"]["stats_path"] = "stats"
    if version != "v1.3.0":
        cfg["rnnt"]["joint_apex_transducer"] = None       # apex's CUDA joint
        cfg["rnnt"]["joint_apex_relu_dropout"] = False
        cfg["ngram"]["ngram_path"] = "ngram"
    with open("tiny.yaml", "w") as handle:
        yaml.safe_dump(cfg, handle, sort_keys=True)
    return "tiny.yaml"


def real_function(source: Path, name: str):
    """`name` as defined in `source`, compiled from its own text (train.py imports the whole
    training stack, logging backends included; the function needs none of it)."""
    import ast

    import torch

    tree = ast.parse(source.read_text())
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    node.decorator_list = []
    namespace = {"torch": torch, "unwrap_ddp": lambda model: getattr(model, "module", model)}
    exec(compile(ast.Module([node], []), str(source), "exec"), namespace)
    return namespace[name]


def one_step(model, optimizer, ema_model, apply_ema, n_classes: int) -> None:
    import torch

    T, B, U = 6, 2, 3
    x = torch.randn(T, B, TINY["in_feats"])
    x_lens = torch.tensor([T, T - 2])
    y = torch.randint(0, n_classes - 1, (B, U))
    y_lens = torch.tensor([U, U - 1])
    model.train()
    out = model(x, x_lens, y, y_lens)
    logits = out[0] if isinstance(out, tuple) else out
    loss = logits.float().pow(2).mean()
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    apply_ema(model, ema_model, 0.9)


# --- one revision -------------------------------------------------------------------------

def run_revision(version: str, training: Path, out: Path) -> list[dict]:

    package = "rnnt_train" if version == "v1.3.0" else "caiman_asr_train"
    sys.path.insert(0, str(training))
    install_stubs(package)
    if version == "v1.3.0":
        from rnnt_train.common.data.text import Tokenizer
        from rnnt_train.common.helpers import Checkpointer
        from rnnt_train.rnnt import config
        from rnnt_train.rnnt.model import RNNT
    else:
        from caiman_asr_train.data.tokenizer import Tokenizer
        from caiman_asr_train.export import hardware_ckpt
        from caiman_asr_train.export.checkpointer import Checkpointer
        from caiman_asr_train.rnnt import config
        from caiman_asr_train.rnnt.config import get_tokenizer_conf
        from caiman_asr_train.rnnt.model import RNNT
        from caiman_asr_train.train_utils.build_optimizer import build_fused_lamb

    apply_ema = real_function(training / package / "train.py", "apply_ema")
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for name, variant in VARIANTS[version].items():
        with tempfile.TemporaryDirectory() as scratch:
            os.chdir(scratch)                 # every path the checkpoints record is relative
            seed_everything(0)
            spm_model = train_sentencepiece(Path("."))
            write_mel_stats(Path("stats"))
            if version != "v1.3.0":
                Path("ngram").mkdir()
                shutil.copy(training / "tests/test_data/ngram/ngram.binary", "ngram")
            config_path = tiny_config(config, training, variant, spm_model.name, version)
            cfg = config.load(config_path)
            rnnt_config = config.rnnt(cfg)
            if version == "v1.3.0":
                tokenizer = Tokenizer(cfg["tokenizer"]["labels"], spm_model.name)
            else:
                tokenizer_kw = get_tokenizer_conf(cfg)
                tokenizer = Tokenizer(**tokenizer_kw)
            n_classes = tokenizer.num_labels + 1
            seed_everything(1)
            model = RNNT(n_classes=n_classes, **rnnt_config)
            ema_model = copy.deepcopy(model)
            lr_args = argparse.Namespace(lr=4e-3, weight_decay=1e-3, beta1=0.9, beta2=0.999,
                                         clip_norm=1.0)
            if version == "v1.3.0":
                optimizer = sys.modules["apex.optimizers"].FusedLAMB(
                    betas=(lr_args.beta1, lr_args.beta2), eps=1e-9,
                    max_grad_norm=lr_args.clip_norm, params=model.param_groups(lr_args.lr),
                    lr=lr_args.lr, weight_decay=lr_args.weight_decay)
            else:
                optimizer = build_fused_lamb(lr_args, model, 1e-9)
            one_step(model, optimizer, ema_model, apply_ema, n_classes)
            Path("results").mkdir()
            checkpointer = Checkpointer("results", "RNN-T")
            if version == "v1.3.0":
                checkpointer.save(model, ema_model, optimizer, epoch=3, step=40,
                                  best_wer=0.875, is_best=True)
            else:
                checkpointer.save(model, ema_model, optimizer, epoch=3, step=40,
                                  best_wer=0.875, tokenizer_kw=tokenizer_kw,
                                  logmel_norm_weight=1.0, config_path=config_path,
                                  filepath="results/RNN-T_best_checkpoint.pt")
            training_ckpt = Path("results/RNN-T_best_checkpoint.pt")
            hardware = Path("results/hardware_ckpt.pt")
            if version == "v1.3.0":
                script = training / "rnnt_train/utils/hardware_ckpt.py"
                sys.argv = [str(script), "--fine_tuned_ckpt", str(training_ckpt),
                            "--config", config_path, "--melmeans", "stats/melmeans.pt",
                            "--melvars", "stats/melvars.pt", "--output_ckpt", str(hardware)]
                import runpy

                runpy.run_path(str(script), run_name="__main__")
            else:
                # Checkpointer.save(is_best=True) would make one only for the FPGA's model
                # sizes (model_schema, read from a hard-coded /workspace path, which a tiny
                # model fails): so save(filepath=...) above, then the two calls main makes.
                # Its load_checkpoint calls torch.load(fpath) with torch's default, which
                # since torch 2.6 is weights_only=True: that refuses v1.14's own protocol-5
                # file ("Unsupported operand 149") and its UnkHandling enum. torch's
                # documented switch restores the old default for this file we just wrote.
                os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
                args = argparse.Namespace(ckpt=str(training_ckpt), config=config_path,
                                          output_ckpt=str(hardware),
                                          override_ngram_path=None, skip_ngram=False)
                hardware_ckpt.save_hardware_ckpt(hardware_ckpt.create_hardware_ckpt(args),
                                                 str(hardware))
            for kind, made in (("training", training_ckpt), ("hardware", hardware)):
                target = out / f"{name}.{kind}.pt"
                shutil.copy(made, target)
                records.append({"file": target.name, "variant": name, "kind": kind,
                                "rnnt": {k: rnnt_config[k] for k in sorted(variant)},
                                "n_classes": n_classes, "bytes": target.stat().st_size,
                                "sha256": hashlib.sha256(target.read_bytes()).hexdigest()})
            os.chdir("/")
    return records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--caiman", type=Path, required=True, help="caiman-asr git clone")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[2] / "fixtures/checkpoints/myrtle")
    parser.add_argument("--only", choices=sorted(REVISIONS), help=argparse.SUPPRESS)
    parser.add_argument("--training", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        records = run_revision(args.only, args.training, args.out.resolve() / args.only)
        print(json.dumps(records))
        return
    for version, commit in REVISIONS.items():
        with tempfile.TemporaryDirectory() as scratch:
            archive = subprocess.run(["git", "-C", str(args.caiman), "archive", commit,
                                      "training"], check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", scratch], input=archive, check=True)
            result = subprocess.run(
                [sys.executable, __file__, "--caiman", str(args.caiman), "--out",
                 str(args.out.resolve()), "--only", version, "--training",
                 str(Path(scratch) / "training")], check=True, capture_output=True, text=True)
            records = json.loads(result.stdout.strip().splitlines()[-1])
            for record in records:
                print(f"{version} ({commit}) {record['file']}: {record['bytes']} bytes, "
                      f"sha256 {record['sha256'][:16]}")


if __name__ == "__main__":
    main()
