"""The losses: each against its formula written out in NumPy
(tests/support.py, after docs/contract.md) and against fastloss.reference;
weight, ignore_index, label_smoothing, eps, the extreme logits and sizes
beyond any fixed buffer."""
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastloss as fl
import fastloss.reference as ref
from support import (LARGE_SHAPES, LAYOUTS, assert_close, check_result_type, class_problems,
                     compute_dtype, cross_entropy_oracle, in_layout, large_inputs,
                     mean_squared_error_oracle, mse_problems, softmax_cross_entropy_oracle)


def none_shape(pred):
    return np.shape(pred)[:-1]


# ---------------------------------------------------------------------------
# hypothesis: fastloss == formula == reference
# ---------------------------------------------------------------------------

def check_against_formula_and_reference(fn, oracle, problem, layout, target_layout=False):
    """fn on ``pred`` in ``layout`` (and ``target`` too, for the squared
    error) gives the result type of its reduction, the formula's value and
    fastloss.reference's."""
    pred, target, kw = problem["pred"], problem["target"], problem["kwargs"]
    cdt = compute_dtype(pred)
    got = fn(in_layout(pred, layout), in_layout(target, layout) if target_layout else target,
             **kw)
    check_result_type(got, cdt, none_shape(pred), kw["reduction"])
    assert_close(got, oracle(pred, target, **kw), cdt, problem["scale"])
    assert_close(got, getattr(ref, fn.__name__)(pred, target, **kw), cdt, problem["scale"])


@given(problem=class_problems("probs"), layout=st.sampled_from(LAYOUTS))
def test_cross_entropy_matches_formula_and_reference(problem, layout):
    check_against_formula_and_reference(fl.cross_entropy, cross_entropy_oracle, problem, layout)


@given(problem=class_problems("logits"), layout=st.sampled_from(LAYOUTS))
def test_softmax_cross_entropy_matches_formula_and_reference(problem, layout):
    check_against_formula_and_reference(fl.softmax_cross_entropy, softmax_cross_entropy_oracle,
                                        problem, layout)


@given(problem=mse_problems(), layout=st.sampled_from(LAYOUTS))
def test_mean_squared_error_matches_formula_and_reference(problem, layout):
    check_against_formula_and_reference(fl.mean_squared_error, mean_squared_error_oracle,
                                        problem, layout, target_layout=True)


# ---------------------------------------------------------------------------
# the formulas, spelled out once more on fixed inputs
# ---------------------------------------------------------------------------

PROBS = np.array([[0.1, 0.6, 0.3],
                  [0.7, 0.2, 0.1],
                  [0.25, 0.25, 0.5],
                  [0.0, 0.9, 0.1]])
LOGITS = np.array([[1.0, 2.0, 0.5],
                   [-3.0, 0.0, 3.0],
                   [10.0, 10.0, 10.0],
                   [0.3, -0.2, 7.0]])
LABELS = np.array([1, 0, 2, 1])
WEIGHT = np.array([0.5, 2.0, 1.5])


def test_cross_entropy_gathered_formula():
    eps = 1e-7
    rows = -np.log(PROBS[np.arange(4), LABELS] + eps)
    assert_close(fl.cross_entropy(PROBS, LABELS, reduction="none"), rows, np.float64)
    assert_close(fl.cross_entropy(PROBS, LABELS, reduction="sum"), rows.sum(), np.float64)
    assert_close(fl.cross_entropy(PROBS, LABELS), rows.mean(), np.float64)


def test_cross_entropy_weighted_mean_divides_by_the_target_weights():
    w_t = WEIGHT[LABELS]
    rows = -w_t * np.log(PROBS[np.arange(4), LABELS] + 1e-7)
    assert_close(fl.cross_entropy(PROBS, LABELS, weight=WEIGHT, reduction="none"), rows,
                 np.float64)
    assert_close(fl.cross_entropy(PROBS, LABELS, weight=WEIGHT), rows.sum() / w_t.sum(),
                 np.float64)


def test_softmax_cross_entropy_formula():
    lse = np.log(np.exp(LOGITS).sum(axis=1))
    rows = lse - LOGITS[np.arange(4), LABELS]
    assert_close(fl.softmax_cross_entropy(LOGITS, LABELS, reduction="none"), rows, np.float64)
    assert_close(fl.softmax_cross_entropy(LOGITS, LABELS), rows.mean(), np.float64)
    w_t = WEIGHT[LABELS]
    assert_close(fl.softmax_cross_entropy(LOGITS, LABELS, weight=WEIGHT),
                 (w_t * rows).sum() / w_t.sum(), np.float64)
    # equal logits: log C
    assert_close(fl.softmax_cross_entropy(LOGITS[2], 0), np.log(3.0), np.float64)


