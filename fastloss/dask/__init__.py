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
    """Cross-entropy of probabilities on dask arrays.

    :func:`fastloss.cross_entropy` chunk by chunk, under the same signature.

    Parameters
    ----------
    probs : dask.array.Array or array_like
        The probabilities, chunked any way (the class axis included); a
        NumPy array is accepted too. Chunk sizes must be known.
    target : dask.array.Array or array_like
        Class indices of the positions' shape, or a dense target of
        `probs`'s shape (as :func:`fastloss.cross_entropy` takes it),
        chunked any way.
    reduction : {"mean", "sum", "none"}, default "mean"
        As in :func:`fastloss.cross_entropy`.
    eps, weight, ignore_index, label_smoothing, sample_weight, axis
        As in :func:`fastloss.cross_entropy` (same defaults).
        `sample_weight` may be a dask array, chunked any way. `weight` is
        sent whole to every task.
    n_threads : int, optional
        Threads for each chunk's kernel. None runs each chunk on one thread
        when there is more than one chunk (dask already runs the chunks in
        parallel). The result does not depend on it.

    Returns
    -------
    loss : dask.array.Array
        For ``"mean"`` and ``"sum"``, a lazy 0-d array whose computed value
        equals ``fastloss.cross_entropy`` on the same data bit for bit,
        dtype included, for every chunking and scheduler (where every
        worker runs the same fastloss build at the same SIMD level). For
        ``"none"``, a dask array of the in-memory result's shape, chunked
        along `probs`'s first position axis as the input was.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError
        At call time, the in-memory call's argument, dtype and shape
        errors, with its type and message (naming the caller's shapes).
    ValueError
        An input with unknown chunk sizes: call ``compute_chunk_sizes()``
        first.
    IndexError
        At compute time, not at call time: a label outside ``[0, C)`` that
        is not `ignore_index`, naming the whole array's first bad row (or
        position), as the in-memory call words it.

    See Also
    --------
    fastloss.cross_entropy : The in-memory function.
    fastloss.dask.cross_entropy_and_grad : The loss and its gradient on dask arrays.
    fastloss.partial_sums : The block sums the reductions are combined from.

    Notes
    -----
    Each chunk's block sums are computed where the chunk is
    (:func:`fastloss.partial_sums`), and only they travel to the task that adds
    them in the in-memory order (:func:`fastloss.combine_partial_sums`):
    nothing gathers the whole array. Chunks along the class axis, or along a
    position axis other than the first, are merged first; the few rows that a
    chunk boundary cuts out of a block are read twice.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastloss, fastloss.dask
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet(np.ones(5), size=1000)
    >>> t = rng.integers(0, 5, 1000)
    >>> probs = da.from_array(p, chunks=300)
    >>> labels = da.from_array(t, chunks=300)
    >>> loss = fastloss.dask.cross_entropy(probs, labels)
    >>> print(loss.shape, loss.dtype)
    () float64
    >>> bool(loss.compute() == fastloss.cross_entropy(p, t))
    True
    >>> fastloss.dask.cross_entropy(probs, labels, reduction="none").chunks[0]
    (300, 300, 300, 100)
    """
    return _evaluate(_core.cross_entropy, probs, target, dict(
        reduction=reduction, eps=eps, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, sample_weight=sample_weight, axis=axis,
        n_threads=n_threads))


