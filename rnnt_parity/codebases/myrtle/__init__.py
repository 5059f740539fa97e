"""Myrtle.ai's RNN-T (MyrtleSoftware/caiman-asr, v1.3.0 and v1.14.0; the MLPerf RNN-T
lineage): module tree (`model`), what its weights show (`infer`), weight maps (`maps/`), YAML
configs and the v1.3 model input (`config`)."""

from rnnt_parity.codebases.base import Codebase, Interface, TimeStacking
from rnnt_parity.codebases.myrtle.config import read_myrtle_model_input, read_myrtle_yaml
from rnnt_parity.codebases.myrtle.infer import infer_myrtle, myrtle_from_canonical
from rnnt_parity.codebases.myrtle.model import MYRTLE_CONFIGS, MyrtleConfig, MyrtleRNNT, stages

CODEBASE = Codebase(
    "myrtle_rnnt", ("encoder.pre_rnn.", "joint_net.2.weight"), infer_myrtle, MyrtleRNNT,
    MyrtleConfig.canonical, myrtle_from_canonical, lambda c: c.n_classes - 1,
    model_class=MyrtleRNNT, stages=stages,
    correspondences=(
        ("encoder.pre_rnn", "encoder.pre.{last}", "same"),
        ("encoder.post_rnn", "encoder.post.{last}", "same"),
        ("prediction.dec_rnn", "prediction.lstm.{last}", "same"),
        ("joint_enc", "joint.encoder", "same"),
        ("joint_pred", "joint.prediction", "same"),
        ("joint_net", "joint.output", "same")),
    read_config=lambda path, n_classes=None: read_myrtle_yaml(path, n_classes),
    read_model_input=read_myrtle_model_input,
    not_inferable=frozenset({"enc_dropout", "pred_dropout", "joint_dropout", "custom_lstm",
                             "hard_activation_functions"}),
    unreadable={"hard_activations": ("true", "false")},
    interface_of=lambda c: Interface(c.in_feats, c.n_classes, c.n_classes - 1),
    statements_of=lambda c: {
        "hard_activations": str(c.custom_lstm and c.hard_activation_functions).lower()},
    time_stacking=TimeStacking(
        "the padded batch",
        "the next frame of the padded batch (Myrtle's StackTime shifts over the whole padded "
        "batch, so it reads pre_rnn's output on a padding frame)",
        lambda c: c.enc_stack_time_factor))

__all__ = ["CODEBASE", "MYRTLE_CONFIGS", "MyrtleConfig", "MyrtleRNNT"]
