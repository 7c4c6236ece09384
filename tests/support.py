"""What the tests share: the lists of public functions and of the cases
built from them, the formulas of docs/contract.md written out in plain
NumPy, the tolerances, the memory layouts an input may come in,
the hypothesis strategies that draw loss problems and the inputs several
test files draw the same way.

The oracles here are deliberately independent of ``fastloss.reference``:
they follow the definitions of docs/contract.md line by line (one-hot rows,
smoothed rows, weights, divisors), in float64, so a misreading shared by the
kernels and the reference still shows up as a failure.
"""
import gc
import tracemalloc

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss as fl
import fastloss.reference as _ref
from fastloss import book

FLOAT_DTYPES = [np.float32, np.float64]
INT_DTYPES = [np.int8, np.int16, np.int32, np.int64,
              np.uint8, np.uint16, np.uint32, np.uint64]
REDUCTIONS = ["mean", "sum", "none"]


# ---------------------------------------------------------------------------
# the public functions and the cases built from them
# ---------------------------------------------------------------------------

LOSSES = [fl.cross_entropy, fl.softmax_cross_entropy, fl.mean_squared_error]
GRADS = [fl.cross_entropy_and_grad, fl.softmax_cross_entropy_and_grad,
         fl.mean_squared_error_and_grad]
ALL_FUNCS = LOSSES + GRADS
LOSS_OF = dict(zip(GRADS, LOSSES))          # grad function -> its loss function
MSE_FUNCS = [fl.mean_squared_error, fl.mean_squared_error_and_grad]
CLASS_FUNCS = [f for f in ALL_FUNCS if f not in MSE_FUNCS]


def name_of(f):
    """The test id of a function (or of any other parameter)."""
    return getattr(f, "__name__", str(f))


def is_mse(fn):
    return fn in MSE_FUNCS


def is_probs(fn):
    """Whether ``fn`` takes probabilities (the others take logits or values)."""
    return fn in (fl.cross_entropy, fl.cross_entropy_and_grad)


def loss_of(result):
    """The loss of a loss function's or a gradient function's result."""
    return result[0] if isinstance(result, tuple) else result


# (function, target kind): class indices ("index") for the cross-entropies,
# dense targets ("dense") for every function
CASES = [(f, "index") for f in ALL_FUNCS if not is_mse(f)] + [(f, "dense") for f in ALL_FUNCS]
CASE_IDS = [f"{name_of(f)}-{kind}" for f, kind in CASES]


def make_problem(fn, kind="index", n=6, c=4, dtype=np.float64, seed=3,
                 label_dtype=np.int64):
    """(pred, target) for ``fn``: probabilities in [0.05, 1) or logits of
    spread 2; class indices, dense rows in [0, 1), or values of spread 1 for
    the squared error."""
    rng = np.random.default_rng(seed)
    if is_probs(fn):
        pred = rng.uniform(0.05, 1.0, (n, c))
    else:
        pred = rng.normal(0.0, 2.0, (n, c))
    if is_mse(fn):
        target = rng.normal(0.0, 1.0, (n, c))
    elif kind == "dense":
        target = rng.uniform(0.0, 1.0, (n, c))
    else:
        target = rng.integers(0, c, n).astype(label_dtype)
    return pred.astype(dtype), target


# shapes beyond any fixed buffer or block: many rows, wide rows, one wide sample
LARGE_SHAPES = [(10_007, 13), (3, 70_001), (70_001,)]


def large_inputs(shape, dtype, seed, low, label_dtype):
    """(probs, logits, labels, dense, weight) of ``shape``, drawn in that order:
    probabilities in [low, 1), logits of spread 4, labels (one for a 1-D
    shape), dense rows in [0, 1) and class weights in [0.5, 2)."""
    rng = np.random.default_rng(seed)
    c = shape[-1]
    n = shape[0] if len(shape) == 2 else 1
    probs = rng.uniform(low, 1.0, shape).astype(dtype)
    logits = rng.normal(0.0, 4.0, shape).astype(dtype)
    labels = rng.integers(0, c, n).astype(label_dtype)
    dense = rng.uniform(0.0, 1.0, shape)
    weight = rng.uniform(0.5, 2.0, c)
    return probs, logits, labels, dense, weight


