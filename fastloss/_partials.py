"""Partial sums: a loss computed piece by piece, combined to the whole call's bits.

A reduction (``"sum"``, ``"mean"``) of fastloss is the compensated sum, in
block order, of one result per block of ``BLOCK_ROWS`` rows (a row is a
position for the class losses, an element for the binary ones), each block
depending on its own rows alone.  :func:`partial_sums` computes a piece of
the rows and keeps its blocks' results; :func:`combine_partial_sums` adds
the pieces' blocks in order, as the whole call does.  Cut the rows anywhere
on a block boundary, compute the pieces anywhere (threads, processes,
machines running the same build at the same SIMD level), and the combination
equals the call on the whole array bit for bit.  ``fastloss.dask`` is built
on these two functions.
"""
import numpy as np

from . import _core

__all__ = ["BLOCK_ROWS", "PartialSums", "combine_partial_sums", "partial_sums"]

BLOCK_ROWS = _core._BLOCK
"""Rows per block of every ``"mean"`` and ``"sum"`` (256): every piece given to
:func:`combine_partial_sums` but the last must hold a multiple of it.  A row is
a position of the class losses (``pred``'s shape without the class axis, in C
order) and an element of the binary losses."""

_LOSSES = {row[0].__name__: row[0] for row in _core._LOSSES}


class PartialSums:
    """The block results of one piece of a loss's rows (see :func:`partial_sums`).

    Made by :func:`partial_sums` and read by :func:`combine_partial_sums`;
    there is rarely a reason to construct one directly. It pickles, so pieces
    can be computed in other processes or on other machines.

    Parameters
    ----------
    function : str
        The loss's name (``"cross_entropy"``, ...).
    reduction : {"sum", "mean"}
        The reduction of the call.
    dtype : numpy.dtype or str
        The dtype of the loss (float32 or float64).
    loss, divisor : numpy.ndarray
        Each block's loss sum and its share of the ``"mean"`` divisor
        (float64, one per block, in order).
    rows : int
        The number of rows of the piece.
    positions : tuple of int
        Their shape.
    bad : tuple or None, optional
        ``(row, label, n_classes)`` of the piece's first out-of-range label.
    n_classes : int or None, optional
        The loss's classes (1 for the binary losses).

    Attributes
    ----------
    function : str
        The loss's name (``"cross_entropy"``, ...).
    reduction : str
        ``"sum"`` or ``"mean"``.
    dtype : numpy.dtype
        The dtype of the loss (float32 or float64).
    loss, divisor : numpy.ndarray
        Each block's loss sum and its share of the ``"mean"`` divisor
        (float64, one per block, in order): 16 bytes per 256 rows.
    rows : int
        The piece's rows: positions (class losses) or elements (binary losses).
    positions : tuple of int
        Their shape (``pred``'s shape without the class axis, or ``pred``'s
        shape for the binary losses).
    bad : tuple or None
        ``(row, label, n_classes)`` for the piece's first out-of-range
        label, raised by :func:`combine_partial_sums` with its position in
        the whole array; None when every label is in range.
    n_classes : int or None
        The loss's classes (1 for the binary losses); pieces of different
        class counts are not pieces of one array.

    See Also
    --------
    partial_sums : Computes one.
    combine_partial_sums : Adds them up.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> x = np.random.default_rng(0).standard_normal((600, 10))
    >>> labels = np.zeros(600, dtype=int)
    >>> part = fastloss.partial_sums(fastloss.softmax_cross_entropy, x[:512], labels[:512])
    >>> part
    PartialSums(softmax_cross_entropy, reduction='mean', dtype=float64, rows=512, blocks=2)
    >>> part.loss.shape, part.divisor.dtype
    ((2,), dtype('float64'))
    """

    __slots__ = ("function", "reduction", "dtype", "loss", "divisor", "rows", "positions",
                 "bad", "n_classes")

    def __init__(self, function, reduction, dtype, loss, divisor, rows, positions, bad=None,
                 n_classes=None):
        self.function = function
        self.reduction = reduction
        self.dtype = np.dtype(dtype)
        self.loss = loss
        self.divisor = divisor
        self.rows = int(rows)
        self.positions = tuple(positions)
        self.bad = bad
        self.n_classes = None if n_classes is None else int(n_classes)

    @property
    def lead(self):
        """The piece's length along its first position axis (1 without one).

        Examples
        --------
        >>> import numpy as np
        >>> import fastloss
        >>> pred = np.zeros((3, 4, 5))
        >>> part = fastloss.partial_sums(fastloss.mean_squared_error, pred, pred + 1)
        >>> part.rows, part.positions, part.lead
        (12, (3, 4), 3)
        """
        return self.positions[0] if self.positions else 1

    def __repr__(self):
        state = "" if self.bad is None else f", bad label {self.bad[1]} in row {self.bad[0]}"
        return (f"PartialSums({self.function}, reduction={self.reduction!r}, "
                f"dtype={self.dtype}, rows={self.rows}, blocks={len(self.loss)}{state})")


