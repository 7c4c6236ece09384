"""Inputs: what the compiled functions accept (dtypes, shapes, layouts,
options), how they convert it, and every error (its type, and a message
naming the bad value, the shapes or the row)."""
import re

import numpy as np
import pytest

import fastloss as fl
from support import (ALL_FUNCS, CASE_IDS, CASES, CLASS_FUNCS, GRADS, INT_DTYPES, MSE_FUNCS,
                     assert_same, assert_same_result, in_layout, is_mse, is_probs, layouts,
                     loss_of, name_of)

N, C = 5, 4


def make_pred(fn, n=N, c=C, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    if is_probs(fn):
        p = rng.uniform(0.05, 1.0, (n, c))
        p /= p.sum(axis=1, keepdims=True)
    else:
        p = rng.normal(0.0, 3.0, (n, c))
    return p.astype(dtype)


def make_target(fn, kind, n=N, c=C, seed=1):
    rng = np.random.default_rng(seed)
    if is_mse(fn) or kind == "dense":
        t = rng.uniform(0.0, 1.0, (n, c))
        if not is_mse(fn):
            t /= t.sum(axis=1, keepdims=True)
        return t
    return rng.integers(0, c, n).astype(np.int64)


# ---------------------------------------------------------------------------
# dtypes of pred
# ---------------------------------------------------------------------------

# (float16 is computed in float32: tests/test_half.py)
CONVERTED_DTYPES = INT_DTYPES + [np.bool_]


@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", CONVERTED_DTYPES, ids=lambda d: np.dtype(d).name)
def test_other_real_dtypes_compute_in_float64(fn, kind, dtype):
    # values every dtype holds exactly: 0 and 1
    pred = (np.arange(N * C).reshape(N, C) % 3 == 0).astype(dtype)
    target = make_target(fn, kind)
    got = fn(pred, target, reduction="none")
    want = fn(pred.astype(np.float64), target, reduction="none")
    assert_same_result(got, want)
    assert loss_of(got).dtype == np.float64
    assert type(loss_of(fn(pred, target))) is np.float64


@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", ["<f4", ">f4", "<f8", ">f8"])
def test_float32_stays_float32_float64_stays_float64(fn, kind, dtype):
    pred = make_pred(fn).astype(dtype)
    cdt = np.dtype(np.float32) if pred.dtype.itemsize == 4 else np.dtype(np.float64)
    target = make_target(fn, kind)
    for reduction in ("mean", "sum"):
        assert type(loss_of(fn(pred, target, reduction=reduction))) is cdt.type
    result = fn(pred, target, reduction="none")
    for arr in (result if isinstance(result, tuple) else (result,)):
        assert type(arr) is np.ndarray
        assert arr.dtype == cdt and arr.dtype.isnative
    if isinstance(result, tuple):
        assert result[1].shape == pred.shape


@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
def test_nested_lists_are_accepted(fn, kind):
    pred = make_pred(fn)
    target = make_target(fn, kind)
    assert_same_result(fn(pred.tolist(), target.tolist()), fn(pred, target))


# ---------------------------------------------------------------------------
# class-index targets
# ---------------------------------------------------------------------------

LABEL_DTYPES = INT_DTYPES + [np.intp, np.uintp, np.longlong, np.ulonglong, np.intc, np.uintc,
                             np.dtype(">i2"), np.dtype(">u4"), np.dtype(">i8"), np.dtype(">u8")]


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("label_dtype", LABEL_DTYPES, ids=lambda d: np.dtype(d).str)
def test_every_integer_label_dtype(fn, label_dtype):
    pred = make_pred(fn)
    labels = np.array([3, 0, 1, 3, 2])
    for reduction in ("mean", "sum", "none"):
        want = fn(pred, labels.astype(np.int64), reduction=reduction)
        got = fn(pred, labels.astype(label_dtype), reduction=reduction)
        assert_same_result(got, want)
    want = fn(pred, labels.astype(np.int64), weight=[0.5, 1.0, 2.0, 3.0], ignore_index=1,
              label_smoothing=0.1)
    got = fn(pred, labels.astype(label_dtype), weight=[0.5, 1.0, 2.0, 3.0], ignore_index=1,
             label_smoothing=0.1)
    assert_same_result(got, want)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
def test_labels_as_a_list_of_python_ints(fn):
    pred = make_pred(fn)
    assert_same_result(fn(pred, [3, 0, 1, 3, 2]), fn(pred, np.array([3, 0, 1, 3, 2])))


# ---------------------------------------------------------------------------
# one sample: pred of shape (C,)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("label", [2, np.int8(2), np.uint64(2), np.array(2), np.array(2, np.uint8)],
                         ids=["python_int", "np.int8", "np.uint64", "0d_int64", "0d_uint8"])
