"""The `rnnt-parity` command line.

    rnnt-parity check [--fixtures DIR] [--backend NAME ...] [--device cpu|cuda ...]
                      [--require-gpu]
    rnnt-parity bench loss [--shape B,T,U,V ...] [--repeats N] [--rounds R]
                           [--no-first-call] [--plot PATH.png|.svg [--force]] [--tdt] [--all]
    rnnt-parity bench ctc [--shape T,B,C,S ...] [--repeats N]
    rnnt-parity bench features [--seconds S] [--repeats N] [--rounds R]
    rnnt-parity bench port [--config NAME]
    rnnt-parity features compare AUDIO --a SOURCE --b SOURCE [--n-mels N] [--plot PNG]
                                 [--fail-on snr:DB|frames ...]
    rnnt-parity features extract --config CONFIG [--family F] [--revision R] [--dtype D]
                                 --out DIR AUDIO...
    rnnt-parity inspect CKPT [--family NAME] [--ema] [--assume NAME=VALUE ...] [--config C]
    rnnt-parity port --to FAMILY [--from FAMILY] IN OUT [--no-verify] [--force] [--ema]
                     [--drop-ctc-head] [--precision float32|bfloat16|float16 ...]
    rnnt-parity compare A B [--family-a NAME] [--family-b NAME] [--padded] [--assume N=V]
                        [--precision P ...] [--json OUT.json] [--force]
    rnnt-parity compare A --against OUT.npz --inputs IN.npz
    rnnt-parity forward CKPT --inputs IN.npz --out OUT.npz [--family F] [--config C] [--ema]
                        [--dtype float64|float32] [--assume N=V ...]
    rnnt-parity wer-drift --manifest M (--system-a S.json | --hyp-a H.jsonl)
                          (--system-b S.json | --hyp-b H.jsonl) --out DIR
                          [--fail-on abs:0.5% ...] [--shard i/n | --distributed] [--force]
    rnnt-parity wer-drift merge SHARD.json ... --out DIR [--fail-on ...] [--force]
    rnnt-parity conform rnnt-loss|ctc-loss PKG.MODULE:CALLABLE [--convention auto|PRESET|FILE]
                          [--device cpu|cuda] [--profile ci|dev|thorough] --out DIR [--force]
    rnnt-parity conform rnnt-greedy|rnnt-beam|tdt-greedy PKG.MODULE:CALLABLE [--profile P]
                          --out DIR
    rnnt-parity conform model PKG.MODULE:LOADER --checkpoint CKPT [--family F] --out DIR
    rnnt-parity conform features PKG.MODULE:CALLABLE (--preset NAME | --model-input FILE)
                          [--profile P] --out DIR
    rnnt-parity conform --catalogue [--only NAME ...]
    rnnt-parity fsdd build OUT [--seen N] [--unseen N] [--seed-offset K] [--force]
    rnnt-parity bench decode [--utterances N]

`check` runs every registered parity check on the fixtures and exits 1 if any fails.
`wer-drift` exits 1 when a --fail-on threshold is exceeded, 2 on bad input.
A feature SOURCE is a reference preset (python_speech_features, torchaudio_melspectrogram,
kaldi, nemo, myrtle, myrtle_centred, myrtlespeech_psf, myrtlespeech_torchaudio) or lib:PRESET,
the production library that preset reproduces. `features extract` computes a codebase's whole
model input from its own config (Myrtle YAML, myrtlespeech protobuf, NeMo YAML or .nemo).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnnt_parity.names import (
    BACKEND_NAMES,
    BENCH_MODELS,
    FAMILY_NAMES,
    FEATURE_SOURCES,
    FIXTURE_ROOT,
    MODEL_INPUT_FAMILIES,
)
from rnnt_parity.progress import activity, step


def _shape_parser(axes: str):
    def parse(text: str) -> tuple[int, int, int, int]:
        try:
            values = tuple(int(part) for part in text.split(","))
        except ValueError:
            values = ()
        if len(values) != 4 or min(values) < 1:
            raise argparse.ArgumentTypeError(
                f"shape must be {axes} positive integers, got {text!r}")
        return values

    return parse


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def _checkpoint_reading_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--config", type=Path,
                         help="the family's native config (Myrtle YAML, NeMo YAML or .nemo, "
                              "myrtlespeech protobuf text); must agree with the weights")
    command.add_argument("--ema", action="store_true",
                         help="use a Myrtle checkpoint's ema_state_dict")
    _assume_options(command)


def _statement(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name or not value:
        raise argparse.ArgumentTypeError(f"--assume takes NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def _assume_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--assume", type=_statement, action="append", default=[],
                         metavar="NAME=VALUE",
                         help="state a property the weights cannot show (inspect lists "
                              "them), e.g. hard_activations=true; recorded in the provenance")
    command.add_argument("--hard-activations", action="store_true",
                         help="the same as --assume hard_activations=true")


def _statements(args) -> dict[str, str]:
    """--assume statements (and --hard-activations) as {name: value}; ValueError when one
    property is stated twice with different values."""
    given = list(args.assume) + ([("hard_activations", "true")] if args.hard_activations else [])
    statements: dict[str, str] = {}
    for name, value in given:
        if statements.get(name, value).lower() != value.lower():
            raise ValueError(f"--assume {name} is stated twice: {statements[name]} and {value}")
        statements[name] = value
    return statements


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnt-parity", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="run every parity check on the fixtures")
    check.add_argument("--fixtures", type=Path, default=FIXTURE_ROOT,
                       help="folder holding rnnt/ and ctc/ fixture JSON files "
                            f"(default {FIXTURE_ROOT})")
    check.add_argument("--backend", action="append", choices=None,
                       help="production backend to check (repeatable; default: all)")
    check.add_argument("--device", action="append", choices=("cpu", "cuda"),
                       help="device to run backends on (repeatable; default: all present)")
    check.add_argument("--require-gpu", action="store_true",
                       help="fail (exit 1) unless CUDA is present, and run every cuda row "
                            "(as pytest's --require-gpu)")

    bench = commands.add_parser("bench", help="benchmarks")
    bench_commands = bench.add_subparsers(dest="benchmark", required=True)
    loss = bench_commands.add_parser(
        "loss", help="oracle fast path vs every production RNN-T loss installed, CPU")
    loss.add_argument("--shape", type=_shape_parser("B,T,U,V"), action="append",
                      help="B,T,U,V (repeatable; default: the four shapes of the README)")
    loss.add_argument("--repeats", type=_positive_int, default=3)
    loss.add_argument("--rounds", type=_positive_int, default=1,
                      help="measure every implementation once per round, in turn, and report "
                           "the median over rounds (default 1)")
    loss.add_argument("--first-call", action=argparse.BooleanOptionalAction, default=True,
                      help="also time the oracle's first call compiling (about 25 s) and "
                           "from the on-disk cache in a new process (default: on)")
    loss.add_argument("--plot", type=Path, metavar="PATH",
                      help="also time every implementation with T, U and V each swept from "
                           "a small base shape, print each one's log-log slopes, and write "
                           "the three log-log panels here (.png or .svg)")
    loss.add_argument("--force", action="store_true", help="overwrite an existing --plot")
    loss.add_argument("--tdt", action="store_true",
                      help="also time the TDT oracle (durations 0-4) against the RNN-T "
                           "oracle on the same shapes and print the ratio's verdict")
    loss.add_argument("--all", action="store_true",
                      help="also run `bench ctc` and `bench features` (3 rounds) and print "
                           "each speed target of the README's Benchmark section with its "
                           "verdict")
    ctc = bench_commands.add_parser("ctc", help="CTC oracle vs torch CPU, and beam search")
    ctc.add_argument("--shape", type=_shape_parser("T,B,C,S"), action="append",
                     help="T,B,C,S (repeatable; default: the two shapes of the README)")
    ctc.add_argument("--repeats", type=_positive_int, default=3)
    features = bench_commands.add_parser(
        "features", help="reference presets vs python_speech_features and torchaudio, CPU")
    features.add_argument("--seconds", type=_positive_int, default=60,
                          help="audio length in seconds (default 60)")
    features.add_argument("--repeats", type=_positive_int, default=15)
    features.add_argument("--rounds", type=_positive_int, default=3,
                          help="measure every front end once per round (default 3)")

    port_bench = bench_commands.add_parser(
        "port", help="inspect + port + verify of a real-size checkpoint, time and peak memory")
    port_bench.add_argument("--config", choices=BENCH_MODELS, default="base-8703sp",
                            help="a Myrtle config, or nemo-fastconformer-hybrid-large (a "
                                 ".nemo archive; default base-8703sp)")
    decode_bench = bench_commands.add_parser(
        "decode", help="the tiny model: batched greedy vs the oracle's, and wer-drift time")
    decode_bench.add_argument("--utterances", type=_positive_int, default=1000,
                              help="utterances for the wer-drift timing (default 1000)")

    inspect = commands.add_parser(
        "inspect", help="family, sizes and config of a checkpoint",
        description="Family, sizes and config of a checkpoint, what its weights cannot show, "
                    "and what cannot be accounted for. Exit status 1 when a tensor does not "
                    "fit the model the other tensors agree on (a damaged tensor).")
    inspect.add_argument("checkpoint", type=Path)
    inspect.add_argument("--family", choices=FAMILY_NAMES,
                         help="the family (default: detected from the key names)")
    _checkpoint_reading_options(inspect)

    port = commands.add_parser("port", help="map a checkpoint to another family and prove it")
    port.add_argument("source", type=Path, metavar="IN")
    port.add_argument("target", type=Path, metavar="OUT",
                      help="output checkpoint (.pt, or .safetensors for tensors only)")
    port.add_argument("--to", dest="to_family", required=True, choices=FAMILY_NAMES)
    port.add_argument("--from", dest="from_family", choices=FAMILY_NAMES,
                      help="the source family (default: detected from the key names)")
    port.add_argument("--verify", action=argparse.BooleanOptionalAction, default=True,
                      help="compare both models stage by stage before writing (default on)")
    port.add_argument("--force", action="store_true", help="overwrite OUT")
    port.add_argument("--drop-ctc-head", action="store_true",
                      help="leave a hybrid's CTC head behind (targets without one: Myrtle)")
    _precision_option(port)
    _checkpoint_reading_options(port)

    forward = commands.add_parser(
        "forward", help="a checkpoint's stage outputs on given inputs, as .npz",
        description="Run CKPT on IN.npz (features and feature_lengths, or encoder and "
                    "encoder_lengths for heads-only families; labels and label_lengths) and "
                    "write OUT.npz: encoder, encoder_lengths, prediction, joint (raw logits in "
                    "the checkpoint's own vocabulary order), ctc where there is a CTC head, "
                    "blank. Dump the same stages from your own code and run `compare "
                    "--against OUT.npz --inputs IN.npz CKPT`.")
    forward.add_argument("checkpoint", type=Path, metavar="CKPT")
    forward.add_argument("--inputs", type=Path, required=True, metavar="IN.npz")
    forward.add_argument("--out", type=Path, required=True, metavar="OUT.npz")
    forward.add_argument("--family", choices=FAMILY_NAMES)
    forward.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    forward.add_argument("--force", action="store_true", help="overwrite OUT.npz")
    _checkpoint_reading_options(forward)

    models = commands.add_parser(
        "compare", help="two checkpoints' models, stage by stage (or one against dumped "
                        "stages: --against)")
    models.add_argument("checkpoint_a", type=Path, metavar="A")
    models.add_argument("checkpoint_b", type=Path, metavar="B", nargs="?")
    models.add_argument("--against", type=Path, metavar="OUT.npz",
                        help="stages another codebase computed on --inputs (see `forward`)")
    models.add_argument("--inputs", type=Path, metavar="IN.npz",
                        help="with --against: the inputs the stages were computed on")
    models.add_argument("--their-precision", choices=("float64", "float32"),
                        help="with --against: the precision the other codebase computed in "
                             "(default: the dumped arrays' dtype; a float32 run saved as "
                             "float64 needs float32)")
    models.add_argument("--family-a", choices=FAMILY_NAMES)
    models.add_argument("--family-b", choices=FAMILY_NAMES)
    models.add_argument("--config-a", type=Path, help="A's native config")
    models.add_argument("--config-b", type=Path, help="B's native config")
    models.add_argument("--padded", action="store_true",
                        help="make the second utterance half length (checks padding)")
    models.add_argument("--json", type=Path, metavar="OUT.json",
                        help="write every verdict (stage, precision, region, largest error, "
                             "its index and values, bound and rule) as JSON")
    models.add_argument("--force", action="store_true", help="overwrite --json")
    _precision_option(models)
    _assume_options(models)

    _wer_drift_parser(commands)
    _conform_parser(commands)
    fsdd = commands.add_parser("fsdd", help="held-out FSDD digit utterances")
    fsdd_commands = fsdd.add_subparsers(dest="fsdd_command", required=True)
    build = fsdd_commands.add_parser(
        "build", help="write held-out utterances (16 kHz FLAC) and both manifest formats")
    build.add_argument("out", type=Path)
    build.add_argument("--seen", type=int, default=150,
                       help="utterances of the four seen speakers (default 150)")
    build.add_argument("--unseen", type=int, default=50,
                       help="utterances of the held-out speaker (default 50)")
    build.add_argument("--seed-offset", type=int, default=0,
                       help="draw a different set from the same recordings")
    build.add_argument("--force", action="store_true")

    front_ends = commands.add_parser("features", help="front-end comparisons")
    front_end_commands = front_ends.add_subparsers(dest="features_command", required=True)
    compare = front_end_commands.add_parser(
        "compare", help="run two front ends on one audio file and report their difference")
    compare.add_argument("audio", type=Path, help="audio file (WAV, FLAC, ...)")
    compare.add_argument("--a", required=True, metavar="SOURCE", choices=FEATURE_SOURCES,
                         help="first front end: a preset, or lib:PRESET")
    compare.add_argument("--b", required=True, metavar="SOURCE", choices=FEATURE_SOURCES,
                         help="second front end")
    compare.add_argument("--n-mels", type=_positive_int, help="mel bins for both sides")
    compare.add_argument("--sample-rate", type=_positive_int, default=16000,
                         help="rate the front ends expect (default 16000)")
    compare.add_argument("--resample", action="store_true",
                         help="resample audio at another rate instead of refusing it")
    compare.add_argument("--channel", type=int, help="channel of multi-channel audio")
    compare.add_argument("--plot", type=Path, help="write a heatmap of |a - b| to this PNG")
    compare.add_argument("--force", action="store_true", help="overwrite an existing --plot")
    compare.add_argument("--fail-on", action="append", default=[], metavar="RULE",
                         help="exit 1 when snr:DB (the SNR is below DB decibels) or frames "
                              "(the frame counts differ) holds (repeatable)")
    extract = front_end_commands.add_parser(
        "extract", help="each audio file's model input, as a codebase's own config sets it up",
        description="Write DIR/<stem>.npy (float32 rows, time-major, as the codebase's "
                    "evaluation pipeline hands them to its model) and DIR/<stem>.json "
                    "(frames, the length the codebase reports, what was read and assumed) "
                    "for each AUDIO. Dither is never applied.")
    extract.add_argument("audio", type=Path, nargs="+", help="audio files (WAV, FLAC, ...)")
    extract.add_argument("--config", type=Path,
                         help="the codebase's config: Myrtle YAML, myrtlespeech protobuf "
                              "text/binary, NeMo model_config.yaml or .nemo (not needed "
                              "for --family dsi)")
    extract.add_argument("--family", choices=MODEL_INPUT_FAMILIES,
                         help="the codebase (default: told from the config file)")
    extract.add_argument("--revision", help="the codebase revision to read the config as "
                                            "(default: the documented one, printed)")
    extract.add_argument("--out", type=Path, required=True, help="output folder")
    extract.add_argument("--channel", type=int, help="channel of multi-channel audio")
    extract.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                         help="working precision (default float64; the rows are float32)")
    extract.add_argument("--force", action="store_true", help="overwrite existing outputs")
    return parser


def _conform_parser(commands) -> None:
    conform = commands.add_parser(
        "conform", help="run the suite against your implementation",
        description="Run every check, fixture and oracle search against an implementation "
                    "and write conformance.json/.md; `--catalogue` runs the kit against every "
                    "catalogued real-world bug and prints the catch rate.")
    conform.add_argument("--catalogue", action="store_true",
                         help="run the known-bug catalogue (fixtures/known_bugs)")
    conform.add_argument("--only", nargs="+", metavar="NAME",
                         help="with --catalogue: these entries only")
    kinds = conform.add_subparsers(dest="conform_command")
    helps = {"rnnt-loss": "an RNN-T loss: loss(logits, targets, logit_lengths, target_lengths)",
             "ctc-loss": "a CTC loss: loss(log_probs, targets, input_lengths, target_lengths)",
             "rnnt-greedy": "a greedy decoder: decode(model, encodings, lengths, max_symbols)",
             "rnnt-beam": "a beam search: search(model, encodings, length, beam, max_length)",
             "tdt-greedy": "a greedy TDT decoder: decode(model, encodings, lengths, "
                           "max_symbols) -> hypotheses with tokens, frames, durations",
             "model": "a model loader: load(checkpoint_path) -> torch.nn.Module",
             "features": "a front end: front_end(signal, sample_rate) -> (T, F) rows"}
    for kind, text in helps.items():
        sub = kinds.add_parser(kind, help=text)
        sub.add_argument("target", metavar="PKG.MODULE:CALLABLE")
        if kind.endswith("-loss"):
            presets = "torchaudio, warprnnt, nemo" if kind == "rnnt-loss" else "torch"
            sub.add_argument("--convention", default="auto",
                             help=f"auto (probe it), a preset ({presets}), or a JSON file")
            sub.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                             help="where the callable runs (default cpu; cuda adds the "
                                  "CPU-vs-CUDA path check)")
            sub.add_argument("--framework", default="auto",
                             help="the callable's framework: auto (from its module; the "
                                  "default), torch, numpy (it returns (loss, grad)), jax or "
                                  "tensorflow")
        if kind == "model":
            sub.add_argument("--checkpoint", type=Path, required=True)
            sub.add_argument("--family", choices=FAMILY_NAMES,
                             help="the checkpoint's family (default: detected)")
            _assume_options(sub)
        if kind == "features":
            sub.add_argument("--preset", help="reference preset the rows must equal")
            sub.add_argument("--model-input", type=Path,
                             help="JSON of ModelInput fields (preset source, stacking, context)")
        if kind != "model":
            sub.add_argument("--profile", choices=["ci", "dev", "thorough"], default="ci",
                             help="hypothesis profile of the search (default ci)")
        sub.add_argument("--out", type=Path, required=True, help="report folder")
        sub.add_argument("--force", action="store_true")


def run_conform(args) -> int:
    """`rnnt-parity conform`: 0 when every check passes, 1 otherwise."""
    if args.catalogue:
        from rnnt_parity.conform.catalogue import run_catalogue

        return 0 if run_catalogue(args.only).all_as_expected else 1
    from rnnt_parity.conform.report import render_markdown, write_conformance_report
    from rnnt_parity.conform.run import KINDS, OPTIONS, conform

    if args.conform_command is None:
        raise ValueError(f"conform needs a kind ({', '.join(KINDS)}) or --catalogue")
    options = {k: v for k, v in vars(args).items() if k in OPTIONS}
    if args.conform_command == "model":
        options["assume"] = _statements(args)
    report = conform(args.conform_command, args.target, **options)
    write_conformance_report(report, args.out, args.force)
    print(render_markdown(report).split("## Shrunk")[0].rstrip())
    return 0 if report.passed else 1


def _wer_drift_parser(commands) -> None:
    drift = commands.add_parser(
        "wer-drift", help="did a change move WER? two systems on one manifest, with statistics",
        description="Compare two systems (or hypothesis files) on a manifest: WER, S/D/I, "
                    "paired bootstrap interval, sign test, identity rate, per speaker. "
                    "`wer-drift merge SHARD...` combines --shard outputs.")
    drift.add_argument("merge", nargs="?", choices=["merge"], help=argparse.SUPPRESS)
    drift.add_argument("shards", nargs="*", type=Path, help="shard files (with merge)")
    drift.add_argument("--manifest", type=Path,
                       help="Myrtle .json or NeMo .jsonl manifest")
    for side in ("a", "b"):
        drift.add_argument(f"--system-{side}", type=Path, help=f"system {side.upper()} (JSON)")
        drift.add_argument(f"--hyp-{side}", type=Path,
                           help=f"system {side.upper()}'s hypotheses (JSONL id/text)")
    drift.add_argument("--out", type=Path, required=True, help="report folder")
    drift.add_argument("--fail-on", action="append", default=[], metavar="RULE",
                       help="abs:X%%, rel:X%%, identity:X%% or ci; repeatable")
    drift.add_argument("--shard", help="decode shard i/n only (0-based) and write its file")
    drift.add_argument("--distributed", action="store_true",
                       help="under torchrun: one shard per rank, rank 0 reports")
    drift.add_argument("--replicates", type=_positive_int, default=10_000,
                       help="bootstrap draws (default 10000)")
    drift.add_argument("--no-progress", action="store_true")
    drift.add_argument("--force", action="store_true", help="overwrite existing report files")


def run_wer_drift(args) -> int:
    from rnnt_parity.wer.gate import parse_threshold
    from rnnt_parity.wer.run import SideSource, parse_shard, run_distributed, run_drift, run_merge

    thresholds = [parse_threshold(text) for text in args.fail_on]
    if args.merge:
        return run_merge(args.shards, args.out, thresholds, args.replicates, args.force)
    if args.shards:
        raise ValueError(f"unexpected arguments {[str(s) for s in args.shards]} (shard files "
                         "go after `merge`)")
    if args.manifest is None:
        raise ValueError("--manifest is required")
    a = SideSource(args.system_a, args.hyp_a)
    b = SideSource(args.system_b, args.hyp_b)
    if args.distributed:
        return run_distributed(args.manifest, a, b, args.out, thresholds, args.replicates,
                               args.force)
    shard = parse_shard(args.shard) if args.shard else None
    return run_drift(args.manifest, a, b, args.out, thresholds, shard, args.replicates,
                     args.force, not args.no_progress)


def format_table(rows, columns) -> str:
    widths = [max(len(title), *(len(row[i]) for row in rows)) for i, title in enumerate(columns)]
    lines = ["  ".join(title.ljust(w) for title, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    return "\n".join(lines)


def _number(value) -> str:
    return "-" if value is None else f"{value:.2e}"


def run_bench_loss(args) -> None:
    """`bench loss`: the table, with --tdt the TDT oracle's, the oracle's first-call figures
    (unless --no-first-call),
    with --plot the scaling sweep (its path checked before anything is measured), and with
    --all the CTC and front-end tables and every speed target's verdict."""
    from rnnt_parity import bench
    from rnnt_parity.bench_first_call import format_first_calls, measure_first_calls
    from rnnt_parity.bench_scaling import check_plot_path, run_scaling_sweep

    if args.plot is not None:
        check_plot_path(args.plot, args.force)
    loss_rows = bench.run_loss_benchmark(args.shape or bench.DEFAULT_SHAPES, args.repeats,
                                         rounds=args.rounds)
    if args.tdt:
        print()
        bench.run_tdt_benchmark(args.shape or bench.DEFAULT_SHAPES, args.repeats,
                                rounds=args.rounds)
    if args.first_call:
        print(format_first_calls(measure_first_calls(repeats=args.repeats)))
    if args.plot is not None:
        run_scaling_sweep(args.plot, repeats=args.repeats, force=args.force)
    if args.all:
        from rnnt_parity.bench_targets import target_lines
        from rnnt_parity.frontends.bench import run_features_benchmark

        print()
        ctc_rows = bench.run_ctc_benchmark(repeats=args.repeats)
        print()
        feature_seconds = run_features_benchmark()
        print()
        print("targets:")
        for line in target_lines(loss_rows, ctc_rows, feature_seconds):
            print(line)


