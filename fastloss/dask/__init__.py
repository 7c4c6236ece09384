"""fastloss on dask arrays: the same losses, bit for bit, out of core and distributed.

Every loss and ``*_and_grad`` function of :mod:`fastloss`, under the same
name and signature, taking ``dask.array`` arrays (NumPy arrays too) chunked
any way::

    import dask.array as da, fastloss.dask
    logits = da.from_zarr("preds.zarr", component="logits")
    labels = da.from_zarr("preds.zarr", component="labels")
    loss = fastloss.dask.softmax_cross_entropy(logits, labels).compute()

* ``"mean"`` and ``"sum"`` return a lazy 0-d dask array whose value equals
  the in-memory ``fastloss`` call on the same data bit for bit, whatever the
  chunking, the scheduler (threads, processes, ``dask.distributed``), the
  number of workers and ``n_threads``, where every worker runs the same
  fastloss build at the same SIMD level (``fastloss.show_config()``).
  Each piece's block sums are kept (``fastloss.partial_sums``) and added in
  the in-memory order (``fastloss.combine_partial_sums``); only they travel.
* ``"none"`` and gradients return dask arrays chunked along ``pred``'s
  first position axis as the input was.  A gradient of ``"mean"`` first
  computes the whole array's divisor (from the labels and sample weights
  alone, where it is not the row count).
* Argument, dtype and shape errors raise at call time; a bad label raises at
  compute time the in-memory ``IndexError``, naming its row (or position)
  in the whole array.  ``out=`` is not accepted: results are new arrays.
* Chunks along the class axis, or along a position axis other than the
  first, are merged first; each chunk is read once (a few rows around chunk
  boundaries twice).  Nothing gathers the whole array.

Needs ``pip install "fastloss[dask]"``.
"""
try:
    import dask.array as _da  # noqa: F401
except ImportError as exc:  # pragma: no cover - the dask extra is missing
    raise ImportError(
        "fastloss.dask needs dask.array: install it with `pip install \"fastloss[dask]\"` "
        "(or `pip install \".[dask]\"` from a clone)") from exc

from .. import _core
from ._call import evaluate as _evaluate

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


def cross_entropy(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                  ignore_index=None, label_smoothing=0.0, sample_weight=None, axis=-1,
                  n_threads=None):
    """:func:`fastloss.cross_entropy` on dask arrays: a lazy 0-d array for
    ``"mean"`` and ``"sum"`` (the in-memory bits), a dask array for ``"none"``."""
    return _evaluate(_core.cross_entropy, probs, target, dict(
        reduction=reduction, eps=eps, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, sample_weight=sample_weight, axis=axis,
        n_threads=n_threads))


def softmax_cross_entropy(logits, target, *, reduction="mean", weight=None,
                          ignore_index=None, label_smoothing=0.0, sample_weight=None,
                          axis=-1, n_threads=None):
    """:func:`fastloss.softmax_cross_entropy` on dask arrays (see
    :func:`cross_entropy` for what it returns)."""
    return _evaluate(_core.softmax_cross_entropy, logits, target, dict(
        reduction=reduction, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, sample_weight=sample_weight, axis=axis,
        n_threads=n_threads))


def mean_squared_error(pred, target, *, reduction="mean", sample_weight=None, axis=-1,
                       n_threads=None):
    """:func:`fastloss.mean_squared_error` on dask arrays (see
    :func:`cross_entropy` for what it returns)."""
    return _evaluate(_core.mean_squared_error, pred, target, dict(
        reduction=reduction, sample_weight=sample_weight, axis=axis, n_threads=n_threads))


def binary_cross_entropy(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                         pos_weight=None, label_smoothing=0.0, sample_weight=None,
                         n_threads=None):
    """:func:`fastloss.binary_cross_entropy` on dask arrays (see
    :func:`cross_entropy` for what it returns).  ``weight`` and
    ``pos_weight`` of ``probs``'s full shape are chunked with it."""
    return _evaluate(_core.binary_cross_entropy, probs, target, dict(
        reduction=reduction, eps=eps, weight=weight, pos_weight=pos_weight,
        label_smoothing=label_smoothing, sample_weight=sample_weight, n_threads=n_threads))


def sigmoid_binary_cross_entropy(logits, target, *, reduction="mean", weight=None,
                                 pos_weight=None, label_smoothing=0.0, sample_weight=None,
                                 n_threads=None):
    """:func:`fastloss.sigmoid_binary_cross_entropy` on dask arrays (see
    :func:`binary_cross_entropy`)."""
    return _evaluate(_core.sigmoid_binary_cross_entropy, logits, target, dict(
        reduction=reduction, weight=weight, pos_weight=pos_weight,
        label_smoothing=label_smoothing, sample_weight=sample_weight, n_threads=n_threads))


def cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                           ignore_index=None, label_smoothing=0.0, sample_weight=None,
                           axis=-1, n_threads=None, out=None):
    """:func:`fastloss.cross_entropy_and_grad` on dask arrays: ``(loss,
    gradient)``, the loss as :func:`cross_entropy` returns it and the
    gradient a dask array of ``probs``'s shape and chunks along its first
    position axis.  ``out`` must be None."""
    return _evaluate(_core.cross_entropy_and_grad, probs, target, dict(
        reduction=reduction, eps=eps, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, sample_weight=sample_weight, axis=axis,
        n_threads=n_threads), out)


def softmax_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                   ignore_index=None, label_smoothing=0.0,
                                   sample_weight=None, axis=-1, n_threads=None, out=None):
    """:func:`fastloss.softmax_cross_entropy_and_grad` on dask arrays (see
    :func:`cross_entropy_and_grad`)."""
    return _evaluate(_core.softmax_cross_entropy_and_grad, logits, target, dict(
        reduction=reduction, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, sample_weight=sample_weight, axis=axis,
        n_threads=n_threads), out)


def mean_squared_error_and_grad(pred, target, *, reduction="mean", sample_weight=None,
                                axis=-1, n_threads=None, out=None):
    """:func:`fastloss.mean_squared_error_and_grad` on dask arrays (see
    :func:`cross_entropy_and_grad`)."""
    return _evaluate(_core.mean_squared_error_and_grad, pred, target, dict(
        reduction=reduction, sample_weight=sample_weight, axis=axis, n_threads=n_threads),
        out)


def binary_cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                                  pos_weight=None, label_smoothing=0.0, sample_weight=None,
                                  n_threads=None, out=None):
    """:func:`fastloss.binary_cross_entropy_and_grad` on dask arrays (see
    :func:`cross_entropy_and_grad`)."""
    return _evaluate(_core.binary_cross_entropy_and_grad, probs, target, dict(
        reduction=reduction, eps=eps, weight=weight, pos_weight=pos_weight,
        label_smoothing=label_smoothing, sample_weight=sample_weight, n_threads=n_threads),
        out)


def sigmoid_binary_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                          pos_weight=None, label_smoothing=0.0,
                                          sample_weight=None, n_threads=None, out=None):
    """:func:`fastloss.sigmoid_binary_cross_entropy_and_grad` on dask arrays
    (see :func:`cross_entropy_and_grad`)."""
    return _evaluate(_core.sigmoid_binary_cross_entropy_and_grad, logits, target, dict(
        reduction=reduction, weight=weight, pos_weight=pos_weight,
        label_smoothing=label_smoothing, sample_weight=sample_weight, n_threads=n_threads),
        out)
