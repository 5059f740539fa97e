"""The canonical RNN-T (+ optional CTC head) forward pass in NumPy: the oracle for every
torch model family (their weights are mapped into this layout first).

Layout and conventions (the hub every weight map routes through):
    features   (B, T, F) batch-first, F = input_features (after any front-end stacking)
    encoder    [fully connected layers `encoder_fc_in`] -> `pre_layers` LSTM layers ->
               stack time by `time_stack` (frame s = [h_ks, ..., h_ks+k-1], zeros past each
               utterance's length, length ceil(L/k)) -> `post_layers` LSTM layers ->
               [fully connected layers `encoder_fc_out`]; each fully connected layer is
               Linear then `fc_activation` (myrtlespeech: Hardtanh(0, 20)). Output (B, T', E)
               with E = encoder_fc_out[-1], or encoder_hidden without output layers. With no
               layers at all the encoder lives outside the model (NeMo's Conformer) and the
               features are the encodings (input_features = encoder_hidden, time_stack 1).
    prediction input [start, y_1, ..., y_U]; start is the zero vector ("zero") or the
               embedding of blank ("blank_embedding"); embedding (V, P) holds every symbol,
               blank included; `prediction_layers` LSTM layers; output (B, U+1, P)
    joint      logits[b,t,u] = W_out act(W_enc f[b,t] + b_enc + W_pred g[b,u] + b_pred) + b_out,
               (B, T', U+1, V), raw (un-normalised) logits; a token-and-duration (TDT)
               joint (`durations` non-empty, NeMo's `num_extra_outputs`) has V + D outputs:
               the V token logits (blank among them), then one logit per duration
    ctc head   (optional) W_ctc f + b_ctc, (B, T', V)
Every LSTM follows `lstm.lstm_layer` (gate order i, f, g, o; sigmoid/tanh or Myrtle's hard
activations). Parameter names (`parameter_shapes`) are the canonical state-dict keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference_impls.features.stacking import stacked_length
from reference_impls.models.activations import hard_tanh, relu
from reference_impls.models.lstm import lstm_layer

JOINT_ACTIVATIONS = {"relu": relu, "tanh": np.tanh,
                     "hardtanh_0_20": lambda x: hard_tanh(x, 0.0, 20.0)}
LSTM_PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


@dataclass(frozen=True)
class CanonicalConfig:
    """Sizes and conventions of a canonical model; see the module docstring."""

    input_features: int
    encoder_hidden: int
    pre_layers: int
    post_layers: int
    time_stack: int
    prediction_hidden: int
    prediction_layers: int
    joint_hidden: int
    vocab_size: int
    blank: int
    start_symbol: str = "zero"
    joint_activation: str = "relu"
    lstm_gates: str = "sigmoid"
    lstm_cell: str = "tanh"
    ctc_head: bool = False
    encoder_fc_in: tuple[int, ...] = ()
    encoder_fc_out: tuple[int, ...] = ()
    fc_activation: str = "hardtanh_0_20"
    durations: tuple[int, ...] = ()
    """A TDT joint's durations in frames, in the order of its duration outputs (Xu et al.
    2023; NeMo's `tdt_durations`, e.g. (0, 1, 2, 3, 4)); empty for an RNN-T joint."""

    @property
    def joint_outputs(self) -> int:
        """The joint's output width: V, plus one per duration for a TDT joint."""
        return self.vocab_size + len(self.durations)

    @property
    def encoder_output(self) -> int:
        """E, the width of the encodings the joint and the CTC head read."""
        return self.encoder_fc_out[-1] if self.encoder_fc_out else self.encoder_hidden

    @property
    def lstm_input(self) -> int:
        """The first LSTM layer's input width."""
        return self.encoder_fc_in[-1] if self.encoder_fc_in else self.input_features

    def __post_init__(self):
        for name in ("input_features", "encoder_hidden", "time_stack", "prediction_hidden",
                     "prediction_layers", "joint_hidden", "vocab_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("pre_layers", "post_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        if self.pre_layers == 0 and (self.post_layers or self.time_stack != 1
                                     or self.input_features != self.encoder_hidden
                                     or self.encoder_fc_in or self.encoder_fc_out):
            raise ValueError("pre_layers=0 means an external encoder: it needs post_layers=0, "
                             "time_stack=1, no fully connected layers and input_features == "
                             "encoder_hidden")
        for name in ("encoder_fc_in", "encoder_fc_out"):
            widths = getattr(self, name)
            if not isinstance(widths, tuple) or any(
                    isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
                raise ValueError(f"{name} must be a tuple of positive ints, got {widths!r}")
        if self.time_stack > 1 and self.post_layers == 0:
            raise ValueError("time_stack > 1 needs post_layers >= 1: time stacking sits "
                             "between the pre and post layers")
        durations = self.durations
        if not isinstance(durations, tuple) or any(
                isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in durations):
            raise ValueError(f"durations must be a tuple of non-negative ints, got {durations!r}")
        if len(set(durations)) != len(durations) or (durations and max(durations) == 0):
            raise ValueError(f"durations must be distinct and include one > 0 (a TDT "
                             f"decoder must be able to leave a frame), got {durations!r}")
        if not 0 <= self.blank < self.vocab_size:
            raise ValueError(f"blank={self.blank} must lie in [0, vocab_size={self.vocab_size})")
        choices = {"start_symbol": ("zero", "blank_embedding"),
                   "joint_activation": tuple(JOINT_ACTIVATIONS), "lstm_gates": ("sigmoid", "hard"),
                   "lstm_cell": ("tanh", "hard"), "fc_activation": tuple(JOINT_ACTIVATIONS)}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")


def _lstm_shapes(prefix: str, layers: int, inputs: int, hidden: int) -> dict:
    shapes = {}
    for layer in range(layers):
        width = inputs if layer == 0 else hidden
        shapes.update({f"{prefix}.{layer}.weight_ih": (4 * hidden, width),
                       f"{prefix}.{layer}.weight_hh": (4 * hidden, hidden),
                       f"{prefix}.{layer}.bias_ih": (4 * hidden,),
                       f"{prefix}.{layer}.bias_hh": (4 * hidden,)})
    return shapes


def _fc_shapes(prefix: str, inputs: int, widths: tuple[int, ...]) -> dict:
    shapes = {}
    for layer, width in enumerate(widths):
        shapes.update({f"{prefix}.{layer}.weight": (width, inputs),
                       f"{prefix}.{layer}.bias": (width,)})
        inputs = width
    return shapes


def parameter_shapes(config: CanonicalConfig) -> dict[str, tuple[int, ...]]:
    """Canonical state-dict key -> shape, in module order."""
    c = config
    shapes = _fc_shapes("encoder.fc_in", c.input_features, c.encoder_fc_in)
    shapes.update(_lstm_shapes("encoder.pre", c.pre_layers, c.lstm_input, c.encoder_hidden))
    shapes.update(_lstm_shapes("encoder.post", c.post_layers, c.encoder_hidden * c.time_stack,
                               c.encoder_hidden))
    shapes.update(_fc_shapes("encoder.fc_out", c.encoder_hidden, c.encoder_fc_out))
    shapes["prediction.embedding.weight"] = (c.vocab_size, c.prediction_hidden)
    shapes.update(_lstm_shapes("prediction.lstm", c.prediction_layers, c.prediction_hidden,
                               c.prediction_hidden))
    shapes.update({"joint.encoder.weight": (c.joint_hidden, c.encoder_output),
                   "joint.encoder.bias": (c.joint_hidden,),
                   "joint.prediction.weight": (c.joint_hidden, c.prediction_hidden),
                   "joint.prediction.bias": (c.joint_hidden,),
                   "joint.output.weight": (c.joint_outputs, c.joint_hidden),
                   "joint.output.bias": (c.joint_outputs,)})
    if c.ctc_head:
        shapes.update({"ctc.weight": (c.vocab_size, c.encoder_output),
                       "ctc.bias": (c.vocab_size,)})
    return shapes


def random_parameters(config: CanonicalConfig, seed: int = 0, scale: float = 0.3) -> dict:
    """Every tensor drawn uniform in [-scale, scale] (both LSTM biases included: a dropped
    bias_hh would go unnoticed with zero-initialised biases)."""
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(-scale, scale, shape)
            for name, shape in parameter_shapes(config).items()}


def _run_lstm(params: dict, prefix: str, layers: int, x: np.ndarray, lengths, config):
    """Time-major x (T, B, I) through `layers` layers named prefix.{l}.*."""
    for layer in range(layers):
        weights = [params[f"{prefix}.{layer}.{name}"] for name in LSTM_PARAMETERS]
        x, _ = lstm_layer(x, *weights, lengths=lengths, gates=config.lstm_gates,
                          cell=config.lstm_cell)
    return x


def _run_fc(params: dict, prefix: str, layers: int, x: np.ndarray, config) -> np.ndarray:
    """Linear then the fc activation, `layers` times, over the last axis."""
    activation = JOINT_ACTIVATIONS[config.fc_activation]
    for layer in range(layers):
        x = activation(x @ params[f"{prefix}.{layer}.weight"].T + params[f"{prefix}.{layer}.bias"])
    return x


def _stack_time(x: np.ndarray, lengths: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, B, H) -> (ceil(T/k), B, k*H): frame s = [x_ks, ..., x_ks+k-1], zeros past each
    utterance's own length."""
    frames = x.shape[0]
    valid = np.arange(frames)[:, None] < lengths[None, :]
    x = np.where(valid[..., None], x, 0.0)
    padded = np.concatenate([x, np.zeros((factor - 1, *x.shape[1:]))])
    stacked = np.concatenate([padded[k:k + frames] for k in range(factor)], axis=2)
    return stacked[::factor], np.array([stacked_length(int(n), factor) for n in lengths])


def encoder_forward(params: dict, config: CanonicalConfig, features: np.ndarray,
                    lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B, T, F) features -> ((B, T', E) encodings, (B,) lengths T')."""
    lengths = np.asarray(lengths)
    x = _run_fc(params, "encoder.fc_in", len(config.encoder_fc_in),
                features.transpose(1, 0, 2), config)
    x = _run_lstm(params, "encoder.pre", config.pre_layers, x, lengths, config)
    if config.time_stack > 1:
        x, lengths = _stack_time(x, lengths, config.time_stack)
    x = _run_lstm(params, "encoder.post", config.post_layers, x, lengths, config)
    x = _run_fc(params, "encoder.fc_out", len(config.encoder_fc_out), x, config)
    valid = np.arange(x.shape[0])[:, None] < lengths[None, :]
    return np.where(valid[..., None], x, 0.0).transpose(1, 0, 2), lengths


def start_input(params: dict, config: CanonicalConfig) -> np.ndarray:
    """The prediction network's first input (P,): zeros, or the blank's embedding."""
    embedding = params["prediction.embedding.weight"]
    if config.start_symbol == "zero":
        return np.zeros(embedding.shape[1])
    return embedding[config.blank]


def prediction_forward(params: dict, config: CanonicalConfig, labels: np.ndarray) -> np.ndarray:
    """(B, U) labels -> (B, U+1, P): the prediction network after [start, y_1, ..., y_U]."""
    labels = np.asarray(labels)
    embedding = params["prediction.embedding.weight"]
    start = np.broadcast_to(start_input(params, config),
                            (labels.shape[0], 1, embedding.shape[1]))
    x = np.concatenate([start, embedding[labels]], axis=1)
    return _run_lstm(params, "prediction.lstm", config.prediction_layers, x.transpose(1, 0, 2),
                     None, config).transpose(1, 0, 2)


def joint_forward(params: dict, config: CanonicalConfig, encodings: np.ndarray,
                  predictions: np.ndarray) -> np.ndarray:
    """(B, T, E) and (B, U+1, P) -> logits (B, T, U+1, V) (V + D for a TDT joint)."""
    f = encodings @ params["joint.encoder.weight"].T + params["joint.encoder.bias"]
    g = predictions @ params["joint.prediction.weight"].T + params["joint.prediction.bias"]
    hidden = JOINT_ACTIVATIONS[config.joint_activation](f[:, :, None, :] + g[:, None, :, :])
    return hidden @ params["joint.output.weight"].T + params["joint.output.bias"]


def joint_step(params: dict, config: CanonicalConfig, encoding: np.ndarray,
               prediction: np.ndarray) -> np.ndarray:
    """Logits (V,) (V + D for a TDT joint) of one encoder frame (E,) and one prediction
    output (P,)."""
    return joint_forward(params, config, encoding[None, None], prediction[None, None])[0, 0, 0]


def ctc_forward(params: dict, encodings: np.ndarray) -> np.ndarray:
    """(B, T, E) -> CTC logits (B, T, V)."""
    return encodings @ params["ctc.weight"].T + params["ctc.bias"]


def prediction_step(params: dict, config: CanonicalConfig, symbol: int | None,
                    state: list | None) -> tuple[np.ndarray, list]:
    """One prediction-network step for one utterance: the input is the start symbol when
    `symbol` is None, else embedding[symbol]; `state` is the per-layer (h, c) list (None:
    zeros). Returns (g (P,), new state)."""
    x = (start_input(params, config) if symbol is None
         else params["prediction.embedding.weight"][symbol])[None, None, :]
    new_state = []
    for layer in range(config.prediction_layers):
        weights = [params[f"prediction.lstm.{layer}.{name}"] for name in LSTM_PARAMETERS]
        x, layer_state = lstm_layer(x, *weights, state=None if state is None else state[layer],
                                    gates=config.lstm_gates, cell=config.lstm_cell)
        new_state.append(layer_state)
    return x[0, 0], new_state