def softmax_cross_entropy(logits, target, *, reduction="mean", weight=None,
                          ignore_index=None, label_smoothing=0.0, sample_weight=None,
                          axis=-1, n_threads=None):
    """Cross-entropy of ``softmax(logits)`` on dask arrays.

    :func:`fastloss.softmax_cross_entropy` chunk by chunk, under the same
    signature.

    Parameters
    ----------
    logits : dask.array.Array or array_like
        The logits, chunked any way (the class axis included); a NumPy
        array is accepted too. Chunk sizes must be known.
    target : dask.array.Array or array_like
        Class indices of the positions' shape, or a dense target of
        `logits`'s shape (as :func:`fastloss.softmax_cross_entropy` takes
        it), chunked any way.
    reduction : {"mean", "sum", "none"}, default "mean"
        As in :func:`fastloss.softmax_cross_entropy`.
    weight, ignore_index, label_smoothing, sample_weight, axis
        As in :func:`fastloss.softmax_cross_entropy` (same defaults).
        `sample_weight` may be a dask array, chunked any way. `weight` is
        sent whole to every task.
    n_threads : int, optional
        Threads for each chunk's kernel. None runs each chunk on one thread
        when there is more than one chunk (dask already runs the chunks in
        parallel). The result does not depend on it.

    Returns
    -------
    loss : dask.array.Array
        For ``"mean"`` and ``"sum"``, a lazy 0-d array whose computed value
        equals ``fastloss.softmax_cross_entropy`` on the same data bit for
        bit, dtype included, for every chunking and scheduler (where every
        worker runs the same fastloss build at the same SIMD level). For
        ``"none"``, a dask array of the in-memory result's shape, chunked
        along `logits`'s first position axis as the input was.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError
        At call time, the in-memory call's argument, dtype and shape
        errors, with its type and message (naming the caller's shapes).
    ValueError
        An input with unknown chunk sizes: call ``compute_chunk_sizes()``
        first.
    IndexError
        At compute time, not at call time: a label outside ``[0, C)`` that
        is not `ignore_index`, naming the whole array's first bad row (or
        position), as the in-memory call words it.

    See Also
    --------
    fastloss.softmax_cross_entropy : The in-memory function.
    fastloss.dask.softmax_cross_entropy_and_grad : The loss and its gradient on dask arrays.
    fastloss.partial_sums : The block sums the reductions are combined from.

    Notes
    -----
    Each chunk's block sums are computed where the chunk is
    (:func:`fastloss.partial_sums`), and only they travel to the task that adds
    them in the in-memory order (:func:`fastloss.combine_partial_sums`):
    nothing gathers the whole array. Chunks along the class axis, or along a
    position axis other than the first, are merged first; the few rows that a
    chunk boundary cuts out of a block are read twice.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastloss, fastloss.dask
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((1000, 5))
    >>> t = rng.integers(0, 5, 1000)
    >>> logits = da.from_array(x, chunks=300)
    >>> labels = da.from_array(t, chunks=300)
    >>> loss = fastloss.dask.softmax_cross_entropy(logits, labels)
    >>> print(loss.shape, loss.dtype)
    () float64
    >>> bool(loss.compute() == fastloss.softmax_cross_entropy(x, t))
    True
    >>> fastloss.dask.softmax_cross_entropy(logits, labels, reduction="none").chunks[0]
    (300, 300, 300, 100)
    """
    return _evaluate(_core.softmax_cross_entropy, logits, target, dict(
        reduction=reduction, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, sample_weight=sample_weight, axis=axis,
        n_threads=n_threads))


def mean_squared_error(pred, target, *, reduction="mean", sample_weight=None, axis=-1,
                       n_threads=None):
    """Squared error on dask arrays.

    :func:`fastloss.mean_squared_error` chunk by chunk, under the same
    signature.

    Parameters
    ----------
    pred : dask.array.Array or array_like
        The predictions, chunked any way (the class axis included); a NumPy
        array is accepted too. Chunk sizes must be known.
    target : dask.array.Array or array_like
        An array of `pred`'s shape (as :func:`fastloss.mean_squared_error`
        takes it), chunked any way.
    reduction : {"mean", "sum", "none"}, default "mean"
        As in :func:`fastloss.mean_squared_error`.
    sample_weight, axis
        As in :func:`fastloss.mean_squared_error` (same defaults).
        `sample_weight` may be a dask array, chunked any way.
    n_threads : int, optional
        Threads for each chunk's kernel. None runs each chunk on one thread
        when there is more than one chunk (dask already runs the chunks in
        parallel). The result does not depend on it.

    Returns
    -------
    loss : dask.array.Array
        For ``"mean"`` and ``"sum"``, a lazy 0-d array whose computed value
        equals ``fastloss.mean_squared_error`` on the same data bit for
        bit, dtype included, for every chunking and scheduler (where every
        worker runs the same fastloss build at the same SIMD level). For
        ``"none"``, a dask array of the in-memory result's shape, chunked
        along `pred`'s first position axis as the input was.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError
        At call time, the in-memory call's argument, dtype and shape
        errors, with its type and message (naming the caller's shapes).
    ValueError
        An input with unknown chunk sizes: call ``compute_chunk_sizes()``
        first.

    See Also
    --------
    fastloss.mean_squared_error : The in-memory function.
    fastloss.dask.mean_squared_error_and_grad : The loss and its gradient on dask arrays.
    fastloss.partial_sums : The block sums the reductions are combined from.

    Notes
    -----
    Each chunk's block sums are computed where the chunk is
    (:func:`fastloss.partial_sums`), and only they travel to the task that adds
    them in the in-memory order (:func:`fastloss.combine_partial_sums`):
    nothing gathers the whole array. Chunks along the class axis, or along a
    position axis other than the first, are merged first; the few rows that a
    chunk boundary cuts out of a block are read twice.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastloss, fastloss.dask
    >>> rng = np.random.default_rng(0)
    >>> y = rng.standard_normal((1000, 5))
    >>> t = rng.standard_normal((1000, 5))
    >>> pred = da.from_array(y, chunks=300)
    >>> target = da.from_array(t, chunks=300)
    >>> loss = fastloss.dask.mean_squared_error(pred, target)
    >>> print(loss.shape, loss.dtype)
    () float64
    >>> bool(loss.compute() == fastloss.mean_squared_error(y, t))
    True
    >>> fastloss.dask.mean_squared_error(pred, target, reduction="none").chunks[0]
    (300, 300, 300, 100)
    """
    return _evaluate(_core.mean_squared_error, pred, target, dict(
        reduction=reduction, sample_weight=sample_weight, axis=axis, n_threads=n_threads))


