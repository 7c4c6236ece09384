"""A fastloss.dask call: its arguments checked and laid out, then its graph built.

Everything the in-memory call would reject is rejected here, at call time:
the in-memory function itself checks a sample of one lead index of every
operand (zeros of the operands' dtypes and shapes), so the errors are its
own, and the lengths of the lead axes are compared here.  Then the operands
are merged into one chunk along every axis but the lead, the lead chunks of
the target and the sample weights are made pred's, and _graph builds the
tasks.
"""
import math
import numbers
import operator

import numpy as np
import dask.array as da

from .. import _core
from . import _graph

# each function's loss, whether that is element-wise, and its prediction's name
_LOSS_OF = {fn: row[0] for row in _core._LOSSES for fn in row[:2]}
_BINARY = tuple(row[0] for row in _core._LOSSES if row[3])
_PRED_NAME = {row[0]: row[4] for row in _core._LOSSES}


def _as_dask(x, what):
    """x as a dask array, its chunk sizes known."""
    if isinstance(x, da.Array):
        arr = x
    else:
        a = np.asarray(x)
        # (dask cannot size the chunks of an object array: one chunk, and
        # the in-memory call's own TypeError on the sample)
        arr = da.from_array(a, chunks=a.shape) if a.dtype == object else da.asarray(a)
    if any(math.isnan(c) for cs in arr.chunks for c in cs):
        raise ValueError(
            f"{what} has unknown chunk sizes: call {what}.compute_chunk_sizes() first "
            f"(fastloss.dask plans its work on the chunk sizes)")
    return arr


def _small(x, what="an operand"):
    """A small operand (class weights, broadcast weights) as a NumPy array."""
    if isinstance(x, da.Array):
        return np.asarray(_as_dask(x, what))
    return x


def _zeros(arr, axis, n):
    """Zeros of arr's dtype and shape, with length n along ``axis``."""
    shape = list(arr.shape)
    if axis is not None and axis < len(shape):
        shape[axis] = n
    return np.zeros(tuple(shape), arr.dtype)


def _class_axis(fn, pred, options):
    """The class axis, normalised; a bad one raises the in-memory error."""
    nd = pred.ndim
    try:
        ax = operator.index(options["axis"])
    except TypeError:
        ax = None
    if nd > 0 and ax is not None and -nd <= ax < nd:
        return ax % nd
    sample = {k: _small(v) for k, v in options.items() if k != "sample_weight"}
    fn(np.zeros((1,) * nd, pred.dtype), 0, **sample)     # raises the call's own error
    raise TypeError(f"axis must be an integer, got {options['axis']!r}")


def _check_on_a_sample(fn, name, P, lead, positions, n_lead, target, operands, options):
    """The in-memory call on a sample of one lead index (zeros of each
    operand's dtype and shape), so that every argument error is raised now,
    as the in-memory call raises it; its result gives the result dtypes.

    ``operands``: ``(keyword, dask array, lead axis)`` of the target and the
    operands chunked with pred.  An operand whose lead length is not pred's
    gets two indices in the sample, so that the call raises its shape error;
    the error's message then names the caller's shapes, not the sample's.
    """
    n0 = min(n_lead, 1)
    sample_lead = {}
    for what, arr, axis in operands:
        mismatch = lead is not None and arr.ndim > axis and arr.shape[axis] != n_lead
        sample_lead[what] = n0 + 1 if mismatch else n0
    samples = {what: _zeros(arr, axis if lead is not None else None, sample_lead[what])
               for what, arr, axis in operands}
    sample_pred = _zeros(P, lead, n0)
    # (an integer label is checked at compute time, as the arrays' labels are)
    sample_target = samples.pop("target", None)
    if sample_target is None:
        sample_target = 0 if isinstance(target, numbers.Integral) else target
    try:
        result = fn(sample_pred, sample_target, **{**options, **samples})
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if lead is not None:
            replaced = [(f"{name} shape {sample_pred.shape}", f"{name} shape {P.shape}"),
                        (f"pred shape {sample_pred.shape}", f"pred shape {P.shape}"),
                        (f"(shape {sample_pred.shape},", f"(shape {P.shape},")]
            for what, arr, axis in operands:
                sample_shape = _zeros(arr, axis, sample_lead[what]).shape
                replaced.append((f"{what} shape {sample_shape}", f"{what} shape {arr.shape}"))
            # the shapes a target or the sample weights were expected to have
            sample_positions = (n0,) + tuple(positions[1:])
            for before in ("expected ", "class indices of shape ", "positions' shape "):
                replaced.append((f"{before}{sample_positions}", f"{before}{positions}"))
            replaced += [(f"or {sample_pred.shape} for", f"or {P.shape} for"),
                         (f"does not match {(n0,)}, the first axis",
                          f"does not match {(n_lead,)}, the first axis")]
            for old, new in replaced:
                message = message.replace(old, new)
        if message == str(exc):
            raise
        raise type(exc)(message) from None
    for what, arr, axis in operands:
        if sample_lead[what] != n0:         # (the in-memory call always rejects these)
            raise ValueError(
                f"{what} shape {arr.shape} does not match {name} shape {P.shape}: its axis "
                f"{axis} has length {arr.shape[axis]}, {name}'s axis {lead} {n_lead}")
    return result


