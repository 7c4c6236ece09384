# The book's functions (fastloss.book): how the book's code reads a target,
# its softmax over the last axis, its layer's forward and backward, its
# squared error, and the dtypes its NumPy formulas return.

# ---- the book's result dtypes ----------------------------------------------
#
# A book function returns the dtype that NumPy gives its formula for the
# inputs' dtypes.  That is not always the input's dtype (a float32 loss is
# float64 under NumPy 1.x, whose scalar arithmetic promotes; an int8 target
# makes a float32 squared error float64), so it is found by running the
# formula itself, fastloss.reference.book, on one-element inputs of those
# dtypes, once per pair of dtypes.

cdef enum BookFormula:
    BOOK_CEE = 0                # cross_entropy_error (and the layer's loss)
    BOOK_SSE = 1                # sum_squared_error

# the result type number by formula and the inputs' type numbers (-1: not
# probed yet); the builtin type numbers are below 32
cdef signed char _BOOK_TYPES[2][32][32]
memset(_BOOK_TYPES, -1, sizeof(_BOOK_TYPES))


cdef object _book_probe(int formula, object dy, object dt):
    from fastloss.reference import book as reference_book
    try:
        if formula == BOOK_CEE:
            r = reference_book.cross_entropy_error(np.ones((1, 2), dy), np.zeros(1, np.intp))
        else:
            r = reference_book.sum_squared_error(np.ones(1, dy), np.zeros(1, dt))
        return np.asarray(r).dtype
    except TypeError:           # a pair the book's code refuses (bool - bool)
        return _F64


cdef object _book_result(double v, int formula, int ty, int tt):
    """``v`` as the NumPy scalar the book's formula returns for inputs of
    type numbers ``ty`` (y) and ``tt`` (t; unused for BOOK_CEE)."""
    cdef int rt = -1
    if formula == BOOK_CEE:
        tt = 0
    if 0 <= ty < 32 and 0 <= tt < 32:
        rt = _BOOK_TYPES[formula][ty][tt]
    if rt < 0:
        dt = _book_probe(formula, cnp.PyArray_DescrFromType(ty),
                         cnp.PyArray_DescrFromType(tt) if formula == BOOK_SSE else None)
        rt = dt.num
        if 0 <= ty < 32 and 0 <= tt < 32:
            _BOOK_TYPES[formula][ty][tt] = rt
    if rt == cnp.NPY_DOUBLE:
        return _scalar(v, False)
    if rt == cnp.NPY_FLOAT:
        return _scalar(v, True)
    return (<object>cnp.PyArray_DescrFromType(rt)).type(v)


cdef cnp.ndarray _book_array(object a, str name):
    """``a`` as an ndarray of a real dtype (TypeError otherwise)."""
    if cnp.PyArray_Check(a):
        if cnp.PyArray_ISFLOAT(<cnp.ndarray>a) or cnp.PyArray_ISINTEGER(<cnp.ndarray>a) \
                or cnp.PyArray_ISBOOL(<cnp.ndarray>a):
            return <cnp.ndarray>a
    return _real_array(a, name)


cdef cnp.ndarray _book_compute(cnp.ndarray X, str name):
    """The float32/float64 array a book function computes on for input X:
    X itself when it is native float32/float64; float16 as float32; other
    floats and integers as float64 (bool raises TypeError: the book's
    ``x - max(x)`` is a boolean subtraction, which NumPy refuses)."""
    if _is_native_float(X):
        return X
    if cnp.PyArray_ISBOOL(X):
        raise TypeError(f"unsupported dtype bool for {name}: the book's softmax subtracts "
                        f"the maximum, which NumPy refuses for booleans")
    if cnp.PyArray_ISFLOAT(X) and cnp.PyArray_ITEMSIZE(X) <= 4:
        return _to_dtype(X, _F32)
    return _to_dtype(X, _F64)


cdef dict _EXP_DTYPES = {}


