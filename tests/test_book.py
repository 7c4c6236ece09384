"""fastloss.book gives the numbers of the book's own NumPy
code (written out below as published in *Deep Learning from Scratch*,
common/functions.py and common/layers.py, with the 1-D ``y = t.reshape``
typo fixed) within a relative 1e-12 in float64."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss.reference.book as ref_book
from fastloss import book
from support import INT_DTYPES


# --- the book's code --------------------------------------------------------

def book_softmax(x):
    if x.ndim == 2:
        x = x.T
        x = x - np.max(x, axis=0)
        y = np.exp(x) / np.sum(np.exp(x), axis=0)
        return y.T
    x = x - np.max(x)  # overflow guard
    return np.exp(x) / np.sum(np.exp(x))


def book_cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    # one-hot teacher data become class indices
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


def book_sum_squared_error(y, t):
    return 0.5 * np.sum((y - t) ** 2)


class BookSoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = book_softmax(x)
        self.loss = book_cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx  # the book ignores dout; fastloss.book multiplies by it


def close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def close_grad(got, want):
    # y - t cancels where y is near t: there the error is a few ulps of 1
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# --- inputs -----------------------------------------------------------------

def logits_and_labels(n=100, c=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 3.0, (n, c)), rng.integers(0, c, n)


# C >= 2: with one class, index labels have y.size elements and the book
# would take them for one-hot rows
batches = st.tuples(st.integers(1, 8), st.integers(2, 6)).flatmap(
    lambda nc: st.tuples(
        hnp.arrays(np.float64, nc, elements=st.floats(-30, 30)),
        hnp.arrays(np.int64, nc[0], elements=st.integers(0, nc[1] - 1))))


# --- softmax ----------------------------------------------------------------

@given(batch=batches)
def test_softmax_2d(batch):
    x, _ = batch
    close(book.softmax(x), book_softmax(x))
    close(book.softmax(x), ref_book.softmax(x))


@given(batch=batches)
def test_softmax_1d(batch):
    x = batch[0][0]
    got = book.softmax(x)
    assert got.shape == x.shape
    close(got, book_softmax(x))


def test_softmax_is_shifted_by_the_row_maximum():
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -999.0]])
    got = book.softmax(x)
    assert np.isfinite(got).all()
    close(got, book_softmax(x))
    close(book.softmax(x[0]), book_softmax(x[0]))


def test_softmax_does_not_modify_its_input():
    x, _ = logits_and_labels()
    saved = x.copy()
    book.softmax(x)
    book.softmax(x[0])
    np.testing.assert_array_equal(x, saved)


# --- cross_entropy_error ----------------------------------------------------

@given(batch=batches)
def test_cross_entropy_error_with_index_labels(batch):
    x, t = batch
    y = book_softmax(x)
    close(book.cross_entropy_error(y, t), book_cross_entropy_error(y, t))
    close(book.cross_entropy_error(y, t), ref_book.cross_entropy_error(y, t))


@given(batch=batches)
def test_cross_entropy_error_with_one_hot_labels(batch):
    x, t = batch
    y = book_softmax(x)
    for one_hot in (np.eye(x.shape[1])[t], np.eye(x.shape[1], dtype=np.int64)[t]):
        close(book.cross_entropy_error(y, one_hot), book_cross_entropy_error(y, one_hot))


# rows the one-hot fast path must hand to NumPy's argmax, or read right:
# a lone negative, all zeros, NaN, -0.0, infinities, several nonzeros
_ODD_VALUES = [0.0, -0.0, 1.0, 0.5, -1.0, 2.0, np.nan, np.inf, -np.inf, 1e-300]


@given(data=st.data(), dtype=st.sampled_from([np.float64, np.float32]),
       c=st.integers(1, 70), n=st.integers(0, 40))
def test_one_hot_rows_become_numpys_argmax(data, dtype, c, n):
    """book.cross_entropy_error's one-hot t becomes t.argmax(axis=1) (the
    book's code): fastloss finds one-hot rows in C, every row must match."""
    from fastloss import _core
    kinds = st.sampled_from(["one-hot", "lone", "zeros", "random"])
    t = np.zeros((n, c), dtype)
    for i in range(n):
        kind = data.draw(kinds)
        j = data.draw(st.integers(0, c - 1))
        if kind == "one-hot":
            t[i, j] = 1.0
        elif kind == "lone":
            t[i, j] = data.draw(st.sampled_from(_ODD_VALUES))
        elif kind == "random":
            # (a list, cast: 1e-300 becomes 0 in float32, which hnp.arrays refuses)
            t[i] = data.draw(st.lists(st.sampled_from(_ODD_VALUES), min_size=c, max_size=c))
    layout = data.draw(st.sampled_from(["c", "reversed", "every-other", "padded", "fortran"]))
    if layout == "reversed":
        t = t[::-1]
    elif layout == "every-other":
        t = np.repeat(t, 2, axis=0)[::2]
    elif layout == "padded":
        t = np.pad(t, ((0, 0), (0, 3)))[:, :c]
    elif layout == "fortran":
        t = np.asfortranarray(t)
    want = t.argmax(axis=1)
    got = _core._argmax_rows(t)
    if c > 64 or (layout == "fortran" and c > 1 and n > 1):
        assert got is None
    else:
        assert got is not None and got.dtype == np.intp
        np.testing.assert_array_equal(got, want)
    # and the loss reads the same classes as the book's code (float64 y: a
    # float32 y differs from the book's float32 arithmetic by design)
    y = np.full((n, c), 1.0 / c) + np.arange(c) / (4 * c * c)
    if n:
        close(book.cross_entropy_error(y, t), book_cross_entropy_error(y, t))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_hot_rows_over_several_blocks_become_numpys_argmax(dtype):
    # blocks of 256 rows: clean ones read in C, ones with an odd row by NumPy
    from fastloss import _core
    rng = np.random.default_rng(7)
    t = np.eye(10, dtype=dtype)[rng.integers(0, 10, 1000)]
    t[[10, 301, 700]] = 0.0             # block 0: a row of zeros
    t[301, 4] = -2.0                    # block 1: a lone negative (argmax: column 0)
    t[700, [2, 5]] = 1.0                # block 2: two ones (the first wins)
    got = _core._argmax_rows(t)
    np.testing.assert_array_equal(got, t.argmax(axis=1))
    assert got[10] == 0 and got[301] == 0 and got[700] == 2