def test_dense_targets_weighted_formula_and_divisor():
    q = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.1, 0.1, 0.8]])
    rows = -(WEIGHT * q * np.log(PROBS + 1e-7)).sum(axis=1)
    assert_close(fl.cross_entropy(PROBS, q, weight=WEIGHT, reduction="none"), rows, np.float64)
    assert_close(fl.cross_entropy(PROBS, q, weight=WEIGHT), rows.sum() / 4, np.float64)
    lse = np.log(np.exp(LOGITS).sum(axis=1, keepdims=True))
    rows = (WEIGHT * q * (lse - LOGITS)).sum(axis=1)
    assert_close(fl.softmax_cross_entropy(LOGITS, q, weight=WEIGHT), rows.sum() / 4, np.float64)


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy], ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25, 1.0])
def test_index_targets_equal_their_one_hot(fn, dtype, reduction, label_smoothing):
    pred = (PROBS if fn is fl.cross_entropy else LOGITS).astype(dtype)
    one_hot = np.eye(3)[LABELS]
    got = fn(pred, LABELS, reduction=reduction, label_smoothing=label_smoothing)
    want = fn(pred, one_hot, reduction=reduction, label_smoothing=label_smoothing)
    assert_close(got, want, dtype, scale=10.0)


def test_negative_weights_are_allowed():
    weight = np.array([-1.0, 2.0, 0.5])
    got = fl.cross_entropy(PROBS, LABELS, weight=weight, reduction="none")
    assert_close(got, cross_entropy_oracle(PROBS, LABELS, reduction="none", weight=weight),
                 np.float64)
    got = fl.softmax_cross_entropy(LOGITS, LABELS, weight=weight)
    assert_close(got, softmax_cross_entropy_oracle(LOGITS, LABELS, weight=weight), np.float64)


@pytest.mark.parametrize("weight_dtype", [np.int64, np.float32, np.float64, np.bool_])
def test_weight_is_converted_to_the_computation_dtype(weight_dtype):
    weight = np.array([1, 2, 3]).astype(weight_dtype)
    for dtype in (np.float32, np.float64):
        got = fl.softmax_cross_entropy(LOGITS.astype(dtype), LABELS, weight=weight)
        assert type(got) is np.dtype(dtype).type
        assert_close(got, softmax_cross_entropy_oracle(LOGITS.astype(dtype), LABELS,
                                                       weight=weight), dtype)