cdef cnp.dtype _book_float_dtype(cnp.ndarray X):
    """The dtype of the book's softmax of X: that of NumPy's exp of X's dtype
    (a float dtype stays; int8 and uint8 give float16, int16 and uint16
    float32, wider integers float64)."""
    cdef int tn = cnp.PyArray_TYPE(X)
    if cnp.PyArray_ISFLOAT(X):
        return cnp.PyArray_DescrFromType(tn)
    dt = _EXP_DTYPES.get(tn)
    if dt is None:
        dt = np.exp(np.zeros(1, cnp.PyArray_DescrFromType(tn))).dtype
        _EXP_DTYPES[tn] = dt
    return dt


# ---- targets, as the book's code reads them --------------------------------

cdef inline Py_ssize_t _element_stride(cnp.ndarray T, int axis) except? -1:
    """The stride of T's ``axis`` in elements (0 for length <= 1)."""
    if cnp.PyArray_DIMS(T)[axis] <= 1:
        return 0
    return cnp.PyArray_STRIDES(T)[axis] // cnp.PyArray_ITEMSIZE(T)


cdef bint _strides_whole(cnp.ndarray T):
    """Every stride of T is a whole number of elements."""
    cdef int i
    for i in range(cnp.PyArray_NDIM(T)):
        if cnp.PyArray_STRIDES(T)[i] % cnp.PyArray_ITEMSIZE(T) != 0:
            return False
    return True


cdef object _book_target(Job* J, object t, cnp.ndarray P, int64_t* scalar_label, str name):
    """Point J's labels at ``t`` as the book reads it against ``P`` (y or x,
    of shape (N, C) or (C,), already in J).  Returns the array J reads (to
    keep it alive).

    Rows of P's shape (one-hot or soft, any real dtype; for a 1-D P, any t
    of P's size, which the book reshapes to one row) become labels by their
    argmax, NumPy's, in the kernel (J.label_rows).  Anything else holds class
    indices, of any integer dtype: shape (N,) or (N, 1), or a single label
    (a Python int, 0-d, (1,) or (1, 1)) that, as NumPy's indexing in the
    book broadcasts it, is every row's label."""
    cdef Py_ssize_t n = J.n_rows, c = J.n_classes
    cdef bint one_sample = cnp.PyArray_NDIM(P) == 1
    cdef cnp.ndarray T
    cdef int nd
    cdef Py_ssize_t size
    if type(t) is int:
        try:
            scalar_label[0] = t
        except OverflowError:
            raise IndexError(f"target {t} is out of range for {c} classes (row 0)") from None
        _set_scalar_label(J, scalar_label)
        return t
    T = _book_array(t, "target")
    nd = cnp.PyArray_NDIM(T)
    size = cnp.PyArray_SIZE(T)
    if size == n * c and nd > 0 and not (c == 1 and cnp.PyArray_ISINTEGER(T)) and (
            one_sample or (nd == 1 and n == 1) or (
            nd == 2 and cnp.PyArray_DIMS(T)[0] == n and cnp.PyArray_DIMS(T)[1] == c)):
        # one-hot or soft rows (t.size == y.size: the book's test)
        if not (_is_native_float(T) or _is_native_int(T)) or not _strides_whole(T):
            T = _to_dtype(T, _F32 if cnp.PyArray_ISFLOAT(T) and cnp.PyArray_ITEMSIZE(T) <= 4
                          else _F64 if cnp.PyArray_ISFLOAT(T)
                          else T.dtype.newbyteorder("="))
            if not _strides_whole(T):
                T = np.ascontiguousarray(T)
        if nd != 2 or (one_sample and cnp.PyArray_DIMS(T)[0] != 1):
            T = T.reshape(1, c)           # one sample's row (a view where it can be)
        J.label_rows = True
        J.labels = cnp.PyArray_DATA(T)
        J.label_float = cnp.PyArray_ISFLOAT(T)
        J.label_unsigned = cnp.PyArray_ISUNSIGNED(T) or cnp.PyArray_ISBOOL(T)
        J.label_size = <int>cnp.PyArray_ITEMSIZE(T)
        J.label_stride = _element_stride(T, 0)
        J.label_col_stride = _element_stride(T, 1)
        return T
    if not cnp.PyArray_ISINTEGER(T) and (size == 1 or (cnp.PyArray_DIMS(T)[0] == n and (
            nd == 1 or (nd == 2 and cnp.PyArray_DIMS(T)[1] == 1)))):
        raise TypeError(f"class indices must be integers, got target dtype {T.dtype} "
                        f"(a target of {(<object>P).shape}'s shape holds one-hot rows)")
    if cnp.PyArray_ISINTEGER(T) and (not _is_native_int(T) or not _strides_whole(T)):
        T = np.ascontiguousarray(T, dtype=T.dtype.newbyteorder("="))
    cdef bint integer = cnp.PyArray_ISINTEGER(T)
    if integer and size == 1 and nd <= 2:
        J.label_stride = 0                # one label, every row's
    elif integer and cnp.PyArray_DIMS(T)[0] == n and (
            nd == 1 or (nd == 2 and cnp.PyArray_DIMS(T)[1] == 1)):
        J.label_stride = _element_stride(T, 0)
    else:                                 # (other dtypes: not of a label's shape)
        shape, dims = (<object>P).shape, (<object>T).shape
        indices = "()" if one_sample else f"{shape[:1]} or {shape[:1] + (1,)}"
        raise ValueError(
            f"target shape {dims} does not match {name} shape {shape}: expected class "
            f"indices of shape {indices}, one class index, or one-hot rows of shape {shape}")
    J.labels = cnp.PyArray_DATA(T)
    J.label_unsigned = cnp.PyArray_ISUNSIGNED(T)
    J.label_size = <int>cnp.PyArray_ITEMSIZE(T)
    return T


