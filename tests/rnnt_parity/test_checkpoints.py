"""Checkpoint reading and writing: containers, prefixes, extras, refusals, atomic writes; the
real codebases' files (fixtures/checkpoints, written by their own save routines); the
tensors-only unpickler; bad files refused in one line."""

from __future__ import annotations

import argparse
import collections
import io
import os
import pickle
import random
import shutil
import tarfile
import warnings
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnt_parity.checkpoint_pickle import UnsafePickleError, read_torch_file
from rnnt_parity.checkpoints import read_checkpoint, write_checkpoint
from rnnt_parity.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "checkpoints"
MYRTLE = FIXTURES / "myrtle"
STATE = {"a.weight": torch.ones(2, 3), "a.bias": torch.zeros(2)}

TRAINING_EXTRAS_V13 = ["best_wer", "epoch", "step"]
TRAINING_EXTRAS_V114 = ["best_wer", "epoch", "logmel_norm_weight", "step", "tokenizer_kw"]
HARDWARE_EXTRAS_V13 = ["best_wer", "epoch", "melalpha", "melmeans", "melvars", "rnnt_config",
                       "sentpiece_model", "step", "version"]
HARDWARE_EXTRAS_V114 = sorted(HARDWARE_EXTRAS_V13 + ["ngram"])
# file -> (kind, pickle protocol, tensors, extras)
REAL_FILES = {
    "myrtle/v1.3.0/lstm.training.pt": ("Myrtle training checkpoint", 2, 19, TRAINING_EXTRAS_V13),
    "myrtle/v1.3.0/hard_lstm.training.pt": ("Myrtle training checkpoint", 2, 19,
                                            TRAINING_EXTRAS_V13),
    "myrtle/v1.3.0/batchnorm_hard_lstm.training.pt": ("Myrtle training checkpoint", 2, 34,
                                                      TRAINING_EXTRAS_V13),
    "myrtle/v1.3.0/enc_batchnorm.training.pt": ("Myrtle training checkpoint", 2, 29,
                                                TRAINING_EXTRAS_V13),
    "myrtle/v1.3.0/lstm.hardware.pt": ("Myrtle hardware checkpoint 1.3.0", 2, 19,
                                       HARDWARE_EXTRAS_V13),
    "myrtle/v1.3.0/hard_lstm.hardware.pt": ("Myrtle hardware checkpoint 1.3.0", 2, 19,
                                            HARDWARE_EXTRAS_V13),
    "myrtle/v1.3.0/batchnorm_hard_lstm.hardware.pt": ("Myrtle hardware checkpoint 1.3.0", 2, 34,
                                                      HARDWARE_EXTRAS_V13),
    "myrtle/v1.3.0/enc_batchnorm.hardware.pt": ("Myrtle hardware checkpoint 1.3.0", 2, 29,
                                                HARDWARE_EXTRAS_V13),
    "myrtle/v1.14.0/lstm.training.pt": ("Myrtle training checkpoint", 5, 19,
                                        TRAINING_EXTRAS_V114),
    "myrtle/v1.14.0/enc_batchnorm.training.pt": ("Myrtle training checkpoint", 5, 29,
                                                 TRAINING_EXTRAS_V114),
    "myrtle/v1.14.0/lstm.hardware.pt": ("Myrtle hardware checkpoint 1.14.0", 5, 19,
                                        HARDWARE_EXTRAS_V114),
    "myrtle/v1.14.0/enc_batchnorm.hardware.pt": ("Myrtle hardware checkpoint 1.14.0", 5, 29,
                                                 HARDWARE_EXTRAS_V114),
    "dsi/dsi_style_tiny.pt": ("deepspeech-internal checkpoint ({'network': ...})", 2, 29, []),
    "../models/nemo/hybrid_char_tiny.nemo": ("NeMo .nemo archive", 2, 67,
                                             ["nemo_model_config_yaml"]),
}


def torch_weights_only(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.load(path, map_location="cpu", weights_only=True)


def assert_same(a, b, where="."):
    """Same structure, types, dtypes, shapes, strides, values (tensors bit for bit)."""
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, torch.Tensor):
        assert (a.dtype, a.shape, a.stride(), a.storage_offset(), a.requires_grad) == \
            (b.dtype, b.shape, b.stride(), b.storage_offset(), b.requires_grad), where
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}{key}.")
        assert getattr(a, "__dict__", {}).keys() == getattr(b, "__dict__", {}).keys(), where
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}{i}.")
    else:
        assert a == b, where