def run_check(args) -> int:
    from rnnt_parity.checks import DEVIATES, FAIL, SKIP, available_devices, run_checks
    from rnnt_parity.fixtures import load_audio_fixtures, load_ctc_fixtures, load_rnnt_fixtures

    for name in args.backend or []:
        if name not in BACKEND_NAMES:
            print(f"rnnt-parity: unknown backend {name!r}; known: {list(BACKEND_NAMES)}",
                  file=sys.stderr)
            return 2
    fixtures = load_rnnt_fixtures(args.fixtures / "rnnt")
    ctc_fixtures = load_ctc_fixtures(args.fixtures / "ctc")
    audio = load_audio_fixtures(args.fixtures / "audio")
    devices = args.device or available_devices()
    if (args.require_gpu or "cuda" in devices) and "cuda" not in available_devices():
        if args.require_gpu:
            print("rnnt-parity: --require-gpu: CUDA is not available", file=sys.stderr)
            return 1
        print("note: CUDA is not available: every cuda row skips (--require-gpu fails "
              "instead)")
    if args.require_gpu and "cuda" not in devices:
        devices = [*devices, "cuda"]
    goldens = args.fixtures / "goldens" / "frontends"
    results = []
    for result in run_checks(fixtures, backends=args.backend, devices=devices,
                             ctc_fixtures=ctc_fixtures, audio=audio,
                             goldens=goldens if goldens.is_dir() else None):
        results.append(result)
        step(result.check)
    rows = [(r.check, r.implementations, _number(r.max_abs), _number(r.max_rel), r.tolerance,
             r.verdict + (f" ({r.detail})" if r.detail else "")) for r in results]
    print(format_table(rows, ("check", "implementations", "max abs err", "max rel err",
                              "tolerance", "verdict")))
    failed = sum(r.verdict == FAIL for r in results)
    skipped = sum(r.verdict == SKIP for r in results)
    deviating = sum(r.verdict == DEVIATES for r in results)
    print(f"\n{len(results) - failed - skipped - deviating} passed, {failed} failed, "
          f"{skipped} skipped, {deviating} deviate as their library is documented to "
          f"({len(fixtures)} RNN-T and {len(ctc_fixtures)} CTC fixtures and {len(audio)} "
          f"utterances, {sum(r.check.startswith('model input') for r in results)} golden "
          f"model-input sets from {args.fixtures})")
    return 1 if failed else 0