cdef object _wide_rows_to_indices(Job* J, object T):
    """For label rows of more than 64 columns (T, from _book_target), their
    argmax by NumPy's SIMD loop into an index array that J then reads: the
    kernel's row scan is made for the book's 10 classes, and is slower than
    NumPy's over long rows.  Returns the array J reads."""
    if not J.label_rows or J.n_classes <= 64:
        return T
    labels = T.argmax(axis=1)
    J.label_rows = False
    J.label_float = False
    J.labels = cnp.PyArray_DATA(<cnp.ndarray>labels)
    J.label_size = <int>cnp.PyArray_ITEMSIZE(<cnp.ndarray>labels)
    J.label_unsigned = False
    J.label_stride = _element_stride(<cnp.ndarray>labels, 0)
    return labels


def _book_target_of(y, t):
    """``t`` as the book reads it against ``y`` (for the layer's NumPy path):
    ``(True, t reshaped to y's shape)`` for rows, or ``(False, labels)``
    with one int64 class index per row (checked against y's classes)."""
    cdef Job J
    cdef int64_t scalar_label = 0
    cdef int64_t lab[BLOCK]
    cdef Py_ssize_t r0, r1, bad, i
    P = _start_job(&J, FAM_LABELS, _book_compute(_book_array(y, "y"), "y"), "y")
    T = _book_target(&J, t, P, &scalar_label, "y")
    if J.label_rows:
        return True, np.reshape(t, np.shape(y))
    labels = np.empty(J.n_rows, np.int64)
    cdef int64_t[::1] out = labels
    for r0 in range(0, J.n_rows, BLOCK):
        r1 = min(r0 + BLOCK, J.n_rows)
        bad = _read_labels(&J, r0, r1, <const double*>NULL, lab, NULL)
        if bad >= 0:
            _raise_bad_label(t, bad, J.n_classes)
        for i in range(r0, r1):
            out[i] = lab[i - r0]
    return False, labels


# ---- the functions ---------------------------------------------------------

