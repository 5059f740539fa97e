"""`rnnt-parity wer-drift`: decode (or read) both sides, compare, report, gate.

Scale-out: `--shard i/n` decodes entries i, i+n, i+2n, ... and writes `shard-i-of-n.json`
(both sides' hypotheses and skips, the manifest's sha256, both conditions);
`wer-drift merge` checks that the n shards belong together and are all there, then reports
exactly as an unsharded run would (the report depends only on the hypotheses). Under
`torchrun`, `--distributed` makes each rank one shard (gloo on the CPU) and rank 0 gathers
them into the one report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rnnt_parity.checkpoints import file_sha256
from rnnt_parity.corpus.manifests import Entry, read_manifest
from rnnt_parity.files import atomic_output
from rnnt_parity.wer.drift import Side, compare_hypotheses, read_hypotheses, write_hypotheses
from rnnt_parity.wer.gate import Threshold, failures
from rnnt_parity.wer.report import write_report
from rnnt_parity.wer.system import System, SystemSpec
from rnnt_parity.wer.transcribe import transcribe

SHARD_FORMAT = "rnnt-parity-wer-shard/1"


@dataclass(frozen=True)
class SideSource:
    """A system file or a hypothesis file (exactly one)."""

    system: Path | None = None
    hypotheses: Path | None = None

    def __post_init__(self):
        if (self.system is None) == (self.hypotheses is None):
            raise ValueError("each side needs exactly one of --system-X or --hyp-X")


def parse_shard(text: str) -> tuple[int, int]:
    """"i/n" with 0 <= i < n."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError as error:
        raise ValueError(f"--shard {text!r}: expected i/n, e.g. 0/4") from error
    if not 0 <= index < count:
        raise ValueError(f"--shard {text!r}: need 0 <= i < n")
    return index, count


def produce_sides(a: SideSource, b: SideSource, entries: list[Entry], progress: bool,
                  manifest: list[Entry] | None = None) -> tuple[Side, Side]:
    """Sides A and B on `entries`, a shard of `manifest` (default: the whole manifest). A
    hypothesis file is checked against the whole manifest, then cut to the shard; two
    systems share their model inputs when they compute the same ones."""
    cache: dict = {}

    def side(source: SideSource, name: str) -> Side:
        if source.hypotheses is not None:
            read = read_hypotheses(source.hypotheses, manifest or entries)
            ids = {e.id for e in entries}
            return Side(read.conditions,
                        {k: v for k, v in read.hypotheses.items() if k in ids},
                        {k: v for k, v in read.skipped.items() if k in ids})
        system = System(SystemSpec.from_file(source.system))
        hypotheses, skipped = transcribe(system, entries, f"system {name}", progress, cache)
        return Side(system.conditions(), hypotheses, skipped)

    return side(a, "A"), side(b, "B")


def _shard_record(manifest: Path, total: int, shard: tuple[int, int], a: Side,
                  b: Side) -> dict:
    return {"format": SHARD_FORMAT, "manifest": str(manifest),
            "manifest_sha256": file_sha256(manifest), "total": total, "shard": list(shard),
            "sides": {name: {"conditions": s.conditions, "hypotheses": s.hypotheses,
                             "skipped": s.skipped} for name, s in (("a", a), ("b", b))}}


def _finish(entries: list[Entry], a: Side, b: Side, out: Path, thresholds: list[Threshold],
            replicates: int, force: bool) -> int:
    report = compare_hypotheses(entries, a, b, replicates)
    failed = failures(report, thresholds)
    report["gate"] = {"fail_on": [rule.text for rule in thresholds], "passed": not failed,
                      "failures": failed}
    write_report(report, out, force)
    for name, side in (("a", a), ("b", b)):
        write_hypotheses(out / f"hypotheses_{name}.jsonl", side.hypotheses, entries)
    wer = report["wer"]
    print(f"scored {report['scored']} of {report['total']}: WER A {100 * wer['a']['wer']:.2f}%, "
          f"B {100 * wer['b']['wer']:.2f}%, delta {100 * wer['delta']:+.3f} points, 95% CI "
          f"[{100 * report['bootstrap']['delta_ci95'][0]:+.3f}, "
          f"{100 * report['bootstrap']['delta_ci95'][1]:+.3f}], identical "
          f"{100 * report['identity']['rate']:.1f}%; report in {out}")
    for line in failed:
        print(f"wer-drift gate failed: {line}")
    return 1 if failed else 0


