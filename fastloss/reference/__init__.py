"""Pure-NumPy reference of the fastloss losses: the oracle of the tests and
the baseline of the benchmark.

Same names, signatures, results and error types as the compiled functions
(the contract is docs/contract.md), written to be read rather than to be fast:
every input is first converted to the computation dtype (float32 if `pred`
is float32, float16 or bfloat16, float64 otherwise), the class axis is moved
last and the positions (every other index, in C order) become the rows of a
whole (N, C) array, everything is computed in float64, and results are
rounded once to the computation dtype (gradients to the gradient dtype:
float16 and bfloat16 for those inputs).

Notation of the docstrings, for row (position) i and class c of a batch of
N rows and C classes:

- ``q_ic``: the target distribution (one-hot of the class index ``t_i``, or
  the dense target row); ``q'_ic = (1 - s) q_ic + s / C`` with
  ``s = label_smoothing``; rows whose index equals ``ignore_index`` have
  ``q' = 0``.
- ``a_ic = w_c q'_ic``, with ``w_c = weight[c]`` (1 without a weight); where
  ``q'_ic == 0`` (or the product is 0) the term of that element is exactly 0,
  whatever the value of the log or the logit.
- ``s_i``, the sample weight of row i (1 without ``sample_weight``); a row
  with ``s_i == 0`` or an ignored one contributes exactly 0.
- ``D``, the divisor of ``"mean"``: ``sum_i s_i w_{t_i}`` over the rows that
  are not ignored for class-index targets, ``sum_i s_i`` for dense targets,
  ``C sum_i s_i`` for squared error; 1 for ``"sum"`` and ``"none"``.

Semantics of weight, ignore_index, label_smoothing, the weighted-mean divisor
and all-ignored batches are those of torch.nn.functional.cross_entropy.
``n_threads`` is validated, then ignored.

The binary losses (`binary_cross_entropy` on probabilities,
`sigmoid_binary_cross_entropy` on logits, and their ``*_and_grad``
gradients; module `fastloss.reference.binary`) are element-wise: every
element of `pred`, of any shape, is its own binary prediction, with
``l = -w (pw t' log(p + eps) + (1 - t') log((1 - p) + eps))`` and
``t' = t (1 - s) + s / 2``; `weight` and `pos_weight` broadcast to pred's
shape, `sample_weight` weighs the samples of pred's first axis, and "mean"
divides by ``prod(pred.shape[1:]) sum_i s_i`` (``pred.size`` without sample
weights). `weight`, `pos_weight` (on logits) and the reductions are those of
torch.nn.functional.binary_cross_entropy and binary_cross_entropy_with_logits,
the smoothing rule is Keras's.
"""

from typing import NamedTuple

import numpy as np

from fastloss.reference import _validate as v
from fastloss.reference.binary import (
    binary_cross_entropy,
    binary_cross_entropy_and_grad,
    sigmoid_binary_cross_entropy,
    sigmoid_binary_cross_entropy_and_grad,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_and_grad",
    "cross_entropy",
    "cross_entropy_and_grad",
    "mean_squared_error",
    "mean_squared_error_and_grad",
    "sigmoid_binary_cross_entropy",
    "sigmoid_binary_cross_entropy_and_grad",
    "softmax_cross_entropy",
    "softmax_cross_entropy_and_grad",
]


class _ClassBatch(NamedTuple):
    """A validated cross-entropy problem, as float64 (N, C) arrays: the
    positions in C order are the rows, the class axis is last."""

    x: np.ndarray  # probabilities or logits, rounded to the computation dtype
    coef: np.ndarray  # a_ic = w_c q'_ic, exactly 0 where q'_ic == 0
    row_weight: np.ndarray  # (N,) s_i, exactly 0 on ignored rows
    divisor: np.float64  # D of the reduction (1 for "sum" and "none")
    reduction: str
    shape: tuple  # pred's shape
    axis: int  # the class axis of pred, in [0, pred.ndim)
    dtype: np.dtype  # the computation dtype
    grad_dtype: np.dtype