def sum_squared_error(y, t):
    r"""The book's sum of squared errors, ``0.5 * sum((y - t)**2)``.

    Also public as :func:`fastloss.book.mean_squared_error`, the book's
    chapter-4 name (not :func:`fastloss.mean_squared_error`, which
    averages).

    Parameters
    ----------
    y : array_like
        Predictions, of any real dtype and any shape (0-d included).
    t : array_like
        Targets, of any real dtype and of exactly `y`'s shape.

    Returns
    -------
    numpy.floating
        Half the sum of the squared differences over every element, a
        NumPy scalar of the dtype the book's formula returns (NumPy's
        promotion of `y` and `t`: float64 for a float32 `y` and a float64
        `t`). The sum is accumulated in float64.

    Raises
    ------
    TypeError
        `y` or `t` of a non-real dtype (complex, object, str, ...).
    ValueError
        `t` not of `y`'s shape.

    See Also
    --------
    fastloss.mean_squared_error : The mean (or sum) of the squares, with a gradient.
    fastloss.reference.book.sum_squared_error : The book's NumPy code.

    Notes
    -----
    .. math::

        E = \frac{1}{2} \sum_k (y_k - t_k)^2

    Examples
    --------
    The book's example (chapter 4):

    >>> import numpy as np
    >>> from fastloss.book import sum_squared_error
    >>> t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    >>> y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    >>> print(f"{sum_squared_error(y, t):.6f}")
    0.097500
    >>> y = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    >>> print(f"{sum_squared_error(y, t):.6f}")
    0.597500
    """
    cdef Job J
    cdef BlockResult total
    cdef cnp.ndarray Y = _book_array(y, "y"), T0 = _book_array(t, "target")
    cdef int ty = cnp.PyArray_TYPE(Y), tt = cnp.PyArray_TYPE(T0)
    if ty == cnp.NPY_FLOAT and tt != cnp.NPY_FLOAT and \
            PyArray_PromoteTypes(Y.dtype, T0.dtype).type_num == cnp.NPY_DOUBLE:
        Y = _to_dtype(Y, _F64)            # the book subtracts in float64: so do we
    if cnp.PyArray_NDIM(Y) != 1 and cnp.PyArray_NDIM(Y) != 2 and \
            (<object>T0).shape == (<object>Y).shape:
        # the book sums over every element whatever y's shape: as rows of
        # its last axis (a 0-d y as one row, an empty one as no rows)
        Y = Y.reshape(1) if Y.ndim == 0 else (
            Y.reshape(-1, cnp.PyArray_DIMS(Y)[cnp.PyArray_NDIM(Y) - 1]) if Y.size
            else Y.reshape(0, 1))
        T0 = T0.reshape((<object>Y).shape)
    P = _start_job(&J, FAM_MSE, Y, "y")
    # a target that is not float32/float64 is read as float64: the kernel
    # subtracts in float64, whatever NumPy's promotion would round to
    T = _dense_target(&J, T0 if _is_native_float(T0) else _to_dtype(T0, _F64), P, "y")
    cdef int nt = _pick_threads(&J, 0)
    _run_job(&J, nt, &total)
    return _book_result(0.5 * total.loss, BOOK_SSE, ty, tt)


