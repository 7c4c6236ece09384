"""The functions of *Deep Learning from Scratch*, computed by fastloss's kernels.

Same names, same numbers and the same result dtypes as the book's
``common/functions.py`` and ``common/layers.py``, many times faster::

    from fastloss.book import softmax, cross_entropy_error, SoftmaxWithLoss

Every target form the book's code takes works, the same way in
:func:`cross_entropy_error`, ``SoftmaxWithLoss.forward`` and
``SoftmaxWithLoss.backward``:

- class indices of any integer dtype: shape ``(N,)``, ``(N, 1)``, or a
  single index (a Python int, 0-d, ``(1,)`` or ``(1, 1)``), which, as NumPy's
  indexing in the book broadcasts it, is every row's class;
- one-hot or soft rows of ``y``'s shape, of any real dtype (bool, integer,
  float): each row's class is its ``argmax``, NumPy's, as in the book;
- a 1-D ``y`` (or ``x``) is one sample, with ``t`` its one index or its row.

Float64 results equal the book's within a relative 1e-12, except where a
row's ``y_t`` rounds to next to 1 (there one ulp of ``y_t`` moves the loss
by about 1e-9 of itself). Where the book's code gives a wrong answer or
none, fastloss differs, on purpose:

- ``(N, 1)`` class indices are read as one index per row. The book's
  ``y[np.arange(N), t]`` broadcasts them to an ``(N, N)`` table and sums it,
  a wrong loss, and its ``backward`` subtracts 1 in N places per row.
- The layer's ``backward`` for a 1-D sample divides by 1, the batch size;
  the book's divides by ``t.shape[0]`` (the number of classes for a one-hot
  ``t``), a gradient too small by that factor.
- ``backward(dout)`` multiplies by ``dout``; the book's ignores it.
- A negative class index raises ``IndexError``, as one past the last class
  does; the book's NumPy indexing reads ``y[i, -1]``, the last class.
- The published ``y = t.reshape(1, t.size)`` typo in the 1-D branch is not
  reproduced: ``y`` is reshaped, ``t`` alongside it.
- ``softmax`` of integers is the softmax of their values, in the dtype the
  book's code returns; the book's ``x - max(x)`` wraps around in unsigned
  (and can overflow in narrow signed) integers first.
- With a single class (``y`` of shape ``(N, 1)``), an integer ``t`` holds
  class indices in every form (each must be 0), and a Python int is always
  a class index. The book's ``t.size == y.size`` test takes such a ``t`` for
  one-hot rows: its ``(N,)`` form fails in ``argmax(axis=1)``, and its
  ``(N, 1)`` form gives a gradient of ``1 / N`` for a label 0 (the right
  one is 0).
"""
import numpy as np

from . import _core
from ._core import cross_entropy_error, softmax, sum_squared_error

__all__ = ["softmax", "cross_entropy_error", "sum_squared_error",
           "mean_squared_error", "SoftmaxWithLoss"]

#: The book's second name for :func:`sum_squared_error` (``0.5 * sum((y - t)**2)``,
#: not :func:`fastloss.mean_squared_error`).
mean_squared_error = sum_squared_error


class SoftmaxWithLoss:
    """The book's output layer: softmax followed by the cross-entropy error.

    ``forward(x, t)`` returns ``cross_entropy_error(softmax(x), t)`` (the
    ``+ 1e-7`` included) for ``x`` of shape ``(N, C)`` or ``(C,)``, in one
    pass. ``backward(dout=1)`` returns ``(y - t) * dout / N`` for rows ``t``
    and ``(y - onehot(t)) * dout / N`` for class indices, with
    ``y = softmax(x)`` and N the batch size (1 for a 1-D ``x``), in the dtype
    of the book's NumPy code. ``t`` takes every form
    :func:`cross_entropy_error` takes. The attributes ``loss``, ``y`` and
    ``t`` hold what the book's layer holds.
    """

    def __init__(self):
        self.loss = None
        self.y = None   # output of softmax
        self.t = None   # the target, as passed

    def forward(self, x, t):
        self.t = t
        self.y, self.loss = _core._softmax_with_loss(x, t)
        return self.loss

    def backward(self, dout=1):
        dx = _core._softmax_with_loss_backward(self.y, self.t, dout)
        if dx is None:
            dx = self._backward_numpy(dout)
        return dx

    def _backward_numpy(self, dout):
        # the cases the compiled pass leaves out (a float16 y, a NumPy or
        # array dout): the book's NumPy code, on the target as read above
        y = self.y
        batch_size = y.shape[0] if y.ndim == 2 else 1
        rows, t = _core._book_target_of(y, self.t)
        if rows:
            return (y - t) * dout / batch_size
        dx = y.copy()
        if y.ndim == 2:
            dx[np.arange(batch_size), t] -= 1
        else:
            dx[t[0]] -= 1
        return dx * dout / batch_size