# --- containers ---------------------------------------------------------------------------

def test_plain_state_dict(tmp_path):
    """A bare {key: tensor} reads as a plain state dict with the file's sha256."""
    torch.save(STATE, tmp_path / "s.pt")
    checkpoint = read_checkpoint(tmp_path / "s.pt")
    assert checkpoint.container == "state_dict (plain)" and set(checkpoint.state) == set(STATE)
    assert len(checkpoint.sha256) == 64 and checkpoint.kind == "plain state dict"


def test_myrtle_checkpoint_picks_state_dict_or_ema_and_carries_plain_extras(tmp_path):
    """state_dict by default, ema_state_dict with ema=True; plain entries carried."""
    ema = {k: v + 1 for k, v in STATE.items()}
    torch.save({"state_dict": STATE, "ema_state_dict": ema, "optimizer": {"lr": 0.1},
                "epoch": 7, "melmeans": torch.ones(80), "sentpiece_model": b"\x00sp"},
               tmp_path / "m.pt")
    plain = read_checkpoint(tmp_path / "m.pt")
    assert torch.equal(plain.state["a.weight"], STATE["a.weight"])
    assert sorted(plain.extras) == ["epoch", "melmeans", "sentpiece_model"]
    assert set(plain.dropped) == {"ema_state_dict", "optimizer"}
    averaged = read_checkpoint(tmp_path / "m.pt", ema=True)
    assert torch.equal(averaged.state["a.weight"], ema["a.weight"])
    assert "state_dict" in averaged.dropped


def test_ema_requested_but_absent_is_refused(tmp_path):
    """ema=True on a file without ema_state_dict names the missing key."""
    torch.save({"state_dict": STATE}, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="--ema asked for 'ema_state_dict'"):
        read_checkpoint(tmp_path / "m.pt", ema=True)


def test_ema_state_dict_none_is_dropped_or_refused_with_its_reason(tmp_path):
    """A run without EMA saves ema_state_dict None: dropped as such, refused with ema=True."""
    torch.save({"state_dict": STATE, "ema_state_dict": None, "optimizer": None},
               tmp_path / "m.pt")
    checkpoint = read_checkpoint(tmp_path / "m.pt")
    assert "kept no EMA weights" in checkpoint.dropped["ema_state_dict"]
    assert "without one" in checkpoint.dropped["optimizer"]
    with pytest.raises(ValueError, match="which is None"):
        read_checkpoint(tmp_path / "m.pt", ema=True)


def test_dsi_network_container_and_module_prefix(tmp_path):
    """{'network': ...} with a module. prefix: prefix stripped, fp16 kept."""
    torch.save({"network": {f"module.{k}": v.half() for k, v in STATE.items()}},
               tmp_path / "d.pt")
    checkpoint = read_checkpoint(tmp_path / "d.pt")
    assert checkpoint.container == "network" and checkpoint.prefix == "module."
    assert checkpoint.state["a.weight"].dtype == torch.float16


def test_a_non_tensor_entry_is_refused_naming_it(tmp_path):
    """A plain state dict entry that is not a tensor is named."""
    torch.save({"a.weight": torch.ones(1), "note": "hello"}, tmp_path / "s.pt")
    with pytest.raises(ValueError, match="'note' holds a str, not a tensor"):
        read_checkpoint(tmp_path / "s.pt")


def test_missing_file(tmp_path):
    """Nothing at the path: FileNotFoundError."""
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        read_checkpoint(tmp_path / "none.pt")


def test_hardware_rnnt_config_given_as_yaml_text_is_parsed_to_a_dict(tmp_path):
    """An rnnt_config stored as YAML text is carried as the dict it describes."""
    torch.save({"state_dict": STATE, "melmeans": torch.ones(2), "melvars": torch.ones(2),
                "rnnt_config": "rnnt:\n  in_feats: 12\n"}, tmp_path / "h.pt")
    assert read_checkpoint(tmp_path / "h.pt").extras["rnnt_config"] == {"rnnt": {"in_feats": 12}}


# --- the real files -----------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_each_real_fixture_reads_with_its_container_keys_and_extras(name):
    """Every file written by a real save routine reads: kind, protocol, tensors, extras."""
    kind, protocol, tensors, extras = REAL_FILES[name]
    checkpoint = read_checkpoint(FIXTURES / name)
    assert checkpoint.kind == kind and checkpoint.pickle_protocol == protocol
    assert len(checkpoint.state) == tensors and sorted(checkpoint.extras) == extras
    assert all(isinstance(t, torch.Tensor) for t in checkpoint.state.values())


