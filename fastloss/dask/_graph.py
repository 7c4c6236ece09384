"""The graph of a fastloss call on dask arrays, and the tasks it runs.

A call is checked at once (on a one-index sample of its operands, plus the
lengths of their lead axes), then described as tasks on the chunks of the
lead axis (the first position axis):

* a *chunk task* per chunk computes what the chunk alone can: the partial
  sums of its interior (see _plan), and its "none" losses or its gradient
  (element outputs need no block boundaries);
* a *seam task* per block that a chunk boundary cuts computes that block's
  partial sums from the few lead indices around the boundary;
* one *combine task* adds every piece's partial sums in order
  (fastloss.combine_partial_sums): the whole array's bits, and the whole
  array's first bad label, raised with its global position.

A gradient of "mean" needs the whole array's divisor before any chunk is
written.  Where it is not the row count (class-index labels, sample
weights), a divisor pass over the labels and sample weights, planned as the
loss, computes it; the chunk tasks wait for it.  It also checks every label
first, so that such a gradient raises the whole array's first bad label.

Only partial sums (two floats a block) travel to the combine task; chunks
stay on the worker that computes them.
"""
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import bisect

import numpy as np

import dask.array as da
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from .. import _core
from .._partials import _checked_parts, _from_request, combine_partial_sums
from . import _plan


@dataclass(frozen=True)
class Call:
    """One call, as every task needs it (small and picklable; not a tuple,
    which a dask graph would take for a task)."""

    fn: Any                     # the in-memory function (a loss or its *_and_grad twin)
    loss: Any                   # the loss
    options: Dict[str, Any]     # keyword arguments every task passes unchanged
    chunked: Tuple[str, ...]    # keyword operands chunked with pred along its lead
                                # axis (sample_weight; a binary loss's full-shape weights)
    lead: Optional[int]         # pred's lead axis; None without a position axis
    target_lead: int            # the target's lead axis (0 for class indices)
    rows_per_index: int         # the rows a lead index holds
    n_lead: int                 # the lead axis's length
    n_rows: int                 # the whole array's rows
    positions: Tuple[int, ...]  # their shape
    reduction: str
    want_grad: bool
    grad_dtype: Any

    @property
    def unit(self):
        return _plan.unit(self.rows_per_index)


def _take(a, axis, lo, hi):
    """a[lo:hi] along ``axis`` (all of a when axis is None)."""
    if axis is None:
        return a
    return a[(slice(None),) * axis + (slice(lo, hi),)]


def _piece(call, lo, hi, pred, target, ops, out=None):
    """The positional and keyword arguments of the in-memory call on lead
    indices [lo, hi) of a chunk's (or a seam's) operands."""
    kw = dict(call.options)
    for name, v in ops.items():
        kw[name] = _take(v, 0 if call.lead is not None else None, lo, hi)
    if out is not None:
        kw["out"] = _take(out, call.lead, lo, hi)
    t = target if np.ndim(target) == 0 or call.lead is None else _take(
        target, call.target_lead, lo, hi)
    return (_take(pred, call.lead, lo, hi), t), kw


def _raise_bad(call, req, lo):
    """A piece's bad label (lead indices from ``lo``), raised with its
    position in the whole array."""
    positions = call.positions if len(call.positions) >= 2 else None
    raise _core._label_error(req.bad_label, lo * call.rows_per_index + req.bad,
                             req.n_classes, positions)


def chunk_task(call, k0, divisor, after, pred, target, *operands):
    """A chunk (lead indices from ``k0``): ``(parts, elements)``, the
    PartialSums of its interior (None without a reduction) and its element
    outputs, a tuple: its "none" losses, its gradient, or both.  ``after``
    (ignored) is the result of a task that must come first: the whole
    array's label check."""
    ops = dict(zip(call.chunked, operands))
    length = pred.shape[call.lead] if call.lead is not None else 1
    reducing = call.reduction != "none"
    lo, hi = (0, length) if call.lead is None else _plan.interior(
        k0, k0 + length, call.n_lead, call.unit)
    parts = elements = none = None
    if call.want_grad:
        # the whole chunk's gradient in up to three calls (head, interior,
        # tail), each writing its slice; the interior's partial sums are kept
        elements = np.empty(pred.shape, call.grad_dtype)
        cuts = [(0, lo), (lo, hi), (hi, length)] if reducing else [(0, length)]
    else:
        cuts = [(lo, hi)] if reducing else [(0, length)]
    for a, b in cuts:
        if a == b and (a, b) != (lo, hi):
            continue
        args, kw = _piece(call, a, b, pred, target, ops, elements)
        result, req = _core._partial_run(call.fn, args, kw, divisor=divisor)
        if req.bad >= 0:
            if reducing and not call.want_grad:
                # kept: the combine task raises the whole array's first
                return _from_request(call.loss.__name__, call.reduction, None, req), None
            _raise_bad(call, req, k0 + a)
        if not reducing:
            none = result[0] if call.want_grad else result
        elif (a, b) == (lo, hi):
            loss = result[0] if call.want_grad else result
            parts = _from_request(call.loss.__name__, call.reduction, loss, req)
    return parts, tuple(x for x in (none, elements) if x is not None)


