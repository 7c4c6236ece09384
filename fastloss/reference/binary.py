"""Binary cross-entropy, element-wise, in plain NumPy: the reference of
``fastloss.binary_cross_entropy`` and ``fastloss.sigmoid_binary_cross_entropy``
and of their gradients.

Every element of `pred` (``probs`` or ``logits``, any shape, 0-d and empty
included) is its own binary prediction; there is no class axis. Notation of
the docstrings, for element e of sample i (``i`` the index along the first
axis of pred; a 1-D pred is N samples of one element):

- ``t'_e = t_e (1 - s) + s / 2``, the target smoothed by
  ``s = label_smoothing`` (Keras's rule); targets may be soft and are not
  checked to lie in [0, 1];
- ``w_e``, ``pw_e``: `weight` and `pos_weight` broadcast to pred's shape (1
  without them); ``a_e = pw_e t'_e`` and ``b_e = 1 - t'_e``;
- ``s_i``, the sample weight of sample i (1 without `sample_weight`);
- ``D``, the divisor of ``"mean"``: ``M sum_i s_i`` with
  ``M = prod(pred.shape[1:])`` (``pred.size`` without sample weights,
  ``N = M = 1`` for a 0-d pred); 1 for ``"sum"`` and ``"none"``.

A term whose coefficient ``w_e a_e`` or ``w_e b_e`` has a zero factor
(``t'_e == 0``, ``pw_e == 0``, ``b_e == 0`` or ``w_e == 0``) contributes
exactly 0 to the loss and the gradient, even where its log is -inf, its value
NaN or another factor of its coefficient inf or NaN; so does every element of
a sample with ``s_i == 0``.
Inputs are rounded to the computation dtype (float32 for float32, float16
and bfloat16 pred, float64 otherwise), everything is computed in float64, and
the results are rounded once: losses to the computation dtype, gradients to
the gradient dtype (float16 and bfloat16 for those inputs). ``n_threads`` is
validated, then ignored. No NumPy warning is ever emitted.
"""

from typing import NamedTuple

import numpy as np

from fastloss.reference import _validate as v

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_and_grad",
    "sigmoid_binary_cross_entropy",
    "sigmoid_binary_cross_entropy_and_grad",
]


# ---------------------------------------------------------------------------
# validation (the binary losses' messages name pred's argument)
# ---------------------------------------------------------------------------

def _real_array(value, name):
    """np.asarray(value): a bool, integer, float, float16 or bfloat16 array,
    else TypeError naming the dtype."""
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if v._is_half(array.dtype):
        return array
    dtype = array.dtype
    # NumPy's own floats only: ml_dtypes' float8 types have kind "f" too
    numpy_float = dtype.type in (np.float16, np.float32, np.float64, np.longdouble)
    if dtype.kind not in "biu" and not (dtype.kind == "f" and numpy_float):
        raise TypeError(f"unsupported dtype {dtype} for {name}: expected a real "
                        "(bool, integer or floating) array")
    return array


def _broadcast_weight(weight, pred, name, pred_name):
    """`weight` (None or an array that broadcasts to pred's shape) as
    float64 values rounded to the computation dtype, or None."""
    if weight is None:
        return None
    weight = _real_array(weight, name)
    try:
        fits = np.broadcast_shapes(weight.shape, pred.shape) == pred.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name} shape {weight.shape} does not broadcast to {pred_name} "
                         f"shape {pred.shape}")
    with np.errstate(all="ignore"):  # float64 beyond float32 rounds to inf
        return weight.astype(pred.dtype).astype(np.float64)


def _check_out(out, pred, grad_dtype):
    """`out` must be a writable ndarray of pred's shape and the gradient dtype."""
    if out is None:
        return
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != grad_dtype:
        raise TypeError(f"out must have dtype {grad_dtype}, got {out.dtype}")
    if out.shape != pred.shape:
        raise ValueError(f"out must have shape {pred.shape}, got shape {out.shape}")
    if not out.flags.writeable:
        raise ValueError("out must be writable, got a read-only array")


