"""Reductions: how "mean", "sum" and "none" relate, the result types, empty
batches, zero divisors, float64 accumulation and NaN rows."""
import re
import warnings

import numpy as np
import pytest

import fastloss as fl
from support import (CASE_IDS, CASES, CLASS_FUNCS, assert_close, check_result_type, is_mse,
                     loss_of, make_problem, name_of)

N, C = 6, 4                 # make_problem's default batch


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---------------------------------------------------------------------------
# mean / sum / none and how they relate
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_sum_none_relate_by_the_divisor(fn, kind, dtype):
    pred, target = make_problem(fn, kind, dtype=dtype)
    options = [{}]
    if not is_mse(fn):
        options += [{"weight": [0.5, 2.0, 1.0, 3.0]}, {"label_smoothing": 0.3},
                    {"weight": [0.5, 2.0, 1.0, 3.0], "label_smoothing": 0.3}]
        if kind == "index":
            options += [{"ignore_index": int(target[0])},
                        {"ignore_index": int(target[0]), "weight": [0.5, 2.0, 1.0, 3.0]}]
    for kw in options:
        rows = loss_of(fn(pred, target, reduction="none", **kw))
        total = loss_of(fn(pred, target, reduction="sum", **kw))
        mean = loss_of(fn(pred, target, **kw))
        assert mean == loss_of(fn(pred, target, reduction="mean", **kw))  # "mean" is the default
        w = np.asarray(kw.get("weight", np.ones(C)), np.float64).astype(dtype)
        if is_mse(fn):
            divisor = N * C
            # squared error's per-sample value is the mean over the last axis
            assert_close(rows, ((pred.astype(np.float64) - target.astype(dtype)) ** 2).mean(axis=1),
                         dtype)
        elif kind == "dense":
            divisor = N
        else:
            kept = target != kw.get("ignore_index", -100)
            divisor = w.astype(np.float64)[target[kept]].sum()
            assert np.all(rows[~kept] == 0)
        if is_mse(fn):
            assert_close(total, rows.astype(np.float64).sum() * C, dtype)
        else:
            assert_close(total, rows.astype(np.float64).sum(), dtype)
        assert_close(mean, np.float64(total) / divisor, dtype)


@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("pred_dtype,result_type", [
    (np.float32, np.float32), (">f4", np.float32), (np.float64, np.float64), (">f8", np.float64),
    (np.float16, np.float32), (">f2", np.float32), (np.int8, np.float64),
    (np.int64, np.float64), (np.uint16, np.float64), (np.bool_, np.float64),
], ids=lambda v: np.dtype(v).str)
def test_result_types_are_exact(fn, kind, pred_dtype, result_type):
    """Losses in the computation dtype; gradients in the gradient dtype
    (native float16 for float16 input, else the computation dtype)."""
    pred, target = make_problem(fn, kind)
    pred = (pred > 0.5).astype(pred_dtype) if np.dtype(pred_dtype).kind in "iub" else \
        pred.astype(pred_dtype)
    cdt = np.dtype(result_type)
    gdt = np.dtype(np.float16) if np.dtype(pred_dtype).type is np.float16 else cdt
    for reduction in ("mean", "sum", "none"):
        result = fn(pred, target, reduction=reduction)
        check_result_type(loss_of(result), cdt, (N,), reduction)
        if isinstance(result, tuple):
            grad = result[1]
            assert type(grad) is np.ndarray and grad.dtype == gdt and grad.dtype.isnative
            assert grad.shape == pred.shape


@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_none_of_one_sample_is_0d(fn, kind, dtype):
    pred, target = make_problem(fn, kind, dtype=dtype)
    result = fn(pred[2], target[2], reduction="none")
    check_result_type(loss_of(result), np.dtype(dtype), (), "none")
    assert loss_of(result).tobytes() == loss_of(fn(pred, target, reduction="none"))[2].tobytes()
    for reduction in ("mean", "sum"):
        check_result_type(loss_of(fn(pred[2], target[2], reduction=reduction)), np.dtype(dtype),
                          (), reduction)