# ---------------------------------------------------------------------------
# ignore_index
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy], ids=lambda f: f.__name__)
@pytest.mark.parametrize("label_dtype", [np.int8, np.int16, np.int64])
def test_ignore_index_minus_100(fn, label_dtype):
    pred = PROBS if fn is fl.cross_entropy else LOGITS
    labels = np.array([1, -100, 2, -100], label_dtype)
    rows = fn(pred, labels, ignore_index=-100, reduction="none")
    assert rows[1] == 0.0 and rows[3] == 0.0
    kept = fn(pred[[0, 2]], labels[[0, 2]], reduction="none")
    np.testing.assert_array_equal(rows[[0, 2]], kept)
    # ignored rows add nothing to the divisor
    assert_close(fn(pred, labels, ignore_index=-100), kept.mean(), np.float64)
    w = WEIGHT[[1, 2]]
    assert_close(fn(pred, labels, ignore_index=-100, weight=WEIGHT),
                 fn(pred[[0, 2]], labels[[0, 2]], weight=WEIGHT, reduction="sum") / w.sum(),
                 np.float64)
    # without ignore_index, -100 is an out-of-range label
    with pytest.raises(IndexError, match=re.escape("target -100 is out of range for 3 classes (row 1)")):
        fn(pred, labels)


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy], ids=lambda f: f.__name__)
def test_ignore_index_inside_the_class_range(fn):
    pred = PROBS if fn is fl.cross_entropy else LOGITS
    rows = fn(pred, LABELS, ignore_index=1, reduction="none", label_smoothing=0.1, weight=WEIGHT)
    want = (cross_entropy_oracle if fn is fl.cross_entropy else softmax_cross_entropy_oracle)(
        pred, LABELS, ignore_index=1, reduction="none", label_smoothing=0.1, weight=WEIGHT)
    assert rows[0] == 0.0 and rows[3] == 0.0 and rows[1] > 0 and rows[2] > 0
    assert_close(rows, want, np.float64)


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy], ids=lambda f: f.__name__)
def test_ignore_index_above_the_class_range(fn):
    pred = PROBS if fn is fl.cross_entropy else LOGITS
    labels = np.array([1, 7, 2, 7], np.uint8)
    rows = fn(pred, labels, ignore_index=7, reduction="none")
    assert rows[1] == 0.0 and rows[3] == 0.0
    np.testing.assert_array_equal(rows[[0, 2]], fn(pred[[0, 2]], labels[[0, 2]], reduction="none"))


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy], ids=lambda f: f.__name__)
def test_ignore_index_is_compared_as_an_integer(fn):
    pred = PROBS if fn is fl.cross_entropy else LOGITS
    # -100 is 156 as a uint8 bit pattern, but -100 != 156
    labels = np.array([1, 156, 2, 0], np.uint8)
    with pytest.raises(IndexError, match=re.escape("target 156 is out of range for 3 classes (row 1)")):
        fn(pred, labels, ignore_index=-100)
    # 255 does not fit an int8: an int8 -1 is not ignored by 255
    labels = np.array([1, -1, 2, 0], np.int8)
    with pytest.raises(IndexError, match=re.escape("target -1 is out of range for 3 classes (row 1)")):
        fn(pred, labels, ignore_index=255)
    # nor is a uint8 255 by -1
    labels = np.array([1, 255, 2, 0], np.uint8)
    with pytest.raises(IndexError, match=re.escape("target 255 is out of range for 3 classes (row 1)")):
        fn(pred, labels, ignore_index=-1)
    # a uint8 255 is ignored by 255, a uint64 2**64 - 1 by 2**64 - 1
    labels = np.array([1, 255, 2, 0], np.uint8)
    assert fn(pred, labels, ignore_index=255, reduction="none")[1] == 0.0
    labels = np.array([1, 2**64 - 1, 2, 0], np.uint64)
    assert fn(pred, labels, ignore_index=2**64 - 1, reduction="none")[1] == 0.0
    # an int64 -1 is not ignored by 2**64 - 1
    with pytest.raises(IndexError, match=re.escape("target -1 is out of range for 3 classes (row 1)")):
        fn(pred, np.array([1, -1, 2, 0]), ignore_index=2**64 - 1)


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy], ids=lambda f: f.__name__)
def test_ignore_index_of_a_single_sample(fn):
    pred = (PROBS if fn is fl.cross_entropy else LOGITS)[0]
    assert fn(pred, -100, ignore_index=-100, reduction="none") == 0.0
    assert fn(pred, -100, ignore_index=-100, reduction="sum") == 0.0
    assert np.isnan(fn(pred, -100, ignore_index=-100))


# ---------------------------------------------------------------------------
# label_smoothing
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("s", [0.0, 0.1, 0.5, 1.0])
def test_label_smoothing_formula(s):
    c = 3
    q = (1 - s) * np.eye(c)[LABELS] + s / c
    rows = -(q * np.log(PROBS + 1e-7)).sum(axis=1)
    assert_close(fl.cross_entropy(PROBS, LABELS, label_smoothing=s, reduction="none"), rows,
                 np.float64)
    lse = np.log(np.exp(LOGITS).sum(axis=1, keepdims=True))
    rows = (q * (lse - LOGITS)).sum(axis=1)
    assert_close(fl.softmax_cross_entropy(LOGITS, LABELS, label_smoothing=s, reduction="none"),
                 rows, np.float64)
    # with a weight: w_c q'_ic, and the mean still divides by sum_i w[t_i]
    rows_w = (WEIGHT * q * (lse - LOGITS)).sum(axis=1)
    assert_close(fl.softmax_cross_entropy(LOGITS, LABELS, label_smoothing=s, weight=WEIGHT),
                 rows_w.sum() / WEIGHT[LABELS].sum(), np.float64)


def test_label_smoothing_of_dense_targets():
    q = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.1, 0.1, 0.8]])
    s = 0.3
    qs = (1 - s) * q + s / 3
    lse = np.log(np.exp(LOGITS).sum(axis=1, keepdims=True))
    assert_close(fl.softmax_cross_entropy(LOGITS, q, label_smoothing=s, reduction="none"),
                 (qs * (lse - LOGITS)).sum(axis=1), np.float64)
    assert_close(fl.cross_entropy(PROBS, q, label_smoothing=s, reduction="none"),
                 -(qs * np.log(PROBS + 1e-7)).sum(axis=1), np.float64)


