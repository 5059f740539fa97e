"""Loss callables of other frameworks behind torch autograd, so that the loss kits
(`conform rnnt-loss`, `conform ctc-loss`) check them unchanged.

A framework-qualified target is "FRAMEWORK:package.module:callable" (`qualify`); a plain
"package.module:callable" is torch's. The kit calls the adapted loss as it calls a torch
one, with torch tensors and the same keywords; the adapter hands the callable NumPy arrays
(the input whose gradient is taken as the framework's own array), and its backward asks the
framework for the gradient its way:

* numpy: the callable returns `(loss, grad)`, as the oracles do: `grad` the gradient of the
  reduced loss w.r.t. the first argument (for a per-utterance loss, of their sum). A
  per-utterance loss's backward scales each utterance's gradient by its output gradient
  (every utterance's loss depends on its own inputs only), the batch being axis 0 of a 4-D
  input (RNN-T logits `(B, T, U+1, V)`) and axis 1 of a 3-D one (CTC `(T, B, C)`).
* jax: `jax.vjp` of the callable w.r.t. its first argument (e.g. a wrapper of
  `optax.ctc_loss`).
* tensorflow: a persistent `tf.GradientTape` watching the first argument (e.g. a wrapper of
  `tf.nn.ctc_loss`), so that a second backward gets the same gradient.

MLX and ONNX Runtime are refused for the loss kinds (ONNX Runtime computes no gradients).
"""

from __future__ import annotations

import numpy as np
import torch

FRAMEWORKS = ("torch", "numpy", "jax", "tensorflow")
"""What `--framework` accepts besides "auto"."""
DETECTED = {"jax": "jax", "optax": "jax", "flax": "jax", "tensorflow": "tensorflow",
            "keras": "tensorflow", "tf_keras": "tensorflow"}
"""Top-level module of a callable -> its framework (anything else is taken as torch; a NumPy
callable must be named with --framework numpy)."""
REFUSED = {"mlx": "MLX losses are not adapted yet", "onnxruntime":
           "ONNX Runtime computes no gradients, which the loss kits check"}


def check_framework(framework: str) -> str:
    """`framework` if known ("auto" included); ValueError naming the known ones."""
    if framework in REFUSED:
        raise ValueError(f"--framework {framework}: {REFUSED[framework]}")
    if framework != "auto" and framework not in FRAMEWORKS:
        raise ValueError(f"--framework must be auto or one of {', '.join(FRAMEWORKS)}, got "
                         f"{framework!r}")
    return framework


def split_target(target: str) -> tuple[str, str]:
    """("torch" or the named framework, "package.module:callable") of a target."""
    head, _, rest = target.partition(":")
    if head in FRAMEWORKS and ":" in rest:
        return head, rest
    return "torch", target


def qualify(target: str, framework: str, loaded) -> str:
    """The target with its framework named (none for torch); "auto" detects it from the
    top-level module of `loaded`, the callable."""
    framework = check_framework(framework)
    if framework == "auto":
        root = (getattr(loaded, "__module__", None) or "").split(".")[0]
        framework = DETECTED.get(root, "torch")
    return target if framework == "torch" else f"{framework}:{target}"


def _numpy(value):
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value


def _batch_axis(array: np.ndarray) -> int:
    return 0 if array.ndim == 4 else 1


class _Adapted(torch.autograd.Function):
    """forward: the framework's loss as a torch tensor; backward: the framework's gradient
    (`gradient(output_gradient) -> array`, set by `adapt`)."""

    @staticmethod
    def forward(ctx, x, run):
        value, ctx.gradient = run(x.detach().cpu().numpy())
        return torch.as_tensor(np.array(value), dtype=x.dtype, device=x.device)

    @staticmethod
    def backward(ctx, output_gradient):
        grad = ctx.gradient(output_gradient.detach().cpu().numpy())
        return torch.as_tensor(np.array(grad), dtype=output_gradient.dtype,
                               device=output_gradient.device), None


def _numpy_run(loss, rest, kwargs):
    def run(x):
        value, grad = loss(x, *rest, **kwargs)
        value, grad = np.asarray(value), np.asarray(grad)

        def gradient(output_gradient):
            if value.ndim == 0:
                return grad * output_gradient
            shape = [1] * grad.ndim
            shape[_batch_axis(grad)] = -1
            return grad * output_gradient.reshape(shape)
        return value, gradient
    return run


def _jax_run(loss, rest, kwargs):
    import jax
    import jax.numpy as jnp

    def run(x):
        value, vjp = jax.vjp(lambda z: loss(z, *rest, **kwargs), jnp.asarray(x))
        return np.asarray(value), lambda g: np.asarray(vjp(jnp.asarray(g, value.dtype))[0])
    return run


def _tensorflow_run(loss, rest, kwargs):
    import tensorflow as tf

    def run(x):
        watched = tf.constant(x)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(watched)
            value = loss(watched, *rest, **kwargs)
        return value.numpy(), lambda g: tape.gradient(
            value, watched, output_gradients=tf.constant(g, dtype=value.dtype)).numpy()
    return run


RUNS = {"numpy": _numpy_run, "jax": _jax_run, "tensorflow": _tensorflow_run}


def adapt(loss, framework: str):
    """`loss` as a torch-autograd loss (torch: itself)."""
    if framework == "torch":
        return loss

    def adapted(x, *rest, **kwargs):
        return _Adapted.apply(x, RUNS[framework](
            loss, [_numpy(a) for a in rest], {k: _numpy(v) for k, v in kwargs.items()}))

    adapted.__name__ = getattr(loss, "__name__", "loss")
    adapted.__wrapped__ = loss
    return adapted
