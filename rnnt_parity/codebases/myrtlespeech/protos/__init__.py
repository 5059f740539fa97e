"""myrtlespeech's task-config schemas, one per group of revisions whose protos agree.

Conventions:

- `<schema>/myrtlespeech.proto` is written for rnnt-parity from the revision's
  `src/myrtlespeech/protos/*.proto` (MyrtleSoftware/myrtlespeech): the real package
  (`myrtlespeech.protos`), names, numbers, types, labels, oneofs and enums, so text and
  binary configs parse exactly as there. `<schema>/myrtlespeech.binpb` is protoc's
  FileDescriptorSet of it (in this folder: `python -m grpc_tools.protoc -I <schema>
  --descriptor_set_out=<schema>/myrtlespeech.binpb
  myrtlespeech.proto`); a test regenerates it and compares.
- Each schema loads into a DescriptorPool of its own. Generated `*_pb2` modules would share
  protobuf's default pool, which refuses two definitions of `myrtlespeech.protos.FullyConnected`
  (the revisions give its field 4 different types), so the revisions could not be read in
  one process.
- `REVISIONS` maps each known myrtlespeech commit to its schema: 24d2df3 has its own; ef42c3f,
  45899f7 and a7eea9a share one (their protos are identical). `DEFAULT_REVISION` is
  24d2df3, the only revision whose own rnn_t_en.config parses with its own protos (see
  `rnnt_parity.codebases.myrtlespeech.config`).
"""

from __future__ import annotations

import functools
from pathlib import Path

from rnnt_parity.configs.common import ConfigError

HERE = Path(__file__).resolve().parent
PACKAGE = "myrtlespeech.protos"
PROTO_NAME = "myrtlespeech.proto"
DESCRIPTOR_SET_NAME = "myrtlespeech.binpb"
COMMITS = {
    "24d2df3": "24d2df3d7988c1d4dc6e97812557e78363883a92",
    "ef42c3f": "ef42c3f9b2082a3b987d60070bb074de965f74e6",
    "45899f7": "45899f749c5bb6a66f2099837f5647292e9183f8",
    "a7eea9a": "a7eea9a51f963f0190e79e00726028bb9639ff4f",
}
"""The myrtlespeech revisions known here (short id -> full commit)."""
REVISIONS = {"24d2df3": "24d2df3", "ef42c3f": "ef42c3f", "45899f7": "ef42c3f",
             "a7eea9a": "ef42c3f"}
"""Revision -> the schema (folder) whose protos it has."""
SCHEMAS = tuple(sorted(set(REVISIONS.values())))
DEFAULT_REVISION = "24d2df3"


def revision_of(revision: str | None) -> str:
    """The short id of `revision` (a known short id or any 7+-character prefix of its commit;
    None: DEFAULT_REVISION); ConfigError listing the known revisions otherwise."""
    wanted = DEFAULT_REVISION if revision is None else revision.lower()
    matches = [short for short, commit in COMMITS.items()
               if len(wanted) >= 7 and commit.startswith(wanted)]
    if len(matches) != 1:
        raise ConfigError(f"unknown myrtlespeech revision {revision!r}; known: "
                          f"{', '.join(COMMITS)} (default {DEFAULT_REVISION})")
    return matches[0]


def schema_of(revision: str | None) -> str:
    """The schema of `revision` (see `revision_of`)."""
    return REVISIONS[revision_of(revision)]


def proto_path(schema: str) -> Path:
    return HERE / schema / PROTO_NAME


def descriptor_set_path(schema: str) -> Path:
    return HERE / schema / DESCRIPTOR_SET_NAME


@functools.cache
def pool(schema: str):
    """A DescriptorPool holding `schema`'s messages and the well-known types they use."""
    from google.protobuf import descriptor_pb2, descriptor_pool, empty_pb2, wrappers_pb2

    result = descriptor_pool.DescriptorPool()
    for known in (empty_pb2, wrappers_pb2):
        result.AddSerializedFile(known.DESCRIPTOR.serialized_pb)
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set_path(schema).read_bytes())
    for file in files.file:
        result.Add(file)
    return result


def message_class(schema: str, name: str):
    """The message class `myrtlespeech.protos.<name>` of `schema`."""
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(pool(schema).FindMessageTypeByName(f"{PACKAGE}.{name}"))


def layout(descriptor) -> tuple:
    """What the text and wire formats of a message or enum type depend on, in a comparable
    form: per field (by number) its name, number, type, label, the full name of its
    message/enum type and its oneof; nested types; enum values. Declaration order and
    comments are left out."""
    if hasattr(descriptor, "values"):
        return ("enum", descriptor.full_name,
                tuple(sorted((value.name, value.number) for value in descriptor.values)))
    fields = tuple(sorted(
        (field.number, field.name, field.type, field.is_repeated,
         (field.message_type or field.enum_type).full_name
         if field.message_type or field.enum_type else None,
         field.containing_oneof.name if field.containing_oneof else None)
        for field in descriptor.fields))
    nested = tuple(sorted(layout(inner) for inner in
                          (*descriptor.nested_types, *descriptor.enum_types)))
    return ("message", descriptor.full_name, fields, nested)


def file_layout(file_descriptor) -> dict[str, tuple]:
    """Top-level type name -> `layout`, for one FileDescriptor."""
    types = {**file_descriptor.message_types_by_name, **file_descriptor.enum_types_by_name}
    return {name: layout(descriptor) for name, descriptor in types.items()}


def schema_layout(schema: str) -> dict[str, tuple]:
    return file_layout(pool(schema).FindFileByName(PROTO_NAME))