@pytest.mark.parametrize("value", _ODD_VALUES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_lone_value_among_one_hot_rows_becomes_numpys_argmax(value, dtype):
    from fastloss import _core
    t = np.eye(5, dtype=dtype)[np.arange(40) % 5]
    t[17] = 0.0
    t[17, 3] = value                    # a positive or NaN one is column 3, others not
    np.testing.assert_array_equal(_core._argmax_rows(t), t.argmax(axis=1))


def test_cross_entropy_error_of_one_sample():
    x, t = logits_and_labels(n=3)
    y = book_softmax(x)
    for i in range(3):
        one_hot = np.eye(10)[t[i]]
        want = book_cross_entropy_error(y[i], one_hot)
        close(book.cross_entropy_error(y[i], one_hot), want)
        close(book.cross_entropy_error(y[i], np.array(t[i])), want)
        close(book.cross_entropy_error(y[i], np.array([t[i]])), want)
        close(book.cross_entropy_error(y[i : i + 1], np.array([t[i]])), want)


def test_cross_entropy_error_with_one_class_takes_1d_t_as_labels():
    """The documented difference from the book: y (N, 1) with t (N,)."""
    y = np.array([[0.25], [1.0], [0.5]])
    t = np.zeros(3, dtype=np.int64)
    want = -np.sum(np.log(y[:, 0] + 1e-7)) / 3
    assert book.cross_entropy_error(y, t) == pytest.approx(want, rel=1e-15)
    with pytest.raises(IndexError):
        book.cross_entropy_error(y, np.array([0, 1, 0]))
    # the book's own code cannot take this t: argmax(axis=1) of a 1-D array
    with pytest.raises(ValueError):                 # numpy's AxisError
        np.asarray(t).argmax(axis=1)


def test_cross_entropy_error_includes_1e_minus_7():
    y = np.array([[0.0, 1.0], [0.5, 0.5]])
    t = np.array([0, 1])
    got = book.cross_entropy_error(y, t)
    close(got, book_cross_entropy_error(y, t))
    close(got, (-np.log(1e-7) - np.log(0.5 + 1e-7)) / 2)


def test_cross_entropy_error_in_float32_is_close():
    x, t = logits_and_labels()
    y = book_softmax(x)
    np.testing.assert_allclose(book.cross_entropy_error(y.astype(np.float32), t),
                               book_cross_entropy_error(y, t), rtol=1e-5)


# --- squared error ----------------------------------------------------------

@pytest.mark.parametrize("shape", [(10,), (1, 10), (100, 10), (7, 3), (), (2, 3, 4),
                                   (2, 3, 4, 5), (0, 3, 4), (2, 3, 0)])
def test_sum_squared_error_and_its_second_name(shape):
    """Over every element, whatever the shape (the book's np.sum)."""
    rng = np.random.default_rng(1)
    y, t = rng.uniform(size=shape), rng.uniform(size=shape)
    want = book_sum_squared_error(y, t)
    close(book.sum_squared_error(y, t), want)
    close(book.mean_squared_error(y, t), want)
    close(ref_book.sum_squared_error(y, t), want)


def test_the_books_example():
    # the book's worked example: "2" is the answer, the network says 0.6
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    close(book.sum_squared_error(y, t), book_sum_squared_error(y, t))
    close(book.cross_entropy_error(y, t), book_cross_entropy_error(y, t))
    y = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    close(book.sum_squared_error(y, t), book_sum_squared_error(y, t))
    close(book.cross_entropy_error(y, t), book_cross_entropy_error(y, t))


# --- SoftmaxWithLoss --------------------------------------------------------

DOUTS = [1, 1.0, 0.5, 2.0, 3, -1.5, 0.0, np.float64(0.1)]


@pytest.mark.parametrize("labels", ["index", "one_hot"])
@pytest.mark.parametrize("dout", DOUTS, ids=repr)
def test_softmax_with_loss_forward_and_backward(labels, dout):
    x, t = logits_and_labels()
    if labels == "one_hot":
        t = np.eye(10)[t]
    layer, theirs = book.SoftmaxWithLoss(), BookSoftmaxWithLoss()
    loss = layer.forward(x, t)
    want = theirs.forward(x, t)
    close(loss, want)
    close(layer.loss, want)
    close(layer.y, theirs.y)
    np.testing.assert_array_equal(layer.t, t)
    close_grad(layer.backward(dout), theirs.backward() * dout)


@pytest.mark.parametrize("labels", ["index", "one_hot"])
def test_softmax_with_loss_default_dout_is_1(labels):
    x, t = logits_and_labels(n=8)
    if labels == "one_hot":
        t = np.eye(10)[t]
    layer = book.SoftmaxWithLoss()
    layer.forward(x, t)
    dx = layer.backward()
    close_grad(dx, _book_backward(x, t))
    np.testing.assert_array_equal(dx, layer.backward(1))


def _book_backward(x, t):
    theirs = BookSoftmaxWithLoss()
    theirs.forward(x, t)
    return theirs.backward()


def test_softmax_with_loss_is_reusable_across_batches():
    layer = book.SoftmaxWithLoss()
    for seed in range(4):
        x, t = logits_and_labels(n=20 + seed, seed=seed)
        theirs = BookSoftmaxWithLoss()
        close(layer.forward(x, t), theirs.forward(x, t))
        close_grad(layer.backward(), theirs.backward())


@given(batch=batches, dout=st.floats(-4, 4))
def test_softmax_with_loss_on_drawn_batches(batch, dout):
    x, t = batch
    for labels in (t, np.eye(x.shape[1])[t]):
        layer, theirs = book.SoftmaxWithLoss(), BookSoftmaxWithLoss()
        # drawn logits reach rows where y_t is 1 - 1e-9: log(y_t + 1e-7) is
        # then ~1e-7 and one ulp of y_t (any other exp or sum order than
        # NumPy's) moves it by ~1e-9 relative.  Such losses are compared to
        # an ulp of 1 per row; the fixed batches above keep the plain 1e-12.
        got, want = layer.forward(x, labels), theirs.forward(x, labels)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=4 * np.finfo(float).eps)
        close_grad(layer.backward(dout), theirs.backward() * dout)


