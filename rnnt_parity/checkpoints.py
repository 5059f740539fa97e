"""Checkpoint files in and out, never unpickling arbitrary objects.

Reading (`read_checkpoint`): `.safetensors` through safetensors; torch files (zip or legacy
format, any pickle protocol 2-5) ALWAYS through rnnt-parity's tensors-only unpickler
(`rnnt_parity.checkpoint_pickle`: plain data and dense tensors only, every other class
refused by name, nothing executed), never through `pickle.load` or `torch.load`; torch
2.14's `torch.load(weights_only=True)` refuses the protocol-5 files caiman-asr v1.14 writes.
Containers understood (`Checkpoint.kind` says which):
    plain state dict                          {key: tensor}
    Myrtle training checkpoint                {'state_dict', 'ema_state_dict', 'optimizer',
                                               'epoch', 'step', 'best_wer', v1.14 also
                                               'tokenizer_kw', 'logmel_norm_weight'}
    Myrtle hardware checkpoint                {'state_dict', 'melmeans', 'melvars',
                                               'melalpha', 'sentpiece_model', 'version',
                                               'rnnt_config' (a dict), v1.14 also 'ngram'}
    deepspeech-internal                       {'network': state dict} (fp16, kept fp16)
    NeMo .nemo archive                        a tar holding model_weights.ckpt (read) and
                                              model_config.yaml (carried as text)
    safetensors                               tensors only
A common 'module.' or 'model.' prefix is stripped. Entries besides the weights are `extras`:
plain data (mel statistics, alpha, the sentencepiece bytes, the n-gram, the config) is carried
to the output; optimizer state and the unused one of state_dict / ema_state_dict are dropped,
each listed with its reason in `dropped`. Tensors keep the file's dtypes (`dtype_summary`).

Every file that cannot be read raises one ValueError naming the file and the cause in one
line (truncated, corrupt, a WAV/FLAC/text/YAML file, a directory, an object that is not plain
data, ...); only a missing file raises FileNotFoundError.

Writing (`write_checkpoint`): atomically (a temporary file in the same folder, then rename),
never over an existing file unless `force`; `.safetensors` holds tensors only.
"""

from __future__ import annotations

import hashlib
import tarfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml

from rnnt_parity.checkpoint_pickle import read_torch_file
from rnnt_parity.files import atomic_output, refuse_to_overwrite

WEIGHT_CONTAINERS = ("state_dict", "ema_state_dict", "network")
PREFIXES = ("module.", "model.")
OPTIMIZER_KEYS = ("optimizer", "optimizer_state_dict", "scaler", "lr_scheduler")
HARDWARE_KEYS = ("rnnt_config", "melmeans", "melvars")
TRAINING_KEYS = ("optimizer", "ema_state_dict", "best_wer")


@dataclass
class Checkpoint:
    """Weights (`state`), carried extras, and what was dropped (key -> reason).

    `container`: the entry the weights came from ('state_dict', 'ema_state_dict', 'network')
    or 'state_dict (plain)'; `kind`: what the file is (e.g. "Myrtle hardware checkpoint
    1.14.0"); `format`: "torch zip", "torch legacy", "safetensors", or ".nemo (torch zip)";
    `pickle_protocol`: the torch pickle's protocol (None for safetensors)."""

    state: dict[str, torch.Tensor]
    container: str
    extras: dict = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    prefix: str = ""
    sha256: str = ""
    kind: str = ""
    format: str = ""
    pickle_protocol: int | None = None

    @property
    def dtype_summary(self) -> str:
        """The weights' dtypes with their tensor counts, e.g. "float16 (29 tensors)"."""
        return dtype_summary(self.state)