class _Problem(NamedTuple):
    """A validated binary cross-entropy, as float64 arrays of pred's shape."""

    x: np.ndarray  # probabilities or logits, rounded to the computation dtype
    coef_a: np.ndarray  # w pw t', exactly 0 where any factor is 0
    coef_b: np.ndarray  # w (1 - t'), exactly 0 where either factor is 0
    s: np.ndarray  # sample weights, shaped to broadcast against pred
    divisor: np.float64  # D of the reduction (1 for "sum" and "none")
    reduction: str
    dtype: np.dtype  # the computation dtype
    grad_dtype: np.dtype


_NO_EPS = object()


def _problem(pred, pred_name, target, *, reduction, weight, pos_weight, label_smoothing,
             sample_weight, n_threads, out, eps=_NO_EPS):
    """Validate every argument in the contract's order, then build the
    coefficients, the sample weights and the divisor."""
    pred = _real_array(pred, pred_name)
    grad_dtype = v.grad_dtype(pred)
    dtype = v.computation_dtype(pred)
    with np.errstate(all="ignore"):  # a longdouble beyond float64 rounds to inf
        pred = np.asarray(pred, dtype=dtype, order="C")  # (ascontiguousarray: 0-d to 1-d)
    if eps is not _NO_EPS:
        eps = v.check_eps(eps)
    reduction = v.check_reduction(reduction)
    v.check_n_threads(n_threads)
    smoothing = v.check_label_smoothing(label_smoothing)

    target = _real_array(target, "target")
    if target.shape != pred.shape:
        raise ValueError(f"target shape {target.shape} does not match {pred_name} "
                         f"shape {pred.shape}")
    w = _broadcast_weight(weight, pred, "weight", pred_name)
    pw = _broadcast_weight(pos_weight, pred, "pos_weight", pred_name)
    if sample_weight is not None:
        sample_weight = _real_array(sample_weight, "sample_weight")
        expected = pred.shape[:1]
        if sample_weight.shape != expected:
            raise ValueError(
                f"sample_weight shape {sample_weight.shape} does not match {expected}, "
                f"the first axis of {pred_name} shape {pred.shape}")
    _check_out(out, pred, grad_dtype)

    x = pred.astype(np.float64)
    # rounding to the computation dtype may overflow; inf or nan weights
    # times a zero target, and inf - inf in the weights' sum, are no warnings
    with np.errstate(all="ignore"):
        t = target.astype(dtype).astype(np.float64)
        smoothed = t * (1.0 - smoothing) + smoothing / 2.0
        a = smoothed if pw is None else _product(pw, smoothed)
        b = 1.0 - smoothed
        coef_a = a if w is None else _product(w, a)
        coef_b = b if w is None else _product(w, b)
        if sample_weight is None:
            s = np.ones(pred.shape[:1])
            divisor = float(pred.size)
        else:
            s = sample_weight.astype(dtype).astype(np.float64)
            divisor = np.prod(pred.shape[1:], dtype=np.float64) * s.sum()  # M sum_i s_i
    if reduction != "mean":
        divisor = 1.0
    s = s.reshape(s.shape + (1,) * (pred.ndim - 1))
    return _Problem(x, np.broadcast_to(coef_a, x.shape), np.broadcast_to(coef_b, x.shape), s,
                    np.float64(divisor), reduction, dtype, grad_dtype), eps


def _product(u, v):
    """u v, exactly 0 where either factor is 0 (even if the other is inf or nan)."""
    with np.errstate(all="ignore"):
        return np.where((u == 0) | (v == 0), 0.0, u * v)


# ---------------------------------------------------------------------------
# the loss and the gradient, from the two terms
# ---------------------------------------------------------------------------

def _weighted(problem, a_part, b_part):
    """s_i (w_e a_e A_e + w_e b_e B_e): a zero coefficient (w a, w b or s)
    gives exactly 0 for its part, whatever A or B is (inf, nan)."""
    with np.errstate(all="ignore"):
        element = (np.where(problem.coef_a == 0, 0.0, problem.coef_a * a_part)
                   + np.where(problem.coef_b == 0, 0.0, problem.coef_b * b_part))
        return np.where(problem.s == 0, 0.0, problem.s * element)