@pytest.mark.parametrize("version", ["v1.3.0", "v1.14.0"])
def test_myrtle_training_checkpoint_drops_optimizer_and_ema_with_reasons(version):
    """The real Checkpointer's optimizer state is dropped; ema=True reads the EMA weights."""
    path = MYRTLE / version / "lstm.training.pt"
    plain, averaged = read_checkpoint(path), read_checkpoint(path, ema=True)
    assert plain.dropped == {"ema_state_dict": "the weights used are 'state_dict'",
                             "optimizer": "optimizer state belongs to the source's parameter "
                                          "layout"}
    assert averaged.container == "ema_state_dict" and "state_dict" in averaged.dropped
    assert not torch.equal(plain.state["joint_enc.weight"], averaged.state["joint_enc.weight"])


@pytest.mark.parametrize("version", ["v1.3.0", "v1.14.0"])
def test_myrtle_hardware_checkpoint_holds_the_ema_weights_and_plain_extras(version):
    """hardware_ckpt.py copies ema_state_dict; mel stats, alpha, sentencepiece bytes carried."""
    hardware = read_checkpoint(MYRTLE / version / "lstm.hardware.pt")
    averaged = read_checkpoint(MYRTLE / version / "lstm.training.pt", ema=True)
    assert all(torch.equal(hardware.state[k], averaged.state[k]) for k in averaged.state)
    extras = hardware.extras
    assert extras["melmeans"].shape == extras["melvars"].shape == (4,)
    assert isinstance(extras["sentpiece_model"], bytes) and extras["version"] == version[1:]
    assert isinstance(extras["rnnt_config"], dict)
    assert extras["rnnt_config"]["rnnt"]["in_feats"] == 12


def test_v1_3_hardware_rnnt_config_says_the_lstm_is_custom_and_hard():
    """v1.3's rnnt_config (the whole YAML) shows what the weights cannot: a hard custom LSTM."""
    rnnt = read_checkpoint(MYRTLE / "v1.3.0/hard_lstm.hardware.pt").extras["rnnt_config"]["rnnt"]
    assert rnnt["custom_lstm"] is True and rnnt["hard_activation_functions"] is True
    plain = read_checkpoint(MYRTLE / "v1.3.0/lstm.hardware.pt").extras["rnnt_config"]["rnnt"]
    assert plain["custom_lstm"] is False
    assert read_checkpoint(MYRTLE / "v1.3.0/lstm.hardware.pt").extras["melalpha"] == 0.001


def test_v1_14_hardware_checkpoint_carries_its_ngram_and_an_inference_only_config():
    """v1.14 adds ngram {binary, scale_factor}; its rnnt_config keeps only inference fields."""
    extras = read_checkpoint(MYRTLE / "v1.14.0/enc_batchnorm.hardware.pt").extras
    assert isinstance(extras["ngram"]["binary"], bytes) and extras["ngram"]["scale_factor"] == 0.05
    assert extras["melalpha"] == 0.0
    assert "enc_batch_norm" not in extras["rnnt_config"]["rnnt"]   # dropped by its schema


def test_v1_14_tokenizer_kw_unk_handling_enum_is_decoded_as_its_value():
    """v1.14's tokenizer_kw holds UnkHandling.FAIL: decoded as 'FAIL', caiman not imported."""
    tokenizer_kw = read_checkpoint(MYRTLE / "v1.14.0/lstm.training.pt").extras["tokenizer_kw"]
    assert tokenizer_kw["unk_handling"] == "FAIL" and type(tokenizer_kw["unk_handling"]) is str
    assert not any(name.startswith("caiman_asr_train") for name in __import__("sys").modules)


@pytest.mark.parametrize("name", ["lstm.training.pt", "lstm.hardware.pt"])
def test_v1_14_protocol_5_file_reads_although_torch_weights_only_refuses_it(name):
    """torch.load(weights_only=True) refuses v1.14's protocol-5 files; read_checkpoint reads."""
    path = MYRTLE / "v1.14.0" / name
    with pytest.raises(pickle.UnpicklingError, match="Unsupported operand 149"):
        torch_weights_only(path)
    checkpoint = read_checkpoint(path)
    assert checkpoint.pickle_protocol == 5 and len(checkpoint.state) == 19


def test_dsi_style_file_is_read_in_fp16():
    """The DSI-shaped file keeps float16 and says so."""
    checkpoint = read_checkpoint(FIXTURES / "dsi/dsi_style_tiny.pt")
    assert checkpoint.dtype_summary == "float16 (29 tensors)"
    assert "encoder.6.layers.2.rnn.weight_hh_l0" in checkpoint.state