def binary_cross_entropy(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                         pos_weight=None, label_smoothing=0.0, sample_weight=None,
                         n_threads=None):
    """Binary cross-entropy of probabilities on dask arrays, element-wise.

    :func:`fastloss.binary_cross_entropy` chunk by chunk, under the same
    signature.

    Parameters
    ----------
    probs : dask.array.Array or array_like
        The probabilities, chunked any way; a NumPy array is accepted too.
        Chunk sizes must be known.
    target : dask.array.Array or array_like
        An array of `probs`'s shape (as
        :func:`fastloss.binary_cross_entropy` takes it), chunked any way.
    reduction : {"mean", "sum", "none"}, default "mean"
        As in :func:`fastloss.binary_cross_entropy`.
    eps, weight, pos_weight, label_smoothing, sample_weight
        As in :func:`fastloss.binary_cross_entropy` (same defaults).
        `sample_weight` may be a dask array, chunked any way. `weight` and
        `pos_weight` of `probs`'s full shape are chunked with it; smaller
        ones are sent whole to every task.
    n_threads : int, optional
        Threads for each chunk's kernel. None runs each chunk on one thread
        when there is more than one chunk (dask already runs the chunks in
        parallel). The result does not depend on it.

    Returns
    -------
    loss : dask.array.Array
        For ``"mean"`` and ``"sum"``, a lazy 0-d array whose computed value
        equals ``fastloss.binary_cross_entropy`` on the same data bit for
        bit, dtype included, for every chunking and scheduler (where every
        worker runs the same fastloss build at the same SIMD level). For
        ``"none"``, a dask array of the in-memory result's shape, chunked
        along `probs`'s first axis as the input was.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError
        At call time, the in-memory call's argument, dtype and shape
        errors, with its type and message (naming the caller's shapes).
    ValueError
        An input with unknown chunk sizes: call ``compute_chunk_sizes()``
        first.

    See Also
    --------
    fastloss.binary_cross_entropy : The in-memory function.
    fastloss.dask.binary_cross_entropy_and_grad : The loss and its gradient on dask arrays.
    fastloss.partial_sums : The block sums the reductions are combined from.

    Notes
    -----
    Each chunk's block sums are computed where the chunk is
    (:func:`fastloss.partial_sums`), and only they travel to the task that adds
    them in the in-memory order (:func:`fastloss.combine_partial_sums`):
    nothing gathers the whole array. Chunks along an axis other than the first
    are merged first; the few rows that a chunk boundary cuts out of a block
    are read twice.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastloss, fastloss.dask
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.01, 0.99, (1000, 3))
    >>> t = rng.integers(0, 2, (1000, 3)).astype(float)
    >>> probs = da.from_array(p, chunks=300)
    >>> target = da.from_array(t, chunks=300)
    >>> loss = fastloss.dask.binary_cross_entropy(probs, target)
    >>> print(loss.shape, loss.dtype)
    () float64
    >>> bool(loss.compute() == fastloss.binary_cross_entropy(p, t))
    True
    >>> fastloss.dask.binary_cross_entropy(probs, target, reduction="none").chunks[0]
    (300, 300, 300, 100)
    """
    return _evaluate(_core.binary_cross_entropy, probs, target, dict(
        reduction=reduction, eps=eps, weight=weight, pos_weight=pos_weight,
        label_smoothing=label_smoothing, sample_weight=sample_weight, n_threads=n_threads))


