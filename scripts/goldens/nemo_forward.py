"""Heads goldens of NVIDIA NeMo 3.0.0's real transducer / CTC heads and greedy decoders, on
the real .nemo archives in fixtures/models/nemo/ (written by NeMo's own `save_to`).

Run with the goldens venv (scripts/goldens/make_env.sh), from the repository root:

    VENV/bin/python scripts/goldens/nemo_forward.py [--only SET ...] [--out DIR]

The project's nemo family starts at the encoder's output (the heads-only contract), so each
set feeds seeded random ENCODER OUTPUTS (B=2, T=12, D=d_model, lengths [12, 9]; zeros beyond
a length) and labels (B, U=4, lengths [4, 3], ids in [0, blank), 0 beyond a length) to the
restored model's own modules:

- `ModelPT.restore_from(path, map_location="cpu")`, `eval()`, `.double()` (NeMo's modules
  run in float64; the greedy decoders cast the joint's row to float32 before their argmax,
  NeMo's own `if logp.dtype != torch.float32` line);
- `model.decoder(targets=labels, target_length=label_lengths)` (RNNTDecoder.forward: its
  own zero-vector SOS, add_sos=True);
- `model.joint.joint(f, g)` (the joint's own projection + joint_net + its log_softmax rule;
  RNNTJoint.forward would take the fused loss path these configs enable) once with
  `model.joint.log_softmax = False` (raw logits: `joint`) and once with the config's value
  (None: on CPU NeMo applies log_softmax over the WHOLE row: `joint_cpu_default`);
- the hybrid's `model.ctc_decoder(encoder_output=...)` (ConvASRDecoder: log-probs);
- the real greedy decoders on the encoder outputs, built from the model's own decoder and
  joint: GreedyRNNTInfer, GreedyBatchedRNNTInfer (label looping and frame looping;
  use_cuda_graph_decoder False, the CPU path) with max_symbols_per_step 1, 2 and 10;
  GreedyTDTInfer and GreedyBatchedTDTInfer (include_duration) with 1 and 10; greedy CTC:
  GreedyCTCInfer's per-frame argmax and its ctc-collapse by the model's own
  `ctc_decoding.decode_hypothesis` (fold_consecutive, compute_timestamps on so that it keeps
  ids), and GreedyBatchedCTCInfer's per-frame argmax.
"""

from __future__ import annotations

import argparse
import sys
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

SETS = {
    "nemo-hybrid_char_tiny": "fixtures/models/nemo/hybrid_char_tiny.nemo",
    "nemo-rnnt_char_tiny": "fixtures/models/nemo/rnnt_char_tiny.nemo",
    "nemo-tdt_char_tiny": "fixtures/models/nemo/tdt_char_tiny.nemo",
}
B, T, U = 2, 12, 4
ENCODER_LENGTHS = [12, 9]
LABEL_LENGTHS = [4, 3]
INPUT_SEED = 0
RNNT_MAX_SYMBOLS = (1, 2, 10)
TDT_MAX_SYMBOLS = (1, 10)


def make_inputs(d_model: int, blank: int):
    import numpy as np

    rng = seed_everything(INPUT_SEED)
    encoder = rng.standard_normal((B, T, d_model))
    for b, length in enumerate(ENCODER_LENGTHS):
        encoder[b, length:] = 0.0
    labels = rng.integers(0, blank, size=(B, U))
    for b, length in enumerate(LABEL_LENGTHS):
        labels[b, length:] = 0
    return {"encoder": encoder, "encoder_lengths": np.array(ENCODER_LENGTHS),
            "labels": labels, "label_lengths": np.array(LABEL_LENGTHS)}


def ids(sequence) -> list[int]:
    import torch

    if isinstance(sequence, torch.Tensor):
        return [int(v) for v in sequence.tolist()]
    return [int(v) for v in sequence]


def record(outputs: dict, stages: dict, name: str, hypotheses, what: str,
           extra: tuple = ()) -> None:
    outputs[name], outputs[f"{name}_lengths"] = pad_hypotheses([ids(h.y_sequence)
                                                                for h in hypotheses])
    stages[name] = what + ": label ids (y_sequence), padded with -1"
    for field in extra:
        values = [ids(getattr(h, field)) for h in hypotheses]
        outputs[f"{name}_{field}"], _ = pad_hypotheses(values)
        stages[f"{name}_{field}"] = f"the same hypotheses' `{field}`, padded with -1"