def _rows(array, axis):
    """An array of pred's shape as (positions, C) rows, class axis last."""
    return np.moveaxis(array, axis, -1).reshape(-1, array.shape[axis])


def _unrows(rows, shape, axis):
    """(positions, C) rows back in pred's shape (a new C-contiguous array)."""
    moved = shape[:axis] + shape[axis + 1:] + (shape[axis],)
    return np.ascontiguousarray(np.moveaxis(rows.reshape(moved), -1, axis))


_NO_EPS = object()


def _common(pred, pred_name, axis, reduction, n_threads, eps=_NO_EPS):
    """Validate pred, axis and the scalar arguments, in the contract's order."""
    pred, grad_dtype = v.as_pred(pred, pred_name)
    axis = v.check_axis(axis, pred, pred_name)
    if eps is not _NO_EPS:
        eps = v.check_eps(eps)
    reduction = v.check_reduction(reduction)
    v.check_n_threads(n_threads)
    return pred, grad_dtype, axis, reduction, eps


def _sample_weights(sample_weight, n_rows):
    """(N,) float64 sample weights s_i (ones without any)."""
    if sample_weight is None:
        return np.ones(n_rows)
    return sample_weight.reshape(n_rows).astype(np.float64)


def _class_batch(pred, grad_dtype, axis, reduction, target, *, weight, ignore_index,
                 label_smoothing, sample_weight, out):
    """Validate the rest of a cross-entropy's arguments, then its labels,
    and build a_ic and the row weights."""
    ignore_index = v.check_ignore_index(ignore_index)
    smoothing = v.check_label_smoothing(label_smoothing)
    labels, dense = v.as_class_target(target, pred, axis)
    v.check_ignore_index_target(ignore_index, dense_target=dense is not None)
    weight = v.as_weight(weight, pred, axis)
    sample_weight = v.as_sample_weight(sample_weight, pred, axis)
    v.check_out(out, pred, grad_dtype)

    n_classes = pred.shape[axis]
    x = _rows(pred, axis).astype(np.float64)
    n_rows = len(x)
    if labels is not None:
        labels = labels.reshape(n_rows)
        ignored = v.ignored_rows(labels, ignore_index)
        v.check_labels(labels, n_classes, ignored, v.positions_shape(pred, axis))
        kept = np.flatnonzero(~ignored)
        kept_labels = labels[kept].astype(np.intp)
        q = np.zeros_like(x)
        q[kept, kept_labels] = 1.0
    else:
        ignored = np.zeros(n_rows, dtype=bool)
        q = _rows(dense, axis).astype(np.float64)
    q = (1.0 - smoothing) * q + smoothing / n_classes
    q[ignored] = 0.0

    w = np.ones(n_classes) if weight is None else weight.astype(np.float64)
    with np.errstate(all="ignore"):  # inf or nan weights times a zero target
        coef = np.where(q == 0.0, 0.0, w * q)

    s = _sample_weights(sample_weight, n_rows)
    s[ignored] = 0.0
    if reduction != "mean":
        divisor = 1.0
    else:
        # (labels are in [0, C) once checked, but for ignored ones, which may
        # be anything, a Python int beyond int64 included)
        row_w = np.ones(n_rows) if labels is None else \
            w[np.where(ignored, 0, labels).astype(np.intp)]
        with np.errstate(all="ignore"):
            divisor = np.where(s == 0.0, 0.0, s * row_w).sum()
    return _ClassBatch(x, coef, s, np.float64(divisor), reduction, pred.shape, axis,
                       pred.dtype, grad_dtype)


def _weigh_rows(row_losses, row_weight):
    """s_i l_i, exactly 0 where s_i is 0 (even for an inf or nan l_i)."""
    with np.errstate(all="ignore"):
        return np.where(row_weight == 0.0, 0.0, row_weight * row_losses)


def _reduce(row_losses, reduction, divisor, positions, dtype):
    """Reduce float64 per-row losses to the result of `reduction` in `dtype`."""
    if reduction == "none":
        return row_losses.reshape(positions).astype(dtype)
    total = row_losses.sum()
    if reduction == "mean":
        with np.errstate(all="ignore"):  # empty batch or zero divisor: nan
            total = total / divisor
    return dtype.type(total)