def _reduce(problem, losses):
    """s_i l_e reduced: "none" keeps pred's shape, "sum" and "mean" sum in
    float64; every result is rounded once to the computation dtype."""
    # inf - inf in the sum, 0 / 0 (empty pred, zero weights) and the
    # rounding to float32 are IEEE results, not warnings
    with np.errstate(all="ignore"):
        if problem.reduction == "none":
            return losses.astype(problem.dtype)
        total = losses.sum()
        if problem.reduction == "mean":
            total = total / problem.divisor
        return problem.dtype.type(total)


def _gradient(problem, a_part, b_part, out):
    """s_i w_e (a_e A_e + b_e B_e) / D in the gradient dtype, into `out` if given."""
    with np.errstate(all="ignore"):
        grad = _weighted(problem, a_part, b_part) / problem.divisor
        # samples of weight 0 stay 0 whatever D is (0 / 0 is nan)
        grad = np.where(np.broadcast_to(problem.s == 0, grad.shape), 0.0, grad)
        grad = grad.astype(problem.grad_dtype)  # float32/half may overflow to inf
    if out is None:
        return grad
    out[...] = grad
    return out


def _log_terms(x, eps):
    """(-log(p + eps), -log((1 - p) + eps)), the -inf and nan logs included."""
    with np.errstate(all="ignore"):
        return -np.log(x + eps), -np.log((1.0 - x) + eps)


def _softplus_terms(x):
    """(softplus(-x), softplus(x)) without overflow:
    ``max(-+x, 0) + log1p(exp(-|x|))``."""
    with np.errstate(all="ignore"):  # inf - inf of infinite logits never happens here
        tail = np.log1p(np.exp(-np.abs(x)))
        return np.maximum(-x, 0.0) + tail, np.maximum(x, 0.0) + tail


def _sigmoids(x):
    """(sigmoid(-x), sigmoid(x)) without overflow, from ``e = exp(-|x|)``."""
    with np.errstate(all="ignore"):
        e = np.exp(-np.abs(x))
        big, small = 1.0 / (1.0 + e), e / (1.0 + e)
        positive = x >= 0
        return np.where(positive, small, big), np.where(positive, big, small)


# ---------------------------------------------------------------------------
# the public functions
# ---------------------------------------------------------------------------

def binary_cross_entropy(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                         pos_weight=None, label_smoothing=0.0, sample_weight=None,
                         n_threads=None):
    """Binary cross-entropy of probabilities, element-wise, in plain NumPy.

    Parameters
    ----------
    probs, target, reduction, eps, weight, pos_weight
        As in :func:`fastloss.binary_cross_entropy`: the same signature and defaults.
    label_smoothing, sample_weight, n_threads
        As in :func:`fastloss.binary_cross_entropy`; ``n_threads`` is validated, then
        ignored.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        A NumPy scalar of the computation dtype for ``"mean"`` and
        ``"sum"``, an array for ``"none"``, as :func:`fastloss.binary_cross_entropy`
        returns it, to the accuracy bounds of the contract (not bit for bit).

    Raises
    ------
    TypeError, ValueError
        As :func:`fastloss.binary_cross_entropy`, with the same messages, in the same
        order.

    See Also
    --------
    fastloss.binary_cross_entropy : The compiled function.

    Notes
    -----
    ``l_e = -w_e (pw_e t'_e log(p_e + eps) + (1 - t'_e) log((1 - p_e) + eps))``
    for every element ``e`` of ``probs``, reduced as ``sum s_i l_e / D``
    ("mean"), ``sum s_i l_e`` ("sum") or ``s_i l_e`` in probs' shape
    ("none"). ``target`` has probs' shape; ``weight`` and ``pos_weight``
    broadcast to it (scalar, per column, PyTorch's per-channel ``(C, 1, 1)``
    or full); ``sample_weight`` has shape ``(N,)``. A term with a zero
    coefficient is exactly 0, even where ``p + eps == 0`` or
    ``(1 - p) + eps == 0``.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss.reference
    >>> p = np.array([0.9, 0.2, 0.6])
    >>> t = np.array([1.0, 0.0, 1.0])
    >>> print(f"{fastloss.reference.binary_cross_entropy(p, t):.6f}")
    0.279776
    >>> fastloss.reference.binary_cross_entropy(p, [1.0, 0.0], eps=-1.0)
    Traceback (most recent call last):
        ...
    ValueError: eps must be >= 0, got -1.0
    """
    problem, eps = _problem(probs, "probs", target, reduction=reduction, weight=weight,
                            pos_weight=pos_weight, label_smoothing=label_smoothing,
                            sample_weight=sample_weight, n_threads=n_threads, out=None,
                            eps=eps)
    return _reduce(problem, _weighted(problem, *_log_terms(problem.x, eps)))