def sigmoid_binary_cross_entropy(logits, target, *, reduction="mean", weight=None,
                                 pos_weight=None, label_smoothing=0.0, sample_weight=None,
                                 n_threads=None):
    """Binary cross-entropy of ``sigmoid(logits)`` on dask arrays, element-wise.

    :func:`fastloss.sigmoid_binary_cross_entropy` chunk by chunk, under the
    same signature.

    Parameters
    ----------
    logits : dask.array.Array or array_like
        The logits, chunked any way; a NumPy array is accepted too. Chunk
        sizes must be known.
    target : dask.array.Array or array_like
        An array of `logits`'s shape (as
        :func:`fastloss.sigmoid_binary_cross_entropy` takes it), chunked
        any way.
    reduction : {"mean", "sum", "none"}, default "mean"
        As in :func:`fastloss.sigmoid_binary_cross_entropy`.
    weight, pos_weight, label_smoothing, sample_weight
        As in :func:`fastloss.sigmoid_binary_cross_entropy` (same
        defaults). `sample_weight` may be a dask array, chunked any way.
        `weight` and `pos_weight` of `logits`'s full shape are chunked with
        it; smaller ones are sent whole to every task.
    n_threads : int, optional
        Threads for each chunk's kernel. None runs each chunk on one thread
        when there is more than one chunk (dask already runs the chunks in
        parallel). The result does not depend on it.

    Returns
    -------
    loss : dask.array.Array
        For ``"mean"`` and ``"sum"``, a lazy 0-d array whose computed value
        equals ``fastloss.sigmoid_binary_cross_entropy`` on the same data
        bit for bit, dtype included, for every chunking and scheduler
        (where every worker runs the same fastloss build at the same SIMD
        level). For ``"none"``, a dask array of the in-memory result's
        shape, chunked along `logits`'s first axis as the input was.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError
        At call time, the in-memory call's argument, dtype and shape
        errors, with its type and message (naming the caller's shapes).
    ValueError
        An input with unknown chunk sizes: call ``compute_chunk_sizes()``
        first.

    See Also
    --------
    fastloss.sigmoid_binary_cross_entropy : The in-memory function.
    fastloss.dask.sigmoid_binary_cross_entropy_and_grad : The loss and its gradient on dask arrays.
    fastloss.partial_sums : The block sums the reductions are combined from.

    Notes
    -----
    Each chunk's block sums are computed where the chunk is
    (:func:`fastloss.partial_sums`), and only they travel to the task that adds
    them in the in-memory order (:func:`fastloss.combine_partial_sums`):
    nothing gathers the whole array. Chunks along an axis other than the first
    are merged first; the few rows that a chunk boundary cuts out of a block
    are read twice.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastloss, fastloss.dask
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((1000, 3))
    >>> t = rng.integers(0, 2, (1000, 3)).astype(float)
    >>> logits = da.from_array(x, chunks=300)
    >>> target = da.from_array(t, chunks=300)
    >>> loss = fastloss.dask.sigmoid_binary_cross_entropy(logits, target)
    >>> print(loss.shape, loss.dtype)
    () float64
    >>> bool(loss.compute() == fastloss.sigmoid_binary_cross_entropy(x, t))
    True
    >>> fastloss.dask.sigmoid_binary_cross_entropy(logits, target, reduction="none").chunks[0]
    (300, 300, 300, 100)
    """
    return _evaluate(_core.sigmoid_binary_cross_entropy, logits, target, dict(
        reduction=reduction, weight=weight, pos_weight=pos_weight,
        label_smoothing=label_smoothing, sample_weight=sample_weight, n_threads=n_threads))


def cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                           ignore_index=None, label_smoothing=0.0, sample_weight=None,
                           axis=-1, n_threads=None, out=None):
    """:func:`fastloss.cross_entropy_and_grad` on dask arrays: the loss and its
    gradient.

    Parameters
    ----------
    probs, target : dask.array.Array or array_like
        As in :func:`fastloss.dask.cross_entropy`.
    reduction, eps, weight, ignore_index, label_smoothing, sample_weight, axis, n_threads
        As in :func:`fastloss.dask.cross_entropy` (same defaults).
    out : None
        Must be None: the gradient is a new dask array.

    Returns
    -------
    loss : dask.array.Array
        As :func:`fastloss.dask.cross_entropy` returns it.
    grad : dask.array.Array
        The gradient, of `probs`'s shape and the in-memory gradient dtype,
        chunked along `probs`'s first position axis as the input was; its
        computed value is the in-memory
        :func:`fastloss.cross_entropy_and_grad` gradient.

    Raises
    ------
    TypeError
        `out` other than None; and, at call time, as
        :func:`fastloss.dask.cross_entropy`.
    ValueError, numpy.exceptions.AxisError
        At call time, as :func:`fastloss.dask.cross_entropy`.
    IndexError
        At compute time: a label outside ``[0, C)`` that is not
        `ignore_index`, naming the whole array's first bad row.

    See Also
    --------
    fastloss.cross_entropy_and_grad : The in-memory function.
    fastloss.dask.cross_entropy : The loss alone.

    Notes
    -----
    A gradient of ``"mean"`` needs the whole array's divisor: a first pass
    computes it (from the labels and sample weights alone, where it is not the
    row count), and the gradient's chunks wait for it. With class indices, the
    element outputs also wait for a labels-only pass that raises the first bad
    label of the whole array.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastloss, fastloss.dask
    >>> rng = np.random.default_rng(0)
    >>> p = rng.dirichlet(np.ones(5), size=1000)
    >>> t = rng.integers(0, 5, 1000)
    >>> probs = da.from_array(p, chunks=300)
    >>> labels = da.from_array(t, chunks=300)
    >>> loss, grad = fastloss.dask.cross_entropy_and_grad(probs, labels)
    >>> grad.chunks[0]
    (300, 300, 300, 100)
    >>> loss_np, grad_np = fastloss.cross_entropy_and_grad(p, t)
    >>> bool(loss.compute() == loss_np), bool(np.array_equal(grad.compute(), grad_np))
    (True, True)
    """
    return _evaluate(_core.cross_entropy_and_grad, probs, target, dict(
        reduction=reduction, eps=eps, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, sample_weight=sample_weight, axis=axis,
        n_threads=n_threads), out)


def softmax_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                   ignore_index=None, label_smoothing=0.0,
                                   sample_weight=None, axis=-1, n_threads=None, out=None):
    """:func:`fastloss.softmax_cross_entropy_and_grad` on dask arrays: the loss
    and its gradient.

    Parameters
    ----------
    logits, target : dask.array.Array or array_like
        As in :func:`fastloss.dask.softmax_cross_entropy`.
    reduction, weight, ignore_index, label_smoothing, sample_weight, axis, n_threads
        As in :func:`fastloss.dask.softmax_cross_entropy` (same defaults).
    out : None
        Must be None: the gradient is a new dask array.

    Returns
    -------
    loss : dask.array.Array
        As :func:`fastloss.dask.softmax_cross_entropy` returns it.
    grad : dask.array.Array
        The gradient, of `logits`'s shape and the in-memory gradient dtype,
        chunked along `logits`'s first position axis as the input was; its
        computed value is the in-memory
        :func:`fastloss.softmax_cross_entropy_and_grad` gradient.

    Raises
    ------
    TypeError
        `out` other than None; and, at call time, as
        :func:`fastloss.dask.softmax_cross_entropy`.
    ValueError, numpy.exceptions.AxisError
        At call time, as :func:`fastloss.dask.softmax_cross_entropy`.
    IndexError
        At compute time: a label outside ``[0, C)`` that is not
        `ignore_index`, naming the whole array's first bad row.

    See Also
    --------
    fastloss.softmax_cross_entropy_and_grad : The in-memory function.
    fastloss.dask.softmax_cross_entropy : The loss alone.

    Notes
    -----
    A gradient of ``"mean"`` needs the whole array's divisor: a first pass
    computes it (from the labels and sample weights alone, where it is not the
    row count), and the gradient's chunks wait for it. With class indices, the
    element outputs also wait for a labels-only pass that raises the first bad
    label of the whole array.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastloss, fastloss.dask
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((1000, 5))
    >>> t = rng.integers(0, 5, 1000)
    >>> logits = da.from_array(x, chunks=300)
    >>> labels = da.from_array(t, chunks=300)
    >>> loss, grad = fastloss.dask.softmax_cross_entropy_and_grad(logits, labels)
    >>> grad.chunks[0]
    (300, 300, 300, 100)
    >>> loss_np, grad_np = fastloss.softmax_cross_entropy_and_grad(x, t)
    >>> bool(loss.compute() == loss_np), bool(np.array_equal(grad.compute(), grad_np))
    (True, True)
    """
    return _evaluate(_core.softmax_cross_entropy_and_grad, logits, target, dict(
        reduction=reduction, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, sample_weight=sample_weight, axis=axis,
        n_threads=n_threads), out)