def test_softmax_with_loss_includes_1e_minus_7():
    x = np.array([[-1000.0, 0.0]])
    t = np.array([0])
    layer = book.SoftmaxWithLoss()
    close(layer.forward(x, t), -np.log(1e-7))
    close(layer.forward(x, t), BookSoftmaxWithLoss().forward(x, t))


def test_softmax_with_loss_on_one_sample():
    x, t = logits_and_labels(n=1)
    for label in (np.eye(10)[t[0]], np.array(t[0])):
        layer = book.SoftmaxWithLoss()
        want = book_cross_entropy_error(book_softmax(x[0]), label)
        close(layer.forward(x[0], label), want)
        close(layer.y, book_softmax(x[0]))
        # one sample: N = 1
        close_grad(layer.backward(2.0), (book_softmax(x[0]) - np.eye(10)[t[0]]) * 2.0)


def test_softmax_with_loss_does_not_modify_its_inputs():
    x, t = logits_and_labels()
    one_hot = np.eye(10)[t]
    saved = (x.copy(), t.copy(), one_hot.copy())
    for labels in (t, one_hot):
        layer = book.SoftmaxWithLoss()
        layer.forward(x, labels)
        layer.backward(0.5)
    for a, s in zip((x, t, one_hot), saved):
        np.testing.assert_array_equal(a, s)