@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("reduction", ["avg", "MEAN", "Sum", "", None, 1, "elementwise_mean"],
                         ids=repr)
def test_unknown_reduction_lists_the_valid_ones(fn, kind, reduction):
    pred, target = make_problem(fn, kind)
    with pytest.raises(ValueError) as info:
        fn(pred, target, reduction=reduction)
    msg = str(info.value)
    assert re.search(re.escape(repr(reduction)), msg), msg
    assert re.search(re.escape("'mean', 'sum', 'none'"), msg), msg


# ---------------------------------------------------------------------------
# empty batches and zero divisors: nan / 0 / empty, no exception, no warning
# ---------------------------------------------------------------------------

def empty_batch_cases():
    options = {"plain": {}, "weight": {"weight": [1.0, 2.0, 3.0, 4.0]},
               "smoothing": {"label_smoothing": 0.2}, "ignore": {"ignore_index": -100}}
    for fn, kind in CASES:
        for name, kw in options.items():
            if is_mse(fn) and kw:
                continue  # squared error has no class options
            if kind == "dense" and name == "ignore":
                continue  # an error with dense targets (test_inputs)
            yield pytest.param(fn, kind, kw, id=f"{fn.__name__}-{kind}-{name}")


@pytest.mark.parametrize("fn,kind,options", list(empty_batch_cases()))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty_batch(fn, kind, options, dtype):
    pred = np.zeros((0, C), dtype)
    target = np.zeros((0, C)) if kind == "dense" else np.zeros(0, np.int64)
    cdt = np.dtype(dtype)
    mean = fn(pred, target, reduction="mean", **options)
    total = fn(pred, target, reduction="sum", **options)
    rows = fn(pred, target, reduction="none", **options)
    check_result_type(loss_of(mean), cdt, None, "mean")
    check_result_type(loss_of(total), cdt, None, "sum")
    check_result_type(loss_of(rows), cdt, (0,), "none")
    assert np.isnan(loss_of(mean))
    assert loss_of(total) == 0.0
    for result in (mean, total, rows):
        if isinstance(result, tuple):
            assert result[1].shape == (0, C) and result[1].dtype == cdt


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_row_ignored(fn, dtype):
    pred, _ = make_problem(fn, dtype=dtype)
    target = np.full(N, -100)
    mean = loss_of(fn(pred, target, ignore_index=-100))
    total = loss_of(fn(pred, target, ignore_index=-100, reduction="sum"))
    rows = loss_of(fn(pred, target, ignore_index=-100, reduction="none"))
    assert type(mean) is np.dtype(dtype).type and np.isnan(mean)
    assert type(total) is np.dtype(dtype).type and total == 0.0
    np.testing.assert_array_equal(rows, np.zeros(N, dtype))


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
def test_all_weights_zero_with_index_targets_gives_nan_mean(fn):
    pred, target = make_problem(fn)
    weight = np.zeros(C)
    assert np.isnan(loss_of(fn(pred, target, weight=weight)))
    assert loss_of(fn(pred, target, weight=weight, reduction="sum")) == 0.0
    np.testing.assert_array_equal(loss_of(fn(pred, target, weight=weight, reduction="none")),
                                  np.zeros(N))


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
def test_dense_targets_divide_by_rows_even_with_zero_weights(fn):
    pred, target = make_problem(fn, "dense")
    # PyTorch's rule: a dense target's mean divides by N, whatever the weights
    assert loss_of(fn(pred, target, weight=np.zeros(C))) == 0.0
    weight = np.array([0.5, 2.0, 1.0, 3.0])
    total = loss_of(fn(pred, target, weight=weight, reduction="sum"))
    assert_close(loss_of(fn(pred, target, weight=weight)), total / N, np.float64)


# ---------------------------------------------------------------------------
# float64 accumulation
# ---------------------------------------------------------------------------

