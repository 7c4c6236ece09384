"""Fuzzing: arbitrary arguments thrown at every public function.

Every call of a compiled function must either return what ``fastloss.reference``
returns (same type, dtype and shape; values within a relative 1e-12 in
float64 and 1e-5 in float32, NaN where NaN, the same infinities), or raise
the exception type the reference raises (``IndexError`` label messages must
match exactly). Inputs are never modified, ``out`` is the gradient returned,
and a successful call warns only where the reference warns too. Where a sum
cancels (terms of both signs, ``log(s)`` of a softmax sum close to 1, a
divisor of weights that cancel) the tolerance is relative to the sum of the
magnitudes of the terms rather than to the result; where such a bound
overflows, values are not compared. ``fastloss.book`` is checked against
``fastloss.reference.book`` (the book's code as published) wherever the
book's code is defined and fastloss.book promises its numbers (float64 and float32
arrays of 1 or 2 dimensions, labels in range or one-hot rows; float32 against
the book run on the float64 values of the same inputs); elsewhere it must
raise a clean ``TypeError``, ``ValueError`` or ``IndexError`` or return.

The child tests, per function:
  test_corpus              fixed examples: every discrepancy found so far
                           ("bug-..."), and the classic pitfalls of loss
                           kernels that must keep passing
  test_valid_arguments     calls the functions accept (labels may be out of range)
  test_one_odd_argument    a valid call with one argument replaced by an odd
                           value (wrong type, dtype, shape or range; junk)
  test_arbitrary_arguments every argument independently valid or odd
  test_book, test_book_junk

The arrays cover every dtype (float16 ... float64, bool, every integer,
complex, object, str, bytes, datetime, timedelta, structured), shapes with
zeros, 0-d and 3-d, rows wider than the kernels' scratch buffers and batches
across their 256-row blocks, strided, reversed, Fortran, zero-stride
(broadcast), read-only, unaligned and byte-swapped buffers, ndarray
subclasses, lists and ``__array__`` objects; the values NaN, infinities,
subnormals and the extremes of every dtype; the labels huge, negative,
unsigned extremes and ``ignore_index`` collisions.

Crashes: the tests above run in a child process (``FASTLOSS_FUZZ_CHILD=1``),
one test here per test there, so that a segfault is a failed test here rather
than a dead pytest. Before each example the child pickles it to a trace file;
after a crash the failure message names that file, and
``python tests/test_fuzz.py --replay FILE`` calls the crashing example again.
Run the child directly (with hypothesis's own report) with
``FASTLOSS_FUZZ_CHILD=1 pytest tests/test_fuzz.py``.

Environment:
  FASTLOSS_FUZZ_EXAMPLES  examples per hypothesis test (default: CI's
                          FASTLOSS_HYPOTHESIS_MAX_EXAMPLES if set, else 60;
                          the whole file then takes about 15 s)
  FASTLOSS_FUZZ_SEED      a seed for a new random run (default: derandomized,
                          the same examples every run)
  FASTLOSS_FUZZ_SHRINK=1  let hypothesis shrink a failing example (slow)
"""
import math
import os
import pickle
import re
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CHILD = os.environ.get("FASTLOSS_FUZZ_CHILD") == "1"
EXAMPLES = int(os.environ.get("FASTLOSS_FUZZ_EXAMPLES")
               or os.environ.get("FASTLOSS_HYPOTHESIS_MAX_EXAMPLES") or 60)
SEED = os.environ.get("FASTLOSS_FUZZ_SEED")
TRACE = os.environ.get("FASTLOSS_FUZZ_TRACE")

LOSSES = ["cross_entropy", "softmax_cross_entropy", "mean_squared_error",
          "cross_entropy_and_grad", "softmax_cross_entropy_and_grad",
          "mean_squared_error_and_grad"]
BOOK = ["softmax", "cross_entropy_error", "sum_squared_error", "mean_squared_error",
        "SoftmaxWithLoss"]

# what each hypothesis test of the child checks, by test name
CHILD_TESTS = ([f"test_valid_arguments[{f}]" for f in LOSSES]
               + [f"test_one_odd_argument[{f}]" for f in LOSSES]
               + [f"test_arbitrary_arguments[{f}]" for f in LOSSES]
               + [f"test_book[{f}]" for f in BOOK]
               + [f"test_book_junk[{f}]" for f in BOOK])


# ---------------------------------------------------------------------------
# Recipes: an argument as a picklable description (base values plus layout
# operations), so a crashing example can be written out and replayed.
# ---------------------------------------------------------------------------

class Arr:
    """An ndarray built from contiguous ``base`` values by layout ``ops``."""

    def __init__(self, base, ops=()):
        self.base = base
        self.ops = tuple(ops)

    def build(self):
        a = np.array(self.base, copy=True, order="C")
        ops = [o for o in self.ops if o not in TERMINAL]
        ops += [o for o in self.ops if o in TERMINAL][-1:]   # at most one, last
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)   # np.matrix
            for op in ops:
                a = _apply_layout(a, op)
        return a

    def __repr__(self):
        b = self.base
        with np.printoptions(threshold=40, edgeitems=3):
            return f"Arr({b.dtype.str} {b.shape} {np.array2string(b)}, ops={list(self.ops)})"


# layout operations whose result is no longer a plain ndarray
TERMINAL = ("matrix", "masked", "list", "array_like")


class Junk:
    """An object NumPy turns into a 0-d object array (or rejects)."""

    def __repr__(self):
        return "Junk()"


class HasArray:
    """An array-like through ``__array__``."""

    def __init__(self, base):
        self.base = base

    def __array__(self, dtype=None, copy=None):
        a = np.array(self.base)
        return a if dtype is None else a.astype(dtype)

    def __repr__(self):
        return f"HasArray({self.base!r})"


class FloatLike:
    """Has ``__float__`` and ``__index__`` but is not a numbers.Real."""

    def __float__(self):
        return 0.5

    def __repr__(self):
        return "FloatLike()"


def _apply_layout(a, op):
    """One layout operation on ``a``; the values stay the same (except
    "broadcast", which repeats the first row)."""
    if op == "fortran":
        return np.asfortranarray(a)
    if op == "readonly":
        a = a.copy() if a.flags.owndata else a
        a.flags.writeable = False
        return a
    if op == "reversed":
        if a.ndim == 0:
            return a
        rev = tuple(slice(None, None, -1) for _ in a.shape)
        return np.ascontiguousarray(a[rev])[rev]
    if op.startswith("strided"):
        if a.ndim == 0:
            return a
        step = int(op[len("strided"):] or 2)
        big = np.zeros(tuple(step * s + 1 for s in a.shape), a.dtype)
        sl = tuple(slice(1, None, step) if i == 0 else slice(None, None, step)
                   for i in range(a.ndim))
        big[sl][tuple(slice(0, s) for s in a.shape)] = a
        return big[sl][tuple(slice(0, s) for s in a.shape)]
    if op == "column_view":
        if a.ndim != 2:
            return a
        return np.asfortranarray(np.concatenate([a, a], axis=1))[:, : a.shape[1]]
    if op == "swapped":
        if a.dtype.kind in "biufcmM" and a.dtype.itemsize > 1:
            return a.astype(a.dtype.newbyteorder("S"))
        return a
    if op == "unaligned":
        if a.dtype.kind not in "biufcmM" or a.dtype.itemsize == 1 or a.ndim == 0:
            return a
        buf = np.zeros(a.nbytes + 1, np.uint8)
        un = buf[1:].view(a.dtype).reshape(a.shape)
        un[...] = a
        return un
    if op == "broadcast":
        if a.ndim == 0 or a.shape[0] == 0:
            return a
        return np.broadcast_to(a[:1], a.shape)
    if op == "matrix":
        return np.asmatrix(a) if a.ndim == 2 and a.dtype.kind in "biuf" else a
    if op == "masked":
        return np.ma.masked_array(a, mask=np.zeros(a.shape, bool)) if a.dtype.kind in "biuf" else a
    if op == "list":
        return a.tolist() if a.dtype.kind in "biuf" else a
    if op == "array_like":
        return HasArray(a)
    raise ValueError(op)


