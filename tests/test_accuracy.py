"""The accuracy the documentation states, checked for every kind of result.

1. float32: every float32 result (loss of each reduction, per-sample losses,
   gradients) lies within a relative 1e-6 of the float64 value computed from
   the same float32 inputs: the kernels accumulate in float64 and round
   once, so float32 sums never stall (2**25 terms); the softmax's exps of
   float32 logits are float32 (about 1 ulp), everything after them float64.
2. float64: within a relative 1e-13 of an exact reference on ill-conditioned
   sums -- a million terms spanning many orders of magnitude, one large term
   among many small ones, weights spanning twelve orders of magnitude, sums
   that cancel. The references add exactly representable terms (squares of
   numbers of 26 significant bits) or correctly rounded ones (``math.log``)
   with ``math.fsum``, which rounds the exact sum once.

A failure here is a bug in the kernels (or in the guarantee): the tolerances
are the guarantees and are not to be loosened.
"""
import math

import numpy as np
import pytest

import fastloss as fl

F32_RTOL = 1e-6
F64_RTOL = 1e-13
F32_TINY = float(np.finfo(np.float32).tiny)
F32_MAX = float(np.finfo(np.float32).max)


def rel_error(got, exact):
    got, exact = float(got), float(exact)
    if got == exact:
        return 0.0
    return abs(got - exact) / abs(exact)


def assert_rel(got, exact, rtol, what):
    err = rel_error(got, exact)
    assert err <= rtol, (f"{what}: got {float(got)!r}, exact {float(exact)!r}, "
                         f"relative error {err:.3g} > {rtol:g}")


def fsum(values):
    return math.fsum(np.asarray(values, np.float64).ravel().tolist())


# ---------------------------------------------------------------------------
# 1. float32 results are the float64 values of the same inputs, rounded
# ---------------------------------------------------------------------------

N32, C32 = 3001, 10          # twelve blocks of 256 rows, the last one partial


def float32_problem(fn_name, kind, seed=0):
    rng = np.random.default_rng(seed)
    if fn_name.startswith("cross_entropy"):
        pred = rng.uniform(0.001, 1.0, (N32, C32))
    else:
        pred = rng.normal(0.0, 3.0, (N32, C32))
    if kind == "index":
        target = rng.integers(0, C32, N32).astype(np.int32)
    elif kind == "dense":
        target = rng.dirichlet(np.ones(C32), N32).astype(np.float32)
    else:
        target = rng.normal(0.0, 1.0, (N32, C32)).astype(np.float32)
    return pred.astype(np.float32), target


OPTIONS = {
    "plain": {},
    "weighted": {"weight": np.linspace(0.25, 3.0, C32).astype(np.float32)},
    "smoothing": {"label_smoothing": 0.1},
    "ignore": {"ignore_index": 3},
    "all": {"weight": np.linspace(0.25, 3.0, C32).astype(np.float32), "label_smoothing": 0.05,
            "ignore_index": 3},
}


def float32_cases():
    for fn_name in ("cross_entropy", "softmax_cross_entropy", "cross_entropy_and_grad",
                    "softmax_cross_entropy_and_grad"):
        for kind in ("index", "dense"):
            for opt in OPTIONS:
                if kind == "dense" and "ignore" in opt or opt == "all" and kind == "dense":
                    continue
                yield pytest.param(fn_name, kind, opt, id=f"{fn_name}-{kind}-{opt}")
    for fn_name in ("mean_squared_error", "mean_squared_error_and_grad"):
        yield pytest.param(fn_name, "mse", "plain", id=f"{fn_name}")


def upcast(v):
    """A float32 argument as float64 (exactly the same values)."""
    if isinstance(v, np.ndarray) and v.dtype == np.float32:
        return v.astype(np.float64)
    return v


def assert_float32_close(got, want64, what):
    """Each float32 value within a relative 1e-6 of its float64 value; values
    below float32's normal range (or beyond it) are compared after rounding
    the float64 value to float32."""
    got = np.asarray(got)
    assert got.dtype == np.float32, f"{what}: dtype {got.dtype}"
    g = got.astype(np.float64)
    w = np.asarray(want64, np.float64)
    with np.errstate(all="ignore"):
        rounded = w.astype(np.float32).astype(np.float64)
        err = np.where(g == w, 0.0, np.abs(g - w) / np.abs(w))
        outside = (np.abs(w) < F32_TINY) | (np.abs(w) > F32_MAX)
    ok = np.where(outside, g == rounded, err <= F32_RTOL) | (np.isnan(g) & np.isnan(w))
    if not ok.all():
        i = np.argwhere(~ok)[0] if ok.ndim else ()
        i = tuple(int(k) for k in i)
        raise AssertionError(f"{what}: {int((~ok).sum())} float32 values differ from the float64 "
                             f"value by more than {F32_RTOL:g}, e.g. at {i}: {g[i]!r} vs {w[i]!r} "
                             f"(max relative error {np.nanmax(np.where(outside, 0, err)):.3g})")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("fn_name,kind,opt", list(float32_cases()))
