"""NVIDIA NeMo's hybrid RNN-T + CTC heads (nemo-toolkit 3.0.0): module tree (`model`), what
its weights show (`infer`), weight maps (`maps/`), model_config.yaml / .nemo configs and
NeMo's preprocessor as the model input (`config`)."""

from rnnt_parity.codebases.base import Codebase
from rnnt_parity.codebases.nemo.config import read_nemo_model_input, read_nemo_yaml
from rnnt_parity.codebases.nemo.infer import infer_nemo, nemo_from_canonical
from rnnt_parity.codebases.nemo.model import NeMoConfig, NeMoHybridHead, stages

CODEBASE = Codebase(
    "nemo", ("decoder.prediction.", "joint.joint_net."), infer_nemo, NeMoHybridHead,
    NeMoConfig.canonical, nemo_from_canonical, lambda c: c.vocab_size,
    model_class=NeMoHybridHead, stages=stages,
    correspondences=(
        ("decoder.prediction.dec_rnn.lstm", "prediction.lstm.{last}", "same"),
        ("joint.enc", "joint.encoder", "same"),
        ("joint.pred", "joint.prediction", "same"),
        ("joint.joint_net", "joint.output", "same"),
        ("ctc_decoder.decoder_layers", "ctc", "swap_1_2")),
    read_config=lambda path, n_classes=None: read_nemo_yaml(path),
    read_model_input=read_nemo_model_input,
    not_inferable=frozenset({"joint_dropout", "log_softmax", "durations"}),
    presence_only=("joint_dropout",), unreadable={"joint_activation": ("relu",)},
    statements_of=lambda c: {"joint_activation": "relu"}, heads_only=True)

__all__ = ["CODEBASE", "NeMoConfig", "NeMoHybridHead"]