def cross_entropy_error(y, t):
    r"""The book's cross-entropy error, ``-sum_i log(y[i, t_i] + 1e-7) / N``.

    Parameters
    ----------
    y : array_like, shape (N, C) or (C,)
        Probabilities, of any real dtype; a 1-D `y` is one sample (N = 1).
    t : array_like or int
        The target, in any of the book's forms: class indices of any integer
        dtype of shape ``(N,)`` or ``(N, 1)``; one class index for every row
        (a Python int, or an integer array of shape ``()``, ``(1,)`` or
        ``(1, 1)``); or rows of `y`'s shape (one-hot or soft, any real
        dtype), whose ``argmax`` is each row's class. For a 1-D `y`, any `t`
        of `y`'s size is one row.

    Returns
    -------
    numpy.floating
        A NumPy scalar of the dtype the book's formula returns: float64 for
        float64 `y`; for float32 `y`, float32 under NumPy 2 and float64
        under NumPy 1.x. The sum is accumulated in float64.

    Raises
    ------
    TypeError
        `y` or `t` of a non-real dtype; float or bool class indices (a `t`
        that is not of `y`'s shape).
    ValueError
        `y` not of shape ``(N, C)`` or ``(C,)``; a `t` of no form above
        (its shape is named).
    IndexError
        A class index outside ``[0, C)``, negative included (the book's
        NumPy indexing would read ``y[i, -1]``), naming its row.

    See Also
    --------
    fastloss.cross_entropy : The general loss (weights, smoothing, axes, gradients).
    fastloss.book.SoftmaxWithLoss : Softmax and this loss as a layer.
    fastloss.reference.book.cross_entropy_error : The book's NumPy code.

    Notes
    -----
    With :math:`k_i` the class of row :math:`i`,

    .. math::

        E = -\frac{1}{N} \sum_i \log(y_{i k_i} + 10^{-7}).

    Float64 results equal the book's NumPy code within a relative 1e-12
    (except where ``y[i, k_i]`` rounds to next to 1). Unlike the book's
    code, ``(N, 1)`` class indices are one class per row (the book's
    indexing broadcasts them to an ``(N, N)`` table).

    Examples
    --------
    The book's example: the right class (2) has probability 0.6.

    >>> import numpy as np
    >>> from fastloss.book import cross_entropy_error
    >>> t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    >>> y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    >>> float(cross_entropy_error(y, t))
    0.510825457099338
    >>> float(cross_entropy_error(y, 2))          # the same, as a class index
    0.510825457099338

    A batch of two rows; every target form gives the same loss:

    >>> y2 = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    >>> batch = np.stack([y, y2])
    >>> print(f"{cross_entropy_error(batch, np.array([2, 2])):.6f}")
    1.406705
    >>> print(f"{cross_entropy_error(batch, np.array([[2], [2]])):.6f}")
    1.406705
    >>> print(f"{cross_entropy_error(batch, np.stack([t, t])):.6f}")
    1.406705
    >>> cross_entropy_error(batch, np.array([2, -1]))
    Traceback (most recent call last):
        ...
    IndexError: target -1 is out of range for 10 classes (row 1)
    """
    cdef Job J
    cdef BlockResult total
    cdef int64_t scalar_label = 0
    cdef cnp.ndarray Y = _book_array(y, "y")
    P = _start_job(&J, FAM_CE, Y, "y")
    J.eps = 1e-7
    T = _wide_rows_to_indices(&J, _book_target(&J, t, P, &scalar_label, "y"))
    _run_job(&J, _pick_threads(&J, 0), &total)
    if total.bad >= 0:
        _raise_bad_label(t, total.bad, J.n_classes)
    return _book_result(total.loss / total.div, BOOK_CEE, cnp.PyArray_TYPE(Y), 0)


cdef object _softmax_rows(Job* J, cnp.ndarray X, bint with_target, object t,
                          int64_t* scalar_label, BlockResult* total):
    """y = the softmax of the rows of X (2-D or 1-D, float32/float64) in a
    new array of X's dtype; with_target, also the book's loss of y for the
    target ``t``, in total."""
    cdef cnp.ndarray P, Y
    P = _start_job(J, FAM_SOFTMAX, X, "x")
    J.eps = 1e-7
    T = _wide_rows_to_indices(J, _book_target(J, t, P, scalar_label, "x")) \
        if with_target else None
    Y = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(P), cnp.PyArray_DIMS(P), cnp.PyArray_TYPE(P), 0)
    _set_grad(J, Y)
    _run_job(J, _pick_threads(J, 0), total)
    if total.bad >= 0:
        _raise_bad_label(t, total.bad, J.n_classes)
    return Y