def _precision_option(parser) -> None:
    parser.add_argument(
        "--precision", action="append", default=[], choices=("float32", "bfloat16", "float16"),
        help="also verify in this precision, under a bound measured on the same models "
             "(repeatable; float64 and the weights' own precision always run)")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    with activity(f"rnnt-parity {args.command}"):
        return _run(args)


def _run(args) -> int:
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "inspect":
            from rnnt_parity.port import format_inspection, inspect_checkpoint

            inspection = inspect_checkpoint(args.checkpoint, args.family, args.ema,
                                            _statements(args), args.config)
            print(format_inspection(inspection, args.checkpoint))
            return 1 if inspection.damaged else 0
        if args.command == "port":
            from rnnt_parity.port import port_checkpoint

            port_checkpoint(args.source, args.target, args.to_family, args.from_family,
                            args.verify, args.force, args.ema, _statements(args),
                            config=args.config, drop_ctc_head=args.drop_ctc_head,
                            precisions=args.precision)
            return 0
        if args.command == "forward":
            from rnnt_parity.forward import forward_checkpoint

            forward_checkpoint(args.checkpoint, args.inputs, args.out, args.family, args.config,
                               args.ema, _statements(args), args.dtype, args.force)
            return 0
        if args.command == "compare" and (args.against or args.checkpoint_b is None):
            from rnnt_parity.forward import compare_against

            if not (args.against and args.inputs) or args.checkpoint_b is not None:
                raise ValueError("compare takes two checkpoints, or one with --against OUT.npz "
                                 "and --inputs IN.npz")
            report = compare_against(args.checkpoint_a, args.inputs, args.against,
                                     args.family_a, args.config_a, assume=_statements(args),
                                     their_precision=args.their_precision)
            return 0 if report.first_divergence is None else 1
        if args.command == "compare":
            from rnnt_parity.files import refuse_to_overwrite, write_json_atomically
            from rnnt_parity.port import compare_checkpoints

            if args.their_precision is not None:
                raise ValueError("--their-precision is for --against (another codebase's "
                                 "dumped stages); two checkpoints take --precision")

            if args.json is not None:
                refuse_to_overwrite(args.json, args.force)
            report = compare_checkpoints(args.checkpoint_a, args.checkpoint_b, args.family_a,
                                         args.family_b, args.padded, config_a=args.config_a,
                                         config_b=args.config_b, assume=_statements(args),
                                         precisions=args.precision)
            if args.json is not None:
                write_json_atomically(args.json, report.as_json(), args.force)
                print(f"wrote {args.json}")
            return 0 if report.passed else 1
        if args.command == "wer-drift":
            return run_wer_drift(args)
        if args.command == "conform":
            return run_conform(args)
        if args.command == "fsdd":
            from rnnt_parity.corpus.fsdd import held_out_utterances, write_utterances

            paths = write_utterances(held_out_utterances(args.seen, args.unseen,
                                                         seed_offset=args.seed_offset),
                                     args.out, args.force)
            print(f"{args.seen + args.unseen} utterances -> {', '.join(map(str, paths))}")
            return 0
        if args.command == "features" and args.features_command == "extract":
            from rnnt_parity.frontends.extract import extract_files

            extract_files(args.config, args.audio, args.out, args.family, args.revision,
                          args.channel, args.force, args.dtype)
            return 0
        if args.command == "features":
            from rnnt_parity.frontends.compare import feature_gate_failures, parse_feature_gate
            from rnnt_parity.frontends.report import compare_file

            rules = [parse_feature_gate(text) for text in args.fail_on]
            comparison = compare_file(args.audio, args.a, args.b, args.n_mels,
                                      args.sample_rate, args.resample, args.channel, args.plot,
                                      args.force)
            failed = feature_gate_failures(comparison, rules)
            for line in failed:
                print(f"features gate failed: {line}")
            if not rules:
                print("no --fail-on given: a report, not a verdict (exit status 0)")
            return 1 if failed else 0
        from rnnt_parity import bench

        if args.benchmark == "decode":
            from rnnt_parity.wer.bench import run_decode_benchmark

            run_decode_benchmark(args.utterances)
        elif args.benchmark == "port":
            from rnnt_parity.port_bench import run_port_benchmark

            run_port_benchmark(args.config)
        elif args.benchmark == "features":
            from rnnt_parity.frontends.bench import run_features_benchmark

            run_features_benchmark(args.seconds, args.repeats, args.rounds)
        elif args.benchmark == "loss":
            run_bench_loss(args)
        else:
            bench.run_ctc_benchmark(args.shape or bench.DEFAULT_CTC_SHAPES, args.repeats)
        return 0
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        print(f"rnnt-parity: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
