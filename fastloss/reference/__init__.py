"""Pure-NumPy reference of the fastloss losses: the oracle of the tests and
the baseline of the benchmark.

Same names, signatures, results and error types as the compiled functions
(the contract is docs/contract.md), written to be read rather than to be fast:
every input is first converted to the computation dtype (float32 if `pred`
is float32, float64 otherwise), then everything is computed in float64 on
whole (N, C) arrays, and results are rounded once to the computation dtype.

Notation of the docstrings, for row i and class c of a batch of N rows and C
classes:

- ``q_ic``: the target distribution (one-hot of the class index ``t_i``, or
  the dense target row); ``q'_ic = (1 - s) q_ic + s / C`` with
  ``s = label_smoothing``; rows whose index equals ``ignore_index`` have
  ``q' = 0``.
- ``a_ic = w_c q'_ic``, with ``w_c = weight[c]`` (1 without a weight); where
  ``q'_ic == 0`` (or the product is 0) the term of that element is exactly 0,
  whatever the value of the log or the logit.
- ``D``, the divisor of ``"mean"``: ``sum_i w_{t_i}`` over the rows that are
  not ignored for class-index targets, ``N`` for dense targets, ``N*C`` for
  squared error; 1 for ``"sum"`` and ``"none"``.

Semantics of weight, ignore_index, label_smoothing, the weighted-mean divisor
and all-ignored batches are those of torch.nn.functional.cross_entropy.
``n_threads`` is validated, then ignored.
"""

from typing import NamedTuple

import numpy as np

from fastloss.reference import _validate as v

__all__ = [
    "cross_entropy",
    "cross_entropy_and_grad",
    "mean_squared_error",
    "mean_squared_error_and_grad",
    "softmax_cross_entropy",
    "softmax_cross_entropy_and_grad",
]


class _ClassBatch(NamedTuple):
    """A validated cross-entropy problem, as float64 (N, C) arrays."""

    x: np.ndarray  # probabilities or logits, rounded to the computation dtype
    coef: np.ndarray  # a_ic = w_c q'_ic, exactly 0 where q'_ic == 0
    ignored: np.ndarray  # (N,) bool, rows whose label equals ignore_index
    divisor: np.float64  # D of the reduction (1 for "sum" and "none")
    reduction: str
    shape: tuple  # pred's shape: (N, C) or (C,)
    dtype: np.dtype  # the computation dtype


def _class_batch(pred, target, *, pred_name, reduction, weight, ignore_index,
                 label_smoothing, n_threads, out):
    """Validate every argument of a cross-entropy, then its labels, and build a_ic."""
    reduction = v.check_reduction(reduction)
    v.check_n_threads(n_threads)
    pred = v.as_pred(pred, pred_name)
    labels, dense = v.as_class_target(target, pred)
    weight = v.as_weight(weight, pred)
    ignore_index = v.check_ignore_index(ignore_index, dense_target=dense is not None)
    smoothing = v.check_label_smoothing(label_smoothing)
    v.check_out(out, pred)

    n_classes = pred.shape[-1]
    x = pred.reshape(-1, n_classes).astype(np.float64)
    n_rows = len(x)
    if labels is not None:
        labels = labels.reshape(n_rows)
        ignored = v.ignored_rows(labels, ignore_index)
        v.check_labels(labels, n_classes, ignored)
        kept = np.flatnonzero(~ignored)
        kept_labels = labels[kept].astype(np.intp)
        q = np.zeros_like(x)
        q[kept, kept_labels] = 1.0
    else:
        ignored = np.zeros(n_rows, dtype=bool)
        q = dense.reshape(n_rows, n_classes).astype(np.float64)
    q = (1.0 - smoothing) * q + smoothing / n_classes
    q[ignored] = 0.0

    w = np.ones(n_classes) if weight is None else weight.astype(np.float64)
    with np.errstate(all="ignore"):  # inf or nan weights times a zero target
        coef = np.where(q == 0.0, 0.0, w * q)

    if reduction != "mean":
        divisor = 1.0
    elif dense is not None:
        divisor = n_rows
    else:
        divisor = w[kept_labels].sum()
    return _ClassBatch(x, coef, ignored, np.float64(divisor), reduction, pred.shape,
                       pred.dtype)