def test_one_sample_with_an_index_target(fn, label):
    pred = make_pred(fn, n=1)
    batch = fn(pred, np.array([2]), reduction="none")
    single = fn(pred[0], label, reduction="none")
    _check_one_sample(fn, pred, batch, single)
    for reduction in ("mean", "sum"):
        _check_same_reduced(fn(pred[0], label, reduction=reduction),
                            fn(pred, np.array([2]), reduction=reduction))


@pytest.mark.parametrize("fn", CLASS_FUNCS + MSE_FUNCS, ids=name_of)
def test_one_sample_with_a_dense_target(fn):
    pred = make_pred(fn, n=1)
    target = make_target(fn, "dense", n=1)
    batch = fn(pred, target, reduction="none")
    single = fn(pred[0], target[0], reduction="none")
    _check_one_sample(fn, pred, batch, single)
    for reduction in ("mean", "sum"):
        _check_same_reduced(fn(pred[0], target[0], reduction=reduction),
                            fn(pred, target, reduction=reduction))


def _check_same_reduced(single, batch):
    """One sample of shape (C,) reduces like the batch of shape (1, C)."""
    assert_same(loss_of(single), loss_of(batch))
    if isinstance(batch, tuple):
        assert single[1].shape == batch[1].shape[1:]
        assert single[1].tobytes() == batch[1][0].tobytes()


def _check_one_sample(fn, pred, batch, single):
    loss_b, loss_s = loss_of(batch), loss_of(single)
    assert type(loss_s) is np.ndarray and loss_s.shape == () and loss_s.dtype == np.float64
    assert loss_s.tobytes() == loss_b[0].tobytes()
    if isinstance(single, tuple):
        assert single[1].shape == pred.shape[1:]
        np.testing.assert_array_equal(single[1], batch[1][0])


# ---------------------------------------------------------------------------
# memory layouts: same result as a contiguous native copy
# ---------------------------------------------------------------------------

LAYOUT_NAMES = ["fortran", "strided", "reversed", "readonly", "byteswapped", "unaligned",
                "column_view", "memmap"]


@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pred_layouts_give_the_contiguous_result(fn, kind, dtype, reduction, tmp_path):
    pred = make_pred(fn, dtype=dtype)
    target = make_target(fn, kind)
    want = fn(pred, target, reduction=reduction)
    variants = layouts(pred, tmp_path)
    assert set(variants) == set(LAYOUT_NAMES)
    for name, variant in variants.items():
        got = fn(variant, target, reduction=reduction)
        assert_same_result(got, want)
        if isinstance(got, tuple):
            assert got[1].dtype.isnative and got[1].shape == pred.shape


@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
def test_target_layouts_give_the_contiguous_result(fn, kind, tmp_path):
    pred = make_pred(fn)
    target = make_target(fn, kind)
    for target_dtype in ((np.int8, np.uint16, np.int64) if kind == "index"
                         else (np.float32, np.float64)):
        t = target.astype(target_dtype)
        want = fn(pred, t, reduction="none")
        for name, variant in layouts(t, tmp_path).items():
            assert_same_result(fn(pred, variant, reduction="none"), want)