def test_float32_is_the_float64_value_of_the_same_inputs(fn_name, kind, opt, reduction):
    fn = getattr(fl, fn_name)
    pred, target = float32_problem(fn_name, kind)
    kw = dict(OPTIONS[opt], reduction=reduction)
    got = fn(pred, target, **kw)
    want = fn(upcast(pred), upcast(target), **{k: upcast(v) for k, v in kw.items()})
    if isinstance(got, tuple):
        assert_float32_close(got[0], want[0], "loss")
        assert_float32_close(got[1], want[1], "gradient")
    else:
        assert_float32_close(got, want, "loss")


BIG = 2 ** 25                 # float32 accumulation would stall at 2**24


def test_float32_squared_error_of_2_pow_25_elements_is_exact():
    # stride-0 views: 2**25 elements without 128 MB of memory
    ones = np.broadcast_to(np.float32(1.0), (BIG // 8, 8))
    zeros = np.broadcast_to(np.float32(0.0), (BIG // 8, 8))
    assert fl.mean_squared_error(ones, zeros) == np.float32(1.0)
    assert fl.mean_squared_error(ones, zeros, reduction="sum") == np.float32(BIG)


@pytest.mark.parametrize("fn_name", ["cross_entropy", "softmax_cross_entropy"])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_float32_loss_over_2_pow_25_rows(fn_name, reduction):
    row = np.array([0.3, 0.7], np.float32)
    pred = np.broadcast_to(row, (BIG, 2))
    labels = np.broadcast_to(np.uint8(1), (BIG,))
    a, b = (float(v) for v in row)
    if fn_name == "cross_entropy":
        per_row = -math.log(b + 1e-7)
    else:
        per_row = math.log1p(math.exp(a - b))
    exact = BIG * per_row if reduction == "sum" else per_row
    got = getattr(fl, fn_name)(pred, labels, reduction=reduction)
    assert type(got) is np.float32
    assert_rel(got, exact, F32_RTOL, f"float32 {fn_name} {reduction} of 2**25 rows")


# ---------------------------------------------------------------------------
# 2. float64 against exact sums
# ---------------------------------------------------------------------------

N64 = 1_000_000


def exact_square_residuals(shape, lo, hi, seed):
    """Residuals m * 2**e with m < 2**26: their squares are exact in float64,
    so the loss is an exact sum that fsum rounds once."""
    rng = np.random.default_rng(seed)
    m = rng.integers(1, 2 ** 26, shape).astype(np.float64)
    e = rng.integers(lo, hi, shape)
    sign = rng.choice([-1.0, 1.0], shape)
    return sign * np.ldexp(m, e)


@pytest.mark.parametrize("c", [1, 4, 10, 3000])
def test_squared_error_terms_spanning_magnitudes(c):
    # squares from 2**-100 to 2**90: thirty orders of magnitude
    d = exact_square_residuals((N64 // c, c), -76, 20, seed=c)
    pred, target = d, np.zeros_like(d)
    exact = fsum(d * d)
    assert_rel(fl.mean_squared_error(pred, target, reduction="sum"), exact, F64_RTOL, "sum")
    assert_rel(fl.mean_squared_error(pred, target), exact / d.size, F64_RTOL, "mean")
    loss, grad = fl.mean_squared_error_and_grad(pred, target, reduction="sum")
    assert_rel(loss, exact, F64_RTOL, "sum with the gradient")
    k = min(2000, len(d))
    rows = fl.mean_squared_error(pred[:k], target[:k], reduction="none")
    for i in range(0, k, 97):
        assert_rel(rows[i], fsum(d[i] * d[i]) / c, F64_RTOL, f"row {i}")


@pytest.mark.parametrize("c", [1, 10])
@pytest.mark.parametrize("small", [0.7 * 2.0 ** -53, 1e-14, 1e-12, 3e-10])
def test_squared_error_one_large_residual_among_many_equal_small_ones(c, small):
    # a batch of near-perfect predictions and one outlier: every small term
    # is below (or near) an ulp of the running sum
    d = np.full((N64 // c, c), math.sqrt(small))
    d[0, 0] = 1.0
    exact = fsum(d * d)
    got = fl.mean_squared_error(d, np.zeros_like(d), reduction="sum")
    assert_rel(got, exact, F64_RTOL, f"sum of one 1.0 and {d.size - 1} squares of {d[-1, -1]**2:.3g}")
    assert_rel(fl.mean_squared_error(d, np.zeros_like(d)), exact / d.size, F64_RTOL, "mean")


@pytest.mark.parametrize("c", [1, 4, 10])
def test_squared_error_one_large_residual_at_the_head_of_every_block(c):
    # the worst case for a naive sum inside each 256-row block: each block
    # starts with a 1.0 and then adds terms just under half an ulp of it
    d = np.full((N64 // c, c), math.sqrt(0.49 * 2.0 ** -52))
    d[::256, 0] = 1.0
    exact = fsum(d * d)
    got = fl.mean_squared_error(d, np.zeros_like(d), reduction="sum")
    assert_rel(got, exact, F64_RTOL, "sum with a 1.0 at the head of every block")


def test_cross_entropy_one_large_loss_at_the_head_of_every_block():
    selected = np.exp(-np.full(N64, 0.49 * 2.0 ** -52))
    selected[::256] = math.exp(-1.0)
    probs, labels = gathered_problem(selected, seed=8)
    exact = fsum(-np.log(selected))
    got = fl.cross_entropy(probs, labels, reduction="sum", eps=0.0)
    assert_rel(got, exact, F64_RTOL, "sum with a loss of 1 at the head of every block")


def gathered_problem(selected, seed, c=10):
    """Probabilities whose labelled entries are ``selected``; the rest random."""
    rng = np.random.default_rng(seed)
    n = len(selected)
    labels = rng.integers(0, c, n)
    probs = rng.uniform(0.0, 1.0, (n, c))
    probs[np.arange(n), labels] = selected
    return probs, labels


@pytest.mark.parametrize("eps", [0.0, 1e-7])
def test_cross_entropy_losses_spanning_magnitudes(eps):
    # per-row losses -log(p) from 1e-12 to 300
    rng = np.random.default_rng(1)
    selected = np.exp(-(10.0 ** rng.uniform(-12, 2.5, N64)))
    probs, labels = gathered_problem(selected, seed=2)
    exact = fsum(-np.log(selected + eps))      # terms within an ulp, summed exactly
    assert_rel(fl.cross_entropy(probs, labels, reduction="sum", eps=eps), exact, F64_RTOL, "sum")
    assert_rel(fl.cross_entropy(probs, labels, eps=eps), exact / N64, F64_RTOL, "mean")
    loss, _ = fl.cross_entropy_and_grad(probs, labels, reduction="sum", eps=eps)
    assert_rel(loss, exact, F64_RTOL, "sum with the gradient")


@pytest.mark.parametrize("q", [0.999, 1 - 3e-9, 1 - 1e-12])
def test_cross_entropy_one_large_loss_among_many_equal_small_ones(q):
    # one wrong prediction (loss 1) among a million confident right ones
    selected = np.full(N64, q)
    selected[0] = math.exp(-1.0)
    probs, labels = gathered_problem(selected, seed=3)
    exact = fsum(-np.log(selected))
    got = fl.cross_entropy(probs, labels, reduction="sum", eps=0.0)
    assert_rel(got, exact, F64_RTOL, f"sum of one loss of 1 and {N64 - 1} losses of {-math.log(q):.3g}")
    assert_rel(fl.cross_entropy(probs, labels, eps=0.0), exact / N64, F64_RTOL, "mean")


def dense_terms(probs, coef, eps):
    """The exact-ish terms -coef * log(p + eps) (each correctly rounded to
    within an ulp), zero where coef is 0."""
    with np.errstate(divide="ignore"):
        logs = np.log(probs + eps)
    return np.where(coef == 0.0, 0.0, -coef * logs)


@pytest.mark.parametrize("path", ["dense", "dense-smoothing", "index-weighted-smoothing"])
def test_cross_entropy_every_element_paths_span_magnitudes(path):
    rng = np.random.default_rng(4)
    n, c = N64 // 10, 10
    probs = np.exp(-(10.0 ** rng.uniform(-10, 2, (n, c))))
    w = 10.0 ** rng.uniform(-3, 3, c)
    if path.startswith("dense"):
        target = rng.dirichlet(np.full(c, 0.3), n)
        s = 0.1 if path == "dense-smoothing" else 0.0
        coef = (1 - s) * target + s / c if s else target
        kw = {"label_smoothing": s} if s else {}
        divisor = n
    else:
        target = rng.integers(0, c, n)
        s = 0.2
        q = np.full((n, c), s / c)
        q[np.arange(n), target] = (1 - s) + s / c
        coef = w * q
        kw = {"weight": w, "label_smoothing": s}
        divisor = fsum(w[target])
    exact = fsum(dense_terms(probs, coef, 1e-7))
    assert_rel(fl.cross_entropy(probs, target, reduction="sum", **kw), exact, F64_RTOL, "sum")
    assert_rel(fl.cross_entropy(probs, target, **kw), exact / divisor, F64_RTOL, "mean")


def exact_softmax_rows(x, labels):
    """log(sum_c exp(x_c - m)) - (x_k - m) per row, within a few ulps: the
    exp(0) = 1 of the maximum is kept out of the sum and the log taken by
    log1p (accurate for confident rows too); both parts are >= 0."""
    n = len(x)
    m = x.max(axis=1)
    e = np.exp(x - m[:, None])
    e[np.arange(n), x.argmax(axis=1)] = 0.0
    return np.log1p(e.sum(axis=1)) - (x[np.arange(n), labels] - m)


def test_softmax_cross_entropy_losses_spanning_magnitudes():
    rng = np.random.default_rng(5)
    n, c = 200_000, 10
    x = rng.normal(0.0, 1.0, (n, c)) * 10.0 ** rng.uniform(-2, 2, (n, 1))
    labels = rng.integers(0, c, n)
    exact = fsum(exact_softmax_rows(x, labels))
    assert_rel(fl.softmax_cross_entropy(x, labels, reduction="sum"), exact, F64_RTOL, "sum")
    assert_rel(fl.softmax_cross_entropy(x, labels), exact / n, F64_RTOL, "mean")


@pytest.mark.parametrize("margin", [3.0, 5.0, 10.0, 15.0, 20.0, 30.0])
def test_softmax_cross_entropy_of_a_confident_right_prediction(margin):
    # LSE - x_k = log(1 + sum_{c != k} exp(x_c - x_k)): the sum inside the log
    # is 1 plus a small number, which log(s) loses and log1p(s - 1) keeps
    x = np.array([[margin, 0.0, 0.0]])
    exact = math.log1p(2.0 * math.exp(-margin))
    got = fl.softmax_cross_entropy(x, np.array([0]), reduction="none")[0]
    assert_rel(got, exact, F64_RTOL, f"loss of logits {x[0].tolist()} with label 0")


# A class-index softmax row whose logits all lie within +-350 is exponentiated
# as is (loss log1p of the other terms over e_k), any other row after the
# shift by its maximum.  Both must meet the same accuracy, row by row, loss
# and gradient.

def exact_softmax_probs(x):
    """softmax(x) where x - m is exact (Sterbenz): rows spanning less than a
    factor of 2 around their maximum, or integer-valued ones."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def check_softmax_rows(x, labels, rtol=F64_RTOL):
    n = len(x)
    exact = exact_softmax_rows(x, labels)
    got = fl.softmax_cross_entropy(x, labels, reduction="none")
    err = np.abs(got - exact) / np.maximum(exact, 1e-300)
    worst = int(err.argmax())
    assert err[worst] <= rtol, (f"row {worst} {x[worst].tolist()} label {labels[worst]}: "
                                f"loss {got[worst]!r}, exact {exact[worst]!r}")
    loss, grad = fl.softmax_cross_entropy_and_grad(x, labels, reduction="sum")
    assert_rel(loss, fsum(exact), rtol, "sum")
    p = exact_softmax_probs(x)
    other = np.ones(x.shape, bool)
    other[np.arange(n), labels] = False
    normal = other & (p > 1e-290)
    np.testing.assert_allclose(grad[normal], p[normal], rtol=rtol, atol=0)
    np.testing.assert_allclose(grad[~other], p[~other] - 1.0, rtol=0, atol=1e-15)


@pytest.mark.parametrize("offset", [0.0, 200.0, -200.0, 348.0, 352.0, -352.0, 1e3, -1e4])
def test_softmax_rows_on_either_side_of_the_unshifted_range(offset):
    # integer logits keep x - m exact for the exact reference; offsets near
    # 350 give groups of both kinds in one call
    rng = np.random.default_rng(int(abs(offset)))
    n, c = 2000, 10
    x = np.round(rng.normal(0.0, 1.0, (n, c)) * 10.0 ** rng.uniform(-0.5, 1.2, (n, 1))) + offset
    labels = rng.integers(0, c, n)
    labels[::3] = x[::3].argmax(axis=1)             # confident rows too
    check_softmax_rows(x, labels)


@pytest.mark.parametrize("a", [1.0, 37.0, 174.0, 175.0, 349.0, 350.0, 351.0, 360.0, 700.0])
def test_softmax_rows_spanning_the_whole_unshifted_range(a):
    # the extreme ratios within +-350: exp(2a) over the other terms, for the
    # label at either end; beyond it the shifted path
    x = np.array([[a, -a, 0.0, 0.0], [-a, a, 1.0, -1.0]] * 64)
    for labels in (np.array([0, 1] * 64), np.array([1, 0] * 64), np.array([2, 3] * 64)):
        check_softmax_rows(x, labels)
    check_softmax_rows(x.astype(np.float32).astype(np.float64), np.array([1, 0] * 64))


@pytest.mark.parametrize("value", [351.0, -1e4, np.inf, np.nan])
def test_a_row_beyond_the_unshifted_range_leaves_the_others_bit_for_bit(value):
    # such a row takes the shifted path alone; its neighbours in the group
    # keep theirs (a row's loss never depends on the other rows)
    rng = np.random.default_rng(9)
    x = rng.normal(0.0, 3.0, (300, 7))
    labels = rng.integers(0, 7, 300)
    bad = x.copy()
    bad[5, 3] = value
    for reduction in ("none", "sum"):
        clean_loss, clean_grad = fl.softmax_cross_entropy_and_grad(x, labels, reduction=reduction)
        loss, grad = fl.softmax_cross_entropy_and_grad(bad, labels, reduction=reduction)
        others = np.arange(300) != 5
        np.testing.assert_array_equal(grad[others], clean_grad[others])
        if reduction == "none":
            np.testing.assert_array_equal(loss[others], clean_loss[others])
            rows = fl.softmax_cross_entropy(bad, labels, reduction="none")
            np.testing.assert_array_equal(rows[others], clean_loss[others])
    # and that row's own bits do not depend on which rows share its group
    alone_loss, alone_grad = fl.softmax_cross_entropy_and_grad(bad[5:6], labels[5:6],
                                                               reduction="sum")
    wide = bad + np.where(np.arange(300)[:, None] % 2 == 0, 400.0, 0.0)   # half the rows beyond
    wide[5] = bad[5]
    loss, grad = fl.softmax_cross_entropy_and_grad(wide, labels, reduction="none")
    np.testing.assert_array_equal(loss[5:6], np.atleast_1d(alone_loss))
    np.testing.assert_array_equal(grad[5:6], alone_grad)
    if np.isfinite(value):
        check_softmax_rows(bad[:10], labels[:10])


def test_weighted_mean_with_weights_spanning_twelve_orders_of_magnitude():
    rng = np.random.default_rng(6)
    c = 10
    w = 10.0 ** np.linspace(-6, 6, c)
    probs = rng.uniform(0.01, 1.0, (N64, c))
    labels = rng.integers(0, c, N64)
    terms = w[labels] * -np.log(probs[np.arange(N64), labels] + 1e-7)
    exact = fsum(terms) / fsum(w[labels])
    assert_rel(fl.cross_entropy(probs, labels, weight=w), exact, F64_RTOL, "weighted mean")
    loss, _ = fl.cross_entropy_and_grad(probs, labels, weight=w)
    assert_rel(loss, exact, F64_RTOL, "weighted mean with the gradient")


def test_sum_that_cancels():
    # negative weights (allowed): terms of both signs, condition number ~5e3
    rng = np.random.default_rng(7)
    c = 4
    w = np.array([1.0, -1.0, 1.0, -1.0]) * (1.0 + rng.uniform(0.0, 1e-3, c))
    probs = rng.uniform(0.01, 1.0, (N64, c))
    labels = rng.integers(0, c, N64)
    terms = w[labels] * -np.log(probs[np.arange(N64), labels] + 1e-7)
    exact = fsum(terms)
    assert fsum(np.abs(terms)) / abs(exact) > 100
    assert_rel(fl.cross_entropy(probs, labels, weight=w, reduction="sum"), exact, F64_RTOL,
               "sum of terms of both signs")