def _reduce(row_losses, reduction, divisor, batch_shape, dtype):
    """Reduce float64 per-row losses to the result of `reduction` in `dtype`."""
    if reduction == "none":
        return row_losses.reshape(batch_shape).astype(dtype)
    total = row_losses.sum()
    if reduction == "mean":
        with np.errstate(all="ignore"):  # empty batch or zero divisor: nan
            total = total / divisor
    return dtype.type(total)


def _class_loss(batch, elementwise_loss):
    """Reduce sum_c a_ic L_ic, where a zero a_ic contributes exactly 0."""
    with np.errstate(all="ignore"):
        terms = np.where(batch.coef == 0.0, 0.0, batch.coef * elementwise_loss)
    return _reduce(terms.sum(axis=1), batch.reduction, batch.divisor, batch.shape[:-1],
                   batch.dtype)


def _class_grad(batch, numerator, out):
    """Return numerator / D in pred's shape and dtype, ignored rows exactly 0."""
    with np.errstate(all="ignore"):  # D == 0 gives numerator / 0, as in PyTorch;
        grad = numerator / batch.divisor  # float32 may overflow to inf in the cast
        grad[batch.ignored] = 0.0
        grad = grad.reshape(batch.shape).astype(batch.dtype)
    return _fill(grad, out)


def _fill(grad, out):
    """Return `grad`, or copy it into the validated `out` and return `out`."""
    if out is None:
        return grad
    out[...] = grad
    return out


def _log_softmax_parts(x):
    """Return (m - x_ic + log sum_c exp(x_ic - m), softmax(x)) with m the row maximum."""
    with np.errstate(all="ignore"):  # -inf and nan logits
        m = x.max(axis=1, keepdims=True)
        exp_shifted = np.exp(x - m)
        sum_exp = exp_shifted.sum(axis=1, keepdims=True)
        # log sum exp(x - m) = log1p(T), T the sum without the maximum's own
        # exp(0) = 1: keeps the tiny loss of a confident right prediction
        rest = exp_shifted.copy()
        rest[np.arange(x.shape[0]), np.argmax(x == m, axis=1)] = 0.0
        log_sum = np.where(np.isfinite(m), np.log1p(rest.sum(axis=1, keepdims=True)),
                           np.log(sum_exp))
        neg_log_softmax = (m - x) + log_sum
        return neg_log_softmax, exp_shifted / sum_exp


def cross_entropy(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                  ignore_index=None, label_smoothing=0.0, n_threads=None):
    """Cross-entropy of probabilities.

    l_i = -sum_c w_c q'_ic log(p_ic + eps), reduced as ``sum_i l_i / D``
    ("mean"), ``sum_i l_i`` ("sum") or one ``l_i`` per row ("none").

    `probs` has shape (N, C) or (C,); `target` holds class indices (integers
    of shape ``probs.shape[:-1]``) or a dense target of ``probs``' shape. A
    term with ``w_c q'_ic == 0`` is exactly 0, even where ``p_ic + eps == 0``.
    """
    eps = v.check_eps(eps)
    batch = _class_batch(probs, target, pred_name="probs", reduction=reduction,
                         weight=weight, ignore_index=ignore_index,
                         label_smoothing=label_smoothing, n_threads=n_threads, out=None)
    with np.errstate(all="ignore"):  # log(0) = -inf, log(negative) = nan
        return _class_loss(batch, -np.log(batch.x + eps))


def cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                           ignore_index=None, label_smoothing=0.0, n_threads=None,
                           out=None):
    """Cross-entropy of probabilities and its gradient with respect to `probs`.

    Returns ``(cross_entropy(...), grad)`` with
    ``grad_ic = -w_c q'_ic / (p_ic + eps) / D``: exactly 0 where
    ``w_c q'_ic == 0`` (even where ``p_ic + eps == 0``) and on ignored rows;
    ``D`` is 1 for "sum" and "none". `out`, if given, receives the gradient
    and is returned.
    """
    eps = v.check_eps(eps)
    batch = _class_batch(probs, target, pred_name="probs", reduction=reduction,
                         weight=weight, ignore_index=ignore_index,
                         label_smoothing=label_smoothing, n_threads=n_threads, out=out)
    with np.errstate(all="ignore"):
        shifted = batch.x + eps
        loss = _class_loss(batch, -np.log(shifted))
        numerator = np.where(batch.coef == 0.0, 0.0, -batch.coef / shifted)
    return loss, _class_grad(batch, numerator, out)