@pytest.mark.parametrize("name", sorted(n for n in REAL_FILES if "v1.14.0" not in n
                                        and n.endswith(".pt")))
def test_the_unpickler_gives_what_torch_weights_only_gives(name):
    """Where torch's weights_only loader accepts a real file, both give identical objects."""
    mine, _, _ = read_torch_file(FIXTURES / name)
    assert_same(torch_weights_only(FIXTURES / name), mine)


def test_nemo_weights_equal_torch_reading_of_model_weights_ckpt():
    """The .nemo's model_weights.ckpt reads as torch reads it."""
    path = FIXTURES / "../models/nemo/hybrid_char_tiny.nemo"
    with tarfile.open(path) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("model_weights.ckpt"))
        data = archive.extractfile(member).read()
    reference = torch_weights_only(io.BytesIO(data))
    checkpoint = read_checkpoint(path)
    assert_same(dict(reference), checkpoint.state)


# --- the unpickler ------------------------------------------------------------------------

def tensor_zoo():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state = collections.OrderedDict(
        a=base, view=base[1:, ::2], t=base.t(), half=base.half(), bf16=base.bfloat16(),
        long=torch.arange(3), bools=torch.tensor([True, False]), cplx=torch.tensor([1 + 2j]),
        scalar=torch.tensor(3.0), empty=torch.zeros(0, 3), param=torch.nn.Parameter(torch.ones(2)))
    state._metadata = collections.OrderedDict({"": {"version": 1}})
    return {"state_dict": state, "epoch": 3, "wer": 0.25, "sp": b"\x00\x01", "none": None,
            "tuple": (1, 2), "set": {1, 2}, "frozen": frozenset({3}), "ba": bytearray(b"xy"),
            "complex": 1 + 2j, "shape": torch.Size([2, 3]), "device": torch.device("cpu"),
            "dtype": torch.float16, "big": 2 ** 70, "nested": [{"x": [1.5, "s"]}]}


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_unpickler_reads_every_protocol_and_format_as_torch_does(protocol, zip_format):
    """Protocols 2-5, zip and legacy: same objects as torch.load, views sharing storage."""
    buffer = io.BytesIO()
    torch.save(tensor_zoo(), buffer, pickle_protocol=protocol,
               _use_new_zipfile_serialization=zip_format)
    mine, fmt, found = read_torch_file(buffer.getvalue())
    reference = torch.load(io.BytesIO(buffer.getvalue()), weights_only=False)  # our own data
    assert_same(reference, mine)
    assert found == protocol and fmt == ("torch zip" if zip_format else "torch legacy")
    state = mine["state_dict"]
    assert state["view"].untyped_storage().data_ptr() == state["a"].untyped_storage().data_ptr()


def test_unpickler_reads_the_new_dtypes_through_rebuild_tensor_v3():
    """uint16 (saved through an UntypedStorage and _rebuild_tensor_v3) reads back."""
    buffer = io.BytesIO()
    torch.save({"u": torch.tensor([1, 2, 65535], dtype=torch.uint16)}, buffer)
    mine, _, _ = read_torch_file(buffer.getvalue())
    assert mine["u"].dtype == torch.uint16 and mine["u"].tolist() == [1, 2, 65535]


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("how", ["torch.save", "pickle.dumps"])
def test_a_malicious_pickle_is_refused_naming_its_class_and_never_runs(tmp_path, protocol, how):
    """A pickled os.system call is refused, named, and never executed."""
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    if how == "torch.save":
        torch.save({"state_dict": STATE, "x": _Exploit(marker)}, path, pickle_protocol=protocol)
    else:
        path.write_bytes(pickle.dumps({"epoch": 1, "x": _Exploit(marker)}, protocol=protocol))
    with pytest.raises(ValueError, match=rf"{path}: holds an object of class "
                                         rf"{os.system.__module__}\.system, which is not plain"):
        read_checkpoint(path)
    assert not marker.exists()