# --- every target form the book's code takes --------------------------------
#
# The oracle of each form is the book's own code where that code is right,
# and otherwise the loss written out per row (right_cee, right_backward):
# row i's class k_i is its index, or the argmax of its one-hot row, and the
# loss is -mean_i log(y[i, k_i] + 1e-7).

def right_classes(t, n, c):
    """Each row's class, for every form: the mathematically right reading."""
    t = np.asarray(t)
    if t.size == n * c and (t.ndim == 2 or n == 1):
        return np.asarray(t).reshape(n, c).argmax(axis=1)
    return np.broadcast_to(t.reshape(-1), (n,)).astype(np.int64)


def right_cee(y, t):
    y2 = y.reshape(1, -1) if y.ndim == 1 else y
    n, c = y2.shape
    k = right_classes(t, n, c)
    return -np.sum(np.log(y2[np.arange(n), k] + 1e-7)) / n


def right_backward(x, t, dout=1.0):
    y = book_softmax(x)
    y2 = y.reshape(1, -1) if y.ndim == 1 else y
    n, c = y2.shape
    t = np.asarray(t)
    if t.size == n * c and (t.ndim == 2 or n == 1):
        d = y2 - t.reshape(n, c)
    else:
        d = y2 - np.eye(c)[right_classes(t, n, c)]
    return (d * dout / n).reshape(y.shape)


ROW_DTYPES = INT_DTYPES + [np.bool_, np.float16, np.float32, np.float64]


def probs_and_labels(n=6, c=10, seed=3):
    x, t = logits_and_labels(n, c, seed)
    return book_softmax(x), x, t


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("form", ["(N,)", "(N, 1)", "strided"])
def test_class_indices_of_every_integer_dtype_and_form(dtype, form):
    y, x, t = probs_and_labels()
    labels = {"(N,)": t.astype(dtype), "(N, 1)": t.astype(dtype).reshape(-1, 1),
              "strided": np.repeat(t.astype(dtype), 3)[::3]}[form]
    want = right_cee(y, t)
    if form != "(N, 1)":                   # the book broadcasts (N, 1): wrong
        close(book_cross_entropy_error(y, labels), want)
    close(book.cross_entropy_error(y, labels), want)
    layer = book.SoftmaxWithLoss()
    close(layer.forward(x, labels), right_cee(book_softmax(x), t))
    close_grad(layer.backward(), right_backward(x, t))
    assert layer.t is labels