def softmax_with_loss_step(x, t, dout=1):
    """One training step of a fresh book layer: (loss, its y, backward(dout))."""
    layer = book.SoftmaxWithLoss()
    loss = layer.forward(x, t)
    return loss, layer.y, layer.backward(dout)


# ---------------------------------------------------------------------------
# dtypes and tolerances
# ---------------------------------------------------------------------------

def compute_dtype(pred):
    """The computation dtype: float32 (either byte order) stays float32, every
    other input is computed in float64."""
    dt = np.asarray(pred).dtype
    return np.dtype(np.float32) if (dt.kind == "f" and dt.itemsize == 4) else np.dtype(np.float64)


def as_oracle(a, cdt):
    """An input as the kernels see it: converted to the computation dtype,
    then widened to float64 for the oracle's arithmetic."""
    return np.asarray(a).astype(cdt).astype(np.float64)


def assert_close(got, want, dtype, scale=1.0):
    """rtol 1e-12 for float64 and 1e-5 for float32: the accuracy promised for
    each computation dtype (docs/contract.md).

    The absolute floor covers values that come out of a cancellation
    (``LSE - x`` for a dominant logit, ``p - q`` for a good prediction):
    there every correct implementation is off by a few ulps of the operands,
    whose size is ``scale``, not of the result.
    """
    if np.dtype(dtype) == np.float32:
        rtol, atol = 1e-5, 1e-6 * scale
    else:
        rtol, atol = 1e-12, 1e-14 * scale
    with np.errstate(over="ignore"):
        # the result is rounded to the computation dtype: beyond its range, inf
        want = np.asarray(want, np.float64).astype(dtype).astype(np.float64)
    np.testing.assert_allclose(np.asarray(got, np.float64), want,
                               rtol=rtol, atol=atol, equal_nan=True)


def _bits(a):
    """The bits of an array as unsigned integers, one per element (a view
    where ``a`` is contiguous)."""
    a = np.ascontiguousarray(a).reshape(-1)
    size = a.dtype.itemsize
    return a.view(f"u{size}") if size in (1, 2, 4, 8) else a.view(np.uint8)


def assert_same(got, want, what="result"):
    """Bitwise-equal results (NaNs in the same places), same type and dtype."""
    assert type(got) is type(want), f"{what}: {type(got).__name__} != {type(want).__name__}"
    got_a, want_a = np.asarray(got), np.asarray(want)
    assert got_a.dtype == want_a.dtype and got_a.shape == want_a.shape, (
        f"{what}: {got_a.dtype}{got_a.shape} != {want_a.dtype}{want_a.shape}")
    differ = np.flatnonzero(_bits(got_a) != _bits(want_a))
    assert differ.size == 0, (f"{what}: {differ.size} of {got_a.size} entries differ, the "
                              f"first at flat index {differ[:3]}")


