"""myrtlespeech task configs (protobuf text `.config` or binary `.pb`) -> `MyrtlespeechConfig`,
the pre-processing steps, the model input they make (`model_input` beside this module) and
the greedy decoder's limit.

Schemas (`protos` beside this module): `revision` picks the myrtlespeech revision whose
protos the file follows; the default is 24d2df3. Its protos and ef42c3f's conflict
(FullyConnected.dropout is a float at 24d2df3 and a FloatValue at ef42c3f; TrainConfig's
dataset is field 5 at 24d2df3 and 9 at ef42c3f, behind a learning-rate-scheduler oneof), so
each has a schema. 24d2df3 is the default because it is the only revision whose own
rnn_t_en.config parses with its own protos. ef42c3f's (and 45899f7's and a7eea9a's) writes
`dropout: 0.25` where their protos want `dropout { value: 0.25 }`, and ef42c3f's also holds
unresolved merge-conflict markers. ef42c3f's RNN-T builder cannot build the model either:
its RNN builder ignores `batch_first`, and RNNT asserts a batch-first dec_rnn.

Reading follows 24d2df3's builders. Sizes: fc1's output is rnn1's hidden size, fc2's output is
the joint's hidden size, the embedding width is dec_rnn's hidden size, and the output layer has
len(alphabet) classes with the blank last. Dropout: at 24d2df3 a float, none unless above
1e-8; at ef42c3f a FloatValue, none when absent or 0 (each revision's builder). Either way
above 1 is refused, as myrtlespeech's FullyConnected refuses it. `forget_gate_bias` only
initialises and is ignored.

Refused, with the field named and why: no RNN-T model (DeepSpeech configs parse but are
refused); time reduction (rnn2); other than one hidden layer per fully connected block;
activations other than Hardtanh(0, 20); GRUs and basic RNNs; bidirectional or bias-free
LSTMs; different dropouts per block; blank not last; at 24d2df3, a batch-first rnn1 or a
time-major dec_rnn (its RNNTEncoder and RNNT assert the opposite). Pre-processing: a step of
no kind the builder knows (mfcc, lmfb, spec_augment, standardize, context_frames), and what
`myrtlespeech_input` refuses. Binary
files must hold only fields of the schema: a field it lacks is refused with its path (a
file written for another revision shows up this way). A file that fails to parse names the
other revisions whose schema does parse it.
"""

from __future__ import annotations

from pathlib import Path

from rnnt_parity.codebases.myrtlespeech.model import MyrtlespeechConfig
from rnnt_parity.codebases.myrtlespeech.model_input import myrtlespeech_model_input
from rnnt_parity.codebases.myrtlespeech.protos import (
    REVISIONS,
    SCHEMAS,
    message_class,
    revision_of,
    schema_of,
)
from rnnt_parity.configs.common import ConfigError, NativeConfig

BINARY_SUFFIXES = (".pb", ".binpb")
STEP_KINDS = ("mfcc", "lmfb", "spec_augment", "standardize", "context_frames")
"""The pre_process_step kinds myrtlespeech's builder knows."""
BATCH_FIRST_READ = {"24d2df3": True, "ef42c3f": False}
"""Per schema, whether its RNN builder reads RNN.batch_first (ef42c3f's ignores it)."""


def _parse(data: str | bytes, schema: str):
    """TaskConfig of `schema` from text (str) or binary (bytes); raises protobuf's error, or
    ValueError naming the fields a binary message holds that the schema lacks."""
    from google.protobuf import text_format

    task = message_class(schema, "TaskConfig")()
    if isinstance(data, str):
        return text_format.Parse(data, task)
    task.ParseFromString(data)
    unknown = _unknown_fields(task, "")
    if unknown:
        raise ValueError(f"fields not in the {schema} schema: {', '.join(unknown)}")
    return task


def _unknown_fields(message, where: str) -> list[str]:
    from google.protobuf import unknown_fields

    found = [f"{where or '<TaskConfig>'}: field {field.field_number} (wire type "
             f"{field.wire_type})" for field in unknown_fields.UnknownFieldSet(message)]
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        name = f"{where}.{descriptor.name}" if where else descriptor.name
        values = enumerate(value) if descriptor.is_repeated else [(None, value)]
        for index, inner in values:
            found += _unknown_fields(inner, name if index is None else f"{name}[{index}]")
    return found


