"""Forward goldens of myrtlespeech's real RNN-T (MyrtleSoftware/myrtlespeech 24d2df3), its
checkpoints, and of deepspeech-internal's forward pass as myrtlespeech 45899f7 ran it.

    VENV/bin/python scripts/goldens/myrtlespeech_forward.py \
        --repo /work/.mirror/MyrtleSoftware+myrtlespeech/repo [--out fixtures/goldens/forward]

REPO is a git clone of myrtlespeech; each revision's `src/` is exported with `git archive`
into a scratch folder, its protos compiled there with grpc_tools.protoc (as
myrtlespeech_frontend.py does), one revision per subprocess. Run with the goldens venv
(scripts/goldens/make_env.sh); imports nothing from rnnt-parity.

24d2df3 (sets myrtlespeech-24d2df3-tiny_dropout, -tiny_no_dropout): the revision's own
src/myrtlespeech/configs/rnn_t_en.config (= fixtures/configs/myrtlespeech/24d2df3/
rnn_t_en.config), parsed with its protos and shrunk in the message (TINY below: n_mels 8,
every hidden size small; layer counts, activations, forget_gate_bias, alphabet, blank and
max_symbols_per_step as committed); "no_dropout" also clears the three `dropout` fields
(24d2df3's builder adds a Dropout module only when dropout > 1e-8, which renumbers
fully_connected.3 to .2). The whole SpeechToText is built by the real
`builders.speech_to_text.build` (input features and channels from its pre-process steps:
n_mels 8, 2 * n_context + 1 = 5 channels; vocab = alphabet minus blank), torch seed 0; the
model's state_dict is saved with torch.save as fixtures/checkpoints/myrtlespeech/24d2df3/
<name>.pt (float32, as built), then eval(), .double(), and on seeded inputs (B, C, F, T):
`model.encode((x, x_lens))` (fc1 -> Hardtanh -> rnn1 (packed) -> fc2 -> Hardtanh),
`model.prediction((y, y_lens))` (zero SOS, dec_rnn packed with y_lens + 1),
`model.joint(model._enc_pred_to_joint(f, g))` (concatenation joint, raw logits), the full
`model(...)` (checked equal), and the real RNNTGreedyDecoder (the built one,
max_symbols_per_step 100 as configured, and one with 1). Stubbed: `warprnnt_pytorch` (the
RNN-T loss's CUDA binding: a do-nothing module, never called).

45899f7 (set dsi-45899f7-dsi_style_tiny_80mel): DSI's forward as 45899f7 reproduced it:
fc1's first weight sliced to 320 inputs, channel 0 of 5 dropped, the two outer Hardtanh,
dec_rnn packed with U + 1. 45899f7 as committed does not run, two interface mismatches left
by its rebase: (1) `builders.rnn_t.build` builds dec_rnn without batch_first (its
`builders.rnn.build` gained a `batch_first` argument the caller does not pass) and `RNNT`
asserts batch_first; (2) its `model.rnn.RNN.forward` returns `((out, lengths), hidden)`
while its rnn_t.py consumes `(out, lengths)` (TypeError in fc2). So the RNN-T is assembled
as `builders.rnn_t.build` does, line for line, with `build_rnn(dec_rnn_cfg, hidden,
batch_first=True)`, and `RNN.forward` wrapped to return its first element; nothing else
changed. 45899f7's RNN packs with enforce_sorted=True, so lengths are in decreasing order.
Config: 45899f7's rnn_t_en.config (its `dropout: 0.25` given as `dropout { value: 0.25 }`,
its own proto form) shrunk to the DSI file's sizes; weights: fixtures/checkpoints/dsi/
dsi_style_tiny_80mel.pt renamed by seed 000's hand-written `dict_map_partial` (DSI key ->
myrtlespeech key; applied as the seed notebook applies it), loaded with load_state_dict, then
.double(). The DSI weights are random, not trained, and the file is DSI-shaped, not
DSI-written (DSI's code is unavailable). The 12-input fixtures/checkpoints/dsi/
dsi_style_tiny.pt cannot be used: 45899f7 hard-codes 320 = 4 x 80 inputs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import types
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

REVISIONS = ("24d2df3", "45899f7")
CKPT_DIR = ROOT / "fixtures" / "checkpoints" / "myrtlespeech" / "24d2df3"
DSI_CKPT = ROOT / "fixtures" / "checkpoints" / "dsi" / "dsi_style_tiny_80mel.pt"
TINY = {"n_mels": 8, "fc1.hidden_size": 16, "rnn1.hidden_size": 16, "fc2.hidden_size": 16,
        "dec_rnn.hidden_size": 8, "fully_connected.hidden_size": 12}
# The DSI file's sizes (scripts/goldens/dsi_style_checkpoint.py): fc width 8, encoder output
# 6 (= the joint's hidden size in myrtlespeech's builder), prediction 4, joint 6, 5 symbols.
DSI = {"fc1.hidden_size": 8, "rnn1.hidden_size": 8, "fc2.hidden_size": 8,
       "dec_rnn.hidden_size": 4, "fully_connected.hidden_size": 6, "vocab_size": 5,
       "input_features": 80, "input_channels": 5}
# Seed 000 (shared/seeds/000_*.txt), its hand-written map, verbatim: DSI key -> myrtlespeech.
DICT_MAP_PARTIAL = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "checkpoints"
                               / "dsi" / "seed_000_dict_map_partial.json").read_text()
                              )["dict_map_partial"]
B, U = 2, 4
T_MS, T_DSI = 16, 8
LABEL_LENGTHS = [4, 3]
INPUT_SEED = 0
LAYOUT = ("features_bcft (B, C, F, T) is what the real code takes; features (B, T, C*F) is "
          "the same numbers with features[b, t, c*F + f] = features_bcft[b, c, f, t] "
          "(RNNTEncoder._prepare_inputs_fc1's channel-major flattening)")


def shrink(task, sizes: dict, dropout: bool) -> dict:
    """TINY sizes into the parsed task config; returns what was changed."""
    stt = task.speech_to_text
    rnn_t = stt.rnn_t
    changed = {}
    if "n_mels" in sizes:
        for step in stt.pre_process_step:
            if step.WhichOneof("pre_process_step") == "lmfb":
                step.lmfb.n_mels = sizes["n_mels"]
                changed["lmfb.n_mels"] = sizes["n_mels"]
    for key in ("fc1", "rnn1", "fc2"):
        getattr(rnn_t.rnn_t_encoder, key).hidden_size = sizes[f"{key}.hidden_size"]
    rnn_t.dec_rnn.hidden_size = sizes["dec_rnn.hidden_size"]
    rnn_t.fully_connected.hidden_size = sizes["fully_connected.hidden_size"]
    changed.update({k: v for k, v in sizes.items() if k.endswith("hidden_size")})
    if not dropout:
        for message in (rnn_t.rnn_t_encoder.fc1, rnn_t.rnn_t_encoder.fc2,
                        rnn_t.fully_connected):
            message.ClearField("dropout")
        changed["dropout"] = "cleared (fc1, fc2, fully_connected)"
    return changed


def make_inputs(channels: int, n_features: int, steps: int, feature_lengths: list[int],
                vocab: int):
    import numpy as np

    rng = seed_everything(INPUT_SEED)
    bcft = rng.standard_normal((B, channels, n_features, steps))
    for b, length in enumerate(feature_lengths):
        bcft[b, ..., length:] = 0.0
    labels = rng.integers(0, vocab, size=(B, U))
    for b, length in enumerate(LABEL_LENGTHS):
        labels[b, length:] = 0
    flat = bcft.reshape(B, channels * n_features, steps).transpose(0, 2, 1)
    return {"features": flat, "feature_lengths": np.array(feature_lengths),
            "features_bcft": bcft, "labels": labels,
            "label_lengths": np.array(LABEL_LENGTHS)}


def stub_warprnnt() -> None:
    import torch

    class RNNTLoss(torch.nn.Module):
        def __init__(self, *args, **kwargs):
            super().__init__()

    module = types.ModuleType("warprnnt_pytorch")
    module.RNNTLoss = RNNTLoss
    sys.modules["warprnnt_pytorch"] = module


def forward_stages(model, x, x_lens, y, y_lens):
    import torch

    with torch.no_grad():
        f = model.encode((x, x_lens))                        # ((T, B, E), lengths)
        g = model.prediction((y, y_lens))                    # ((B, U+1, P), lengths)
        joint, _ = model.joint(model._enc_pred_to_joint(f, g))
        full, _ = model(((x, y), (x_lens, y_lens)))
    if not torch.equal(full, joint):
        raise RuntimeError("model(...) differs from encode/prediction/joint")
    return f, g, joint


def run_24d2df3(src: Path, out: Path) -> list[str]:
    import numpy as np
    import torch
    from myrtlespeech_frontend import parse_config

    stub_warprnnt()
    from myrtlespeech.builders.speech_to_text import build
    from myrtlespeech.post_process.rnn_t_greedy_decoder import RNNTGreedyDecoder

    config = ROOT / "fixtures/configs/myrtlespeech/24d2df3/rnn_t_en.config"
    committed = src / "myrtlespeech/configs/rnn_t_en.config"
    if committed.read_text() != config.read_text():
        raise RuntimeError(f"{config} differs from 24d2df3's {committed.name}")
    written = []
    CKPT_DIR.mkdir(parents=True, exist_ok=True)
    for name, dropout in (("tiny_dropout", True), ("tiny_no_dropout", False)):
        task, patch = parse_config(config.read_text())
        changed = shrink(task, TINY, dropout)
        torch.manual_seed(0)
        stt = build(task.speech_to_text)
        model = stt.model
        ckpt = CKPT_DIR / f"{name}.pt"
        torch.save(model.state_dict(), ckpt)
        model.eval()
        model.double()
        channels = 2 * task.speech_to_text.pre_process_step[2].context_frames.n_context + 1
        vocab = len(task.speech_to_text.alphabet) - 1
        blank = task.speech_to_text.rnn_t_greedy_decoder.blank_index
        inputs = make_inputs(channels, TINY["n_mels"], T_MS, [16, 11], vocab)
        x = torch.from_numpy(inputs["features_bcft"])
        x_lens = torch.from_numpy(inputs["feature_lengths"])
        y = torch.from_numpy(inputs["labels"])
        y_lens = torch.from_numpy(inputs["label_lengths"])
        f, g, joint = forward_stages(model, x, x_lens, y, y_lens)
        outputs = {"encoder": f[0].transpose(0, 1).numpy(), "encoder_lengths": f[1].numpy(),
                   "prediction": g[0].numpy(), "prediction_lengths": g[1].numpy(),
                   "joint": joint.numpy(), "blank": np.asarray(blank)}
        stages = {
            "encoder": "model.encode((features_bcft, feature_lengths))[0]: (T', B, E) "
                       "transposed to (B, T', E); fc1 (with its Hardtanh) -> Hardtanh(0, 20) "
                       "-> rnn1 (packed: zeros beyond a length) -> fc2 -> Hardtanh(0, 20)",
            "encoder_lengths": "model.encode(...)[1] (= feature_lengths: no time reduction)",
            "prediction": "model.prediction((labels, label_lengths))[0]: (B, U+1, P); "
                          "embedding, zero-vector SOS prepended, dec_rnn packed with "
                          "label_lengths + 1 (zeros beyond label_lengths + 1)",
            "prediction_lengths": "model.prediction(...)[1]: label_lengths (+1 for the packing, "
                                  "then -1 again, 24d2df3's code)",
            "joint": "model.joint(model._enc_pred_to_joint(f, g))[0]: fully_connected on the "
                     "concatenation [f, g] (B, T', U+1, E+P) -> raw logits (B, T', U+1, "
                     f"{vocab + 1}), blank last ({blank}); equal to model(((x, y), (x_lens, "
                     "y_lens)))[0]",
            "blank": "speech_to_text.rnn_t_greedy_decoder.blank_index (= len(alphabet) - 1)",
        }
        torch.set_default_dtype(torch.float64)    # the decoder's SOS: torch.zeros(...) float
        try:
            for n, decoder in ((stt.post_process.max_symbols_per_step, stt.post_process),
                               (1, RNNTGreedyDecoder(blank_index=blank, model=model,
                                                     max_symbols_per_step=1))):
                hyps = decoder(inputs=(x, y), lengths=(x_lens, y_lens))
                outputs[f"greedy_max{n}"], outputs[f"greedy_max{n}_lengths"] = \
                    pad_hypotheses(hyps)
                stages[f"greedy_max{n}"] = (
                    f"myrtlespeech RNNTGreedyDecoder(blank_index={blank}, "
                    f"max_symbols_per_step={n})(inputs=(x, y), lengths=(x_lens, y_lens))"
                    + (" (the one the builder made from the config)"
                       if decoder is stt.post_process else "")
                    + ": label ids, padded with -1")
        finally:
            torch.set_default_dtype(torch.float32)
        provenance = {
            "checkpoint": relative(ckpt), "family": "myrtlespeech",
            "library": "myrtlespeech (builders/speech_to_text.py, model/rnn_t.py, "
                       "post_process/rnn_t_greedy_decoder.py)",
            "version": None, "commit": "24d2df3", "torch": torch.__version__,
            "config": relative(config), "config_patch": patch, "config_changes": changed,
            "rnn_t_config": str(task.speech_to_text.rnn_t),
            "alphabet": task.speech_to_text.alphabet,
            "settings": {"dtype": "float64", "eval": True,
                         "checkpoint_dtype": "float32 (the state_dict as built, before "
                                             ".double())",
                         "model_seed": 0, "input_seed": INPUT_SEED,
                         "padding": "features_bcft beyond feature_lengths and labels beyond "
                                    "label_lengths are 0; the real code packs both",
                         "greedy_default_dtype": "torch.set_default_dtype(float64) while "
                                                 "decoding: the decoder builds its SOS with "
                                                 "torch.zeros, default dtype",
                         "layout": LAYOUT,
                         "stubbed": "warprnnt_pytorch (RNNTLoss; imported by the loss "
                                    "builder, never called)"},
            "stages": stages,
        }
        folder = f"myrtlespeech-24d2df3-{name}"
        write_forward_set(folder, inputs, outputs, provenance, out)
        written.append(folder)
        print(f"{folder}: " + ", ".join(f"{k} {tuple(np.asarray(v).shape)}"
                                        for k, v in outputs.items()), file=sys.stderr)
    return written


def run_45899f7(src: Path, out: Path) -> list[str]:
    import numpy as np
    import torch
    from myrtlespeech.builders import rnn_t as rnn_t_builder
    from myrtlespeech.builders.fully_connected import build as build_fully_connected
    from myrtlespeech.builders.rnn import build as build_rnn
    from myrtlespeech.model import rnn as rnn_module
    from myrtlespeech.model.rnn_t import RNNT
    from myrtlespeech_frontend import parse_config

    original_forward = rnn_module.RNN.forward

    def forward(self, x, hx=None):                    # shim (2): ((out, lengths), hid)
        return original_forward(self, x, hx)[0]       # -> (out, lengths)

    rnn_module.RNN.forward = forward

    config = ROOT / "fixtures/configs/myrtlespeech/45899f7/rnn_t_en.config"
    committed = src / "myrtlespeech/configs/rnn_t_en.config"
    if committed.read_text() != config.read_text():
        raise RuntimeError(f"{config} differs from 45899f7's {committed.name}")
    task, patch = parse_config(config.read_text())
    changed = shrink(task, DSI, dropout=True)
    rnn_t_cfg = task.speech_to_text.rnn_t
    torch.manual_seed(0)
    # builders.rnn_t.build, line for line, with batch_first=True for dec_rnn (shim (1)).
    encoder, encoder_out = rnn_t_builder.build_rnnt_enc(
        rnn_t_cfg.rnn_t_encoder, DSI["input_features"] * DSI["input_channels"],
        output_features=rnn_t_cfg.fully_connected.hidden_size)
    embedding = torch.nn.Embedding(DSI["vocab_size"], rnn_t_cfg.dec_rnn.hidden_size)
    dec_rnn, prediction_out = build_rnn(rnn_t_cfg.dec_rnn, rnn_t_cfg.dec_rnn.hidden_size,
                                        batch_first=True)
    fully_connected = build_fully_connected(
        rnn_t_cfg.fully_connected, input_features=encoder_out + prediction_out,
        output_features=DSI["vocab_size"] + 1)
    model = RNNT(encoder, embedding, dec_rnn, fully_connected)

    # Seed 000's renaming, as its notebook applies it.
    network = torch.load(DSI_CKPT, map_location="cpu")["network"]
    dict_map = {}
    for ms_key, _ in model.named_parameters():
        found = False
        for dsi_partial, ms_partial in DICT_MAP_PARTIAL.items():
            if ms_partial in ms_key:
                dict_map[ms_key.replace(ms_partial, dsi_partial)] = ms_key
                found = True
        if not found:
            raise RuntimeError(f"seed 000's map has no rule for {ms_key}")
    state = model.state_dict()
    used = {}
    for dsi_key, tensor in network.items():
        ms_key = dict_map[dsi_key]
        if tuple(state[ms_key].shape) != tuple(tensor.shape):
            raise RuntimeError(f"{dsi_key} {tuple(tensor.shape)} -> {ms_key} "
                               f"{tuple(state[ms_key].shape)}")
        state[ms_key] = tensor
        used[dsi_key] = ms_key
    if set(used.values()) != set(state):
        raise RuntimeError(f"not loaded: {sorted(set(state) - set(used.values()))}")
    model.load_state_dict(state)
    model.eval()
    model.double()
    inputs = make_inputs(DSI["input_channels"], DSI["input_features"], T_DSI, [8, 5],
                         DSI["vocab_size"])
    bcft = inputs["features_bcft"]
    inputs["features_dsi"] = bcft[:, 1:].reshape(B, 4 * 80, T_DSI).transpose(0, 2, 1)
    x = torch.from_numpy(bcft)
    x_lens = torch.from_numpy(inputs["feature_lengths"])
    y = torch.from_numpy(inputs["labels"])
    y_lens = torch.from_numpy(inputs["label_lengths"])
    f, g, joint = forward_stages(model, x, x_lens, y, y_lens)
    outputs = {"encoder": f[0].transpose(0, 1).numpy(), "encoder_lengths": f[1].numpy(),
               "prediction": g[0].numpy(), "prediction_lengths": g[1].numpy(),
               "joint": joint.numpy(), "blank": np.asarray(DSI["vocab_size"])}
    stages = {
        "encoder": "model.encode((features_bcft, feature_lengths))[0]: (T', B, E) transposed "
                   "to (B, T', E); channel 0 dropped, 4 x 80 = 320 inputs (fc1's weight "
                   "sliced to [:, :320]), fc1 (with its Hardtanh) -> Hardtanh(0, 20) -> rnn1 "
                   "(packed) -> fc2 -> Hardtanh(0, 20)",
        "encoder_lengths": "model.encode(...)[1] (= feature_lengths)",
        "prediction": "model.prediction((labels, label_lengths))[0]: (B, U+1, P); zero-vector "
                      "SOS, dec_rnn packed with label_lengths + 1",
        "prediction_lengths": "model.prediction(...)[1]: at 45899f7 the dec_rnn's lengths, "
                              "label_lengths + 1 (it does not subtract the 1 again)",
        "joint": "model.joint(model._enc_pred_to_joint(f, g))[0]: raw logits (B, T', U+1, 6), "
                 "blank last (5); equal to model(((x, y), (x_lens, y_lens)))[0]",
        "blank": "vocab_size (5): myrtlespeech's blank is the last joint output",
    }
    provenance = {
        "checkpoint": relative(DSI_CKPT), "family": "dsi",
        "library": "myrtlespeech 45899f7 (builders/rnn_t.py pieces, model/rnn_t.py, "
                   "model/rnn.py)",
        "version": None, "commit": "45899f7", "torch": torch.__version__,
        "config": relative(config), "config_patch": patch, "config_changes": changed,
        "rnn_t_config": str(rnn_t_cfg),
        "weights": ("NOT trained and NOT written by DSI's code (unavailable): a DSI-shaped "
                    "file ({'network': float16 state dict} with seed 000's key names), random "
                    "weights, made by scripts/goldens/dsi_style_checkpoint_80mel.py"),
        "weight_map": {"source": "seed 000's dict_map_partial (shared/seeds/000_*.txt), "
                                 "applied as its notebook applies it",
                       "dsi_to_myrtlespeech": used},
        "settings": {
            "dtype": "float64 (the float16 weights copied into the float32 model by "
                     "load_state_dict, then .double())",
            "eval": True, "model_seed": 0, "input_seed": INPUT_SEED,
            "build": {"input_features": DSI["input_features"],
                      "input_channels": DSI["input_channels"],
                      "vocab_size": DSI["vocab_size"]},
            "stubbed": "two interface shims, no arithmetic: (1) dec_rnn built by "
                       "builders.rnn.build(..., batch_first=True) since 45899f7's "
                       "builders.rnn_t.build omits it and RNNT asserts it; (2) "
                       "model.rnn.RNN.forward wrapped to return (out, lengths), the form "
                       "45899f7's rnn_t.py consumes, instead of ((out, lengths), hidden)",
            "padding": "features_bcft beyond feature_lengths and labels beyond label_lengths "
                       "are 0; lengths decreasing (45899f7's RNN packs with "
                       "enforce_sorted=True)",
            "layout": LAYOUT + "; features_dsi (B, T, 320) is DSI's own input as seed 000 "
                      "builds it: features_dsi[b, t, c*80 + f] = features_bcft[b, c + 1, f, t] "
                      "(channel 0 dropped; DSI's Network takes its transpose (T, B, 320))",
            "greedy": "not recorded: 45899f7's RNNTGreedyDecoder calls dec_rnn with the old "
                      "((input, hidden), lengths) interface its RNN no longer has"},
        "stages": stages,
    }
    name = "dsi-45899f7-dsi_style_tiny_80mel"
    write_forward_set(name, inputs, outputs, provenance, out)
    print(f"{name}: " + ", ".join(f"{k} {tuple(np.asarray(v).shape)}"
                                  for k, v in outputs.items()), file=sys.stderr)
    return [name]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, required=True, help="myrtlespeech git clone")
    parser.add_argument("--out", type=Path, default=FORWARD)
    parser.add_argument("--only", choices=REVISIONS, help=argparse.SUPPRESS)
    parser.add_argument("--src", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--command", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        sys.argv = args.command.split(" ")
        with tempfile.TemporaryDirectory() as scratch:
            from myrtlespeech_frontend import compile_protos

            sys.path.insert(0, str(compile_protos(args.src, Path(scratch))))
            run = run_24d2df3 if args.only == "24d2df3" else run_45899f7
            print(json.dumps(run(Path(scratch) / "src", args.out.resolve())))
        return
    command = " ".join(sys.argv)
    for commit in REVISIONS:
        with tempfile.TemporaryDirectory() as scratch:
            archive = subprocess.run(["git", "-C", str(args.repo), "archive", commit, "src"],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", scratch], input=archive, check=True)
            result = subprocess.run(
                [sys.executable, __file__, "--repo", str(args.repo), "--out",
                 str(args.out.resolve()), "--only", commit, "--src",
                 str(Path(scratch) / "src"), "--command", command],
                capture_output=True, text=True)
            if result.returncode:
                sys.stderr.write(result.stdout[-4000:] + result.stderr[-8000:])
                raise SystemExit(f"{commit} failed")
            for line in result.stderr.splitlines():
                if line.startswith(("myrtlespeech-", "dsi-")):
                    print(line)
            print(f"{commit}: {json.loads(result.stdout.strip().splitlines()[-1])}")
    print(f"fixtures/goldens/forward: {check_budget(args.out)} bytes")


if __name__ == "__main__":
    main()
