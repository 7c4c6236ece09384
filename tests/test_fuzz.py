"""Fuzzing: arbitrary arguments thrown at every public function.

Every call of a compiled function must either return what ``fastloss.reference``
returns (same type, dtype and shape; values within a relative 1e-12 in
float64 and 1e-5 in float32, NaN where NaN, the same infinities; float16
and bfloat16 input with its float32 losses at float32's tolerance, and its
half-precision gradients within one half-precision rounding more), or raise
the exception type the reference raises (``IndexError`` label messages must
match exactly). Inputs are never modified, ``out`` is the gradient returned,
and a successful call warns only where the reference warns too. Where a sum
cancels (terms of both signs, ``log(s)`` of a softmax sum close to 1, a
divisor of weights that cancel) the tolerance is relative to the sum of the
magnitudes of the terms rather than to the result (sample weights of both
signs included); where such a bound overflows, or a product overflows that
its quotient does not, values are not compared, and products that fall
among the subnormals (a subnormal sample weight over a subnormal divisor)
may be off by their rounding. ``fastloss.book`` is checked against
``fastloss.reference.book`` (the book's code as published) wherever the
book's code is defined and fastloss.book promises its numbers (float64 and float32
arrays of 1 or 2 dimensions, labels in range or one-hot rows; float32 against
the book run on the float64 values of the same inputs); elsewhere it must
raise a clean ``TypeError``, ``ValueError`` or ``IndexError`` or return.

The child tests, per function:
  test_corpus              fixed examples: every discrepancy found so far
                           ("bug-..."), and the classic pitfalls of loss
                           kernels that must keep passing (those that
                           need ml_dtypes, bfloat16 and float8, only where
                           it is installed)
  test_valid_arguments     calls the functions accept (labels may be out of range)
  test_one_odd_argument    a valid call with one argument replaced by an odd
                           value (wrong type, dtype, shape or range; junk)
  test_arbitrary_arguments every argument independently valid or odd
  test_binary_*            the same three for the binary cross-entropies
                           (binary_valid_case, binary_odd_value): pred of
                           rank 0-5, targets of its shape (hard, soft,
                           outside [0, 1], NaN), weight and pos_weight in
                           every broadcast form, sample weights of shape
                           (N,); their fixed examples are binary_corpus()
  test_book, test_book_junk

The arrays cover every dtype (float16 either byte order, bfloat16, float32,
float64, bool, every integer, complex, object, str, bytes, datetime,
timedelta, structured, float8 and opaque two-byte), shapes with zeros, 0-d,
ranks 1-5 with the class ``axis`` anywhere (positive, negative, NumPy
integers; channels-first (N, C, H, W) batches, transposed (C, N) ones),
rows wider than the kernels' scratch buffers and batches across their
256-row blocks, strided, reversed, Fortran, channels-last memory,
zero-stride (broadcast), read-only, unaligned and byte-swapped buffers,
ndarray subclasses, lists and ``__array__`` objects; the values NaN,
infinities, subnormals and the extremes of every dtype; the labels huge,
negative, unsigned extremes and ``ignore_index`` collisions; sample weights
with zeros, negative values, NaN, infinities and subnormals; axes out of
range or not integers, sample weights of the wrong shape or dtype, and
pairs of bad arguments that pin the order of the checks.

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
                          the whole file then takes about 15 s); the
                          binary cross-entropies' tests run a third of that
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
# the element-wise binary cross-entropies (no class axis): their fixed
# examples in binary_corpus(), their hypothesis tests test_binary_*
BINARY = ["binary_cross_entropy", "sigmoid_binary_cross_entropy",
          "binary_cross_entropy_and_grad", "sigmoid_binary_cross_entropy_and_grad"]
BINARY_EXAMPLES = max(1, EXAMPLES // 3)
BOOK = ["softmax", "cross_entropy_error", "sum_squared_error", "mean_squared_error",
        "SoftmaxWithLoss"]

# what each hypothesis test of the child checks, by test name
CHILD_TESTS = ([f"test_valid_arguments[{f}]" for f in LOSSES]
               + [f"test_one_odd_argument[{f}]" for f in LOSSES]
               + [f"test_arbitrary_arguments[{f}]" for f in LOSSES]
               + [f"test_binary_valid_arguments[{f}]" for f in BINARY]
               + [f"test_binary_one_odd_argument[{f}]" for f in BINARY]
               + [f"test_binary_arbitrary_arguments[{f}]" for f in BINARY]
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
    if op == "channels_last_memory":
        # the same (N, C, d1, ...) values, held in memory with axis 1
        # innermost: the positions' strides collapse into one
        if a.ndim < 3:
            return a
        return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, -1)), -1, 1)
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


def _is_half(dtype):
    """float16 (either byte order) or ml_dtypes' bfloat16 (by its name)."""
    dtype = np.dtype(dtype)
    return dtype.type is np.float16 or (dtype.kind == "V" and dtype.name == "bfloat16")


# (stored mantissa bits, smallest normal exponent, largest finite value)
HALF_FORMATS = {"float16": (10, -14, 65504.0), "bfloat16": (7, -126, 3.3895313892515355e38)}


def _half_format(dtype):
    return HALF_FORMATS["float16" if np.dtype(dtype).type is np.float16 else "bfloat16"]


def half_ulp(got, want, dtype):
    """One unit in the last place of the half dtype at the larger magnitude
    of ``got`` and ``want``: a half gradient is a float32 (or float64) value
    rounded once, within the float32 bound of the exact one, so it lies
    within one half-precision rounding of the reference's."""
    mant, emin, _ = _half_format(dtype)
    with np.errstate(all="ignore"):
        v = np.maximum(np.abs(np.asarray(got, np.float64)), np.abs(np.asarray(want, np.float64)))
        v = np.where(np.isfinite(v), v, 0.0)
        _, e = np.frexp(v)                       # v = m 2^e, m in [0.5, 1)
        e = np.where(v == 0.0, emin, np.maximum(e - 1, emin))
        return np.ldexp(1.0, (e - mant).astype(np.int32))


def _f32_edge(got, want, dtype):
    """float32 (or half) results that round to infinity in one computation
    and to the largest finite value in the other (the exact value lies on
    the edge)."""
    if dtype == np.float32:
        top = F32_MAX * (1 - 1e-5)
    elif _is_half(dtype):
        mant, _, hmax = _half_format(dtype)
        top = hmax * (1 - 2.0 ** -mant)
    else:
        return False
    g, w = np.asarray(got, np.float64), np.asarray(want, np.float64)
    with np.errstate(all="ignore"):
        return (np.abs(g) >= top) & (np.abs(w) >= top) & (np.sign(g) == np.sign(w))


def _divisor_lost(n, d_abs, d, finite):
    """The divisor is a sum of weights: where they cancel (or their sum of
    finite terms overflows) the order of the additions decides it, even its
    sign. Returns (lost, conditioning)."""
    lost = (math.isfinite(d_abs) and d_abs > 0 and n * 2.0 ** -50 * d_abs >= 0.5 * abs(d)) \
        or (math.isinf(d_abs) and finite)
    cond = d_abs / abs(d) if d != 0 and math.isfinite(d_abs) else 0.0
    return lost, cond


def _subnormal_slack(n, d):
    """Absolute slack of the loss and of each gradient entry of "mean": a
    product s_i l_i (or s_i times a gradient numerator) that falls among
    the subnormals is rounded to a multiple of 2^-1074 (1e-320 holds 11
    bits), and the division by a divisor D of the same size magnifies that
    absolute error: half a unit in each of n rows (a reference and a
    kernel: n units), two units in each gradient entry (a kernel may round
    s_i / sum_c first, then the product)."""
    if d == 0 or not math.isfinite(d):
        return 0.0, 0.0
    unit = 2.0 ** -1074 / abs(d)
    return n * unit, 2.0 * unit


def _squared_error_bounds(args, kwargs, loss, grad):
    """error_bounds of the squared error: each row's sum of squares has no
    cancellation; sample weights of both signs make the weighted sum (and
    the divisor C sum_i s_i) cancel."""
    from fastloss import reference as ref
    from fastloss.reference import _validate as v

    loss_arr = np.abs(np.asarray(loss, np.float64))
    g_arr = None if grad is None else np.abs(np.asarray(grad, np.float64))
    if kwargs.get("sample_weight") is None:
        return loss_arr, False, g_arr, False, 0.0, 0.0
    reduction = kwargs.get("reduction", "mean")
    pred, _, axis, reduction, _ = ref._common(args[0], "pred", kwargs.get("axis", -1),
                                              reduction, None)
    target = v.as_dense_like(args[1], pred)
    s = v.as_sample_weight(kwargs["sample_weight"], pred, axis)
    diff = ref._rows(pred, axis).astype(np.float64) - ref._rows(target, axis).astype(np.float64)
    s = s.reshape(len(diff)).astype(np.float64)
    n, c = diff.shape
    sq = np.square(diff).sum(axis=1)
    rows_abs = np.where(s == 0.0, 0.0, np.abs(s) * sq)
    finite = bool(np.isfinite(sq[s != 0.0]).all() and np.isfinite(s).all())
    if reduction == "mean":
        d_abs = c * float(np.abs(s[s != 0.0]).sum())
        d = c * float(s[s != 0.0].sum())
    else:
        d_abs, d = 1.0, 1.0
    d_lost, d_cond = _divisor_lost(n, d_abs, d, finite)
    loss_sub, grad_sub = _subnormal_slack(n, d)
    # s_i l_i and s_i 2 (p - t) beyond float64 where the quotient is not:
    # whether s_i multiplies first decides between a number and infinity
    rows_over = np.isinf(rows_abs) & np.isfinite(s) & np.isfinite(sq)
    el_over = ref._unrows(np.isinf(np.abs(s)[:, None] * 2.0 * np.abs(diff))
                          & np.isfinite(s)[:, None] & np.isfinite(diff), pred.shape, axis)
    grad_loose = None if grad is None else el_over | d_lost
    if reduction == "none":
        return (loss_arr, rows_over.reshape(np.shape(loss)), g_arr, grad_loose, 0.0,
                grad_sub)
    total_abs = rows_abs.sum()
    loss_bound = (total_abs / abs(d) if d != 0 else 0.0) + loss_arr * (1 + d_cond)
    loss_loose = bool(np.isinf(total_abs) and finite) or d_lost
    if grad is None:
        return loss_bound, loss_loose, None, False, loss_sub, 0.0
    return loss_bound, loss_loose, g_arr * (1 + d_cond), grad_loose, loss_sub, grad_sub


def _binary_bounds(name, args, kwargs, loss, grad, random=False):
    """error_bounds of the binary cross-entropies, element by element: each
    element's two terms ``|w a A| + |w b B|`` bound its loss (they cancel
    where a weight is negative, or a log of a probability above 1) and
    ``|w a dA| + |w b dB|`` its gradient (whose two terms have opposite
    signs); a sample weight s_i scales its elements, the divisor
    ``M sum_i s_i`` cancels with sample weights of both signs. Loose: sums
    of finite elements that overflow, a lost divisor, ``s_i g`` beyond
    float64 where ``s_i g / D`` is not, and for probabilities
    ``a / (p + eps)`` against the reference's ``a (1 / (p + eps))`` where
    the reciprocal overflows (or is subnormal) and the quotient does not.
    ``random``: a hypothesis example (bounds as for any other)."""
    from fastloss.reference import binary as rb

    probs = name.startswith("binary")
    reduction = kwargs.get("reduction", "mean")
    with np.errstate(all="ignore"):
        problem, eps = rb._problem(
            args[0], "probs" if probs else "logits", args[1], reduction=reduction,
            weight=kwargs.get("weight"), pos_weight=kwargs.get("pos_weight"),
            label_smoothing=kwargs.get("label_smoothing", 0.0),
            sample_weight=kwargs.get("sample_weight"), n_threads=None, out=None,
            **({"eps": kwargs.get("eps", 1e-7)} if probs else {}))
        x, ca, cb = problem.x, problem.coef_a, problem.coef_b
        s = np.broadcast_to(problem.s, x.shape)
        counted = s != 0.0
        if probs:
            part_a, part_b = rb._log_terms(x, eps)
            za, zb = x + eps, (1.0 - x) + eps
            grad_a, grad_b = -1.0 / za, 1.0 / zb
        else:
            part_a, part_b = rb._softplus_terms(x)
            sig_neg, sig_pos = rb._sigmoids(x)
            grad_a, grad_b = -sig_neg, sig_pos

        def magnitude(coef, value):
            return np.where(coef == 0.0, 0.0, np.abs(coef * value))

        terms = magnitude(ca, part_a) + magnitude(cb, part_b)
        elements_abs = np.where(counted, np.abs(s) * terms, 0.0)
        finite = bool(np.isfinite(terms[counted]).all() and np.isfinite(s).all())
        n = x.shape[0] if x.ndim else 1
        if reduction == "mean":
            d = float(problem.divisor)
            d_abs = float(np.prod(x.shape[1:])) * float(np.abs(problem.s[problem.s != 0.0]).sum())
        else:
            d_abs, d = 1.0, 1.0
        d_lost, d_cond = _divisor_lost(n, d_abs, d, bool(np.isfinite(s).all()))
        loss_sub, grad_sub = _subnormal_slack(int(counted.sum()), d)
        loss_arr = np.abs(np.asarray(loss, np.float64))
        if reduction == "none":
            # s_i (w a A + w b B): the reference's order of operations is
            # the kernel's, nothing to excuse
            loss_bound, loss_loose = elements_abs + loss_arr, False
        else:
            total_abs = elements_abs.sum()
            loss_bound = (total_abs / abs(d) if d != 0 else 0.0) + loss_arr * (1 + d_cond)
            loss_loose = bool(np.isinf(total_abs) and finite) or d_lost
        if grad is None:
            return loss_bound, loss_loose, None, False, loss_sub, 0.0
        g_arr = np.abs(np.asarray(grad, np.float64))
        numerator = magnitude(ca, grad_a) + magnitude(cb, grad_b)
        if probs:   # the kernel's quotients a / (p + eps), the reference's a (1 / (p + eps))
            numerator = np.maximum(numerator, np.where(ca == 0.0, 0.0, np.abs(ca / za))
                                   + np.where(cb == 0.0, 0.0, np.abs(cb / zb)))
        weighted = np.where(counted, np.abs(s) * numerator, 0.0)
        grad_bound = (weighted / abs(d) if d != 0 else np.zeros_like(weighted)) \
            + g_arr * (1 + d_cond)
        tiny = np.finfo(np.float64).tiny
        # s_i g beyond float64 where s_i g / D is not: whether s_i
        # multiplies first decides between a number and infinity (as for
        # the other losses; g / D beyond float64, 1 / D included, is not
        # excused)
        if d != 0:
            over = (counted & np.isinf(weighted) & np.isfinite(numerator) & np.isfinite(s)
                    & np.isfinite(np.abs(s) * (numerator / abs(d))))
        else:
            over = np.zeros(x.shape, bool)
        grad_loose = over | d_lost
        if probs:
            for coef, z in ((ca, za), (cb, zb)):
                recip = np.abs(1.0 / z)
                quot = np.abs(coef / z)
                grad_loose = grad_loose | ((coef != 0.0) & np.isfinite(quot)
                                           & (np.isinf(recip) | (recip < tiny)))
        return loss_bound, loss_loose, grad_bound, grad_loose, loss_sub, grad_sub


def error_bounds(name, args, kwargs, loss, grad, random=False):
    """Per-element error bounds of the loss and gradient that the reference
    returned, from the magnitudes of the terms that are summed.

    Returns (loss_bound, loss_loose, grad_bound, grad_loose, loss_slack,
    grad_slack): the bound is
    ``sum of |terms|`` (so cancellation in the sum, or in the divisor of
    "mean", widens the tolerance), ``loose`` marks elements whose bound
    overflowed (sums of finite terms beyond the float64 range, where the
    order of the additions decides between a number and infinity) or whose
    divisor is lost to cancellation. A sample weight s_i scales the terms
    of its row (and its part of the divisor) by |s_i|; the rows are the
    positions in C order, the class axis last. The slacks are absolute
    (subnormal products, see _subnormal_slack).
    """
    from fastloss import reference as ref

    pred, target = args[0], args[1]
    reduction = kwargs.get("reduction", "mean")
    if "binary" in name:
        return _binary_bounds(name, args, kwargs, loss, grad, random)
    with np.errstate(all="ignore"):
        if name.startswith("mean_squared_error"):
            return _squared_error_bounds(args, kwargs, loss, grad)
        kind = "probs" if name.startswith("cross_entropy") else "logits"
        pred, grad_dtype, axis, reduction, _ = ref._common(pred, kind, kwargs.get("axis", -1),
                                                           reduction, None)
        b = ref._class_batch(pred, grad_dtype, axis, reduction, target,
                             weight=kwargs.get("weight"),
                             ignore_index=kwargs.get("ignore_index"),
                             label_smoothing=kwargs.get("label_smoothing", 0.0),
                             sample_weight=kwargs.get("sample_weight"), out=None)
        x, coef, n = b.x, b.coef, b.x.shape[0]
        s = b.row_weight                     # s_i, 0 on ignored rows
        counted = s != 0.0
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
        finite_terms = np.isfinite(terms) | ~counted[:, None]
        row_terms = terms_bound.sum(axis=1)
        rows_abs = np.where(counted, np.abs(s) * row_terms, 0.0)
        # finite terms (and a finite s_i) whose sum overflows: the order decides
        rows_overflow = np.isinf(rows_abs) & finite_terms.all(axis=1) & np.isfinite(s)
        # |D| and the sum of |s_i w_{t_i}| it is made of
        w = np.ones(x.shape[1]) if kwargs.get("weight") is None else \
            np.asarray(kwargs["weight"]).astype(b.dtype).astype(np.float64)
        tarr = np.asarray(target)
        if reduction != "mean":
            d_abs, d = 1.0, 1.0
        elif tarr.dtype.kind in "iu" or isinstance(target, int):
            labels = tarr.reshape(n)[counted].astype(np.int64)  # kept rows
            d_abs, d = float(np.abs(s[counted] * w[labels]).sum()), float(b.divisor)
        else:
            d_abs, d = float(np.abs(s[counted]).sum()), float(b.divisor)
        d_lost, d_cond = _divisor_lost(n, d_abs, d, bool(np.isfinite(w).all()
                                                         and np.isfinite(s).all()))
        loss_sub, grad_sub = _subnormal_slack(int(counted.sum()), d)
        loss_arr = np.abs(np.asarray(loss, np.float64))
        if reduction == "none":
            loss_bound = rows_abs.reshape(np.shape(loss)) + loss_arr
            loss_loose = rows_overflow.reshape(np.shape(loss))
        else:
            total_abs = rows_abs.sum()
            overflow = bool(np.isinf(total_abs) and finite_terms.all() and np.isfinite(s).all())
            loss_bound = (total_abs / abs(d) if d != 0 else 0.0) + loss_arr * (1 + d_cond)
            loss_loose = overflow or d_lost
        if grad is None:
            return loss_bound, loss_loose, None, False, loss_sub, 0.0
        g_arr = np.abs(np.asarray(grad, np.float64))
        if softmax is None:
            num_abs = np.abs(np.where(coef == 0.0, 0.0, coef / (x + float(kwargs.get("eps", 1e-7)))))
        else:
            num_abs = softmax * acoef.sum(axis=1, keepdims=True) + acoef
        # s_i times a numerator beyond float64 where the quotient is not:
        # whether s_i multiplies first decides between a number and infinity
        weighted = np.where(counted[:, None], np.abs(s)[:, None] * num_abs, 0.0)
        over = np.isinf(weighted) & np.isfinite(num_abs) & np.isfinite(s)[:, None]
        grad_bound = weighted / abs(d) if d != 0 else np.zeros_like(weighted)
        grad_bound = ref._unrows(np.asarray(grad_bound), pred.shape, axis) + g_arr * (1 + d_cond)
        grad_loose = ref._unrows(over, pred.shape, axis) | d_lost
        return loss_bound, loss_loose, grad_bound, grad_loose, loss_sub, grad_sub