def _hint(data: str | bytes, schema: str, error: Exception) -> str:
    from google.protobuf import message, text_format

    notes = []
    if isinstance(data, str):
        markers = [number for number, line in enumerate(data.splitlines(), 1)
                   if line.startswith(("<<<<<<<", ">>>>>>>"))]
        if markers:
            notes.append(f"unresolved git merge-conflict markers at line(s) {markers}")
        if 'PreProcessStep" has no field named' in str(error):
            notes.append(f"myrtlespeech's pre_process_step kinds: {', '.join(STEP_KINDS)}")
    parsing = []
    for other in SCHEMAS:
        if other == schema:
            continue
        try:
            _parse(data, other)
        except (text_format.ParseError, message.DecodeError, ValueError):
            continue
        parsing += [revision for revision, its in REVISIONS.items() if its == other]
    if parsing:
        notes.append(f"it parses with the schema of revision(s) {', '.join(parsing)}: pass "
                     f"revision={parsing[0]!r}")
    return f" ({'; '.join(notes)})" if notes else ""


def parse_task_config(path: Path, text: str | bytes | None = None, revision: str | None = None):
    """The TaskConfig message of `revision`'s schema. The file is binary if `text` is bytes,
    or, `text` being None, if `path` ends in .pb or .binpb; text otherwise. ConfigError with
    protobuf's line:column (text) or the unknown fields (binary) on bad input."""
    from google.protobuf import message, text_format

    schema = schema_of(revision)
    if text is None:
        text = path.read_bytes() if path.suffix in BINARY_SUFFIXES else path.read_text()
    try:
        return _parse(text, schema)
    except (text_format.ParseError, message.DecodeError, ValueError) as error:
        where = f"{path}:" if isinstance(error, text_format.ParseError) else f"{path}: "
        raise ConfigError(f"{where}{error}{_hint(text, schema, error)}") from error


def pre_process_steps(speech, path: Path) -> tuple:
    """(kind, stage name, {field: value}) per pre_process_step, in config order."""
    steps = []
    stages = speech.DESCRIPTOR.fields_by_name["pre_process_step"].message_type \
        .fields_by_name["stage"].enum_type
    for index, step in enumerate(speech.pre_process_step):
        where = f"speech_to_text.pre_process_step[{index}]"
        kind = step.WhichOneof("pre_process_step")
        if kind is None:
            raise ConfigError(f"{path}: {where} sets no step kind myrtlespeech's builder knows "
                              f"({', '.join(STEP_KINDS)})")
        if step.stage not in stages.values_by_number:
            raise ConfigError(f"{path}: {where}.stage = {step.stage} is not a Stage "
                              f"({', '.join(stages.values_by_name)})")
        fields = getattr(step, kind)
        steps.append((kind, stages.values_by_number[step.stage].name,
                      {field.name: getattr(fields, field.name)
                       for field in fields.DESCRIPTOR.fields}))
    return tuple(steps)


def _dropout(block, where: str, path: Path) -> float | None:
    """The block's dropout as its revision's builder reads it: a float field (24d2df3) counts
    above 1e-8; a FloatValue (ef42c3f) counts when set and non-zero."""
    if block.DESCRIPTOR.fields_by_name["dropout"].message_type is None:
        dropout = block.dropout if block.dropout > 1e-8 else None
    else:
        dropout = (block.dropout.value if block.HasField("dropout") else None) or None
    if dropout is not None and not 0.0 <= dropout <= 1.0:
        raise ConfigError(f"{path}: {where}.dropout = {dropout}; myrtlespeech's FullyConnected "
                          "needs a probability in [0, 1]")
    return dropout


def _fully_connected(parent, name: str, where: str, path: Path) -> tuple[int, float | None]:
    if not parent.HasField(name):
        raise ConfigError(f"{path}: missing required field '{where}'")
    block = getattr(parent, name)
    if block.num_hidden_layers != 1:
        raise ConfigError(f"{path}: {where}.num_hidden_layers = {block.num_hidden_layers}; "
                          "the family has exactly one hidden layer")
    kind = block.activation.WhichOneof("activation")
    hardtanh = block.activation.hardtanh
    if kind != "hardtanh" or (hardtanh.min_val, hardtanh.max_val) != (0.0, 20.0):
        raise ConfigError(f"{path}: {where}.activation must be hardtanh {{min_val: 0.0 "
                          f"max_val: 20.0}}, got {kind}")
    if block.hidden_size < 1:
        raise ConfigError(f"{path}: missing required field '{where}.hidden_size'")
    return block.hidden_size, _dropout(block, where, path)