def materialize(x):
    if isinstance(x, Arr):
        return x.build()
    return x


def materialize_call(args, kwargs):
    """Build the arrays of a call; out="ALIAS_PRED" / "ALIAS_TARGET" makes
    ``out`` the very pred / target object of this call."""
    a = [materialize(x) for x in args]
    kw = {k: materialize(v) for k, v in kwargs.items()}
    if isinstance(kw.get("out"), str) and kw["out"] in ("ALIAS_PRED", "ALIAS_TARGET"):
        kw["out"] = a[0 if kw["out"] == "ALIAS_PRED" else 1]
    return a, kw


# ---------------------------------------------------------------------------
# Comparison with the reference
# ---------------------------------------------------------------------------

RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
# below these magnitudes a result is subnormal (float64) or the rounding of a
# subnormal (float32): no relative accuracy is possible or promised
ATOL = {np.dtype(np.float64): 2.0 ** -1000, np.dtype(np.float32): 2.0 ** -120}
F32_MAX = float(np.finfo(np.float32).max)


def call(fn, args, kwargs):
    """("ok", result, warnings) or ("raise", exception, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return "ok", fn(*args, **kwargs), [str(w.message) for w in caught]
        except Exception as exc:  # noqa: BLE001 - any exception is compared
            return "raise", exc, [str(w.message) for w in caught]


def snapshot(values):
    """Bytes (or reprs) of every array-like input, to show it is not modified."""
    snap = []
    for v in values:
        if isinstance(v, np.ndarray) and v.dtype.kind != "O":
            snap.append((v.shape, v.dtype.str, np.array(v).tobytes()))
        else:
            snap.append(None)
    return snap


def assert_close_elementwise(got, want, tol, loose, what):
    """``got`` and ``want`` (float64 arrays) agree: NaN where NaN, the same
    infinities, finite values within ``tol``; elements marked ``loose``
    (whose error bound overflowed) are not compared."""
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    tol = np.broadcast_to(np.asarray(tol, np.float64), want.shape)
    loose = np.broadcast_to(np.asarray(loose, bool), want.shape)
    with np.errstate(all="ignore"):
        # a bound made NaN by a NaN term with a zero coefficient (an ignored
        # row, say) asks for the exact value
        tol = np.where(np.isnan(tol), 0.0, tol)
        nan_ok = np.isnan(got) == np.isnan(want)
        inf_ok = np.where(np.isinf(want) | np.isinf(got), got == want, True)
        diff_ok = np.where(np.isfinite(want) & np.isfinite(got),
                           (got == want) | (np.abs(got - want) <= tol), True)
    ok = loose | (nan_ok & inf_ok & diff_ok)
    if not ok.all():
        idx = np.argwhere(~ok)[:5]
        lines = [f"  at {tuple(int(i) for i in ix)}: got {got[tuple(ix)]!r}, "
                 f"reference {want[tuple(ix)]!r}, tolerance {tol[tuple(ix)]!r}" for ix in idx]
        raise AssertionError(f"{what}: {int((~ok).sum())} of {ok.size} values differ\n"
                             + "\n".join(lines))


def _f32_edge(got, want, dtype):
    """float32 results that round to infinity in one computation and to
    FLT_MAX in the other (the float64 value lies on the edge)."""
    if dtype != np.float32:
        return False
    g, w = np.asarray(got, np.float64), np.asarray(want, np.float64)
    with np.errstate(all="ignore"):
        return (np.abs(g) >= F32_MAX * (1 - 1e-5)) & (np.abs(w) >= F32_MAX * (1 - 1e-5)) \
            & (np.sign(g) == np.sign(w))


def error_bounds(name, args, kwargs, loss, grad):
    """Per-element error bounds of the loss and gradient that the reference
    returned, from the magnitudes of the terms that are summed.

    Returns (loss_bound, loss_loose, grad_bound, grad_loose): the bound is
    ``sum of |terms|`` (so cancellation in the sum, or in the divisor of
    "mean", widens the tolerance), ``loose`` marks elements whose bound
    overflowed (sums of finite terms beyond the float64 range, where the
    order of the additions decides between a number and infinity) or whose
    divisor is lost to cancellation.
    """
    from fastloss import reference as ref

    pred, target = args[0], args[1]
    reduction = kwargs.get("reduction", "mean")
    with np.errstate(all="ignore"):
        if name.startswith("mean_squared_error"):
            loss_bound = np.abs(np.asarray(loss, np.float64))
            grad_bound = None if grad is None else np.abs(np.asarray(grad, np.float64))
            return loss_bound, False, grad_bound, False
        kind = "probs" if name.startswith("cross_entropy") else "logits"
        pred, grad_dtype, axis, reduction, _ = ref._common(pred, kind, -1, reduction, None)
        b = ref._class_batch(pred, grad_dtype, axis, reduction, target,
                             weight=kwargs.get("weight"),
                             ignore_index=kwargs.get("ignore_index"),
                             label_smoothing=kwargs.get("label_smoothing", 0.0),
                             sample_weight=None, out=None)
        x, coef, n = b.x, b.coef, b.x.shape[0]
        acoef = np.abs(coef)
        if kind == "probs":
            elementwise = -np.log(x + float(kwargs.get("eps", 1e-7)))
            softmax = None
        else:
            elementwise, softmax = ref._log_softmax_parts(x)
        terms = np.where(coef == 0.0, 0.0, coef * elementwise)
        if softmax is not None:
            # LSE_i - x_ic = log(s_i) + (m_i - x_ic) with s_i = sum_c exp(x_ic - m_i)
            # in [1, C]: s_i is rounded (in an order of the implementation's
            # choosing), so log(s_i) carries an absolute error of a few ulps
            # of 1, which is a large relative error where the loss is tiny
            terms_bound = np.where(coef == 0.0, 0.0, acoef * (np.abs(elementwise) + 1.0))
        else:
            terms_bound = np.abs(terms)
        finite_terms = np.isfinite(terms)
        rows_abs = terms_bound.sum(axis=1)
        rows_overflow = np.isinf(rows_abs) & finite_terms.all(axis=1)
        # |D| and the sum of |w_{t_i}| it is made of
        w = np.ones(x.shape[1]) if kwargs.get("weight") is None else \
            np.asarray(kwargs["weight"]).astype(b.dtype).astype(np.float64)
        tarr = np.asarray(target)
        if reduction != "mean":
            d_abs, d = 1.0, 1.0
        elif tarr.dtype.kind in "iu" or isinstance(target, int):
            labels = tarr.reshape(n)[b.row_weight != 0.0].astype(np.int64)  # kept rows
            d_abs, d = float(np.abs(w[labels]).sum()), float(b.divisor)
        else:
            d_abs, d = float(n), float(n)
        # the divisor is a sum of weights: where they cancel (or their sum
        # overflows) the order of the additions decides it, even its sign
        w_finite = bool(np.isfinite(w).all())
        d_lost = (math.isfinite(d_abs) and d_abs > 0 and n * 2.0 ** -50 * d_abs >= 0.5 * abs(d)) \
            or (math.isinf(d_abs) and w_finite)
        d_cond = d_abs / abs(d) if d != 0 and math.isfinite(d_abs) else 0.0
        loss_arr = np.abs(np.asarray(loss, np.float64))
        if reduction == "none":
            loss_bound = rows_abs.reshape(np.shape(loss)) + loss_arr
            loss_loose = rows_overflow.reshape(np.shape(loss))
        else:
            total_abs = rows_abs.sum()
            overflow = bool(np.isinf(total_abs) and finite_terms.all())
            loss_bound = (total_abs / abs(d) if d != 0 else 0.0) + loss_arr * (1 + d_cond)
            loss_loose = overflow or d_lost
        if grad is None:
            return loss_bound, loss_loose, None, False
        g_arr = np.abs(np.asarray(grad, np.float64))
        if softmax is None:
            num_abs = np.abs(np.where(coef == 0.0, 0.0, coef / (x + float(kwargs.get("eps", 1e-7)))))
        else:
            num_abs = softmax * acoef.sum(axis=1, keepdims=True) + acoef
        grad_bound = num_abs / abs(d) if d != 0 else np.zeros_like(num_abs)
        grad_bound = np.asarray(grad_bound).reshape(np.shape(grad)) + g_arr * (1 + d_cond)
        grad_loose = d_lost
        return loss_bound, loss_loose, grad_bound, grad_loose


def compare_values(name, got, want, args, kwargs):
    """Assert that a compiled result equals the reference's (types, dtypes,
    shapes, values)."""
    grad_fn = name.endswith("_and_grad")
    if grad_fn:
        assert isinstance(got, tuple) and len(got) == 2, f"expected (loss, grad), got {type(got)}"
        (gl, gg), (wl, wg) = got, want
    else:
        gl, gg, wl, wg = got, None, want, None
    assert type(gl) is type(wl), f"loss type {type(gl).__name__} != reference {type(wl).__name__}"
    dtype = np.asarray(wl).dtype
    assert np.asarray(gl).dtype == dtype, f"loss dtype {np.asarray(gl).dtype} != {dtype}"
    assert np.shape(gl) == np.shape(wl), f"loss shape {np.shape(gl)} != {np.shape(wl)}"
    if isinstance(gl, np.ndarray):
        assert gl.dtype.isnative
    if grad_fn:
        assert type(gg) is type(wg), f"grad type {type(gg).__name__} != {type(wg).__name__}"
        assert gg.dtype == wg.dtype and gg.dtype.isnative, f"grad dtype {gg.dtype} != {wg.dtype}"
        assert gg.shape == wg.shape, f"grad shape {gg.shape} != {wg.shape}"
    rtol, atol = RTOL[dtype], ATOL[dtype]
    lb, ll, gb, gl_loose = error_bounds(name, args, kwargs, wl, wg)
    assert_close_elementwise(gl, wl, rtol * np.asarray(lb) + atol,
                             np.asarray(ll) | _f32_edge(gl, wl, dtype), "loss")
    if grad_fn:
        assert_close_elementwise(gg, wg, rtol * np.asarray(gb) + atol,
                                 np.asarray(gl_loose) | _f32_edge(gg, wg, dtype), "grad")


def check_loss_call(name, args, kwargs):
    """The compiled function against the reference on one example."""
    import fastloss
    from fastloss import reference as ref

    write_trace(name, args, kwargs)
    a, kw = materialize_call(args, kwargs)
    before = snapshot(list(a) + list(kw.values()))
    out = kw.get("out")
    status, got, warned = call(getattr(fastloss, name), a, kw)
    after = snapshot(list(a) + list(kw.values()))
    if status == "ok" and out is not None:
        assert got[1] is out, "the gradient is not the out array"
    for v, b0, b1 in zip(list(a) + list(kw.values()), before, after):
        if v is not out:
            assert b0 == b1, "an input was modified"
    # the reference gets inputs (and an out) of its own
    ra, rkw = materialize_call(args, kwargs)
    rstatus, want, ref_warned = call(getattr(ref, name), ra, rkw)
    if CHILD:   # `--hypothesis-show-statistics` tells how often each outcome occurs
        from hypothesis import event
        try:
            event(f"reference: {type(want).__name__ if rstatus == 'raise' else 'returns'}")
        except Exception:  # noqa: BLE001 - outside a hypothesis test (the corpus)
            pass
    if rstatus == "raise":
        assert status == "raise", (
            f"the reference raised {type(want).__name__}: {want}\n"
            f"fastloss returned {got!r}")
        assert type(got) is type(want), (
            f"fastloss raised {type(got).__name__}: {got}\n"
            f"the reference raised {type(want).__name__}: {want}")
        if isinstance(want, IndexError):
            assert str(got) == str(want), f"message {str(got)!r} != reference {str(want)!r}"
        return
    assert status == "ok", (
        f"fastloss raised {type(got).__name__}: {got}\nthe reference returned {want!r}")
    # a warning only where the reference warns too (an input converted to
    # float32 with values beyond its range: NumPy's "overflow in cast")
    assert not warned or ref_warned, f"fastloss warned: {warned}"
    # the error bounds come from fresh inputs: with out= aliasing pred, the
    # reference has overwritten its pred with the gradient
    ba, bkw = materialize_call(args, kwargs)
    compare_values(name, got, want, ba, bkw)


def write_trace(name, args, kwargs):
    if not TRACE:
        return
    try:
        data = pickle.dumps((name, args, kwargs))
    except Exception:  # noqa: BLE001 - a junk value that does not pickle
        data = pickle.dumps((name, repr(args), repr(kwargs)))
    with open(TRACE, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------------------
# The book
# ---------------------------------------------------------------------------

CLEAN_ERRORS = (TypeError, ValueError, IndexError, OverflowError)


def run_book(name, module, args, dout):
    """Call the book function ``name`` of ``module``; for SoftmaxWithLoss,
    forward then backward. Returns a tuple of results."""
    if name == "SoftmaxWithLoss":
        layer = module.SoftmaxWithLoss()
        loss = layer.forward(*args)
        dx = layer.backward(dout)
        return (loss, layer.y, dx)
    return (getattr(module, name)(*args),)


def book_tolerance(name, a, dtype):
    """(rtol, atol) for comparing fastloss.book with the book's NumPy code:
    float64 is promised within 1e-12; float32 results are the float64
    values rounded once (a probability rounded to float32 moves the book's
    loss and gradient by up to about 1e-7 in absolute terms)."""
    if dtype == np.float64:
        return 1e-12, 2.0 ** -1000
    return 1e-5, 1e-6


def check_book_call(name, args, dout, in_domain):
    import fastloss.book as fb
    import fastloss.reference.book as rb

    write_trace("book." + name, args, {"dout": dout})
    a, _ = materialize_call(args, {})
    before = snapshot(a)
    status, got, warned = call(lambda: run_book(name, fb, a, dout), (), {})
    assert snapshot(a) == before, "an input was modified"
    if status == "raise":
        assert isinstance(got, CLEAN_ERRORS), f"fastloss.book raised {type(got).__name__}: {got}"
    if not in_domain:
        return
    ra, _ = materialize_call(args, {})
    x = np.asarray(ra[0])
    dtype = np.dtype(np.float32) if x.dtype.type is np.float32 else np.dtype(np.float64)
    if dtype == np.float32:
        # fastloss computes in float64 and rounds once: compare with the
        # book's code run on the (exact) float64 values of the same inputs
        ra = [v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
              for v in ra]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rstatus, want, _ = call(lambda: run_book(name, rb, ra, dout), (), {})
    if rstatus == "raise":
        assert status == "raise", (
            f"the book raised {type(want).__name__}: {want}\nfastloss.book returned {got!r}")
        return
    assert status == "ok", (
        f"fastloss.book raised {type(got).__name__}: {got}\nthe book returned {want!r}")
    assert not warned, f"fastloss.book warned: {warned}"
    rtol, atol = book_tolerance(name, ra, dtype)
    for k, (g, w) in enumerate(zip(got, want)):
        what = ["loss", "y", "dx"][k] if name == "SoftmaxWithLoss" else "result"
        assert np.shape(g) == np.shape(w), f"{what} shape {np.shape(g)} != {np.shape(w)}"
        if dtype == np.float64:
            assert np.asarray(g).dtype == np.float64, f"{what} dtype {np.asarray(g).dtype}"
        bound = np.abs(np.asarray(w, np.float64))
        if name == "cross_entropy_error":
            bound = book_ce_bound(ra, bound)
        if name == "SoftmaxWithLoss" and k == 0:
            # -log(y_k + 1e-7) with y_k close to 1: y_k carries an absolute
            # error of a few ulps of 1 in any implementation
            bound = bound + 1.0
        if name == "SoftmaxWithLoss" and k == 2:
            # dx = (y - t) * dout / N cancels where y is close to a one-hot 1
            y = np.asarray(want[1], np.float64)
            t = np.asarray(ra[1])
            t_abs = np.abs(t.reshape(y.shape)) if t.size == y.size else 1.0
            n = y.shape[0] if y.ndim == 2 else 1
            bound = bound + (np.abs(y) + t_abs) * abs(float(dout)) / max(n, 1)
        assert_close_elementwise(g, w, rtol * bound + atol, _f32_edge(g, w, dtype), what)


def book_ce_bound(args, bound):
    """sum_i |log(y[i, t_i] + 1e-7)| / N, the error bound of the book's loss
    (its terms change sign for probabilities above 1)."""
    y, t = np.asarray(args[0]), np.asarray(args[1])
    with np.errstate(all="ignore"):
        if y.ndim == 1:
            y, t = y.reshape(1, -1), t.reshape(1, -1)
        y = y.astype(np.float64)
        if t.size == y.size:
            t = t.reshape(y.shape).argmax(axis=1)
        t = t.reshape(-1)
        n = y.shape[0]
        if n == 0:
            return bound
        terms = np.abs(np.log(y[np.arange(n), t] + 1e-7))
        return bound + terms.sum() / n


# ---------------------------------------------------------------------------
# The corpus: fixed examples, run before the random ones. Every discrepancy
# the fuzzing found is here (so it fails deterministically until fixed), with
# the classic pitfalls of loss kernels that must keep passing.
# ---------------------------------------------------------------------------

def corpus():
    """[(id, function name, args, kwargs)]"""
    f32 = np.float32
    p = Arr(np.array([[0.5, 0.5]]))
    p3 = Arr(np.full((2, 3), 1 / 3))
    t1 = Arr(np.array([1]))
    t02 = Arr(np.array([0, 2]))
    onehot1 = Arr(np.array([[0.0, 1.0]]))
    inf_w = Arr(np.array([np.inf, 1.0]))
    sub_w = Arr(np.array([1e-310, 1.0, 1e-310]))
    cplx = Arr(np.array([[0.5, 0.5]], np.complex128))
    wide = np.full((1, 2049), -1.0, f32)
    wide[0, :2] = [0.0, -120.0]
    wide_t = np.zeros((1, 2049), f32)
    wide_t[0, 0] = 1e30
    rows = Arr(np.array([[0.2, 0.8], [np.nan, 0.5], [0.7, 0.3]]))
    return [
        # -- discrepancies found by the fuzzing (open bugs) --
        ("bug-inf-weight-of-a-zero-dense-target", "cross_entropy", [p, onehot1],
         {"weight": inf_w}),
        ("bug-inf-weight-of-another-class", "cross_entropy", [p, t1], {"weight": inf_w}),
        ("bug-nan-weight-of-another-class", "cross_entropy", [p, t1],
         {"weight": Arr(np.array([np.nan, 1.0]))}),
        ("bug-inf-weight-softmax", "softmax_cross_entropy_and_grad", [p, t1], {"weight": inf_w}),
        ("bug-weight-beyond-float32", "cross_entropy", [Arr(np.array([[0.5, 0.5]], f32)), t1],
         {"weight": Arr(np.array([1e300, 1.0]))}),
        ("bug-subnormal-divisor-grad", "cross_entropy_and_grad", [p3, t02], {"weight": sub_w}),
        ("bug-subnormal-divisor-softmax-grad", "softmax_cross_entropy_and_grad", [p3, t02],
         {"weight": sub_w}),
        ("bug-wide-float32-softmax-grad-underflow", "softmax_cross_entropy_and_grad",
         [Arr(wide), Arr(wide_t)], {"reduction": "sum"}),
        ("bug-reduction-numpy-str", "cross_entropy", [p, t1], {"reduction": np.str_("sum")}),
        ("bug-eps-0d-array", "cross_entropy", [p, t1], {"eps": np.array(1e-7)}),
        ("bug-eps-decimal", "cross_entropy", [p, t1], {"eps": Decimal("0.1")}),
        ("bug-eps-complex", "cross_entropy", [p, t1], {"eps": np.complex128(0.1)}),
        ("bug-label-smoothing-0d-array", "softmax_cross_entropy", [p, t1],
         {"label_smoothing": np.array(0.1)}),
        ("bug-label-smoothing-numpy-bool", "softmax_cross_entropy", [p, t1],
         {"label_smoothing": np.True_}),
        ("bug-n-threads-timedelta", "mean_squared_error", [p, p],
         {"n_threads": np.timedelta64(2, "s")}),
        ("bug-python-int-label-beyond-uint64", "cross_entropy", [Arr(np.array([0.5, 0.5])), 2 ** 64],
         {}),
        ("bug-out-unaligned", "cross_entropy_and_grad", [p, t1],
         {"out": Arr(np.zeros((1, 2)), ("unaligned",))}),
        ("bug-out-is-pred", "mean_squared_error_and_grad", [p, onehot1], {"out": "ALIAS_PRED"}),
        ("bug-order-eps-before-reduction", "cross_entropy", [p, t1],
         {"eps": "x", "reduction": "avg"}),
        ("bug-order-smoothing-before-n-threads", "cross_entropy", [p, t1],
         {"label_smoothing": "x", "n_threads": 0}),
        ("bug-order-smoothing-before-pred", "softmax_cross_entropy", [cplx, t1],
         {"label_smoothing": 2.0}),
        ("bug-order-smoothing-before-target", "softmax_cross_entropy",
         [p, Arr(np.array([1.0]))], {"label_smoothing": 2.0}),
        ("bug-order-smoothing-before-weight", "cross_entropy", [p, t1],
         {"label_smoothing": 2.0, "weight": Arr(np.array([1j, 1]))}),
        ("bug-order-smoothing-before-ignore-index", "cross_entropy", [p, t1],
         {"label_smoothing": 2.0, "ignore_index": 1.5}),
        # -- pitfalls that pass --
        ("all-ignored-batch", "softmax_cross_entropy_and_grad", [p3, Arr(np.array([-100, -100]))],
         {"ignore_index": -100}),
        ("empty-batch-mean", "cross_entropy_and_grad",
         [Arr(np.zeros((0, 10))), Arr(np.zeros(0, np.int64))], {}),
        ("empty-batch-none", "softmax_cross_entropy",
         [Arr(np.zeros((0, 10), f32)), Arr(np.zeros((0, 10), f32))], {"reduction": "none"}),
        ("empty-batch-sum", "mean_squared_error", [Arr(np.zeros((0, 3))), Arr(np.zeros((0, 3)))],
         {"reduction": "sum"}),
        ("zero-divisor", "cross_entropy_and_grad", [p3, t02],
         {"weight": Arr(np.zeros(3))}),
        ("minus-inf-logit-of-a-zero-target", "softmax_cross_entropy_and_grad",
         [Arr(np.array([[-np.inf, 0.0]])), t1], {}),
        ("float32-equal-huge-logits", "softmax_cross_entropy",
         [Arr(np.array([[1e8, 1e8]], f32)), t1], {}),
        ("logits-1000-apart", "softmax_cross_entropy_and_grad",
         [Arr(np.array([[-1000.0, 0.0]])), Arr(np.array([0]))], {}),
        ("nan-spoils-only-its-row", "softmax_cross_entropy_and_grad",
         [rows, Arr(np.array([0, 1, 1]))], {"reduction": "none"}),
        ("nan-probability-off-target", "cross_entropy_and_grad",
         [rows, Arr(np.array([0, 1, 1]))], {"reduction": "none"}),
        ("zero-probability-eps-0", "cross_entropy_and_grad",
         [Arr(np.array([[0.0, 1.0], [1.0, 0.0]])), Arr(np.array([0, 0]))], {"eps": 0.0}),
        ("uint8-156-is-not-ignore-index-minus-100", "cross_entropy",
         [p3, Arr(np.array([0, 156], np.uint8))], {"ignore_index": -100}),
        ("int8-minus-100-is-ignored", "cross_entropy",
         [p3, Arr(np.array([0, -100], np.int8))], {"ignore_index": -100}),
        ("uint64-max-label", "cross_entropy_and_grad",
         [p3, Arr(np.array([0, 2 ** 64 - 1], np.uint64))], {"ignore_index": -1}),
        ("uint64-max-ignored", "softmax_cross_entropy",
         [p3, Arr(np.array([2 ** 64 - 1, 1], np.uint64))], {"ignore_index": 2 ** 64 - 1}),
        ("negative-label-does-not-wrap", "softmax_cross_entropy", [p3, Arr(np.array([0, -1]))], {}),
        ("first-bad-row-is-reported", "cross_entropy",
         [Arr(np.full((600, 3), 1 / 3)), Arr(np.r_[np.zeros(300, int), 3, np.zeros(299, int) - 1])],
         {"n_threads": 3}),
        ("int64-max-python-label", "cross_entropy", [Arr(np.array([0.5, 0.5])), 2 ** 63], {}),
        ("one-class", "softmax_cross_entropy_and_grad",
         [Arr(np.array([[3.0], [-1.0]])), Arr(np.array([0, 0]))], {}),
        ("stride-0-rows-and-labels", "softmax_cross_entropy_and_grad",
         [Arr(np.array([[1.0, 2.0, 3.0]] * 300), ("broadcast",)),
          Arr(np.full(300, 2, np.int16), ("broadcast",))], {"n_threads": 8}),
        ("big-endian-unaligned", "cross_entropy_and_grad",
         [Arr(np.full((3, 4), 0.25), ("swapped", "unaligned")),
          Arr(np.array([3, 0, 1], np.int32), ("swapped", "unaligned"))],
         {"weight": Arr(np.arange(1.0, 5.0), ("swapped", "unaligned"))}),
        ("negative-weights", "softmax_cross_entropy_and_grad",
         [p3, t02], {"weight": Arr(np.array([-1.0, 2.0, -0.5])), "label_smoothing": 0.3}),
        ("float16-bool-int-inputs", "mean_squared_error_and_grad",
         [Arr(np.array([[1, 0]], np.float16)), Arr(np.array([[True, False]]))], {}),
        # float32 rows of 7 classes start 4 bytes off 8-byte alignment every
        # other row: the two-float SIMD piece was once read and written as a
        # double (_mm_load_sd/_mm_store_sd), a misaligned access UBSan caught
        ("float32-odd-class-count", "softmax_cross_entropy_and_grad",
         [Arr(np.linspace(-4, 4, 5 * 7, dtype=f32).reshape(5, 7)),
          Arr(np.array([0, 6, 3, 1, 5]))], {}),
        ("wide-rows-options", "softmax_cross_entropy_and_grad",
         [Arr(np.linspace(-3, 3, 2 * 2100).reshape(2, 2100)), Arr(np.array([5, 2099]))],
         {"weight": Arr(np.linspace(0.5, 1.5, 2100)), "label_smoothing": 0.1,
          "ignore_index": 5}),
    ]


CORPUS_IDS = [c[0] for c in corpus()]
CHILD_TESTS = [f"test_corpus[{i}]" for i in CORPUS_IDS] + CHILD_TESTS


# ---------------------------------------------------------------------------
# Child mode: the hypothesis tests
# ---------------------------------------------------------------------------

if CHILD:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hyp_seed
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    # Shrinking a failure can take minutes: off unless FASTLOSS_FUZZ_SHRINK=1
    PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
    if os.environ.get("FASTLOSS_FUZZ_SHRINK") == "1":
        PHASES.append(Phase.shrink)
    FUZZ = settings(
        max_examples=EXAMPLES, deadline=None, database=None, phases=PHASES,
        derandomize=SEED is None, print_blob=True,
        suppress_health_check=list(HealthCheck),
    )

    def fuzz_settings(f):
        f = FUZZ(f)
        if SEED is not None:
            f = hyp_seed(int(SEED))(f)
        return f

    INT_DTYPES = [np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64,
                                        np.uint8, np.uint16, np.uint32, np.uint64)]
    FLOAT_DTYPES = [np.dtype(np.float64), np.dtype(np.float32)]
    OTHER_REAL = [np.dtype(np.float16), np.dtype(bool)] + INT_DTYPES
    NON_REAL = [np.dtype(t) for t in (np.complex64, np.complex128, object, "U3", "S3",
                                      "M8[s]", "m8[ms]", [("a", "<f8")], "V8")]
    SPECIAL_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, math.nan, -math.nan, math.inf, -math.inf,
                      5e-324, -5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-200,
                      1e-45, 1.1754943508222875e-38, 1e-7, 1 - 1e-16, 1 + 1e-15, 2.0, 1e7,
                      65504.0, 3.4028234663852886e38, 3.5e38, 1e200, 1e300,
                      1.7976931348623157e308, -1.7976931348623157e308, -1e300, 700.0, -745.0,
                      710.0, 89.0, -104.0]
    LAYOUTS = ["fortran", "readonly", "reversed", "strided", "strided3", "column_view",
               "swapped", "unaligned", "broadcast"]

    def pick(*weighted):
        """st.one_of with integer weights: pick((3, a), (1, b))."""
        return st.one_of(*[s for w, s in weighted for _ in range(w)])

    @st.composite
    def float_values(draw, dtype, shape, kind):
        """Values of a float array: "probs" (mostly in [0, 1]), "logits"
        (mostly moderate) or "any"; with specials sprinkled in."""
        size = int(np.prod(shape))
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        if kind == "probs":
            base = rng.uniform(0.0, 1.0, size)
            if draw(st.booleans()) and size:
                base = np.abs(rng.standard_normal(size)) * 0.5
        elif kind == "onehot":
            base = np.zeros(size)
        else:
            scale = draw(st.sampled_from([1.0, 3.0, 30.0, 1e3, 1e10]))
            base = rng.standard_normal(size) * scale
        if size and draw(st.integers(0, 3)) == 0:
            k = draw(st.integers(1, min(size, 6)))
            pos = draw(st.lists(st.integers(0, size - 1), min_size=k, max_size=k))
            vals = draw(st.lists(st.one_of(st.sampled_from(SPECIAL_FLOATS),
                                           st.floats(allow_nan=True, allow_infinity=True)),
                                 min_size=k, max_size=k))
            base[pos] = vals
        with np.errstate(all="ignore"):
            return base.astype(dtype).reshape(shape)

    @st.composite
    def int_values(draw, dtype, shape, lo=None, hi=None, extra=()):
        info = np.iinfo(dtype)
        lo = info.min if lo is None else max(lo, info.min)
        hi = info.max if hi is None else min(hi, info.max)
        size = int(np.prod(shape))
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        base = rng.integers(lo, hi, size, dtype=dtype, endpoint=True) if lo <= hi else \
            np.zeros(size, dtype)
        specials = [v for v in (info.min, info.max, 0, 1, -1, *extra) if info.min <= v <= info.max]
        if size and specials and draw(st.integers(0, 2)) == 0:
            k = draw(st.integers(1, min(size, 4)))
            pos = draw(st.lists(st.integers(0, size - 1), min_size=k, max_size=k))
            base[pos] = draw(st.lists(st.sampled_from(specials), min_size=k, max_size=k))
        return base.reshape(shape)

    @st.composite
    def any_values(draw, dtype, shape, kind="any"):
        dtype = np.dtype(dtype)
        if dtype.kind == "f":
            return draw(float_values(dtype, shape, kind))
        if dtype.kind in "iu":
            return draw(int_values(dtype, shape))
        if dtype.kind == "b":
            return np.random.default_rng(draw(st.integers(0, 99))).integers(
                0, 2, shape).astype(bool)
        if int(np.prod(shape)) > 30 or dtype.kind == "V":
            return np.zeros(shape, dtype)
        if dtype.kind == "O":
            return draw(hnp.arrays(dtype, shape, elements=st.one_of(
                st.floats(0, 1), st.integers(-3, 3), st.none(), st.text(max_size=2))))
        return draw(hnp.arrays(dtype, shape))

    @st.composite
    def layout_ops(draw, allow=LAYOUTS, max_ops=2):
        if draw(st.integers(0, 2)) == 0:
            return ()
        return tuple(draw(st.lists(st.sampled_from(allow), min_size=1, max_size=max_ops)))

    @st.composite
    def arr(draw, dtype, shape, kind="any", allow=LAYOUTS):
        base = draw(any_values(dtype, shape, kind))
        return Arr(base, draw(layout_ops(allow)))

    @st.composite
    def pred_shape(draw):
        """(shape, one_sample): small batches, batches across the 256-row
        blocks, and rows wider than the 2048-element scratch buffers."""
        c = draw(pick((6, st.integers(1, 12)), (1, st.sampled_from([1, 16, 33, 100, 255])),
                      (1, st.sampled_from([1024, 2047, 2048, 2049, 2100, 4097]))))
        if draw(st.integers(0, 4)) == 0:
            return (c,), True
        if c > 300:
            n = draw(st.integers(0, 3))
        elif c > 12:
            n = draw(pick((5, st.integers(0, 9)), (1, st.sampled_from([255, 257, 300]))))
        else:
            n = draw(pick((5, st.integers(0, 9)), (2, st.sampled_from([255, 256, 257, 513, 700]))))
        return (n, c), False

    def family(name):
        if name.startswith("mean_squared_error"):
            return "mse"
        return "ce" if name.startswith("cross_entropy") else "sce"

    IGNORE_CHOICES = [-100, -1, 0, 1, 2, 9, 127, 155, 156, 255, 256, 65535, 2 ** 31 - 1,
                      2 ** 32 - 1, 2 ** 63 - 1, -2 ** 63, 2 ** 64 - 1, 2 ** 70, -2 ** 70]

    @st.composite
    def ignore_value(draw, c):
        v = draw(st.one_of(st.sampled_from(IGNORE_CHOICES), st.integers(-1, c)))
        wrap = draw(st.sampled_from(["int", "int", "np"]))
        if wrap == "np":
            for t in (np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64):
                if np.iinfo(t).min <= v <= np.iinfo(t).max and draw(st.booleans()):
                    return t(v)
        return v

    @st.composite
    def labels(draw, shape, c, ignore):
        """Class indices: mostly in [0, C), plus out-of-range values, the
        extremes of the dtype and ``ignore_index`` collisions."""
        n_shape = shape[:-1]
        if n_shape == () and draw(st.integers(0, 3)) == 0:
            v = draw(pick((6, st.integers(0, c - 1)),
                          (1, st.sampled_from([-1, c, 2 ** 63, -2 ** 63 - 1, 2 ** 64])),
                          (1, st.just(int(ignore) if ignore is not None else 0))))
            return v
        dt = draw(st.sampled_from(INT_DTYPES))
        extra = [c, c - 1, -1, -100, 156] + ([int(ignore)] if ignore is not None else [])
        bad = draw(st.integers(0, 3)) == 0
        values = draw(int_values(dt, n_shape, lo=0, hi=c - 1, extra=extra if bad else ()))
        if ignore is not None and values.size and draw(st.booleans()):
            info = np.iinfo(dt)
            iv = int(ignore)
            # the same bits as ignore_index in a smaller dtype must not match
            coll = iv if info.min <= iv <= info.max else iv % (1 << (8 * dt.itemsize))
            if info.min <= coll <= info.max:
                values.reshape(-1)[draw(st.integers(0, values.size - 1))] = coll
        ops = draw(layout_ops(["readonly", "reversed", "strided", "swapped", "unaligned",
                               "broadcast", "list"]))
        return Arr(values, ops)

    @st.composite
    def weights(draw, c):
        dt = draw(st.sampled_from([np.float64, np.float32, np.float64, np.float16, np.int64,
                                   bool]))
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        w = rng.uniform(0.0, 3.0, c)
        mode = draw(st.integers(0, 5))
        if mode == 0 and c:
            w[draw(st.integers(0, c - 1))] = draw(st.sampled_from(
                [0.0, -1.0, math.nan, math.inf, 1e-310, 5e-324, 1e300, 1e-300, -0.5]))
        elif mode == 1:
            w[:] = 0.0
        with np.errstate(all="ignore"):
            base = w.astype(dt)
        return Arr(base, draw(layout_ops(["readonly", "reversed", "strided", "swapped",
                                          "unaligned", "list"])))

    def computation_dtype(dtype):
        return np.dtype(np.float32) if np.dtype(dtype).type is np.float32 else np.dtype(np.float64)

    @st.composite
    def pred_dtype(draw):
        dt = draw(pick((6, st.sampled_from(FLOAT_DTYPES)), (1, st.sampled_from(OTHER_REAL))))
        return dt

    @st.composite
    def valid_case(draw, name):
        """A call that the functions accept (labels may still be out of range)."""
        fam = family(name)
        grad = name.endswith("_and_grad")
        shape, one = draw(pred_shape())
        c = shape[-1]
        pdt = draw(pred_dtype())
        kind = {"ce": "probs", "sce": "logits", "mse": "any"}[fam]
        pred = draw(arr(pdt, shape, kind, allow=LAYOUTS + ["matrix", "masked", "list",
                                                            "array_like"]))
        if isinstance(pred.base, np.ndarray) and pred.base.size > 20000:
            pred.ops = tuple(o for o in pred.ops if o != "list")
        kw = {}
        if draw(st.booleans()):
            kw["reduction"] = draw(st.sampled_from(["mean", "sum", "none"]))
        if draw(st.integers(0, 2)) == 0:
            kw["n_threads"] = draw(st.sampled_from([None, 1, 2, 3, 8, np.int32(2), 2 ** 40]))
        if fam == "mse":
            tdt = draw(st.sampled_from(FLOAT_DTYPES + OTHER_REAL))
            target = draw(arr(tdt, shape, "any", allow=LAYOUTS + ["list"]))
        else:
            dense = draw(st.integers(0, 2)) == 0
            if dense:
                tdt = draw(st.sampled_from(FLOAT_DTYPES + [np.dtype(np.float16),
                                                           np.dtype(bool)]))
                soft = draw(st.booleans())
                vals = draw(float_values(np.float64, shape, "probs"))
                if not soft:
                    hot = np.zeros(shape)
                    flat = hot.reshape(-1, c)
                    idx = np.random.default_rng(draw(st.integers(0, 99))).integers(0, c, len(flat))
                    flat[np.arange(len(flat)), idx] = 1.0
                    vals = hot
                with np.errstate(all="ignore"):
                    target = Arr(vals.astype(tdt), draw(layout_ops(LAYOUTS + ["list"])))
                ignore = None
            else:
                ignore = draw(ignore_value(c)) if draw(st.integers(0, 2)) == 0 else None
                target = draw(labels(shape, c, ignore))
                if ignore is not None:
                    kw["ignore_index"] = ignore
            if draw(st.integers(0, 2)) == 0:
                kw["weight"] = draw(weights(c))
            if draw(st.integers(0, 2)) == 0:
                kw["label_smoothing"] = draw(pick(
                    (3, st.floats(0.0, 1.0)), (1, st.sampled_from([0.0, 1.0, 1e-300, 0.5])),
                    (1, st.sampled_from([np.float32(0.1), np.float64(0.25), Fraction(1, 3), 1, 0,
                                         True]))))
            if fam == "ce" and draw(st.integers(0, 2)) == 0:
                kw["eps"] = draw(pick((3, st.sampled_from([0.0, -0.0, 1e-7, 1e-12, 1e-3, 1.0])),
                                      (1, st.floats(0.0, allow_infinity=True)),
                                      (1, st.sampled_from([np.float32(1e-6), 0, 1, math.inf,
                                                           5e-324, Fraction(1, 10)]))))
        if grad and draw(st.integers(0, 2)) == 0:
            cdt = computation_dtype(np.asarray(pred.build()).dtype)
            fill = draw(st.sampled_from([0.0, math.nan, 7.0]))
            kw["out"] = Arr(np.full(shape, fill, cdt),
                            draw(layout_ops(["fortran", "reversed", "strided", "column_view"],
                                            max_ops=1)))
        return [pred, target], kw

    # -- arguments outside the functions' domain ----------------------------

    def junk_common():
        return st.sampled_from([
            None, "abc", "", b"mean", 1j, 2.5, -1, 0, 10 ** 30, math.nan, [], [[]], [1, "a"],
            [[1.0, 2.0], [3.0]], {"a": 1}, {1, 2}, (), Junk(), FloatLike(), Decimal("0.5"),
            np.float64(0.5), np.int64(3), np.bool_(True), np.str_("mean"), np.array(0.5),
            np.array([0.5]), np.array(2), np.array("x"), np.array([1 + 2j]),
            np.datetime64("2020-01-01"), np.timedelta64(3, "s"), Ellipsis, True, False,
        ])

    @st.composite
    def junk_array(draw, shape):
        """An array-like of a wrong dtype or shape."""
        how = draw(st.integers(0, 4))
        if how == 0:
            dt = draw(st.sampled_from(NON_REAL))
            return draw(arr(dt, shape, allow=["fortran", "readonly", "reversed", "strided",
                                              "swapped"]))
        if how == 1:
            s = draw(st.sampled_from([(), (0,), (0, 0), (1, 1, 1), (2, 3, 4), (2, 0, 3),
                                      shape + (2,), shape[:-1] + (0,), (shape[0] + 1,) + shape[1:],
                                      shape[::-1], (3,), (1,), (1, 1)]))
            dt = draw(st.sampled_from(FLOAT_DTYPES + OTHER_REAL + NON_REAL[:2]))
            return draw(arr(dt, s, allow=["fortran", "strided", "swapped", "list"]))
        if how == 2:
            return HasArray(draw(any_values(draw(st.sampled_from(FLOAT_DTYPES + NON_REAL[:3])),
                                            shape)))
        return draw(junk_common())

    @st.composite
    def odd_value(draw, key, name, shape, case_kw):
        """A value of ``key`` that is outside the functions' domain or on its edge."""
        c = shape[-1]
        n_shape = shape[:-1]
        if key == "pred":
            return draw(junk_array(shape))
        if key == "target":
            if family(name) == "mse":
                return draw(junk_array(shape))
            return draw(st.one_of(
                junk_array(shape),
                arr(draw(st.sampled_from([np.dtype(np.float64), np.dtype(np.float32),
                                          np.dtype(bool), np.dtype(np.float16)])), n_shape),
                st.builds(lambda: Arr(np.zeros(n_shape + (1,), np.int64), ("swapped",))),
                st.sampled_from([2 ** 64, -2 ** 63 - 1, 2 ** 100, -1, c, 0, True, 0.0, [0], [[0]]]),
                st.builds(lambda n: Arr(np.zeros(n, np.int32)), st.integers(0, 5)),
                st.builds(lambda: Arr(np.zeros(shape, np.int64))),
                st.builds(lambda: Arr(np.zeros(n_shape, object))),
            ))
        if key == "reduction":
            return draw(st.one_of(junk_common(), st.sampled_from(
                ["MEAN", "Mean", "mean ", "avg", "elementwise_mean", np.str_("sum"),
                 np.str_("none"), ["mean"], ("sum",)])))
        if key in ("eps", "label_smoothing"):
            return draw(st.one_of(junk_common(), st.sampled_from(
                [-1e-9, -0.0, -math.inf, math.inf, 1.5, -0.1, 1 + 1e-16, 2, np.float32(-1.0),
                 np.array(1e-7), np.array([1e-7]), Fraction(1, 10), Fraction(-1, 10),
                 Decimal("1e-7"), np.float16(0.1), np.complex128(0.1), 10 ** 400, -10 ** 400,
                 "1e-7", None, np.nan])))
        if key == "weight":
            return draw(st.one_of(junk_array((c,)), st.sampled_from([1.0, [1.0], None]),
                                  arr(np.dtype(np.float64), (c + 1,)),
                                  arr(np.dtype(np.float64), (1, c)),
                                  arr(np.dtype(np.float64), (c, 1))))
        if key == "ignore_index":
            return draw(st.one_of(junk_common(), st.sampled_from(
                [1.0, np.float64(1), "1", [1], np.array(1), np.array([1]), np.uint64(2 ** 64 - 1),
                 np.int8(-100), 2 ** 200, -(2 ** 200), np.bool_(False)])))
        if key == "n_threads":
            return draw(st.one_of(junk_common(), st.sampled_from(
                [0, -1, -(2 ** 70), 2 ** 70, 2.0, np.float64(2), np.uint64(2 ** 64 - 1), np.int8(-1),
                 np.array(2), "2", np.bool_(True), 10 ** 400])))
        if key == "out":
            cdt = case_kw_dtype(case_kw)
            other = np.dtype(np.float32) if cdt == np.float64 else np.dtype(np.float64)
            return draw(st.one_of(
                junk_common(),
                st.builds(lambda: Arr(np.empty(shape, other))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("swapped",))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("unaligned",))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("readonly",))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("broadcast",))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("matrix",))),
                st.builds(lambda: Arr(np.empty(shape[::-1] + (1,), cdt))),
                st.builds(lambda: Arr(np.empty((shape[0] + 1,) + shape[1:], cdt))),
                st.builds(lambda: Arr(np.empty(shape, np.int64))),
                st.builds(lambda: Arr(np.empty(shape, np.complex128))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("list",))),
                st.just("ALIAS_PRED"), st.just("ALIAS_TARGET"),
            ))
        if key == "unknown":
            return draw(st.one_of(junk_common(), st.just(1)))
        raise KeyError(key)

    def case_kw_dtype(kw):
        return kw.get("_cdt", np.dtype(np.float64))

    def keys_of(name):
        fam = family(name)
        keys = ["pred", "target", "reduction", "n_threads"]
        if fam != "mse":
            keys += ["weight", "ignore_index", "label_smoothing"]
        if fam == "ce":
            keys += ["eps"]
        if name.endswith("_and_grad"):
            keys += ["out"]
        return keys

    def shape_of(pred):
        b = pred.base if isinstance(pred, Arr) else np.asarray(pred)
        return b.shape if b.ndim else (1,)

    @st.composite
    def odd_case(draw, name):
        """A valid call with one argument replaced by an odd value (or an
        unknown keyword added)."""
        args, kw = draw(valid_case(name))
        shape = shape_of(args[0])
        keys = keys_of(name) + ["unknown"]
        key = draw(st.sampled_from(keys))
        cdt = computation_dtype(np.asarray(args[0].build()).dtype)
        value = draw(odd_value(key, name, shape, {"_cdt": cdt}))
        if key == "pred":
            args[0] = value
        elif key == "target":
            args[1] = value
        elif key == "unknown":
            kw[draw(st.sampled_from(["foo", "weights", "axis", "eps", "out", "ignore_index"]))] = value
        else:
            kw[key] = value
        return args, kw

    @st.composite
    def arbitrary_case(draw, name):
        """Every argument independently valid or odd."""
        args, kw = draw(valid_case(name))
        shape = shape_of(args[0])
        cdt = computation_dtype(np.asarray(args[0].build()).dtype)
        for key in keys_of(name):
            if draw(st.integers(0, 2)) == 0:
                value = draw(odd_value(key, name, shape, {"_cdt": cdt}))
                if key == "pred":
                    args[0] = value
                elif key == "target":
                    args[1] = value
                else:
                    kw[key] = value
        return args, kw

    @pytest.mark.parametrize("case", corpus(), ids=CORPUS_IDS)
    def test_corpus(case):
        _, name, args, kw = case
        check_loss_call(name, args, kw)

    @pytest.mark.parametrize("name", LOSSES)
    @fuzz_settings
    @given(data=st.data())
    def test_valid_arguments(name, data):
        args, kw = data.draw(valid_case(name), label="case")
        check_loss_call(name, args, kw)

    @pytest.mark.parametrize("name", LOSSES)
    @fuzz_settings
    @given(data=st.data())
    def test_one_odd_argument(name, data):
        args, kw = data.draw(odd_case(name), label="case")
        check_loss_call(name, args, kw)

    @pytest.mark.parametrize("name", LOSSES)
    @fuzz_settings
    @given(data=st.data())
    def test_arbitrary_arguments(name, data):
        args, kw = data.draw(arbitrary_case(name), label="case")
        check_loss_call(name, args, kw)

    # -- the book --------------------------------------------------------------

    @st.composite
    def book_case(draw, name):
        """Inputs where the book's code is defined and fastloss.book promises its
        numbers: float64 (or float32) arrays of 1 or 2 dimensions, labels in
        range (the book wraps negative ones around, fastloss refuses them),
        one-hot targets of y's shape, targets of y's shape for squared error."""
        shape, one = draw(pred_shape())
        c = shape[-1]
        dt = draw(st.sampled_from(FLOAT_DTYPES))
        kind = "logits" if name in ("softmax", "SoftmaxWithLoss") else "probs"
        layouts = ["fortran", "readonly", "reversed", "strided", "column_view", "swapped",
                   "unaligned"]
        x = draw(arr(dt, shape, kind, allow=layouts))
        dout = draw(st.sampled_from([1, 1.0, 0.5, 2.0, -1.0, np.float64(3.0)]))
        if name == "softmax":
            return [x], dout
        if name in ("sum_squared_error", "mean_squared_error"):
            tdt = np.dtype(np.float64) if dt == np.float64 else np.dtype(np.float32)
            return [x, draw(arr(tdt, shape, "probs", allow=layouts))], dout
        n_shape = shape[:-1]
        onehot = draw(st.booleans())
        rng = np.random.default_rng(draw(st.integers(0, 99)))
        idx = rng.integers(0, c, n_shape)
        if onehot:
            t = np.eye(c)[idx].astype(draw(st.sampled_from(FLOAT_DTYPES)))
        else:
            t = idx.astype(draw(st.sampled_from(
                [d for d in INT_DTYPES if np.iinfo(d).max >= c - 1])))
            if one and draw(st.booleans()):
                t = t.reshape(1)
        return [x, Arr(t, draw(layout_ops(["readonly", "reversed", "swapped", "strided"])))], dout

    @st.composite
    def book_junk_case(draw, name):
        shape, _ = draw(pred_shape())
        nargs = 1 if name == "softmax" else 2
        args = []
        for i in range(nargs):
            if draw(st.booleans()):
                dt = draw(st.sampled_from(FLOAT_DTYPES + OTHER_REAL + NON_REAL[:3]))
                s = draw(st.sampled_from([shape, shape[:-1], (), (2, 3, 4), (0, 3), (3, 0)]))
                args.append(draw(arr(dt, s, allow=LAYOUTS + ["list"])))
            else:
                args.append(draw(st.one_of(junk_array(shape), st.integers(-5, 5))))
        dout = draw(st.one_of(st.sampled_from([1, 0.5, None, "x", np.ones(2)]),
                              st.floats(allow_nan=True)))
        return args, dout

    @pytest.mark.parametrize("name", BOOK)
    @fuzz_settings
    @given(data=st.data())
    def test_book(name, data):
        args, dout = data.draw(book_case(name), label="case")
        in_domain = True
        t = args[1].base if len(args) > 1 and isinstance(args[1], Arr) else None
        x0 = args[0].base
        if t is not None and t.dtype.kind in "iu" and t.size == x0.size and (
                (t.ndim == 1 and x0.ndim == 2) or x0.shape[-1] == 1):
            # integer targets of a batch of one class, or (N,) labels of an
            # empty batch: the book's one-hot rule (t.size == y.size) takes
            # them for one-hot rows (and its argmax(axis=1) fails on (N,));
            # fastloss reads them as class indices, a documented difference
            in_domain = False
        check_book_call(name, args, dout, in_domain)

    @pytest.mark.parametrize("name", BOOK)
    @fuzz_settings
    @given(data=st.data())
    def test_book_junk(name, data):
        args, dout = data.draw(book_junk_case(name), label="case")
        check_book_call(name, args, dout, in_domain=False)