def _from_request(function, reduction, result, req):
    """A PartialSums from _core._partial_run's request (and its result)."""
    bad = None if req.bad < 0 else (int(req.bad), req.bad_label, int(req.n_classes))
    if bad is not None:
        empty = np.empty(0)
        return PartialSums(function, reduction, np.float64, empty, empty, req.rows,
                           req.positions, bad, req.n_classes)
    dtype = result.dtype if result is not None else np.float64
    return PartialSums(function, reduction, dtype, req.loss, req.div, req.rows, req.positions,
                       n_classes=req.n_classes)


def partial_sums(loss, *args, **kwargs):
    """The block results of ``loss(*args, **kwargs)``, to be combined later.

    Parameters
    ----------
    loss : callable
        One of fastloss's losses: ``cross_entropy``, ``softmax_cross_entropy``,
        ``mean_squared_error``, ``binary_cross_entropy`` or
        ``sigmoid_binary_cross_entropy`` (not a ``*_and_grad`` function).
    *args, **kwargs
        Its arguments, exactly as the loss takes them, for a piece of the
        rows: the first-axis slice ``pred[a:b]`` of the whole ``pred``
        (``a`` a multiple of :data:`BLOCK_ROWS` rows; a row is a position,
        so with positions of shape ``(N, H, W)`` a slice of the first axis
        holds ``H*W`` rows an index) and the same slice of ``target``,
        ``sample_weight`` and any operand of ``pred``'s full shape. With
        ``axis=0``, the first position axis is the one after it.
        ``reduction`` must be ``"sum"`` or ``"mean"``.

    Returns
    -------
    PartialSums
        Each block's loss sum and divisor, for :func:`combine_partial_sums`.
        An out-of-range label is kept, not raised: the combination raises
        it, knowing its position in the whole array.

    Raises
    ------
    TypeError
        `loss` is not one of the five losses (a ``*_and_grad`` function
        included); and the loss's own argument errors, as it raises them.
    ValueError
        ``reduction="none"``; and the loss's own argument errors.

    See Also
    --------
    combine_partial_sums : The loss of the whole array from its pieces.
    fastloss.dask : The losses on chunked arrays, built on these functions.

    Notes
    -----
    A ``"mean"`` or ``"sum"`` is a compensated sum, in block order, of one
    result per block of :data:`BLOCK_ROWS` rows, each depending on its own
    rows alone. If every piece but the last holds a multiple of
    ``BLOCK_ROWS`` rows, :func:`combine_partial_sums` of the pieces in order
    equals the loss of one call on the whole array bit for bit, wherever and
    in whatever order the pieces were computed, with any ``n_threads``, on
    machines that run the same build at the same SIMD level. One first-axis
    index holds ``R = prod(positions[1:])`` rows, so the valid cut points
    are the multiples of ``256 / gcd(256, R)`` indices.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> rng = np.random.default_rng(0)
    >>> logits = rng.standard_normal((1000, 10))
    >>> labels = rng.integers(0, 10, 1000)
    >>> parts = [fastloss.partial_sums(fastloss.softmax_cross_entropy,
    ...                                logits[a:b], labels[a:b])
    ...          for a, b in [(0, 512), (512, 768), (768, 1000)]]
    >>> whole = fastloss.softmax_cross_entropy(logits, labels)
    >>> bool(fastloss.combine_partial_sums(parts) == whole)
    True
    """
    name = getattr(loss, "__name__", None)
    if _LOSSES.get(name) is not loss:
        raise TypeError(
            f"partial_sums takes one of fastloss's losses ({', '.join(sorted(_LOSSES))}), "
            f"got {loss!r}")
    reduction = kwargs.get("reduction", "mean")
    if isinstance(reduction, str) and reduction == "none":
        raise ValueError(f"partial sums need reduction 'sum' or 'mean', got {reduction!r}")
    result, req = _core._partial_run(loss, args, kwargs)   # (another bad value raises there)
    return _from_request(name, reduction, result, req)