def binary_cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7,
                                  weight=None, pos_weight=None, label_smoothing=0.0,
                                  sample_weight=None, n_threads=None, out=None):
    """Binary cross-entropy of probabilities and its gradient, in plain NumPy.

    Parameters
    ----------
    probs, target, reduction, eps, weight, pos_weight
        As in :func:`fastloss.binary_cross_entropy_and_grad`: the same signature and defaults.
    label_smoothing, sample_weight, n_threads, out
        As in :func:`fastloss.binary_cross_entropy_and_grad`; ``n_threads`` is validated, then
        ignored.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        As :func:`fastloss.binary_cross_entropy` returns it.
    grad : numpy.ndarray
        The gradient, of ``probs``'s shape and of the gradient dtype
        (float16 and bfloat16 for those inputs); ``out`` itself if given.

    Raises
    ------
    TypeError, ValueError
        As :func:`fastloss.binary_cross_entropy_and_grad`, with the same messages, in the same
        order.

    See Also
    --------
    fastloss.binary_cross_entropy_and_grad : The compiled function.

    Notes
    -----
    ``grad_e = -s_i w_e (a_e / (p_e + eps) - b_e / ((1 - p_e) + eps)) / D``,
    with ``a_e = pw_e t'_e`` and ``b_e = 1 - t'_e``; a zero-coefficient
    term and a sample with ``s_i == 0`` are exactly 0.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss.reference
    >>> p = np.array([0.9, 0.2, 0.6])
    >>> t = np.array([1.0, 0.0, 1.0])
    >>> loss, grad = fastloss.reference.binary_cross_entropy_and_grad(p, t)
    >>> print(f"{loss:.6f}")
    0.279776
    >>> print(grad.round(6))
    [-0.37037   0.416667 -0.555555]
    """
    problem, eps = _problem(probs, "probs", target, reduction=reduction, weight=weight,
                            pos_weight=pos_weight, label_smoothing=label_smoothing,
                            sample_weight=sample_weight, n_threads=n_threads, out=out,
                            eps=eps)
    loss = _reduce(problem, _weighted(problem, *_log_terms(problem.x, eps)))
    with np.errstate(all="ignore"):  # 1 / 0 where p + eps == 0
        d_a = -1.0 / (problem.x + eps)
        d_b = 1.0 / ((1.0 - problem.x) + eps)
    return loss, _gradient(problem, d_a, d_b, out)