def test_n_by_1_labels_are_read_as_one_class_per_row():
    y, x, t = probs_and_labels()
    column = t.reshape(-1, 1)
    got = book.cross_entropy_error(y, column)
    close(got, right_cee(y, t))
    # the book's broadcast sums an (N, N) table instead
    assert not np.isclose(book_cross_entropy_error(y, column), got)
    layer = book.SoftmaxWithLoss()
    layer.forward(x, column)
    close_grad(layer.backward(), right_backward(x, t))


@pytest.mark.parametrize("label", [2, np.int64(2), np.array(2), np.array([2]),
                                   np.array([[2]]), np.array([[2]], np.uint8)],
                         ids=repr)
def test_a_single_class_index_of_one_sample(label):
    # the book's convolutional-network gradient check: x (1, 10), t [[1]]
    y, x, _ = probs_and_labels(n=1)
    for yy, xx in ((y, x), (y[0], x[0])):
        want = book_cross_entropy_error(yy, np.asarray(label))
        close(want, -np.log(yy.reshape(-1)[2] + 1e-7))
        close(book.cross_entropy_error(yy, label), want)
        layer = book.SoftmaxWithLoss()
        close(layer.forward(xx, label), book_cross_entropy_error(book_softmax(xx),
                                                                  np.asarray(label)))
        close_grad(layer.backward(), right_backward(xx, np.asarray(label).reshape(-1)[:1]))


def test_a_single_class_index_is_every_rows_class():
    # NumPy's indexing in the book broadcasts one label to every row
    y, x, _ = probs_and_labels()
    for label in (3, np.array(3), np.array([3]), np.array([[3]])):
        want = book_cross_entropy_error(y, np.asarray(label))
        close(want, right_cee(y, np.full(len(y), 3)))
        close(book.cross_entropy_error(y, label), want)
        layer = book.SoftmaxWithLoss()
        layer.forward(x, label)
        close_grad(layer.backward(), right_backward(x, np.full(len(x), 3)))


@pytest.mark.parametrize("dtype", ROW_DTYPES)
def test_one_hot_rows_of_every_real_dtype(dtype):
    y, x, t = probs_and_labels()
    rows = np.eye(10, dtype=dtype)[t]
    want = book_cross_entropy_error(y, rows)
    close(want, right_cee(y, t))
    close(book.cross_entropy_error(y, rows), want)
    layer, theirs = book.SoftmaxWithLoss(), BookSoftmaxWithLoss()
    close(layer.forward(x, rows), theirs.forward(x, rows))
    dx = layer.backward()
    close_grad(dx, theirs.backward())
    # (y - t) * dout / N in NumPy's promotion of y and t, as the book's code
    assert dx.dtype == (book_softmax(x) - rows).dtype
    close_grad(book.SoftmaxWithLoss().forward(x[0], rows[0]) * 0 + layer.backward(), dx)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int8, np.float16])
def test_soft_and_odd_rows_take_numpys_argmax(dtype):
    rng = np.random.default_rng(5)
    y, x, _ = probs_and_labels(n=40)
    rows = (rng.integers(-3, 4, y.shape)).astype(dtype)
    rows[0] = 0                              # all equal: the first column
    if np.dtype(dtype).kind == "f":
        rows[1, 4] = np.nan                  # NaN: the first NaN
        rows[2, [3, 7]] = np.nan
    k = rows.argmax(axis=1)
    close(book.cross_entropy_error(y, rows), right_cee(y, k))
    close(book_cross_entropy_error(y, rows), right_cee(y, k))
    layer = book.SoftmaxWithLoss()
    close(layer.forward(x, rows), right_cee(book_softmax(x), k))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8, np.bool_])
def test_one_sample_one_hot_row(dtype):
    y, x, t = probs_and_labels(n=1)
    row = np.eye(10, dtype=dtype)[t[0]]
    for form in (row, row.reshape(1, 10), row.reshape(10, 1)):
        close(book.cross_entropy_error(y[0], form), book_cross_entropy_error(y[0], form))
    close(book.cross_entropy_error(y, row), right_cee(y, t))   # (1, C) y, (C,) t
    layer = book.SoftmaxWithLoss()
    close(layer.forward(x[0], row), book_cross_entropy_error(book_softmax(x[0]), row))
    # one sample: divided by N = 1, where the book divides by t.shape[0] = 10
    close_grad(layer.backward(), book_softmax(x[0]) - row)


