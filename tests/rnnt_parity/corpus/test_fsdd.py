"""FSDD utterances: the split never leaks, composition is deterministic and transcribed."""

import numpy as np
import pytest
import soundfile

from rnnt_parity.corpus.fsdd import (
    DIGIT_WORDS,
    FIXTURE_RECORDINGS,
    HELD_OUT_SPEAKER,
    compose_utterances,
    held_out_recordings,
    held_out_utterances,
    list_recordings,
    training_recordings,
    write_utterances,
)
from rnnt_parity.corpus.manifests import read_manifest


def test_fixture_holds_the_official_test_split_of_all_five_speakers():
    recordings = list_recordings(FIXTURE_RECORDINGS)
    assert len(recordings) == 5 * 10 * 5
    assert {r.index for r in recordings} == set(range(5))


def test_training_and_held_out_recordings_are_disjoint_and_the_unseen_speaker_never_trains():
    recordings = list_recordings(FIXTURE_RECORDINGS)
    assert training_recordings(recordings) == []
    unseen = held_out_recordings(recordings, unseen=True)
    seen = held_out_recordings(recordings, unseen=False)
    assert {r.speaker for r in unseen} == {HELD_OUT_SPEAKER}
    assert HELD_OUT_SPEAKER not in {r.speaker for r in seen}
    assert len(seen) + len(unseen) == len(recordings)


def test_composition_is_deterministic_and_transcripts_name_the_digits():
    first, second = held_out_utterances(6, 2), held_out_utterances(6, 2)
    assert [u.transcript for u in first] == [u.transcript for u in second]
    assert all(np.array_equal(a.signal, b.signal) for a, b in zip(first, second, strict=True))
    for utterance in first:
        words = utterance.transcript.split()
        assert 1 <= len(words) <= 5 and set(words) <= set(DIGIT_WORDS)
        assert utterance.id.endswith(utterance.speaker)


def test_an_utterance_is_its_recordings_joined_by_gaps():
    recordings = [r for r in list_recordings(FIXTURE_RECORDINGS) if r.speaker == "theo"]
    [utterance] = compose_utterances(recordings, 1, seed=3, prefix="x", max_digits=1)
    digit = DIGIT_WORDS.index(utterance.transcript)
    candidates = [r for r in recordings if r.digit == digit]
    assert any(utterance.signal.shape[0] == 2 * soundfile.info(r.path).frames
               for r in candidates)


def test_written_utterances_read_back_through_both_manifests(tmp_path):
    utterances = held_out_utterances(3, 1)
    json_path, jsonl_path = write_utterances(utterances, tmp_path)
    for manifest in (json_path, jsonl_path):
        entries = read_manifest(manifest)
        assert [e.transcript for e in entries] == [u.transcript for u in utterances]
        assert all(e.audio.is_file() for e in entries)


def test_list_recordings_refuses_a_folder_without_fsdd_names(tmp_path):
    with pytest.raises(ValueError, match="no files named like"):
        list_recordings(tmp_path)