def mean_squared_error_and_grad(pred, target, *, reduction="mean", sample_weight=None,
                                axis=-1, n_threads=None, out=None):
    """:func:`fastloss.mean_squared_error_and_grad` on dask arrays: the loss and
    its gradient.

    Parameters
    ----------
    pred, target : dask.array.Array or array_like
        As in :func:`fastloss.dask.mean_squared_error`.
    reduction, sample_weight, axis, n_threads
        As in :func:`fastloss.dask.mean_squared_error` (same defaults).
    out : None
        Must be None: the gradient is a new dask array.

    Returns
    -------
    loss : dask.array.Array
        As :func:`fastloss.dask.mean_squared_error` returns it.
    grad : dask.array.Array
        The gradient, of `pred`'s shape and the in-memory gradient dtype,
        chunked along `pred`'s first position axis as the input was; its
        computed value is the in-memory
        :func:`fastloss.mean_squared_error_and_grad` gradient.

    Raises
    ------
    TypeError
        `out` other than None; and, at call time, as
        :func:`fastloss.dask.mean_squared_error`.
    ValueError, numpy.exceptions.AxisError
        At call time, as :func:`fastloss.dask.mean_squared_error`.

    See Also
    --------
    fastloss.mean_squared_error_and_grad : The in-memory function.
    fastloss.dask.mean_squared_error : The loss alone.

    Notes
    -----
    A gradient of ``"mean"`` needs the whole array's divisor: a first pass
    computes it (from the labels and sample weights alone, where it is not the
    row count), and the gradient's chunks wait for it. With class indices, the
    element outputs also wait for a labels-only pass that raises the first bad
    label of the whole array.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastloss, fastloss.dask
    >>> rng = np.random.default_rng(0)
    >>> y = rng.standard_normal((1000, 5))
    >>> t = rng.standard_normal((1000, 5))
    >>> pred = da.from_array(y, chunks=300)
    >>> target = da.from_array(t, chunks=300)
    >>> loss, grad = fastloss.dask.mean_squared_error_and_grad(pred, target)
    >>> grad.chunks[0]
    (300, 300, 300, 100)
    >>> loss_np, grad_np = fastloss.mean_squared_error_and_grad(y, t)
    >>> bool(loss.compute() == loss_np), bool(np.array_equal(grad.compute(), grad_np))
    (True, True)
    """
    return _evaluate(_core.mean_squared_error_and_grad, pred, target, dict(
        reduction=reduction, sample_weight=sample_weight, axis=axis, n_threads=n_threads),
        out)