def softmax(x):
    r"""The book's softmax over the last axis, shifted by its maximum.

    Parameters
    ----------
    x : array_like
        Values of any real dtype but bool, of any number of axes; the
        softmax is taken over the last axis, which must not be empty.

    Returns
    -------
    numpy.ndarray or numpy.floating
        A new array of `x`'s shape, in the dtype of the book's NumPy code: a
        float dtype is kept (float16 in, float16 out, computed in float32);
        integers give the dtype of NumPy's ``exp`` of them (float64 for 32-
        and 64-bit ones, float32 for 16-bit, float16 for 8-bit). A 0-d `x`
        gives the NumPy scalar 1.0.

    Raises
    ------
    TypeError
        A bool `x` (NumPy refuses the book's ``x - max(x)``), or a non-real
        dtype.
    ValueError
        An empty last axis.

    See Also
    --------
    fastloss.book.SoftmaxWithLoss : The softmax and the cross-entropy error as a layer.
    fastloss.softmax_cross_entropy : The loss of ``softmax(logits)`` without forming it.
    fastloss.reference.book.softmax : The book's NumPy code.

    Notes
    -----
    .. math::

        \mathrm{softmax}(x)_k = \frac{e^{x_k - m}}{\sum_j e^{x_j - m}},
        \qquad m = \max_j x_j.

    The shift by the maximum keeps every ``exp`` from overflowing. Integer
    inputs give the softmax of their values (the book's ``x - max(x)``
    wraps around in unsigned integers first).

    Examples
    --------
    The book's example:

    >>> import numpy as np
    >>> from fastloss.book import softmax
    >>> a = np.array([0.3, 2.9, 4.0])
    >>> softmax(a)
    array([0.01821127, 0.24519181, 0.73659691])
    >>> float(softmax(a).sum())
    1.0
    >>> softmax(np.array([[1010.0, 1000.0, 990.0]]))    # no overflow
    array([[9.99954600e-01, 4.53978686e-05, 2.06106005e-09]])
    >>> softmax(a.astype(np.float16))
    array([0.0182, 0.2452, 0.7363], dtype=float16)
    """
    cdef Job J
    cdef BlockResult total
    cdef int64_t scalar_label = 0
    cdef cnp.ndarray X = _book_array(x, "x"), C = _book_compute(X, "x"), Y
    cdef int nd = cnp.PyArray_NDIM(X)
    if nd == 1 or nd == 2:
        Y = _softmax_rows(&J, C, False, None, &scalar_label, &total)
    else:
        shape = (<object>X).shape
        if nd > 2 and shape[nd - 1] == 0:
            raise ValueError(f"x has 0 classes (shape {shape}); need at least one class")
        rows = C.reshape(1, 1) if nd == 0 else C.reshape(-1, shape[nd - 1])
        Y = _softmax_rows(&J, rows, False, None, &scalar_label, &total).reshape(shape)
    out = _book_float_dtype(X)
    if cnp.PyArray_TYPE(Y) != out.type_num:
        Y = Y.astype(out)
    return Y[()] if nd == 0 else Y


def _softmax_with_loss(x, t):
    """SoftmaxWithLoss.forward: ``(y, loss)``, y = softmax(x) for x of
    shape (N, C) or (C,) and loss = cross_entropy_error(y, t), in one pass."""
    cdef Job J
    cdef BlockResult total
    cdef int64_t scalar_label = 0
    cdef cnp.ndarray X = _book_array(x, "x"), Y
    cdef int nd = cnp.PyArray_NDIM(X)
    if nd != 1 and nd != 2:
        raise ValueError(f"x must have shape (N, C) or (C,), got shape {(<object>X).shape}")
    Y = _softmax_rows(&J, _book_compute(X, "x"), True, t, &scalar_label, &total)
    out = _book_float_dtype(X)
    if cnp.PyArray_TYPE(Y) != out.type_num:
        Y = Y.astype(out)
    return Y, _book_result(total.loss / total.div, BOOK_CEE, out.type_num, 0)


# ---- the layer's backward --------------------------------------------------