def compare_values(name, got, want, args, kwargs, random=False):
    """Assert that a compiled result equals the reference's (types, dtypes,
    shapes, values). Half-precision gradients are compared with the float32
    tolerance of the loss plus one half-precision rounding."""
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
    lb, ll, gb, gl_loose, l_slack, g_slack = error_bounds(name, args, kwargs, wl, wg, random)
    assert_close_elementwise(gl, wl, rtol * np.asarray(lb) + atol + l_slack,
                             np.asarray(ll) | _f32_edge(gl, wl, dtype), "loss")
    if grad_fn:
        gtol = rtol * np.asarray(gb) + atol + g_slack
        if _is_half(wg.dtype):
            gtol = gtol + half_ulp(gg, wg, wg.dtype)
        assert_close_elementwise(gg, wg, gtol,
                                 np.asarray(gl_loose) | _f32_edge(gg, wg, wg.dtype), "grad")


def open_bug_warnings(name, warned):
    """``warned`` without the warnings of an open bug (OPEN_BINARY_BUGS):
    the random tests let them pass to go on testing the rest of the call;
    the bug's corpus entries keep it in sight (and once it is fixed and
    its entries leave OPEN_BINARY_BUGS, nothing is let pass)."""
    return warned


def check_loss_call(name, args, kwargs, random=False):
    """The compiled function against the reference on one example
    (``random``: a hypothesis example, see open_bug_warnings)."""
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
    if random:
        warned = open_bug_warnings(name, warned)
    # a warning only where the reference warns too (an input converted to
    # float32 with values beyond its range: NumPy's "overflow in cast")
    assert not warned or ref_warned, f"fastloss warned: {warned}"
    # the error bounds come from fresh inputs: with out= aliasing pred, the
    # reference has overwritten its pred with the gradient
    ba, bkw = materialize_call(args, kwargs)
    compare_values(name, got, want, ba, bkw, random)


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
        # a Python int label beyond int64 that equals ignore_index is ignored
        # (the contract); fastloss calls it out of range, and the reference's
        # "mean" fails inside NumPy (an object array used as an index)
        ("bug-ignored-python-int-label-beyond-int64-sum", "softmax_cross_entropy",
         [Arr(np.array([0.5, 0.5])), -2 ** 70], {"ignore_index": -2 ** 70, "reduction": "sum"}),
        ("bug-ignored-python-int-label-beyond-int64-mean", "cross_entropy",
         [Arr(np.array([0.5, 0.5])), 2 ** 64], {"ignore_index": 2 ** 64}),
        # a Python int beyond int64 for a batch is a target of the wrong
        # shape (ValueError, as for a 2-D batch); beyond the (N, C) path
        # fastloss raises TypeError (an object-dtype target)
        ("bug-python-int-label-beyond-int64-of-a-3d-batch", "softmax_cross_entropy",
         [Arr(np.zeros((2, 3, 2))), 2 ** 64], {}),
        ("bug-python-int-label-beyond-int64-axis0", "cross_entropy_and_grad",
         [Arr(np.full((3, 2), 1 / 3)), -2 ** 63 - 1], {"axis": 0}),
        ("bug-python-int-label-beyond-int64-float16-batch", "cross_entropy",
         [Arr(np.full((2, 3), 1 / 3, np.float16)), 2 ** 64], {}),
        # ignore_index (a NumPy integer whose int() fails) is checked before
        # the target: fastloss reports the dense target first
        ("bug-order-ignore-index-timedelta-before-dense-target", "cross_entropy",
         [p3, Arr(np.full((2, 3), 1 / 3))], {"ignore_index": np.timedelta64(3, "s")}),
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
    ] + axis_corpus() + sample_weight_corpus() + half_corpus() + error_corpus()


# -- the class axis, sample weights and half precision ----------------------

REDUCTIONS = ["mean", "sum", "none"]


def _kind_of(name):
    if name.startswith("cross_entropy"):
        return "probs"
    return "logits" if name.startswith("softmax") else "any"


def _positions_of(shape, axis):
    axis %= len(shape)
    return shape[:axis] + shape[axis + 1:]


def _values(shape, kind, seed, dtype=np.float64):
    """Probabilities in [0.02, 1), logits of spread 3 or values of spread 1."""
    rng = np.random.default_rng(seed)
    if kind == "probs":
        v = rng.uniform(0.02, 1.0, shape)
    elif kind == "logits":
        v = rng.standard_normal(shape) * 3.0
    else:
        v = rng.standard_normal(shape)
    return v.astype(dtype)


def _problem(name, shape, axis=-1, seed=0, dense=False, dtype=np.float64, ops=(), tops=(),
             label_dtype=np.int64):
    """[pred, target] of a call: ``pred`` in ``dtype`` with the classes on
    ``axis``; class indices of the positions' shape, or (``dense``, and for
    the squared error) a target of pred's shape (rows summing to 1 along
    the axis for the cross-entropies)."""
    kind = _kind_of(name)
    pred = Arr(_values(shape, kind, seed, dtype), ops)
    rng = np.random.default_rng(seed + 1)
    if kind == "any" or dense:
        t = rng.uniform(0.0, 1.0, shape)
        if kind != "any":
            t /= t.sum(axis=axis, keepdims=True)
        return [pred, Arr(t, tops)]
    labels = rng.integers(0, shape[axis], _positions_of(shape, axis)).astype(label_dtype)
    return [pred, Arr(labels, tops)]


def _sw(pshape, seed, special=None, dtype=np.float64, ops=()):
    """Sample weights of the positions' shape in [0, 2), with ``special``
    values ({flat index: value}) put in."""
    w = np.random.default_rng(seed).uniform(0.0, 2.0, pshape)
    for i, v in (special or {}).items():
        w.reshape(-1)[i] = v
    with np.errstate(all="ignore"):
        return Arr(w.astype(dtype), ops)


def _grad_dtype_of(dtype):
    dtype = np.dtype(dtype)
    if _is_half(dtype):
        return dtype.newbyteorder("=")
    return dtype if dtype == np.float32 else np.dtype(np.float64)


def _out(shape, dtype, ops=(), fill=7.0):
    return Arr(np.full(shape, fill, _grad_dtype_of(dtype)), ops)