def softmax_cross_entropy(logits, target, *, reduction="mean", weight=None,
                          ignore_index=None, label_smoothing=0.0, n_threads=None):
    """Cross-entropy of softmax(logits), computed stably.

    l_i = sum_c w_c q'_ic (LSE_i - x_ic), with
    ``LSE_i - x_ic = (m_i - x_ic) + log sum_k exp(x_ik - m_i)`` and
    ``m_i = max_k x_ik``; reduced as in `cross_entropy`. A ``-inf`` logit with
    ``w_c q'_ic == 0`` contributes exactly 0.
    """
    batch = _class_batch(logits, target, pred_name="logits", reduction=reduction,
                         weight=weight, ignore_index=ignore_index,
                         label_smoothing=label_smoothing, n_threads=n_threads, out=None)
    neg_log_softmax, _ = _log_softmax_parts(batch.x)
    return _class_loss(batch, neg_log_softmax)


def softmax_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                   ignore_index=None, label_smoothing=0.0,
                                   n_threads=None, out=None):
    """Softmax cross-entropy and its gradient with respect to `logits`.

    Returns ``(softmax_cross_entropy(...), grad)`` with
    ``grad_ic = (p_ic sum_k w_k q'_ik - w_c q'_ic) / D`` and
    ``p = softmax(x)`` (``(p_ic - q'_ic) / D`` without weight for target rows
    summing to 1); ignored rows are exactly 0 and ``D`` is 1 for "sum" and
    "none". `out`, if given, receives the gradient and is returned.
    """
    batch = _class_batch(logits, target, pred_name="logits", reduction=reduction,
                         weight=weight, ignore_index=ignore_index,
                         label_smoothing=label_smoothing, n_threads=n_threads, out=out)
    neg_log_softmax, softmax = _log_softmax_parts(batch.x)
    loss = _class_loss(batch, neg_log_softmax)
    with np.errstate(all="ignore"):
        numerator = softmax * batch.coef.sum(axis=1, keepdims=True) - batch.coef
    return loss, _class_grad(batch, numerator, out)


def _squared_error_parts(pred, target, reduction, n_threads, out):
    """Validate the arguments; return (p - t in float64, loss, pred)."""
    reduction = v.check_reduction(reduction)
    v.check_n_threads(n_threads)
    pred = v.as_pred(pred, "pred")
    target = v.as_dense_like(target, pred)
    v.check_out(out, pred)

    n_classes = pred.shape[-1]
    diff = pred.astype(np.float64) - target.astype(np.float64)
    row_sums = np.square(diff).reshape(-1, n_classes).sum(axis=1)
    per_row = row_sums / n_classes if reduction == "none" else row_sums
    loss = _reduce(per_row, reduction, np.float64(diff.size), pred.shape[:-1], pred.dtype)
    return diff, loss, pred


def mean_squared_error(pred, target, *, reduction="mean", n_threads=None):
    """Squared error (p - t)^2, element-wise over arrays of the same shape.

    "mean": ``sum_ic (p_ic - t_ic)^2 / (N*C)``; "sum": ``sum_ic (p_ic - t_ic)^2``;
    "none": ``l_i = sum_c (p_ic - t_ic)^2 / C``, one value per row (unlike
    PyTorch's element-wise "none").
    """
    _, loss, _ = _squared_error_parts(pred, target, reduction, n_threads, None)
    return loss


def mean_squared_error_and_grad(pred, target, *, reduction="mean", n_threads=None,
                                out=None):
    """Squared error and its gradient with respect to `pred`.

    Returns ``(mean_squared_error(...), grad)`` with ``grad = 2 (p - t) / (N*C)``
    for "mean", ``2 (p - t)`` for "sum" and ``2 (p - t) / C`` for "none".
    `out`, if given, receives the gradient and is returned.
    """
    diff, loss, pred = _squared_error_parts(pred, target, reduction, n_threads, out)
    scale = {"mean": diff.size, "sum": 1, "none": pred.shape[-1]}[reduction]
    with np.errstate(all="ignore"):  # empty batch: an empty 0 / 0
        grad = 2.0 * diff / scale
    return loss, _fill(grad.astype(pred.dtype), out)
