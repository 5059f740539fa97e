"""myrtlespeech task configs (text and binary) -> MyrtlespeechConfig; the schemas' field numbers,
oneofs and enums against the real protos (numbers copied here from MyrtleSoftware/myrtlespeech
src/myrtlespeech/protos at 24d2df3 and ef42c3f); the real configs under
fixtures/configs/myrtlespeech; refusals name their field; `revision` picks the schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, json_format

from rnnt_parity.codebases.myrtlespeech.config import parse_task_config, read_myrtlespeech_config
from rnnt_parity.codebases.myrtlespeech.infer import infer_myrtlespeech
from rnnt_parity.codebases.myrtlespeech.model import MyrtlespeechConfig, MyrtlespeechRNNT
from rnnt_parity.codebases.myrtlespeech.protos import (
    SCHEMAS,
    descriptor_set_path,
    message_class,
    pool,
    proto_path,
    schema_layout,
)
from rnnt_parity.configs import ConfigError, config_vs_checkpoint, read_config

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "configs"
REAL = FIXTURES / "myrtlespeech"
RNN_T = REAL / "24d2df3" / "rnn_t_en.config"
CONFIG = FIXTURES / "myrtlespeech_rnn_t_seed.config"
TEXT = CONFIG.read_text()
BINARIES = sorted(REAL.glob("*/*.pb"))


def field_number(schema: str, message: str, field: str) -> int:
    return pool(schema).FindMessageTypeByName(f"myrtlespeech.protos.{message}") \
        .fields_by_name[field].number


def write(tmp_path: Path, text: str, name: str = "c.config") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_seed_config_builds_the_seed_model():
    native = read_config(CONFIG, "myrtlespeech")
    assert native.config == MyrtlespeechConfig()
    state = MyrtlespeechRNNT(native.config).state_dict()
    assert sum(v.numel() for v in state.values()) == 26_429_341
    assert native.decoder == {"max_symbols_per_frame": 100}
    assert native.model_input.context_frames == 2 and native.model_input.width == 400


def test_config_model_inferred_config_round_trip():
    native = read_config(CONFIG, "myrtlespeech")
    inferred = infer_myrtlespeech(MyrtlespeechRNNT(native.config).state_dict()).config
    assert config_vs_checkpoint("myrtlespeech", native.config, inferred) == []


def test_the_real_rnn_t_config_parses_with_its_three_subsets():
    task = parse_task_config(RNN_T)
    subsets = message_class("24d2df3", "Dataset").LibriSpeech.SUBSET
    assert [subsets.Name(s) for s in task.train_config.dataset.librispeech.subset] == [
        "TRAIN_CLEAN_100", "TRAIN_CLEAN_360", "TRAIN_OTHER_500"]
    assert [subsets.Name(s) for s in task.eval_config.dataset.librispeech.subset] == [
        "DEV_CLEAN"]


def test_the_real_rnn_t_config_reads_as_the_seed_model():
    assert read_myrtlespeech_config(RNN_T).config == MyrtlespeechConfig()


def test_the_model_input_is_psf_standardized_then_every_second_context_window():
    model_input = read_myrtlespeech_config(RNN_T).model_input
    assert model_input.source == "myrtlespeech_psf" and model_input.context_first
    assert (model_input.subsample, model_input.context_frames) == (2, 2)
    assert dict(model_input.overrides)["normalise"] == "all_features"


def test_the_pre_process_steps_are_exposed_in_config_order():
    assert read_myrtlespeech_config(RNN_T).pre_process_steps == (
        ("lmfb", "TRAIN_AND_EVAL", {"n_mels": 80, "win_length": 400, "hop_length": 160}),
        ("standardize", "TRAIN_AND_EVAL", {}),
        ("context_frames", "TRAIN_AND_EVAL", {"n_context": 2}))


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize(("message", "field", "number"), [
    ("TaskConfig", "speech_to_text", 1), ("TaskConfig", "train_config", 2),
    ("TaskConfig", "eval_config", 3),
    ("SpeechToText", "alphabet", 1), ("SpeechToText", "pre_process_step", 2),
    ("SpeechToText", "deep_speech_1", 3), ("SpeechToText", "deep_speech_2", 4),
    ("SpeechToText", "ctc_loss", 5), ("SpeechToText", "ctc_greedy_decoder", 6),
    ("SpeechToText", "ctc_beam_decoder", 7), ("SpeechToText", "rnn_t", 8),
    ("SpeechToText", "rnn_t_loss", 9), ("SpeechToText", "rnn_t_greedy_decoder", 10),
    ("SpeechToText", "rnn_t_beam_decoder", 11),
    ("RNNT", "rnn_t_encoder", 1), ("RNNT", "dec_rnn", 2), ("RNNT", "fully_connected", 4),
    ("RNNTEncoder", "rnn1", 1), ("RNNTEncoder", "fc1", 2),
    ("RNNTEncoder", "time_reduction_factor", 3), ("RNNTEncoder", "rnn2", 4),
    ("RNNTEncoder", "fc2", 5),
    ("RNN", "rnn_type", 1), ("RNN", "hidden_size", 2), ("RNN", "num_layers", 3),
    ("RNN", "bias", 4), ("RNN", "bidirectional", 5), ("RNN", "forget_gate_bias", 6),
    ("RNN", "batch_first", 7),
    ("FullyConnected", "num_hidden_layers", 1), ("FullyConnected", "hidden_size", 2),
    ("FullyConnected", "activation", 3), ("FullyConnected", "dropout", 4),
    ("PreProcessStep", "stage", 1), ("PreProcessStep", "mfcc", 2),
    ("PreProcessStep", "standardize", 3), ("PreProcessStep", "context_frames", 4),
    ("PreProcessStep", "spec_augment", 5), ("PreProcessStep", "lmfb", 6),
    ("RNNTLoss", "blank_index", 1), ("RNNTLoss", "reduction", 2),
    ("RNNTGreedyDecoder", "max_symbols_per_step", 2), ("EvalConfig", "dataset", 4),
    ("Dataset.LibriSpeech", "subset", 2), ("Dataset.LibriSpeech", "max_secs", 3),
])
def test_key_field_numbers_are_the_real_ones(schema, message, field, number):
    assert field_number(schema, message, field) == number


@pytest.mark.parametrize(("schema", "numbers"), [
    ("24d2df3", {"sgd": 3, "adam": 4, "dataset": 5, "shuffle_batches_before_every_epoch": 6}),
    ("ef42c3f", {"sgd": 3, "adam": 4, "constant_lr": 5, "step_lr": 6, "exponential_lr": 7,
                 "cosine_annealing_lr": 8, "dataset": 9,
                 "shuffle_batches_before_every_epoch": 10}),
])
def test_train_config_is_numbered_as_in_each_revision(schema, numbers):
    fields = pool(schema).FindMessageTypeByName("myrtlespeech.protos.TrainConfig").fields
    assert {f.name: f.number for f in fields if f.name not in ("batch_size", "epochs")} \
        == numbers


@pytest.mark.parametrize(("schema", "wrapper"), [("24d2df3", None),
                                                 ("ef42c3f", "google.protobuf.FloatValue")])
def test_dropout_is_a_float_at_24d2df3_and_a_float_value_at_ef42c3f(schema, wrapper):
    field = pool(schema).FindMessageTypeByName("myrtlespeech.protos.FullyConnected") \
        .fields_by_name["dropout"]
    assert (field.message_type.full_name if field.message_type else None) == wrapper


@pytest.mark.parametrize("schema", SCHEMAS)
def test_models_losses_and_decoders_sit_in_the_real_oneofs(schema):
    speech = pool(schema).FindMessageTypeByName("myrtlespeech.protos.SpeechToText")
    oneofs = {o.name: sorted(f.name for f in o.fields) for o in speech.oneofs}
    assert oneofs == {
        "supported_models": ["deep_speech_1", "deep_speech_2", "rnn_t"],
        "supported_losses": ["ctc_loss", "rnn_t_loss"],
        "supported_post_processes": ["ctc_beam_decoder", "ctc_greedy_decoder",
                                     "rnn_t_beam_decoder", "rnn_t_greedy_decoder"]}
    assert [f.name for f in pool(schema).FindMessageTypeByName(
        "myrtlespeech.protos.TaskConfig").oneofs_by_name["supported_models"].fields] \
        == ["speech_to_text"]


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize(("enum", "values"), [
    ("Stage", {"TRAIN": 0, "EVAL": 1, "TRAIN_AND_EVAL": 2}),
    ("Dataset.LibriSpeech.SUBSET", {"DEV_CLEAN": 0, "DEV_OTHER": 1, "TEST_CLEAN": 2,
                                    "TEST_OTHER": 3, "TRAIN_CLEAN_100": 4,
                                    "TRAIN_CLEAN_360": 5, "TRAIN_OTHER_500": 6}),
    ("RNN.RNN_TYPE", {"LSTM": 0, "GRU": 1, "BASIC_RNN": 2}),
])
def test_the_enums_have_the_real_numbers(schema, enum, values):
    found = pool(schema).FindEnumTypeByName(f"myrtlespeech.protos.{enum}")
    assert {v.name: v.number for v in found.values} == values


def test_the_schemas_differ_only_where_the_real_protos_differ():
    old, new = schema_layout("24d2df3"), schema_layout("ef42c3f")
    assert sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name)) \
        == ["ConstantLR", "CosineAnnealingLR", "ExponentialLR", "FullyConnected", "StepLR",
            "TrainConfig"]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_each_committed_descriptor_set_is_protocs_output_of_its_proto(tmp_path, schema):
    pytest.importorskip("grpc_tools", reason="grpcio-tools (the test extra) regenerates the "
                                             "descriptor sets")
    proto = proto_path(schema)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{proto.parent}",
                    f"--descriptor_set_out={tmp_path / 'out.binpb'}", proto.name], check=True)
    regenerated = descriptor_pb2.FileDescriptorSet.FromString((tmp_path / "out.binpb")
                                                              .read_bytes())
    committed = descriptor_pb2.FileDescriptorSet.FromString(
        descriptor_set_path(schema).read_bytes())
    assert regenerated == committed


def test_there_is_a_binary_fixture_per_schema():
    assert {path.parent.name for path in BINARIES} == set(SCHEMAS)


@pytest.mark.parametrize("binary", BINARIES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_binary_fixture_parses_equal_to_its_text(binary):
    revision = binary.parent.name
    from_binary = parse_task_config(binary, revision=revision)
    from_text = parse_task_config(binary.with_suffix(".config"), revision=revision)
    assert from_binary == from_text
    assert json_format.MessageToDict(from_binary) == json_format.MessageToDict(from_text)


def test_the_binary_rnn_t_config_reads_its_three_subsets_and_model():
    binary = RNN_T.with_suffix(".pb")
    subsets = parse_task_config(binary).train_config.dataset.librispeech.subset
    assert list(subsets) == [4, 5, 6]
    assert read_myrtlespeech_config(binary).config == read_myrtlespeech_config(RNN_T).config


@pytest.mark.parametrize("revision", ["24d2df3", "ef42c3f"])
@pytest.mark.parametrize("name", ["deep_speech_1_en", "deep_speech_2_en"])
def test_deep_speech_configs_parse_and_are_refused_as_not_rnn_t(revision, name):
    path = REAL / revision / f"{name}.config"
    assert parse_task_config(path, revision=revision).speech_to_text.HasField(
        name.removesuffix("_en"))
    with pytest.raises(ConfigError, match=rf"speech_to_text\.{name.removesuffix('_en')}: .*"
                                          r"speech_to_text\.rnn_t"):
        read_myrtlespeech_config(path, revision=revision)


def test_the_45899f7_rnn_t_config_is_refused_by_its_own_schema_naming_24d2df3():
    with pytest.raises(ConfigError, match=r"rnn_t_en.config:31:16 .*revision='24d2df3'"):
        read_myrtlespeech_config(REAL / "45899f7" / "rnn_t_en.config", revision="45899f7")


def test_the_45899f7_rnn_t_config_reads_with_the_default_schema():
    assert read_myrtlespeech_config(REAL / "45899f7" / "rnn_t_en.config").config == \
        MyrtlespeechConfig(fc2_hidden=800)


def test_the_ef42c3f_rnn_t_config_is_refused_for_its_merge_markers():
    with pytest.raises(ConfigError, match=r"merge-conflict markers at line\(s\) \[44, 49\]"):
        read_myrtlespeech_config(REAL / "ef42c3f" / "rnn_t_en.config", revision="ef42c3f")


def test_a_float_value_dropout_reads_at_ef42c3f_as_the_float_at_24d2df3(tmp_path):
    text = RNN_T.read_text()
    assert text.count("dropout: 0.25;") == 3
    path = write(tmp_path, text.replace("dropout: 0.25;", "dropout { value: 0.25 }"))
    assert read_myrtlespeech_config(path, revision="ef42c3f").config == \
        read_myrtlespeech_config(RNN_T).config


@pytest.mark.parametrize(("revision", "written"), [
    ("24d2df3", "dropout: 0.0;"), ("24d2df3", ""), ("ef42c3f", "dropout { value: 0.0 }"),
    ("ef42c3f", ""),
])
def test_zero_or_absent_dropout_is_no_dropout(tmp_path, revision, written):
    path = write(tmp_path, RNN_T.read_text().replace("dropout: 0.25;", written))
    assert read_myrtlespeech_config(path, revision=revision).config.dropout is None


def one_line(old: str, new: str) -> str:
    assert old in TEXT, old
    return TEXT.replace(old, new, 1)


@pytest.mark.parametrize(("text", "message"), [
    (one_line("    rnn_t_encoder {\n", "    rnn_t_encoder {\n      time_reduction_factor: 2;\n"),
     r"rnn_t\.rnn_t_encoder\.time_reduction_factor / rnn2 \(time reduction\)"),
    (one_line("    fully_connected {\n      num_hidden_layers: 1;",
              "    fully_connected {\n      num_hidden_layers: 2;"),
     r"rnn_t\.fully_connected\.num_hidden_layers = 2; .*one hidden layer"),
    (one_line("min_val: 0.0; max_val: 20.0; } }\n      }\n      rnn1",
              "min_val: -1.0; max_val: 1.0; } }\n      }\n      rnn1"),
     r"rnn_t\.rnn_t_encoder\.fc1\.activation must be hardtanh"),
    (one_line("rnn1 { rnn_type: LSTM;", "rnn1 { rnn_type: GRU;"),
     r"rnn_t\.rnn_t_encoder\.rnn1 must be a unidirectional LSTM"),
    (one_line("bias: true; bidirectional: false; batch_first",
              "bias: true; bidirectional: true; batch_first"),
     r"rnn_t\.dec_rnn must be a unidirectional LSTM"),
    (one_line("hidden_size: 512; dropout: 0.25;", "hidden_size: 512; dropout: 0.5;"),
     r"dropouts 0\.25, 0\.25, 0\.5 differ per block"),
    (one_line("hidden_size: 512; dropout: 0.25;", "hidden_size: 512; dropout: 1.5;"),
     r"rnn_t\.fully_connected\.dropout = 1\.5; .*\[0, 1\]"),
    (one_line("rnn_t_loss { blank_index: 28;", "rnn_t_loss { blank_index: 0;"),
     r"rnn_t_loss\.blank_index = 0; .*last symbol \(28\)"),
    (one_line("bidirectional: false; forget_gate_bias",
              "bidirectional: false; batch_first: true; forget_gate_bias"),
     r"rnn_t\.rnn_t_encoder\.rnn1\.batch_first = true; .*asserts false"),
    (one_line("bidirectional: false; batch_first: true;", "bidirectional: false;"),
     r"rnn_t\.dec_rnn\.batch_first = false; .*asserts true"),
    (one_line("lmfb { n_mels: 80;", "mfcc { n_mfcc: 80;"),
     r"pre_process_step\[0\]\.mfcc: MFCC features are not modelled"),
    (one_line("stage: TRAIN_AND_EVAL; lmfb", "stage: TRAIN; lmfb"),
     r"pre_process_step\[0\]\.lmfb at TRAIN: .*input width"),
    (one_line("context_frames { n_context: 2; } }\n",
              "context_frames { n_context: 2; } }\n  pre_process_step { stage: TRAIN_AND_EVAL; "
              "context_frames { n_context: 1; } }\n"),
     r"pre_process_step\[3\]\.context_frames at TRAIN_AND_EVAL: .*once"),
    (one_line("standardize { } }\n", "spec_augment { time_mask: 10; } }\n"),
     r"pre_process_step\[1\]\.spec_augment at TRAIN_AND_EVAL: .*mask"),
    (one_line("  pre_process_step { stage: TRAIN_AND_EVAL; lmfb { n_mels: 80; win_length: 400; "
              "hop_length: 160; } }\n", ""),
     r"no lmfb pre_process_step"),
    (one_line("      fc2 {", "      fc3 {"), r'no field named "fc3"'),
])
def test_every_refusal_names_its_field(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        read_myrtlespeech_config(write(tmp_path, text))


def test_a_parse_error_gives_the_line_and_column(tmp_path):
    path = write(tmp_path, one_line("hidden_size: 256", 'hidden_size: "wide"'))
    line = next(n for n, text in enumerate(TEXT.splitlines(), 1) if "hidden_size: 256" in text)
    with pytest.raises(ConfigError, match=rf"c\.config:{line}:\d+ : .*Couldn't parse integer"):
        read_myrtlespeech_config(path)


@pytest.mark.parametrize(("text", "message"), [
    ('speech_to_text { alphabet: "ab_"; }\n', "missing required field 'speech_to_text.rnn_t'"),
    ('train_config { batch_size: 1; }\n', "missing required field 'speech_to_text'"),
])
def test_a_config_without_a_model_is_refused(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        read_myrtlespeech_config(write(tmp_path, text))


def test_an_unknown_pre_process_step_is_refused(tmp_path):
    path = write(tmp_path, one_line("context_frames { n_context: 2; }",
                                    "downsample { subsample: 3; }"))
    with pytest.raises(ConfigError, match=r'no field named "downsample".*pre_process_step '
                                          r"kinds: mfcc, lmfb, spec_augment"):
        read_myrtlespeech_config(path)


def test_an_unknown_pre_process_step_in_a_binary_config_is_refused(tmp_path):
    seed = parse_task_config(CONFIG).SerializeToString()
    step_with_field_7 = b"\x0a\x04\x12\x02\x3a\x00"
    path = tmp_path / "c.pb"
    path.write_bytes(seed + step_with_field_7)
    with pytest.raises(ConfigError, match=r"speech_to_text\.pre_process_step\[3\]: field 7"):
        read_myrtlespeech_config(path)


def test_a_pre_process_step_of_no_kind_is_refused(tmp_path):
    path = write(tmp_path, one_line("pre_process_step { stage: TRAIN_AND_EVAL; standardize { } }",
                                    "pre_process_step { stage: TRAIN_AND_EVAL; }"))
    with pytest.raises(ConfigError, match=r"pre_process_step\[1\] sets no step kind"):
        read_myrtlespeech_config(path)


def test_a_binary_config_of_another_revision_is_refused_naming_its_fields():
    with pytest.raises(ConfigError, match=r"not in the ef42c3f schema: speech_to_text\.rnn_t\."
                                          r"rnn_t_encoder\.fc1: field 4 .*revision='24d2df3'"):
        read_myrtlespeech_config(RNN_T.with_suffix(".pb"), revision="ef42c3f")


@pytest.mark.parametrize(("revision", "schema"), [
    (None, "24d2df3"), ("24d2df3", "24d2df3"), ("ef42c3f", "ef42c3f"), ("45899f7", "ef42c3f"),
    ("a7eea9a", "ef42c3f"), ("EF42C3F9B2082A3B987D60070BB074DE965F74E6", "ef42c3f"),
])
def test_revision_picks_the_schema(tmp_path, revision, schema):
    text = TEXT if schema == "24d2df3" else TEXT.replace("dropout: 0.25;",
                                                         "dropout { value: 0.25 }")
    assert read_myrtlespeech_config(write(tmp_path, text), revision=revision).revision == schema


@pytest.mark.parametrize("revision", ["main", "24d2df", "0000000"])
def test_an_unknown_revision_is_refused_listing_the_known_ones(revision):
    with pytest.raises(ConfigError, match=r"unknown myrtlespeech revision .*known: 24d2df3, "
                                          r"ef42c3f, 45899f7, a7eea9a \(default 24d2df3\)"):
        read_myrtlespeech_config(CONFIG, revision=revision)