# ---------------------------------------------------------------------------
# Parent mode: run the child, one test here per hypothesis test there
# ---------------------------------------------------------------------------

def run_child(workdir, extra_env=None):
    junit = os.path.join(workdir, "fuzz.xml")
    trace = os.path.join(workdir, "last_example.pickle")
    env = dict(os.environ, FASTLOSS_FUZZ_CHILD="1", FASTLOSS_FUZZ_TRACE=trace,
               PYTHONFAULTHANDLER="1", PYTHONUNBUFFERED="1", **(extra_env or {}))
    # -v prints each outcome as it happens: they survive a crash, the junit
    # file (with the failure messages) does not. --capture=sys leaves file
    # descriptor 2 alone, so what native code writes there before dying (a
    # sanitizer report, a glibc abort message) reaches stderr here.
    cmd = [sys.executable, "-m", "pytest", os.path.abspath(__file__), "-v", "-p",
           "no:cacheprovider", "-o", "addopts=", f"--junitxml={junit}", "--tb=short",
           "--capture=sys", "--rootdir", ROOT]
    timeout = 600 + 5 * EXAMPLES
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out, err = "timeout", exc.stdout or "", exc.stderr or ""
        out = out.decode() if isinstance(out, bytes) else out
        err = err.decode() if isinstance(err, bytes) else err
    results = {}
    if os.path.exists(junit) and rc != "timeout":
        for case in ET.parse(junit).getroot().iter("testcase"):
            fail = case.find("failure")
            if fail is None:
                fail = case.find("error")
            results[case.get("name")] = None if fail is None else (
                (fail.get("message") or "") + "\n" + (fail.text or ""))
    outcomes = {}
    for line in out.splitlines():
        m = re.match(r"^\S*::(\S+) (PASSED|FAILED|ERROR|SKIPPED)", line)
        if m:
            outcomes[m.group(1)] = m.group(2)
    return {"rc": rc, "stdout": out, "stderr": err, "results": results, "trace": trace,
            "outcomes": outcomes}