def test_the_books_small_examples_in_every_target_form():
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    wrong = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    forms = [np.eye(10)[2], np.eye(10, dtype=int)[2], 2, np.array(2), np.array([2]),
             np.array([[2]])]
    for t in forms:
        np.testing.assert_allclose(book.cross_entropy_error(y, t), 0.510825457099338,
                                   rtol=1e-12)
        np.testing.assert_allclose(book.cross_entropy_error(wrong, t), 2.302584092994546,
                                   rtol=1e-12)
    for t in forms[:2]:
        np.testing.assert_allclose(book.mean_squared_error(y, t), 0.0975, rtol=1e-12)
        np.testing.assert_allclose(book.sum_squared_error(wrong, t), 0.5975, rtol=1e-12)


@pytest.mark.parametrize("bad", [np.array([0, 1, 2, 3, 4, 10]), np.array([0, 1, -1, 3, 4, 5]),
                                 np.array([[0], [1], [2], [3], [4], [99]], np.uint8)],
                         ids=["past the end", "negative", "(N, 1) uint8"])
def test_out_of_range_class_indices_raise_everywhere(bad):
    y, x, _ = probs_and_labels()
    row = int(np.flatnonzero((bad.reshape(-1) < 0) | (bad.reshape(-1) >= 10))[0])
    with pytest.raises(IndexError, match=rf"row {row}"):
        book.cross_entropy_error(y, bad)
    with pytest.raises(IndexError, match=rf"row {row}"):
        book.SoftmaxWithLoss().forward(x, bad)
    layer = book.SoftmaxWithLoss()
    layer.forward(x, np.zeros(6, np.int64))
    layer.t = bad
    with pytest.raises(IndexError, match=rf"row {row}"):
        layer.backward()


@pytest.mark.parametrize("t, error", [
    (np.zeros(5, np.int64), ValueError),            # 5 labels for 6 rows
    (np.zeros((6, 2), np.int64), ValueError),
    (np.zeros((3, 20)), ValueError),                # y's size, not y's shape
    (np.zeros(6), TypeError),                       # float class indices
    (np.zeros(6, bool), TypeError),
    (np.zeros(6, complex), TypeError),
])
def test_target_shape_and_dtype_errors(t, error):
    y, x, _ = probs_and_labels()
    with pytest.raises(error):
        book.cross_entropy_error(y, t)
    with pytest.raises(error):
        book.SoftmaxWithLoss().forward(x, t)


# --- the book's dtypes ------------------------------------------------------