def _positions(batch):
    return batch.shape[:batch.axis] + batch.shape[batch.axis + 1:]


def _class_loss(batch, elementwise_loss):
    """Reduce s_i sum_c a_ic L_ic, where a zero a_ic or s_i contributes exactly 0."""
    with np.errstate(all="ignore"):
        terms = np.where(batch.coef == 0.0, 0.0, batch.coef * elementwise_loss)
    rows = _weigh_rows(terms.sum(axis=1), batch.row_weight)
    return _reduce(rows, batch.reduction, batch.divisor, _positions(batch), batch.dtype)


def _class_grad(batch, numerator, out):
    """Return s_i numerator / D in pred's shape and the gradient dtype;
    rows with s_i = 0 (ignored ones included) exactly 0."""
    with np.errstate(all="ignore"):  # D == 0 gives numerator / 0, as in PyTorch;
        grad = _weigh_rows(numerator, batch.row_weight[:, None]) / batch.divisor
        grad[batch.row_weight == 0.0] = 0.0  # float32 may overflow to inf in the cast
        grad = _unrows(grad, batch.shape, batch.axis).astype(batch.grad_dtype)
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
                  ignore_index=None, label_smoothing=0.0, sample_weight=None, axis=-1,
                  n_threads=None):
    """Cross-entropy of probabilities, in plain NumPy.

    Parameters
    ----------
    probs, target, reduction, eps, weight
        As in :func:`fastloss.cross_entropy`: the same signature and defaults.
    ignore_index, label_smoothing, sample_weight, axis, n_threads
        As in :func:`fastloss.cross_entropy`; ``n_threads`` is validated, then
        ignored.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        A NumPy scalar of the computation dtype for ``"mean"`` and
        ``"sum"``, an array for ``"none"``, as :func:`fastloss.cross_entropy`
        returns it, to the accuracy bounds of the contract (not bit for bit).

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError, IndexError
        As :func:`fastloss.cross_entropy`: the same types, for the same
        conditions, in the same order (an out-of-range label raises
        ``IndexError`` last); the messages are worded differently.

    See Also
    --------
    fastloss.cross_entropy : The compiled function.

    Notes
    -----
    ``l_i = -sum_c w_c q'_ic log(p_ic + eps)`` for each position ``i`` (every
    index of ``probs`` but the class axis), with
    ``q'_ic = (1 - s) q_ic + s / C``, reduced as ``sum_i s_i l_i / D``
    ("mean"), ``sum_i s_i l_i`` ("sum") or one ``s_i l_i`` per position
    ("none"). A term with ``w_c q'_ic == 0`` is exactly 0, even where
    ``p_ic + eps == 0``, and so is a position with ``s_i == 0``. Computed in
    float64 on a whole ``(N, C)`` copy, rounded once.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss, fastloss.reference
    >>> probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    >>> labels = np.array([0, 1, 2])
    >>> loss = fastloss.reference.cross_entropy(probs, labels)
    >>> print(f"{loss:.6f}")
    0.498703
    >>> bool(np.isclose(loss, fastloss.cross_entropy(probs, labels), rtol=1e-12, atol=0))
    True
    """
    probs, grad_dtype, axis, reduction, eps = _common(probs, "probs", axis, reduction,
                                                      n_threads, eps)
    batch = _class_batch(probs, grad_dtype, axis, reduction, target, weight=weight,
                         ignore_index=ignore_index, label_smoothing=label_smoothing,
                         sample_weight=sample_weight, out=None)
    with np.errstate(all="ignore"):  # log(0) = -inf, log(negative) = nan
        return _class_loss(batch, -np.log(batch.x + eps))


def cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                           ignore_index=None, label_smoothing=0.0, sample_weight=None,
                           axis=-1, n_threads=None, out=None):
    """Cross-entropy of probabilities and its gradient, in plain NumPy.

    Parameters
    ----------
    probs, target, reduction, eps, weight
        As in :func:`fastloss.cross_entropy_and_grad`: the same signature and defaults.
    ignore_index, label_smoothing, sample_weight, axis, n_threads, out
        As in :func:`fastloss.cross_entropy_and_grad`; ``n_threads`` is validated, then
        ignored.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        As :func:`fastloss.cross_entropy` returns it.
    grad : numpy.ndarray
        The gradient, of ``probs``'s shape and of the gradient dtype
        (float16 and bfloat16 for those inputs); ``out`` itself if given.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError, IndexError
        As :func:`fastloss.cross_entropy_and_grad`: the same types, for the same
        conditions, in the same order (an out-of-range label raises
        ``IndexError`` last); the messages are worded differently.

    See Also
    --------
    fastloss.cross_entropy_and_grad : The compiled function.

    Notes
    -----
    ``grad_ic = -s_i w_c q'_ic / (p_ic + eps) / D``: exactly 0 where
    ``w_c q'_ic == 0`` (even where ``p_ic + eps == 0``), where ``s_i == 0``
    and on ignored positions; ``D`` is 1 for "sum" and "none".

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss.reference
    >>> probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    >>> loss, grad = fastloss.reference.cross_entropy_and_grad(probs, [0, 1])
    >>> print(f"{loss:.6f}")
    0.289909
    >>> print(grad.round(4))
    [[-0.7143  0.      0.    ]
     [ 0.     -0.625   0.    ]]
    """
    probs, grad_dtype, axis, reduction, eps = _common(probs, "probs", axis, reduction,
                                                      n_threads, eps)
    batch = _class_batch(probs, grad_dtype, axis, reduction, target, weight=weight,
                         ignore_index=ignore_index, label_smoothing=label_smoothing,
                         sample_weight=sample_weight, out=out)
    with np.errstate(all="ignore"):
        shifted = batch.x + eps
        loss = _class_loss(batch, -np.log(shifted))
        numerator = np.where(batch.coef == 0.0, 0.0, -batch.coef / shifted)
    return loss, _class_grad(batch, numerator, out)


def softmax_cross_entropy(logits, target, *, reduction="mean", weight=None,
                          ignore_index=None, label_smoothing=0.0, sample_weight=None,
                          axis=-1, n_threads=None):
    """Cross-entropy of ``softmax(logits)``, in plain NumPy, computed stably.

    Parameters
    ----------
    logits, target, reduction, weight
        As in :func:`fastloss.softmax_cross_entropy`: the same signature and defaults.
    ignore_index, label_smoothing, sample_weight, axis, n_threads
        As in :func:`fastloss.softmax_cross_entropy`; ``n_threads`` is validated, then
        ignored.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        A NumPy scalar of the computation dtype for ``"mean"`` and
        ``"sum"``, an array for ``"none"``, as :func:`fastloss.softmax_cross_entropy`
        returns it, to the accuracy bounds of the contract (not bit for bit).

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError, IndexError
        As :func:`fastloss.softmax_cross_entropy`: the same types, for the same
        conditions, in the same order (an out-of-range label raises
        ``IndexError`` last); the messages are worded differently.

    See Also
    --------
    fastloss.softmax_cross_entropy : The compiled function.

    Notes
    -----
    ``l_i = sum_c w_c q'_ic (LSE_i - x_ic)``, with
    ``LSE_i - x_ic = (m_i - x_ic) + log sum_k exp(x_ik - m_i)`` and
    ``m_i = max_k x_ik``; reduced as in :func:`cross_entropy`. A ``-inf``
    logit with ``w_c q'_ic == 0`` contributes exactly 0.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss.reference
    >>> logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    >>> print(f"{fastloss.reference.softmax_cross_entropy(logits, [0, 1]):.6f}")
    0.318540
    >>> float(fastloss.reference.softmax_cross_entropy(np.array([[-1000.0, 0.0]]), [0]))
    1000.0
    """
    logits, grad_dtype, axis, reduction, _ = _common(logits, "logits", axis, reduction,
                                                     n_threads)
    batch = _class_batch(logits, grad_dtype, axis, reduction, target, weight=weight,
                         ignore_index=ignore_index, label_smoothing=label_smoothing,
                         sample_weight=sample_weight, out=None)
    neg_log_softmax, _ = _log_softmax_parts(batch.x)
    return _class_loss(batch, neg_log_softmax)


