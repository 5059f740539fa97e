"""Forward goldens of Myrtle.ai's real RNN-T (caiman-asr v1.3.0 c5d9abf; v1.14.0 08d60d8) on
the checkpoints in fixtures/checkpoints/myrtle/, which its own save routines wrote.

    VENV/bin/python scripts/goldens/myrtle_forward.py \
        --caiman /work/.mirror/MyrtleSoftware+caiman-asr/repo [--out fixtures/goldens/forward]

CAIMAN is a git clone of github.com/MyrtleSoftware/caiman-asr; each revision's `training/`
tree is exported with `git archive` into a scratch folder and imported from there, one
revision per subprocess. Run with the goldens venv (scripts/goldens/make_env.sh); imports
nothing from rnnt-parity.

Per set: the real `RNNT` class, built as val.py builds it: `config.rnnt(cfg)` (the real
validation) with n_classes = the real `Tokenizer`'s num_labels + 1. cfg is, for v1.3, the
variant's hardware checkpoint's `rnnt_config` (the whole YAML the training run used); for
v1.14 (whose hardware `rnnt_config` keeps only 8 size fields) the YAML that
scripts/goldens/myrtle_checkpoints.py trained the fixture with, rebuilt by its own
`tiny_config` (configs/testing-1023sp.yaml through the real `config.load`, shrunk). The
tokenizer's sentencepiece model is the bytes the hardware checkpoint stores. Weights are
loaded by the real `Checkpointer.load(fpath, model, ema_model)` from the training checkpoint
(`state_dict` into the model, `ema_state_dict` into the EMA copy; every key is checked to have
loaded, since the real loader is not strict in v1.3). Then eval(), the dtype (float64 where
the real code runs in it; v1.3's CustomLSTM cannot, see below), and on seeded inputs:
`model.encode(x (T, B, F), x_lens)`, `model.predict(labels)` (its own zero-vector SOS,
add_sos=True), `model.joint(f, g)` (raw logits; no log_softmax in the real joint), and the
real `RNNTGreedyDecoder` (v1.3) with max_symbols_per_step 1 and 30 (its default).

v1.3's CustomLSTM (custom_lstm: true) starts every layer from
`torch.zeros(batch, hidden)`, float32 whatever the weights' dtype, and its TorchScript layer
then fails (`h_t @ Vt`, float32 @ float64) in float64: those sets run in float32 (weights and
inputs .float()); their inputs are drawn in float64 and rounded to float32 first, so the
float64 numbers stored are exactly what the model saw.

Stubbed imports (as in myrtle_checkpoints.py): apex, kenlm, the webdataset reader.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from forward_sets import (  # noqa: E402
    FORWARD,
    ROOT,
    check_budget,
    pad_hypotheses,
    relative,
    seed_everything,
    write_forward_set,
)

REVISIONS = {"v1.3.0": "c5d9abf", "v1.14.0": "08d60d8"}
# (set name, revision, variant, which weights)
SETS = [
    ("myrtle-v1.3.0-lstm", "v1.3.0", "lstm", "state_dict"),
    ("myrtle-v1.3.0-lstm-ema", "v1.3.0", "lstm", "ema_state_dict"),
    ("myrtle-v1.3.0-hard_lstm", "v1.3.0", "hard_lstm", "state_dict"),
    ("myrtle-v1.3.0-batchnorm_hard_lstm", "v1.3.0", "batchnorm_hard_lstm", "state_dict"),
    ("myrtle-v1.3.0-enc_batchnorm", "v1.3.0", "enc_batchnorm", "state_dict"),
    ("myrtle-v1.14.0-lstm", "v1.14.0", "lstm", "state_dict"),
    ("myrtle-v1.14.0-enc_batchnorm", "v1.14.0", "enc_batchnorm", "state_dict"),
]
B, T, U = 2, 16, 4
FEATURE_LENGTHS = [16, 11]
LABEL_LENGTHS = [4, 3]
INPUT_SEED = 0
MAX_SYMBOLS = (1, 30)


def make_inputs(in_feats: int, n_classes: int, float32: bool):
    import numpy as np

    rng = seed_everything(INPUT_SEED)
    features = rng.standard_normal((B, T, in_feats))
    if float32:
        features = features.astype(np.float32).astype(np.float64)
    for b, length in enumerate(FEATURE_LENGTHS):
        features[b, length:] = 0.0
    labels = rng.integers(0, n_classes - 1, size=(B, U))      # blank = n_classes - 1
    for b, length in enumerate(LABEL_LENGTHS):
        labels[b, length:] = 0
    return {"features": features, "feature_lengths": np.array(FEATURE_LENGTHS),
            "labels": labels, "label_lengths": np.array(LABEL_LENGTHS)}


def checked_load(checkpointer, path: Path, model, ema_model, key: str) -> None:
    """The real Checkpointer.load, then a check that `key` loaded completely."""
    import torch

    checkpointer.load(str(path), model, ema_model)
    target = model if key == "state_dict" else ema_model
    saved = torch.load(path, map_location="cpu", weights_only=False)[key]
    own = target.state_dict()
    if set(own) != set(saved):
        raise RuntimeError(f"{path}: keys differ: {sorted(set(own) ^ set(saved))}")
    for name, tensor in saved.items():
        if not torch.equal(own[name], tensor):
            raise RuntimeError(f"{path}: {name} did not load")


def run_revision(version: str, training: Path, out: Path, command: str) -> list[str]:
    import numpy as np
    import torch

    package = "rnnt_train" if version == "v1.3.0" else "caiman_asr_train"
    sys.path.insert(0, str(training))
    from myrtle_checkpoints import TINY, VARIANTS, install_stubs, tiny_config

    install_stubs(package)
    if version == "v1.3.0":
        from rnnt_train.common.data.text import Tokenizer
        from rnnt_train.common.helpers import Checkpointer
        from rnnt_train.rnnt import config
        from rnnt_train.rnnt.decoder import RNNTGreedyDecoder
        from rnnt_train.rnnt.model import RNNT
    else:
        os.environ["TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"] = "1"
        from caiman_asr_train.data.tokenizer import Tokenizer
        from caiman_asr_train.export.checkpointer import Checkpointer
        from caiman_asr_train.rnnt import config
        from caiman_asr_train.rnnt.config import get_tokenizer_conf
        from caiman_asr_train.rnnt.model import RNNT
    written = []
    ckpt_dir = ROOT / "fixtures" / "checkpoints" / "myrtle" / version
    for name, revision, variant, key in SETS:
        if revision != version:
            continue
        training_ckpt = ckpt_dir / f"{variant}.training.pt"
        hardware_ckpt = ckpt_dir / f"{variant}.hardware.pt"
        hardware = torch.load(hardware_ckpt, map_location="cpu", weights_only=False)
        with tempfile.TemporaryDirectory() as scratch:
            os.chdir(scratch)
            Path("tiny_sp24.model").write_bytes(hardware["sentpiece_model"])
            if version == "v1.3.0":
                cfg = hardware["rnnt_config"]
                config_source = f"{relative(hardware_ckpt)} ['rnnt_config']"
                tokenizer = Tokenizer(**config.tokenizer(cfg))
            else:
                Path("stats").mkdir()
                Path("ngram").mkdir()
                cfg = config.load(tiny_config(config, training, VARIANTS[version][variant],
                                              "tiny_sp24.model", version))
                config_source = ("configs/testing-1023sp.yaml of 08d60d8 through config.load, "
                                 "shrunk by scripts/goldens/myrtle_checkpoints.py tiny_config "
                                 f"(TINY {TINY} + {VARIANTS[version][variant]})")
                tokenizer = Tokenizer(**get_tokenizer_conf(cfg))
            rnnt_config = config.rnnt(cfg)
            n_classes = tokenizer.num_labels + 1
            seed_everything(1)
            model = RNNT(n_classes=n_classes, **rnnt_config)
            ema_model = RNNT(n_classes=n_classes, **rnnt_config)
            checkpointer = Checkpointer(scratch, "RNN-T")
            checked_load(checkpointer, training_ckpt, model, ema_model, key)
            os.chdir(str(ROOT))
        net = model if key == "state_dict" else ema_model
        net.eval()
        custom = bool(rnnt_config.get("custom_lstm"))
        float32 = version == "v1.3.0" and custom
        dtype = torch.float32 if float32 else torch.float64
        net.to(dtype)
        inputs = make_inputs(rnnt_config["in_feats"], n_classes, float32)
        x = torch.from_numpy(inputs["features"]).to(dtype).transpose(0, 1).contiguous()
        x_lens = torch.from_numpy(inputs["feature_lengths"])
        y = torch.from_numpy(inputs["labels"])
        captured = {}
        if version != "v1.3.0":
            net.joint_enc.register_forward_pre_hook(
                lambda m, a, c=captured: c.__setitem__("encoder_before_joint_enc", a[0].clone()))
            net.joint_pred.register_forward_pre_hook(
                lambda m, a, c=captured: c.__setitem__("prediction_before_joint_pred",
                                                      a[0].clone()))
        with torch.no_grad():
            if version == "v1.3.0":
                f, f_lens = net.encode(x, x_lens)
                g, _ = net.predict(y)                     # add_sos=True: zero-vector SOS
                joint = net.joint(f, g)
            else:
                f, f_lens, _ = net.encode(x, x_lens)
                g, _, _ = net.predict(y)
                joint = net.joint(f, g)                   # f_len=None: the torch joint
        outputs = {"encoder": f.double().numpy(), "encoder_lengths": f_lens.numpy(),
                   "prediction": g.double().numpy(), "joint": joint.double().numpy(),
                   "blank": np.asarray(n_classes - 1)}
        for extra, value in captured.items():
            outputs[extra] = value.double().numpy()      # both already batch-first
        decoders = {}
        if version == "v1.3.0":
            for n in MAX_SYMBOLS:
                decoder = RNNTGreedyDecoder(blank_idx=n_classes - 1, max_symbols_per_step=n)
                hyps = decoder.decode(net, x, x_lens)
                outputs[f"greedy_max{n}"], outputs[f"greedy_max{n}_lengths"] = \
                    pad_hypotheses(hyps)
                decoders[f"greedy_max{n}"] = (
                    f"rnnt_train.rnnt.decoder.RNNTGreedyDecoder(blank_idx={n_classes - 1}, "
                    f"max_symbols_per_step={n}).decode(model, x, x_lens): label ids, padded "
                    "with -1")
        stages = {
            "encoder": ("model.encode(x, x_lens)[0]: (B, T', enc_n_hid), the post_rnn LSTM "
                        "output after StackTime" if version == "v1.3.0" else
                        "model.encode(x, x_lens)[0]: (B, T', joint_n_hid) = joint_enc(post_rnn "
                        "output): v1.14's encode returns the joint's encoder PROJECTION"),
            "encoder_lengths": "model.encode(...)[1]: ceil(x_lens / enc_stack_time_factor)",
            "prediction": ("model.predict(labels)[0] (add_sos=True, zero-vector SOS): "
                           "(B, U+1, pred_n_hid), the dec_rnn output"
                           if version == "v1.3.0" else
                           "model.predict(labels)[0] (add_sos=True, zero-vector SOS): "
                           "(B, U+1, joint_n_hid) = joint_pred(dec_rnn output): v1.14's "
                           "predict returns the joint's prediction PROJECTION"),
            "joint": ("model.joint(f, g): joint_net(joint_enc(f) + joint_pred(g)), raw logits "
                      "(B, T', U+1, n_classes), blank last" if version == "v1.3.0" else
                      "model.joint(f, g): joint_fc(relu(f + g)) on the projections, raw logits "
                      "(B, T', U+1, n_classes), blank last"),
            "blank": "tokenizer.num_labels = n_classes - 1 (val.py's blank_idx)",
            **decoders,
        }
        if version != "v1.3.0":
            stages["encoder_before_joint_enc"] = (
                "the input of model.joint_enc during encode (forward pre-hook; encode "
                "transposes to batch-first before it): (B, T', enc_n_hid), the post_rnn "
                "LSTM output")
            stages["prediction_before_joint_pred"] = (
                "the input of model.joint_pred during predict (forward pre-hook): "
                "(B, U+1, pred_n_hid), the dec_rnn output")
        provenance = {
            "checkpoint": relative(training_ckpt), "weights": key,
            "family": "myrtle_rnnt",
            "library": "caiman-asr training/" + package, "version": version,
            "commit": REVISIONS[version], "torch": torch.__version__,
            "config": config_source,
            "rnnt_config": {k: v for k, v in sorted(rnnt_config.items())},
            "n_classes": n_classes,
            "settings": {
                "dtype": "float32" if float32 else "float64", "eval": True,
                "float32_reason": ("v1.3 CustomLSTM initialises h_0/c_0 with torch.zeros "
                                   "(float32) and its TorchScript layer fails in float64"
                                   if float32 else None),
                "loading": (f"real Checkpointer.load(training checkpoint, model, ema_model); "
                            f"this set uses the {'model' if key == 'state_dict' else 'EMA model'}"
                            f" (checkpoint['{key}']); every key checked loaded"
                            + ("; torch.load with TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 (v1.14 "
                               "saves with pickle protocol 5, which the weights_only loader "
                               "refuses)" if version != "v1.3.0" else "")),
                "padding": ("features beyond feature_lengths are 0.0 and labels beyond "
                            "label_lengths are 0; the real encoder is not packed, and StackTime "
                            "puts the pre_rnn output of the first padding frame (frame 11 of "
                            "utterance 1) into its last valid output frame (5), so that valid "
                            "frame depends on the padding"),
                "input_seed": INPUT_SEED, "model_seed": 1,
                "stubbed": "apex, kenlm, rnnt_train/caiman_asr_train webdataset reader "
                           "(imports only; nothing stubbed is called)"},
            "stages": stages,
        }
        if key == "ema_state_dict":
            provenance["settings"]["note"] = (
                "checkpoint['ema_state_dict'] is also the hardware checkpoint's state_dict "
                "(utils/hardware_ckpt.py copies it)")
        inputs_out = dict(inputs)
        write_forward_set(name, inputs_out, outputs, provenance, out)
        written.append(name)
        print(f"{name}: " + ", ".join(f"{k} {tuple(np.asarray(v).shape)}"
                                      for k, v in outputs.items()), file=sys.stderr)
    return written


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--caiman", type=Path, required=True, help="caiman-asr git clone")
    parser.add_argument("--out", type=Path, default=FORWARD)
    parser.add_argument("--only", choices=sorted(REVISIONS), help=argparse.SUPPRESS)
    parser.add_argument("--training", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--command", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        sys.argv = args.command.split(" ")
        print(json.dumps(run_revision(args.only, args.training, args.out.resolve(),
                                      args.command)))
        return
    command = " ".join(sys.argv)
    for version, commit in REVISIONS.items():
        with tempfile.TemporaryDirectory() as scratch:
            archive = subprocess.run(["git", "-C", str(args.caiman), "archive", commit,
                                      "training"], check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", scratch], input=archive, check=True)
            result = subprocess.run(
                [sys.executable, __file__, "--caiman", str(args.caiman), "--out",
                 str(args.out.resolve()), "--only", version, "--training",
                 str(Path(scratch) / "training"), "--command", command],
                capture_output=True, text=True)
            if result.returncode:
                sys.stderr.write(result.stdout[-4000:] + result.stderr[-8000:])
                raise SystemExit(f"{version} failed")
            for line in result.stderr.splitlines():
                if line.startswith("myrtle-"):
                    print(line)
            print(f"{version} ({commit}): {json.loads(result.stdout.strip().splitlines()[-1])}")
    print(f"fixtures/goldens/forward: {check_budget(args.out)} bytes")


if __name__ == "__main__":
    main()