def evaluate(fn, pred, target, options, out=None):
    """``fn(pred, target, **options)`` on dask arrays: see fastloss.dask."""
    loss = _LOSS_OF[fn]
    want_grad = fn is not loss
    name = _PRED_NAME[loss]
    if out is not None:
        raise TypeError(f"fastloss.dask.{fn.__name__} takes no out= (got "
                        f"{type(out).__name__}): its results are new dask arrays")
    binary = loss in _BINARY
    P = _as_dask(pred, name)
    nd = P.ndim
    options = dict(options)
    if binary:
        ax = None
        lead = 0 if nd else None
        positions = P.shape
    else:
        ax = _class_axis(fn, P, options)
        lead = next((i for i in range(nd) if i != ax), None)
        positions = P.shape[:ax] + P.shape[ax + 1:]
    n_lead = P.shape[lead] if lead is not None else 1

    # the target, and the operands chunked with pred along its lead axis
    scalar_target = not isinstance(target, da.Array) and np.ndim(target) == 0
    T = target if scalar_target else _as_dask(target, "target")
    dense = not scalar_target and T.ndim == nd and not binary
    target_lead = lead if (dense or binary) else 0
    chunked = {}
    for k in ("sample_weight", "weight", "pos_weight"):
        v = options.get(k)
        if v is None or lead is None:
            continue
        if k == "sample_weight" or (binary and np.ndim(v) == nd and np.shape(v)[0] == n_lead
                                    and n_lead != 1):
            chunked[k] = _as_dask(v, k)
    for k, v in options.items():
        if k not in chunked:
            options[k] = _small(v, k)
    # every check: the in-memory call on one lead index of zeros
    operands = [] if scalar_target else [("target", T, target_lead)]
    operands += [(k, v, 0) for k, v in chunked.items()]
    sample = _check_on_a_sample(fn, name, P, lead, positions, n_lead, target, operands,
                                options)
    reduction = options["reduction"]
    if want_grad:
        sample_loss, sample_grad = sample
    else:
        sample_loss, sample_grad = sample, None
    for k in chunked:
        del options[k]

    # one chunk along every axis but the lead; the lead chunks pred's
    if lead is None:
        P1 = P.rechunk(P.shape)
        T1 = T if scalar_target else T.rechunk(T.shape)
        ops = [v.rechunk(v.shape) for v in chunked.values()]
        lead_chunks = (1,)
    else:
        lead_chunks = P.chunks[lead]
        P1 = _lay_out(P, lead, lead_chunks)
        T1 = T if scalar_target else _lay_out(T, target_lead, lead_chunks)
        ops = [_lay_out(v, 0, lead_chunks) for v in chunked.values()]

    if options.get("n_threads") is None and len(lead_chunks) > 1:
        # dask runs the chunks in parallel already: one thread a chunk
        # (n_threads never changes a bit), rather than an OpenMP team in each
        # of dask's threads or workers competing for the same cores
        options["n_threads"] = 1
    rows_per_index = math.prod(positions[1:]) if positions else 1
    call = _graph.Call(
        fn=fn, loss=loss, options=options, chunked=tuple(chunked), lead=lead,
        target_lead=target_lead, rows_per_index=rows_per_index, n_lead=n_lead,
        n_rows=math.prod(positions), positions=positions, reduction=reduction,
        want_grad=want_grad,
        grad_dtype=sample_grad.dtype if sample_grad is not None else None)

    # a "mean" gradient's divisor: the row count, or the divisor pass's
    labelled = not binary and not scalar_target and not dense and loss is not \
        _core.mean_squared_error
    divisor = None
    if want_grad and reduction == "mean" and lead is not None:
        divisor = "pass" if "sample_weight" in chunked or labelled else float(call.n_rows)
    # element outputs of class indices wait for the labels pass too: each
    # chunk raises its own first bad label, the pass the whole array's
    check_labels = (labelled and lead is not None and len(lead_chunks) > 1
                    and (reduction == "none" or want_grad))

    outputs = []

    def chunk_shape(shape, axis):
        def shape_of(k):
            s = list(shape)
            if axis is not None:
                s[axis] = lead_chunks[k]
            return tuple(s)
        return shape_of

    if reduction == "none":
        outputs.append((chunk_shape(positions, 0 if lead is not None else None),
                        (sample_loss.dtype), 0))
    if want_grad:
        outputs.append((chunk_shape(P.shape, lead), sample_grad.dtype, lead))
    loss_dtype = sample_loss.dtype
    total, elements = _graph.build(call, P1, T1, ops, divisor, loss_dtype, outputs,
                                   check_labels, labelled)

    # element outputs chunked as the input was (splitting the merged axes
    # back is slicing only)
    results = []
    k = 0
    if reduction == "none":
        chunks = P.chunks[:ax] + P.chunks[ax + 1:] if ax is not None else P.chunks
        results.append(elements[0].rechunk(chunks) if elements[0].ndim else elements[0])
        k = 1
    else:
        results.append(total)
    if want_grad:
        results.append(elements[k].rechunk(P.chunks) if elements[k].ndim else elements[k])
        return tuple(results)
    return results[0]


def _lay_out(x, lead, lead_chunks):
    """x with pred's lead chunks along ``lead`` and one chunk along every
    other axis."""
    chunks = tuple(lead_chunks if i == lead else (x.shape[i],) for i in range(x.ndim))
    if chunks == x.chunks:
        return x
    return x.rechunk(chunks)