def seam_task(call, pred, target, *operands):
    """A seam: the PartialSums of the lead indices around a chunk boundary."""
    args, kw = _piece(call, 0, None, pred, target, dict(zip(call.chunked, operands)))
    result, req = _core._partial_run(call.loss, args, kw)
    return _from_request(call.loss.__name__, call.reduction, result, req)


def divisor_task(call, k0, shape, dtype, target, *operands):
    """The divisor pass on a piece (a chunk's interior when ``k0`` is not
    None, else a whole seam): its blocks' shares of the divisor, from the
    class-index labels and sample weights alone.  pred, and the operands
    given as None (a dense target, full-shape weights), are zero-stride
    stand-ins of the computation dtype: the divisor does not read them."""
    pred = np.broadcast_to(np.zeros((), dtype), shape)
    if target is None:
        target = pred
    ops = {k: pred if v is None else v for k, v in zip(call.chunked, operands)}
    lo, hi = 0, None
    if k0 is not None and call.lead is not None:
        lo, hi = _plan.interior(k0, k0 + shape[call.lead], call.n_lead, call.unit)
    args, kw = _piece(call, lo, hi, pred, target, ops)
    _, req = _core._partial_run(call.loss, args, kw, labels_only=True)
    return _from_request(call.loss.__name__, call.reduction, None, req)


def combine_task(parts):
    """The loss: the pieces' partial sums combined in order."""
    return combine_partial_sums(parts)


def divisor_combine_task(parts):
    """The whole array's divisor from the pieces' shares (its first bad
    label raised first)."""
    parts = _checked_parts(parts)
    return _core._divisor_total(np.concatenate([p.divisor for p in parts]))


def parts_of(result):
    """A chunk task's partial sums (a task of its own, so that the combine
    task fetches only them, never the chunk's element outputs)."""
    return result[0]


def element_of(result, i):
    """A chunk task's i-th element output."""
    return result[1][i]


def edge(block, axis, lo, hi):
    """Lead indices [lo, hi) of a chunk, copied: the few indices a seam
    needs, cut where the chunk is (only they travel to the seam's worker,
    and the chunk is not kept alive by a view)."""
    return np.array(_take(block, axis, lo, hi), copy=True)


def gather(axis, edges):
    """A seam's operand: its edges of consecutive chunks, as one array."""
    if len(edges) == 1:
        return edges[0]
    return np.concatenate(edges, axis=axis)


# ---------------------------------------------------------------------------
# the graph: one layer of tasks on the operands' chunks, and a layer per result


def _key(x, k, lead):
    """The key of chunk k along ``lead`` of x (one chunk on every other axis)."""
    return (x.name,) + tuple(k if i == lead else 0 for i in range(x.ndim))


