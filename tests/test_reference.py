"""Tests of the pure-NumPy reference (fastloss.reference and fastloss.reference.book).

The reference is the oracle of every other test, so it is checked here
against formulas written out independently, against central differences
for every gradient, and against PyTorch's cross_entropy semantics worked out
by hand.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import fastloss.reference as ref
from fastloss.reference import book
from support import REDUCTIONS

# The reference promises no warning, ever.
pytestmark = pytest.mark.filterwarnings("error")

FAST = settings(max_examples=25, deadline=None)


# ---------------------------------------------------------------------------
# Independent formulas

def softmax_formula(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def one_hot(t, n_classes):
    return np.eye(n_classes)[t]


def reduce_rows(row_losses, reduction, divisor):
    if reduction == "none":
        return row_losses
    return row_losses.sum() / (divisor if reduction == "mean" else 1)


def numerical_grad(f, x, h=1e-6):
    """Central difference of the scalar function f at x (float64)."""
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += h
        minus[idx] -= h
        grad[idx] = (f(plus) - f(minus)) / (2 * h)
    return grad


def scalar(loss):
    """The differentiated quantity: the loss, or sum_i l_i for "none"."""
    return float(np.sum(loss))


# ---------------------------------------------------------------------------
# Strategies

@st.composite
def class_problems(draw, min_value=-3.0, max_value=3.0):
    """A small float64 (N, C) or (C,) pred, a target and cross-entropy options."""
    n_classes = draw(st.integers(1, 5))
    one_sample = draw(st.booleans())
    n_rows = 1 if one_sample else draw(st.integers(1, 4))
    shape = (n_classes,) if one_sample else (n_rows, n_classes)
    pred = np.array(draw(st.lists(st.floats(min_value, max_value),
                                  min_size=n_rows * n_classes,
                                  max_size=n_rows * n_classes))).reshape(shape)
    options = {"reduction": draw(st.sampled_from(REDUCTIONS)),
               "label_smoothing": draw(st.sampled_from([0.0, 0.1, 1.0]))}
    if draw(st.booleans()):
        options["weight"] = np.array(draw(st.lists(st.floats(0.5, 2.0), min_size=n_classes,
                                                   max_size=n_classes)))
    if draw(st.booleans()):
        dense = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n_rows * n_classes,
                                       max_size=n_rows * n_classes))).reshape(shape)
        return pred, dense, options
    labels = np.array(draw(st.lists(st.integers(0, n_classes - 1), min_size=n_rows,
                                    max_size=n_rows)))
    if not one_sample and draw(st.booleans()):
        labels[draw(st.integers(0, n_rows - 1))] = -100  # at least one row kept
        labels[0] = draw(st.integers(0, n_classes - 1))
        options["ignore_index"] = -100
    return pred, labels.reshape(shape[:-1]), options


# ---------------------------------------------------------------------------
# The book's formulas

@FAST
@given(class_problems(min_value=-5.0, max_value=5.0))
def test_softmax_cross_entropy_is_cross_entropy_of_softmax(problem):
    logits, target, options = problem
    probs = softmax_formula(logits)
    expected = ref.cross_entropy(probs, target, eps=0.0, **options)
    assert_allclose(ref.softmax_cross_entropy(logits, target, **options), expected,
                    rtol=1e-9, atol=1e-12)


@FAST
@given(st.integers(1, 6), st.integers(2, 6), st.data())  # the book reads C == 1 as one-hot
def test_cross_entropy_matches_book_formula(n_rows, n_classes, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    probs = softmax_formula(rng.normal(size=(n_rows, n_classes)))
    labels = rng.integers(0, n_classes, n_rows)
    rows = np.arange(n_rows)
    expected = -np.sum(np.log(probs[rows, labels] + 1e-7)) / n_rows
    assert_allclose(ref.cross_entropy(probs, labels), expected, rtol=1e-12)
    assert_allclose(ref.cross_entropy(probs, one_hot(labels, n_classes)), expected,
                    rtol=1e-12)
    assert_allclose(book.cross_entropy_error(probs, labels), expected, rtol=1e-12)
    assert_allclose(book.cross_entropy_error(probs, one_hot(labels, n_classes)), expected,
                    rtol=1e-12)
    # The book's chapter-4 form for one-hot targets.
    t = one_hot(labels, n_classes)
    assert_allclose(ref.cross_entropy(probs, t, reduction="sum"),
                    -np.sum(t * np.log(probs + 1e-7)), rtol=1e-12)


def test_book_cross_entropy_error_of_one_sample():
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    expected = -np.log(0.6 + 1e-7)
    assert book.cross_entropy_error(y, np.int64(2)) == pytest.approx(expected, rel=1e-15)
    assert book.cross_entropy_error(y, np.array(2)) == pytest.approx(expected, rel=1e-15)
    assert book.cross_entropy_error(y, np.eye(10)[2]) == pytest.approx(expected, rel=1e-15)
    assert ref.cross_entropy(y, 2) == pytest.approx(expected, rel=1e-12)


def test_book_softmax():
    x = np.array([[0.3, 2.9, 4.0], [1.0, 1.0, 1.0]])
    e = np.exp(x)
    assert_allclose(book.softmax(x), e / e.sum(axis=1, keepdims=True), rtol=1e-15)
    assert_allclose(book.softmax(x[0]), e[0] / e[0].sum(), rtol=1e-15)
    assert_array_equal(book.softmax(np.array([1010.0, 1000.0, 990.0])),
                       book.softmax(np.array([20.0, 10.0, 0.0])))


@FAST
@given(st.integers(1, 5), st.integers(1, 5), st.data())
def test_squared_error_matches_book_formula(n_rows, n_classes, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    y, t = rng.normal(size=(2, n_rows, n_classes))
    half_sum = 0.5 * np.sum((y - t) ** 2)
    assert book.sum_squared_error(y, t) == half_sum
    assert book.mean_squared_error(y, t) == half_sum
    assert_allclose(ref.mean_squared_error(y, t, reduction="sum"), 2 * half_sum, rtol=1e-14)
    assert_allclose(ref.mean_squared_error(y, t), np.mean((y - t) ** 2), rtol=1e-14)
    assert_allclose(ref.mean_squared_error(y, t, reduction="none"),
                    np.mean((y - t) ** 2, axis=1), rtol=1e-14)


@pytest.mark.parametrize("dout", [1, 2.5])
@pytest.mark.parametrize("dense", [False, True])
def test_book_softmax_with_loss(dense, dout):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 2])
    t = one_hot(labels, 3) if dense else labels
    layer = book.SoftmaxWithLoss()
    y = softmax_formula(x)
    loss = layer.forward(x, t)
    assert loss == layer.loss
    assert layer.t is t
    assert_allclose(layer.y, y, rtol=1e-15)
    assert loss == pytest.approx(-np.mean(np.log(y[np.arange(4), labels] + 1e-7)), rel=1e-14)
    expected = (y - one_hot(labels, 3)) * dout / 4
    assert_allclose(layer.backward(dout), expected, rtol=1e-14, atol=1e-16)
    _, grad = ref.softmax_cross_entropy_and_grad(x, labels)
    assert_allclose(layer.backward(dout), grad * dout, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("t", [np.int64(1), np.array([0.0, 1.0, 0.0])])
def test_book_softmax_with_loss_of_one_sample(t):
    x = np.array([0.5, -1.0, 2.0])
    layer = book.SoftmaxWithLoss()
    y = softmax_formula(x)
    assert layer.forward(x, t) == pytest.approx(-np.log(y[1] + 1e-7), rel=1e-14)
    assert_allclose(layer.backward(), y - np.array([0.0, 1.0, 0.0]), rtol=1e-14)


# ---------------------------------------------------------------------------
# Gradients against central differences

@FAST
@given(class_problems())
def test_softmax_cross_entropy_grad_is_derivative(problem):
    logits, target, options = problem
    loss, grad = ref.softmax_cross_entropy_and_grad(logits, target, **options)
    assert_array_equal(loss, ref.softmax_cross_entropy(logits, target, **options))
    expected = numerical_grad(
        lambda x: scalar(ref.softmax_cross_entropy(x, target, **options)), logits)
    assert_allclose(grad, expected, rtol=1e-6, atol=1e-7)


@FAST
@given(class_problems(min_value=0.05, max_value=1.0), st.sampled_from([0.0, 1e-7, 0.5]))
def test_cross_entropy_grad_is_derivative(problem, eps):
    probs, target, options = problem
    loss, grad = ref.cross_entropy_and_grad(probs, target, eps=eps, **options)
    assert_array_equal(loss, ref.cross_entropy(probs, target, eps=eps, **options))
    expected = numerical_grad(
        lambda p: scalar(ref.cross_entropy(p, target, eps=eps, **options)), probs)
    assert_allclose(grad, expected, rtol=1e-6, atol=1e-6)


@FAST
@given(st.integers(0, 4), st.integers(1, 4), st.sampled_from(REDUCTIONS), st.booleans(),
       st.data())
def test_squared_error_grad_is_derivative(n_rows, n_classes, reduction, one_sample, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    shape = (n_classes,) if one_sample else (n_rows, n_classes)
    pred, target = rng.normal(size=(2, *shape))
    loss, grad = ref.mean_squared_error_and_grad(pred, target, reduction=reduction)
    assert_array_equal(loss, ref.mean_squared_error(pred, target, reduction=reduction))
    expected = numerical_grad(
        lambda p: scalar(ref.mean_squared_error(p, target, reduction=reduction)), pred)
    assert_allclose(grad, expected, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------
# PyTorch's semantics, by hand

def test_weighted_mean_divides_by_the_weights_of_the_targets():
    logits = np.log(np.array([[1.0, 1.0, 2.0], [1.0, 3.0, 4.0]]))  # p = x / row sum
    weight = np.array([1.0, 2.0, 3.0])
    labels = np.array([0, 2])
    rows = np.array([-1.0 * np.log(1 / 4), -3.0 * np.log(4 / 8)])
    assert ref.softmax_cross_entropy(logits, labels, weight=weight) == pytest.approx(
        rows.sum() / 4.0, rel=1e-14)
    assert ref.softmax_cross_entropy(logits, labels, weight=weight, reduction="sum") == (
        pytest.approx(rows.sum(), rel=1e-14))
    assert_allclose(ref.softmax_cross_entropy(logits, labels, weight=weight,
                                              reduction="none"), rows, rtol=1e-14)
    _, grad = ref.softmax_cross_entropy_and_grad(logits, labels, weight=weight)
    p = np.array([[0.25, 0.25, 0.5], [0.125, 0.375, 0.5]])
    expected = (p * np.array([[1.0], [3.0]]) - one_hot(labels, 3) * weight) / 4.0
    assert_allclose(grad, expected, rtol=1e-14, atol=1e-16)
    # Dense targets, weighted or not, divide by the number of rows.
    dense = ref.softmax_cross_entropy(logits, one_hot(labels, 3), weight=weight)
    assert dense == pytest.approx(rows.sum() / 2, rel=1e-14)


def test_ignore_index_drops_rows_from_loss_divisor_and_grad():
    logits = np.array([[0.0, 0.0], [5.0, -5.0], [np.log(3.0), 0.0]])
    labels = np.array([0, -100, 1])
    expected_rows = np.array([np.log(2.0), 0.0, np.log(4.0)])
    loss, grad = ref.softmax_cross_entropy_and_grad(logits, labels, ignore_index=-100)
    assert loss == pytest.approx((np.log(2.0) + np.log(4.0)) / 2, rel=1e-14)
    assert_allclose(ref.softmax_cross_entropy(logits, labels, ignore_index=-100,
                                              reduction="none"), expected_rows, rtol=1e-14)
    assert_allclose(grad, [[-0.25, 0.25], [0.0, 0.0], [0.375, -0.375]], rtol=1e-14)
    assert_array_equal(grad[1], 0.0)
    # Any int may be ignored, inside [0, C) too.
    assert ref.softmax_cross_entropy(logits, np.array([0, 1, 1]), ignore_index=1) == (
        pytest.approx(np.log(2.0), rel=1e-14))


def test_label_smoothing_mixes_the_uniform_distribution():
    logits = np.log(np.array([[1.0, 3.0]]))  # p = [0.25, 0.75]
    s = 0.5
    q = np.array([0.75, 0.25])  # (1 - s) * one_hot(0) + s / 2
    expected = -(q[0] * np.log(0.25) + q[1] * np.log(0.75))
    loss, grad = ref.softmax_cross_entropy_and_grad(logits, np.array([0]),
                                                    label_smoothing=s)
    assert loss == pytest.approx(expected, rel=1e-14)
    assert_allclose(grad, [[0.25 - 0.75, 0.75 - 0.25]], rtol=1e-14)
    dense = ref.softmax_cross_entropy(logits, np.array([[1.0, 0.0]]), label_smoothing=s)
    assert dense == pytest.approx(expected, rel=1e-14)
    assert ref.cross_entropy(np.array([[0.25, 0.75]]), np.array([0]), eps=0.0,
                             label_smoothing=s) == pytest.approx(expected, rel=1e-14)


def test_label_smoothing_with_weight_and_ignore_index():
    logits = np.log(np.array([[1.0, 1.0, 2.0], [1.0, 3.0, 4.0], [1.0, 1.0, 1.0]]))
    weight = np.array([1.0, 2.0, 3.0])
    labels = np.array([2, 1, 7])
    s = 0.3
    log_p = np.log(np.array([[0.25, 0.25, 0.5], [0.125, 0.375, 0.5]]))
    q = (1 - s) * one_hot(labels[:2], 3) + s / 3
    rows = -(weight * q * log_p).sum(axis=1)
    loss = ref.softmax_cross_entropy(logits, labels, weight=weight, ignore_index=7,
                                     label_smoothing=s)
    assert loss == pytest.approx(rows.sum() / (3.0 + 2.0), rel=1e-14)
    # PyTorch's form: (1 - s) * nll + s / C * smooth, each over sum_i w[t_i].
    nll = -(3.0 * log_p[0, 2] + 2.0 * log_p[1, 1]) / 5.0
    smooth = -(weight * log_p).sum() / 5.0
    assert loss == pytest.approx((1 - s) * nll + s / 3 * smooth, rel=1e-14)


@pytest.mark.parametrize("loss_and_grad", [ref.cross_entropy_and_grad,
                                           ref.softmax_cross_entropy_and_grad])
def test_all_ignored_batch(loss_and_grad):
    x = np.full((3, 4), 0.25)
    labels = np.full(3, -1)
    loss, grad = loss_and_grad(x, labels, ignore_index=-1)
    assert np.isnan(loss)
    assert_array_equal(grad, 0.0)
    loss, grad = loss_and_grad(x, labels, ignore_index=-1, reduction="sum")
    assert loss == 0.0
    assert_array_equal(grad, 0.0)
    loss, grad = loss_and_grad(x, labels, ignore_index=-1, reduction="none")
    assert_array_equal(loss, np.zeros(3))


@pytest.mark.parametrize("loss_and_grad", [ref.cross_entropy_and_grad,
                                           ref.softmax_cross_entropy_and_grad])
def test_zero_divisor_with_kept_rows_gives_nan(loss_and_grad):
    x = np.full((3, 4), 0.25)
    labels = np.array([1, -1, 2])
    weight = np.array([1.0, 0.0, 0.0, 1.0])
    loss, grad = loss_and_grad(x, labels, weight=weight, ignore_index=-1)
    assert np.isnan(loss)
    assert np.isnan(grad[[0, 2]]).all()
    assert_array_equal(grad[1], 0.0)
    loss, grad = loss_and_grad(x, labels, weight=weight, ignore_index=-1, reduction="sum")
    assert loss == 0.0
    assert_array_equal(grad, 0.0)


def test_torch_cross_entropy_agrees():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(6, 5))
    labels = np.array([0, 4, -100, 2, 2, 1])
    weight = rng.uniform(0.5, 2.0, 5)
    dense = softmax_formula(rng.normal(size=(6, 5)))
    for reduction in REDUCTIONS:
        for s in [0.0, 0.2]:
            for w in [None, weight]:
                tw = None if w is None else torch.from_numpy(w)
                expected = functional.cross_entropy(
                    torch.from_numpy(logits), torch.from_numpy(labels), weight=tw,
                    ignore_index=-100, reduction=reduction, label_smoothing=s).numpy()
                got = ref.softmax_cross_entropy(logits, labels, weight=w, ignore_index=-100,
                                                reduction=reduction, label_smoothing=s)
                assert_allclose(got, expected, rtol=1e-12)
                expected = functional.cross_entropy(
                    torch.from_numpy(logits), torch.from_numpy(dense), weight=tw,
                    reduction=reduction, label_smoothing=s).numpy()
                got = ref.softmax_cross_entropy(logits, dense, weight=w, reduction=reduction,
                                                label_smoothing=s)
                assert_allclose(got, expected, rtol=1e-12)


# ---------------------------------------------------------------------------
# Stability and exact zeros

def test_softmax_cross_entropy_is_stable():
    huge = np.array([[1e8, 1e8]], dtype=np.float32)
    assert ref.softmax_cross_entropy(huge, np.array([1])) == np.float32(np.log(2.0))
    assert ref.softmax_cross_entropy(np.array([[-1000.0, 0.0]]), np.array([0])) == 1000.0
    loss, grad = ref.softmax_cross_entropy_and_grad(np.array([[-np.inf, 0.0, 1.0]]),
                                                    np.array([[0.0, 0.5, 0.5]]))
    assert np.isfinite(loss)
    assert_array_equal(grad[0, 0], 0.0)
    assert np.isfinite(grad).all()


def test_zero_target_terms_are_exactly_zero():
    probs = np.array([[0.0, 1.0], [0.5, 0.5]])
    loss, grad = ref.cross_entropy_and_grad(probs, np.array([[0.0, 1.0], [1.0, 0.0]]),
                                            eps=0.0, reduction="none")
    assert_array_equal(loss, [0.0, np.log(2.0)])
    assert_array_equal(grad, [[0.0, -1.0], [-2.0, 0.0]])
    # A zero weight is a zero coefficient too; a nan weight of another class is unused.
    loss = ref.cross_entropy(probs, np.array([0, 1]), eps=0.0, weight=[0.0, np.nan],
                             reduction="none")
    assert_array_equal(loss, [0.0, np.nan])
    # A wrong class with zero probability costs an infinite loss.
    assert ref.cross_entropy(probs, np.array([0, 0]), eps=0.0) == np.inf


def test_nan_spoils_only_its_row():
    logits = np.array([[np.nan, 0.0], [1.0, 2.0]])
    loss = ref.softmax_cross_entropy(logits, np.array([1, 1]), reduction="none")
    assert np.isnan(loss[0]) and np.isfinite(loss[1])
    assert np.isnan(ref.softmax_cross_entropy(logits, np.array([1, 1])))
    pred = np.array([[np.nan, 0.0], [1.0, 2.0]])
    loss = ref.mean_squared_error(pred, np.zeros((2, 2)), reduction="none")
    assert np.isnan(loss[0]) and loss[1] == 2.5


def test_eps_zero_is_the_exact_log():
    probs = np.array([[0.2, 0.8]])
    assert ref.cross_entropy(probs, np.array([1]), eps=0.0) == -np.log(0.8)
    assert ref.cross_entropy(probs, np.array([1]), eps=0.2) == -np.log(1.0)


# ---------------------------------------------------------------------------
# Results: types, shapes, empty batches, float32, layouts, out=

ALL_LOSSES = [
    (ref.cross_entropy, np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([1, 0])),
    (ref.softmax_cross_entropy, np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([1, 0])),
    (ref.mean_squared_error, np.array([[0.2, 0.8], [0.6, 0.4]]), np.array([[0.0, 1.0],
                                                                           [0.5, 0.5]])),
]
ALL_GRADS = [
    (ref.cross_entropy_and_grad, ref.cross_entropy),
    (ref.softmax_cross_entropy_and_grad, ref.softmax_cross_entropy),
    (ref.mean_squared_error_and_grad, ref.mean_squared_error),
]


@pytest.mark.parametrize("dtype, expected", [(np.float32, np.float32), (">f4", np.float32),
                                             (np.float64, np.float64), (np.int64, np.float64),
                                             (np.float16, np.float32), (bool, np.float64)])
@pytest.mark.parametrize("loss, pred, target", ALL_LOSSES)
def test_result_types(loss, pred, target, dtype, expected):
    pred = pred.astype(dtype)
    for reduction in ["mean", "sum"]:
        assert type(loss(pred, target, reduction=reduction)) is expected
    none = loss(pred, target, reduction="none")
    assert type(none) is np.ndarray and none.dtype == expected and none.shape == (2,)
    one = loss(pred[0], target[0], reduction="none")
    assert type(one) is np.ndarray and one.dtype == expected and one.shape == ()


@pytest.mark.parametrize("loss, pred, target", ALL_LOSSES)
def test_empty_batch(loss, pred, target):
    pred, target = pred[:0], target[:0]
    assert np.isnan(loss(pred, target))
    assert loss(pred, target, reduction="sum") == 0.0
    assert loss(pred, target, reduction="none").shape == (0,)


@pytest.mark.parametrize("loss_and_grad, loss", ALL_GRADS)
def test_empty_batch_grad(loss_and_grad, loss):
    pred, target = np.zeros((0, 3)), np.zeros((0, 3))
    value, grad = loss_and_grad(pred, target)
    assert np.isnan(value) and grad.shape == (0, 3)


@pytest.mark.parametrize("loss, pred, target", ALL_LOSSES)
def test_float32_is_rounded_once(loss, pred, target):
    rng = np.random.default_rng(2)
    pred = rng.uniform(0.01, 1.0, (7, 5)).astype(np.float32)
    target = (rng.integers(0, 5, 7) if target.ndim == 1
              else rng.normal(size=(7, 5)).astype(np.float32))
    for reduction in REDUCTIONS:
        got = loss(pred, target, reduction=reduction)
        expected = loss(pred.astype(np.float64), target, reduction=reduction)
        assert_array_equal(got, np.asarray(expected).astype(np.float32))


def test_float32_squared_error_accumulates_in_float64():
    pred = np.array([[4096.0, 1.0, 1.0, 1.0]], dtype=np.float32)  # squares 2**24, 1, 1, 1
    assert ref.mean_squared_error(pred, np.zeros((1, 4)), reduction="sum") == (
        np.float32(2**24 + 3))


def layouts(x):
    """Copies of x in other memory layouts: all must give the same results."""
    fortran = np.asfortranarray(x)
    wide = np.zeros((x.shape[0], 2 * x.shape[1]), x.dtype)
    wide[:, ::2] = x
    reversed_rows = x[::-1].copy()[::-1]
    read_only = x.copy()
    read_only.flags.writeable = False
    swapped = x.astype(x.dtype.newbyteorder())
    raw = np.zeros(x.nbytes + 1, np.uint8)[1:]
    unaligned = raw.view(x.dtype).reshape(x.shape)
    unaligned[...] = x
    return [fortran, wide[:, ::2], reversed_rows, read_only, swapped, unaligned]


@pytest.mark.parametrize("loss_and_grad, loss", ALL_GRADS)
def test_layouts_give_identical_results(loss_and_grad, loss):
    rng = np.random.default_rng(3)
    pred = rng.uniform(0.01, 1.0, (6, 4))
    targets = [rng.integers(0, 4, 6)] if loss is not ref.mean_squared_error else []
    targets.append(softmax_formula(rng.normal(size=(6, 4))))
    for target in targets:
        for reduction in REDUCTIONS:
            expected = loss_and_grad(pred, target, reduction=reduction)
            for p in layouts(pred):
                for t in [target, *layouts(target.reshape(6, -1))]:
                    got = loss_and_grad(p, t.reshape(target.shape), reduction=reduction)
                    assert_array_equal(got[0], expected[0])
                    assert_array_equal(got[1], expected[1])


@pytest.mark.parametrize("loss_and_grad, loss", ALL_GRADS)
def test_inputs_are_not_modified(loss_and_grad, loss):
    pred = np.array([[0.2, 0.8], [0.6, 0.4]])
    target = np.array([[0.0, 1.0], [1.0, 0.0]])
    weight = {} if loss is ref.mean_squared_error else {"weight": np.array([1.0, 2.0])}
    copies = pred.copy(), target.copy()
    loss_and_grad(pred, target, **weight)
    assert_array_equal(pred, copies[0])
    assert_array_equal(target, copies[1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss_and_grad, loss", ALL_GRADS)
def test_out_is_filled_and_returned(loss_and_grad, loss, dtype):
    pred = np.array([[0.2, 0.8], [0.6, 0.4]], dtype=dtype)
    target = np.array([[0.0, 1.0], [1.0, 0.0]])
    expected_loss, expected_grad = loss_and_grad(pred, target)
    out = np.full((2, 4), np.nan, dtype)[:, ::2]  # any strides
    value, grad = loss_and_grad(pred, target, out=out)
    assert grad is out
    assert_array_equal(grad, expected_grad)
    assert value == expected_loss and type(value) is type(expected_loss)
    assert expected_grad.dtype == dtype and expected_grad.shape == pred.shape


@pytest.mark.parametrize("loss_and_grad, loss", ALL_GRADS)
def test_out_is_checked_before_any_write(loss_and_grad, loss):
    pred = np.array([[0.2, 0.8], [0.6, 0.4]])
    target = np.array([[0.0, 1.0], [1.0, 0.0]])
    read_only = np.full((2, 2), 7.0)
    read_only.flags.writeable = False
    bad = [(np.zeros((2, 2)).tolist(), TypeError), (np.full((2, 2), 7.0, np.float32), TypeError),
           (np.full((2, 2), 7.0, ">f8"), TypeError), (np.full((2, 3), 7.0), ValueError),
           (np.full(4, 7.0), ValueError), (read_only, ValueError)]
    for out, error in bad:
        before = np.array(out)
        with pytest.raises(error, match="out"):
            loss_and_grad(pred, target, out=out)
        assert_array_equal(out, before)
    out = np.full((2, 2), 7.0)
    if loss is not ref.mean_squared_error:
        with pytest.raises(ValueError, match="reduction"):
            loss_and_grad(pred, np.array([0, 5]), reduction="avg", out=out)
        with pytest.raises(IndexError):
            loss_and_grad(pred, np.array([0, 5]), out=out)
        assert_array_equal(out, 7.0)


# ---------------------------------------------------------------------------
# Labels

def test_label_out_of_range_names_value_and_first_row():
    probs = np.full((5, 10), 0.1)
    message = "target 10 is out of range for 10 classes (row 3)"
    for loss in [ref.cross_entropy, ref.softmax_cross_entropy, ref.cross_entropy_and_grad]:
        with pytest.raises(IndexError, match=message.replace("(", r"\(").replace(")", r"\)")):
            loss(probs, np.array([0, 1, 2, 10, -1]))
    with pytest.raises(IndexError, match=r"target -1 is out of range for 10 classes \(row 0\)"):
        ref.cross_entropy(probs, np.array([-1, 1, 2, 10, -1]))
    with pytest.raises(IndexError, match=r"target 3 is out of range for 3 classes \(row 0\)"):
        ref.softmax_cross_entropy(np.zeros(3), 3)
    with pytest.raises(IndexError, match=r"target -4 .* \(row 0\)"):
        ref.softmax_cross_entropy(np.zeros(3), np.int8(-4))


def test_ignore_index_is_compared_as_an_integer():
    logits = np.zeros((2, 200))
    labels = np.array([156, 3], dtype=np.uint8)
    # -100 never matches the uint8 label 156 (whose int8 bits are -100).
    assert ref.softmax_cross_entropy(logits, labels, ignore_index=-100) == pytest.approx(
        np.log(200.0), rel=1e-14)
    with pytest.raises(IndexError, match=r"target 156 is out of range for 10 classes \(row 0\)"):
        ref.softmax_cross_entropy(logits[:, :10], labels, ignore_index=-100)
    assert ref.softmax_cross_entropy(logits, labels, ignore_index=np.int64(156),
                                     reduction="sum") == pytest.approx(np.log(200.0))
    signed = np.array([-100, 3], dtype=np.int8)
    assert ref.softmax_cross_entropy(logits, signed, ignore_index=-100,
                                     reduction="sum") == pytest.approx(np.log(200.0))
    huge = np.array([2**64 - 1, 3], dtype=np.uint64)
    assert ref.softmax_cross_entropy(logits, huge, ignore_index=2**64 - 1,
                                     reduction="sum") == pytest.approx(np.log(200.0))
    with pytest.raises(IndexError, match=r"target 18446744073709551615 .* \(row 0\)"):
        ref.softmax_cross_entropy(logits, huge, ignore_index=-1)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                                   np.uint32, np.uint64, ">i4", "<u2"])
def test_every_integer_label_dtype(dtype):
    logits = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    expected = ref.softmax_cross_entropy(logits, np.array([2, 1]))
    assert ref.softmax_cross_entropy(logits, np.array([2, 1], dtype=dtype)) == expected


# ---------------------------------------------------------------------------
# Argument errors

PROBS = np.full((5, 10), 0.1)
LABELS = np.arange(5)


@pytest.mark.parametrize("loss", [ref.cross_entropy, ref.softmax_cross_entropy,
                                  ref.mean_squared_error, ref.cross_entropy_and_grad,
                                  ref.softmax_cross_entropy_and_grad,
                                  ref.mean_squared_error_and_grad])
def test_pred_errors(loss):
    target = np.zeros((5, 10))
    with pytest.raises(TypeError, match="unsupported dtype complex128"):
        loss(PROBS.astype(complex), target)
    with pytest.raises(TypeError, match="unsupported dtype object"):
        loss(PROBS.astype(object), target)
    with pytest.raises(TypeError, match="unsupported dtype <U"):
        loss(PROBS.astype(str), target)
    with pytest.raises(ValueError, match=r"\(5, 2, 5\)"):
        loss(PROBS.reshape(5, 2, 5), target)
    with pytest.raises(ValueError, match=r"\(\)"):
        loss(np.float64(0.5), target)
    with pytest.raises(ValueError, match="0 classes"):
        loss(np.zeros((5, 0)), np.zeros((5, 0)))
    with pytest.raises(ValueError, match="0 classes"):
        loss(np.zeros((0, 0)), np.zeros((0, 0)))
    for reduction in ["avg", None, "MEAN"]:
        with pytest.raises(ValueError, match="'mean', 'sum', 'none'") as excinfo:
            loss(PROBS, target, reduction=reduction)
        assert repr(reduction) in str(excinfo.value)
    for n_threads in [0, -1, 1.5, True, "2"]:
        with pytest.raises(ValueError, match="n_threads"):
            loss(PROBS, target, n_threads=n_threads)
    loss(PROBS, target, n_threads=3)
    loss(PROBS, target, n_threads=np.int64(1))


@pytest.mark.parametrize("loss", [ref.cross_entropy, ref.softmax_cross_entropy])
def test_target_errors(loss):
    with pytest.raises(TypeError, match="class indices must be integers"):
        loss(PROBS, LABELS.astype(float))
    with pytest.raises(TypeError, match="class indices must be integers"):
        loss(PROBS, LABELS > 2)
    with pytest.raises(TypeError, match="class indices must be integers"):
        loss(PROBS[0], 2.0)
    with pytest.raises(ValueError, match=r"\(4,\).*\(5, 10\)"):
        loss(PROBS, LABELS[:4])
    with pytest.raises(ValueError, match=r"\(5, 10\).*\(5, 10\)"):
        loss(PROBS, np.zeros((5, 10), int))  # an integer one-hot is not class indices
    with pytest.raises(ValueError, match=r"\(4,\).*\(5, 10\)"):
        loss(PROBS, np.zeros(4))
    with pytest.raises(ValueError, match=r"\(1, 10\).*\(5, 10\)"):
        loss(PROBS, np.zeros((1, 10)))  # no broadcasting
    with pytest.raises(ValueError, match=r"\(\).*\(5, 10\)"):
        loss(PROBS, 3)
    with pytest.raises(TypeError, match="unsupported dtype complex128"):
        loss(PROBS, np.zeros((5, 10), complex))
    # Argument errors come before label errors.
    bad_labels = np.array([0, 1, 2, 99, 4])
    with pytest.raises(ValueError, match="reduction"):
        loss(PROBS, bad_labels, reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        loss(PROBS, bad_labels, label_smoothing=2.0)


def test_squared_error_target_errors():
    with pytest.raises(ValueError, match=r"\(5,\).*\(5, 10\)"):
        ref.mean_squared_error(PROBS, np.zeros(5))
    with pytest.raises(ValueError, match=r"\(10,\).*\(5, 10\)"):
        ref.mean_squared_error(PROBS, np.zeros(10))  # no broadcasting
    with pytest.raises(TypeError, match="unsupported dtype complex128"):
        ref.mean_squared_error(PROBS, np.zeros((5, 10), complex))
    assert ref.mean_squared_error(PROBS, np.zeros((5, 10), np.int8)) == pytest.approx(0.01)


@pytest.mark.parametrize("loss", [ref.cross_entropy, ref.softmax_cross_entropy,
                                  ref.cross_entropy_and_grad,
                                  ref.softmax_cross_entropy_and_grad])
def test_option_errors(loss):
    for value in [-0.1, 1.5, math.nan]:
        with pytest.raises(ValueError, match=f"label_smoothing.*{value}"):
            loss(PROBS, LABELS, label_smoothing=value)
    for value in ["0.1", None, [0.1]]:
        with pytest.raises(TypeError, match="label_smoothing"):
            loss(PROBS, LABELS, label_smoothing=value)
    with pytest.raises(ValueError, match=r"weight.*\(9,\)"):
        loss(PROBS, LABELS, weight=np.ones(9))
    with pytest.raises(ValueError, match=r"weight.*\(\)"):
        loss(PROBS, LABELS, weight=1.0)
    with pytest.raises(TypeError, match="unsupported dtype complex128 for weight"):
        loss(PROBS, LABELS, weight=np.ones(10, complex))
    for value in [1.0, "x", True]:
        with pytest.raises(TypeError, match="ignore_index"):
            loss(PROBS, LABELS, ignore_index=value)
    with pytest.raises(ValueError, match="ignore_index"):
        loss(PROBS, np.full((5, 10), 0.1), ignore_index=-100)


@pytest.mark.parametrize("loss", [ref.cross_entropy, ref.cross_entropy_and_grad])
def test_eps_errors(loss):
    for value in [-1e-7, math.nan]:
        with pytest.raises(ValueError, match=f"eps.*{value}"):
            loss(PROBS, LABELS, eps=value)
    for value in ["1e-7", None]:
        with pytest.raises(TypeError, match="eps"):
            loss(PROBS, LABELS, eps=value)
