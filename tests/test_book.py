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

@pytest.mark.parametrize("shape", [(10,), (1, 10), (100, 10), (7, 3)])
def test_sum_squared_error_and_its_second_name(shape):
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