def build(call, pred, target, chunked, divisor_mode, loss_dtype, outputs, check_labels=False,
          labels=False):
    """The dask collections of a call: ``(loss, elements)``, a 0-d dask array
    (None for "none") and a list of dask arrays, the element outputs that
    ``outputs`` describes (``(shape_of_chunk, dtype, axis)`` each: the "none"
    losses, then the gradient), chunked along ``axis`` as pred's lead.

    pred, target and the ``chunked`` operands are dask arrays with one
    chunk along every axis but their lead, their lead chunks pred's.
    ``divisor_mode``: None (no divisor given: one piece, or no "mean"
    gradient), the row count (a float), or "pass" (the divisor pass).
    ``check_labels``: the chunks wait for the divisor pass even without a
    "mean" gradient, so that element outputs raise the whole array's first
    bad label (a chunk would raise its own first).  ``labels``: the target
    holds class indices (which the divisor pass reads).

    The divisor pass reads the labels and sample weights alone (stand-ins
    for pred, a dense target and full-shape weights), through the same
    keys as the chunk tasks: they stay in memory from the pass until the
    chunk tasks that read them again have run, a fraction of a pred chunk
    each (cloning their graphs for a second read broke dask's fusion of
    the rechunked labels).
    """
    lead = call.lead
    arrays = [pred] + ([target] if isinstance(target, da.Array) else []) + list(chunked)
    name = "fastloss-" + call.fn.__name__.replace("_", "-") + "-" + tokenize(
        call, [a.name for a in arrays], target if not isinstance(target, da.Array) else None)
    lead_chunks = pred.chunks[lead] if lead is not None else (1,)
    starts = np.concatenate([[0], np.cumsum(lead_chunks)]).astype(int).tolist()
    pieces = _plan.pieces(lead_chunks, call.unit) if lead is not None else [
        ("interior", 0, 0, 1)]
    reducing = call.reduction != "none"
    scalar_target = not isinstance(target, da.Array)
    t_lead = call.target_lead if lead is not None else None
    tasks = {}

    def chunk_operands(k):
        """Chunk k's pred, target and chunked operands (keys)."""
        ops = [_key(pred, k, lead), target if scalar_target else _key(target, k, t_lead)]
        return ops + [_key(op, k, 0 if lead is not None else None) for op in chunked]

    def edges(x, axis, lo, hi):
        """Keys of the edge tasks that cut lead indices [lo, hi) of x from
        its chunks (one task each)."""
        keys = []
        k = bisect.bisect_right(starts, lo) - 1
        while k < len(lead_chunks) and starts[k] < hi:
            a, b = max(lo, starts[k]), min(hi, starts[k + 1])
            if a < b:
                key = (f"{name}-edge-{x.name}", k, a)
                tasks[key] = (edge, _key(x, k, axis), axis, a - starts[k], b - starts[k])
                keys.append(key)
            k += 1
        return keys

    def seam_operands(lo, hi):
        """A seam's pred, target and chunked operands (gather tasks)."""
        ops = [(gather, lead, edges(pred, lead, lo, hi))]
        ops.append(target if scalar_target else (gather, t_lead, edges(target, t_lead, lo, hi)))
        ops += [(gather, 0, edges(op, 0, lo, hi)) for op in chunked]
        return ops

    # a "mean" gradient's divisor: the whole array's, first
    divisor = divisor_mode
    after = None
    if divisor_mode == "pass" or check_labels:
        # the labels and sample weights it reads (None: a stand-in)
        read = [target if labels else None] + [
            op if k == "sample_weight" else None for k, op in zip(call.chunked, chunked)]
        axes = [t_lead] + [0] * len(chunked)
        shares = []
        for j, (kind, k, lo, hi) in enumerate(pieces):
            shape = list(pred.shape)
            if kind == "interior":
                if lead is not None:
                    shape[lead] = lead_chunks[k]
                ops = [None if x is None else _key(x, k, ax) for x, ax in zip(read, axes)]
                k0 = starts[k]
            else:
                shape[lead] = hi - lo
                ops = [None if x is None else (gather, ax, edges(x, ax, lo, hi))
                       for x, ax in zip(read, axes)]
                k0 = None
            if scalar_target:
                ops[0] = target
            key = (name + "-divisor-share", j)
            tasks[key] = (divisor_task, call, k0, tuple(shape), loss_dtype) + tuple(ops)
            shares.append(key)
        after = (name + "-divisor",)
        tasks[after] = (divisor_combine_task, shares)
        if divisor_mode == "pass":
            divisor = after

    # the chunk tasks, and the seams
    chunk_keys = []
    for k in range(len(lead_chunks)):
        key = (name + "-chunk", k)
        tasks[key] = (chunk_task, call, starts[k], divisor, after) + tuple(chunk_operands(k))
        chunk_keys.append(key)
    layers = {}
    deps = {}
    for a in arrays:
        g = a.__dask_graph__()
        layers.update(g.layers)
        deps.update(g.dependencies)
    input_layers = set().union(*(a.__dask_layers__() for a in arrays))
    loss = None
    results = []
    if reducing:
        parts = []
        for j, (kind, k, lo, hi) in enumerate(pieces):
            if kind == "interior":
                key = (name + "-parts", k)
                tasks[key] = (parts_of, chunk_keys[k])
                parts.append(key)
            else:
                key = (name + "-seam", j)
                tasks[key] = (seam_task, call) + tuple(seam_operands(lo, hi))
                parts.append(key)
        results.append((name + "-loss", {(name + "-loss",): (combine_task, parts)}))
    for i, (shape_of, dtype, axis) in enumerate(outputs):
        out = f"{name}-out{i}"
        nd = len(shape_of(0))
        keys = {(out,) + tuple(k if d == axis else 0 for d in range(nd)):
                (element_of, chunk_keys[k], i) for k in range(len(chunk_keys))}
        results.append((out, keys))
    layers[name] = tasks
    deps[name] = input_layers
    for out, dsk in results:
        layers[out] = dsk
        deps[out] = {name}
    graph = HighLevelGraph(layers, deps)
    elements = []
    for out, _ in results:
        if out.endswith("-loss"):
            loss = da.Array(graph, out, chunks=(), dtype=loss_dtype)
    for i, (shape_of, dtype, axis) in enumerate(outputs):
        shapes = [shape_of(k) for k in range(len(chunk_keys))]
        nd = len(shapes[0])
        chunks = tuple(tuple(s[d] for s in shapes) if d == axis else (shapes[0][d],)
                       for d in range(nd))
        elements.append(da.Array(graph, f"{name}-out{i}", chunks=chunks, dtype=dtype))
    return loss, elements
