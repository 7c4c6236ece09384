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
    """The book's softmax over the last axis of `x`, as published.

    Parameters
    ----------
    x : numpy.ndarray
        Values; see :func:`fastloss.book.softmax`.

    Returns
    -------
    numpy.ndarray
        ``exp(x - max) / sum(exp(x - max))`` over the last axis, in NumPy's
        dtype for the formula.

    Raises
    ------
    TypeError
        A bool `x` (NumPy refuses ``x - max(x)``).

    See Also
    --------
    fastloss.book.softmax : The compiled version.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.reference import book
    >>> book.softmax(np.array([0.3, 2.9, 4.0]))
    array([0.01821127, 0.24519181, 0.73659691])
    """
    x = x - np.max(x, axis=-1, keepdims=True)  # guards against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def sum_squared_error(y, t):
    """The book's ``0.5 * sum((y - t)**2)`` over every element, as published.

    Also named ``mean_squared_error``, as in the book's chapter 4.

    Parameters
    ----------
    y, t : numpy.ndarray
        Predictions and targets of the same shape; see
        :func:`fastloss.book.sum_squared_error`.

    Returns
    -------
    numpy.floating
        Half the sum of squares, in NumPy's dtype for the formula.

    Raises
    ------
    ValueError
        Shapes that do not broadcast (NumPy's error).

    See Also
    --------
    fastloss.book.sum_squared_error : The compiled version.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.reference import book
    >>> t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    >>> y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    >>> print(f"{book.sum_squared_error(y, t):.6f}")
    0.097500
    """
    return 0.5 * np.sum((y - t) ** 2)


# The book's chapter 4 names the same function mean_squared_error.
mean_squared_error = sum_squared_error


def cross_entropy_error(y, t):
    """The book's ``-sum_i log(y[i, t_i] + 1e-7) / N``, as published.

    A 1-D `y` is one sample; a one-hot `t` (``t.size == y.size``) is turned
    into class indices by argmax. By that rule, class indices of a batch with
    a single class (C == 1) are taken for one-hot, and argmax fails, as in
    the book.

    Parameters
    ----------
    y : numpy.ndarray, shape (N, C) or (C,)
        Probabilities.
    t : numpy.ndarray
        Class indices of shape ``(N,)`` or one-hot rows of `y`'s shape; see
        :func:`fastloss.book.cross_entropy_error` for the forms the compiled
        version accepts.

    Returns
    -------
    numpy.floating
        The mean of ``-log(y[i, t_i] + 1e-7)``, in NumPy's dtype for the
        formula (float32 stays float32 under NumPy 2).

    Raises
    ------
    IndexError
        A class index of ``C`` or more (NumPy's error; a negative one wraps
        around, as in the book).

    See Also
    --------
    fastloss.book.cross_entropy_error : The compiled version.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.reference import book
    >>> t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    >>> y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    >>> float(book.cross_entropy_error(y, t))
    0.510825457099338
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
    """The book's softmax-with-loss layer, as published (with ``dout``).

    ``forward(x, t) = cross_entropy_error(softmax(x), t)``;
    ``backward(dout) = (y - t) * dout / N`` for a one-hot `t` and
    ``(y - onehot(t)) * dout / N`` for class indices, ``y = softmax(x)``.
    The layer takes no constructor arguments.

    Attributes
    ----------
    loss : numpy.floating or None
        The loss of the last ``forward`` call.
    y : numpy.ndarray or None
        ``softmax(x)`` of the last ``forward`` call.
    t : numpy.ndarray or None
        The target of the last ``forward`` call.

    See Also
    --------
    fastloss.book.SoftmaxWithLoss : The compiled version.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.reference import book
    >>> layer = book.SoftmaxWithLoss()
    >>> x = np.array([[0.3, 2.9, 4.0], [1.0, 0.0, -1.0]])
    >>> print(f"{layer.forward(x, np.array([2, 0])):.6f}")
    0.356660
    >>> print(layer.backward().round(6))
    [[ 0.009106  0.122596 -0.131702]
     [-0.16738   0.122364  0.045015]]
    """

    def __init__(self):
        self.loss = None
        self.y = None  # output of softmax
        self.t = None  # target

    def forward(self, x, t):
        """Store `t` and ``y = softmax(x)``; return ``cross_entropy_error(y, t)``.

        Parameters
        ----------
        x : numpy.ndarray, shape (N, C) or (C,)
            Logits.
        t : numpy.ndarray
            Class indices or one-hot rows, as :func:`cross_entropy_error` reads
            them.

        Returns
        -------
        numpy.floating
            The loss, also kept in ``self.loss``.

        Raises
        ------
        IndexError
            A class index of ``C`` or more (NumPy's error).

        Examples
        --------
        >>> import numpy as np
        >>> from fastloss.reference import book
        >>> layer = book.SoftmaxWithLoss()
        >>> print(f"{layer.forward(np.array([0.3, 2.9, 4.0]), np.array([0, 0, 1])):.6f}")
        0.305714
        """
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)

        return self.loss

    def backward(self, dout=1):
        """Return the gradient of ``dout * loss`` with respect to ``x``.

        Parameters
        ----------
        dout : float or numpy.ndarray, default 1
            The upstream gradient.

        Returns
        -------
        numpy.ndarray
            ``(y - t) * dout / N`` (one-hot `t`) or ``(y - onehot(t)) * dout / N``
            (class indices), of ``x``'s shape; ``N`` is 1 for a 1-D ``x``.

        Raises
        ------
        AttributeError
            Before the first ``forward`` call.

        Examples
        --------
        >>> import numpy as np
        >>> from fastloss.reference import book
        >>> layer = book.SoftmaxWithLoss()
        >>> loss = layer.forward(np.array([0.3, 2.9, 4.0]), np.array([0, 0, 1]))
        >>> print(layer.backward().round(6))
        [ 0.018211  0.245192 -0.263403]
        """
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