def dtype_summary(state: dict) -> str:
    """The dtypes of a state dict's tensors with their counts, e.g. "float16 (29 tensors)"."""
    counts = Counter(str(t.dtype).removeprefix("torch.") for t in state.values())
    return ", ".join(f"{d} ({n} tensor{'s' * (n != 1)})" for d, n in counts.most_common())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_bytes(head: bytes) -> str:
    """What a file that is not a checkpoint looks like it is, from its first bytes."""
    if not head:
        return "an empty file (0 bytes)"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "a WAV audio file"
    if head[:4] == b"fLaC":
        return "a FLAC audio file"
    if head[:4] == b"OggS":
        return "an Ogg audio file"
    if head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3"):
        return "an MP3 audio file"
    if head[:2] == b"\x1f\x8b":
        return "a gzip file"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "a tar archive"
    if head[:4] == b"PK\x03\x04":
        return "a zip archive"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in "\t\r\n" for c in text):
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return f"a text file (first line: {first[:40]!r})"
    return f"not a checkpoint (unrecognised bytes {head[:8].hex(' ')})"


def _looks_like_safetensors(head: bytes) -> bool:
    return len(head) > 9 and 0 < int.from_bytes(head[:8], "little") < (100 << 20) \
        and head[8:9] == b"{"


def _read_torch(source, path: Path, what: str = "") -> tuple[object, str, int | None]:
    try:
        return read_torch_file(source)
    except ValueError as error:
        raise ValueError(f"{path}: {what}{error}") from None


def _load_nemo(path: Path):
    """A .nemo tar: the state dict of model_weights.ckpt, plus model_config.yaml's text."""
    try:
        with tarfile.open(path) as archive:
            members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
            if "model_weights.ckpt" not in members:
                raise ValueError(f"{path}: a .nemo archive without model_weights.ckpt "
                                 f"(holds {sorted(members)})")
            config = (archive.extractfile(members["model_config.yaml"]).read().decode(
                "utf-8", "replace") if "model_config.yaml" in members else None)
            state, _, protocol = _read_torch(archive.extractfile(members["model_weights.ckpt"]),
                                             path, "its model_weights.ckpt: ")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise ValueError(f"{path}: not a readable .nemo (tar) archive "
                         f"({str(error) or type(error).__name__})") from None
    raw = {"state_dict": state, **({"nemo_model_config_yaml": config} if config else {})}
    return raw, ".nemo (torch zip)", protocol


def _load_safetensors(path: Path):
    from safetensors.torch import load_file

    try:
        return load_file(str(path)), "safetensors", None
    except Exception as error:  # noqa: BLE001  safetensors raises its own SafetensorError
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(f"{path}: not a readable safetensors file "
                         f"({reason or type(error).__name__})") from None


def _load_raw(path: Path):
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error.strerror or error})") from None
    if path.suffix == ".nemo":
        if not (head[257:262] == b"ustar" or head[:2] == b"\x1f\x8b"):
            raise ValueError(f"{path}: a .nemo file must be a tar archive; this is "
                             f"{describe_bytes(head)}")
        return _load_nemo(path)
    if path.suffix == ".safetensors" or _looks_like_safetensors(head):
        return _load_safetensors(path)
    if head[:4] == b"PK\x03\x04" or (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05"
                                     and len(head) > 1):
        return _read_torch(path, path)
    if head[257:262] == b"ustar":
        return _load_nemo(path)
    raise ValueError(f"{path}: not a checkpoint: {describe_bytes(head)}")


def _strip_prefix(state: dict) -> tuple[dict, str]:
    for prefix in PREFIXES:
        if state and all(key.startswith(prefix) for key in state):
            return {key[len(prefix):]: value for key, value in state.items()}, prefix
    return state, ""


def _check_state(state: dict, path: Path) -> None:
    bad = [key for key, value in state.items() if not isinstance(value, torch.Tensor)]
    if bad:
        raise ValueError(f"{path}: {bad[0]!r} holds a {type(state[bad[0]]).__name__}, not a "
                         f"tensor ({len(bad)} such entries)")
    if not state:
        raise ValueError(f"{path}: holds no tensors")


def _kind(raw: dict, chosen: str | None, fmt: str) -> str:
    if fmt.startswith(".nemo"):
        return "NeMo .nemo archive"
    if chosen is None:
        return "safetensors" if fmt == "safetensors" else "plain state dict"
    if chosen == "network":
        return "deepspeech-internal checkpoint ({'network': ...})"
    if all(key in raw for key in HARDWARE_KEYS):
        version = raw.get("version")
        return "Myrtle hardware checkpoint" + (f" {version}" if isinstance(version, str) else "")
    if any(key in raw for key in TRAINING_KEYS):
        return "Myrtle training checkpoint"
    if "canonical_config" in raw:
        return "rnnt-parity checkpoint (canonical_config carried)"
    return f"checkpoint dict (weights under {chosen!r})"


