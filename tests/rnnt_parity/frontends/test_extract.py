"""`rnnt-parity features extract`: the files it writes, what they hold, and its refusals
(nothing is written on any error)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnnt_parity.cli import main
from rnnt_parity.frontends.goldens import compare_rows, float32_bound, load_golden_set
from rnnt_parity.frontends.native import read_native_input

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = ROOT / "fixtures" / "configs"
TESTING = CONFIGS / "myrtle" / "v1.3.0" / "testing-1023sp.yaml"
RNN_T_EN = CONFIGS / "myrtlespeech" / "24d2df3" / "rnn_t_en.config"
YES = ROOT / "fixtures" / "audio" / "short_yes.flac"
DIGITS = ROOT / "fixtures" / "audio" / "digits_en_us.flac"
EIGHT_KHZ = ROOT / "fixtures" / "fsdd" / "recordings" / "0_george_0.flac"


def extract(*args: str) -> int:
    return main(["features", "extract", *map(str, args)])


def test_writes_rows_and_a_record_per_audio_file(tmp_path, capsys):
    assert extract("--config", TESTING, "--out", tmp_path, YES, DIGITS) == 0
    rows = np.load(tmp_path / "short_yes.npy")
    record = json.loads((tmp_path / "short_yes.json").read_text())
    assert rows.dtype == np.float32 and rows.shape == (26, 240)
    assert (record["frames"], record["length"], record["width"]) == (26, 26, 240)
    assert record["family"] == "myrtle_rnnt" and record["revision"] == "v1.3"
    assert record["dither"] == 0.0 and record["model_input"]["stack"] == 3
    assert (tmp_path / "digits_en_us.npy").is_file()
    out = capsys.readouterr().out
    assert "myrtle_rnnt v1.3" in out and "dither = 1e-05 is not applied" in out


def test_the_rows_written_are_the_real_pipelines(tmp_path):
    golden = load_golden_set("myrtle-v1.3-testing-1023sp")
    assert extract("--config", TESTING, "--out", tmp_path, YES) == 0
    rows = np.load(tmp_path / "short_yes.npy")
    from rnnt_parity.audio import load_audio

    signal, rate = load_audio(YES, 16000)
    bound = float32_bound(golden.native_input().model_input, signal, rate,
                          rows.astype(np.float64))
    assert compare_rows("short_yes", rows, 26, golden.rows["short_yes"],
                        golden.lengths["short_yes"], bound).passed


def test_myrtlespeech_rows_are_channel_major_context_windows_of_every_second_frame(tmp_path):
    assert extract("--config", RNN_T_EN, "--out", tmp_path, YES) == 0
    rows = np.load(tmp_path / "short_yes.npy")
    native = read_native_input(RNN_T_EN)
    frames = native.model_input
    import dataclasses

    from rnnt_parity.audio import load_audio

    plain = dataclasses.replace(frames, context="none", context_frames=0, subsample=1)
    signal, rate = load_audio(YES, 16000)
    x = plain.rows(signal, rate)
    assert rows.shape == (-(-x.shape[0] // 2), 400)
    np.testing.assert_array_equal(rows[3], np.concatenate(x[4:9]))  # frames 6-2 .. 6+2


def test_dsi_needs_no_config_and_is_320_wide(tmp_path):
    assert extract("--family", "dsi", "--out", tmp_path, YES) == 0
    assert np.load(tmp_path / "short_yes.npy").shape[1] == 320


def test_audio_at_another_rate_is_refused_naming_both_rates_and_nothing_is_written(
        tmp_path, capsys):
    assert extract("--config", TESTING, "--out", tmp_path / "o", YES, EIGHT_KHZ) == 2
    err = capsys.readouterr().err
    assert "is at 8000 Hz" in err and "expects 16000 Hz" in err
    assert not (tmp_path / "o").exists()


def test_existing_outputs_are_refused_without_force(tmp_path, capsys):
    assert extract("--config", TESTING, "--out", tmp_path, YES) == 0
    before = (tmp_path / "short_yes.npy").read_bytes()
    assert extract("--config", RNN_T_EN, "--out", tmp_path, YES) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (tmp_path / "short_yes.npy").read_bytes() == before
    assert extract("--config", RNN_T_EN, "--out", tmp_path, YES, "--force") == 0
    assert np.load(tmp_path / "short_yes.npy").shape[1] == 400


def test_two_files_with_one_stem_are_refused(tmp_path, capsys):
    other = tmp_path / "a"
    other.mkdir()
    (other / "short_yes.flac").write_bytes(YES.read_bytes())
    assert extract("--config", TESTING, "--out", tmp_path / "o", YES,
                   other / "short_yes.flac") == 2
    assert "would both write" in capsys.readouterr().err


def test_a_file_that_is_not_audio_is_refused_and_nothing_is_written(tmp_path, capsys):
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    assert extract("--config", TESTING, "--out", tmp_path / "o", YES, text) == 2
    assert "cannot be read as audio" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--config", "missing.yaml"], "no config file at missing.yaml"),
    (["--config", str(CONFIGS / "myrtle" / "v1.14.0" / "testing-1023sp.yaml")], "stats_path"),
    (["--config", str(TESTING), "--revision", "v9"], "unknown Myrtle revision 'v9'"),
    (["--config", str(RNN_T_EN), "--revision", "0000000"], "unknown myrtlespeech revision"),
    (["--family", "myrtle_rnnt"], "a config file is needed"),
    (["--config", str(YES)], "cannot tell the codebase from the suffix '.flac'"),
])
def test_bad_configs_are_refused_in_one_line(tmp_path, capsys, args, message):
    assert extract(*args, "--out", tmp_path / "o", YES) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_float32_working_precision_stays_within_the_golden_bound(tmp_path):
    golden = load_golden_set("myrtle-v1.3-testing-1023sp")
    assert extract("--config", TESTING, "--out", tmp_path, "--dtype", "float32", DIGITS) == 0
    record = json.loads((tmp_path / "digits_en_us.json").read_text())
    assert record["dtype"] == "float32"
    from rnnt_parity.audio import load_audio

    rows = np.load(tmp_path / "digits_en_us.npy")
    signal, rate = load_audio(DIGITS, 16000)
    exact = golden.native_input().model_input.rows(signal, rate).astype(np.float64)
    bound = float32_bound(golden.native_input().model_input, signal, rate, exact)
    assert 0 < np.abs(rows - exact).max() <= bound