def binary_cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                                  pos_weight=None, label_smoothing=0.0, sample_weight=None,
                                  n_threads=None, out=None):
    """:func:`fastloss.binary_cross_entropy_and_grad` on dask arrays: the loss and
    its gradient.

    Parameters
    ----------
    probs, target : dask.array.Array or array_like
        As in :func:`fastloss.dask.binary_cross_entropy`.
    reduction, eps, weight, pos_weight, label_smoothing, sample_weight, n_threads
        As in :func:`fastloss.dask.binary_cross_entropy` (same defaults).
    out : None
        Must be None: the gradient is a new dask array.

    Returns
    -------
    loss : dask.array.Array
        As :func:`fastloss.dask.binary_cross_entropy` returns it.
    grad : dask.array.Array
        The gradient, of `probs`'s shape and the in-memory gradient dtype,
        chunked along `probs`'s first axis as the input was; its computed
        value is the in-memory
        :func:`fastloss.binary_cross_entropy_and_grad` gradient.

    Raises
    ------
    TypeError
        `out` other than None; and, at call time, as
        :func:`fastloss.dask.binary_cross_entropy`.
    ValueError, numpy.exceptions.AxisError
        At call time, as :func:`fastloss.dask.binary_cross_entropy`.

    See Also
    --------
    fastloss.binary_cross_entropy_and_grad : The in-memory function.
    fastloss.dask.binary_cross_entropy : The loss alone.

    Notes
    -----
    A gradient of ``"mean"`` needs the whole array's divisor: a first pass
    computes it (from the labels and sample weights alone, where it is not the
    row count), and the gradient's chunks wait for it. With class indices, the
    element outputs also wait for a labels-only pass that raises the first bad
    label of the whole array.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastloss, fastloss.dask
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.01, 0.99, (1000, 3))
    >>> t = rng.integers(0, 2, (1000, 3)).astype(float)
    >>> probs = da.from_array(p, chunks=300)
    >>> target = da.from_array(t, chunks=300)
    >>> loss, grad = fastloss.dask.binary_cross_entropy_and_grad(probs, target)
    >>> grad.chunks[0]
    (300, 300, 300, 100)
    >>> loss_np, grad_np = fastloss.binary_cross_entropy_and_grad(p, t)
    >>> bool(loss.compute() == loss_np), bool(np.array_equal(grad.compute(), grad_np))
    (True, True)
    """
    return _evaluate(_core.binary_cross_entropy_and_grad, probs, target, dict(
        reduction=reduction, eps=eps, weight=weight, pos_weight=pos_weight,
        label_smoothing=label_smoothing, sample_weight=sample_weight, n_threads=n_threads),
        out)


def sigmoid_binary_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                          pos_weight=None, label_smoothing=0.0,
                                          sample_weight=None, n_threads=None, out=None):
    """:func:`fastloss.sigmoid_binary_cross_entropy_and_grad` on dask arrays: the
    loss and its gradient.

    Parameters
    ----------
    logits, target : dask.array.Array or array_like
        As in :func:`fastloss.dask.sigmoid_binary_cross_entropy`.
    reduction, weight, pos_weight, label_smoothing, sample_weight, n_threads
        As in :func:`fastloss.dask.sigmoid_binary_cross_entropy` (same
        defaults).
    out : None
        Must be None: the gradient is a new dask array.

    Returns
    -------
    loss : dask.array.Array
        As :func:`fastloss.dask.sigmoid_binary_cross_entropy` returns it.
    grad : dask.array.Array
        The gradient, of `logits`'s shape and the in-memory gradient dtype,
        chunked along `logits`'s first axis as the input was; its computed
        value is the in-memory
        :func:`fastloss.sigmoid_binary_cross_entropy_and_grad` gradient.

    Raises
    ------
    TypeError
        `out` other than None; and, at call time, as
        :func:`fastloss.dask.sigmoid_binary_cross_entropy`.
    ValueError, numpy.exceptions.AxisError
        At call time, as
        :func:`fastloss.dask.sigmoid_binary_cross_entropy`.

    See Also
    --------
    fastloss.sigmoid_binary_cross_entropy_and_grad : The in-memory function.
    fastloss.dask.sigmoid_binary_cross_entropy : The loss alone.

    Notes
    -----
    A gradient of ``"mean"`` needs the whole array's divisor: a first pass
    computes it (from the labels and sample weights alone, where it is not the
    row count), and the gradient's chunks wait for it. With class indices, the
    element outputs also wait for a labels-only pass that raises the first bad
    label of the whole array.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> import fastloss, fastloss.dask
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((1000, 3))
    >>> t = rng.integers(0, 2, (1000, 3)).astype(float)
    >>> logits = da.from_array(x, chunks=300)
    >>> target = da.from_array(t, chunks=300)
    >>> loss, grad = fastloss.dask.sigmoid_binary_cross_entropy_and_grad(logits, target)
    >>> grad.chunks[0]
    (300, 300, 300, 100)
    >>> loss_np, grad_np = fastloss.sigmoid_binary_cross_entropy_and_grad(x, t)
    >>> bool(loss.compute() == loss_np), bool(np.array_equal(grad.compute(), grad_np))
    (True, True)
    """
    return _evaluate(_core.sigmoid_binary_cross_entropy_and_grad, logits, target, dict(
        reduction=reduction, weight=weight, pos_weight=pos_weight,
        label_smoothing=label_smoothing, sample_weight=sample_weight, n_threads=n_threads),
        out)
