"""Real myrtlespeech configs of one revision -> fixtures/configs/myrtlespeech/<revision>/.

Run by hand (tests never need the mirror), once per revision:

    .venv/bin/python scripts/goldens/myrtlespeech_binary_configs.py MIRROR REVISION [CONFIG ...]

MIRROR is a git directory of MyrtleSoftware/myrtlespeech; CONFIG names files in the
revision's src/myrtlespeech/configs/ (default: all of them). In a temporary folder the
script compiles the revision's real src/myrtlespeech/protos/*.proto with grpcio-tools'
protoc and imports the generated modules. It first checks that rnnt-parity's schema for the
revision has the same layout (`rnnt_parity.codebases.myrtlespeech.protos.layout`) as the real
protos, and stops if not. Then, for each config, it writes the verbatim text as <name>.config
and, if the real TaskConfig parses it, its deterministic binary serialisation as <name>.pb. A
config the real module refuses is kept as text and the parse error is printed. It runs in its
own process because the real generated modules load into protobuf's default descriptor pool.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "configs" / "myrtlespeech"
PROTOS = "src/myrtlespeech/protos"
CONFIGS = "src/myrtlespeech/configs"


def extract(mirror: Path, commit: str, into: Path) -> None:
    archive = subprocess.run(["git", "-C", str(mirror), "archive", "--format=tar", commit,
                              PROTOS, CONFIGS], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def compile_real_protos(source: Path, out: Path) -> list:
    """The revision's generated *_pb2 modules, imported from `out`."""
    import grpc_tools

    include = Path(grpc_tools.__file__).parent / "_proto"
    protos = sorted((source / PROTOS).glob("*.proto"))
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{source / 'src'}",
                    f"-I{include}", f"--python_out={out}", *map(str, protos)], check=True)
    sys.path.insert(0, str(out))
    return [importlib.import_module(f"myrtlespeech.protos.{proto.stem}_pb2") for proto in protos]


def check_layout(modules: list, schema: str) -> None:
    from rnnt_parity.codebases.myrtlespeech.protos import file_layout, schema_layout

    real: dict[str, tuple] = {}
    for module in modules:
        real.update(file_layout(module.DESCRIPTOR))
    ours = schema_layout(schema)
    differing = sorted(name for name in real.keys() | ours.keys()
                       if real.get(name) != ours.get(name))
    if differing:
        raise SystemExit(f"rnnt-parity's {schema} schema differs from the real protos in: "
                         f"{', '.join(differing)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mirror", type=Path)
    parser.add_argument("revision")
    parser.add_argument("configs", nargs="*")
    args = parser.parse_args(argv)

    import google.protobuf
    from google.protobuf import text_format

    from rnnt_parity.codebases.myrtlespeech.protos import COMMITS, schema_of

    schema = schema_of(args.revision)
    commit = COMMITS[args.revision]
    with tempfile.TemporaryDirectory() as tmp:
        source, generated = Path(tmp) / "source", Path(tmp) / "generated"
        generated.mkdir()
        extract(args.mirror, commit, source)
        modules = compile_real_protos(source, generated)
        check_layout(modules, schema)
        task_config = importlib.import_module("myrtlespeech.protos.task_config_pb2").TaskConfig
        names = args.configs or sorted(p.name for p in (source / CONFIGS).glob("*.config"))
        out = OUT / args.revision
        out.mkdir(parents=True, exist_ok=True)
        for name in names:
            text = (source / CONFIGS / name).read_bytes()
            (out / name).write_bytes(text)
            try:
                message = text_format.Parse(text.decode(), task_config())
            except text_format.ParseError as error:
                print(f"{args.revision} {name}: text only, the real module refuses it: {error}")
                continue
            (out / name).with_suffix(".pb").write_bytes(message.SerializeToString(
                deterministic=True))
            print(f"{args.revision} {name}: text and binary")
    print(f"commit {commit}, schema {schema}, protobuf {google.protobuf.__version__}, "
          f"grpcio-tools {importlib.metadata.version('grpcio-tools')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
