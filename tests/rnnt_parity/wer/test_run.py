"""`rnnt-parity wer-drift` end to end on the tiny model: sharding, merging, gating, bad input."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from rnnt_parity.cli import main
from rnnt_parity.corpus.fsdd import held_out_utterances, write_utterances
from rnnt_parity.models.tiny import TINY_CHECKPOINT


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("drift")
    write_utterances(held_out_utterances(9, 3), folder / "data")
    for name, decoder in (("greedy", {"kind": "rnnt_greedy"}),
                          ("budget1", {"kind": "rnnt_greedy", "max_symbols_per_frame": 1}),
                          ("ctc", {"kind": "ctc_greedy"})):
        (folder / f"{name}.json").write_text(json.dumps({"checkpoint": str(TINY_CHECKPOINT),
                                                         "decoder": decoder}))
    return folder


def _drift(data, out, a="greedy", b="ctc", *extra):
    return main(["wer-drift", "--manifest", str(data / "data" / "manifest.json"),
                 "--system-a", str(data / f"{a}.json"), "--system-b", str(data / f"{b}.json"),
                 "--out", str(out), "--replicates", "500", "--no-progress", *extra])


def free_port() -> int:
    """A TCP port nothing listens on now (a fixed one can still be held by an earlier run's
    socket in TIME_WAIT, which made this test fail under load)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _report(folder):
    return json.loads((folder / "report.json").read_text())


def test_same_system_on_both_sides_reports_no_drift(data, tmp_path):
    assert _drift(data, tmp_path, "greedy", "greedy", "--fail-on", "identity:100%") == 0
    report = _report(tmp_path)
    assert report["identity"]["rate"] == 1.0 and report["wer"]["delta"] == 0.0
    assert report["conditions"]["differences"] == []
    assert "No drift" in (tmp_path / "report.md").read_text()


def test_sharded_then_merged_equals_unsharded_exactly(data, tmp_path):
    assert _drift(data, tmp_path / "whole") == 0
    for index in range(3):
        assert _drift(data, tmp_path / "parts", "greedy", "ctc", "--shard", f"{index}/3") == 0
    shards = [str(tmp_path / "parts" / f"shard-{i}-of-3.json") for i in range(3)]
    assert main(["wer-drift", "merge", *shards, "--out", str(tmp_path / "merged"),
                 "--replicates", "500"]) == 0
    assert _report(tmp_path / "merged") == _report(tmp_path / "whole")


def test_merge_refuses_a_missing_or_repeated_shard(data, tmp_path):
    for index in range(2):
        _drift(data, tmp_path, "greedy", "ctc", "--shard", f"{index}/2")
    first = str(tmp_path / "shard-0-of-2.json")
    assert main(["wer-drift", "merge", first, "--out", str(tmp_path / "m")]) == 2
    assert main(["wer-drift", "merge", first, first, "--out", str(tmp_path / "m")]) == 2
    assert not (tmp_path / "m" / "report.json").exists()


def test_gate_exits_one_when_a_threshold_is_exceeded(data, tmp_path, capsys):
    status = _drift(data, tmp_path, "greedy", "budget1", "--fail-on", "abs:0%",
                    "--fail-on", "identity:100%")
    report = _report(tmp_path)
    assert report["conditions"]["differences"] == [
        {"field": "decoder.max_symbols_per_frame", "a": 30, "b": 1}]
    exceeded = report["wer"]["delta"] > 0 or report["identity"]["rate"] < 1
    assert exceeded and status == 1
    assert "wer-drift gate failed" in capsys.readouterr().out


def test_the_gate_verdict_is_in_every_report_file(data, tmp_path, capsys):
    assert _drift(data, tmp_path, "greedy", "budget1", "--fail-on", "identity:100%") == 1
    gate = _report(tmp_path)["gate"]
    assert gate["fail_on"] == ["identity:100%"] and not gate["passed"]
    line = "Gate (identity:100%): FAILED: identity:100%: "
    assert gate["failures"][0].startswith("identity:100%: ")
    assert line in (tmp_path / "report.md").read_text()
    assert line in (tmp_path / "report.html").read_text()
    assert _drift(data, tmp_path / "same", "greedy", "greedy", "--fail-on", "abs:0.5%") == 0
    assert "Gate (abs:0.5%): passed." in (tmp_path / "same" / "report.md").read_text()
    assert _drift(data, tmp_path / "none", "greedy", "greedy") == 0
    assert "Gate: no --fail-on threshold was given." in \
        (tmp_path / "none" / "report.md").read_text()