def assert_same_result(got, want, what="result"):
    """assert_same for a loss, or for each part of a (loss, gradient) pair."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), what
        for part, g, w in zip(("loss", "gradient"), got, want):
            assert_same(g, w, f"{what}, {part}")
    else:
        assert_same(got, want, what)


def check_result_type(result, cdt, shape_none, reduction):
    """The result types: "mean" and "sum" give a NumPy scalar of exactly the
    computation dtype, "none" a native ndarray of shape pred.shape[:-1]."""
    if reduction == "none":
        assert type(result) is np.ndarray
        assert result.dtype == cdt and result.dtype.isnative
        assert result.shape == shape_none
    else:
        assert type(result) is cdt.type


# ---------------------------------------------------------------------------
# the formulas of docs/contract.md
# ---------------------------------------------------------------------------

def _is_index_target(target):
    return isinstance(target, int) or np.asarray(target).dtype.kind in "iu"


def target_rows(target, n, c, cdt, label_smoothing=0.0, ignore_index=None):
    """The smoothed target rows q' = (1 - s) q + s / C as an (n, c) float64 array, the mask of kept rows and the
    class of each kept row (-1 for dense targets)."""
    if _is_index_target(target):
        labels = [int(v) for v in np.asarray(target).reshape(n)]
        kept = np.array([ignore_index is None or v != ignore_index for v in labels], bool)
        q = np.zeros((n, c))
        cls = np.full(n, -1)
        for i, v in enumerate(labels):
            if kept[i]:
                q[i, v] = 1.0
                cls[i] = v
    else:
        q = as_oracle(target, cdt).reshape(n, c)
        kept = np.ones(n, bool)
        cls = None
    s = label_smoothing
    q = (1.0 - s) * q + s / c
    q[~kept] = 0.0
    return q, kept, cls


def _prepare(pred, target, weight, label_smoothing, ignore_index):
    pred = np.asarray(pred)
    cdt = compute_dtype(pred)
    one_sample = pred.ndim == 1
    x = as_oracle(pred, cdt).reshape(-1, pred.shape[-1])
    n, c = x.shape
    q, kept, cls = target_rows(target, n, c, cdt, label_smoothing, ignore_index)
    w = np.ones(c) if weight is None else as_oracle(weight, cdt)
    coef = w[None, :] * q
    if cls is not None:
        divisor = float(sum(w[k] for k in cls[kept]))
    else:
        divisor = float(n)
    return x, coef, kept, divisor, cdt, one_sample


def _reduce(rows, divisor, reduction, one_sample):
    with np.errstate(all="ignore"):
        if reduction == "mean":
            return rows.sum() / divisor
        if reduction == "sum":
            return rows.sum()
    return rows.reshape(()) if one_sample else rows


def _gradient_divisor(divisor, reduction):
    return divisor if reduction == "mean" else 1.0


def cross_entropy_oracle(probs, target, reduction="mean", eps=1e-7, weight=None,
                         ignore_index=None, label_smoothing=0.0, grad=False):
    """Loss l_i = -sum_c w_c q'_ic log(p_ic + eps), a term with a zero
    coefficient exactly 0; gradient d/dp = -w_c q'_ic / (p_ic + eps) / D."""
    p, coef, kept, divisor, cdt, one = _prepare(probs, target, weight, label_smoothing,
                                                ignore_index)
    with np.errstate(all="ignore"):
        terms = np.where(coef != 0, -coef * np.log(p + eps), 0.0)
        loss = _reduce(terms.sum(axis=1), divisor, reduction, one)
        if not grad:
            return loss
        g = np.where(coef != 0, -coef / (p + eps), 0.0) / _gradient_divisor(divisor, reduction)
    g[~kept] = 0.0
    return loss, g.reshape(np.shape(probs))


def softmax_rows(x):
    m = x.max(axis=1, keepdims=True)
    e = np.exp(x - m)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy_oracle(logits, target, reduction="mean", weight=None,
                                 ignore_index=None, label_smoothing=0.0, grad=False):
    """Loss l_i = sum_c w_c q'_ic (LSE_i - x_ic), a term with a zero
    coefficient exactly 0; gradient d/dx = (p_ic sum_k w_k q'_ik - w_c q'_ic) / D."""
    x, coef, kept, divisor, cdt, one = _prepare(logits, target, weight, label_smoothing,
                                                ignore_index)
    with np.errstate(all="ignore"):
        m = x.max(axis=1, keepdims=True)
        lse = m + np.log(np.exp(x - m).sum(axis=1, keepdims=True))
        terms = np.where(coef != 0, coef * (lse - x), 0.0)
        loss = _reduce(terms.sum(axis=1), divisor, reduction, one)
        if not grad:
            return loss
        p = softmax_rows(x)
        g = (p * coef.sum(axis=1, keepdims=True) - coef) / _gradient_divisor(divisor, reduction)
    g[~kept] = 0.0
    return loss, g.reshape(np.shape(logits))


def mean_squared_error_oracle(pred, target, reduction="mean", grad=False):
    """Loss (p - t)^2; mean over N*C, sum, or per-row mean; the
    gradient 2 (p - t) / (N*C), 2 (p - t) or 2 (p - t) / C."""
    pred = np.asarray(pred)
    cdt = compute_dtype(pred)
    p = as_oracle(pred, cdt)
    t = as_oracle(target, cdt)
    d = p - t
    with np.errstate(all="ignore"):
        if reduction == "mean":
            loss, scale = (d * d).sum() / d.size, 2.0 / d.size
        elif reduction == "sum":
            loss, scale = (d * d).sum(), 2.0
        else:
            loss, scale = (d * d).mean(axis=-1), 2.0 / pred.shape[-1]
    if not grad:
        return loss
    return loss, scale * d


# ---------------------------------------------------------------------------
# the memory layouts an input may come in: each holds the same values as `a`
# ---------------------------------------------------------------------------

