"""myrtlespeech's RNN-T (MyrtleSoftware/myrtlespeech, 24d2df3 / ef42c3f / 45899f7 /
a7eea9a): module tree (`model`), what its weights show (`infer`), weight maps (`maps/`),
protobuf task configs (`config`, `protos/`) and its model input (`model_input`)."""

from rnnt_parity.codebases.base import Codebase
from rnnt_parity.codebases.myrtlespeech.config import read_myrtlespeech_config
from rnnt_parity.codebases.myrtlespeech.infer import (
    infer_myrtlespeech,
    input_width_problems,
    myrtlespeech_from_canonical,
)
from rnnt_parity.codebases.myrtlespeech.model import (
    MyrtlespeechConfig,
    MyrtlespeechRNNT,
    stages,
)
from rnnt_parity.codebases.myrtlespeech.model_input import read_myrtlespeech_model_input

CODEBASE = Codebase(
    "myrtlespeech", ("encode.rnn1.", "predict_net.embed.weight"), infer_myrtlespeech,
    MyrtlespeechRNNT, MyrtlespeechConfig.canonical, myrtlespeech_from_canonical,
    lambda c: c.vocab_size - 1, model_class=MyrtlespeechRNNT, stages=stages,
    correspondences=(
        ("encode.fc1.fully_connected", "encoder.fc_in.{last}", "swap_0_1"),
        ("encode.rnn1.rnn", "encoder.pre.{last}", "same"),
        ("encode.fc2.fully_connected", "encoder.fc_out.{last}", "swap_0_1"),
        ("predict_net", "prediction", "same"),
        ("joint_net", "joint", "same")),
    read_config=lambda path, n_classes=None: read_myrtlespeech_config(path),
    read_model_input=read_myrtlespeech_model_input,
    not_inferable=frozenset({"input_channels", "input_features", "dropout"}),
    presence_only=("dropout",), config_problems=input_width_problems)

__all__ = ["CODEBASE", "MyrtlespeechConfig", "MyrtlespeechRNNT"]