def softmax_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                   ignore_index=None, label_smoothing=0.0,
                                   sample_weight=None, axis=-1, n_threads=None, out=None):
    """Softmax cross-entropy and its gradient with respect to the logits, in plain NumPy.

    Parameters
    ----------
    logits, target, reduction, weight
        As in :func:`fastloss.softmax_cross_entropy_and_grad`: the same signature and defaults.
    ignore_index, label_smoothing, sample_weight, axis, n_threads, out
        As in :func:`fastloss.softmax_cross_entropy_and_grad`; ``n_threads`` is validated, then
        ignored.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        As :func:`fastloss.softmax_cross_entropy` returns it.
    grad : numpy.ndarray
        The gradient, of ``logits``'s shape and of the gradient dtype
        (float16 and bfloat16 for those inputs); ``out`` itself if given.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError, IndexError
        As :func:`fastloss.softmax_cross_entropy_and_grad`: the same types, for the same
        conditions, in the same order (an out-of-range label raises
        ``IndexError`` last); the messages are worded differently.

    See Also
    --------
    fastloss.softmax_cross_entropy_and_grad : The compiled function.

    Notes
    -----
    ``grad_ic = s_i (p_ic sum_k w_k q'_ik - w_c q'_ic) / D`` with
    ``p = softmax(x)`` (``s_i (p_ic - q'_ic) / D`` without weight for target
    rows summing to 1); positions with ``s_i == 0`` and ignored ones are
    exactly 0, and ``D`` is 1 for "sum" and "none".

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss.reference
    >>> logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    >>> loss, grad = fastloss.reference.softmax_cross_entropy_and_grad(logits, [0, 1])
    >>> print(f"{loss:.6f}")
    0.318540
    >>> print(grad.round(4))
    [[-0.1705  0.1212  0.0493]
     [ 0.0543 -0.0988  0.0445]]
    """
    logits, grad_dtype, axis, reduction, _ = _common(logits, "logits", axis, reduction,
                                                     n_threads)
    batch = _class_batch(logits, grad_dtype, axis, reduction, target, weight=weight,
                         ignore_index=ignore_index, label_smoothing=label_smoothing,
                         sample_weight=sample_weight, out=out)
    neg_log_softmax, softmax = _log_softmax_parts(batch.x)
    loss = _class_loss(batch, neg_log_softmax)
    with np.errstate(all="ignore"):
        numerator = softmax * batch.coef.sum(axis=1, keepdims=True) - batch.coef
    return loss, _class_grad(batch, numerator, out)


class _SquaredError(NamedTuple):
    diff: np.ndarray  # (N, C) p - t in float64, class axis last
    row_weight: np.ndarray  # (N,) s_i
    loss: object
    pred: np.ndarray
    axis: int
    grad_dtype: np.dtype


def _squared_error_parts(pred, target, reduction, sample_weight, axis, n_threads, out):
    """Validate the arguments; return the difference, the loss and the rest."""
    pred, grad_dtype, axis, reduction, _ = _common(pred, "pred", axis, reduction, n_threads)
    target = v.as_dense_like(target, pred)
    sample_weight = v.as_sample_weight(sample_weight, pred, axis)
    v.check_out(out, pred, grad_dtype)

    n_classes = pred.shape[axis]
    diff = _rows(pred, axis).astype(np.float64) - _rows(target, axis).astype(np.float64)
    s = _sample_weights(sample_weight, len(diff))
    row_sums = _weigh_rows(np.square(diff).sum(axis=1), s)
    per_row = row_sums / n_classes if reduction == "none" else row_sums
    with np.errstate(all="ignore"):
        divisor = n_classes * np.where(s == 0.0, 0.0, s).sum()
    loss = _reduce(per_row, reduction, divisor, v.positions_shape(pred, axis), pred.dtype)
    return _SquaredError(diff, s, loss, pred, axis, grad_dtype)


