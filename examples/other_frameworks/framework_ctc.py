"""CTC losses of other frameworks in torch.nn.functional.ctc_loss's calling convention, for
`rnnt-parity conform ctc-loss ... --framework jax|tensorflow|numpy` (run from this folder, or
with it on PYTHONPATH):

    optax_ctc_loss       optax.ctc_loss (JAX)
    tensorflow_ctc_loss  tf.nn.ctc_loss (TensorFlow)

Each takes log_probs (T, B, C), targets (B, S) padded, input_lengths (B,), target_lengths
(B,), blank and reduction ("none", "sum", or "mean": each loss over its target length, at
least 1, then the batch mean, as torch's), and returns the loss in its own framework's
array; the kit takes the gradient the framework's way. Both libraries log-softmax what they
are given (idempotent on log-probs), so their gradient w.r.t. the log-probs is the one
through that softmax, torch's own convention.
"""

from __future__ import annotations


def _reduce(losses, target_lengths, reduction, maximum):
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return (losses / maximum(target_lengths, 1)).mean()


def optax_ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0,
                   reduction="mean"):
    import jax.numpy as jnp
    import optax

    logits = jnp.transpose(log_probs, (1, 0, 2))
    frames, labels = logits.shape[1], targets.shape[1]
    logit_paddings = (jnp.arange(frames)[None] >= jnp.asarray(input_lengths)[:, None])
    label_paddings = (jnp.arange(labels)[None] >= jnp.asarray(target_lengths)[:, None])
    losses = optax.ctc_loss(logits, logit_paddings.astype(logits.dtype), jnp.asarray(targets),
                            label_paddings.astype(logits.dtype), blank_id=int(blank))
    return _reduce(losses, jnp.asarray(target_lengths).astype(logits.dtype), reduction,
                   jnp.maximum)


def tensorflow_ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0,
                        reduction="mean"):
    import tensorflow as tf

    losses = tf.nn.ctc_loss(tf.constant(targets, tf.int32), log_probs,
                            tf.constant(target_lengths, tf.int32),
                            tf.constant(input_lengths, tf.int32), logits_time_major=True,
                            blank_index=int(blank))
    lengths = tf.cast(tf.constant(target_lengths), losses.dtype)
    if reduction == "mean":
        return tf.reduce_mean(losses / tf.maximum(lengths, 1.0))
    return tf.reduce_sum(losses) if reduction == "sum" else losses