def test_float32_squared_error_accumulates_in_float64():
    # a float32 running sum stalls at 2**24: 2**25 ones would sum to 2**24
    n = 2**25
    ones = np.ones((2**15, 2**10), np.float32)
    zeros = np.zeros((2**15, 2**10), np.float32)
    mean = fl.mean_squared_error(ones, zeros)
    total = fl.mean_squared_error(ones, zeros, reduction="sum")
    assert type(mean) is np.float32 and mean == 1.0
    assert type(total) is np.float32 and total == n
    row = fl.mean_squared_error(ones.reshape(-1), zeros.reshape(-1), reduction="none")
    assert row.dtype == np.float32 and row.shape == () and row == 1.0
    loss, grad = fl.mean_squared_error_and_grad(ones, zeros, reduction="sum")
    assert loss == n
    del grad


def test_float32_cross_entropy_accumulates_in_float64():
    n = 2**25
    p = np.float32(np.exp(-1.0))
    probs = np.full((n, 1), p, np.float32)
    target = np.zeros(n, np.int8)
    per_row = -np.log(np.float64(p) + 1e-7)
    total = fl.cross_entropy(probs, target, reduction="sum")
    assert type(total) is np.float32
    np.testing.assert_allclose(total, n * per_row, rtol=1e-6)
    mean = fl.cross_entropy(probs, target)
    np.testing.assert_allclose(mean, per_row, rtol=1e-6)


# ---------------------------------------------------------------------------
# NaN rows
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn,kind,where", [
    pytest.param(fn, kind, where, id=f"{fn.__name__}-{kind}-{where}")
    for fn, kind in CASES for where in ("pred", "target")
    if not (kind == "index" and where == "target")])  # integer labels cannot hold NaN
def test_nan_makes_only_its_row_nan(fn, kind, where):
    pred, target = make_problem(fn, kind)
    target = target.astype(np.float64) if kind == "dense" else target
    bad = pred.copy() if where == "pred" else pred
    bad_t = target.copy() if where == "target" else target
    row = 2
    # an element every formula reads: the target class (gathered cross-entropy
    # reads only that one), or one with a nonzero target weight
    col = int(target[row]) if kind == "index" else int(np.argmax(target[row]))
    if where == "pred":
        bad[row, col] = np.nan
    else:
        bad_t[row, col] = np.nan
    clean = loss_of(fn(pred, target, reduction="none"))
    rows = loss_of(fn(bad, bad_t, reduction="none"))
    assert np.isnan(rows[row])
    others = np.arange(N) != row
    np.testing.assert_array_equal(rows[others], clean[others])
    assert np.isnan(loss_of(fn(bad, bad_t)))
    assert np.isnan(loss_of(fn(bad, bad_t, reduction="sum")))


@pytest.mark.parametrize("fn", [fl.softmax_cross_entropy, fl.softmax_cross_entropy_and_grad],
                         ids=name_of)
def test_nan_logit_off_target_makes_its_row_nan(fn):
    # every logit enters LSE
    pred, target = make_problem(fn)
    bad = pred.copy()
    bad[1, (int(target[1]) + 1) % C] = np.nan
    rows = loss_of(fn(bad, target, reduction="none"))
    assert np.isnan(rows[1]) and not np.isnan(np.delete(rows, 1)).any()


# ---------------------------------------------------------------------------
# results are fresh arrays
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
def test_results_are_fresh_arrays(fn, kind):
    pred, target = make_problem(fn, kind)
    first = fn(pred, target, reduction="none")
    kept = [np.array(a, copy=True) for a in (first if isinstance(first, tuple) else (first,))]
    second = fn(pred[::-1] * 0.5, target[::-1], reduction="none")
    for a, k in zip(first if isinstance(first, tuple) else (first,), kept):
        np.testing.assert_array_equal(a, k)     # not a buffer the next call reuses
        assert not np.shares_memory(a, pred) and not np.shares_memory(a, target)
    for a in second if isinstance(second, tuple) else (second,):
        for b in first if isinstance(first, tuple) else (first,):
            assert not np.shares_memory(a, b)
    one_class = fn(pred[:, :1], target[:, :1] if kind == "dense" or is_mse(fn) else
                   np.zeros(N, np.int64), reduction="none")
    for a in one_class if isinstance(one_class, tuple) else (one_class,):
        assert not np.shares_memory(a, pred)