def mean_squared_error(pred, target, *, reduction="mean", sample_weight=None, axis=-1,
                       n_threads=None):
    """Squared error between arrays of the same shape, in plain NumPy.

    Parameters
    ----------
    pred, target, reduction, sample_weight, axis, n_threads
        As in :func:`fastloss.mean_squared_error`: the same signature and defaults;
        ``n_threads`` is validated, then ignored.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        A NumPy scalar of the computation dtype for ``"mean"`` and
        ``"sum"``, an array for ``"none"``, as :func:`fastloss.mean_squared_error`
        returns it, to the accuracy bounds of the contract (not bit for bit).

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError
        As :func:`fastloss.mean_squared_error`: the same types, for the same
        conditions, in the same order; the messages are worded differently.

    See Also
    --------
    fastloss.mean_squared_error : The compiled function.

    Notes
    -----
    With ``l_i = sum_c (p_ic - t_ic)^2`` over the class axis of position
    ``i`` and ``s_i = sample_weight[i]`` (1 without one): "mean" is
    ``sum_i s_i l_i / (C sum_i s_i)`` (the mean over all elements without
    sample weights); "sum" is ``sum_i s_i l_i``; "none" is ``s_i l_i / C``,
    one value per position (unlike PyTorch's element-wise "none").

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss.reference
    >>> pred = np.array([[0.5, 1.0], [2.0, 0.0]])
    >>> target = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> float(fastloss.reference.mean_squared_error(pred, target))
    0.5625
    >>> fastloss.reference.mean_squared_error(pred, target, reduction="none")
    array([0.125, 1.   ])
    """
    return _squared_error_parts(pred, target, reduction, sample_weight, axis, n_threads,
                                None).loss


def mean_squared_error_and_grad(pred, target, *, reduction="mean", sample_weight=None,
                                axis=-1, n_threads=None, out=None):
    """Squared error and its gradient with respect to ``pred``, in plain NumPy.

    Parameters
    ----------
    pred, target, reduction, sample_weight, axis, n_threads, out
        As in :func:`fastloss.mean_squared_error_and_grad`: the same signature and defaults;
        ``n_threads`` is validated, then ignored.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        As :func:`fastloss.mean_squared_error` returns it.
    grad : numpy.ndarray
        The gradient, of ``pred``'s shape and of the gradient dtype
        (float16 and bfloat16 for those inputs); ``out`` itself if given.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError
        As :func:`fastloss.mean_squared_error_and_grad`: the same types, for the same
        conditions, in the same order; the messages are worded differently.

    See Also
    --------
    fastloss.mean_squared_error_and_grad : The compiled function.

    Notes
    -----
    ``grad = 2 s_i (p - t) / (C sum_i s_i)`` for "mean"
    (``2 (p - t) / (N C)`` without sample weights), ``2 s_i (p - t)`` for
    "sum" and ``2 s_i (p - t) / C`` for "none"; positions with ``s_i == 0``
    are exactly 0.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss.reference
    >>> pred = np.array([[0.5, 1.0], [2.0, 0.0]])
    >>> target = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> loss, grad = fastloss.reference.mean_squared_error_and_grad(pred, target)
    >>> float(loss)
    0.5625
    >>> grad
    array([[ 0.25,  0.  ],
           [ 0.5 , -0.5 ]])
    """
    parts = _squared_error_parts(pred, target, reduction, sample_weight, axis, n_threads,
                                 out)
    n_classes = parts.pred.shape[parts.axis]
    if reduction == "mean":
        scale = n_classes * np.where(parts.row_weight == 0.0, 0.0, parts.row_weight).sum()
    else:
        scale = {"sum": 1, "none": n_classes}[reduction]
    with np.errstate(all="ignore"):  # empty batch: an empty 0 / 0
        grad = _weigh_rows(2.0 * parts.diff, parts.row_weight[:, None]) / scale
        grad[parts.row_weight == 0.0] = 0.0
    grad = _unrows(grad, parts.pred.shape, parts.axis).astype(parts.grad_dtype)
    return parts.loss, _fill(grad, out)
