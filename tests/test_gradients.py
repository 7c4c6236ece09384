"""The gradients: the *_and_grad functions against central finite
differences, the closed forms and fastloss.reference; out=; all-ignored and
zero-divisor batches."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastloss as fl
import fastloss.reference as ref
from support import (GRADS, LARGE_SHAPES, LAYOUTS, assert_close, assert_same, class_problems,
                     compute_dtype, cross_entropy_oracle, in_layout, large_inputs,
                     mean_squared_error_oracle, mse_problems, name_of,
                     softmax_cross_entropy_oracle)

N, C = 3, 4
PAIRS = {  # grad function -> (loss function, oracle, reference grad function)
    fl.cross_entropy_and_grad: (fl.cross_entropy, cross_entropy_oracle,
                                ref.cross_entropy_and_grad),
    fl.softmax_cross_entropy_and_grad: (fl.softmax_cross_entropy, softmax_cross_entropy_oracle,
                                        ref.softmax_cross_entropy_and_grad),
    fl.mean_squared_error_and_grad: (fl.mean_squared_error, mean_squared_error_oracle,
                                     ref.mean_squared_error_and_grad),
}
CLASS_GRADS = GRADS[:2]


def make(fn, kind="index", n=N, c=C, dtype=np.float64, seed=7):
    rng = np.random.default_rng(seed)
    if fn is fl.cross_entropy_and_grad:
        pred = rng.uniform(0.2, 1.0, (n, c))     # away from log's pole for the differences
    else:
        pred = rng.normal(0.0, 2.0, (n, c))
    if fn is fl.mean_squared_error_and_grad:
        target = rng.normal(0.0, 1.0, (n, c))
    elif kind == "dense":
        target = rng.uniform(0.0, 1.0, (n, c))
    else:
        target = np.array([1, 3, 0, 2, 2, 1, 0][:n])
    return pred.astype(dtype), target


# ---------------------------------------------------------------------------
# central finite differences, one element at a time
# ---------------------------------------------------------------------------

def finite_difference(loss, x, reduction, h=1e-6):
    """d(loss)/dx by central differences; for "none", entry (i, j) is
    d(l_i)/d(x_ij), and the other rows must not move at all."""
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        up, down = np.asarray(loss(xp), np.float64), np.asarray(loss(xm), np.float64)
        if reduction == "none" and x.ndim == 2:
            row = idx[0]
            others = np.arange(x.shape[0]) != row
            np.testing.assert_array_equal(up[others], down[others])
            g[idx] = (up[row] - down[row]) / (2 * h)
        else:
            g[idx] = (up - down) / (2 * h)
    return g


OPTIONS = {
    "plain": {},
    "weight": {"weight": [0.5, 2.0, 1.0, 3.0]},
    "smoothing": {"label_smoothing": 0.2},
    "ignore": {"ignore_index": 0},
    "all": {"weight": [0.5, 2.0, 1.0, 3.0], "label_smoothing": 0.35, "ignore_index": 0},
    "eps0": {"eps": 0.0},
    "eps1e-3": {"eps": 1e-3, "weight": [0.5, 2.0, 1.0, 3.0]},
}


def fd_cases():
    for fn in CLASS_GRADS:
        for kind in ("index", "dense"):
            for name, kw in OPTIONS.items():
                if name.startswith("eps") and fn is not fl.cross_entropy_and_grad:
                    continue
                if kind == "dense" and "ignore_index" in kw:
                    continue
                yield pytest.param(fn, kind, kw, id=f"{fn.__name__}-{kind}-{name}")
    yield pytest.param(fl.mean_squared_error_and_grad, "dense", {},
                       id="mean_squared_error_and_grad")


@pytest.mark.parametrize("fn,kind,options", list(fd_cases()))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("one_sample", [False, True], ids=["batch", "sample"])
def test_gradient_matches_central_differences(fn, kind, options, reduction, one_sample):
    loss_fn = PAIRS[fn][0]
    pred, target = make(fn, kind)
    if one_sample:
        pred, target = pred[1], target[1]
    loss, grad = fn(pred, target, reduction=reduction, **options)
    fd = finite_difference(lambda x: loss_fn(x, target, reduction=reduction, **options),
                           pred, reduction)
    assert grad.shape == pred.shape
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------
# closed forms and the reference, on hypothesis-drawn problems
# ---------------------------------------------------------------------------

def check_against_oracle(fn, pred, target, kw, scale, layout):
    loss_fn, oracle, ref_fn = PAIRS[fn]
    cdt = compute_dtype(pred)
    p = in_layout(pred, layout)
    loss, grad = fn(p, target, **kw)
    # the loss is exactly what the loss function returns
    assert_same(loss, loss_fn(p, target, **kw))
    assert type(grad) is np.ndarray and grad.dtype == cdt and grad.dtype.isnative
    assert grad.shape == np.shape(pred)
    want_loss, want_grad = oracle(pred, target, grad=True, **kw)
    assert_close(loss, want_loss, cdt, scale)
    assert_close(grad, want_grad, cdt, 1.0)
    ref_loss, ref_grad = ref_fn(pred, target, **kw)
    assert_close(loss, ref_loss, cdt, scale)
    assert_close(grad, ref_grad, cdt, 1.0)


@given(problem=class_problems("probs", min_weight=0.1), layout=st.sampled_from(LAYOUTS))
def test_cross_entropy_gradient_closed_form(problem, layout):
    check_against_oracle(fl.cross_entropy_and_grad, problem["pred"], problem["target"],
                         problem["kwargs"], problem["scale"], layout)


@given(problem=class_problems("logits", min_weight=0.1), layout=st.sampled_from(LAYOUTS))
def test_softmax_cross_entropy_gradient_closed_form(problem, layout):
    check_against_oracle(fl.softmax_cross_entropy_and_grad, problem["pred"], problem["target"],
                         problem["kwargs"], problem["scale"], layout)


@given(problem=mse_problems(), layout=st.sampled_from(LAYOUTS))
def test_mean_squared_error_gradient_closed_form(problem, layout):
    check_against_oracle(fl.mean_squared_error_and_grad, problem["pred"], problem["target"],
                         problem["kwargs"], problem["scale"], layout)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_squared_error_gradient_scales(dtype):
    pred, target = make(fl.mean_squared_error_and_grad, dtype=dtype)
    d = pred.astype(np.float64) - target.astype(dtype)
    assert_close(fl.mean_squared_error_and_grad(pred, target)[1], 2 * d / (N * C), dtype)
    assert_close(fl.mean_squared_error_and_grad(pred, target, reduction="sum")[1], 2 * d, dtype)
    assert_close(fl.mean_squared_error_and_grad(pred, target, reduction="none")[1], 2 * d / C,
                 dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_gradient_is_p_minus_q_over_n(dtype):
    x, t = make(fl.softmax_cross_entropy_and_grad, dtype=dtype)
    x64 = x.astype(np.float64)
    p = np.exp(x64 - x64.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    q = np.eye(C)[t]
    assert_close(fl.softmax_cross_entropy_and_grad(x, t)[1], (p - q) / N, dtype)
    s = 0.2
    qs = (1 - s) * q + s / C
    assert_close(fl.softmax_cross_entropy_and_grad(x, t, label_smoothing=s, reduction="sum")[1],
                 p - qs, dtype)


def test_cross_entropy_gradient_formula():
    p, t = make(fl.cross_entropy_and_grad)
    w = np.array([0.5, 2.0, 1.0, 3.0])
    g = np.zeros_like(p)
    g[np.arange(N), t] = -w[t] / (p[np.arange(N), t] + 1e-7)
    assert_close(fl.cross_entropy_and_grad(p, t, weight=w)[1], g / w[t].sum(), np.float64)


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("target", ["index", "one_hot", "soft"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_softmax_gradient_rows_sum_to_zero(dtype, target, label_smoothing, reduction):
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 5.0, (20, 7)).astype(dtype)
    t = rng.integers(0, 7, 20)
    if target == "one_hot":
        t = np.eye(7)[t]
    elif target == "soft":
        t = rng.uniform(size=(20, 7))
        t /= t.sum(axis=1, keepdims=True)
    _, grad = fl.softmax_cross_entropy_and_grad(x, t, reduction=reduction,
                                                label_smoothing=label_smoothing)
    atol = 1e-6 if dtype == np.float32 else 1e-15
    np.testing.assert_allclose(grad.astype(np.float64).sum(axis=1), 0.0, atol=atol)
    assert np.abs(grad).max() > 1e-3  # not trivially zero


@pytest.mark.parametrize("fn,kind", [(f, k) for f in CLASS_GRADS for k in ("index", "dense")]
                         + [(fl.mean_squared_error_and_grad, "dense")],
                         ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_none_rows_are_per_row_derivatives(fn, kind):
    pred, target = make(fn, kind, n=5)
    kw = {} if fn is fl.mean_squared_error_and_grad else {"weight": [0.5, 2.0, 1.0, 3.0],
                                                          "label_smoothing": 0.1}
    _, g_none = fn(pred, target, reduction="none", **kw)
    _, g_sum = fn(pred, target, reduction="sum", **kw)
    if fn is fl.mean_squared_error_and_grad:
        # squared error's per-sample value is the mean over the row: 1/C of the sum's slope
        assert_close(g_none, g_sum / C, np.float64)
    else:
        assert_close(g_none, g_sum, np.float64)
    for i in range(5):
        _, g_row = fn(pred[i], target[i], reduction="none", **kw)
        assert_close(g_none[i], g_row, np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_at_extreme_logits(dtype):
    _, g = fl.softmax_cross_entropy_and_grad(np.array([[1e8, 1e8]], dtype), np.array([1]))
    np.testing.assert_allclose(g, [[0.5, -0.5]], rtol=1e-6)
    _, g = fl.softmax_cross_entropy_and_grad(np.array([[-1000.0, 0.0]], dtype), np.array([0]))
    np.testing.assert_allclose(g, [[-1.0, 1.0]], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_minus_inf_logits_never_give_nan_gradients(dtype, reduction):
    x = np.array([[-np.inf, 0.0, 1.0], [2.0, -np.inf, -np.inf], [-np.inf, 3.0, -np.inf]], dtype)
    for target, kw in [(np.array([2, 0, 1]), {}),
                       (np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), {}),
                       (np.array([2, 0, 1]), {"weight": [0.0, 1.0, 2.0]}),
                       (np.array([2, 0, 1]), {"weight": [0.0, 0.0, 0.0], "reduction": "sum"})]:
        kw = {"reduction": reduction, **kw}
        loss, g = fl.softmax_cross_entropy_and_grad(x, target, **kw)
        assert not np.isnan(g).any()
        assert g[0, 0] == 0.0 and g[1, 1] == 0.0 and g[1, 2] == 0.0
        assert g[2, 0] == 0.0 and g[2, 2] == 0.0
        assert not np.isnan(loss).any()
        assert_close(g, softmax_cross_entropy_oracle(x, target, grad=True, **kw)[1], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_target_term_has_exactly_zero_gradient_where_p_plus_eps_is_0(dtype):
    p = np.array([[0.0, 1.0], [0.5, 0.0]], dtype)
    _, g = fl.cross_entropy_and_grad(p, np.array([[0.0, 1.0], [1.0, 0.0]]), eps=0.0,
                                     reduction="sum")
    np.testing.assert_array_equal(g, [[0.0, -1.0], [-2.0, 0.0]])
    _, g = fl.cross_entropy_and_grad(p, np.array([1, 0]), eps=0.0, reduction="sum")
    np.testing.assert_array_equal(g, [[0.0, -1.0], [-2.0, 0.0]])
    _, g = fl.cross_entropy_and_grad(p, np.array([1, 0]), eps=0.0, weight=[1.0, 0.0],
                                     label_smoothing=0.5, reduction="sum")
    assert not np.isnan(g).any()
    np.testing.assert_array_equal(g[:, 1], [0.0, 0.0])


# ---------------------------------------------------------------------------
# all rows ignored, and a zero divisor with rows that count
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", CLASS_GRADS, ids=name_of)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_ignored_batch(fn, dtype):
    pred, _ = make(fn, dtype=dtype)
    target = np.full(N, -100, np.int16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, g = fn(pred, target, ignore_index=-100)
        assert type(loss) is np.dtype(dtype).type and np.isnan(loss)
        np.testing.assert_array_equal(g, np.zeros((N, C)))
        out = np.full((N, C), np.nan, dtype)
        loss, g = fn(pred, target, ignore_index=-100, reduction="sum", weight=np.ones(C),
                     label_smoothing=0.3, out=out)
        assert loss == 0.0 and g is out
        np.testing.assert_array_equal(out, np.zeros((N, C)))
        loss, g = fn(pred, target, ignore_index=-100, reduction="none")
        np.testing.assert_array_equal(loss, np.zeros(N))
        np.testing.assert_array_equal(g, np.zeros((N, C)))


@pytest.mark.parametrize("fn", CLASS_GRADS, ids=name_of)
def test_ignored_rows_get_exactly_zero_gradient(fn):
    pred, _ = make(fn, n=5)
    target = np.array([1, -100, 3, -100, 0])
    for reduction in ("mean", "sum", "none"):
        out = np.full(pred.shape, np.nan)
        _, g = fn(pred, target, ignore_index=-100, reduction=reduction, label_smoothing=0.2,
                  weight=[1.0, 2.0, 3.0, 4.0], out=out)
        np.testing.assert_array_equal(g[[1, 3]], 0.0)
        assert np.isfinite(g).all() and (g[[0, 2, 4]] != 0).any()


@pytest.mark.parametrize("fn", CLASS_GRADS, ids=name_of)
def test_zero_divisor_with_counted_rows_gives_nan_entries(fn):
    pred, _ = make(fn, n=4)
    target = np.array([1, -100, 3, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, g = fn(pred, target, weight=np.zeros(C), ignore_index=-100)
    assert np.isnan(loss)
    # 0 / 0 where the rows count, exactly 0 where they are ignored (PyTorch's rule)
    assert np.isnan(g[[0, 2, 3]]).all()
    np.testing.assert_array_equal(g[1], 0.0)
    loss, g = fn(pred, target, weight=np.zeros(C), ignore_index=-100, reduction="sum")
    assert loss == 0.0
    np.testing.assert_array_equal(g, 0.0)


# ---------------------------------------------------------------------------
# out=
# ---------------------------------------------------------------------------

WEIGHT_OPTIONS = [
    (fl.cross_entropy_and_grad, "weight"), (fl.cross_entropy_and_grad, "sample_weight"),
    (fl.softmax_cross_entropy_and_grad, "weight"),
    (fl.softmax_cross_entropy_and_grad, "sample_weight"),
    (fl.mean_squared_error_and_grad, "sample_weight"),
    (fl.sigmoid_binary_cross_entropy_and_grad, "weight"),
    (fl.sigmoid_binary_cross_entropy_and_grad, "pos_weight"),
    (fl.sigmoid_binary_cross_entropy_and_grad, "sample_weight"),
    (fl.binary_cross_entropy_and_grad, "weight"),
    (fl.binary_cross_entropy_and_grad, "pos_weight"),
    (fl.binary_cross_entropy_and_grad, "sample_weight"),
]


@pytest.mark.parametrize("fn, option", WEIGHT_OPTIONS,
                         ids=[f"{name_of(f)}-{o}" for f, o in WEIGHT_OPTIONS])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_out_sharing_memory_with_a_weight_read_in_place(fn, option, reduction):
    """Float64 weights are read where they lie: an out= over the same
    memory must not change what the kernels read (it is filled from a new
    gradient), and gives the bits of a separate out."""
    n, c = 6, 5
    rng = np.random.default_rng(11)
    if fn in (fl.cross_entropy_and_grad, fl.binary_cross_entropy_and_grad):
        pred = rng.uniform(0.05, 0.95, (n, c))
    else:
        pred = rng.normal(0.0, 2.0, (n, c))
    if fn in PAIRS and fn is not fl.mean_squared_error_and_grad:
        target = rng.integers(0, c, n)
    elif fn is fl.mean_squared_error_and_grad:
        target = rng.normal(0.0, 1.0, (n, c))
    else:
        target = (rng.random((n, c)) < 0.5).astype(np.float64)
    length = n if option == "sample_weight" else c
    buf = rng.uniform(0.5, 2.0, n * c)
    out = buf.reshape(n, c)
    for where in (slice(0, length), slice(n * c - length, n * c)):
        buf[:] = rng.uniform(0.5, 2.0, n * c)
        w = buf[where]
        want = fn(pred, target, reduction=reduction, **{option: w.copy()})
        got = fn(pred, target, reduction=reduction, out=out, **{option: w})
        assert got[1] is out
        assert_same(got[0], want[0])
        np.testing.assert_array_equal(out, want[1])


@pytest.mark.parametrize("fn", GRADS, ids=name_of)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, ">f8"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("out_layout", ["C", "F", "strided", "reversed"])
def test_out_is_filled_in_place_and_returned(fn, dtype, reduction, out_layout):
    pred, target = make(fn, "dense", n=5, dtype=dtype)
    cdt = compute_dtype(pred)
    want_loss, want = fn(pred, target, reduction=reduction)
    big = np.full((10, 2 * C), -7.0, cdt)
    out = {"C": np.full(pred.shape, np.nan, cdt),
           "F": np.asfortranarray(np.full(pred.shape, np.nan, cdt)),
           "strided": big[::2, ::2],
           "reversed": np.full(pred.shape, np.nan, cdt)[::-1, ::-1]}[out_layout]
    loss, grad = fn(pred, target, reduction=reduction, out=out)
    assert grad is out
    assert np.shares_memory(grad, out)
    np.testing.assert_array_equal(grad, want)
    assert_same(loss, want_loss)
    if out_layout == "strided":
        untouched = np.ones(big.shape, bool)
        untouched[::2, ::2] = False
        assert (big[untouched] == -7.0).all()


@pytest.mark.parametrize("fn", GRADS, ids=name_of)
def test_out_for_one_sample(fn):
    pred, target = make(fn, "dense")
    out = np.empty(C)
    loss, grad = fn(pred[0], target[0], out=out)
    assert grad is out
    np.testing.assert_array_equal(out, fn(pred[0], target[0])[1])


def bad_outs(pred):
    """(description, out, expected error) for a float64 pred of shape (N, C)."""
    ro = np.full(pred.shape, 3.0)
    ro.flags.writeable = False
    return [
        ("shape", np.full((N, C + 1), 3.0), ValueError),
        ("flat", np.full(N * C, 3.0), ValueError),
        ("transposed", np.full((C, N), 3.0), ValueError),
        ("row", np.full((1, C), 3.0), ValueError),
        ("float32", np.full(pred.shape, 3.0, np.float32), TypeError),
        ("big_endian", np.full(pred.shape, 3.0, ">f8"), TypeError),
        ("int64", np.full(pred.shape, 3, np.int64), TypeError),
        ("complex", np.full(pred.shape, 3.0, np.complex128), TypeError),
        ("read_only", ro, ValueError),
        ("list", [[3.0] * C] * N, TypeError),
        ("tuple", tuple((3.0,) * C for _ in range(N)), TypeError),
    ]


@pytest.mark.parametrize("fn", GRADS, ids=name_of)
@pytest.mark.parametrize("case", range(11))
def test_wrong_out_raises_before_any_write(fn, case):
    pred, target = make(fn, "dense")
    what, out, error = bad_outs(pred)[case]
    before = np.array(out, copy=True)
    with pytest.raises(error):
        fn(pred, target, out=out)
    np.testing.assert_array_equal(np.asarray(out), before)


@pytest.mark.parametrize("fn", CLASS_GRADS, ids=name_of)
@pytest.mark.parametrize("options", [
    {}, {"ignore_index": None}, {"reduction": "sum"}, {"reduction": "none"},
    {"ignore_index": None, "label_smoothing": 0.1}, {"weight": np.ones(5)},
    {"n_threads": 2}], ids=str)
@pytest.mark.parametrize("bad_row", [0, 299, 599])
def test_bad_label_leaves_out_untouched(fn, options, bad_row):
    """The reference checks every label before it writes; so must the
    kernel, even when the bad label is in the last block."""
    rng = np.random.default_rng(bad_row)
    pred = rng.random((600, 5)) + 0.1
    labels = rng.integers(0, 5, 600)
    labels[bad_row] = 5
    out = np.full(pred.shape, 3.0)
    with pytest.raises(IndexError, match=f"row {bad_row}"):
        fn(pred, labels, out=out, **options)
    assert (out == 3.0).all()
    with pytest.raises(IndexError, match=f"row {bad_row}"):
        getattr(ref, fn.__name__)(pred, labels, out=out, **options)
    assert (out == 3.0).all()


@pytest.mark.parametrize("fn", GRADS, ids=name_of)
def test_float64_out_for_float32_pred_is_a_type_error(fn):
    pred, target = make(fn, "dense", dtype=np.float32)
    out = np.full(pred.shape, 3.0)
    with pytest.raises(TypeError):
        fn(pred, target, out=out)
    assert (out == 3.0).all()


@pytest.mark.parametrize("shape", LARGE_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_and_wide_gradients_match_the_closed_form(shape, dtype):
    probs, logits, labels, dense, weight = large_inputs(shape, dtype, seed=10, low=0.01,
                                                        label_dtype=np.uint32)
    labels = labels if len(shape) == 2 else labels[0]
    kw = {"weight": weight, "label_smoothing": 0.05}
    for reduction in ("mean", "sum", "none"):
        for fn, pred, target, options in [
                (fl.cross_entropy_and_grad, probs, labels, kw),
                (fl.softmax_cross_entropy_and_grad, logits, labels, kw),
                (fl.softmax_cross_entropy_and_grad, logits, dense, {}),
                (fl.mean_squared_error_and_grad, logits, dense, {})]:
            loss, grad = fn(pred, target, reduction=reduction, **options)
            want_loss, want_grad = PAIRS[fn][1](pred, target, reduction=reduction, grad=True,
                                                **options)
            assert_close(loss, want_loss, dtype, 20.0)
            # p_ic * sum_k q_ik - q_ic cancels, and a sum over 70001 classes
            # carries rounding of ~1e-13 relative to the largest entry
            assert_close(grad, want_grad, dtype, 100.0 * np.abs(want_grad).max())
