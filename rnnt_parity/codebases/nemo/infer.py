"""What a NeMo transducer state dict shows (the heads' sizes, the presence of joint dropout
and of a CTC head, a TDT joint's number of durations), what lies outside the heads (a .nemo's
encoder and preprocessor), what it cannot show (the joint's activation, unless a .nemo's
model_config.yaml says it), and the NeMo heads of a canonical model."""

from __future__ import annotations

from reference_impls.models.canonical import CanonicalConfig
from rnnt_parity.codebases.base import (
    InferredConfig,
    count_keys,
    require_keys,
    shared_convention_problems,
)
from rnnt_parity.codebases.nemo.model import NeMoConfig

HEADS = ("decoder.", "joint.", "ctc_decoder.")
OUTSIDE = {"encoder.": "NeMo's encoder (ConformerEncoder) is outside the heads-only family: "
                      "ports take its outputs as their input",
           "preprocessor.": "NeMo's preprocessor (its mel filterbank and window) is the model "
                            "input (`features extract`), not part of the heads"}
JOINT_ACTIVATION = "joint_activation"


def _model_config(extras: dict | None) -> dict | None:
    """A .nemo archive's model_config.yaml, parsed (None when the checkpoint has none)."""
    text = (extras or {}).get("nemo_model_config_yaml")
    if not isinstance(text, str):
        return None
    import yaml

    data = yaml.safe_load(text)
    return data.get("model", data) if isinstance(data, dict) else None


def _durations(config: dict | None, count: int) -> tuple[int, ...]:
    """A TDT joint's durations from the model config (model_defaults.tdt_durations or the
    loss's tdt_kwargs), -1 for each of `count` when it does not say."""
    candidates = [((config or {}).get("model_defaults") or {}).get("tdt_durations"),
                  (((config or {}).get("loss") or {}).get("tdt_kwargs") or {}).get("durations")]
    for values in candidates:
        if isinstance(values, list) and len(values) == count:
            return tuple(int(v) for v in values)
    return (-1,) * count


def infer_nemo(state: dict, extras: dict | None = None,
               stated: dict | None = None) -> InferredConfig:
    outside = {key: why for key in state for prefix, why in OUTSIDE.items()
               if key.startswith(prefix)}
    strays = sorted(k for k in state if k not in outside and not k.startswith(HEADS))
    if strays:
        raise ValueError(f"not a nemo transducer state dict: {len(strays)} tensor(s) belong to "
                         f"no part NeMo's heads, encoder or preprocessor have, e.g. {strays[:3]}")
    heads = {k: v for k, v in state.items() if k not in outside}
    if any(".layers." in key and "dec_rnn" in key for key in heads):
        raise ValueError("NeMo's batch-norm decoder (BNRNNSum, dec_rnn.layers.*) has no "
                         "canonical counterpart: the canonical model has no batch norm")
    if any("weight_hr_l" in key for key in heads):
        raise ValueError("NeMo's projected LSTM (weight_hr_l*, rnn_hidden_size > pred_hidden) "
                         "has no canonical counterpart")
    require_keys(heads, ["decoder.prediction.embed.weight", "joint.enc.weight",
                         "joint.pred.weight"], "nemo")
    output = next((k for k in ("joint.joint_net.2.weight", "joint.joint_net.1.weight")
                   if k in heads), None)
    if output is None:
        raise ValueError("not a complete nemo state dict: missing joint.joint_net.{1,2}.weight")
    symbols = heads["decoder.prediction.embed.weight"].shape[0]
    extra = heads[output].shape[0] - symbols
    if extra < 0:
        raise ValueError(f"{output} has {heads[output].shape[0]} outputs, fewer than the "
                         f"embedding's {symbols} symbols (tokens + blank)")
    model_config = _model_config(extras)
    config = NeMoConfig(
        encoder_dim=heads["joint.enc.weight"].shape[1],
        pred_hidden=heads["decoder.prediction.embed.weight"].shape[1],
        pred_rnn_layers=count_keys(heads, r"decoder\.prediction\.dec_rnn\.lstm\.weight_ih_l\d+"),
        joint_hidden=heads["joint.enc.weight"].shape[0], vocab_size=symbols - 1,
        joint_dropout=0.2 if output.endswith("2.weight") else 0.0,
        ctc_head="ctc_decoder.decoder_layers.0.weight" in heads,
        durations=_durations(model_config, extra))
    assumed = {"joint dropout": f"{config.joint_dropout} (only its presence shows, in the "
                                "joint_net index)",
               "blank": f"{config.vocab_size} (after the {config.vocab_size} tokens, NeMo's "
                        "convention)",
               "log_softmax": "None (NeMo's default: log-probs on the CPU, logits on CUDA)"}
    if extra:
        assumed["TDT durations"] = (
            f"{list(config.durations)} ({extra} duration outputs after the blank, from the "
            "model config; -1: it does not say. Only TDT decoding reads them, and "
            "rnnt-parity does not reproduce it: forward emits the duration logits as they are")
    if not config.ctc_head:
        assumed["CTC head"] = "none (an RNN-T model, EncDecRNNTModel's layout)"
    stated = stated or {}
    activation = ((model_config or {}).get("joint") or {}).get("jointnet", {}).get("activation")
    unknown, known = {}, {}
    if JOINT_ACTIVATION in stated:
        known[JOINT_ACTIVATION] = f"{stated[JOINT_ACTIVATION]} (stated)"
    elif activation is not None:
        if activation != "relu":
            raise ValueError(f"the checkpoint's model config has joint.jointnet.activation "
                             f"{activation!r}; only relu is reproduced")
        known[JOINT_ACTIVATION] = "relu (the .nemo's model_config.yaml)"
    else:
        unknown[JOINT_ACTIVATION] = ("the joint's activation (NeMo: relu, sigmoid or tanh; "
                                     "only relu is reproduced): not in the weights; a .nemo "
                                     "archive's model_config.yaml says it")
    return InferredConfig("nemo", config, assumed, unknown, known, outside)


def nemo_from_canonical(config: CanonicalConfig) -> NeMoConfig:
    """The NeMo heads holding a canonical model, or ValueError naming what has none."""
    problems = shared_convention_problems(config, "NeMo's")
    if config.pre_layers:
        problems.append("the model has LSTM encoder layers; NeMo's encoder is a Conformer "
                        "outside this family")
    if config.lstm_gates != "sigmoid" or config.lstm_cell != "tanh":
        problems.append("hard LSTM activations; NeMo's are sigmoid/tanh")
    if problems:
        raise ValueError("no nemo counterpart: " + "; ".join(problems))
    return NeMoConfig(encoder_dim=config.encoder_hidden, pred_hidden=config.prediction_hidden,
                      pred_rnn_layers=config.prediction_layers, joint_hidden=config.joint_hidden,
                      vocab_size=config.vocab_size - 1, ctc_head=config.ctc_head)