def axis_corpus():
    """Every rank 1-5 with every class axis; channels-first batches; layouts."""
    entries = []
    shapes = {1: (5,), 2: (3, 4), 3: (2, 3, 4), 4: (2, 3, 2, 3), 5: (2, 1, 3, 2, 3)}
    k = 0
    for rank, shape in shapes.items():
        for axis in range(-rank, rank):
            name = LOSSES[k % 6]
            kw = {"axis": axis, "reduction": REDUCTIONS[(k // 6) % 3]}
            if k % 5 == 4 and name.endswith("_and_grad"):
                kw["out"] = _out(shape, np.float64, ("fortran",))
            entries.append((f"axis-rank{rank}-axis{axis}", name,
                            _problem(name, shape, axis, seed=k, dense=k % 4 == 3), kw))
            k += 1
    cf = (2, 3, 16, 16)
    cf_pos = (2, 16, 16)
    entries += [
        # PyTorch's (N, C, H, W) layout: 256 pixels an image
        ("channels-first-2x3x16x16", "softmax_cross_entropy_and_grad",
         _problem("softmax", cf, 1, seed=100), {"axis": 1}),
        ("channels-first-2x3x16x16-options", "cross_entropy_and_grad",
         _problem("cross_entropy", cf, 1, seed=101),
         {"axis": 1, "weight": Arr(np.array([0.5, 1.0, 2.0])), "ignore_index": 2,
          "label_smoothing": 0.1, "reduction": "sum", "n_threads": 2}),
        ("channels-first-2x3x16x16-axis-3-none", "softmax_cross_entropy",
         _problem("softmax", cf, 1, seed=102), {"axis": -3, "reduction": "none"}),
        ("channels-first-2x3x16x16-dense", "cross_entropy_and_grad",
         _problem("cross_entropy", cf, 1, seed=103, dense=True),
         {"axis": 1, "label_smoothing": 0.2}),
        ("channels-first-2x3x16x16-squared-error", "mean_squared_error_and_grad",
         _problem("mean_squared_error", cf, 1, seed=104),
         {"axis": 1, "sample_weight": _sw(cf_pos, 1, {0: 0.0, 5: -1.0})}),
        ("channels-first-one-image", "softmax_cross_entropy_and_grad",
         _problem("softmax", (1, 3, 16, 16), 1, seed=105),
         {"axis": 1, "sample_weight": _sw((1, 16, 16), 2, {3: 0.0}), "reduction": "none"}),
        ("channels-first-class-axis-innermost-in-memory", "softmax_cross_entropy_and_grad",
         _problem("softmax", cf, 1, seed=106, ops=("channels_last_memory",)),
         {"axis": 1, "out": _out(cf, np.float64, ("channels_last_memory",))}),
        ("channels-first-3x4x16x16-threads", "softmax_cross_entropy_and_grad",
         _problem("softmax", (3, 4, 16, 16), 1, seed=107),
         {"axis": 1, "n_threads": 3, "sample_weight": _sw((3, 16, 16), 3, {0: 0.0}),
          "weight": Arr(np.array([1.0, 0.5, 2.0, 1.5])), "label_smoothing": 0.05}),
        ("channels-first-float32-fortran", "softmax_cross_entropy_and_grad",
         _problem("softmax", cf, 1, seed=108, dtype=np.float32, ops=("fortran",),
                  tops=("fortran",)),
         {"axis": 1, "out": _out(cf, np.float32, ("fortran",)), "n_threads": 2}),
        ("channels-first-strided-reversed", "cross_entropy_and_grad",
         _problem("cross_entropy", (2, 3, 8, 8), 1, seed=109, ops=("strided", "reversed"),
                  tops=("reversed",)),
         {"axis": 1, "reduction": "none"}),
        ("channels-first-odd-pixels", "softmax_cross_entropy_and_grad",
         _problem("softmax", (2, 5, 3, 7), 1, seed=110), {"axis": 1, "n_threads": 2}),
        ("channels-first-rank5", "cross_entropy", _problem("cross_entropy", (2, 3, 4, 4, 2), 1,
                                                           seed=111), {"axis": 1,
                                                                       "reduction": "none"}),
        ("channels-first-empty-batch", "softmax_cross_entropy_and_grad",
         _problem("softmax", (0, 3, 4, 4), 1, seed=112), {"axis": 1}),
        ("middle-axis-empty-positions", "cross_entropy_and_grad",
         _problem("cross_entropy", (2, 3, 0), 1, seed=113),
         {"axis": 1, "sample_weight": Arr(np.zeros((2, 0)))}),
        ("transposed-batch-axis0", "softmax_cross_entropy_and_grad",
         _problem("softmax", (4, 300), 0, seed=114), {"axis": 0, "n_threads": 2}),
        ("transposed-batch-axis0-one-class", "softmax_cross_entropy_and_grad",
         [Arr(np.array([[3.0, -1.0, 0.5]])), Arr(np.zeros(3, np.int64))], {"axis": 0}),
        # layouts of every argument with a class axis
        ("axis1-fortran", "softmax_cross_entropy_and_grad",
         _problem("softmax", (3, 4, 5), 1, seed=115, ops=("fortran",), tops=("fortran",)),
         {"axis": 1}),
        ("axis0-strided", "cross_entropy_and_grad",
         _problem("cross_entropy", (4, 3, 2), 0, seed=116, ops=("strided3",),
                  tops=("strided",)), {"axis": 0, "reduction": "sum"}),
        ("axis2-rank4-reversed", "softmax_cross_entropy",
         _problem("softmax", (2, 2, 5, 3), 2, seed=117, ops=("reversed",), tops=("reversed",)),
         {"axis": 2, "reduction": "none"}),
        ("axis-2-swapped-unaligned", "cross_entropy_and_grad",
         _problem("cross_entropy", (3, 4, 5), -2, seed=118, ops=("swapped", "unaligned"),
                  tops=("swapped", "unaligned"), label_dtype=np.int32),
         {"axis": -2, "weight": Arr(np.arange(1.0, 5.0), ("swapped", "unaligned")),
          "sample_weight": _sw((3, 5), 4, {1: 0.0}, ops=("swapped", "unaligned"))}),
        ("axis1-broadcast", "softmax_cross_entropy_and_grad",
         _problem("softmax", (3, 4, 5), 1, seed=119, ops=("broadcast",), tops=("broadcast",)),
         {"axis": 1, "sample_weight": _sw((3, 5), 5, ops=("broadcast",))}),
        ("axis1-squared-error-fortran-out", "mean_squared_error_and_grad",
         _problem("mean_squared_error", (3, 4, 5), 1, seed=120, tops=("strided",)),
         {"axis": 1, "out": _out((3, 4, 5), np.float64, ("fortran",)), "reduction": "none"}),
        ("axis0-strided-out", "softmax_cross_entropy_and_grad",
         _problem("softmax", (4, 3, 2), 0, seed=121, ops=("fortran",)),
         {"axis": 0, "out": _out((4, 3, 2), np.float64, ("strided",)), "reduction": "sum"}),
        ("axis1-dense-fortran-reversed-out", "cross_entropy_and_grad",
         _problem("cross_entropy", (3, 4, 5), 1, seed=122, dense=True, tops=("fortran",)),
         {"axis": 1, "out": _out((3, 4, 5), np.float64, ("reversed",))}),
        ("axis1-out-is-pred", "softmax_cross_entropy_and_grad",
         _problem("softmax", (3, 4, 5), 1, seed=123), {"axis": 1, "out": "ALIAS_PRED"}),
        ("axis1-list-pred", "mean_squared_error",
         _problem("mean_squared_error", (2, 3, 2), 1, seed=124, ops=("list",)),
         {"axis": 1, "reduction": "none"}),
        ("axis0-rank1-python-int-label", "cross_entropy_and_grad",
         [Arr(np.array([0.1, 0.2, 0.3, 0.4])), 3], {"axis": 0}),
        ("axis-numpy-int8", "softmax_cross_entropy",
         _problem("softmax", (2, 3, 4), 1, seed=125), {"axis": np.int8(1)}),
        ("axis-numpy-uint64", "softmax_cross_entropy_and_grad",
         _problem("softmax", (2, 3, 4), 1, seed=126), {"axis": np.uint64(1)}),
        ("axis-numpy-int64-negative", "mean_squared_error_and_grad",
         _problem("mean_squared_error", (2, 3, 4), -2, seed=127), {"axis": np.int64(-2)}),
        ("axis1-across-blocks-nan-row", "softmax_cross_entropy_and_grad",
         [Arr(np.where(np.arange(3 * 300 * 2).reshape(3, 300, 2) == 7, np.nan,
                       _values((3, 300, 2), "logits", 128))),
          Arr(np.random.default_rng(129).integers(0, 300, (3, 2)))],
         {"axis": 1, "reduction": "none", "n_threads": 3}),
    ]
    return entries


def sample_weight_corpus():
    """Sample weights with zeros, negative values, NaN and inf, with every
    option, reduction and gradient."""
    entries = []
    specials = [math.nan, math.inf, -math.inf, 0.25, 1e300, -2.0]
    options = [{}, {"ignore_index": 1}, {"weight": Arr(np.array([0.5, 2.0, 1.0, -1.0]))},
               {"label_smoothing": 0.3},
               {"ignore_index": 0, "weight": Arr(np.array([1.0, 3.0, 0.0, 0.5])),
                "label_smoothing": 0.1}]
    k = 0
    for name in LOSSES:
        for red in REDUCTIONS:
            # six rows of four classes: row 1 weighs 0 (and its loss is NaN),
            # row 2 is negative, row 4 special
            pred = _values((6, 4), _kind_of(name), 200 + k)
            pred[1, 2] = math.nan
            args = _problem(name, (6, 4), seed=200 + k)
            args[0] = Arr(pred)
            sw = _sw((6,), 300 + k, {1: 0.0, 2: -0.5, 4: specials[k % len(specials)]})
            kw = {"reduction": red, "sample_weight": sw}
            if not name.startswith("mean_squared"):
                kw.update(options[k % len(options)])
                if "ignore_index" in kw:
                    args[1].base[3] = kw["ignore_index"]
            if name.endswith("_and_grad") and k % 2:
                kw["out"] = _out((6, 4), np.float64, ("reversed",), fill=math.nan)
            entries.append((f"sw-{red}-{name}", name, args, kw))
            k += 1
    t3 = Arr(np.array([0, 1, 2]))
    p3 = Arr(_values((3, 3), "probs", 230))
    x3 = Arr(_values((3, 3), "logits", 231))
    entries += [
        ("sw-ignored-rows-nan-and-inf", "softmax_cross_entropy_and_grad",
         [x3, Arr(np.array([-100, 1, -100]))],
         {"ignore_index": -100, "sample_weight": Arr(np.array([math.nan, 2.0, math.inf]))}),
        ("sw-zero-row-with-inf-loss", "cross_entropy_and_grad",
         [Arr(np.array([[0.0, 1.0], [0.5, 0.5]])), Arr(np.array([0, 1]))],
         {"eps": 0.0, "sample_weight": Arr(np.array([0.0, 1.0]))}),
        ("sw-zero-row-with-minus-inf-logit", "softmax_cross_entropy_and_grad",
         [Arr(np.array([[-np.inf, 0.0], [1.0, 2.0]])), Arr(np.array([0, 1]))],
         {"sample_weight": Arr(np.array([0.0, 3.0])), "reduction": "none"}),
        ("sw-all-zero-mean", "cross_entropy_and_grad", [p3, t3],
         {"sample_weight": Arr(np.zeros(3))}),
        ("sw-all-zero-squared-error", "mean_squared_error_and_grad",
         _problem("mean_squared_error", (3, 3), seed=232), {"sample_weight": Arr(np.zeros(3))}),
        ("sw-cancel-zero-divisor", "softmax_cross_entropy_and_grad", [x3, t3],
         {"sample_weight": Arr(np.array([1.0, -1.0, 0.0]))}),
        ("sw-cancel-with-class-weight", "cross_entropy_and_grad", [p3, t3],
         {"sample_weight": Arr(np.array([2.0, 1.0, 5.0])),
          "weight": Arr(np.array([1.0, -2.0, 0.0]))}),
        ("sw-cancel-squared-error", "mean_squared_error_and_grad",
         _problem("mean_squared_error", (3, 3), seed=233),
         {"sample_weight": Arr(np.array([1.5, -1.5, 0.0]))}),
        ("sw-nan-counted-row-dense", "cross_entropy_and_grad",
         _problem("cross_entropy", (3, 3), seed=234, dense=True),
         {"sample_weight": Arr(np.array([1.0, math.nan, 1.0])), "label_smoothing": 0.5}),
        # s_i (p - t) beyond float64, s_i (p - t) / D not: a number or inf
        ("sw-huge-times-huge-difference", "mean_squared_error_and_grad",
         [Arr(np.array([1e19, 2.0])), Arr(np.zeros(2))],
         {"axis": 0, "sample_weight": Arr(np.array(-1e300))}),
        ("sw-huge-times-huge-class-weight", "softmax_cross_entropy_and_grad", [x3, t3],
         {"sample_weight": Arr(np.array([1e300, 1e300, 1.0])),
          "weight": Arr(np.array([1e10, 1.0, 1.0]))}),
        ("sw-inf-dense-squared-error-none", "mean_squared_error_and_grad",
         _problem("mean_squared_error", (3, 3), seed=235),
         {"sample_weight": Arr(np.array([math.inf, 1.0, -math.inf])), "reduction": "none"}),
        ("sw-inf-times-zero-loss", "softmax_cross_entropy_and_grad",
         [Arr(np.array([[0.0, -1000.0], [1.0, 1.0]])), Arr(np.array([0, 1]))],
         {"sample_weight": Arr(np.array([math.inf, 1.0])), "reduction": "sum"}),
        ("sw-subnormal-divisor", "cross_entropy_and_grad", [p3, t3],
         {"sample_weight": Arr(np.array([1e-310, 0.0, 1e-310]))}),
        ("sw-subnormal-divisor-softmax", "softmax_cross_entropy_and_grad", [x3, t3],
         {"sample_weight": Arr(np.array([5e-324, 5e-324, 0.0]))}),
        # a subnormal D (1 / D overflows): the gradient entries off the label
        # of a confident row come out up to 1.47 where the reference (and
        # the exact value) is 0.9995
        ("bug-subnormal-sample-weight-softmax-grad", "softmax_cross_entropy_and_grad",
         [Arr(np.array([[-1.0, 8.0, 0.5], [0.0, 2.0, 1.0]])), Arr(np.array([0, 1]))],
         {"sample_weight": Arr(np.array([1e-320, 1e-320]))}),
        ("sw-huge-float64-of-float32-pred", "softmax_cross_entropy_and_grad",
         [Arr(_values((3, 3), "logits", 236, np.float32)), t3],
         {"sample_weight": Arr(np.array([1e300, 1.0, 1.0]))}),
        ("sw-float32-of-float64-pred", "cross_entropy",
         [p3, t3], {"sample_weight": _sw((3,), 6, dtype=np.float32), "reduction": "none"}),
        ("sw-int64", "softmax_cross_entropy_and_grad", [x3, t3],
         {"sample_weight": Arr(np.array([3, 0, -2]))}),
        ("sw-uint64-max", "mean_squared_error",
         _problem("mean_squared_error", (3, 3), seed=237),
         {"sample_weight": Arr(np.array([2 ** 64 - 1, 0, 1], np.uint64))}),
        ("sw-bool", "cross_entropy_and_grad", [p3, t3],
         {"sample_weight": Arr(np.array([True, False, True]))}),
        ("sw-float16", "softmax_cross_entropy", [x3, t3],
         {"sample_weight": Arr(np.array([0.1, 65504, 0.0], np.float16), ("swapped",)),
          "reduction": "none"}),
        ("sw-one-sample-python-float", "cross_entropy_and_grad",
         [Arr(np.array([0.2, 0.3, 0.5])), 2], {"sample_weight": 2.5}),
        ("sw-one-sample-zero-0d", "softmax_cross_entropy_and_grad",
         [Arr(np.array([np.nan, 0.0, 1.0])), Arr(np.array(1))],
         {"sample_weight": Arr(np.array(0.0)), "reduction": "none"}),
        ("sw-one-sample-numpy-scalar", "mean_squared_error_and_grad",
         [Arr(np.array([0.2, 0.3, 0.5])), Arr(np.array([0.0, 1.0, 0.0]))],
         {"sample_weight": np.float32(-1.5)}),
        ("sw-list", "softmax_cross_entropy_and_grad", [x3, t3],
         {"sample_weight": Arr(np.array([1.0, 0.0, 2.0]), ("list",))}),
        ("sw-array-like", "cross_entropy", [p3, t3],
         {"sample_weight": Arr(np.array([1.0, 0.5, 2.0]), ("array_like",))}),
        ("sw-strided-reversed", "softmax_cross_entropy_and_grad",
         _problem("softmax", (5, 4), seed=238),
         {"sample_weight": _sw((5,), 7, {2: 0.0}, ops=("strided", "reversed"))}),
        ("sw-rank3-axis1-nan-inf-zero", "cross_entropy_and_grad",
         _problem("cross_entropy", (2, 4, 3), 1, seed=239),
         {"axis": 1, "sample_weight": _sw((2, 3), 8, {0: 0.0, 2: math.nan, 4: -1.0}),
          "reduction": "none", "out": _out((2, 4, 3), np.float64, ("fortran",))}),
        ("sw-rank3-axis0-inf", "softmax_cross_entropy_and_grad",
         _problem("softmax", (4, 2, 3), 0, seed=240),
         {"axis": 0, "sample_weight": _sw((2, 3), 9, {1: math.inf, 3: 0.0}),
          "weight": Arr(np.array([1.0, 2.0, 0.5, 1.0]))}),
        ("sw-wide-rows", "softmax_cross_entropy_and_grad",
         [Arr(np.linspace(-3, 3, 2 * 2100).reshape(2, 2100)), Arr(np.array([5, 2099]))],
         {"sample_weight": Arr(np.array([-0.5, 2.0])), "label_smoothing": 0.1}),
        ("sw-across-blocks-threads", "cross_entropy_and_grad",
         _problem("cross_entropy", (700, 3), seed=241),
         {"sample_weight": _sw((700,), 10, {0: 0.0, 256: -1.0, 511: 0.0, 699: math.nan}),
          "n_threads": 3, "ignore_index": 2}),
        ("sw-across-blocks-squared-error", "mean_squared_error_and_grad",
         _problem("mean_squared_error", (600, 3), seed=242),
         {"sample_weight": _sw((600,), 11, {300: -5.0}), "n_threads": 3}),
        ("sw-float32-squared-error-mean", "mean_squared_error_and_grad",
         _problem("mean_squared_error", (4, 3), seed=243, dtype=np.float32),
         {"sample_weight": _sw((4,), 12, {1: -0.75})}),
    ]
    return entries


def half_corpus():
    """float16 pred (native and byte-swapped), with and without an axis."""
    f16 = np.float16
    entries = []
    for k, name in enumerate(LOSSES):
        kw = {"reduction": REDUCTIONS[k % 3]}
        if name.endswith("_and_grad"):
            kw["out"] = _out((4, 5), f16, ("fortran",) if k % 2 else ())
        entries.append((f"float16-{name}", name,
                        _problem(name, (4, 5), seed=400 + k, dense=k == 1, dtype=f16), kw))
    for k, name in enumerate(LOSSES[3:]):
        entries.append((f"float16-swapped-{name}", name,
                        _problem(name, (4, 5), seed=410 + k, dtype=f16, ops=("swapped",)),
                        {"sample_weight": _sw((4,), 13 + k, {1: 0.0})}))
    entries += [
        ("float16-axis1-rank3", "softmax_cross_entropy_and_grad",
         _problem("softmax", (2, 5, 3), 1, seed=420, dtype=f16), {"axis": 1}),
        ("float16-axis0-rank3-swapped", "cross_entropy_and_grad",
         _problem("cross_entropy", (5, 2, 3), 0, seed=421, dtype=f16, ops=("swapped",)),
         {"axis": 0, "reduction": "none", "out": _out((5, 2, 3), f16, ("strided",))}),
        ("float16-axis-2-squared-error", "mean_squared_error_and_grad",
         _problem("mean_squared_error", (2, 3, 4), -2, seed=422, dtype=f16), {"axis": -2}),
        ("float16-channels-first", "softmax_cross_entropy_and_grad",
         _problem("softmax", (2, 3, 16, 16), 1, seed=423, dtype=f16),
         {"axis": 1, "sample_weight": _sw((2, 16, 16), 14, {0: 0.0, 1: -1.0}),
          "n_threads": 2}),
        ("float16-one-sample-axis0", "cross_entropy_and_grad",
         [Arr(np.array([0.25, 0.5, 0.25], f16)), 1], {"axis": 0}),
        ("float16-sample-weight-nan-inf", "softmax_cross_entropy_and_grad",
         _problem("softmax", (4, 3), seed=424, dtype=f16),
         {"sample_weight": Arr(np.array([math.nan, 0.0, math.inf, 1.0], f16)),
          "reduction": "none"}),
        ("float16-options", "cross_entropy_and_grad",
         _problem("cross_entropy", (6, 4), seed=425, dtype=f16, label_dtype=np.uint8),
         {"weight": Arr(np.array([1.0, 0.5, 2.0, 0.1], f16)), "ignore_index": 3,
          "label_smoothing": 0.2, "sample_weight": _sw((6,), 15, {0: -1.0}, dtype=f16)}),
        # -1 / (0 + 1e-7) is beyond float16's range: -inf in the gradient
        ("float16-grad-overflows", "cross_entropy_and_grad",
         [Arr(np.array([[0.0, 1.0], [0.5, 0.5]], f16)), Arr(np.array([0, 1]))],
         {"reduction": "sum"}),
        # 1 / (N C) of a batch of 700: float16 subnormals
        ("float16-grad-subnormal", "softmax_cross_entropy_and_grad",
         _problem("softmax", (700, 3), seed=426, dtype=f16),
         {"sample_weight": _sw((700,), 16, {5: 1e-4})}),
        ("float16-extremes", "softmax_cross_entropy_and_grad",
         [Arr(np.array([[65504.0, -65504.0, 0.0], [np.inf, 0.0, 1.0], [6e-8, 0.0, -6e-8],
                        [np.nan, 0.0, 0.0]], f16)), Arr(np.array([1, 0, 2, 1]))],
         {"reduction": "none"}),
        ("float16-squared-error-max", "mean_squared_error_and_grad",
         [Arr(np.array([[65504.0, -65504.0], [1.0, 2.0]], f16)),
          Arr(np.array([[-65504.0, 65504.0], [1.0, 0.0]]))], {"reduction": "sum"}),
        ("float16-dense-float16-target", "softmax_cross_entropy_and_grad",
         [Arr(_values((3, 4), "logits", 427, f16)),
          Arr(np.array([[0, 1, 0, 0], [0.5, 0.5, 0, 0], [0.25, 0.25, 0.25, 0.25]], f16),
              ("swapped",))], {}),
        ("float16-bool-target-squared-error", "mean_squared_error_and_grad",
         [Arr(np.array([[1.0, 0.0], [0.5, 0.25]], f16)),
          Arr(np.array([[True, False], [False, True]]))], {"reduction": "none"}),
        ("float16-list-is-float64", "cross_entropy_and_grad",
         [Arr(np.array([[0.25, 0.75]], f16), ("list",)), Arr(np.array([1]))], {}),
        ("float16-unaligned-strided", "softmax_cross_entropy_and_grad",
         _problem("softmax", (5, 3), seed=428, dtype=f16, ops=("unaligned", "strided")),
         {"out": _out((5, 3), f16, ("reversed",))}),
        ("float16-wide-rows", "softmax_cross_entropy_and_grad",
         [Arr(np.linspace(-8, 8, 2049).astype(f16).reshape(1, 2049)), Arr(np.array([2048]))],
         {"label_smoothing": 0.1}),
        ("float16-out-is-pred", "mean_squared_error_and_grad",
         _problem("mean_squared_error", (2, 3), seed=429, dtype=f16), {"out": "ALIAS_PRED"}),
    ]
    return entries


def error_corpus():
    """Bad axes and sample weights, and pairs of errors that pin the order
    of the checks: pred, axis, eps, reduction, n_threads, ignore_index,
    label_smoothing, target, weight, sample_weight, out, labels."""
    p = Arr(_values((2, 3), "probs", 500))
    x = Arr(_values((2, 3), "logits", 501))
    t = Arr(np.array([0, 2]))
    bad_t = Arr(np.array([0, 7]))
    p3 = Arr(_values((2, 3, 4), "probs", 502))      # axis 1: positions (2, 4)
    t3 = Arr(np.array([[0, 1, 2, 0], [2, 2, 1, 0]]))
    m = _problem("mean_squared_error", (2, 3), seed=503)
    cplx = Arr(np.array([[0.5, 0.5]], np.complex128))
    entries = [
        ("axis-out-of-range-2", "cross_entropy", [p, t], {"axis": 2}),
        ("axis-out-of-range-minus-3", "softmax_cross_entropy_and_grad", [x, t], {"axis": -3}),
        ("axis-out-of-range-rank1", "mean_squared_error", [Arr(np.ones(3)), Arr(np.ones(3))],
         {"axis": 1}),
        ("axis-out-of-range-rank4", "softmax_cross_entropy",
         _problem("softmax", (2, 3, 2, 2), 1, seed=504), {"axis": 4}),
        # a Python int axis beyond C long: fastloss's fast path (a native
        # (N, C) batch) raises OverflowError where the axis is out of range
        ("bug-axis-beyond-int64", "cross_entropy", [p, t], {"axis": 2 ** 70}),
        ("bug-axis-below-int64", "softmax_cross_entropy", [x, t], {"axis": -2 ** 63 - 1}),
        ("axis-2-pow-63-channels-first", "softmax_cross_entropy_and_grad",
         _problem("softmax", (2, 3, 4, 4), 1, seed=519), {"axis": 2 ** 63}),
        ("axis-uint64-max", "cross_entropy_and_grad", [p, t], {"axis": np.uint64(2 ** 64 - 1)}),
        ("axis-int64-min", "mean_squared_error", m, {"axis": np.int64(-2 ** 63)}),
        ("axis-2-pow-32", "softmax_cross_entropy", [x, t], {"axis": 2 ** 32}),
        ("axis-float", "cross_entropy", [p, t], {"axis": 1.0}),
        ("axis-str", "softmax_cross_entropy", [x, t], {"axis": "1"}),
        ("axis-none", "mean_squared_error_and_grad", m, {"axis": None}),
        ("axis-bool", "cross_entropy", [p, t], {"axis": True}),
        ("axis-numpy-bool", "softmax_cross_entropy", [x, t], {"axis": np.False_}),
        ("axis-numpy-float", "mean_squared_error", m, {"axis": np.float64(1.0)}),
        ("axis-0d-array", "cross_entropy", [p, t], {"axis": Arr(np.array(1))}),
        ("axis-list", "softmax_cross_entropy_and_grad", [x, t], {"axis": [1]}),
        ("axis-tuple", "cross_entropy", [p3, t3], {"axis": (1,)}),
        ("axis-complex", "mean_squared_error", m, {"axis": 1j}),
        ("axis-zero-classes", "softmax_cross_entropy", [Arr(np.zeros((3, 0, 2))),
                                                        Arr(np.zeros((3, 2), np.int64))],
         {"axis": 1}),
        ("pred-opaque-two-byte-dtype", "softmax_cross_entropy", [Arr(np.zeros((2, 3), "V2")), t],
         {}),
        # the positions' shape is pred's without the class axis
        ("target-of-the-default-axis-positions", "softmax_cross_entropy",
         [Arr(_values((2, 3, 4), "logits", 505)), Arr(np.zeros((2, 3), np.int64))],
         {"axis": 1}),
        ("dense-target-with-the-class-axis-moved", "cross_entropy",
         [p3, Arr(np.full((2, 4, 3), 1 / 3))], {"axis": 1}),
        ("sample-weight-n-by-1", "cross_entropy", [p, t], {"sample_weight": Arr(np.ones((2, 1)))}),
        ("sample-weight-n-plus-1", "softmax_cross_entropy_and_grad", [x, t],
         {"sample_weight": Arr(np.ones(3))}),
        ("sample-weight-of-preds-shape", "mean_squared_error_and_grad", m,
         {"sample_weight": Arr(np.ones((2, 3)))}),
        ("sample-weight-python-float-of-a-batch", "cross_entropy", [p, t],
         {"sample_weight": 1.0}),
        ("sample-weight-0d-of-a-batch", "mean_squared_error", m,
         {"sample_weight": Arr(np.array(1.0))}),
        ("sample-weight-of-the-default-axis-positions", "cross_entropy_and_grad", [p3, t3],
         {"axis": 1, "sample_weight": Arr(np.ones((2, 3)))}),
        ("sample-weight-transposed-positions", "softmax_cross_entropy", [p3, t3],
         {"axis": 1, "sample_weight": Arr(np.ones((4, 2)))}),
        ("sample-weight-flat-positions", "cross_entropy", [p3, t3],
         {"axis": 1, "sample_weight": Arr(np.ones(8))}),
        ("sample-weight-empty-list", "softmax_cross_entropy", [x, t], {"sample_weight": []}),
        ("sample-weight-complex", "cross_entropy", [p, t],
         {"sample_weight": Arr(np.ones(2, np.complex128))}),
        ("sample-weight-object", "softmax_cross_entropy_and_grad", [x, t],
         {"sample_weight": Arr(np.array([1.0, None], object))}),
        ("sample-weight-str", "mean_squared_error", m,
         {"sample_weight": Arr(np.array(["1", "2"]))}),
        ("sample-weight-datetime", "cross_entropy", [p, t],
         {"sample_weight": Arr(np.array(["2020-01-01", "2020-01-02"], "M8[D]"))}),
        ("sample-weight-timedelta", "softmax_cross_entropy", [x, t],
         {"sample_weight": Arr(np.array([1, 2], "m8[s]"))}),
        ("sample-weight-structured", "cross_entropy_and_grad", [p, t],
         {"sample_weight": Arr(np.zeros(2, [("a", "<f8")]))}),
        ("sample-weight-void", "mean_squared_error_and_grad", m,
         {"sample_weight": Arr(np.zeros(2, "V2"))}),
        ("sample-weight-junk", "softmax_cross_entropy", [x, t], {"sample_weight": Junk()}),
        ("sample-weight-list-of-str", "cross_entropy", [p, t], {"sample_weight": ["a", "b"]}),
        # -- the order of the checks --
        ("order-pred-before-axis", "softmax_cross_entropy", [cplx, Arr(np.array([1]))],
         {"axis": 5}),
        ("order-pred-0d-before-axis", "cross_entropy", [Arr(np.array(0.5)), 0], {"axis": 1.5}),
        ("order-pred-0d-before-axis-range", "mean_squared_error",
         [Arr(np.array(0.5)), Arr(np.array(0.5))], {"axis": 3}),
        ("order-axis-before-eps", "cross_entropy", [p, t], {"axis": 2, "eps": "x"}),
        ("order-axis-type-before-eps", "cross_entropy", [p, t], {"axis": 0.5, "eps": -1.0}),
        ("order-axis-before-reduction", "softmax_cross_entropy", [x, t],
         {"axis": -3, "reduction": "avg"}),
        ("order-axis-before-n-threads", "mean_squared_error", m, {"axis": 2, "n_threads": 0}),
        ("order-axis-type-before-n-threads", "mean_squared_error_and_grad", m,
         {"axis": "0", "n_threads": -1}),
        ("order-axis-before-ignore-index", "softmax_cross_entropy", [x, t],
         {"axis": 9, "ignore_index": 1.5}),
        ("order-axis-before-label-smoothing", "cross_entropy_and_grad", [p, t],
         {"axis": -9, "label_smoothing": 2.0}),
        ("order-zero-classes-before-eps", "cross_entropy",
         [Arr(np.zeros((3, 0, 2))), Arr(np.zeros((3, 2), np.int64))],
         {"axis": 1, "eps": "x"}),
        ("order-axis-before-target", "softmax_cross_entropy", [x, Arr(np.array([0.5, 0.5]))],
         {"axis": 2}),
        ("order-axis-before-sample-weight", "cross_entropy", [p, t],
         {"axis": None, "sample_weight": Arr(np.ones(5))}),
        ("order-eps-before-sample-weight", "cross_entropy", [p, t],
         {"eps": -1.0, "sample_weight": Arr(np.ones(2, np.complex64))}),
        ("order-reduction-before-sample-weight", "mean_squared_error", m,
         {"reduction": "avg", "sample_weight": Arr(np.ones(2, np.complex64))}),
        ("order-n-threads-before-sample-weight", "softmax_cross_entropy_and_grad", [x, t],
         {"n_threads": 0, "sample_weight": Arr(np.array(["a", "b"]))}),
        ("order-ignore-index-before-sample-weight", "cross_entropy", [p, t],
         {"ignore_index": 1.5, "sample_weight": Arr(np.ones(5))}),
        ("order-smoothing-before-sample-weight", "softmax_cross_entropy", [x, t],
         {"label_smoothing": 2.0, "sample_weight": Arr(np.ones(2, np.complex64))}),
        ("order-float-labels-before-sample-weight", "cross_entropy", [p, Arr(np.array([0.0, 1.0]))],
         {"sample_weight": Arr(np.ones(5))}),
        ("order-target-shape-before-sample-weight", "softmax_cross_entropy_and_grad",
         [x, Arr(np.array([0, 1, 2]))], {"sample_weight": Arr(np.ones(2, np.complex64))}),
        ("order-ignore-index-dense-before-sample-weight", "cross_entropy",
         [p, Arr(np.full((2, 3), 1 / 3))],
         {"ignore_index": 1, "sample_weight": Arr(np.ones(2, np.complex64))}),
        ("order-weight-shape-before-sample-weight", "softmax_cross_entropy", [x, t],
         {"weight": Arr(np.ones(4)), "sample_weight": Arr(np.ones(2, np.complex64))}),
        ("order-weight-dtype-before-sample-weight", "cross_entropy_and_grad", [p, t],
         {"weight": Arr(np.ones(3, np.complex64)), "sample_weight": Arr(np.ones(5))}),
        ("order-target-before-sample-weight-squared-error", "mean_squared_error_and_grad",
         [m[0], Arr(np.ones((3, 2)))], {"sample_weight": Arr(np.ones(2, np.complex64))}),
        ("order-target-dtype-before-sample-weight-squared-error", "mean_squared_error",
         [m[0], Arr(np.ones((2, 3), np.complex64))], {"sample_weight": Arr(np.ones(5))}),
        ("order-sample-weight-before-out", "softmax_cross_entropy_and_grad", [x, t],
         {"sample_weight": Arr(np.ones(3)), "out": Arr(np.zeros((2, 3), np.float32))}),
        ("order-sample-weight-dtype-before-out", "cross_entropy_and_grad", [p, t],
         {"sample_weight": Arr(np.ones(2, np.complex64)),
          "out": Arr(np.zeros((2, 3)), ("readonly",))}),
        ("order-sample-weight-before-out-squared-error", "mean_squared_error_and_grad", m,
         {"sample_weight": Arr(np.ones((2, 1))), "out": Arr(np.zeros((3, 2)))}),
        ("order-sample-weight-before-labels", "softmax_cross_entropy", [x, bad_t],
         {"sample_weight": Arr(np.ones(3))}),
        ("order-sample-weight-dtype-before-labels", "cross_entropy_and_grad", [p, bad_t],
         {"sample_weight": Arr(np.ones(2, np.complex64)), "out": Arr(np.zeros((2, 3)))}),
        ("order-out-before-labels-with-axis", "softmax_cross_entropy_and_grad",
         [Arr(_values((2, 3, 4), "logits", 506)), Arr(np.array([[0, 1, 9, 0], [0, 0, 0, 0]]))],
         {"axis": 1, "sample_weight": Arr(np.ones((2, 4))), "out": Arr(np.zeros((2, 4, 3)))}),
        # a zero sample weight does not excuse a bad label
        ("bad-label-of-a-zero-weight-row", "cross_entropy", [p, bad_t],
         {"sample_weight": Arr(np.array([1.0, 0.0]))}),
        ("sw-nan-on-an-ignored-row", "softmax_cross_entropy_and_grad",
         [x, Arr(np.array([-100, 1]))],
         {"sample_weight": Arr(np.array([math.nan, 1.0])), "ignore_index": -100}),
        # label errors name the position: a row, or an index tuple
        ("bad-label-axis0-names-its-row", "softmax_cross_entropy",
         [Arr(_values((3, 4), "logits", 507)), Arr(np.array([0, 1, 2, 3]))], {"axis": 0}),
        ("bad-label-rank3-axis1-names-its-position", "cross_entropy_and_grad",
         [p3, Arr(np.array([[0, 1, 2, 0], [2, 2, -1, 0]]))], {"axis": 1}),
        ("bad-label-rank4-axis0-names-its-position", "softmax_cross_entropy",
         [Arr(_values((3, 2, 2, 2), "logits", 508)),
          Arr(np.array([[[0, 1], [2, 0]], [[1, 1], [1, 3]]], np.uint8))],
         {"axis": 0, "ignore_index": 2}),
        ("bad-label-rank3-first-of-several", "softmax_cross_entropy_and_grad",
         [Arr(_values((2, 3, 300), "logits", 509)),
          Arr(np.where(np.arange(600).reshape(2, 300) % 97 == 50, 3, 0))],
         {"axis": 1, "n_threads": 3}),
        ("bad-label-python-int-rank1-axis0", "cross_entropy", [Arr(np.ones(3) / 3), 3],
         {"axis": 0}),
        ("bad-label-channels-first", "softmax_cross_entropy_and_grad",
         [Arr(_values((2, 3, 16, 16), "logits", 510)),
          Arr(np.where(np.arange(512).reshape(2, 16, 16) == 300, 3, 1))],
         {"axis": 1, "out": Arr(np.zeros((2, 3, 16, 16)))}),
        # half precision: out must have the gradient dtype
        ("float16-out-float32", "softmax_cross_entropy_and_grad",
         [Arr(_values((2, 3), "logits", 511, np.float16)), t],
         {"out": Arr(np.zeros((2, 3), np.float32))}),
        ("float16-out-float64", "mean_squared_error_and_grad",
         [Arr(_values((2, 3), "any", 512, np.float16)), m[1]],
         {"out": Arr(np.zeros((2, 3)))}),
        ("float16-out-byte-swapped", "cross_entropy_and_grad",
         [Arr(_values((2, 3), "probs", 513, np.float16)), t],
         {"out": Arr(np.zeros((2, 3), np.float16), ("swapped",))}),
        ("float16-swapped-out-swapped", "softmax_cross_entropy_and_grad",
         [Arr(_values((2, 3), "logits", 514, np.float16), ("swapped",)), t],
         {"out": Arr(np.zeros((2, 3), np.float16), ("swapped",))}),
        ("float32-out-float16", "cross_entropy_and_grad",
         [Arr(_values((2, 3), "probs", 515, np.float32)), t],
         {"out": Arr(np.zeros((2, 3), np.float16))}),
        ("float16-sample-weight-before-out", "softmax_cross_entropy_and_grad",
         [Arr(_values((2, 3), "logits", 516, np.float16)), t],
         {"sample_weight": Arr(np.ones(4)), "out": Arr(np.zeros((2, 3), np.float32))}),
        ("float16-out-before-labels", "cross_entropy_and_grad",
         [Arr(_values((2, 3), "probs", 517, np.float16)), bad_t],
         {"out": Arr(np.zeros((2, 3), np.float32))}),
        ("float16-pred-bad-axis", "mean_squared_error",
         [Arr(_values((2, 3), "any", 518, np.float16)), m[1]], {"axis": -3}),
    ]
    return entries


def ml_dtypes_corpus():
    """bfloat16 pred and float8 dtypes: examples that need ml_dtypes (an
    optional dependency). They are not part of corpus(), whose outcomes
    tests/test_digest.py records whether ml_dtypes is installed or not."""
    try:
        import ml_dtypes
    except ImportError:
        return []
    bf16 = np.dtype(ml_dtypes.bfloat16)
    f8 = np.dtype(ml_dtypes.float8_e4m3fn)
    f8b = np.dtype(ml_dtypes.float8_e5m2)
    entries = []
    for k, name in enumerate(LOSSES):
        kw = {"reduction": REDUCTIONS[k % 3]}
        if name.endswith("_and_grad"):
            kw["out"] = _out((4, 5), bf16, ("fortran",) if k % 2 else ())
        entries.append((f"bfloat16-{name}", name,
                        _problem(name, (4, 5), seed=600 + k, dense=k == 4, dtype=bf16), kw))
    t = Arr(np.array([0, 2]))
    x = Arr(_values((2, 3), "logits", 610, bf16))
    entries += [
        ("bfloat16-axis1-sample-weight", "softmax_cross_entropy_and_grad",
         _problem("softmax", (2, 5, 3), 1, seed=611, dtype=bf16),
         {"axis": 1, "sample_weight": _sw((2, 3), 20, {0: 0.0, 1: -1.0, 2: math.nan})}),
        ("bfloat16-axis0-options", "cross_entropy_and_grad",
         _problem("cross_entropy", (5, 2, 3), 0, seed=612, dtype=bf16),
         {"axis": 0, "weight": Arr(np.linspace(0.5, 2.0, 5)), "ignore_index": 1,
          "label_smoothing": 0.1, "reduction": "none",
          "out": _out((5, 2, 3), bf16, ("strided",))}),
        ("bfloat16-channels-first", "mean_squared_error_and_grad",
         _problem("mean_squared_error", (2, 3, 16, 16), 1, seed=613, dtype=bf16),
         {"axis": 1, "sample_weight": _sw((2, 16, 16), 21, {7: math.inf, 8: 0.0})}),
        ("bfloat16-dense-bfloat16-target", "softmax_cross_entropy_and_grad",
         [x, Arr(np.array([[0, 1, 0], [0.5, 0.25, 0.25]], bf16))], {}),
        ("bfloat16-target-squared-error", "mean_squared_error",
         [Arr(_values((2, 3), "any", 614, bf16)), Arr(_values((2, 3), "any", 615, bf16))],
         {"reduction": "none"}),
        ("bfloat16-sample-weight", "cross_entropy_and_grad",
         [Arr(_values((2, 3), "probs", 616, bf16)), t],
         {"sample_weight": Arr(np.array([0.5, -3.0], bf16))}),
        ("bfloat16-sample-weight-of-float64-pred", "softmax_cross_entropy",
         [Arr(_values((2, 3), "logits", 617)), t],
         {"sample_weight": Arr(np.array([0.1, 3.0], bf16)), "reduction": "none"}),
        ("bfloat16-extremes", "softmax_cross_entropy_and_grad",
         [Arr(np.array([[3e38, -3e38, 0.0], [np.inf, 1.0, 0.0], [np.nan, 0.0, 0.0],
                        [1e-40, 0.0, -1e-40]], bf16)), Arr(np.array([1, 0, 1, 2]))],
         {"reduction": "none"}),
        ("bfloat16-grad-of-a-tiny-probability", "cross_entropy_and_grad",
         [Arr(np.array([[1e-30, 1.0], [0.5, 0.5]], bf16)), Arr(np.array([0, 1]))],
         {"eps": 0.0, "reduction": "sum"}),
        ("bfloat16-one-sample", "softmax_cross_entropy_and_grad",
         [Arr(np.array([1.0, 2.0, 3.0], bf16)), 2], {"axis": -1}),
        ("bfloat16-out-float16", "softmax_cross_entropy_and_grad", [x, t],
         {"out": Arr(np.zeros((2, 3), np.float16))}),
        ("bfloat16-out-float32", "mean_squared_error_and_grad",
         [x, Arr(np.zeros((2, 3)))], {"out": Arr(np.zeros((2, 3), np.float32))}),
        ("float16-out-bfloat16", "softmax_cross_entropy_and_grad",
         [Arr(_values((2, 3), "logits", 618, np.float16)), t],
         {"out": Arr(np.zeros((2, 3), bf16))}),
        ("bfloat16-weight", "cross_entropy", [Arr(_values((2, 3), "probs", 619)), t],
         {"weight": Arr(np.ones(3, bf16))}),
        # an array-like (not an ndarray) of bfloat16: fastloss reads it, the
        # reference refuses it (it takes bfloat16 only as an ndarray)
        ("bug-bfloat16-array-like-sample-weight", "cross_entropy",
         [Arr(_values((2, 3), "probs", 621)), t],
         {"sample_weight": Arr(np.ones(2, bf16), ("array_like",))}),
        ("bug-bfloat16-array-like-target", "softmax_cross_entropy",
         [x, Arr(np.eye(3, dtype=bf16)[[0, 2]], ("array_like",))], {}),
        ("float8-pred-e4m3fn", "softmax_cross_entropy", [Arr(np.zeros((2, 3), f8)), t], {}),
        ("float8-pred-e5m2", "mean_squared_error_and_grad",
         [Arr(np.zeros((2, 3), f8b)), Arr(np.zeros((2, 3)))], {}),
        ("float8-pred-before-axis", "cross_entropy", [Arr(np.zeros((2, 3), f8)), t],
         {"axis": 7}),
        ("float8-pred-one-sample", "cross_entropy_and_grad", [Arr(np.zeros(3, f8b)), 0], {}),
        ("float8-target", "softmax_cross_entropy", [x, Arr(np.zeros((2, 3), f8))], {}),
        ("float8-target-squared-error", "mean_squared_error", [x, Arr(np.zeros((2, 3), f8b))],
         {}),
        ("float8-weight", "softmax_cross_entropy", [x, t], {"weight": Arr(np.ones(3, f8))}),
        ("float8-sample-weight", "cross_entropy", [Arr(_values((2, 3), "probs", 620)), t],
         {"sample_weight": Arr(np.ones(2, f8))}),
        ("float8-sample-weight-before-out", "softmax_cross_entropy_and_grad", [x, t],
         {"sample_weight": Arr(np.ones(2, f8)), "out": Arr(np.zeros((2, 3), np.float16))}),
    ]
    return entries


# -- the binary cross-entropies ------------------------------------------------

def _binary_values(name, shape, seed, dtype=np.float64):
    """Probabilities in [0.02, 0.98] or logits of spread 3."""
    rng = np.random.default_rng(seed)
    if name.startswith("binary"):
        v = rng.uniform(0.02, 0.98, shape)
    else:
        v = rng.standard_normal(shape) * 3.0
    return v.astype(dtype)


def _binary_problem(name, shape, seed=0, dtype=np.float64, ops=(), tops=(), soft=False,
                    tdtype=np.float64):
    """[pred, target] of a binary call: a target of pred's shape, hard (0
    and 1) or soft (in [0, 1])."""
    rng = np.random.default_rng(seed + 1)
    t = rng.uniform(0.0, 1.0, shape) if soft else rng.integers(0, 2, shape).astype(np.float64)
    return [Arr(_binary_values(name, shape, seed, dtype), ops), Arr(t.astype(tdtype), tops)]


def _with_specials(shape, seed, specials, low=0.0, high=3.0, dtype=np.float64, ops=()):
    """Values of ``shape`` in [low, high) with ``specials`` ({flat index: value}) put in."""
    w = np.random.default_rng(seed).uniform(low, high, shape)
    for i, v in specials.items():
        w.reshape(-1)[i] = v
    with np.errstate(all="ignore"):
        return Arr(w.astype(dtype), ops)


# OPEN: compiled-kernel discrepancies of the binary losses not fixed yet.
# Their corpus entries are strict expected failures: one that passes fails
# the run, and its entry leaves this dict.
# Corpus ids of known, still open discrepancies of the binary losses
# (reason strings): their cases run as strict expected failures, so that a
# fix shows as an unexpected pass and its entry leaves here.  None is open.
OPEN_BINARY_BUGS = {}


def binary_corpus():
    """The binary cross-entropies: every rank 0-5 with each function and
    reduction; weight and pos_weight in every broadcast form (a scalar, the
    last axis, PyTorch's per-channel (C, 1, 1), pred's shape, trailing parts,
    ones) with zeros, NaN, negative values and infinities; sample weights
    with zeros, NaN, negative values and infinities; half precision; every
    layout; the values each kernel path treats apart (|x| > 700, +-inf and
    NaN logits, p = 0 and 1 with eps = 0, probabilities outside [0, 1], soft
    and odd targets); blocks of 256 elements and threads; every argument
    error and the order of the checks. Not part of corpus(), whose outcomes
    tests/test_digest.py records."""
    f32, f16 = np.float32, np.float16
    bce, sbce, bceg, sbceg = BINARY
    entries = []
    # -- every rank with each function and reduction --
    shapes = {0: (), 1: (5,), 2: (3, 4), 3: (2, 3, 4), 4: (2, 3, 2, 3), 5: (2, 1, 3, 2, 3)}
    k = 0
    for rank, shape in shapes.items():
        for name in BINARY:
            kw = {"reduction": REDUCTIONS[k % 3]}
            if k % 2 and rank:
                kw["pos_weight"] = _with_specials(shape[-1:], 700 + k, {})
            if k % 3 == 1:
                kw["sample_weight"] = _with_specials(shape[:1], 710 + k, {}, 0.0, 2.0)
            if k % 4 == 3 and name.endswith("_and_grad"):
                kw["out"] = _out(shape, np.float64, ("fortran",))
            entries.append((f"binary-rank{rank}-{name}", name,
                            _binary_problem(name, shape, seed=720 + k, soft=k % 5 == 2), kw))
            k += 1
    # -- weight and pos_weight: every broadcast form, odd values --
    nchw = (2, 3, 4, 5)
    forms = [
        ("python-float", {"weight": 2.0, "pos_weight": 0.5}),
        ("python-int-and-bool", {"weight": 3, "pos_weight": True}),
        ("0d", {"weight": Arr(np.array(1.5)), "pos_weight": Arr(np.array(3.0))}),
        ("numpy-scalar", {"weight": np.float32(0.25), "pos_weight": np.float64(-1.0)}),
        ("last-axis-zero-nan-inf-negative",
         {"weight": Arr(np.array([0.0, -1.0, np.nan, np.inf, 2.0]))}),
        ("pos-last-axis-zero-nan-inf-negative",
         {"pos_weight": Arr(np.array([0.0, -1.0, np.nan, np.inf, -np.inf]))}),
        ("per-channel", {"weight": Arr(np.array([0.5, 1.0, 2.0]).reshape(3, 1, 1)),
                         "pos_weight": Arr(np.array([0.0, 2.0, np.inf]).reshape(3, 1, 1))}),
        ("per-channel-nan", {"weight": Arr(np.array([np.nan, 1.0, -2.0]).reshape(3, 1, 1))}),
        ("full-shape", {"weight": _with_specials(nchw, 730, {0: 0.0, 7: np.nan, 11: -1.0,
                                                             50: np.inf, 99: 1e-310}),
                        "pos_weight": _with_specials(nchw, 731, {3: 0.0, 7: np.inf,
                                                                 60: np.nan, 80: -3.0})}),
        ("trailing-axes", {"weight": _with_specials((4, 5), 732, {2: 0.0}),
                           "pos_weight": _with_specials((1, 5), 733, {4: np.inf})}),
        ("per-sample", {"weight": _with_specials((2, 1, 1, 1), 734, {1: -0.5}),
                        "pos_weight": _with_specials((2, 3, 1, 1), 735, {2: 0.0})}),
        ("ones", {"weight": Arr(np.ones((1, 1, 1, 1))), "pos_weight": Arr(np.ones((1, 1)))}),
        ("all-zero", {"weight": Arr(np.zeros(5)), "pos_weight": Arr(np.zeros(5))}),
        ("list", {"weight": [1.0, 2.0, 0.0, 4.0, 5.0], "pos_weight": [[0.5], [1.0], [2.0], [0.0]]}),
        ("array-like", {"weight": Arr(np.linspace(0.5, 2.0, 5), ("array_like",))}),
        ("stride-0", {"weight": Arr(np.full(5, 1.5), ("broadcast",)),
                      "pos_weight": Arr(np.full((3, 1, 1), 2.0), ("broadcast",))}),
        ("swapped-unaligned", {"weight": _with_specials(5, 736, {1: 0.0},
                                                        ops=("swapped", "unaligned")),
                               "pos_weight": _with_specials((4, 5), 737, {},
                                                            ops=("swapped", "unaligned"))}),
        ("strided-reversed-fortran", {"weight": _with_specials(nchw, 738, {}, ops=("strided",
                                                                                "reversed")),
                                      "pos_weight": _with_specials((4, 5), 739, {},
                                                                   ops=("fortran",))}),
        ("float16-int-bool", {"weight": Arr(np.array([0.1, 65504, 0, 1, 2], f16), ("swapped",)),
                              "pos_weight": Arr(np.array([0, 1, 2, -1, 3], np.int64))}),
        ("bool-uint64", {"weight": Arr(np.array([True, False, True, True, False])),
                         "pos_weight": Arr(np.full((3, 1, 1), 2 ** 64 - 1, np.uint64))}),
        ("huge-and-subnormal", {"weight": Arr(np.array([1e300, 1e-310, 5e-324, 1e10, 1.0])),
                                "pos_weight": Arr(np.array([1e300, 1.0, 1e300, 1e-300, 1.0]))}),
    ]
    for k, (label, kw) in enumerate(forms):
        name = BINARY[k % 4]
        kw = dict(kw, reduction=REDUCTIONS[k % 3])
        if k % 3 == 0:
            kw["label_smoothing"] = 0.1
        entries.append((f"binary-weights-{label}-{name}", name,
                        _binary_problem(name, nchw, seed=740 + k, soft=k % 2 == 1), kw))
    entries += [
        # inf and NaN weights of a term whose coefficient is 0: exactly 0
        ("binary-inf-nan-weights-of-zero-terms", sbceg,
         [Arr(np.array([[1.0, -2.0, 0.5, 3.0]])), Arr(np.array([[0.0, 0.0, 1.0, 1.0]]))],
         {"pos_weight": Arr(np.array([np.inf, np.nan, 2.0, 1.0])), "reduction": "none",
          "weight": Arr(np.array([1.0, 1.0, 1.0, 0.0]))}),
        ("binary-inf-nan-weights-of-zero-terms-probs", bceg,
         [Arr(np.array([[0.25, 0.5, 0.75, 0.1]])), Arr(np.array([[0.0, 0.0, 1.0, 1.0]]))],
         {"pos_weight": Arr(np.array([np.inf, np.nan, 2.0, 1.0])), "reduction": "sum",
          "weight": Arr(np.array([1.0, 1.0, 1.0, 0.0]))}),
        # float64 weights beyond float32's range round to inf for float32
        # pred (once with NumPy's cast warning)
        ("binary-fixed-cast-warning-weight", sbceg,
         _binary_problem(sbce, (3, 4), seed=760, dtype=f32, soft=True),
         {"weight": Arr(np.array([1e300, 1.0, -1e39, 1.0])), "pos_weight": 1e40}),
        ("binary-fixed-cast-warning-pos-weight", bce,
         _binary_problem(bce, (3, 4), seed=761, dtype=f32),
         {"pos_weight": Arr(np.array([1e300, 1.0, 3.5e38, 0.0])), "reduction": "none"}),
    ]
    # -- sample weights --
    entries += [
        ("binary-sw-zero-nan-negative-inf", bceg, _binary_problem(bce, (6, 4), seed=770, soft=True),
         {"sample_weight": _with_specials(6, 771, {1: 0.0, 2: np.nan, 3: -0.5, 5: np.inf}, 0, 2)}),
        ("binary-sw-zero-nan-negative-inf-none", sbceg,
         _binary_problem(sbce, (6, 4), seed=772),
         {"sample_weight": _with_specials(6, 773, {0: 0.0, 2: np.nan, 4: -2.0}, 0, 2),
          "reduction": "none"}),
        ("binary-sw-zero-weighs-an-inf-and-nan-element", bceg,
         [Arr(np.array([[0.0, np.nan], [0.5, 0.25]])), Arr(np.array([[1.0, 0.5], [1.0, 0.0]]))],
         {"eps": 0.0, "sample_weight": Arr(np.array([0.0, 1.0]))}),
        ("binary-sw-zero-weighs-inf-logits", sbceg,
         [Arr(np.array([[-np.inf, np.inf, np.nan], [1.0, 2.0, 3.0]])),
          Arr(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.5]]))],
         {"sample_weight": Arr(np.array([0.0, 3.0])), "reduction": "none"}),
        ("binary-sw-all-zero-mean", sbceg, _binary_problem(sbce, (3, 2), seed=774),
         {"sample_weight": Arr(np.zeros(3))}),
        ("binary-sw-cancel-zero-divisor", bceg, _binary_problem(bce, (3, 2), seed=775),
         {"sample_weight": Arr(np.array([1.0, -1.0, 0.0]))}),
        ("binary-sw-1d-pred", sbce, _binary_problem(sbce, (5,), seed=776),
         {"sample_weight": _with_specials(5, 777, {2: 0.0, 3: -1.0}, 0, 2)}),
        ("binary-sw-0d-pred-0d-weight", bceg, _binary_problem(bce, (), seed=778),
         {"sample_weight": Arr(np.array(2.5))}),
        ("binary-sw-0d-pred-zero-python-float", sbceg,
         [Arr(np.array(np.nan)), Arr(np.array(1.0))], {"sample_weight": 0.0, "reduction": "none"}),
        ("binary-sw-0d-pred-numpy-scalar", sbce, _binary_problem(sbce, (), seed=779),
         {"sample_weight": np.float32(-1.5), "reduction": "sum"}),
        ("binary-sw-int-bool-float16-float32", bceg, _binary_problem(bce, (4, 3), seed=780),
         {"sample_weight": Arr(np.array([3, 0, -2, 1]))}),
        ("binary-sw-bool", sbce, _binary_problem(sbce, (4, 3), seed=781),
         {"sample_weight": Arr(np.array([True, False, True, True]))}),
        ("binary-sw-float16-swapped", sbceg, _binary_problem(sbce, (4, 3), seed=782),
         {"sample_weight": Arr(np.array([0.1, 65504, 0.0, -1.0], f16), ("swapped",))}),
        ("binary-fixed-cast-warning-sample-weight", bceg,
         _binary_problem(bce, (3, 3), seed=783, dtype=f32),
         {"sample_weight": Arr(np.array([1e300, 1.0, 0.0]))}),
        ("binary-sw-list-array-like", sbceg, _binary_problem(sbce, (3, 2), seed=784),
         {"sample_weight": Arr(np.array([1.0, 0.0, 2.0]), ("list",)),
          "weight": Arr(np.array([0.5, 2.0]), ("array_like",))}),
        ("binary-sw-strided-reversed", bceg, _binary_problem(bce, (5, 2, 2), seed=785),
         {"sample_weight": _with_specials(5, 786, {2: 0.0}, ops=("strided", "reversed")),
          "pos_weight": Arr(np.array([1.0, 3.0]))}),
        ("binary-sw-with-every-option", sbceg, _binary_problem(sbce, (4, 3, 2), seed=787, soft=True),
         {"sample_weight": _with_specials(4, 788, {1: 0.0, 3: -1.0}, 0, 2),
          "weight": _with_specials((3, 1), 789, {0: 0.0}),
          "pos_weight": _with_specials((2,), 790, {1: np.inf}), "label_smoothing": 0.2,
          "reduction": "mean"}),
        ("binary-sw-subnormal-and-huge", bceg, _binary_problem(bce, (3, 2), seed=791),
         {"sample_weight": Arr(np.array([1e-310, 1e300, 1.0])), "reduction": "sum"}),
        ("binary-sw-huge-times-huge-weight", sbceg, _binary_problem(sbce, (3, 2), seed=792),
         {"sample_weight": Arr(np.array([1e300, 1e300, 1.0])),
          "weight": Arr(np.array([1e10, 1.0]))}),
    ]
    # -- half precision (bfloat16 in ml_dtypes_binary_corpus) --
    for k, name in enumerate(BINARY):
        kw = {"reduction": REDUCTIONS[k % 3]}
        if name.endswith("_and_grad"):
            kw["out"] = _out((4, 5), f16, ("fortran",) if k % 2 else ())
        entries.append((f"binary-float16-{name}", name,
                        _binary_problem(name, (4, 5), seed=800 + k, dtype=f16), kw))
        entries.append((f"binary-float16-swapped-options-{name}", name,
                        _binary_problem(name, (4, 5), seed=804 + k, dtype=f16, ops=("swapped",),
                                        soft=True, tdtype=f16),
                        {"sample_weight": _with_specials(4, 808 + k, {1: 0.0}, dtype=f16),
                         "weight": _with_specials(5, 812 + k, {0: -1.0}, dtype=f16),
                         "pos_weight": Arr(np.array(2.0, f16)), "label_smoothing": 0.05}))
    entries += [
        # -1 / (0 + 1e-7) is beyond float16's range: -inf in the gradient
        ("binary-float16-grad-overflows", bceg,
         [Arr(np.array([[0.0, 1.0], [0.5, 0.5]], f16)), Arr(np.array([[1.0, 0.0], [1.0, 0.0]]))],
         {"reduction": "sum"}),
        # gradients of 1 / N on 700 elements: float16 subnormals
        ("binary-float16-grad-subnormal", sbceg,
         _binary_problem(sbce, (700,), seed=816, dtype=f16), {}),
        ("binary-float16-extremes", sbceg,
         [Arr(np.array([65504.0, -65504.0, np.inf, -np.inf, np.nan, 6e-8, 0.0], f16)),
          Arr(np.array([0.0, 1.0, 1.0, 1.0, 0.0, 0.5, 1.0]))], {"reduction": "none"}),
        ("binary-float16-out-unaligned-strided", bceg,
         _binary_problem(bce, (5, 3), seed=817, dtype=f16, ops=("unaligned", "strided")),
         {"out": _out((5, 3), f16, ("reversed",))}),
        ("binary-float16-list-is-float64", sbceg,
         [Arr(np.array([[0.25, -0.75]], f16), ("list",)), Arr(np.array([[1, 0]]))], {}),
        ("binary-float16-0d", bceg, [Arr(np.array(0.3, f16)), Arr(np.array(True))],
         {"reduction": "none"}),
    ]
    # -- layouts of every argument --
    entries += [
        ("binary-fortran", sbceg, _binary_problem(sbce, (3, 4, 5), seed=820, ops=("fortran",),
                                                  tops=("fortran",)),
         {"out": _out((3, 4, 5), np.float64, ("fortran",))}),
        ("binary-strided3-reversed", bceg,
         _binary_problem(bce, (3, 4, 5), seed=821, ops=("strided3", "reversed"),
                         tops=("reversed",)), {"reduction": "none"}),
        ("binary-swapped-unaligned", sbceg,
         _binary_problem(sbce, (4, 6), seed=822, ops=("swapped", "unaligned"),
                         tops=("swapped", "unaligned"), tdtype=np.int32),
         {"weight": _with_specials(6, 823, {}, ops=("swapped", "unaligned")),
          "sample_weight": _with_specials(4, 824, {1: 0.0}, ops=("swapped", "unaligned"))}),
        ("binary-stride-0-pred-and-target", sbceg,
         _binary_problem(sbce, (300, 3), seed=825, ops=("broadcast",), tops=("broadcast",)),
         {"n_threads": 3}),
        ("binary-channels-last-memory", bceg,
         _binary_problem(bce, (2, 3, 4, 4), seed=826, ops=("channels_last_memory",)),
         {"out": _out((2, 3, 4, 4), np.float64, ("channels_last_memory",)),
          "pos_weight": Arr(np.array([1.0, 2.0, 3.0]).reshape(3, 1, 1))}),
        ("binary-column-view", sbce, _binary_problem(sbce, (5, 3), seed=827, ops=("column_view",),
                                                     tops=("column_view",)),
         {"reduction": "none"}),
        ("binary-float32-fortran-out-strided", sbceg,
         _binary_problem(sbce, (3, 4, 5), seed=828, dtype=f32, ops=("fortran",)),
         {"out": _out((3, 4, 5), f32, ("strided",)), "reduction": "sum"}),
        ("binary-float32-readonly-strided", bceg,
         _binary_problem(bce, (6, 7), seed=829, dtype=f32, ops=("readonly", "strided")),
         {"weight": Arr(np.linspace(0.5, 2.0, 7, dtype=f32), ("reversed",))}),
        ("binary-out-is-pred", bceg, _binary_problem(bce, (3, 4), seed=830),
         {"out": "ALIAS_PRED"}),
        ("binary-out-is-target", sbceg, _binary_problem(sbce, (3, 4), seed=831, soft=True),
         {"out": "ALIAS_TARGET"}),
        ("binary-out-nan-filled-reversed", sbceg, _binary_problem(sbce, (3, 4), seed=832),
         {"out": _out((3, 4), np.float64, ("reversed",), fill=math.nan), "reduction": "none"}),
        ("binary-matrix-masked", bce, _binary_problem(bce, (3, 4), seed=833, ops=("matrix",),
                                                      tops=("masked",)), {"reduction": "none"}),
        ("binary-list-array-like", sbceg, _binary_problem(sbce, (2, 3), seed=834, ops=("list",),
                                                          tops=("array_like",)), {}),
        ("binary-python-scalars", bceg, [0.25, 1], {"reduction": "none"}),
        ("binary-int-and-bool-pred", bceg, [Arr(np.array([[0, 1], [1, 0]], np.int8)),
                                            Arr(np.array([[True, False], [True, True]]))],
         {"eps": 0.0}),
        ("binary-uint64-logits", sbceg, [Arr(np.array([0, 2 ** 64 - 1], np.uint64)),
                                         Arr(np.array([1.0, 0.0]))], {"reduction": "none"}),
    ]
    # -- the special values of each kernel path --
    xs = np.array([1e4, -1e4, 700.0, -700.0, 700.5, -701.0, 745.0, -746.0, 1e308, -1e308,
                   np.inf, -np.inf, np.nan, 0.0, -0.0, 5e-324, 36.0, -36.0, 709.8, -709.8])
    ts = np.array([0.0, 1.0, 0.5, 0.5, 1.0, 0.0, 0.3, 0.7, 0.0, 1.0,
                   1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 1.0, 0.0, 0.25, 0.75])
    ps = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-310, 5e-324, 1 - 2 ** -53, 2 ** -1022, np.nan,
                   -0.0, 1.5, -0.5, np.inf, -np.inf, 1e-300, 0.0, 1.0, 0.999, 1e-7])
    pts = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 1.0, 1.0, 1.0, 0.5, 1.0,
                    0.0, 0.0, 1.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.0, 1.0])
    for dt in (np.float64, f32):
        dn = np.dtype(dt).name
        with np.errstate(over="ignore"):      # +-1e308 to float32: +-inf
            x_dt, p_dt = xs.astype(dt), ps.astype(dt)
        for red in REDUCTIONS:
            entries.append((f"binary-extreme-logits-{dn}-{red}", sbceg,
                            [Arr(x_dt), Arr(ts)], {"reduction": red}))
            entries.append((f"binary-extreme-probs-eps0-{dn}-{red}", bceg,
                            [Arr(p_dt), Arr(pts)], {"reduction": red, "eps": 0.0}))
        entries.append((f"binary-extreme-logits-weighted-{dn}", sbceg,
                        [Arr(x_dt), Arr(ts)],
                        {"reduction": "none", "pos_weight": Arr(np.linspace(0.0, 3.0, 20)),
                         "weight": _with_specials(20, 840, {3: 0.0, 5: -1.0}),
                         "label_smoothing": 0.1}))
        entries.append((f"binary-extreme-probs-default-eps-{dn}", bceg,
                        [Arr(p_dt), Arr(pts)], {"reduction": "none"}))
    entries += [
        ("binary-logits-1e4-float32-mean", sbce,
         [Arr(np.array([1e4, -1e4, 1e4, -1e4], f32)), Arr(np.array([0.0, 1.0, 1.0, 0.0]))], {}),
        ("binary-probs-0-1-hard-targets-eps0", bceg,
         [Arr(np.array([[0.0, 1.0, 0.0, 1.0]])), Arr(np.array([[0.0, 1.0, 0.0, 1.0]]))],
         {"eps": 0.0, "reduction": "none"}),
        ("binary-probs-0-soft-target-eps0", bceg,
         [Arr(np.array([0.0, 1.0])), Arr(np.array([0.5, 0.5]))], {"eps": 0.0}),
        ("binary-probs-0-1-smoothing-eps0", bceg,
         [Arr(np.array([0.0, 1.0])), Arr(np.array([1.0, 0.0]))],
         {"eps": 0.0, "label_smoothing": 0.1, "reduction": "none"}),
        ("binary-smoothing-1", sbceg, _binary_problem(sbce, (3, 3), seed=841),
         {"label_smoothing": 1.0}),
        ("binary-eps-inf", bceg, _binary_problem(bce, (2, 3), seed=842, soft=True),
         {"eps": math.inf, "reduction": "none"}),
        ("binary-eps-large", bce, _binary_problem(bce, (2, 3), seed=843, soft=True),
         {"eps": 1.0}),
        ("binary-eps-fraction-numpy-int", bce, _binary_problem(bce, (2, 3), seed=844),
         {"eps": Fraction(1, 10), "label_smoothing": np.float32(0.1)}),
        ("binary-targets-outside-0-1-nan-inf", sbceg,
         [Arr(np.linspace(-3, 3, 8)), Arr(np.array([-1.0, 2.0, np.nan, np.inf, -np.inf, 1.5,
                                                    -0.25, 1e300]))], {"reduction": "none"}),
        ("binary-targets-outside-0-1-probs", bceg,
         [Arr(np.linspace(0.1, 0.9, 6)), Arr(np.array([-1.0, 2.0, np.nan, 1.5, -0.25, 3.0]))],
         {"reduction": "sum"}),
        ("binary-int-targets-extremes", sbce,
         [Arr(np.zeros(4)), Arr(np.array([-128, 127, 0, 1], np.int8))], {"reduction": "none"}),
        ("binary-soft-target-probability-1", bceg,
         [Arr(np.array([1.0, 1.0 - 2 ** -53, 2 ** -53])), Arr(np.array([0.5, 0.25, 0.75]))],
         {"eps": 0.0, "reduction": "none"}),
        ("binary-tiny-probability-small-coefficient", bceg,
         [Arr(np.array([1e-310, 1e-320])), Arr(np.array([1e-5, 1e-10]))],
         {"eps": 0.0, "reduction": "sum"}),
        ("binary-pos-weight-negative-and-huge", sbceg, _binary_problem(sbce, (4, 3), seed=845,
                                                                       soft=True),
         {"pos_weight": Arr(np.array([-2.0, 1e300, 1e-300]))}),
    ]
    # -- blocks of 256 elements, threads, empty and one-element inputs --
    big = _binary_values(sbce, (3, 300, 2), 850)
    big.reshape(-1)[[7, 256, 511, 1799]] = [np.nan, np.inf, -800.0, 1e4]
    entries += [
        ("binary-across-blocks-threads", sbceg,
         [Arr(big), Arr(np.random.default_rng(851).uniform(0, 1, (3, 300, 2)))],
         {"n_threads": 3, "reduction": "none", "pos_weight": Arr(np.linspace(0.5, 2, 2))}),
        ("binary-across-blocks-threads-mean", bceg, _binary_problem(bce, (700,), seed=852),
         {"n_threads": 2, "sample_weight": _with_specials(700, 853, {0: 0.0, 256: -1.0,
                                                                     511: np.nan}, 0, 2)}),
        ("binary-across-blocks-odd", sbce, _binary_problem(sbce, (1030,), seed=854),
         {"n_threads": 8, "reduction": "sum"}),
        ("binary-blocks-of-a-wide-row", bceg, _binary_problem(bce, (1, 2100), seed=855, soft=True),
         {"n_threads": 2, "weight": Arr(np.linspace(0.0, 2.0, 2100))}),
    ]
    for k, shape in enumerate([(0,), (0, 3), (2, 0), (2, 0, 3)]):
        for red in REDUCTIONS:
            name = BINARY[(k + REDUCTIONS.index(red)) % 4]
            kw = {"reduction": red}
            if shape[:1] != (0,) and k % 2:
                kw["sample_weight"] = Arr(np.ones(shape[:1]))
            entries.append((f"binary-empty-{'x'.join(map(str, shape))}-{red}", name,
                            _binary_problem(name, shape, seed=860 + k), kw))
    entries += [
        ("binary-empty-sample-weight", bceg, _binary_problem(bce, (0, 3), seed=865),
         {"sample_weight": Arr(np.zeros(0))}),
        ("binary-one-element", sbceg, _binary_problem(sbce, (1,), seed=866),
         {"sample_weight": Arr(np.array([2.0]))}),
    ]
    # -- errors, then the order of the checks: pred, eps, reduction,
    # n_threads, label_smoothing, target, weight, pos_weight,
    # sample_weight, out --
    p = _binary_problem(bce, (2, 3), seed=870)
    x = _binary_problem(sbce, (2, 3), seed=871)
    cplx = Arr(np.full((2, 3), 0.5, np.complex128))
    entries += [
        ("binary-pred-complex", bce, [cplx, p[1]], {}),
        ("binary-pred-object", sbceg, [Arr(np.array([[0.5, None]], object)), Arr(np.ones((1, 2)))],
         {}),
        ("binary-pred-str", sbce, [Arr(np.array(["a", "b"])), Arr(np.ones(2))], {}),
        ("binary-pred-datetime", bceg, [Arr(np.array(["2020-01-01"], "M8[D]")), Arr(np.ones(1))],
         {}),
        ("binary-pred-timedelta", sbce, [Arr(np.array([1, 2], "m8[s]")), Arr(np.ones(2))], {}),
        ("binary-pred-structured", bce, [Arr(np.zeros(2, [("a", "<f8")])), Arr(np.ones(2))], {}),
        ("binary-pred-opaque-two-byte", sbceg, [Arr(np.zeros((2, 3), "V2")), x[1]], {}),
        ("binary-pred-junk", bce, [Junk(), 1.0], {}),
        ("binary-pred-none", sbce, [None, 1.0], {}),
        ("binary-pred-ragged-list", bce, [[[0.5, 0.5], [0.5]], [[1.0, 0.0], [1.0]]], {}),
        ("binary-eps-negative", bce, p, {"eps": -1e-9}),
        ("binary-eps-nan", bceg, p, {"eps": math.nan}),
        ("binary-eps-str", bce, p, {"eps": "1e-7"}),
        ("binary-eps-none", bceg, p, {"eps": None}),
        ("binary-eps-0d-array", bce, p, {"eps": np.array(1e-7)}),
        ("binary-eps-complex", bce, p, {"eps": np.complex128(0.1)}),
        ("binary-eps-of-logits", sbce, x, {"eps": 1e-7}),
        ("binary-reduction-bad", sbce, x, {"reduction": "avg"}),
        ("binary-reduction-numpy-str", bce, p, {"reduction": np.str_("sum")}),
        ("binary-reduction-none-object", sbceg, x, {"reduction": None}),
        ("binary-n-threads-zero", bce, p, {"n_threads": 0}),
        ("binary-n-threads-bool", sbceg, x, {"n_threads": True}),
        ("binary-n-threads-float", bce, p, {"n_threads": 2.0}),
        ("binary-n-threads-huge", sbce, x, {"n_threads": 2 ** 70}),
        ("binary-n-threads-numpy-int", bceg, p, {"n_threads": np.int32(2)}),
        ("binary-smoothing-above-1", sbce, x, {"label_smoothing": 1.5}),
        ("binary-smoothing-negative", bceg, p, {"label_smoothing": -0.1}),
        ("binary-smoothing-nan", sbce, x, {"label_smoothing": math.nan}),
        ("binary-smoothing-str", bce, p, {"label_smoothing": "0.1"}),
        ("binary-smoothing-0d-array", sbceg, x, {"label_smoothing": np.array(0.1)}),
        ("binary-target-complex", bce, [p[0], Arr(np.ones((2, 3), np.complex64))], {}),
        ("binary-target-object", sbce, [x[0], Arr(np.ones((2, 3), object))], {}),
        ("binary-target-float8-like-v2", bceg, [p[0], Arr(np.zeros((2, 3), "V2"))], {}),
        ("binary-target-shape-transposed", sbceg, [x[0], Arr(np.ones((3, 2)))], {}),
        ("binary-target-shape-last-axis", bce, [p[0], Arr(np.ones(3))], {}),
        ("binary-target-shape-extra-axis", sbce, [x[0], Arr(np.ones((2, 3, 1)))], {}),
        ("binary-target-shape-leading-one", bceg, [p[0], Arr(np.ones((1, 2, 3)))], {}),
        ("binary-target-python-scalar-of-a-batch", sbce, [x[0], 1.0], {}),
        ("binary-target-0d-of-a-batch", bce, [p[0], Arr(np.array(1.0))], {}),
        ("binary-target-of-0d-pred", sbce, [Arr(np.array(0.5)), Arr(np.ones(1))], {}),
        ("binary-target-none", bce, [p[0], None], {}),
        ("binary-weight-complex", sbce, x, {"weight": Arr(np.ones(3, np.complex128))}),
        ("binary-weight-str", bceg, p, {"weight": "1"}),
        ("binary-weight-object", bce, p, {"weight": Arr(np.array([1.0, None, 2.0], object))}),
        ("binary-weight-first-axis", sbceg, x, {"weight": Arr(np.ones(2))}),
        ("binary-weight-too-long", bce, p, {"weight": Arr(np.ones(4))}),
        ("binary-weight-extra-leading-axis", sbce, x, {"weight": Arr(np.ones((1, 2, 3)))}),
        ("binary-weight-of-target-shape-transposed", bceg, p, {"weight": Arr(np.ones((3, 2)))}),
        ("binary-weight-junk", sbce, x, {"weight": Junk()}),
        ("binary-pos-weight-complex", bce, p, {"pos_weight": 1j}),
        ("binary-pos-weight-timedelta", sbceg, x,
         {"pos_weight": Arr(np.array([1, 2, 3], "m8[s]"))}),
        ("binary-pos-weight-bad-shape", bce, p, {"pos_weight": Arr(np.ones((2, 1, 3)))}),
        ("binary-pos-weight-per-channel-of-2d", sbce, x,
         {"pos_weight": Arr(np.ones((3, 1, 1)))}),
        ("binary-sample-weight-of-preds-shape", bceg, p, {"sample_weight": Arr(np.ones((2, 3)))}),
        ("binary-sample-weight-n-by-1", sbce, x, {"sample_weight": Arr(np.ones((2, 1)))}),
        ("binary-sample-weight-n-plus-1", bce, p, {"sample_weight": Arr(np.ones(3))}),
        ("binary-sample-weight-last-axis", sbceg, x, {"sample_weight": Arr(np.ones(3))}),
        ("binary-sample-weight-python-float-of-a-batch", bce, p, {"sample_weight": 1.0}),
        ("binary-sample-weight-1-of-0d-pred", sbce, [Arr(np.array(0.5)), Arr(np.array(1.0))],
         {"sample_weight": Arr(np.ones(1))}),
        ("binary-sample-weight-complex", bceg, p,
         {"sample_weight": Arr(np.ones(2, np.complex128))}),
        ("binary-sample-weight-str", sbce, x, {"sample_weight": Arr(np.array(["1", "2"]))}),
        ("binary-sample-weight-junk", bce, p, {"sample_weight": Junk()}),
        ("binary-out-list", bceg, p, {"out": [[0.0] * 3] * 2}),
        ("binary-out-float32", sbceg, x, {"out": Arr(np.zeros((2, 3), f32))}),
        ("binary-out-int", bceg, p, {"out": Arr(np.zeros((2, 3), np.int64))}),
        ("binary-out-swapped", sbceg, x, {"out": Arr(np.zeros((2, 3)), ("swapped",))}),
        ("binary-out-unaligned", bceg, p, {"out": Arr(np.zeros((2, 3)), ("unaligned",))}),
        ("binary-out-shape", sbceg, x, {"out": Arr(np.zeros((3, 2)))}),
        ("binary-out-0d-of-a-batch", bceg, p, {"out": Arr(np.zeros(()))}),
        ("binary-out-readonly", sbceg, x, {"out": Arr(np.zeros((2, 3)), ("readonly",))}),
        ("binary-out-stride-0", bceg, p, {"out": Arr(np.zeros((2, 3)), ("broadcast",))}),
        ("binary-out-matrix", sbceg, x, {"out": Arr(np.zeros((2, 3)), ("matrix",))}),
        ("binary-out-of-a-loss-function", sbce, x, {"out": Arr(np.zeros((2, 3)))}),
        ("binary-out-float16-of-float32-pred", bceg,
         [Arr(np.full((2, 3), 0.5, f32)), p[1]], {"out": Arr(np.zeros((2, 3), f16))}),
        ("binary-out-float32-of-float16-pred", sbceg,
         [Arr(np.zeros((2, 3), f16)), x[1]], {"out": Arr(np.zeros((2, 3), f32))}),
        ("binary-unknown-axis", sbce, x, {"axis": -1}),
        ("binary-unknown-ignore-index", bce, p, {"ignore_index": -100}),
        ("binary-unknown-pos-weights", sbceg, x, {"pos_weights": 2.0}),
        ("binary-order-pred-before-eps", bce, [cplx, p[1]], {"eps": -1.0}),
        ("binary-order-eps-type-before-reduction", bce, p, {"eps": "x", "reduction": "avg"}),
        ("binary-order-eps-before-reduction", bceg, p, {"eps": -1.0, "reduction": "avg"}),
        ("binary-order-reduction-before-n-threads", sbce, x,
         {"reduction": "avg", "n_threads": 0}),
        ("binary-order-n-threads-before-smoothing", bce, p,
         {"n_threads": 0, "label_smoothing": "x"}),
        ("binary-order-smoothing-before-target", sbceg, [x[0], Arr(np.ones((2, 3), np.complex64))],
         {"label_smoothing": 2.0}),
        ("binary-order-smoothing-before-target-shape", bce, [p[0], Arr(np.ones(3))],
         {"label_smoothing": 2.0}),
        ("binary-order-target-before-weight", sbce, [x[0], Arr(np.ones(3))],
         {"weight": Arr(np.ones(3, np.complex64))}),
        ("binary-order-target-dtype-before-weight-shape", bceg,
         [p[0], Arr(np.ones((2, 3), np.complex64))], {"weight": Arr(np.ones(4))}),
        ("binary-order-weight-before-pos-weight", sbceg, x,
         {"weight": Arr(np.ones(4)), "pos_weight": Arr(np.ones(3, np.complex64))}),
        ("binary-order-weight-dtype-before-pos-weight-shape", bce, p,
         {"weight": Arr(np.ones(3, np.complex64)), "pos_weight": Arr(np.ones(4))}),
        ("binary-order-pos-weight-before-sample-weight", sbce, x,
         {"pos_weight": Arr(np.ones(4)), "sample_weight": Arr(np.ones(2, np.complex64))}),
        ("binary-order-pos-weight-dtype-before-sample-weight", bceg, p,
         {"pos_weight": "x", "sample_weight": Arr(np.ones(5))}),
        ("binary-order-sample-weight-before-out", sbceg, x,
         {"sample_weight": Arr(np.ones(3)), "out": Arr(np.zeros((2, 3), f32))}),
        ("binary-order-sample-weight-dtype-before-out", bceg, p,
         {"sample_weight": Arr(np.ones(2, np.complex64)), "out": Arr(np.zeros((2, 3)),
                                                                     ("readonly",))}),
        ("binary-order-out-type-before-shape", sbceg, x, {"out": Arr(np.zeros((3, 3), f32))}),
    ]
    # -- discrepancies found and fixed: subnormal and huge divisors, casts that warned --
    entries += [
        ("binary-fixed-subnormal-divisor-grad", bceg,
         [Arr(np.array([0.3, 0.6])), Arr(np.array([1.0, 0.0]))],
         {"sample_weight": Arr(np.array([1e-310, 1e-310]))}),
        ("binary-fixed-subnormal-divisor-sigmoid-grad", sbceg,
         [Arr(np.array([[0.3], [2.0]])), Arr(np.array([[1.0], [0.0]]))],
         {"sample_weight": Arr(np.array([1e-315, 0.0]))}),
        ("binary-fixed-cast-warning-target", sbce,
         [Arr(np.zeros(2, f32)), Arr(np.array([1e300, 0.0]))], {}),
        ("binary-fixed-huge-sample-weight-small-grad", sbceg,
         [Arr(np.array([-40.0, 0.0])), Arr(np.array([0.0, 0.0]))],
         {"sample_weight": Arr(np.array([1e300, 1.0]))}),
    ]
    return entries