@pytest.mark.parametrize("fn,kind", [c for c in CASES if not is_mse(c[0])],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if not is_mse(c[0])])
def test_weight_layouts_give_the_contiguous_result(fn, kind, tmp_path):
    pred = make_pred(fn)
    target = make_target(fn, kind)
    weight = np.array([0.5, 2.0, 1.0, 3.0])
    want = fn(pred, target, weight=weight)
    for name, variant in layouts(weight, tmp_path).items():
        assert_same_result(fn(pred, target, weight=variant), want)
    assert_same_result(fn(pred, target, weight=weight.tolist()), want)


@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
def test_every_argument_read_only_at_once(fn, kind):
    pred = make_pred(fn)
    target = make_target(fn, kind)
    want = fn(pred, target, reduction="none")
    p, t = in_layout(pred, "readonly"), in_layout(target, "readonly")
    assert_same_result(fn(p, t, reduction="none"), want)


# ---------------------------------------------------------------------------
# inputs are never modified
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, ">f8"])
def test_inputs_are_never_modified(fn, kind, dtype):
    pred = make_pred(fn, dtype=dtype)
    target = make_target(fn, kind)
    weight = np.array([0.5, 2.0, 1.0, 3.0])
    saved = [a.copy() for a in (pred, target, weight)]
    options = [{}, {"reduction": "sum"}, {"reduction": "none"}]
    if not is_mse(fn):
        options.append({"weight": weight, "label_smoothing": 0.2})
        if kind == "index":
            options.append({"weight": weight, "ignore_index": int(target[0])})
    for kw in options:
        if fn in GRADS:
            fn(pred, target, out=np.empty(pred.shape, np.dtype(dtype).newbyteorder("=")), **kw)
        fn(pred, target, **kw)
        for a, s in zip((pred, target, weight), saved):
            assert a.dtype == s.dtype
            np.testing.assert_array_equal(a, s)


# ---------------------------------------------------------------------------
# keyword-only options
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
def test_options_are_keyword_only(fn, kind):
    with pytest.raises(TypeError):
        fn(make_pred(fn), make_target(fn, kind), "sum")


# ---------------------------------------------------------------------------
# error rows: pred
# ---------------------------------------------------------------------------

BAD_DTYPE_ARRAYS = [
    np.ones((N, C), np.complex128),
    np.ones((N, C), np.complex64),
    np.full((N, C), 0.5, dtype=object),
    np.full((N, C), "a"),
    np.full((N, C), b"a"),
    np.zeros((N, C), "V8"),
    np.zeros((N, C), "datetime64[ns]"),
    np.zeros((N, C), "timedelta64[s]"),
]
BAD_DTYPE_IDS = [str(a.dtype) for a in BAD_DTYPE_ARRAYS]


@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("pred", BAD_DTYPE_ARRAYS, ids=BAD_DTYPE_IDS)
def test_pred_of_a_non_real_dtype_is_a_type_error_naming_it(fn, kind, pred):
    with pytest.raises(TypeError, match=re.escape(str(pred.dtype))):
        fn(pred, make_target(fn, kind))


@pytest.mark.parametrize("fn", ALL_FUNCS, ids=name_of)
def test_a_0d_pred_is_a_value_error_naming_the_shape(fn):
    """pred needs a class axis; any number of axes above 0 is fine
    (tests/test_axes.py)."""
    pred = np.full((), 0.25)
    target = 0 if not is_mse(fn) else np.zeros(())
    with pytest.raises(ValueError, match=re.escape(str(()))):
        fn(pred, target)


@pytest.mark.parametrize("fn", ALL_FUNCS, ids=name_of)
@pytest.mark.parametrize("shape", [(N, 0), (0, 0), (0,)], ids=str)
def test_zero_classes_is_a_value_error(fn, shape):
    pred = np.zeros(shape)
    if is_mse(fn):
        target = np.zeros(shape)
    else:
        target = np.zeros(shape[:-1], np.int64)
    with pytest.raises(ValueError, match="0 classes"):
        fn(pred, target)