def layouts(a, tmp_path=None):
    """Same values as ``a`` in every layout the functions accept (Fortran order,
    strided, reversed, read-only, byte-swapped, unaligned, a column view, a
    memmap): dict name -> array."""
    a = np.ascontiguousarray(a)
    out = {"fortran": np.asfortranarray(a)}
    big = np.zeros(tuple(2 * s for s in a.shape), a.dtype)
    sl = tuple(slice(None, None, 2) for _ in a.shape)
    big[sl] = a
    out["strided"] = big[sl]
    rev = tuple(slice(None, None, -1) for _ in a.shape)
    out["reversed"] = np.ascontiguousarray(a[rev])[rev]
    ro = a.copy()
    ro.flags.writeable = False
    out["readonly"] = ro
    out["byteswapped"] = a.astype(a.dtype.newbyteorder("S"))
    buf = np.zeros(a.nbytes + 1, np.uint8)
    un = buf[1:].view(a.dtype).reshape(a.shape)
    un[...] = a
    assert a.dtype.itemsize == 1 or not un.flags.aligned
    out["unaligned"] = un
    if a.ndim == 2 and a.shape[1] > 1:
        out["column_view"] = np.asfortranarray(np.concatenate([a, a], axis=1))[:, : a.shape[1]]
    if tmp_path is not None and a.size:
        path = tmp_path / f"mm_{a.dtype.str.replace('<', 'l').replace('>', 'b').replace('|', 'n')}_{a.ndim}"
        mm = np.memmap(path, dtype=a.dtype, mode="w+", shape=a.shape)
        mm[...] = a
        mm.flush()
        del mm
        out["memmap"] = np.memmap(path, dtype=a.dtype, mode="r", shape=a.shape)
    for name, v in out.items():
        assert np.array_equal(v, a, equal_nan=a.dtype.kind == "f"), name
    return out


LAYOUTS = ["contiguous", "fortran", "strided", "reversed", "readonly", "byteswapped",
           "unaligned"]


def in_layout(a, name):
    """``a`` (contiguous, native) or its copy in one of the layouts above."""
    a = np.ascontiguousarray(a)
    return a if name == "contiguous" else layouts(a)[name]


# ---------------------------------------------------------------------------
# hypothesis strategies
# ---------------------------------------------------------------------------

def _float_elements(dtype, lo, hi):
    width = 32 if np.dtype(dtype) == np.float32 else 64
    return st.floats(lo, hi, width=width, allow_nan=False, allow_infinity=False)


@st.composite
def class_problems(draw, kind, with_options=True, min_value=0.0, min_weight=0.0):
    """A cross-entropy problem: dict(pred, target, kwargs, scale).

    kind: "probs" (cross_entropy) or "logits" (softmax_cross_entropy).
    min_weight > 0 keeps the divisor of "mean" away from 0 (whose 0/0 and
    x/0 entries have their own tests).
    """
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    c = draw(st.integers(1, 6))
    one_sample = draw(st.booleans())
    n = 1 if one_sample else draw(st.integers(1, 7))
    if kind == "probs":
        elements = _float_elements(dtype, min_value, 1.0)
        scale = 1.0
    else:
        bound = draw(st.sampled_from([5.0, 50.0]))
        elements = _float_elements(dtype, -bound, bound)
        scale = bound
    pred = draw(hnp.arrays(dtype, (n, c), elements=elements))
    kwargs = {"reduction": draw(st.sampled_from(REDUCTIONS))}
    dense = draw(st.booleans())
    if dense:
        soft = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(0.0, 1.0)))
        if draw(st.booleans()):
            target = np.eye(c)[draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))]
        elif draw(st.booleans()):
            sums = soft.sum(axis=1, keepdims=True)
            target = np.where(sums > 0, soft / np.where(sums > 0, sums, 1.0), 1.0 / c)
        else:
            target = soft
        target = target.astype(draw(st.sampled_from(FLOAT_DTYPES)))
    else:
        label_dtype = np.dtype(draw(st.sampled_from(INT_DTYPES)))
        info = np.iinfo(label_dtype)
        ignore = None
        if with_options:
            ignore = draw(st.sampled_from([None, None, -100, 0, c - 1, c + 3, 255]))
        choices = list(range(c))
        if ignore is not None and info.min <= ignore <= info.max:
            choices.append(ignore)
        target = np.array(draw(st.lists(st.sampled_from(choices), min_size=n, max_size=n)),
                          label_dtype)
        if ignore is not None:
            kwargs["ignore_index"] = ignore
    if with_options:
        if draw(st.booleans()):
            wdt = np.dtype(draw(st.sampled_from(FLOAT_DTYPES)))
            # a bound the dtype holds exactly (hypothesis refuses others for
            # float32 under NumPy 1.26's casting rules)
            lo = float(np.array(min_weight, wdt))
            lo = lo if lo >= min_weight else float(np.nextafter(np.array(lo, wdt), wdt.type(np.inf)))
            kwargs["weight"] = draw(hnp.arrays(
                wdt, c, elements=st.floats(lo, 3.0, width=8 * wdt.itemsize)))
        if draw(st.booleans()):
            kwargs["label_smoothing"] = draw(st.floats(0.0, 1.0))
        if kind == "probs" and draw(st.booleans()):
            kwargs["eps"] = draw(st.sampled_from([0.0, 1e-12, 1e-3]))
    if one_sample:
        pred = pred[0]
        target = target[0]
    return {"pred": pred, "target": target, "kwargs": kwargs, "scale": scale}