if not CHILD:
    @pytest.fixture(scope="module")
    def child(tmp_path_factory):
        return run_child(str(tmp_path_factory.mktemp("fuzz")))

    @pytest.mark.parametrize("test", CHILD_TESTS)
    def test_fuzz(child, test):
        """One hypothesis test of the child process: passed, failed (with the
        falsifying example) or lost to a crash of the process."""
        results, outcomes = child["results"], child["outcomes"]
        if test in results:
            if results[test] is not None:
                pytest.fail(f"{test} failed in the fuzz process:\n{results[test]}", pytrace=False)
            return
        outcome = outcomes.get(test)
        if outcome == "PASSED":
            return
        if outcome is not None:
            pytest.fail(f"{test}: {outcome} in the fuzz process, which then died (return code "
                        f"{child['rc']}) before writing the details", pytrace=False)
        crashed = next((t for t in CHILD_TESTS if t not in outcomes), None)
        if test != crashed:
            pytest.fail(f"{test} did not run: the fuzz process died (return code {child['rc']}) "
                        f"in {crashed}", pytrace=False)
        err = child["stderr"]
        # a sanitizer report starts with its one-line verdict; keep that
        # rather than the end of its (long) stack trace
        m = re.search(r"runtime error:|ERROR: AddressSanitizer", err)
        err = err[max(0, err.rfind("\n", 0, m.start()) + 1):][:6000] if m else err[-6000:]
        tail = (child["stdout"][-2000:] + "\n" + err).strip()
        saved = child["trace"] + ".crash"
        if os.path.exists(child["trace"]):
            os.replace(child["trace"], saved)
        pytest.fail(
            f"the fuzz process died in {test} (return code {child['rc']}: a crash?). The last "
            f"example it started is pickled in {saved}; replay it with\n"
            f"    python tests/test_fuzz.py --replay {saved}\n\n{tail}", pytrace=False)


def replay(path):
    """Call the pickled example again, in this process (to reproduce a crash)."""
    import fastloss
    import fastloss.book

    with open(path, "rb") as f:
        name, args, kwargs = pickle.load(f)
    print(f"fastloss.{name}(*{args!r}, **{kwargs!r})", flush=True)
    if isinstance(args, str):
        print("(the example held values that do not pickle; its repr is shown above)")
        return
    if name.startswith("book."):
        dout = kwargs.pop("dout")
        a, _ = materialize_call(args, {})
        print(run_book(name[5:], fastloss.book, a, dout))
        return
    a, kw = materialize_call(args, kwargs)
    print(getattr(fastloss, name)(*a, **kw))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--replay":
        sys.path.insert(0, HERE)
        replay(sys.argv[2])
    else:
        print(__doc__)