@pytest.mark.parametrize("ydtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("tdtype", [np.int64, np.uint8, np.float64, np.float32, np.int32])
def test_result_dtypes_are_numpys_promotion_of_the_books_formula(ydtype, tdtype):
    y, x, t = probs_and_labels()
    y, x = y.astype(ydtype), x.astype(ydtype)
    target = (np.eye(10)[t] if np.dtype(tdtype).kind == "f" else t).astype(tdtype)
    rows = np.eye(10, dtype=tdtype)[t]
    got = book.cross_entropy_error(y, target)
    want = book_cross_entropy_error(y, target)
    assert type(got) is type(want)
    tol = 1e-12 if ydtype == np.float64 else 1e-6 if ydtype == np.float32 else 2e-3
    np.testing.assert_allclose(got, right_cee(y.astype(np.float64), t), rtol=tol)
    got, want = book.sum_squared_error(y, rows), book_sum_squared_error(y, rows)
    assert type(got) is type(want)
    np.testing.assert_allclose(got, book_sum_squared_error(y.astype(np.float64),
                                                            rows.astype(np.float64)),
                               rtol=tol)
    layer, theirs = book.SoftmaxWithLoss(), BookSoftmaxWithLoss()
    loss = layer.forward(x, target)
    assert type(loss) is type(theirs.forward(x, target))
    assert layer.y.dtype == theirs.y.dtype
    assert layer.backward().dtype == theirs.backward().dtype


def test_sum_squared_error_keeps_a_float64_target_in_float64():
    rng = np.random.default_rng(2)
    y, t = rng.uniform(size=(7, 3)).astype(np.float32), rng.uniform(size=(7, 3))
    got = book.sum_squared_error(y, t)
    assert got.dtype == np.float64
    close(got, book_sum_squared_error(y, t))


@pytest.mark.parametrize("dout", [np.float64(0.5), np.float32(0.5), np.array(0.5), 1e300]
                         + ([2**70] if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else []),
                         ids=repr)
def test_backward_with_any_dout_follows_numpy(dout):
    _, x, t = probs_and_labels()
    x = x.astype(np.float32)
    layer = book.SoftmaxWithLoss()
    layer.forward(x, t)
    y = layer.y
    with np.errstate(over="ignore"):
        want = y.copy()
        want[np.arange(len(t)), t] -= 1
        want = want * dout / len(t)
        got = layer.backward(dout)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_float16_layer_keeps_float16():
    _, x, t = probs_and_labels()
    layer, theirs = book.SoftmaxWithLoss(), BookSoftmaxWithLoss()
    x16 = x.astype(np.float16)
    loss = layer.forward(x16, t)
    assert layer.y.dtype == np.float16 and loss.dtype == theirs.forward(x16, t).dtype
    np.testing.assert_allclose(layer.y, book_softmax(x16.astype(np.float64)), rtol=1e-3,
                               atol=1e-4)
    np.testing.assert_allclose(layer.backward(), right_backward(x16.astype(np.float64), t),
                               rtol=2e-3, atol=1e-4)


# --- softmax over the last axis ---------------------------------------------

def last_axis_softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


@pytest.mark.parametrize("shape", [(4, 3, 5), (2, 3, 4, 5), (0, 3, 4), (1, 1, 1)])
def test_softmax_over_the_last_axis_of_any_rank(shape):
    x = np.random.default_rng(0).normal(0, 3, shape)
    got = book.softmax(x)
    assert got.shape == x.shape
    close(got, last_axis_softmax(x))
    close(book.softmax(np.moveaxis(x, 0, -2)), last_axis_softmax(np.moveaxis(x, 0, -2)))


@pytest.mark.parametrize("x", [np.float64(3.0), np.array(-2.0), 5.0, np.array(7, np.int32)],
                         ids=repr)
def test_softmax_of_a_0d_value_is_the_scalar_one(x):
    got, want = book.softmax(x), ref_book.softmax(x)
    assert np.ndim(got) == 0 and type(got) is type(want) and got == want == 1.0


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64, np.uint8])
def test_softmax_dtype_is_the_books(dtype):
    x = (np.random.default_rng(1).normal(0, 3, (5, 4)) + 5).astype(dtype)
    with np.errstate(all="ignore"):           # the book's uint8 x - max(x) wraps around
        want = ref_book.softmax(x)
    got = book.softmax(x)
    assert got.dtype == want.dtype
    rtol = 1e-12 if want.dtype == np.float64 else 1e-6 if want.dtype == np.float32 else 1e-3
    np.testing.assert_allclose(got, last_axis_softmax(x.astype(np.float64)), rtol=rtol)


def test_softmax_of_booleans_raises_type_error_as_the_book():
    x = np.array([[True, False]])
    with pytest.raises(TypeError):
        ref_book.softmax(x)
    with pytest.raises(TypeError, match="bool"):
        book.softmax(x)


# --- a gradient check in the book's style (chapter 5) ----------------------

