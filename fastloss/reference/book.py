"""The book's NumPy code, as published: the oracle of `fastloss.book`.

*Deep Learning from Scratch* (O'Reilly Japan), ``common/functions.py`` and
``common/layers.py``, with the two departures that fastloss.book makes too
(docs/contract.md lists them): a 1-D `y` is one sample, with `t` reshaped
alongside it (the published ``y = t.reshape`` typo is not reproduced), and
``SoftmaxWithLoss.backward`` multiplies by `dout` and treats a 1-D input as
one sample. Results keep NumPy's dtypes (float32 stays
float32, with the ``1e-7`` added in float32).
"""

import numpy as np


def softmax(x):
    """Softmax over the last axis of `x`: ``exp(x - max) / sum(exp(x - max))``."""
    x = x - np.max(x, axis=-1, keepdims=True)  # guards against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def sum_squared_error(y, t):
    """``0.5 * sum((y - t)**2)`` over every element."""
    return 0.5 * np.sum((y - t) ** 2)


# The book's chapter 4 names the same function mean_squared_error.
mean_squared_error = sum_squared_error


def cross_entropy_error(y, t):
    """``-sum_i log(y[i, t_i] + 1e-7) / N`` for probabilities `y` of N rows.

    A 1-D `y` is one sample; a one-hot `t` (``t.size == y.size``) is turned
    into class indices by argmax. By that rule, class indices of a batch with
    a single class (C == 1) are taken for one-hot, and argmax fails, as in
    the book.
    """
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)

    # one-hot t: turn it into the indices of the correct classes
    if t.size == y.size:
        t = t.argmax(axis=1)

    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class SoftmaxWithLoss:
    """Softmax followed by the cross-entropy error, as a layer.

    ``forward(x, t) = cross_entropy_error(softmax(x), t)``;
    ``backward(dout) = (y - t) * dout / N`` for a one-hot `t` and
    ``(y - onehot(t)) * dout / N`` for class indices, ``y = softmax(x)``.
    """

    def __init__(self):
        self.loss = None
        self.y = None  # output of softmax
        self.t = None  # target

    def forward(self, x, t):
        """Store t and y = softmax(x); return cross_entropy_error(y, t)."""
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)

        return self.loss

    def backward(self, dout=1):
        """Return the gradient of ``dout * loss`` with respect to x."""
        batch_size = self.y.shape[0] if self.y.ndim == 2 else 1
        if self.t.size == self.y.size:  # one-hot t
            dx = (self.y - self.t) * dout / batch_size
        else:
            dx = self.y.copy()
            if dx.ndim == 2:
                dx[np.arange(batch_size), self.t] -= 1
            else:
                dx[self.t] -= 1
            dx = dx * dout / batch_size

        return dx