def run_drift(manifest: Path, a: SideSource, b: SideSource, out: Path,
              thresholds: list[Threshold], shard: tuple[int, int] | None = None,
              replicates: int = 10_000, force: bool = False, progress: bool = True) -> int:
    """The whole command; returns its exit status (1 when a threshold is exceeded)."""
    entries = read_manifest(manifest)
    if shard is None:
        side_a, side_b = produce_sides(a, b, entries, progress)
        return _finish(entries, side_a, side_b, out, thresholds, replicates, force)
    mine = entries[shard[0]::shard[1]]
    record = _shard_record(manifest, len(entries), shard,
                           *produce_sides(a, b, mine, progress, entries))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"shard-{shard[0]}-of-{shard[1]}.json"
    with atomic_output(path, force) as temporary:
        temporary.write_text(json.dumps(record))
    print(f"shard {shard[0]}/{shard[1]}: {len(mine)} of {len(entries)} entries -> {path}")
    return 0


def merge_records(records: list[dict], where: list[str]) -> tuple[Path, Side, Side]:
    """Check that shard records form one complete run; (manifest, side A, side B)."""
    if not records:
        raise ValueError("merge needs at least one shard file")
    for record, name in zip(records, where, strict=True):
        if not isinstance(record, dict) or record.get("format") != SHARD_FORMAT:
            raise ValueError(f"{name}: not a wer-drift shard file")
    first = records[0]
    count = first["shard"][1]
    for key in ("manifest_sha256", "total"):
        values = {r[key] for r in records}
        if len(values) != 1:
            raise ValueError(f"the shards disagree on {key}: {sorted(map(str, values))}")
    for side in ("a", "b"):
        if any(r["sides"][side]["conditions"] != first["sides"][side]["conditions"]
               for r in records):
            raise ValueError(f"the shards ran different conditions for system {side.upper()}")
    indices = sorted(r["shard"][0] for r in records)
    if {r["shard"][1] for r in records} != {count} or indices != list(range(count)):
        raise ValueError(f"expected shards 0..{count - 1} of {count} once each, got {indices}")
    sides = []
    for side in ("a", "b"):
        hypotheses, skipped = {}, {}
        for record in records:
            hypotheses.update(record["sides"][side]["hypotheses"])
            skipped.update(record["sides"][side]["skipped"])
        sides.append(Side(first["sides"][side]["conditions"], hypotheses, skipped))
    manifest = Path(first["manifest"])
    if not manifest.is_file() or file_sha256(manifest) != first["manifest_sha256"]:
        raise ValueError(f"{manifest} is missing or changed since the shards were decoded")
    return manifest, sides[0], sides[1]


def run_merge(shards: list[Path], out: Path, thresholds: list[Threshold],
              replicates: int = 10_000, force: bool = False) -> int:
    records = []
    for path in shards:
        if not path.is_file():
            raise FileNotFoundError(f"no shard file at {path}")
        try:
            records.append(json.loads(path.read_text()))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error})") from error
    manifest, a, b = merge_records(records, [str(p) for p in shards])
    return _finish(read_manifest(manifest), a, b, out, thresholds, replicates, force)


def run_distributed(manifest: Path, a: SideSource, b: SideSource, out: Path,
                    thresholds: list[Threshold], replicates: int = 10_000,
                    force: bool = False) -> int:
    """One shard per torchrun rank (gloo); rank 0 gathers, reports and gates."""
    import torch.distributed as dist

    dist.init_process_group("gloo")
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        entries = read_manifest(manifest)
        mine = entries[rank::world]
        record = _shard_record(manifest, len(entries), (rank, world),
                               *produce_sides(a, b, mine, rank == 0, entries))
        gathered = [None] * world
        dist.all_gather_object(gathered, record)
        if rank != 0:
            return 0
        manifest, side_a, side_b = merge_records(gathered, [f"rank {r}" for r in range(world)])
        return _finish(entries, side_a, side_b, out, thresholds, replicates, force)
    finally:
        dist.destroy_process_group()
