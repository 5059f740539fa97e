"""What a canonical state dict shows: every size; and what it does not (activations, blank,
start symbol) unless the checkpoint carries its `canonical_config` (as `port` writes it)."""

from __future__ import annotations

from reference_impls.models.canonical import CanonicalConfig
from rnnt_parity.codebases.base import InferredConfig, count_keys, require_keys

CONFIG_EXTRA = "canonical_config"
"""The extras entry in which a canonical checkpoint written by `port` describes itself."""


def canonical_config_from_extras(extras: dict) -> CanonicalConfig:
    """The config a canonical checkpoint carries (whether its tensors fit it is
    `shape_check`'s question); ValueError naming a field it lacks or does not know."""
    fields = dict(extras[CONFIG_EXTRA])
    for name in ("encoder_fc_in", "encoder_fc_out"):
        fields[name] = tuple(fields.get(name, ()))
    try:
        return CanonicalConfig(**fields)
    except TypeError as error:
        raise ValueError(f"the checkpoint's {CONFIG_EXTRA} is not a canonical config: "
                         f"{error}") from None


ACTIVATIONS = ("relu", "tanh", "hardtanh_0_20")
UNREADABLE = {"hard_activations": ("true", "false"), "joint_activation": ACTIVATIONS,
              "fc_activation": ACTIVATIONS, "start_symbol": ("zero", "blank_embedding")}
"""What a canonical state dict without its `canonical_config` cannot show (see
`CanonicalConfig`): LSTM activations, the joint's and the fully connected layers'
activations, and whether the start symbol is a zero vector or blank's embedding."""


def settled_by(config: CanonicalConfig) -> dict[str, str]:
    """The UNREADABLE properties as `config` sets them, as statements would give them."""
    return {"hard_activations": str(config.lstm_gates == "hard").lower(),
            "joint_activation": config.joint_activation, "fc_activation": config.fc_activation,
            "start_symbol": config.start_symbol}


def infer_canonical(state: dict, extras: dict | None = None,
                    stated: dict | None = None) -> InferredConfig:
    if extras and CONFIG_EXTRA in extras:
        config = canonical_config_from_extras(extras)
        says = settled_by(config)
        for name, value in (stated or {}).items():
            if str(value).lower() != says[name]:
                raise ValueError(f"--assume {name}={str(value).lower()} contradicts the "
                                 f"checkpoint's {CONFIG_EXTRA}, which says {says[name]}")
        return InferredConfig("canonical", config, {}, {}, {
            name: f"{value} (the checkpoint's {CONFIG_EXTRA})" for name, value in says.items()})
    require_keys(state, ["prediction.embedding.weight", "joint.encoder.weight",
                         "joint.output.weight"], "canonical")
    pre = count_keys(state, r"encoder\.pre\.\d+\.weight_ih")
    post = count_keys(state, r"encoder\.post\.\d+\.weight_ih")
    fc_in = tuple(state[f"encoder.fc_in.{k}.weight"].shape[0]
                  for k in range(count_keys(state, r"encoder\.fc_in\.\d+\.weight")))
    fc_out = tuple(state[f"encoder.fc_out.{k}.weight"].shape[0]
                   for k in range(count_keys(state, r"encoder\.fc_out\.\d+\.weight")))
    hidden = (state["encoder.pre.0.weight_hh"].shape[1] if pre
              else state["joint.encoder.weight"].shape[1])
    vocab = state["joint.output.weight"].shape[0]
    inputs = (state["encoder.fc_in.0.weight"].shape[1] if fc_in else
              state["encoder.pre.0.weight_ih"].shape[1] if pre else hidden)
    stated = stated or {}
    relevant = {"hard_activations": True, "joint_activation": True,
                "fc_activation": bool(fc_in or fc_out), "start_symbol": True}
    hard = bool(stated.get("hard_activations", False))
    config = CanonicalConfig(
        input_features=inputs, encoder_hidden=hidden, pre_layers=pre, post_layers=post,
        time_stack=state["encoder.post.0.weight_ih"].shape[1] // hidden if post else 1,
        prediction_hidden=state["prediction.embedding.weight"].shape[1],
        prediction_layers=count_keys(state, r"prediction\.lstm\.\d+\.weight_ih"),
        joint_hidden=state["joint.encoder.weight"].shape[0], vocab_size=vocab,
        blank=vocab - 1, lstm_gates="hard" if hard else "sigmoid",
        lstm_cell="hard" if hard else "tanh", ctc_head="ctc.weight" in state,
        encoder_fc_in=fc_in, encoder_fc_out=fc_out,
        joint_activation=stated.get("joint_activation", "relu"),
        fc_activation=stated.get("fc_activation", "hardtanh_0_20"),
        start_symbol=stated.get("start_symbol", "zero"))
    assumed = {"blank": f"{vocab - 1} (the last index)",
               "note": f"canonical checkpoints written by `rnnt-parity port` carry "
                       f"'{CONFIG_EXTRA}' and need no statements"}
    unknown = {name: f"one of {list(UNREADABLE[name])}; the state dict alone does not say"
               for name, needed in relevant.items() if needed and name not in stated}
    known = {name: f"{value} (stated)" for name, value in stated.items()}
    return InferredConfig("canonical", config, assumed, unknown, known)