cdef void _backward_rows_typed(const Job* J, const row_t* t, pfloat dout, pfloat n_rows,
                               pfloat* dx) noexcept nogil:
    """dx = (y - t) * dout / N for rows t of y's shape, element by element
    in the order and the dtype (pfloat, NumPy's promotion of y and t) of the
    book's NumPy code."""
    cdef Py_ssize_t i, j, c = J.n_classes
    cdef Py_ssize_t prs = J.pred_row_stride, pcs = J.pred_col_stride
    cdef Py_ssize_t trs = J.label_stride, tcs = J.label_col_stride
    cdef const float* y32 = <const float*>J.pred
    cdef const double* y64 = <const double*>J.pred
    cdef pfloat yv
    for i in range(J.n_rows):
        for j in range(c):
            if J.pred_f32:
                yv = <pfloat>y32[i * prs + j * pcs]
            else:
                yv = <pfloat>y64[i * prs + j * pcs]
            dx[i * c + j] = ((yv - <pfloat>t[i * trs + j * tcs]) * dout) / n_rows


cdef Py_ssize_t _backward_labels(const Job* J, const pfloat* y, pfloat dout, pfloat n_rows,
                                 pfloat* dx) noexcept nogil:
    """dx = (y - onehot(t)) * dout / N for class indices, in the order of the
    book's ``dx = y.copy(); dx[i, t_i] -= 1; dx * dout / N``.  Returns the
    first row whose label is out of range, or -1."""
    cdef int64_t lab[BLOCK]
    cdef Py_ssize_t i, j, k, r0, r1, bad, c = J.n_classes
    cdef Py_ssize_t rs = J.pred_row_stride, cs = J.pred_col_stride
    r0 = 0
    while r0 < J.n_rows:
        r1 = r0 + BLOCK if r0 + BLOCK < J.n_rows else J.n_rows
        bad = _read_labels(J, r0, r1, y, lab, NULL)
        if bad >= 0:
            return bad
        for i in range(r0, r1):
            for j in range(c):
                dx[i * c + j] = (y[i * rs + j * cs] * dout) / n_rows
            k = lab[i - r0]
            dx[i * c + k] = ((y[i * rs + k * cs] - <pfloat>1) * dout) / n_rows
        r0 = r1
    return -1


cdef Py_ssize_t _backward(const Job* J, bint f32, double dout, void* dx) noexcept nogil:
    """The layer's backward into dx (float32 if f32, else float64) for label
    rows or class indices; returns the first bad label's row, or -1."""
    if J.label_rows:
        _on_label_rows(J, ROWS_BACKWARD_F32 if f32 else ROWS_BACKWARD_F64, 0, J.n_rows, NULL,
                       dout, dx)
        return -1
    if f32:
        return _backward_labels(J, <const float*>J.pred, <float>dout, <float>J.n_rows,
                                <float*>dx)
    return _backward_labels(J, <const double*>J.pred, dout, <double>J.n_rows, <double*>dx)


