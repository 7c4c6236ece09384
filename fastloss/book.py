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
    r"""The book's output layer: softmax followed by the cross-entropy error.

    ``forward(x, t)`` returns ``cross_entropy_error(softmax(x), t)`` (the
    ``+ 1e-7`` included) in one pass, and ``backward(dout=1)`` the gradient
    of ``dout * loss`` with respect to ``x``. The layer takes no
    constructor arguments; ``t`` takes every form :func:`cross_entropy_error`
    takes.

    Attributes
    ----------
    loss : numpy.floating or None
        The loss of the last :meth:`forward` call (None before the first).
    y : numpy.ndarray or None
        ``softmax(x)`` of the last :meth:`forward` call, in ``x``'s float
        dtype.
    t : array_like or None
        The target of the last :meth:`forward` call, as passed.

    See Also
    --------
    fastloss.softmax_cross_entropy_and_grad : The general loss and gradient.
    fastloss.reference.book.SoftmaxWithLoss : The book's NumPy code.

    Notes
    -----
    With :math:`y = \mathrm{softmax}(x)`, :math:`N` the batch size (1 for
    a 1-D ``x``) and :math:`T` the one-hot rows of the class indices (or
    the rows ``t`` themselves),

    .. math::

        L = -\frac{1}{N} \sum_i \log(y_{i k_i} + 10^{-7}), \qquad
        \frac{\partial (\mathrm{dout} \cdot L)}{\partial x}
        = \frac{\mathrm{dout}\,(y - T)}{N}.

    Unlike the book's code, ``backward`` multiplies by ``dout`` and divides
    a 1-D sample's gradient by 1 (the book's divides by ``t.shape[0]``).

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.book import SoftmaxWithLoss
    >>> layer = SoftmaxWithLoss()
    >>> x = np.array([[0.3, 2.9, 4.0],
    ...               [1.0, 0.0, -1.0]])
    >>> print(f"{layer.forward(x, np.array([2, 0])):.6f}")
    0.356660
    >>> layer.y
    array([[0.01821127, 0.24519181, 0.73659691],
           [0.66524096, 0.24472847, 0.09003057]])
    >>> layer.backward()
    array([[ 0.00910564,  0.12259591, -0.13170154],
           [-0.16737952,  0.12236424,  0.04501529]])
    """

    def __init__(self):
        self.loss = None
        self.y = None   # output of softmax
        self.t = None   # the target, as passed

    def forward(self, x, t):
        """The cross-entropy error of ``softmax(x)`` against ``t``.

        Keeps ``t``, ``y = softmax(x)`` and the loss in the attributes
        ``t``, ``y`` and ``loss`` for :meth:`backward`.

        Parameters
        ----------
        x : array_like, shape (N, C) or (C,)
            Logits, of any real dtype but bool; a 1-D ``x`` is one sample.
        t : array_like or int
            The target in any of the book's forms: class indices of shape
            ``(N,)`` or ``(N, 1)``, one class index for every row, or
            one-hot (or soft) rows of ``x``'s shape, as in
            :func:`cross_entropy_error`.

        Returns
        -------
        numpy.floating
            ``cross_entropy_error(softmax(x), t)``, a NumPy scalar of the
            dtype the book's code returns (float64 for float64 ``x``).

        Raises
        ------
        TypeError
            ``x`` or ``t`` of a dtype that is not real, a bool ``x``, or
            float or bool class indices.
        ValueError
            ``x`` not of shape ``(N, C)`` or ``(C,)``, or a ``t`` of no
            form above.
        IndexError
            A class index outside ``[0, C)``, negative included, naming its
            row.

        Examples
        --------
        >>> import numpy as np
        >>> from fastloss.book import SoftmaxWithLoss
        >>> layer = SoftmaxWithLoss()
        >>> x = np.array([[0.3, 2.9, 4.0], [1.0, 0.0, -1.0]])
        >>> print(f"{layer.forward(x, np.array([2, 0])):.6f}")
        0.356660
        >>> print(f"{layer.forward(x, np.eye(3)[[2, 0]]):.6f}")    # one-hot rows
        0.356660
        >>> loss = layer.forward(x.astype(np.float32), np.array([2, 0]))
        >>> print(f"{loss:.6f}")    # float32 with NumPy 2; NumPy 1.x promotes as the book does
        0.356660
        """
        self.t = t
        self.y, self.loss = _core._softmax_with_loss(x, t)
        return self.loss

    def backward(self, dout=1):
        """The gradient of ``dout * loss`` with respect to the last ``x``.

        Parameters
        ----------
        dout : float or array_like, default 1
            The upstream gradient, multiplied into the result (the book's
            code ignores it).

        Returns
        -------
        numpy.ndarray
            ``(y - t) * dout / N`` for target rows and
            ``(y - onehot(t)) * dout / N`` for class indices, of ``x``'s
            shape, with ``y`` and ``t`` those of the last :meth:`forward`
            call and ``N`` the batch size (1 for a 1-D ``x``). Its dtype is
            that of the book's ``(y - t) * dout / N``: ``y``'s for class
            indices and a Python ``dout``.

        Raises
        ------
        IndexError
            A class index outside ``[0, C)`` (already raised by
            :meth:`forward`).

        Examples
        --------
        >>> import numpy as np
        >>> from fastloss.book import SoftmaxWithLoss
        >>> layer = SoftmaxWithLoss()
        >>> loss = layer.forward(np.array([[0.3, 2.9, 4.0], [1.0, 0.0, -1.0]]),
        ...                      np.array([2, 0]))
        >>> layer.backward(dout=2.0)
        array([[ 0.01821127,  0.24519181, -0.26340309],
               [-0.33475904,  0.24472847,  0.09003057]])

        One sample (a 1-D ``x``) is a batch of one:

        >>> loss = layer.forward(np.array([0.3, 2.9, 4.0]), 2)
        >>> layer.backward()
        array([ 0.01821127,  0.24519181, -0.26340309])
        """
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