# ---------------------------------------------------------------------------
# error rows: targets
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("target", [np.array([0.0, 1.0, 2.0, 3.0, 0.0]),
                                    np.array([0, 1, 2, 3, 0], np.float32),
                                    np.array([True, False, True, False, True])],
                         ids=["float64", "float32", "bool"])
def test_float_or_bool_labels_are_a_type_error(fn, target):
    with pytest.raises(TypeError, match="class indices must be integers"):
        fn(make_pred(fn), target)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("target", [2.0, np.float32(2.0), True, np.array(2.0)],
                         ids=["py_float", "np.float32", "py_bool", "0d_float"])
def test_float_or_bool_label_of_one_sample_is_a_type_error(fn, target):
    with pytest.raises(TypeError, match="class indices must be integers"):
        fn(make_pred(fn)[0], target)


def assert_value_error_names_both_shapes(fn, pred, target):
    """fn(pred, target) raises a ValueError whose message names both shapes."""
    with pytest.raises(ValueError) as info:
        fn(pred, target)
    msg = str(info.value)
    assert re.search(re.escape(str(np.shape(target))), msg), msg
    assert re.search(re.escape(str(np.shape(pred))), msg), msg


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("pred_shape,target", [
    ((N, C), np.zeros(N + 1, np.int64)),
    ((N, C), np.zeros(N - 1, np.int8)),
    ((N, C), np.zeros((N, 1), np.int64)),
    ((N, C), np.zeros((N, C), np.int64)),          # an integer one-hot is not a dense target
    ((N, C), 1),                                    # a Python int for a batch
    ((C,), np.zeros(1, np.int64)),
    ((C,), np.zeros(C, np.int32)),
], ids=["N+1", "N-1", "Nx1", "int_NxC", "py_int_for_batch", "1_for_sample", "int_C_for_sample"])
def test_integer_target_of_another_shape_names_both_shapes(fn, pred_shape, target):
    pred = make_pred(fn)[: pred_shape[0]] if len(pred_shape) == 2 else make_pred(fn)[0]
    assert pred.shape == pred_shape
    assert_value_error_names_both_shapes(fn, pred, target)
    if not isinstance(target, int):
        # and says what an integer target is, and what a one-hot one must be
        with pytest.raises(ValueError) as info:
            fn(pred, target)
        msg = str(info.value)
        assert f"class indices of shape {pred_shape[:-1]}" in msg, msg
        assert "one-hot rows must be float or bool" in msg, msg


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("pred_shape,target_shape", [
    ((N, C), (N, C - 1)),
    ((N, C), (1, C)),          # would broadcast in NumPy
    ((N, C), (C,)),            # would broadcast in NumPy
    ((N, C), (N, C, 1)),
    ((N, C), (1, N, C)),
    ((C,), (1, C)),
    ((C,), (C + 1,)),
], ids=str)
def test_dense_target_of_another_shape_names_both_shapes(fn, pred_shape, target_shape):
    pred = make_pred(fn) if len(pred_shape) == 2 else make_pred(fn)[0]
    assert pred.shape == pred_shape
    assert_value_error_names_both_shapes(fn, pred, np.full(target_shape, 1.0 / C))


@pytest.mark.parametrize("fn", MSE_FUNCS, ids=name_of)
@pytest.mark.parametrize("pred_shape,target", [
    ((N, C), np.zeros((N, C - 1))),
    ((N, C), np.zeros((1, C))),
    ((N, C), np.zeros(C)),
    ((N, C), np.zeros(N, np.int64)),
    ((N, C), np.zeros((N, C, 1))),
    ((N, C), 0.0),
    ((C,), np.zeros((1, C))),
    ((C,), 0.0),
], ids=["N,C-1", "1,C", "C", "N_int", "N,C,1", "scalar", "1,C_for_sample", "scalar_for_sample"])
def test_mse_target_must_have_exactly_preds_shape(fn, pred_shape, target):
    pred = make_pred(fn) if len(pred_shape) == 2 else make_pred(fn)[0]
    assert pred.shape == pred_shape
    assert_value_error_names_both_shapes(fn, pred, target)