def _softmax_with_loss_backward(y, t, dout):
    """SoftmaxWithLoss.backward for the layer's ``y`` (float32 or float64,
    1-D or 2-D), any target form and a Python int or float ``dout``: ``dx``
    in one pass, in the dtype of the book's NumPy code; None for the other
    cases (float16 y, a NumPy or array dout), which take NumPy's path."""
    cdef Job J
    cdef int64_t scalar_label = 0
    cdef cnp.ndarray Y, DX, T0
    cdef int rt
    cdef Py_ssize_t bad = -1
    cdef double d
    if not _is_native_float(y) or (type(dout) is not int and type(dout) is not float):
        return None
    Y = <cnp.ndarray>y
    if cnp.PyArray_NDIM(Y) != 1 and cnp.PyArray_NDIM(Y) != 2:
        return None
    if type(dout) is int and not (-(1 << 53) <= dout <= (1 << 53)):
        return None                 # NumPy's promotion of a huge int: its path
    d = dout
    if cnp.PyArray_TYPE(Y) == cnp.NPY_FLOAT and fabs(d) > 3.4028234663852886e38 and d - d == 0.0:
        return None                 # NumPy 1.x makes float32 * 1e300 float64: its path
    P = _start_job(&J, FAM_LABELS, Y, "y")
    T0 = None if type(t) is int else _book_array(t, "target")
    T = _book_target(&J, t if T0 is None else T0, P, &scalar_label, "y")
    rt = cnp.PyArray_TYPE(Y)
    if J.label_rows:
        rt = PyArray_PromoteTypes(Y.dtype, T0.dtype).type_num
        if rt != cnp.NPY_FLOAT and rt != cnp.NPY_DOUBLE:
            return None
    DX = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(Y), cnp.PyArray_DIMS(Y), rt, 0)
    cdef void* dx = cnp.PyArray_DATA(DX)
    if J.n_rows * J.n_classes < NOGIL_MIN_ELEMENTS:
        bad = _backward(&J, rt == cnp.NPY_FLOAT, d, dx)
    else:
        with nogil:
            bad = _backward(&J, rt == cnp.NPY_FLOAT, d, dx)
    if bad >= 0:
        _raise_bad_label(t, bad, J.n_classes)
    return DX


def _argmax_rows(t):
    """``t.argmax(axis=1)`` for a 2-D native float32/float64 ``t`` with a unit
    column stride and at most 64 columns (the book's one-hot targets to class
    indices); None for any other ``t``.  A row whose only nonzero is positive
    or NaN is that column, found by one SIMD test per row; a block of 256
    rows with any other row goes through NumPy's argmax (into the result, no
    copy), so each row gets NumPy's answer.  NumPy's
    argmax costs about 17 ns a row of 10, more than the loss it feeds."""
    cdef cnp.ndarray T, L
    cdef Py_ssize_t n, c, rs, isz, i, i0, m, nbad = 0
    cdef int32_t col[256]
    cdef int32_t k
    cdef cnp.npy_intp* lab
    cdef const float* tf
    cdef const double* td
    cdef double v
    cdef bint f32
    cdef cnp.npy_intp dims[1]
    if not (_is_native_float(t) and cnp.PyArray_NDIM(<cnp.ndarray>t) == 2):
        return None
    T = <cnp.ndarray>t
    n = cnp.PyArray_DIMS(T)[0]
    c = cnp.PyArray_DIMS(T)[1]
    isz = cnp.PyArray_ITEMSIZE(T)
    if c < 1 or c > 64:
        return None
    if n == 0:                          # (NumPy gives such arrays zero strides)
        return np.empty(0, np.intp)
    if (c > 1 and cnp.PyArray_STRIDES(T)[1] != isz) or cnp.PyArray_STRIDES(T)[0] % isz != 0:
        return None
    rs = cnp.PyArray_STRIDES(T)[0] // isz
    f32 = cnp.PyArray_TYPE(T) == cnp.NPY_FLOAT
    tf = <const float*>cnp.PyArray_DATA(T)
    td = <const double*>cnp.PyArray_DATA(T)
    dims[0] = n
    L = cnp.PyArray_EMPTY(1, dims, cnp.NPY_INTP, 0)   # argmax's dtype
    lab = <cnp.npy_intp*>cnp.PyArray_DATA(L)
    i0 = 0
    while i0 < n:
        m = n - i0 if n - i0 < 256 else 256
        nbad = 0
        with nogil:
            if f32:
                fl_onehot_cols_f(tf + i0 * rs, m, c, rs, col)
            else:
                fl_onehot_cols_d(td + i0 * rs, m, c, rs, col)
            for i in range(m):
                k = col[i]
                if k >= 0:
                    v = tf[(i0 + i) * rs + k] if f32 else td[(i0 + i) * rs + k]
                    if v > 0.0 or v != v:
                        lab[i0 + i] = k
                        continue
                nbad += 1
        if nbad:                        # NumPy, on views: no temporary copy
            T[i0:i0 + m].argmax(axis=1, out=L[i0:i0 + m])
        i0 += m
    return L