def test_label_smoothing_zero_is_the_default():
    for fn, pred in ((fl.cross_entropy, PROBS), (fl.softmax_cross_entropy, LOGITS)):
        np.testing.assert_array_equal(fn(pred, LABELS, label_smoothing=0.0, reduction="none"),
                                      fn(pred, LABELS, reduction="none"))


# ---------------------------------------------------------------------------
# eps
# ---------------------------------------------------------------------------

def test_eps_default_is_1e_minus_7():
    np.testing.assert_array_equal(fl.cross_entropy(PROBS, LABELS, reduction="none"),
                                  fl.cross_entropy(PROBS, LABELS, eps=1e-7, reduction="none"))
    assert_close(fl.cross_entropy(np.array([0.5, 0.5]), 0, reduction="none"),
                 -np.log(0.5 + 1e-7), np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eps_zero_is_the_exact_log(dtype):
    p = np.array([[0.5, 0.5], [0.25, 0.75]], dtype)
    got = fl.cross_entropy(p, np.array([0, 0]), eps=0, reduction="none")
    assert_close(got, [np.log(2.0), np.log(4.0)], dtype)
    got = fl.cross_entropy(p, np.array([[0.0, 1.0], [0.5, 0.5]]), eps=0.0, reduction="none")
    assert_close(got, [np.log(2.0), 0.5 * (np.log(4.0) - np.log(0.75))], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eps_zero_with_zero_probability(dtype):
    p = np.array([[0.0, 1.0], [1.0, 0.0]], dtype)
    # a zero target term contributes exactly 0, even where p + eps == 0
    rows = fl.cross_entropy(p, np.array([[0.0, 1.0], [1.0, 0.0]]), eps=0.0, reduction="none")
    np.testing.assert_array_equal(rows, [0.0, 0.0])
    rows = fl.cross_entropy(p, np.array([1, 0]), eps=0.0, reduction="none")
    np.testing.assert_array_equal(rows, [0.0, 0.0])
    # a zero weight zeroes the coefficient too, even with smoothing
    rows = fl.cross_entropy(p, np.array([1, 0]), eps=0.0, weight=[0.0, 1.0],
                            label_smoothing=0.5, reduction="none")
    assert np.isfinite(rows[0]) and rows[0] == 0.0
    # where the target weight is not zero, the loss is the infinite true value
    rows = fl.cross_entropy(p, np.array([0, 0]), eps=0.0, reduction="none")
    assert rows[0] == np.inf and rows[1] == 0.0


def test_eps_other_values():
    for eps in (1e-3, 0.5, 2.0):
        assert_close(fl.cross_entropy(PROBS, LABELS, eps=eps, reduction="none"),
                     -np.log(PROBS[np.arange(4), LABELS] + eps), np.float64)
    # p == 0 at the target with the default eps: -log(1e-7)
    assert_close(fl.cross_entropy(PROBS[3], 0, reduction="none"), -np.log(1e-7), np.float64)


# ---------------------------------------------------------------------------
# extreme logits: finite losses for any finite logits
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("target", [1, 0, "dense"])
def test_huge_equal_logits_give_ln_2(dtype, target):
    x = np.array([[1e8, 1e8]], dtype)
    t = np.array([[0.5, 0.5]]) if target == "dense" else np.array([target])
    for reduction in ("mean", "sum"):
        got = fl.softmax_cross_entropy(x, t, reduction=reduction)
        np.testing.assert_allclose(got, np.log(2.0), rtol=1e-6 if dtype == np.float32 else 1e-12)
    got = fl.softmax_cross_entropy(x[0], t[0], reduction="none")
    np.testing.assert_allclose(got, np.log(2.0), rtol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logit_gap_of_1000(dtype):
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fl.softmax_cross_entropy(np.array([[-1000.0, 0.0]], dtype),
                                                        np.array([0])), 1000.0, rtol=rtol)
    np.testing.assert_allclose(fl.softmax_cross_entropy(np.array([[1000.0, 0.0]], dtype),
                                                        np.array([1])), 1000.0, rtol=rtol)
    # the dominant class costs ~e^-1000, which is 0 in floating point
    assert fl.softmax_cross_entropy(np.array([[-1000.0, 0.0]], dtype), np.array([1])) == 0.0
    # float64 range
    if dtype == np.float64:
        np.testing.assert_allclose(
            fl.softmax_cross_entropy(np.array([[1e300, -1e300]]), np.array([1])), 2e300,
            rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_minus_inf_logits_with_zero_target_weight_contribute_0(dtype):
    x = np.array([[-np.inf, 0.0, 1.0], [2.0, -np.inf, -np.inf]], dtype)
    want = [np.log(1.0 + np.e) - 1.0, 0.0]
    rows = fl.softmax_cross_entropy(x, np.array([2, 0]), reduction="none")
    assert not np.isnan(rows).any()
    assert_close(rows, want, dtype)
    rows = fl.softmax_cross_entropy(x, np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]),
                                    reduction="none")
    assert_close(rows, want, dtype)
    # a zero weight on the -inf class keeps smoothing finite
    rows = fl.softmax_cross_entropy(x[:1], np.array([2]), weight=[0.0, 1.0, 1.0],
                                    label_smoothing=0.3, reduction="none")
    assert np.isfinite(rows).all()
    assert_close(rows, softmax_cross_entropy_oracle(x[:1], np.array([2]), weight=[0.0, 1.0, 1.0],
                                                    label_smoothing=0.3, reduction="none"), dtype)
    # smoothing puts weight on the -inf class: the true loss is +inf, not NaN
    rows = fl.softmax_cross_entropy(x[:1], np.array([2]), label_smoothing=0.3, reduction="none")
    assert rows[0] == np.inf


# ---------------------------------------------------------------------------
# squared error
# ---------------------------------------------------------------------------

def test_mean_squared_error_formula():
    rng = np.random.default_rng(5)
    p, t = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    sq = (p - t) ** 2
    assert_close(fl.mean_squared_error(p, t), sq.sum() / 18, np.float64)
    assert_close(fl.mean_squared_error(p, t, reduction="sum"), sq.sum(), np.float64)
    assert_close(fl.mean_squared_error(p, t, reduction="none"), sq.mean(axis=1), np.float64)
    assert_close(fl.mean_squared_error(p[0], t[0], reduction="none"), sq[0].mean(), np.float64)


def test_mean_squared_error_target_is_converted_like_pred():
    p = np.array([[1.5, -2.0], [0.0, 4.0]])
    t = [[1, 2], [3, 4]]
    want = ((p - np.array(t)) ** 2).mean()
    assert_close(fl.mean_squared_error(p, t), want, np.float64)
    assert_close(fl.mean_squared_error(p, np.array(t, np.uint8)), want, np.float64)
    assert_close(fl.mean_squared_error(p, np.array(t, np.bool_)),
                 ((p - np.array(t, bool)) ** 2).mean(), np.float64)
    got = fl.mean_squared_error(p.astype(np.float32), np.array(t, np.float64))
    assert type(got) is np.float32
    assert_close(got, want, np.float32)


# ---------------------------------------------------------------------------
# sizes beyond any fixed buffer or block: many rows, wide rows
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", LARGE_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_and_wide_inputs_match_the_formula(shape, dtype):
    probs, logits, plain, dense, weight = large_inputs(shape, dtype, seed=9, low=0.0,
                                                       label_dtype=np.int32)
    labels = plain.copy()
    labels[::7] = -100
    if len(shape) == 1:
        plain, labels = plain[0], plain[0]
    for reduction in ("mean", "sum", "none"):
        kw = {"reduction": reduction, "weight": weight, "label_smoothing": 0.05,
              "ignore_index": -100}
        assert_close(fl.cross_entropy(probs, labels, **kw),
                     cross_entropy_oracle(probs, labels, **kw), dtype)
        assert_close(fl.softmax_cross_entropy(logits, labels, **kw),
                     softmax_cross_entropy_oracle(logits, labels, **kw), dtype, 20.0)
        assert_close(fl.cross_entropy(probs, plain, reduction=reduction),
                     cross_entropy_oracle(probs, plain, reduction=reduction), dtype)
        assert_close(fl.softmax_cross_entropy(logits, dense, reduction=reduction),
                     softmax_cross_entropy_oracle(logits, dense, reduction=reduction), dtype, 20.0)
        assert_close(fl.mean_squared_error(logits, dense, reduction=reduction),
                     mean_squared_error_oracle(logits, dense, reduction=reduction), dtype)
