"""The functions of *Deep Learning from Scratch*, computed by fastloss's kernels.

Same names, same numbers as the book's ``common/functions.py`` and
``common/layers.py`` (float64 within a relative 1e-12), much faster::

    from fastloss.book import softmax, cross_entropy_error, SoftmaxWithLoss

Unlike the book, ``SoftmaxWithLoss.backward`` honours ``dout``, and a 1-D
``cross_entropy_error`` input is reshaped without the published
``y = t.reshape(...)`` typo.
"""
import numpy as np

from . import _core
from ._core import sum_squared_error

__all__ = ["softmax", "cross_entropy_error", "sum_squared_error",
           "mean_squared_error", "SoftmaxWithLoss"]

#: The book's second name for :func:`sum_squared_error` (``0.5 * sum((y - t)**2)``,
#: not :func:`fastloss.mean_squared_error`).
mean_squared_error = sum_squared_error


def softmax(x):
    """Row-wise softmax of a 1-D or 2-D array, shifted by the row maximum:
    ``exp(x - max(x)) / sum(exp(x - max(x)))``."""
    return _core._softmax(x)


def _row_argmax(t):
    """``t.argmax(axis=1)``: NumPy's answer, found in C for one-hot rows."""
    labels = _core._argmax_rows(t)
    return labels if labels is not None else t.argmax(axis=1)


def _as_labels(y, t):
    """The book's target handling: a 1-D ``y`` is one sample, and one-hot ``t``
    (``t.size == y.size``) becomes class indices."""
    if type(y) is np.ndarray and type(t) is np.ndarray and y.ndim == 2:
        # the usual calls, without the NumPy calls below (about 1 us)
        if t.ndim == 1:
            return y, t
        if t.ndim == 2 and t.size == y.size:
            return y, _row_argmax(t)
    y = np.asarray(y)
    if type(t) is not int:
        t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, y.size)
        t = np.reshape(t, (1, -1)) if np.ndim(t) else np.reshape(t, (1,))
    if np.size(t) == y.size and np.ndim(t) == 2:
        t = _row_argmax(t)
    elif np.ndim(t) == 2 and t.shape[0] == 1 and y.shape[0] == 1:
        t = t.reshape(1)
    return y, t


def cross_entropy_error(y, t):
    """``-sum_i log(y[i, t_i] + 1e-7) / N`` for probabilities ``y`` and class
    indices or one-hot rows ``t``.

    ``t`` is read as the book reads it.  A 1-D ``y`` is one sample.  A 2-D
    ``t`` with ``t.size == y.size`` is one-hot: each row's class is
    ``t.argmax(axis=1)``, for soft rows too (this allocates the (N,) index
    array, as the book's code does; rows with one positive entry are found
    in C, about 6x faster than NumPy's argmax, and any other row gets
    NumPy's answer).  Anything else holds class indices.

    One difference: with a single class (``y`` of shape (N, 1)) and ``t`` of
    shape (N,), the book's ``t.size == y.size`` test would take ``t`` for
    one-hot rows and fail in ``argmax(axis=1)``.  Here ``t`` holds class
    indices (each must be 0).
    """
    y, t = _as_labels(y, t)
    return _core.cross_entropy(y, t)


class SoftmaxWithLoss:
    """The book's output layer: softmax followed by the cross-entropy error.

    ``forward(x, t)`` returns ``cross_entropy_error(softmax(x), t)`` (the
    ``+ 1e-7`` included); ``backward(dout=1)`` returns
    ``(y - t) * dout / N`` (``t`` one-hot) or ``(y - onehot(t)) * dout / N``.
    """

    def __init__(self):
        self.loss = None
        self.y = None   # output of softmax
        self.t = None   # targets (one-hot rows or class indices)

    def forward(self, x, t):
        self.t = t
        x = np.asarray(x)
        t_arr = np.asarray(t)
        if t_arr.size == x.size and t_arr.ndim == x.ndim:
            self.y = _core._softmax(x)
            self.loss = cross_entropy_error(self.y, t_arr)
        else:
            xs = x.reshape(1, -1) if x.ndim == 1 else x
            self.y, self.loss = _core._softmax(xs, t_arr.reshape(-1) if x.ndim == 1 else t_arr)
            if x.ndim == 1:
                self.y = self.y.reshape(x.shape)
        return self.loss

    def backward(self, dout=1):
        y = self.y
        batch_size = y.shape[0] if y.ndim == 2 else 1
        t = np.asarray(self.t)
        dx = _core._softmax_backward(y, t, dout)    # the common case, in one pass
        if dx is not None:
            return dx
        if t.size == y.size:
            dx = y - t.reshape(y.shape)
        else:
            dx = y.copy()
            if y.ndim == 2:
                dx[np.arange(batch_size), t] -= 1
            else:
                dx[t.reshape(())] -= 1
        dx *= dout
        dx /= batch_size
        return dx