def make_set(name: str, nemo_path: str, out: Path) -> dict:
    import nemo
    import numpy as np
    import torch
    from nemo.collections.asr.parts.submodules.ctc_greedy_decoding import (
        GreedyBatchedCTCInfer,
        GreedyCTCInfer,
    )
    from nemo.collections.asr.parts.submodules.rnnt_greedy_decoding import (
        GreedyBatchedRNNTInfer,
        GreedyBatchedTDTInfer,
        GreedyRNNTInfer,
        GreedyTDTInfer,
    )
    from nemo.core.classes.modelPT import ModelPT

    seed_everything(INPUT_SEED)
    model = ModelPT.restore_from(str(ROOT / nemo_path), map_location="cpu")
    model.eval()
    model = model.double()
    cfg = model.cfg
    blank = int(model.decoder.blank_idx)
    durations = list(cfg.decoding.get("durations") or []) if cfg.decoding.get(
        "model_type") == "tdt" else []
    inputs = make_inputs(int(cfg.encoder.d_model), blank)
    enc = torch.from_numpy(inputs["encoder"]).transpose(1, 2).contiguous()   # (B, D, T)
    enc_lens = torch.from_numpy(inputs["encoder_lengths"])
    labels = torch.from_numpy(inputs["labels"])
    label_lens = torch.from_numpy(inputs["label_lengths"])
    config_log_softmax = model.joint.log_softmax
    outputs, stages = {}, {}
    with torch.no_grad():
        g, _, _ = model.decoder(targets=labels, target_length=label_lens)      # (B, P, U+1)
        f_btd, g_bud = enc.transpose(1, 2), g.transpose(1, 2)
        model.joint.log_softmax = False
        joint = model.joint.joint(f_btd, g_bud)
        model.joint.log_softmax = config_log_softmax
        joint_default = model.joint.joint(f_btd, g_bud)
    outputs.update(prediction=g_bud.numpy(), joint=joint.numpy(),
                   joint_cpu_default=joint_default.numpy(), blank=np.asarray(blank))
    n_out = joint.shape[-1]
    stages["prediction"] = ("model.decoder(targets=labels, target_length=label_lengths)[0] "
                            "(RNNTDecoder.forward, add_sos=True: zero-vector SOS; blank_as_pad "
                            "embedding with padding_idx = blank), NeMo's (B, P, U+1) "
                            "transposed to (B, U+1, P)")
    layout = (f"indices 0..{blank - 1} tokens (the labels), {blank} blank, "
              + (f"{blank + 1}..{n_out - 1} the TDT durations {durations} in order"
                 if durations else "nothing after the blank"))
    stages["joint"] = (f"model.joint.joint(encoder (B, T, D), prediction (B, U+1, P)) with "
                       f"model.joint.log_softmax = False: raw logits (B, T, U+1, {n_out}); "
                       + layout)
    stages["joint_cpu_default"] = (
        f"the same call with the config's log_softmax ({config_log_softmax}): on CPU NeMo "
        "applies log_softmax over the whole last axis" + (" (durations included)"
                                                          if durations else ""))
    stages["blank"] = "model.decoder.blank_idx (= len(labels))"
    decoder_kw = dict(decoder_model=model.decoder, joint_model=model.joint, blank_index=blank)
    if durations:
        for n in TDT_MAX_SYMBOLS:
            hyps = GreedyTDTInfer(**decoder_kw, durations=durations, max_symbols_per_step=n,
                                  include_duration=True)(
                encoder_output=enc, encoded_lengths=enc_lens)[0]
            record(outputs, stages, f"greedy_tdt_max{n}", hyps,
                   f"GreedyTDTInfer(durations={durations}, max_symbols_per_step={n}, "
                   "include_duration=True)", ("timestamp", "token_duration"))
            hyps = GreedyBatchedTDTInfer(**decoder_kw, durations=durations,
                                         max_symbols_per_step=n, include_duration=True,
                                         use_cuda_graph_decoder=False)(
                encoder_output=enc, encoded_lengths=enc_lens)[0]
            record(outputs, stages, f"greedy_batch_tdt_max{n}", hyps,
                   f"GreedyBatchedTDTInfer(durations={durations}, max_symbols_per_step={n}, "
                   "include_duration=True, use_cuda_graph_decoder=False)",
                   ("timestamp", "token_duration"))
    else:
        for n in RNNT_MAX_SYMBOLS:
            hyps = GreedyRNNTInfer(**decoder_kw, max_symbols_per_step=n)(
                encoder_output=enc, encoded_lengths=enc_lens)[0]
            record(outputs, stages, f"greedy_rnnt_max{n}", hyps,
                   f"GreedyRNNTInfer(max_symbols_per_step={n})", ("timestamp",))
            for loop_labels in (True, False):
                kind = "labels" if loop_labels else "frames"
                hyps = GreedyBatchedRNNTInfer(**decoder_kw, max_symbols_per_step=n,
                                              loop_labels=loop_labels,
                                              use_cuda_graph_decoder=False)(
                    encoder_output=enc, encoded_lengths=enc_lens)[0]
                record(outputs, stages, f"greedy_batch_rnnt_loop_{kind}_max{n}", hyps,
                       f"GreedyBatchedRNNTInfer(max_symbols_per_step={n}, loop_labels="
                       f"{loop_labels}, use_cuda_graph_decoder=False)", ("timestamp",))
    if hasattr(model, "ctc_decoder"):
        with torch.no_grad():
            ctc = model.ctc_decoder(encoder_output=enc)                        # (B, T, V+1)
        outputs["ctc"] = ctc.numpy()
        ctc = torch.from_numpy(outputs["ctc"])    # a plain tensor: NeMo's typecheck refuses
        #                                           the one ctc_decoder tagged (B, T, D)
        stages["ctc"] = ("model.ctc_decoder(encoder_output=encoder (B, D, T)): ConvASRDecoder "
                         "log-probs as NeMo returns them, (B, T, V+1), blank last")
        ctc_blank = int(model.ctc_decoding.blank_id)
        frames = GreedyCTCInfer(blank_id=ctc_blank)(decoder_output=ctc,
                                                    decoder_lengths=enc_lens)[0]
        record(outputs, stages, "greedy_ctc_frames", frames,
               f"GreedyCTCInfer(blank_id={ctc_blank}) on `ctc`: the per-frame argmax "
               "(blank included, not collapsed)")
        batched = GreedyBatchedCTCInfer(blank_id=ctc_blank, allow_cuda_graphs=False)(
            decoder_output=ctc, decoder_lengths=enc_lens)[0]
        record(outputs, stages, "greedy_batch_ctc_frames", batched,
               f"GreedyBatchedCTCInfer(blank_id={ctc_blank}) on `ctc`: per-frame argmax")
        decoding = model.ctc_decoding
        saved = decoding.compute_timestamps
        decoding.compute_timestamps = True
        collapsed = decoding.decode_hypothesis(frames, fold_consecutive=True)
        decoding.compute_timestamps = saved
        outputs["greedy_ctc"], outputs["greedy_ctc_lengths"] = pad_hypotheses(
            [ids(h.text[0]) for h in collapsed])
        stages["greedy_ctc"] = (
            "model.ctc_decoding.decode_hypothesis(greedy_ctc_frames hypotheses, "
            "fold_consecutive=True) with compute_timestamps on: NeMo's ctc collapse (merge "
            "repeats, drop blanks), the ids it keeps in text[0], padded with -1")
        outputs["ctc_blank"] = np.asarray(ctc_blank)
        stages["ctc_blank"] = "model.ctc_decoding.blank_id"
    stages_inputs = {
        "encoder": "inputs.npz `encoder` (B, T, D) float64; NeMo is given its transpose "
                   "(B, D, T), its own layout",
    }
    provenance = {
        "checkpoint": nemo_path, "family": "nemo",
        "library": "nemo-toolkit", "version": nemo.__version__, "commit": None,
        "model_class": type(model).__name__, "torch": torch.__version__,
        "config": relative(ROOT / "fixtures/configs/nemo" / Path(nemo_path).stem
                           / "model_config.yaml"),
        "labels": list(cfg.labels),
        "durations": durations or None,
        "settings": {"dtype": "float64", "eval": True, "device": "cpu",
                     "restore": "ModelPT.restore_from(path, map_location='cpu'), "
                                "eval(), double()",
                     "inputs": "seeded random encoder outputs (the heads-only contract: no "
                               "preprocessor, no encoder run); zeros beyond encoder_lengths; "
                               "labels 0 beyond label_lengths",
                     "input_seed": INPUT_SEED, "stubbed": None},
        "stages": {**stages_inputs, **stages},
    }
    if durations:
        differ = [n for n in TDT_MAX_SYMBOLS
                  if not all(np.array_equal(outputs[f"greedy_tdt_max{n}{k}"],
                                            outputs[f"greedy_batch_tdt_max{n}{k}"])
                             for k in ("", "_timestamp", "_token_duration"))]
        provenance["notes"] = (
            f"GreedyTDTInfer and GreedyBatchedTDTInfer disagree here at max_symbols_per_step "
            f"{differ} (and agree at the others). NeMo 3.0.0's GreedyTDTInfer runs "
            "`if symbols_added == self.max_symbols: time_idx += 1` after its inner loop even "
            "when the last step's duration already moved time on, so with max 1 every step "
            "advances duration + 1 frames; GreedyBatchedTDTInfer forces the extra frame only "
            "after a duration-0 step. Both are recorded as NeMo computes them."
            if differ else "GreedyTDTInfer and GreedyBatchedTDTInfer agree on every run here.")
    write_forward_set(name, inputs, outputs, provenance, out)
    return outputs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SETS), default=None)
    parser.add_argument("--out", type=Path, default=FORWARD)
    args = parser.parse_args(argv)
    import numpy as np

    for name in args.only or SETS:
        outputs = make_set(name, SETS[name], args.out)
        print(f"{name}: " + ", ".join(f"{k} {tuple(np.asarray(v).shape)}"
                                      for k, v in outputs.items()))
    print(f"{args.out}: {check_budget(args.out)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