def ml_dtypes_binary_corpus():
    """The binary cross-entropies' bfloat16 and float8 examples (ml_dtypes
    only)."""
    try:
        import ml_dtypes
    except ImportError:
        return []
    bf16 = np.dtype(ml_dtypes.bfloat16)
    f8 = np.dtype(ml_dtypes.float8_e4m3fn)
    entries = []
    for k, name in enumerate(BINARY):
        kw = {"reduction": REDUCTIONS[k % 3]}
        if name.endswith("_and_grad"):
            kw["out"] = _out((4, 5), bf16, ("strided",) if k % 2 else ())
        entries.append((f"binary-bfloat16-{name}", name,
                        _binary_problem(name, (4, 5), seed=900 + k, dtype=bf16, soft=k == 1), kw))
    x = Arr(_binary_values("sigmoid", (2, 3), 910, bf16))
    p = Arr(_binary_values("binary", (2, 3), 911, bf16))
    t = Arr(np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 1.0]]))
    entries += [
        ("binary-bfloat16-options", "sigmoid_binary_cross_entropy_and_grad",
         _binary_problem("sigmoid", (3, 2, 4), seed=912, dtype=bf16, soft=True, tdtype=bf16),
         {"weight": Arr(np.linspace(0.5, 2.0, 4), ()), "pos_weight": Arr(np.ones((2, 1), bf16)),
          "sample_weight": Arr(np.array([0.0, -1.0, np.nan], bf16)), "label_smoothing": 0.1}),
        ("binary-bfloat16-extremes", "sigmoid_binary_cross_entropy_and_grad",
         [Arr(np.array([3e38, -3e38, np.inf, np.nan, 1e-40, 800.0], bf16)),
          Arr(np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.0]))], {"reduction": "none"}),
        ("binary-bfloat16-probs-eps0", "binary_cross_entropy_and_grad",
         [Arr(np.array([0.0, 1.0, 1e-30, 0.5], bf16)), Arr(np.array([0.0, 1.0, 1.0, 0.5]))],
         {"eps": 0.0, "reduction": "sum"}),
        ("binary-bfloat16-0d", "binary_cross_entropy", [Arr(np.array(0.5, bf16)), 1.0], {}),
        ("binary-bfloat16-weight-of-float64-pred", "sigmoid_binary_cross_entropy",
         [Arr(_binary_values("sigmoid", (2, 3), 913)), t],
         {"weight": Arr(np.ones(3, bf16)), "sample_weight": Arr(np.array([0.1, 3.0], bf16))}),
        ("binary-bfloat16-out-float16", "sigmoid_binary_cross_entropy_and_grad", [x, t],
         {"out": Arr(np.zeros((2, 3), np.float16))}),
        ("binary-float16-out-bfloat16", "binary_cross_entropy_and_grad",
         [Arr(_binary_values("binary", (2, 3), 914, np.float16)), t],
         {"out": Arr(np.zeros((2, 3), bf16))}),
        ("binary-bfloat16-array-like-target", "binary_cross_entropy", [p, Arr(np.ones((2, 3), bf16),
                                                                            ("array_like",))], {}),
        ("binary-float8-pred", "sigmoid_binary_cross_entropy", [Arr(np.zeros((2, 3), f8)), t], {}),
        ("binary-float8-pred-before-eps", "binary_cross_entropy",
         [Arr(np.zeros((2, 3), f8)), t], {"eps": -1.0}),
        ("binary-float8-target", "binary_cross_entropy_and_grad", [p, Arr(np.zeros((2, 3), f8))],
         {}),
        ("binary-float8-weight", "sigmoid_binary_cross_entropy", [x, t],
         {"weight": Arr(np.ones(3, f8))}),
        ("binary-float8-pos-weight", "binary_cross_entropy", [p, t],
         {"pos_weight": Arr(np.ones((2, 3), f8))}),
        ("binary-float8-sample-weight", "sigmoid_binary_cross_entropy_and_grad", [x, t],
         {"sample_weight": Arr(np.ones(2, f8))}),
    ]
    return entries