@pytest.mark.parametrize("fn,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("bad", [np.ones((N, C), np.complex128),
                                 np.full((N, C), 0.5, dtype=object)], ids=["complex", "object"])
def test_target_of_a_non_real_dtype_is_a_type_error_naming_it(fn, kind, bad):
    target = bad if kind == "dense" else bad[:, 0]
    with pytest.raises(TypeError, match=re.escape(str(bad.dtype))):
        fn(make_pred(fn), target)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
def test_dense_bool_target_is_converted_to_zeros_and_ones(fn):
    pred = make_pred(fn)
    onehot = np.eye(C, dtype=bool)[[3, 0, 1, 3, 2]]
    assert_same_result(fn(pred, onehot, reduction="none"),
                       fn(pred, onehot.astype(np.float64), reduction="none"))


# ---------------------------------------------------------------------------
# error rows: options
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn,kind", [c for c in CASES if not is_mse(c[0])],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if not is_mse(c[0])])
@pytest.mark.parametrize("weight", [np.ones(C + 1), np.ones(C - 1), np.ones((C, 1)),
                                    np.ones((1, C)), np.float64(1.0)], ids=str)
def test_weight_of_another_shape_is_a_value_error(fn, kind, weight):
    with pytest.raises(ValueError) as info:
        fn(make_pred(fn), make_target(fn, kind), weight=weight)
    msg = str(info.value)
    assert "weight" in msg and str(np.shape(weight)) in msg, msg


@pytest.mark.parametrize("fn,kind", [c for c in CASES if not is_mse(c[0])],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if not is_mse(c[0])])
@pytest.mark.parametrize("weight", [np.ones(C, np.complex128), np.full(C, 1.0, object)],
                         ids=["complex", "object"])
def test_weight_of_a_non_real_dtype_is_a_type_error(fn, kind, weight):
    with pytest.raises(TypeError, match=re.escape(str(weight.dtype))):
        fn(make_pred(fn), make_target(fn, kind), weight=weight)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("ignore_index", [0, -100])
def test_ignore_index_with_a_dense_target_is_a_value_error(fn, ignore_index):
    with pytest.raises(ValueError, match="ignore_index"):
        fn(make_pred(fn), make_target(fn, "dense"), ignore_index=ignore_index)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("ignore_index", [1.0, np.float64(1.0), "1", True, [1]], ids=repr)
def test_ignore_index_must_be_an_integer(fn, ignore_index):
    with pytest.raises(TypeError):
        fn(make_pred(fn), make_target(fn, "index"), ignore_index=ignore_index)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
def test_ignore_index_accepts_numpy_integers(fn):
    pred, target = make_pred(fn), make_target(fn, "index")
    want = fn(pred, target, ignore_index=int(target[0]))
    for cast in (np.int8, np.int64, np.uint16):
        assert_same_result(fn(pred, target, ignore_index=cast(target[0])), want)


def assert_value_error_names_the_option(fn, kind, option, value, text):
    """fn with ``option=value`` raises a ValueError naming the option and the value."""
    with pytest.raises(ValueError) as info:
        fn(make_pred(fn), make_target(fn, kind), **{option: value})
    msg = str(info.value)
    assert option in msg and text in msg, msg


@pytest.mark.parametrize("fn,kind", [c for c in CASES if not is_mse(c[0])],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if not is_mse(c[0])])
@pytest.mark.parametrize("value,text", [(-0.1, "-0.1"), (1.5, "1.5"), (1.0000001, "1.0000001"),
                                        (float("nan"), "nan"), (float("inf"), "inf")])
def test_label_smoothing_outside_0_1_is_a_value_error(fn, kind, value, text):
    assert_value_error_names_the_option(fn, kind, "label_smoothing", value, text)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("value", ["0.1", None, [0.1]], ids=repr)
