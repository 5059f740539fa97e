"""Myrtle JSON and NeMo JSONL manifests: round trips, shared ids, errors naming the entry."""

import json

import pytest

from rnnt_parity.corpus.manifests import Entry, read_manifest, write_manifest


def _entries(folder):
    return [Entry("audio/u1", folder / "audio" / "u1.flac", "one two", 1.25, "theo"),
            Entry("audio/u2", folder / "audio" / "u2.flac", "nine", 0.5, "george")]


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_write_then_read_round_trips_every_field(tmp_path, suffix):
    entries = _entries(tmp_path)
    write_manifest(tmp_path / f"m{suffix}", entries, 16000)
    assert read_manifest(tmp_path / f"m{suffix}") == entries


def test_both_formats_give_the_same_ids(tmp_path):
    write_manifest(tmp_path / "m.json", _entries(tmp_path), 16000)
    write_manifest(tmp_path / "m.jsonl", _entries(tmp_path), 16000)
    assert [e.id for e in read_manifest(tmp_path / "m.json")] == \
        [e.id for e in read_manifest(tmp_path / "m.jsonl")]


def test_myrtle_entry_uses_the_speed_one_file(tmp_path):
    item = {"transcript": "one", "original_duration": 1.0,
            "files": [{"fname": "a_fast.wav", "speed": 1.1}, {"fname": "a.wav", "speed": 1}]}
    (tmp_path / "m.json").write_text(json.dumps([item]))
    assert read_manifest(tmp_path / "m.json")[0].audio == tmp_path / "a.wav"


def test_missing_field_is_named_with_its_line(tmp_path):
    (tmp_path / "m.jsonl").write_text('{"audio_filepath": "a.wav", "text": "x", "duration": 1}\n'
                                      '{"audio_filepath": "b.wav", "duration": 1}\n')
    with pytest.raises(ValueError, match="line 2: missing 'text'"):
        read_manifest(tmp_path / "m.jsonl")


def test_malformed_json_is_named_with_its_line(tmp_path):
    (tmp_path / "m.jsonl").write_text('{"audio_filepath": \n')
    with pytest.raises(ValueError, match="line 1: not valid JSON"):
        read_manifest(tmp_path / "m.jsonl")


def test_duplicate_ids_are_refused_with_both_positions(tmp_path):
    line = '{"audio_filepath": "a.wav", "text": "x", "duration": 1}\n'
    (tmp_path / "m.jsonl").write_text(line * 2)
    with pytest.raises(ValueError, match="entries 0 and 1"):
        read_manifest(tmp_path / "m.jsonl")


def test_unknown_suffix_and_missing_file_are_refused(tmp_path):
    (tmp_path / "m.csv").write_text("")
    with pytest.raises(ValueError, match=".json \\(Myrtle\\) or .jsonl \\(NeMo\\)"):
        read_manifest(tmp_path / "m.csv")
    with pytest.raises(FileNotFoundError):
        read_manifest(tmp_path / "absent.json")


def test_write_refuses_to_overwrite_without_force(tmp_path):
    write_manifest(tmp_path / "m.json", _entries(tmp_path), 16000)
    with pytest.raises(FileExistsError):
        write_manifest(tmp_path / "m.json", _entries(tmp_path), 16000)