@pytest.mark.parametrize("value, named", [
    (argparse.Namespace(lr=0.1), "argparse.Namespace"),
    (np.zeros(3), r"numpy\.[\w.]+, .*a numpy array or scalar"),
    (np.float32(1.5), r"numpy\.[\w.]+, .*a numpy array or scalar"),
    (Fraction(1, 3), "fractions.Fraction"),
])
def test_an_object_that_is_not_plain_data_is_refused_naming_its_class(tmp_path, value, named):
    """Namespace, numpy arrays and scalars, any other class: refused by name, in one line."""
    torch.save({"state_dict": STATE, "args": value}, tmp_path / "c.pt", pickle_protocol=5)
    with pytest.raises(ValueError, match=f"holds an object of class {named}") as caught:
        read_checkpoint(tmp_path / "c.pt")
    assert "\n" not in str(caught.value)


def test_a_tensor_pickled_by_pickle_dumps_is_refused_at_its_storage(tmp_path):
    """pickle.dumps(tensor) rebuilds storages with torch.storage._load_from_bytes, which runs
    torch.load(weights_only=False) on embedded bytes: refused by name."""
    (tmp_path / "p.pt").write_bytes(pickle.dumps({"w": torch.ones(2)}, protocol=2))
    with pytest.raises(ValueError, match=r"torch\.storage\._load_from_bytes"):
        read_checkpoint(tmp_path / "p.pt")


def test_a_plain_pickle_without_torch_magic_is_not_a_checkpoint(tmp_path):
    """pickle.dumps of plain data (no torch magic number) is refused as not a torch file."""
    (tmp_path / "p.pt").write_bytes(pickle.dumps({"a": 1}, protocol=4))
    with pytest.raises(ValueError, match="not a torch checkpoint"):
        read_checkpoint(tmp_path / "p.pt")


def test_an_unknown_enum_value_is_refused(tmp_path):
    """The Enum rule accepts only the values the codebase defines."""
    stream = (b"\x80\x02" + pickle.GLOBAL + b"caiman_asr_train.data.unk_handling\nUnkHandling\n"
              + pickle.BINUNICODE + (4).to_bytes(4, "little") + b"EVIL" + pickle.TUPLE1
              + pickle.REDUCE + pickle.STOP)
    with pytest.raises(UnsafePickleError, match="an Enum member other than"):
        read_torch_file(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + stream)


def test_truncated_checkpoint_is_refused(tmp_path):
    """Half a torch file: one line saying truncated or corrupt."""
    torch.save(STATE, tmp_path / "s.pt")
    data = (tmp_path / "s.pt").read_bytes()
    (tmp_path / "t.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_checkpoint(tmp_path / "t.pt")


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_every_truncation_and_byte_flip_gives_a_value_error_or_a_reading(tmp_path, zip_format):
    """Cut or corrupt a real file anywhere: nothing but ValueError ever escapes."""
    buffer = io.BytesIO()
    torch.save(read_torch_file(MYRTLE / "v1.14.0/lstm.hardware.pt")[0], buffer,
               pickle_protocol=5, _use_new_zipfile_serialization=zip_format)
    data = buffer.getvalue()
    rng = random.Random(0)
    for trial in range(60):
        if trial % 2:
            damaged = data[: rng.randrange(len(data))]
        else:
            position = rng.randrange(len(data))
            damaged = data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1:]
        (tmp_path / "d.pt").write_bytes(damaged)
        try:
            read_checkpoint(tmp_path / "d.pt")
        except ValueError as error:
            assert "\n" not in str(error) and str(tmp_path / "d.pt") in str(error)


# --- bad files: one line each -------------------------------------------------------------

def _wav(path: Path) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x01" * 800)