def all_corpus():
    """corpus() and the examples that need ml_dtypes, then the binary
    cross-entropies' examples."""
    return corpus() + ml_dtypes_corpus() + binary_corpus() + ml_dtypes_binary_corpus()


def corpus_params():
    """all_corpus() as test parameters, OPEN_BINARY_BUGS strict expected failures."""
    return [pytest.param(c, id=c[0], marks=pytest.mark.xfail(strict=True,
                                                              reason=OPEN_BINARY_BUGS[c[0]]))
            if c[0] in OPEN_BINARY_BUGS else pytest.param(c, id=c[0]) for c in all_corpus()]


CORPUS_IDS = [c[0] for c in all_corpus()]
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
    try:
        import ml_dtypes
        BF16 = [np.dtype(ml_dtypes.bfloat16)]
        FLOAT8 = [np.dtype(ml_dtypes.float8_e4m3fn), np.dtype(ml_dtypes.float8_e5m2)]
    except ImportError:
        BF16, FLOAT8 = [], []
    # half-precision pred: float32 losses, gradients in the (native) half
    HALF_DTYPES = [np.dtype(np.float16), np.dtype(">f2")] + BF16
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
        if dtype.kind == "f" or _is_half(dtype):       # float8 has kind "f" too
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
        if is_binary(name):
            return "bce" if name.startswith("binary") else "sbce"
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
    def labels(draw, n_shape, c, ignore):
        """Class indices of the positions' shape ``n_shape``: mostly in
        [0, C), plus out-of-range values, the extremes of the dtype and
        ``ignore_index`` collisions."""
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

    def gradient_dtype(dtype):
        """The gradient's dtype: the native half for half input, float32 for
        float32, float64 for every other."""
        dtype = np.dtype(dtype)
        if _is_half(dtype):
            return dtype.newbyteorder("=")
        return dtype if dtype.type is np.float32 else np.dtype(np.float64)

    @st.composite
    def pred_dtype(draw):
        dt = draw(pick((6, st.sampled_from(FLOAT_DTYPES)), (1, st.sampled_from(OTHER_REAL)),
                       (1, st.sampled_from(HALF_DTYPES))))
        return dt

    @st.composite
    def loss_shape(draw):
        """(shape, ax, axis): pred's shape, its class axis in [0, ndim) and
        the ``axis`` argument (None: not passed). Mostly the (N, C) and (C,)
        shapes of pred_shape; also ranks 1-5 with the classes on any axis,
        transposed (C, N) batches and channels-first (N, C, H, W) batches."""
        how = draw(st.integers(0, 7))
        if how < 5:
            shape, _ = draw(pred_shape())
            ax = len(shape) - 1
            if how == 4 and len(shape) == 2 and shape[1] <= 300:
                return shape[::-1], 0, draw(st.sampled_from([0, -2, np.int64(0)]))
            return shape, ax, draw(st.sampled_from([None, None, None, -1, ax, np.intp(-1)]))
        if how == 5:
            n, c = draw(st.integers(0, 3)), draw(st.integers(1, 4))
            hw = draw(st.sampled_from([(16, 16), (3, 5), (8, 32), (1, 1)]))
            return (n, c) + hw, 1, draw(st.sampled_from([1, -3, np.int32(1)]))
        rank = draw(st.integers(1, 5))
        ax = draw(st.integers(0, rank - 1))
        c = draw(pick((6, st.integers(1, 6)), (1, st.sampled_from([1, 33, 300]))))
        hi = 4 if c <= 6 else 2
        dims = [c if i == ax else draw(pick((8, st.integers(1, hi)), (1, st.just(0))))
                for i in range(rank)]
        axis = draw(st.sampled_from([ax, ax - rank, np.int64(ax), np.int8(ax - rank)]))
        return tuple(dims), ax, axis

    WEIGHT_DTYPES = ([np.dtype(np.float64)] * 3 + [np.dtype(np.float32)] + HALF_DTYPES
                     + [np.dtype(np.int64), np.dtype(np.uint8), np.dtype(bool)])

    @st.composite
    def odd_weights(draw, shape, high, odd_values, shift):
        """Weights of ``shape``: in [0, high), with a few of ``odd_values``
        (or all zero, or ``shift`` subtracted for both signs); of every real
        dtype (halves included), in any layout; a Python or NumPy scalar
        for shape ()."""
        dt = draw(st.sampled_from(WEIGHT_DTYPES))
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        w = rng.uniform(0.0, high, shape)
        mode = draw(st.integers(0, 5))
        if mode <= 1 and w.size:
            k = draw(st.integers(1, min(w.size, 4)))
            pos = draw(st.lists(st.integers(0, w.size - 1), min_size=k, max_size=k))
            w.reshape(-1)[pos] = draw(st.lists(st.sampled_from(odd_values),
                                               min_size=k, max_size=k))
        elif mode == 2:
            w[...] = 0.0
        elif mode == 3:
            w -= shift                               # both signs
        with np.errstate(all="ignore"):
            base = w.astype(dt)
        if shape == () and draw(st.integers(0, 2)) == 0:
            with np.errstate(over="ignore"):          # np.float32(1e300): inf
                return draw(st.sampled_from([float, np.float64, np.float32]))(
                    base.astype(np.float64))
        return Arr(base, draw(layout_ops(["readonly", "reversed", "strided", "swapped",
                                          "unaligned", "broadcast", "fortran", "list",
                                          "array_like"])))

    @st.composite
    def sample_weights(draw, n_shape):
        """Sample weights of the positions' shape: in [0, 2), with zeros,
        negative values, NaN, infinities, subnormals and huge values; of
        every real dtype (halves included), in any layout; a Python float for
        one sample."""
        return draw(odd_weights(n_shape, 2.0, [
            0.0, -0.0, -1.0, -0.5, math.nan, math.inf, -math.inf, 1e-310, 5e-324, 1e-300,
            1e300, 65504.0, 1e38, 3.5e38], 1.0))

    @st.composite
    def valid_case(draw, name):
        """A call that the functions accept (labels may still be out of range)."""
        if is_binary(name):
            return draw(binary_valid_case(name))
        fam = family(name)
        grad = name.endswith("_and_grad")
        shape, ax, axis = draw(loss_shape())
        c = shape[ax]
        n_shape = shape[:ax] + shape[ax + 1:]
        pdt = draw(pred_dtype())
        kind = {"ce": "probs", "sce": "logits", "mse": "any"}[fam]
        pred = draw(arr(pdt, shape, kind, allow=LAYOUTS + ["matrix", "masked", "list",
                                                            "array_like"]))
        if isinstance(pred.base, np.ndarray) and pred.base.size > 20000:
            pred.ops = tuple(o for o in pred.ops if o != "list")
        kw = {}
        if axis is not None:
            kw["axis"] = axis
        if draw(st.booleans()):
            kw["reduction"] = draw(st.sampled_from(["mean", "sum", "none"]))
        if draw(st.integers(0, 2)) == 0:
            kw["n_threads"] = draw(st.sampled_from([None, 1, 2, 3, 8, np.int32(2), 2 ** 40]))
        if fam == "mse":
            tdt = draw(st.sampled_from(FLOAT_DTYPES + OTHER_REAL + BF16))
            target = draw(arr(tdt, shape, "any", allow=LAYOUTS + ["list"]))
        else:
            dense = draw(st.integers(0, 2)) == 0
            if dense:
                tdt = draw(st.sampled_from(FLOAT_DTYPES + [np.dtype(np.float16),
                                                           np.dtype(bool)] + BF16))
                soft = draw(st.booleans())
                vals = draw(float_values(np.float64, shape, "probs"))
                if not soft:
                    hot = np.zeros(n_shape + (c,))        # the class axis last, then moved
                    flat = hot.reshape(-1, c)
                    idx = np.random.default_rng(draw(st.integers(0, 99))).integers(0, c, len(flat))
                    flat[np.arange(len(flat)), idx] = 1.0
                    vals = np.moveaxis(hot, -1, ax)
                with np.errstate(all="ignore"):
                    target = Arr(vals.astype(tdt), draw(layout_ops(LAYOUTS + ["list"])))
                ignore = None
            else:
                ignore = draw(ignore_value(c)) if draw(st.integers(0, 2)) == 0 else None
                target = draw(labels(n_shape, c, ignore))
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
        if draw(st.integers(0, 3)) == 0:
            kw["sample_weight"] = draw(sample_weights(n_shape))
        if grad and draw(st.integers(0, 2)) == 0:
            gdt = gradient_dtype(np.asarray(pred.build()).dtype)
            fill = draw(st.sampled_from([0.0, math.nan, 7.0]))
            kw["out"] = Arr(np.full(shape, fill, gdt),
                            draw(layout_ops(["fortran", "reversed", "strided", "column_view",
                                             "channels_last_memory"], max_ops=1)))
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
        """A value of ``key`` that is outside the functions' domain or on its
        edge; ``case_kw["_ax"]`` is pred's class axis, in [0, ndim)."""
        if is_binary(name):
            return draw(binary_odd_value(key, name, shape, case_kw))
        ax = case_kw.get("_ax", len(shape) - 1)
        c = shape[ax]
        n_shape = shape[:ax] + shape[ax + 1:]
        moved = n_shape + (c,)            # pred's shape with the class axis last
        if key == "pred":
            return draw(st.one_of(
                junk_array(shape),
                # float8 and opaque two-byte dtypes; a half pred of another rank
                st.sampled_from(FLOAT8 + [np.dtype("V2")]).map(lambda d: Arr(np.zeros(shape, d))),
                st.sampled_from(HALF_DTYPES).map(lambda d: Arr(np.ones(moved, d)))))
        if key == "axis":
            nd = len(shape)
            return draw(st.one_of(
                junk_common(),
                st.integers(-nd, nd - 1),         # another valid axis: shapes disagree
                st.sampled_from([nd, -nd - 1, nd + 3, 2 ** 31, -2 ** 31 - 1, 2 ** 32 + ax,
                                 2 ** 63, -2 ** 63 - 1, 2 ** 64 + ax, np.uint64(2 ** 64 - 1),
                                 np.int64(-2 ** 63), np.uint8(nd), 1.0, -1.0, float(ax), "0",
                                 "-1", None, True, False, np.bool_(True), np.float64(ax),
                                 np.array(ax), np.array([ax]), [ax], (ax,), 1j,
                                 Fraction(ax, 1), Decimal(ax)])))
        if key == "sample_weight":
            wrong = [n_shape + (1,), (1,) + n_shape, shape]
            if n_shape:
                wrong += [(n_shape[0] + 1,) + n_shape[1:], ()]
                if len(n_shape) > 1:
                    wrong += [n_shape[::-1], (int(np.prod(n_shape)),)]
            else:
                wrong += [(1,), (0,)]
            return draw(st.one_of(
                st.sampled_from(wrong).flatmap(lambda s2: st.sampled_from(
                    FLOAT_DTYPES + OTHER_REAL + HALF_DTYPES).flatmap(
                        lambda d: arr(d, s2, allow=["fortran", "strided", "swapped", "list"]))),
                st.sampled_from(NON_REAL + FLOAT8).flatmap(
                    lambda d: arr(d, n_shape, allow=["fortran", "reversed", "strided", "swapped"])),
                st.builds(lambda: HasArray(np.ones(n_shape))),
                st.builds(lambda: Arr(np.full(n_shape, 2 ** 64 - 1, np.uint64))),
                st.builds(lambda: Arr(np.full(n_shape, -1e300), ("swapped",))),
                junk_common(),
                st.sampled_from([1.0, [1.0], "1", np.float64(1.0), np.ones(1)])))
        if key == "target":
            if family(name) == "mse":
                return draw(st.one_of(junk_array(shape),
                                      st.builds(lambda: Arr(np.zeros(moved))),
                                      st.sampled_from(HALF_DTYPES + FLOAT8).map(
                                          lambda d: Arr(np.zeros(shape, d)))))
            return draw(st.one_of(
                junk_array(shape),
                # the positions of the default axis, a dense target with the
                # class axis moved last; half and float8 dense targets
                st.builds(lambda: Arr(np.zeros(shape[:-1], np.int64))),
                st.builds(lambda: Arr(np.full(moved, 1.0 / c))),
                st.sampled_from(HALF_DTYPES + FLOAT8).map(lambda d: Arr(np.zeros(shape, d))),
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
                                  st.sampled_from(HALF_DTYPES + FLOAT8).map(
                                      lambda d: Arr(np.ones(c, d))),
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
                st.sampled_from([np.dtype(np.float32)] + HALF_DTYPES).map(
                    lambda d: Arr(np.zeros(shape, d))),
                st.builds(lambda: Arr(np.empty(moved, cdt))),
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
        if fam in ("bce", "sbce"):
            keys = ["pred", "target", "reduction", "n_threads", "label_smoothing", "weight",
                    "pos_weight", "sample_weight"]
            return keys + (["eps"] if fam == "bce" else []) + (
                ["out"] if name.endswith("_and_grad") else [])
        keys = ["pred", "axis", "target", "reduction", "n_threads", "sample_weight"]
        if fam != "mse":
            keys += ["weight", "ignore_index", "label_smoothing"]
        if fam == "ce":
            keys += ["eps"]
        if name.endswith("_and_grad"):
            keys += ["out"]
        return keys

    def shape_of(pred, kw, name=None):
        """(pred's shape, its class axis in [0, ndim)) of a valid case; a
        binary loss's pred has its shape (0-d included) and no class axis."""
        b = pred.base if isinstance(pred, Arr) else np.asarray(pred)
        if name is not None and is_binary(name):
            return b.shape, None
        shape = b.shape if b.ndim else (1,)
        return shape, int(kw.get("axis", -1)) % len(shape)

    @st.composite
    def odd_case(draw, name):
        """A valid call with one argument replaced by an odd value (or an
        unknown keyword added)."""
        args, kw = draw(valid_case(name))
        shape, ax = shape_of(args[0], kw, name)
        keys = keys_of(name) + ["unknown"]
        key = draw(st.sampled_from(keys))
        cdt = gradient_dtype(np.asarray(args[0].build()).dtype)
        value = draw(odd_value(key, name, shape, {"_cdt": cdt, "_ax": ax}))
        if key == "pred":
            args[0] = value
        elif key == "target":
            args[1] = value
        elif key == "unknown":
            unknown = ["foo", "weights", "dim", "sample_weights", "eps", "out", "ignore_index"]
            if is_binary(name):     # the other losses' keywords, misspellings
                unknown += ["axis", "pos_weights"]
            kw[draw(st.sampled_from(unknown))] = value
        else:
            kw[key] = value
        return args, kw

    @st.composite
    def arbitrary_case(draw, name):
        """Every argument independently valid or odd."""
        args, kw = draw(valid_case(name))
        shape, ax = shape_of(args[0], kw, name)
        cdt = gradient_dtype(np.asarray(args[0].build()).dtype)
        for key in keys_of(name):
            # an odd axis is checked second and decides most calls: rarer
            if draw(st.integers(0, 5 if key == "axis" else 2)) == 0:
                value = draw(odd_value(key, name, shape, {"_cdt": cdt, "_ax": ax}))
                if key == "pred":
                    args[0] = value
                elif key == "target":
                    args[1] = value
                else:
                    kw[key] = value
        return args, kw

    # -- the binary cross-entropies: element-wise, no class axis ------------

    def is_binary(name):
        return "binary" in name

    BINARY_ODD_WEIGHTS = [0.0, -0.0, -1.0, -0.5, math.nan, math.inf, -math.inf, 1e-310,
                              5e-324, 1e-300, 1e300, 65504.0, 3.5e38]

    @st.composite
    def binary_shape(draw):
        """pred's shape: ranks 0-5 (axes of length 0 included), and inputs
        across the kernels' 256-element blocks."""
        if draw(st.integers(0, 5)) == 0:
            return draw(st.sampled_from([(255,), (256,), (257,), (700,), (3, 300), (2, 3, 129),
                                         (1030,), (1, 2100)]))
        rank = draw(st.integers(0, 5))
        return tuple(draw(pick((8, st.integers(1, 4)), (1, st.just(0)))) for _ in range(rank))

    def binary_weight_shapes(shape):
        """Every shape that broadcasts to pred's: a scalar, the last axis,
        PyTorch's per-channel (C, 1, 1), pred's shape, its trailing axes,
        ones, a per-sample (N, 1, ...)."""
        nd = len(shape)
        shapes = [(), shape]
        if nd:
            shapes += [shape[-1:], (1,) * nd, shape[1:], (1,) + shape[1:]]
        if nd >= 2:
            shapes += [shape[:1] + (1,) * (nd - 1), shape[-2:-1] + (1,)]
        if nd >= 3:
            shapes += [(shape[-3], 1, 1)]
        return shapes

    @st.composite
    def binary_weights(draw, shape):
        """weight or pos_weight: a shape that broadcasts to pred's, values in
        [0, 3) with zeros, NaN, negative values, infinities, subnormals and
        huge values (or all zero, or of both signs), every real dtype, any
        layout; Python and NumPy scalars."""
        ws = draw(st.sampled_from(binary_weight_shapes(shape)))
        return draw(odd_weights(ws, 3.0, BINARY_ODD_WEIGHTS, 1.5))

    @st.composite
    def binary_target(draw, shape):
        """A target of pred's shape: hard (0 and 1), soft, outside [0, 1],
        with NaN and infinities; float, half, integer or bool; any layout."""
        dt = draw(st.sampled_from(FLOAT_DTYPES * 2 + [np.dtype(np.float16), np.dtype(bool),
                                                      np.dtype(np.int64), np.dtype(np.uint8),
                                                      np.dtype(np.int8)] + BF16))
        rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
        if dt.kind in "iu":
            values = draw(int_values(dt, shape, lo=0, hi=1, extra=(2, -1)))
        elif dt.kind == "b":
            values = rng.integers(0, 2, shape).astype(bool)
        else:
            mode = draw(st.integers(0, 3))
            if mode == 0:
                v = rng.integers(0, 2, shape).astype(np.float64)
            elif mode == 1:
                v = rng.uniform(0.0, 1.0, shape)
            elif mode == 2:
                v = rng.choice([0.0, 0.5, 1.0, 0.25], shape)
            else:
                v = rng.uniform(-0.5, 1.5, shape)
            if v.size and draw(st.integers(0, 3)) == 0:
                k = draw(st.integers(1, min(v.size, 4)))
                pos = draw(st.lists(st.integers(0, v.size - 1), min_size=k, max_size=k))
                v.reshape(-1)[pos] = draw(st.lists(st.sampled_from(
                    [math.nan, math.inf, -math.inf, -1.0, 2.0, 1e300, 1e-300, 1 - 2 ** -53]),
                    min_size=k, max_size=k))
            with np.errstate(all="ignore"):
                values = v.astype(dt)
        return Arr(values, draw(layout_ops(LAYOUTS + ["list"])))

    @st.composite
    def binary_valid_case(draw, name):
        """A call the binary functions accept: ranks 0-5, every dtype and
        layout of pred, targets of pred's shape, weight and pos_weight in
        broadcast forms, sample weights of shape (N,) (or () for a 0-d pred),
        label smoothing, eps, out."""
        probs = name.startswith("binary")
        grad = name.endswith("_and_grad")
        shape = draw(binary_shape())
        pdt = draw(pred_dtype())
        pred = draw(arr(pdt, shape, "probs" if probs else "logits",
                        allow=LAYOUTS + ["matrix", "masked", "list", "array_like"]))
        if probs and pred.base.size and pred.base.dtype.kind in "fV" \
                and draw(st.integers(0, 3)) == 0:
            # hard probabilities: log(0) with eps = 0, the zero terms
            flat = pred.base.reshape(-1)
            k = draw(st.integers(1, min(flat.size, 8)))
            pos = draw(st.lists(st.integers(0, flat.size - 1), min_size=k, max_size=k))
            flat[pos] = draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=k, max_size=k))
        kw = {}
        if draw(st.booleans()):
            kw["reduction"] = draw(st.sampled_from(["mean", "sum", "none"]))
        if draw(st.integers(0, 2)) == 0:
            kw["n_threads"] = draw(st.sampled_from([None, 1, 2, 3, 8, np.int32(2), 2 ** 40]))
        target = draw(binary_target(shape))
        if draw(st.integers(0, 2)) == 0:
            kw["weight"] = draw(binary_weights(shape))
        if draw(st.integers(0, 2)) == 0:
            kw["pos_weight"] = draw(binary_weights(shape))
        if draw(st.integers(0, 2)) == 0:
            kw["label_smoothing"] = draw(pick(
                (3, st.floats(0.0, 1.0)), (1, st.sampled_from([0.0, 1.0, 1e-300, 0.5])),
                (1, st.sampled_from([np.float32(0.1), np.float64(0.25), Fraction(1, 3), 1, 0,
                                     True]))))
        if probs and draw(st.integers(0, 2)) == 0:
            kw["eps"] = draw(pick((3, st.sampled_from([0.0, -0.0, 1e-7, 1e-12, 1e-3, 1.0])),
                                  (1, st.floats(0.0, allow_infinity=True)),
                                  (1, st.sampled_from([np.float32(1e-6), 0, 1, math.inf,
                                                       5e-324, Fraction(1, 10)]))))
        if draw(st.integers(0, 3)) == 0:
            kw["sample_weight"] = draw(sample_weights(shape[:1]))
        if grad and draw(st.integers(0, 2)) == 0:
            gdt = gradient_dtype(np.asarray(pred.build()).dtype)
            fill = draw(st.sampled_from([0.0, math.nan, 7.0]))
            kw["out"] = Arr(np.full(shape, fill, gdt),
                            draw(layout_ops(["fortran", "reversed", "strided", "column_view",
                                             "channels_last_memory"], max_ops=1)))
        return [pred, target], kw

    def _not_broadcasting(shapes, shape):
        """The shapes of ``shapes`` that do not broadcast to ``shape``."""
        bad = []
        for s2 in shapes:
            try:
                fits = np.broadcast_shapes(s2, shape) == shape
            except ValueError:
                fits = False
            if not fits and s2 not in bad:
                bad.append(s2)
        return bad

    @st.composite
    def binary_odd_value(draw, key, name, shape, case_kw):
        """A value of ``key`` outside the binary functions' domain or on its
        edge, for a pred of ``shape``."""
        some = shape if shape else (1,)            # (junk_array takes an axis)
        nd = len(shape)
        layouts = ["fortran", "strided", "swapped", "list"]
        if key == "pred":
            return draw(st.one_of(
                junk_array(some),
                st.sampled_from(FLOAT8 + [np.dtype("V2")]).map(lambda d: Arr(np.zeros(shape, d))),
                st.sampled_from(NON_REAL).flatmap(lambda d: arr(d, shape, allow=layouts[:3])),
                st.sampled_from(HALF_DTYPES).map(lambda d: Arr(np.ones(shape + (1,), d))),
                st.sampled_from([0.5, [0.5], [[0.5]], True, np.float32(0.5), None])))
        if key == "target":
            wrong = [shape + (1,), (1,) + shape, (2,) + shape]
            if nd:
                wrong += [shape[:-1], shape[1:], shape[::-1], (shape[0] + 1,) + shape[1:]]
            wrong = [s2 for s2 in wrong if s2 != shape]
            return draw(st.one_of(
                junk_array(some),
                st.sampled_from(wrong).flatmap(lambda s2: st.sampled_from(
                    FLOAT_DTYPES + OTHER_REAL + HALF_DTYPES).flatmap(
                        lambda d: arr(d, s2, "probs", allow=layouts))),
                st.sampled_from(NON_REAL + FLOAT8).flatmap(
                    lambda d: arr(d, shape, allow=layouts[:3])),
                st.builds(lambda: HasArray(np.ones(shape))),
                st.builds(lambda: Arr(np.full(shape, -1e300), ("swapped",))),
                st.sampled_from([0.0, 1, True, [0.0], [[1.0]], None, "1", 2 ** 64])))
        if key in ("weight", "pos_weight"):
            cand = [shape + (1,), (2,) + shape, (1,) + shape, (3,), (2, 1, 1, 1, 1, 1, 1)]
            if nd:
                cand += [(shape[-1] + 1,), shape[:-1], (shape[0] + 1,) + shape[1:], shape[::-1],
                         (shape[0], 1)]
            wrong = _not_broadcasting(cand, shape)
            return draw(st.one_of(
                st.sampled_from(wrong).flatmap(lambda s2: st.sampled_from(
                    FLOAT_DTYPES + OTHER_REAL + HALF_DTYPES).flatmap(
                        lambda d: arr(d, s2, allow=layouts))),
                st.sampled_from(NON_REAL + FLOAT8).flatmap(
                    lambda d: st.sampled_from(binary_weight_shapes(shape)).flatmap(
                        lambda s2: arr(d, s2, allow=layouts[:3]))),
                st.builds(lambda: HasArray(np.ones(shape))),
                st.builds(lambda: Arr(np.full(shape, 2 ** 64 - 1, np.uint64))),
                st.builds(lambda: Arr(np.full(shape[-1:], -1e300), ("swapped",))),
                junk_common(),
                st.sampled_from([1.0, [1.0], "1", np.float64(1.0), np.ones(1), 1j, None])))
        if key == "sample_weight":
            n = shape[:1]
            wrong = [n + (1,), (1,) + n, shape, (), (0,), (1,), (2,)]
            if nd:
                wrong += [(shape[0] + 1,), shape[::-1], shape[-1:]]
            wrong = [s2 for s2 in dict.fromkeys(wrong) if s2 != n]
            return draw(st.one_of(
                st.sampled_from(wrong).flatmap(lambda s2: st.sampled_from(
                    FLOAT_DTYPES + OTHER_REAL + HALF_DTYPES).flatmap(
                        lambda d: arr(d, s2, allow=layouts))),
                st.sampled_from(NON_REAL + FLOAT8).flatmap(
                    lambda d: arr(d, n, allow=["fortran", "reversed", "strided", "swapped"])),
                st.builds(lambda: HasArray(np.ones(n))),
                st.builds(lambda: Arr(np.full(n, 2 ** 64 - 1, np.uint64))),
                st.builds(lambda: Arr(np.full(n, -1e300), ("swapped",))),
                junk_common(),
                st.sampled_from([1.0, [1.0], "1", np.float64(1.0), np.ones(1)])))
        if key == "out":
            cdt = case_kw.get("_cdt", np.dtype(np.float64))
            other = np.dtype(np.float32) if cdt == np.float64 else np.dtype(np.float64)
            wrong_shape = shape[::-1] + (1,) if nd else (1,)
            return draw(st.one_of(
                junk_common(),
                st.builds(lambda: Arr(np.empty(shape, other))),
                st.sampled_from([np.dtype(np.float32)] + HALF_DTYPES).map(
                    lambda d: Arr(np.zeros(shape, d))),
                st.builds(lambda: Arr(np.empty(wrong_shape, cdt))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("swapped",))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("unaligned",))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("readonly",))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("broadcast",))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("matrix",))),
                st.builds(lambda: Arr(np.empty(shape, cdt), ("list",))),
                st.builds(lambda: Arr(np.empty(shape, np.int64))),
                st.builds(lambda: Arr(np.empty(shape, np.complex128))),
                st.just("ALIAS_PRED"), st.just("ALIAS_TARGET"),
            ))
        # reduction, eps, label_smoothing, n_threads, an unknown keyword:
        # the same odd values as for the other losses (whose name, so as not
        # to come back here)
        return draw(odd_value(key, "cross_entropy", (1,), {"_cdt": case_kw.get("_cdt")}))

    @pytest.mark.parametrize("case", corpus_params())
    def test_corpus(case):
        _, name, args, kw = case
        check_loss_call(name, args, kw)

    @pytest.mark.parametrize("name", LOSSES)
    @fuzz_settings
    @given(data=st.data())
    def test_valid_arguments(name, data):
        args, kw = data.draw(valid_case(name), label="case")
        check_loss_call(name, args, kw, random=True)

    @pytest.mark.parametrize("name", LOSSES)
    @fuzz_settings
    @given(data=st.data())
    def test_one_odd_argument(name, data):
        args, kw = data.draw(odd_case(name), label="case")
        check_loss_call(name, args, kw, random=True)

    @pytest.mark.parametrize("name", LOSSES)
    @fuzz_settings
    @given(data=st.data())
    def test_arbitrary_arguments(name, data):
        args, kw = data.draw(arbitrary_case(name), label="case")
        check_loss_call(name, args, kw, random=True)

    # the binary cross-entropies: the same strategies (valid_case and
    # odd_value hand them to binary_valid_case and binary_odd_value), a
    # third of the examples

    def binary_fuzz_settings(f):
        f = settings(FUZZ, max_examples=BINARY_EXAMPLES)(f)
        if SEED is not None:
            f = hyp_seed(int(SEED))(f)
        return f

    @pytest.mark.parametrize("name", BINARY)
    @binary_fuzz_settings
    @given(data=st.data())
    def test_binary_valid_arguments(name, data):
        args, kw = data.draw(valid_case(name), label="case")
        check_loss_call(name, args, kw, random=True)

    @pytest.mark.parametrize("name", BINARY)
    @binary_fuzz_settings
    @given(data=st.data())
    def test_binary_one_odd_argument(name, data):
        args, kw = data.draw(odd_case(name), label="case")
        check_loss_call(name, args, kw, random=True)

    @pytest.mark.parametrize("name", BINARY)
    @binary_fuzz_settings
    @given(data=st.data())
    def test_binary_arbitrary_arguments(name, data):
        args, kw = data.draw(arbitrary_case(name), label="case")
        check_loss_call(name, args, kw, random=True)

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