def _lstm(parent, name: str, where: str, path: Path, batch_first: bool | None
          ) -> tuple[int, int]:
    """hidden size and layers; `batch_first` is the layout the model asserts (None: the
    revision's builder ignores the field)."""
    if not parent.HasField(name):
        raise ConfigError(f"{path}: missing required field '{where}'")
    rnn = getattr(parent, name)
    if rnn.rnn_type != rnn.LSTM or rnn.bidirectional or not rnn.bias:
        raise ConfigError(f"{path}: {where} must be a unidirectional LSTM with bias")
    if rnn.hidden_size < 1 or rnn.num_layers < 1:
        raise ConfigError(f"{path}: missing required field '{where}.hidden_size' or "
                          f"'{where}.num_layers'")
    if batch_first is not None and rnn.batch_first != batch_first:
        raise ConfigError(f"{path}: {where}.batch_first = {str(rnn.batch_first).lower()}; "
                          f"myrtlespeech's model asserts {str(batch_first).lower()}")
    return rnn.hidden_size, rnn.num_layers


def _speech_to_text(task, path: Path):
    if task.WhichOneof("supported_models") != "speech_to_text":
        raise ConfigError(f"{path}: missing required field 'speech_to_text'")
    speech = task.speech_to_text
    model = speech.WhichOneof("supported_models")
    if model is None:
        raise ConfigError(f"{path}: missing required field 'speech_to_text.rnn_t'")
    if model != "rnn_t":
        raise ConfigError(f"{path}: speech_to_text.{model}: the myrtlespeech family is the "
                          "RNN-T (speech_to_text.rnn_t)")
    return speech


def read_myrtlespeech_config(path: str | Path, text: str | bytes | None = None,
                             revision: str | None = None) -> NativeConfig:
    """Read a myrtlespeech task config (see the module docstring); `revision` names the
    myrtlespeech revision whose schema it follows (None: 24d2df3)."""
    path = Path(path)
    schema = schema_of(revision)
    task = parse_task_config(path, text, revision)
    speech = _speech_to_text(task, path)
    rnn_t = speech.rnn_t
    encoder = rnn_t.rnn_t_encoder
    if encoder.time_reduction_factor or encoder.HasField("rnn2"):
        raise ConfigError(f"{path}: rnn_t.rnn_t_encoder.time_reduction_factor / rnn2 (time "
                          "reduction) is not reproduced by the myrtlespeech family")
    fc1, dropout1 = _fully_connected(encoder, "fc1", "rnn_t.rnn_t_encoder.fc1", path)
    fc2, dropout2 = _fully_connected(encoder, "fc2", "rnn_t.rnn_t_encoder.fc2", path)
    joint, dropout3 = _fully_connected(rnn_t, "fully_connected", "rnn_t.fully_connected", path)
    if len({dropout1, dropout2, dropout3}) != 1:
        raise ConfigError(f"{path}: dropouts {dropout1}, {dropout2}, {dropout3} differ per "
                          "block; the family has one dropout")
    layout_read = BATCH_FIRST_READ[schema]
    rnn_hidden, rnn_layers = _lstm(encoder, "rnn1", "rnn_t.rnn_t_encoder.rnn1", path,
                                   False if layout_read else None)
    pred_hidden, pred_layers = _lstm(rnn_t, "dec_rnn", "rnn_t.dec_rnn", path,
                                     True if layout_read else None)
    if len(speech.alphabet) < 2:
        raise ConfigError(f"{path}: missing required field 'speech_to_text.alphabet'")
    last = len(speech.alphabet) - 1
    blank = speech.rnn_t_loss.blank_index if speech.HasField("rnn_t_loss") else last
    if blank != last:
        raise ConfigError(f"{path}: rnn_t_loss.blank_index = {blank}; the family's blank is "
                          f"the last symbol ({last})")
    steps = pre_process_steps(speech, path)
    model_input, _, input_notes = myrtlespeech_model_input(steps, revision_of(revision), path)
    config = MyrtlespeechConfig(
        input_features=model_input.n_mels, input_channels=model_input.copies, fc1_hidden=fc1,
        rnn_hidden=rnn_hidden, rnn_layers=rnn_layers, fc2_hidden=fc2, encoder_out=joint,
        pred_hidden=pred_hidden, pred_layers=pred_layers, joint_hidden=joint,
        vocab_size=len(speech.alphabet), dropout=dropout1)
    decoder = {"max_symbols_per_frame":
               speech.rnn_t_greedy_decoder.max_symbols_per_step or None}
    notes = ()
    if revision is None:
        notes += (f"read with the schema of myrtlespeech revision {schema} (the default; no "
                  "revision was given)",)
    if not layout_read and (encoder.rnn1.batch_first or rnn_t.dec_rnn.batch_first):
        notes += (f"batch_first is set but {schema}'s RNN builder does not read it",)
    return NativeConfig("myrtlespeech", config, path, decoder=decoder, model_input=model_input,
                        pre_process_steps=steps, notes=notes + input_notes, revision=schema)