def _tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def make_bad_file(kind: str, folder: Path) -> tuple[Path, str]:
    """(path, what the one-line message must say) for each kind of bad file."""
    buffer = io.BytesIO()
    if kind == "truncated zip":
        torch.save(STATE, buffer)
        path = folder / "cut.pt"
        path.write_bytes(buffer.getvalue()[:300])
        return path, "truncated or corrupt zip archive"
    if kind == "truncated legacy pickle":
        torch.save(STATE, buffer, _use_new_zipfile_serialization=False)
        path = folder / "cut_legacy.pt"
        path.write_bytes(buffer.getvalue()[:200])
        return path, "truncated"
    if kind == "random bytes":
        path = folder / "random.pt"
        path.write_bytes(random.Random(0).randbytes(4096))
        return path, "not a checkpoint"
    if kind == "empty file":
        path = folder / "empty.pt"
        path.write_bytes(b"")
        return path, "an empty file"
    if kind == "wav":
        path = folder / "audio.wav"
        _wav(path)
        return path, "a WAV audio file"
    if kind == "flac":
        path = folder / "audio.flac"
        shutil.copy(ROOT / "fixtures/audio/short_yes.flac", path)
        return path, "a FLAC audio file"
    if kind == "text":
        path = folder / "notes.txt"
        path.write_text("these are not weights\n")
        return path, "a text file"
    if kind == "yaml":
        path = folder / "config.yaml"
        path.write_text("rnnt:\n  in_feats: 240\n")
        return path, "a text file"
    if kind == "directory":
        path = folder / "checkpoints"
        path.mkdir()
        return path, "a directory"
    if kind == ".nemo not a tar":
        path = folder / "model.nemo"
        path.write_text("not an archive")
        return path, "must be a tar archive"
    if kind == ".nemo without weights":
        path = folder / "empty.nemo"
        _tar(path, {"./model_config.yaml": b"a: 1\n"})
        return path, "without model_weights.ckpt"
    if kind == "truncated .nemo":
        path = folder / "cut.nemo"
        data = (ROOT / "fixtures/models/nemo/hybrid_char_tiny.nemo").read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return path, "not a readable .nemo|truncated"
    if kind == "corrupt safetensors":
        path = folder / "bad.safetensors"
        path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
        return path, "not a readable safetensors file"
    if kind == "truncated safetensors":
        write_checkpoint(folder / "ok.safetensors", STATE)
        path = folder / "cut.safetensors"
        path.write_bytes((folder / "ok.safetensors").read_bytes()[:-5])
        return path, "not a readable safetensors file"
    if kind == "malicious pickle":
        path = folder / "evil.pt"
        torch.save({"x": _Exploit(folder / "pwned")}, path)
        return path, "which is not plain data"
    raise AssertionError(kind)


BAD_FILES = ["truncated zip", "truncated legacy pickle", "random bytes", "empty file", "wav",
             "flac", "text", "yaml", "directory", ".nemo not a tar", ".nemo without weights",
             "truncated .nemo", "corrupt safetensors", "truncated safetensors",
             "malicious pickle"]


@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_bad_file_raises_one_value_error_naming_the_file_and_the_cause(tmp_path, kind):
    """Each kind of bad file: a ValueError, one line, the file's name and the cause."""
    path, cause = make_bad_file(kind, tmp_path)
    with pytest.raises(ValueError, match=cause) as caught:
        read_checkpoint(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("kind", BAD_FILES)
def test_inspect_on_a_bad_file_exits_2_with_one_stderr_line_naming_it(tmp_path, kind, capsys):
    """`rnnt-parity inspect BAD`: exit status 2, one stderr line naming the file, no traceback."""
    path, cause = make_bad_file(kind, tmp_path)
    assert main(["inspect", str(path)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and captured.out == ""
    assert not (tmp_path / "pwned").exists()


# --- writing ------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_write_then_read_round_trips(tmp_path, suffix):
    """write_checkpoint -> read_checkpoint gives the same tensors."""
    write_checkpoint(tmp_path / f"o{suffix}", STATE)
    back = read_checkpoint(tmp_path / f"o{suffix}")
    assert all(torch.equal(back.state[k], v) for k, v in STATE.items())


def test_write_then_read_round_trips_extras_and_dtypes(tmp_path):
    """Extras (mel stats, bytes, a config dict) and fp16 / int64 tensors survive the trip."""
    state = {"w": torch.randn(3, 2).half(), "n": torch.tensor(4)}
    extras = {"melmeans": torch.ones(4), "sentpiece_model": b"\x00sp",
              "rnnt_config": {"rnnt": {"in_feats": 12}}, "melalpha": 0.001}
    write_checkpoint(tmp_path / "o.pt", state, extras)
    back = read_checkpoint(tmp_path / "o.pt")
    assert_same(state, back.state)
    assert_same(extras, back.extras)


def test_existing_output_is_never_overwritten_without_force(tmp_path):
    """An existing output is kept unless force."""
    target = tmp_path / "o.pt"
    target.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="pass --force"):
        write_checkpoint(target, STATE)
    assert target.read_bytes() == b"keep me"
    write_checkpoint(target, STATE, force=True)
    assert set(read_checkpoint(target).state) == set(STATE)


def test_safetensors_refuses_extras_and_writes_nothing(tmp_path):
    """safetensors holds tensors only: extras are refused before anything is written."""
    with pytest.raises(ValueError, match=r"carries \['melmeans'\]"):
        write_checkpoint(tmp_path / "o.safetensors", STATE, {"melmeans": torch.ones(2)})
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    """A write that fails midway leaves nothing behind."""
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        write_checkpoint(tmp_path / "o.pt", STATE)
    assert list(tmp_path.iterdir()) == []