class TinyTwoLayerNet:
    """Affine - ReLU - Affine - SoftmaxWithLoss, as the book's TwoLayerNet."""

    def __init__(self, loss_layer, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W1": rng.normal(0, 0.5, (4, 5)), "b1": rng.normal(0, 0.1, 5),
                       "W2": rng.normal(0, 0.5, (5, 3)), "b2": rng.normal(0, 0.1, 3)}
        self.last = loss_layer()

    def loss(self, x, t):
        p = self.params
        self.x, self.h = x, x @ p["W1"] + p["b1"]
        self.a = np.maximum(self.h, 0)
        return self.last.forward(self.a @ p["W2"] + p["b2"], t)

    def gradient(self, x, t):
        self.loss(x, t)
        p, d = self.params, self.last.backward(1)
        g = {"W2": self.a.T @ d, "b2": d.sum(axis=0)}
        da = d @ p["W2"].T * (self.h > 0)
        g["W1"], g["b1"] = self.x.T @ da, da.sum(axis=0)
        return g

    def numerical_gradient(self, x, t, h=1e-4):
        grads = {}
        for key, w in self.params.items():
            g = np.zeros_like(w)
            for idx in np.ndindex(w.shape):
                keep = w[idx]
                w[idx] = keep + h
                up = self.loss(x, t)
                w[idx] = keep - h
                down = self.loss(x, t)
                w[idx] = keep
                g[idx] = (up - down) / (2 * h)
            grads[key] = g
        return grads


@pytest.mark.parametrize("target", ["uint8 labels", "one-hot rows", "(N, 1) labels"])
def test_gradient_check_of_a_two_layer_net(target):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 4))
    labels = rng.integers(0, 3, 8).astype(np.uint8)
    t = {"uint8 labels": labels, "one-hot rows": np.eye(3)[labels],
         "(N, 1) labels": labels.reshape(-1, 1)}[target]
    net = TinyTwoLayerNet(book.SoftmaxWithLoss)
    backprop, numerical = net.gradient(x, t), net.numerical_gradient(x, t)
    for key in backprop:
        np.testing.assert_allclose(backprop[key], numerical[key], rtol=1e-5, atol=1e-8)
    if target != "(N, 1) labels":            # the book's own layer agrees
        theirs = TinyTwoLayerNet(BookSoftmaxWithLoss).gradient(x, t)
        for key in backprop:
            close_grad(backprop[key], theirs[key])


def test_a_missing_target_is_a_type_error_in_the_layer_as_in_the_function():
    _, x, _ = probs_and_labels()
    with pytest.raises(TypeError):
        book.cross_entropy_error(book_softmax(x), None)
    with pytest.raises(TypeError):
        book.SoftmaxWithLoss().forward(x, None)


@pytest.mark.parametrize("n", [1, 4])
def test_with_a_single_class_integer_targets_are_class_indices(n):
    x = np.random.default_rng(0).normal(size=(n, 1))
    for t in (np.zeros(n, np.int64), np.zeros((n, 1), np.uint8), 0):
        layer = book.SoftmaxWithLoss()
        close(layer.forward(x, t), -np.log(1.0 + 1e-7))
        np.testing.assert_array_equal(layer.backward(), np.zeros((n, 1)))   # y = 1, label 0
    for t in (np.full(n, 5), 5, np.array(-1)):
        with pytest.raises(IndexError):
            book.cross_entropy_error(np.ones((n, 1)), t)
        with pytest.raises(IndexError):
            book.SoftmaxWithLoss().forward(x, t)
    # float rows of one class are rows, as in the book: argmax 0
    close(book.cross_entropy_error(np.ones((n, 1)), np.full((n, 1), 0.3)), -np.log(1 + 1e-7))


def test_backward_names_a_huge_python_int_label_as_forward_does():
    _, x, t = probs_and_labels()
    layer = book.SoftmaxWithLoss()
    layer.forward(x, t)
    for huge in (2**64 + 1, -(2**70)):
        with pytest.raises(IndexError, match="out of range"):
            book.cross_entropy_error(layer.y, huge)
        layer.t = huge
        with pytest.raises(IndexError, match="out of range"):
            layer.backward()


def test_softmax_of_zero_classes_says_so():
    for shape in [(2, 3, 0), (0,), (4, 0)]:
        with pytest.raises(ValueError, match="0 classes"):
            book.softmax(np.zeros(shape))


def test_backward_of_a_batch_past_the_gil_threshold_matches():
    # 30,000 elements: the backward pass runs without the GIL, same numbers
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3000, 10))
    for t in (rng.integers(0, 10, 3000).astype(np.uint16), np.eye(10)[rng.integers(0, 10, 3000)]):
        layer = book.SoftmaxWithLoss()
        layer.forward(x, t)
        close_grad(layer.backward(0.5), right_backward(x, t, 0.5))