def sigmoid_binary_cross_entropy(logits, target, *, reduction="mean", weight=None,
                                 pos_weight=None, label_smoothing=0.0, sample_weight=None,
                                 n_threads=None):
    """Binary cross-entropy of ``sigmoid(logits)``, element-wise, in plain NumPy.

    Parameters
    ----------
    logits, target, reduction, weight, pos_weight
        As in :func:`fastloss.sigmoid_binary_cross_entropy`: the same signature and defaults.
    label_smoothing, sample_weight, n_threads
        As in :func:`fastloss.sigmoid_binary_cross_entropy`; ``n_threads`` is validated, then
        ignored.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        A NumPy scalar of the computation dtype for ``"mean"`` and
        ``"sum"``, an array for ``"none"``, as :func:`fastloss.sigmoid_binary_cross_entropy`
        returns it, to the accuracy bounds of the contract (not bit for bit).

    Raises
    ------
    TypeError, ValueError
        As :func:`fastloss.sigmoid_binary_cross_entropy`, with the same messages, in the same
        order.

    See Also
    --------
    fastloss.sigmoid_binary_cross_entropy : The compiled function.

    Notes
    -----
    ``l_e = w_e (pw_e t'_e softplus(-x_e) + (1 - t'_e) softplus(x_e))``, i.e.
    ``-w_e (pw_e t'_e log sigmoid(x_e) + (1 - t'_e) log sigmoid(-x_e))``,
    with ``softplus(z) = max(z, 0) + log1p(exp(-|z|))``: finite for every
    finite logit. Reduced as in :func:`binary_cross_entropy`; an infinite
    logit whose term has a zero coefficient contributes exactly 0.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss.reference
    >>> x = np.array([2.0, -1.0, 0.5])
    >>> t = np.array([1.0, 0.0, 1.0])
    >>> print(f"{fastloss.reference.sigmoid_binary_cross_entropy(x, t):.6f}")
    0.304756
    """
    problem, _ = _problem(logits, "logits", target, reduction=reduction, weight=weight,
                          pos_weight=pos_weight, label_smoothing=label_smoothing,
                          sample_weight=sample_weight, n_threads=n_threads, out=None)
    return _reduce(problem, _weighted(problem, *_softplus_terms(problem.x)))


def sigmoid_binary_cross_entropy_and_grad(logits, target, *, reduction="mean",
                                          weight=None, pos_weight=None,
                                          label_smoothing=0.0, sample_weight=None,
                                          n_threads=None, out=None):
    """Sigmoid binary cross-entropy and its gradient with respect to the logits, in plain NumPy.

    Parameters
    ----------
    logits, target, reduction, weight, pos_weight
        As in :func:`fastloss.sigmoid_binary_cross_entropy_and_grad`: the same
        signature and defaults.
    label_smoothing, sample_weight, n_threads, out
        As in :func:`fastloss.sigmoid_binary_cross_entropy_and_grad`;
        ``n_threads`` is validated, then ignored.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        As :func:`fastloss.sigmoid_binary_cross_entropy` returns it.
    grad : numpy.ndarray
        The gradient, of ``logits``'s shape and of the gradient dtype
        (float16 and bfloat16 for those inputs); ``out`` itself if given.

    Raises
    ------
    TypeError, ValueError
        As :func:`fastloss.sigmoid_binary_cross_entropy_and_grad`, with the
        same messages, in the same order.

    See Also
    --------
    fastloss.sigmoid_binary_cross_entropy_and_grad : The compiled function.

    Notes
    -----
    ``grad_e = s_i w_e (b_e sigmoid(x_e) - a_e sigmoid(-x_e)) / D``, which is
    PyTorch's ``s w ((1 + (pw - 1) t') sigmoid(x) - pw t') / D``; a
    zero-coefficient term and a sample with ``s_i == 0`` are exactly 0.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss.reference
    >>> x = np.array([2.0, -1.0, 0.5])
    >>> t = np.array([1.0, 0.0, 1.0])
    >>> loss, grad = fastloss.reference.sigmoid_binary_cross_entropy_and_grad(x, t)
    >>> print(f"{loss:.6f}")
    0.304756
    >>> print(grad.round(6))
    [-0.039734  0.089647 -0.125847]
    """
    problem, _ = _problem(logits, "logits", target, reduction=reduction, weight=weight,
                          pos_weight=pos_weight, label_smoothing=label_smoothing,
                          sample_weight=sample_weight, n_threads=n_threads, out=out)
    loss = _reduce(problem, _weighted(problem, *_softplus_terms(problem.x)))
    sig_neg, sig_pos = _sigmoids(problem.x)
    return loss, _gradient(problem, -sig_neg, sig_pos, out)