def _carried(key: str, value, path: Path):
    """An extra as carried: a hardware checkpoint's rnnt_config as a dict."""
    if key == "rnnt_config":
        if isinstance(value, str):
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError as error:
                raise ValueError(f"{path}: its rnnt_config is not YAML "
                                 f"({str(error).splitlines()[0]})") from None
        if not isinstance(value, dict):
            raise ValueError(f"{path}: its rnnt_config is a {type(value).__name__}, not a dict")
    return value


def read_checkpoint(path: str | Path, ema: bool = False) -> Checkpoint:
    """Read `path`; `ema` picks a Myrtle checkpoint's 'ema_state_dict'.

    Raises FileNotFoundError if nothing is at `path`, and ValueError (one line naming the
    file and the cause) for anything else that is not a readable checkpoint."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if path.is_dir():
        raise ValueError(f"{path}: a directory, not a checkpoint file")
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file")
    raw, fmt, protocol = _load_raw(path)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: holds a {type(raw).__name__}, not a state dict or a "
                         "checkpoint dict")
    present = [k for k in WEIGHT_CONTAINERS if isinstance(raw.get(k), dict)]
    chosen = "ema_state_dict" if ema else next(iter(present), None)
    if ema and "ema_state_dict" not in raw:
        raise ValueError(f"{path}: --ema asked for 'ema_state_dict', which it does not hold "
                         f"(keys: {sorted(map(str, raw))})")
    if ema and raw["ema_state_dict"] is None:
        raise ValueError(f"{path}: --ema asked for 'ema_state_dict', which is None (the run "
                         "kept no EMA weights)")
    if chosen is None and any(k in raw for k in WEIGHT_CONTAINERS):
        found = {k: type(raw[k]).__name__ for k in WEIGHT_CONTAINERS if k in raw}
        raise ValueError(f"{path}: holds no weights ({found})")
    if chosen is None:
        state, extras, dropped, container = raw, {}, {}, "state_dict (plain)"
    else:
        state, container = raw[chosen], chosen
        if not isinstance(state, dict):
            raise ValueError(f"{path}: {chosen!r} holds a {type(state).__name__}, not a dict")
        extras, dropped = {}, {}
        for key, value in raw.items():
            if key == chosen:
                continue
            if key in WEIGHT_CONTAINERS:
                dropped[key] = ("None (the run kept no EMA weights)" if value is None
                                else f"the weights used are {chosen!r}")
            elif key in OPTIMIZER_KEYS:
                dropped[key] = ("None (saved without one)" if value is None else
                                "optimizer state belongs to the source's parameter layout")
            else:
                extras[key] = _carried(key, value, path)
    _check_state(state, path)
    stripped, prefix = _strip_prefix(dict(state))
    if prefix and len(stripped) != len(state):
        raise ValueError(f"{path}: keys collide after stripping the {prefix!r} prefix")
    return Checkpoint(stripped, container, extras, dropped, prefix, file_sha256(path),
                      _kind(raw, chosen, fmt), fmt, protocol)


def write_checkpoint(path: str | Path, state: dict[str, torch.Tensor], extras: dict | None = None,
                     force: bool = False) -> None:
    """Write `state` (and `extras`) to `path` atomically; refuse to overwrite without force."""
    path = Path(path)
    extras = extras or {}
    refuse_to_overwrite(path, force)
    if path.suffix == ".safetensors" and extras:
        raise ValueError(f"{path}: safetensors holds tensors only; the checkpoint carries "
                         f"{sorted(extras)} (write a .pt file to keep them)")
    with atomic_output(path, force) as temporary:
        if path.suffix == ".safetensors":
            from safetensors.torch import save_file

            save_file({k: v.contiguous() for k, v in state.items()}, str(temporary))
        else:
            torch.save({"state_dict": state, **extras} if extras else state, temporary)