def test_bad_entries_are_skipped_listed_and_counted(data, tmp_path):
    audio = data / "data" / "audio"
    shutil.copy(audio / sorted(os.listdir(audio))[0], tmp_path / "fine.flac")
    soundfile.write(tmp_path / "slow.flac", np.zeros(8000), 8000)
    (tmp_path / "junk.flac").write_bytes(b"not audio")
    rows = [("fine.flac", "one"), ("absent.flac", "two"), ("slow.flac", "three"),
            ("junk.flac", "four"), ("fine.flac", "")]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps({"audio_filepath": f, "text": t, "duration": 1.0,
                                            "utt_id": f"e{k}"}) + "\n"
                                for k, (f, t) in enumerate(rows)))
    assert main(["wer-drift", "--manifest", str(manifest), "--system-a",
                 str(data / "greedy.json"), "--system-b", str(data / "greedy.json"),
                 "--out", str(tmp_path / "r"), "--no-progress", "--replicates", "100"]) == 0
    report = _report(tmp_path / "r")
    assert (report["scored"], report["total"]) == (1, 5)
    reasons = {s["id"]: s["reason"] for s in report["skipped"]}
    assert "no audio file" in reasons["e1"]
    assert "8000 Hz; expected 16000 Hz" in reasons["e2"]
    assert "cannot be read as audio" in reasons["e3"]
    assert "empty transcript" in reasons["e4"]


def test_both_or_neither_source_for_a_side_is_refused(data, tmp_path, capsys):
    status = main(["wer-drift", "--manifest", str(data / "data" / "manifest.json"),
                   "--system-a", str(data / "greedy.json"), "--hyp-a", "h.jsonl",
                   "--system-b", str(data / "greedy.json"), "--out", str(tmp_path)])
    assert status == 2 and "exactly one of --system-X or --hyp-X" in capsys.readouterr().err


def test_nemo_and_myrtle_manifests_give_the_same_report(data, tmp_path):
    for suffix in ("json", "jsonl"):
        assert main(["wer-drift", "--manifest", str(data / "data" / f"manifest.{suffix}"),
                     "--system-a", str(data / "greedy.json"), "--system-b",
                     str(data / "ctc.json"), "--out", str(tmp_path / suffix), "--no-progress",
                     "--replicates", "200"]) == 0
    assert _report(tmp_path / "json")["utterances"] == _report(tmp_path / "jsonl")["utterances"]


@pytest.mark.skipif(shutil.which("torchrun") is None and not os.path.exists(
    os.path.join(os.path.dirname(sys.executable), "torchrun")), reason="torchrun not found")
def test_torchrun_ranks_gather_into_the_unsharded_report(data, tmp_path):
    assert _drift(data, tmp_path / "whole") == 0
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    subprocess.run([torchrun, "--nproc-per-node", "2", "--master-port", str(free_port()), "-m",
                    "rnnt_parity.cli", "wer-drift", "--distributed", "--manifest",
                    str(data / "data" / "manifest.json"), "--system-a",
                    str(data / "greedy.json"), "--system-b", str(data / "ctc.json"), "--out",
                    str(tmp_path / "ranks"), "--replicates", "500"],
                   check=True, capture_output=True, timeout=3600)
    assert _report(tmp_path / "ranks") == _report(tmp_path / "whole")


def test_a_hypothesis_file_can_be_sharded_like_a_system(data, tmp_path):
    assert _drift(data, tmp_path / "whole") == 0
    hypotheses = str(tmp_path / "whole" / "hypotheses_b.jsonl")
    for index in range(2):
        assert main(["wer-drift", "--manifest", str(data / "data" / "manifest.json"),
                     "--system-a", str(data / "greedy.json"), "--hyp-b", hypotheses,
                     "--out", str(tmp_path / "parts"), "--shard", f"{index}/2",
                     "--no-progress"]) == 0
    shards = [str(tmp_path / "parts" / f"shard-{i}-of-2.json") for i in range(2)]
    assert main(["wer-drift", "merge", *shards, "--out", str(tmp_path / "merged"),
                 "--replicates", "500"]) == 0
    merged, whole = _report(tmp_path / "merged"), _report(tmp_path / "whole")
    assert merged["utterances"] == whole["utterances"] and merged["wer"] == whole["wer"]


def test_two_systems_with_one_model_input_read_each_audio_file_once(data, tmp_path,
                                                                    monkeypatch):
    from rnnt_parity.wer import transcribe as transcribe_module

    reads = []
    original = transcribe_module.load_audio

    def counting(path, *args):
        reads.append(path)
        return original(path, *args)

    monkeypatch.setattr(transcribe_module, "load_audio", counting)
    assert _drift(data, tmp_path, "greedy", "ctc") == 0
    assert len(reads) == len(set(reads)) == _report(tmp_path)["total"]