@st.composite
def mse_problems(draw):
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    shape = draw(st.sampled_from([(1,), (4,), (1, 1), (3, 5), (7, 2)]))
    pred = draw(hnp.arrays(dtype, shape, elements=_float_elements(dtype, -100.0, 100.0)))
    tdtype = draw(st.sampled_from([np.float32, np.float64, np.int64]))
    target = draw(hnp.arrays(tdtype, shape, elements=(
        st.integers(-100, 100) if tdtype is np.int64 else _float_elements(tdtype, -100.0, 100.0))))
    return {"pred": pred, "target": target,
            "kwargs": {"reduction": draw(st.sampled_from(REDUCTIONS))}, "scale": 1.0}


def peak_bytes(call):
    """Peak traced allocation of call(), above what was live before it."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    del result
    return peak


# ---------------------------------------------------------------------------
# by name: the tests that run both fastloss and fastloss.reference
# (tests/test_axes.py, test_sample_weight.py, test_half.py)
# ---------------------------------------------------------------------------

IMPLS = [pytest.param(fl, id="fastloss"), pytest.param(_ref, id="reference")]
LOSS_NAMES = ["cross_entropy", "softmax_cross_entropy", "mean_squared_error"]
GRAD_NAMES = [f"{name}_and_grad" for name in LOSS_NAMES]
ALL_NAMES = LOSS_NAMES + GRAD_NAMES
CLASS_NAMES = [name for name in ALL_NAMES if not name.startswith("mean_squared")]
# (function name, target kind): class indices for the cross-entropies, dense
# targets for every function
NAMED_CASES = ([(name, "index") for name in CLASS_NAMES]
               + [(name, "dense") for name in ALL_NAMES])
NAMED_CASE_IDS = [f"{name}-{kind}" for name, kind in NAMED_CASES]


def name_is_squared(name):
    return name.startswith("mean_squared")


def name_is_probs(name):
    return name.startswith("cross_entropy")


def named_problem(name, kind, shape, axis=-1, seed=0, dtype=np.float64):
    """(pred in ``dtype``, target) for the function ``name``, class axis
    ``axis``: probabilities in [0.05, 1) or values of spread 2; class
    indices of the positions' shape, dense rows in [0, 1) or squared-error
    targets of spread 1 (float64, pred's shape)."""
    rng = np.random.default_rng(seed)
    if name_is_probs(name):
        pred = rng.uniform(0.05, 1.0, shape)
    else:
        pred = rng.normal(0.0, 2.0, shape)
    if name_is_squared(name):
        target = rng.normal(0.0, 1.0, shape)
    elif kind == "dense":
        target = rng.uniform(0.0, 1.0, shape)
    else:
        positions = np.moveaxis(np.empty(shape), axis, -1).shape[:-1]
        target = rng.integers(0, shape[axis], positions)
    return pred.astype(dtype), target


def raised(call):
    """The exception ``call()`` raises (AssertionError if none)."""
    try:
        call()
    except Exception as exc:     # noqa: BLE001 - the error itself is what is checked
        return exc
    raise AssertionError("no error raised")