def test_label_smoothing_not_a_number_is_a_type_error(fn, value):
    with pytest.raises(TypeError):
        fn(make_pred(fn), make_target(fn, "index"), label_smoothing=value)


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.cross_entropy_and_grad], ids=name_of)
@pytest.mark.parametrize("kind", ["index", "dense"])
@pytest.mark.parametrize("value,text", [(-1e-7, "-1e-07"), (-1.0, "-1.0"),
                                        (float("nan"), "nan"), (float("-inf"), "-inf")])
def test_negative_eps_is_a_value_error(fn, kind, value, text):
    assert_value_error_names_the_option(fn, kind, "eps", value, text)


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.cross_entropy_and_grad], ids=name_of)
@pytest.mark.parametrize("value", ["1e-7", None], ids=repr)
def test_eps_not_a_number_is_a_type_error(fn, value):
    with pytest.raises(TypeError):
        fn(make_pred(fn), make_target(fn, "index"), eps=value)


@pytest.mark.parametrize("fn", [fl.softmax_cross_entropy, fl.softmax_cross_entropy_and_grad,
                                fl.mean_squared_error, fl.mean_squared_error_and_grad],
                         ids=name_of)
def test_eps_belongs_to_cross_entropy_on_probabilities_only(fn):
    kind = "dense" if is_mse(fn) else "index"
    with pytest.raises(TypeError):
        fn(make_pred(fn), make_target(fn, kind), eps=1e-7)


@pytest.mark.parametrize("fn", MSE_FUNCS, ids=name_of)
@pytest.mark.parametrize("option", [{"weight": np.ones(C)}, {"ignore_index": 0},
                                    {"label_smoothing": 0.1}], ids=lambda d: next(iter(d)))
def test_squared_error_has_no_class_options(fn, option):
    with pytest.raises(TypeError):
        fn(make_pred(fn), make_target(fn, "dense"), **option)


# ---------------------------------------------------------------------------
# error rows: labels out of range
# ---------------------------------------------------------------------------

def bad_label_cases():
    for dt in INT_DTYPES:
        yield dt, C, 3
        yield dt, np.iinfo(dt).max, 1
        if np.iinfo(dt).min < 0:
            yield dt, -1, 2
            yield dt, np.iinfo(dt).min, 4


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("label_dtype,bad,row", list(bad_label_cases()),
                         ids=lambda v: np.dtype(v).name if isinstance(v, type) else str(v))
def test_label_out_of_range_names_value_classes_and_row(fn, label_dtype, bad, row):
    target = np.array([3, 0, 1, 3, 2], label_dtype)
    target[row] = bad
    message = f"target {int(bad)} is out of range for {C} classes (row {row})"
    with pytest.raises(IndexError, match=re.escape(message)):
        fn(make_pred(fn), target)
    # options do not change the check (an ignore_index of another value included)
    with pytest.raises(IndexError, match=re.escape(message)):
        fn(make_pred(fn), target, reduction="none", weight=np.ones(C), ignore_index=0,
           label_smoothing=0.5)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
def test_the_first_bad_row_is_reported(fn):
    target = np.array([0, 1, -3, 7, 9])
    with pytest.raises(IndexError, match=re.escape(f"target -3 is out of range for {C} classes (row 2)")):
        fn(make_pred(fn), target)
    target = np.array([0, 1, 2, 7, -9])
    with pytest.raises(IndexError, match=re.escape(f"target 7 is out of range for {C} classes (row 3)")):
        fn(make_pred(fn), target)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("n,rows", [(1000, (0, 1)), (1000, (517, 900)), (1000, (999,)),
                                    (13, (12,)), (300, (260, 261))])