def combine_partial_sums(parts):
    """The loss of the whole array from its pieces' :class:`PartialSums`.

    Parameters
    ----------
    parts : iterable of PartialSums
        The pieces in the order of their rows, together the whole array,
        from the same loss with the same options.  Every piece but the last
        must hold a multiple of :data:`BLOCK_ROWS` rows.

    Returns
    -------
    numpy.float64 or numpy.float32
        Bit for bit the loss of one call on the whole array, with its dtype:
        the blocks' results added in block order with the same compensated
        sum.

    Raises
    ------
    ValueError
        No parts, parts of different losses, reductions, dtypes or trailing
        position shapes, or a piece that is not the last and does not end on
        a block boundary.
    TypeError
        A part that is not a :class:`PartialSums`.
    IndexError
        A piece had an out-of-range label: the first one, with its row (or
        position) in the whole array, worded as the whole call words it.

    See Also
    --------
    partial_sums : Computes the pieces.

    Examples
    --------
    >>> import numpy as np, fastloss
    >>> rng = np.random.default_rng(0)
    >>> probs = rng.dirichlet(np.ones(4), size=300).astype(np.float32)
    >>> labels = rng.integers(0, 4, 300)
    >>> parts = [fastloss.partial_sums(fastloss.cross_entropy, probs[a:b], labels[a:b],
    ...                                reduction="sum")
    ...          for a, b in [(0, 256), (256, 300)]]
    >>> total = fastloss.combine_partial_sums(parts)
    >>> print(total.dtype, total == fastloss.cross_entropy(probs, labels, reduction="sum"))
    float32 True

    A bad label is raised by the combination, at its row in the whole array:

    >>> labels[260] = 7
    >>> parts = [fastloss.partial_sums(fastloss.cross_entropy, probs[a:b], labels[a:b])
    ...          for a, b in [(0, 256), (256, 300)]]
    >>> fastloss.combine_partial_sums(parts)
    Traceback (most recent call last):
        ...
    IndexError: target 7 is out of range for 4 classes (row 260)
    """
    parts = _checked_parts(parts)
    first = parts[0]
    for k, p in enumerate(parts):
        if p.dtype != first.dtype:
            raise ValueError(f"part {k} has dtype {p.dtype}, part 0 {first.dtype}")
    return _core._combine(np.concatenate([p.loss for p in parts]),
                          np.concatenate([p.divisor for p in parts]),
                          first.reduction == "mean", first.dtype == np.float32)


def _checked_parts(parts):
    """The parts as a list, checked to be pieces of one call in order; the
    first bad label among them raised with its position in the whole array."""
    parts = list(parts)
    if not parts:
        raise ValueError("combine_partial_sums needs at least one PartialSums")
    for k, p in enumerate(parts):
        if not isinstance(p, PartialSums):
            raise TypeError(f"part {k} is not a PartialSums: {type(p).__name__}")
    first = parts[0]
    for k, p in enumerate(parts):
        if p.function != first.function or p.reduction != first.reduction:
            raise ValueError(
                f"part {k} is {p.function} with reduction {p.reduction!r}, part 0 is "
                f"{first.function} with reduction {first.reduction!r}")
        if p.n_classes != first.n_classes:
            raise ValueError(
                f"part {k} has {p.n_classes} classes, part 0 {first.n_classes}: pieces of one "
                f"array have the same classes")
        if p.positions[1:] != first.positions[1:]:
            raise ValueError(
                f"part {k} has positions of shape {p.positions}, part 0 {first.positions}: "
                f"pieces differ along the first axis only")
        if k < len(parts) - 1 and p.rows % BLOCK_ROWS:
            raise ValueError(
                f"part {k} holds {p.rows} rows, not a multiple of {BLOCK_ROWS}: every piece "
                f"but the last must end on a block boundary")
    offset = 0
    lead = sum(p.lead for p in parts)
    for p in parts:
        if p.bad is not None:
            row, label, n_classes = p.bad
            positions = (lead,) + p.positions[1:] if len(p.positions) >= 2 else None
            raise _core._label_error(label, offset + row, n_classes, positions)
        offset += p.rows
    return parts