def test_bad_labels_among_many_int64_labels(fn, n, rows):
    """Contiguous int64 labels take a SIMD pass that only says whether some
    label is bad (whole vectors and a tail): the error still names the
    first bad row, and an ignore_index of the bad value ignores it."""
    rng = np.random.default_rng(n + rows[0])
    pred = make_pred(fn, n=n)
    target = rng.integers(0, C, n)
    for r, v in zip(rows, (-5, C + 2)):
        target[r] = v
    message = f"target {int(target[rows[0]])} is out of range for {C} classes (row {rows[0]})"
    with pytest.raises(IndexError, match=re.escape(message)):
        fn(pred, target)
    # the bad values ignored: the result of the rows that are left
    ignored = target.copy()
    ignored[list(rows)] = -5
    kept = np.ones(n, bool)
    kept[list(rows)] = False
    got = fn(pred, ignored, ignore_index=-5, reduction="none")
    want = fn(pred[kept], target[kept], reduction="none")
    got_loss = got[0] if isinstance(got, tuple) else got
    want_loss = want[0] if isinstance(want, tuple) else want
    np.testing.assert_array_equal(got_loss[kept], want_loss)
    np.testing.assert_array_equal(got_loss[~kept], 0.0)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("label", [C, -1, np.int8(-1), np.uint8(200), np.array(C), 10**6])
def test_label_out_of_range_for_one_sample_is_row_0(fn, label):
    message = f"target {int(label)} is out of range for {C} classes (row 0)"
    with pytest.raises(IndexError, match=re.escape(message)):
        fn(make_pred(fn)[0], label)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
def test_large_unsigned_labels_are_not_wrapped(fn):
    target = np.array([3, 0, 2**63 + 5, 3, 2], np.uint64)
    with pytest.raises(IndexError, match=re.escape(f"target {2**63 + 5} is out of range")):
        fn(make_pred(fn), target)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("label_dtype", [np.int64, np.int8, np.dtype(">i4")], ids=str)
def test_negative_labels_do_not_wrap_around(fn, label_dtype):
    # NumPy's x[-1] would read the last class; fastloss must refuse
    target = np.array([3, 0, 1, -1, 2], label_dtype)
    with pytest.raises(IndexError, match=re.escape(f"target -1 is out of range for {C} classes (row 3)")):
        fn(make_pred(fn), target)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
@pytest.mark.parametrize("bad_option,error", [
    ({"reduction": "avg"}, ValueError),
    ({"weight": np.ones(C + 1)}, ValueError),
    ({"label_smoothing": 2.0}, ValueError),
    ({"n_threads": 0}, ValueError),
    ({"ignore_index": 1.5}, TypeError),
], ids=lambda v: next(iter(v)) if isinstance(v, dict) else v.__name__)
def test_argument_errors_come_before_label_errors(fn, bad_option, error):
    target = np.array([3, 0, 99, 3, -1])
    with pytest.raises(error):
        fn(make_pred(fn), target, **bad_option)


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.cross_entropy_and_grad], ids=name_of)
def test_eps_error_comes_before_label_errors(fn):
    with pytest.raises(ValueError, match="eps"):
        fn(make_pred(fn), np.array([3, 0, 99, 3, -1]), eps=-1.0)


@pytest.mark.parametrize("fn", CLASS_FUNCS, ids=name_of)
def test_dtype_and_shape_errors_come_before_label_errors(fn):
    with pytest.raises(TypeError):
        fn(np.ones((N, C), np.complex128), np.array([3, 0, 99, 3, -1]))
    with pytest.raises(ValueError):
        fn(make_pred(fn)[:, :0], np.array([3, 0, 99, 3, -1]))
    with pytest.raises(ValueError):
        fn(make_pred(fn), np.array([3, 0, 99, 3]))


@pytest.mark.parametrize("fn", [fl.cross_entropy_and_grad, fl.softmax_cross_entropy_and_grad],
                         ids=name_of)
@pytest.mark.parametrize("out,error", [
    (np.zeros((N, C), np.float32), TypeError),
    (np.zeros((N, C + 1)), ValueError),
    ([[0.0] * C] * N, TypeError),
], ids=["dtype", "shape", "list"])
def test_out_errors_come_before_label_errors(fn, out, error):
    with pytest.raises(error):
        fn(make_pred(fn), np.array([3, 0, 99, 3, -1]), out=out)
