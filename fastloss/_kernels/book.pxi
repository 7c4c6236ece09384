# The book's functions (fastloss.book): its squared error, its softmax (with
# the layer's loss), one-hot rows to class indices, and the layer's backward.

cdef void _softmax_backward_typed(const pfloat* y, const int64_t* lab, const pfloat* t,
                                  Py_ssize_t n, Py_ssize_t c, pfloat dout, pfloat n_rows,
                                  pfloat* dx) noexcept nogil:
    """dx = (y - onehot(t)) * dout / N, element by element in the order (and
    the dtype) of the book's NumPy code: y - t, then * dout, then / N."""
    cdef Py_ssize_t i, j
    cdef int64_t k
    for i in range(n):
        if t != NULL:
            for j in range(c):
                dx[i * c + j] = ((y[i * c + j] - t[i * c + j]) * dout) / n_rows
        else:
            for j in range(c):
                dx[i * c + j] = (y[i * c + j] * dout) / n_rows
            k = lab[i]
            dx[i * c + k] = ((y[i * c + k] - <pfloat>1) * dout) / n_rows


def sum_squared_error(y, t):
    """The book's ``0.5 * np.sum((y - t)**2)``, for ``t`` of exactly ``y``'s
    shape."""
    cdef Job J
    cdef BlockResult total
    P = _start_job(&J, FAM_MSE, y, "y")
    T = _dense_target(&J, t, P, "y")     # (T: the array the job reads, kept alive)
    cdef int nt = _pick_threads(&J, 0)
    _run_job(&J, nt, &total)
    return _scalar(0.5 * total.loss, J.pred_f32)


def _softmax(x, t=None, double eps=1e-7):
    """Row-wise softmax of ``x`` (1-D or 2-D) as a new array; with class
    indices ``t`` also the book's loss ``-mean(log(y[i, t_i] + eps))``.
    Returns ``y`` or ``(y, loss)``."""
    cdef Job J
    cdef BlockResult total
    cdef cnp.ndarray P, Y
    P = _start_job(&J, FAM_SOFTMAX, x, "x")
    J.eps = eps
    T = None
    if t is not None:
        T = _label_target(&J, t, P, "x")  # (T: the array the job reads, kept alive)
        if J.dense_target:
            raise ValueError("_softmax takes class indices")
    Y = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(P), cnp.PyArray_DIMS(P), cnp.PyArray_TYPE(P), 0)
    _set_grad(&J, Y)
    cdef int64_t scalar_label = 0
    if t is not None and J.labels == NULL:
        scalar_label = t
        _set_scalar_label(&J, &scalar_label)
    cdef int nt = _pick_threads(&J, 0)
    _run_job(&J, nt, &total)
    if total.bad >= 0:
        _raise_bad_label(t, total.bad, J.n_classes)
    if t is None:
        return Y
    return Y, _scalar(total.loss / total.div, J.pred_f32)


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


def _softmax_backward(y, t, dout):
    """The book's SoftmaxWithLoss.backward for a C-contiguous 2-D ``y`` (the
    layer's own softmax output), int64 class indices or a dense ``t`` of y's
    shape and dtype, and a Python/NumPy scalar ``dout``; returns ``dx`` or
    None when the arguments need the general (NumPy) path."""
    cdef cnp.ndarray Y, T, DX
    cdef Py_ssize_t n, c, i
    cdef int64_t v
    if not (cnp.PyArray_Check(y) and cnp.PyArray_NDIM(<cnp.ndarray>y) == 2
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>y) and _is_native_float(y)):
        return None
    if not isinstance(dout, (int, float, np.floating, np.integer)) or isinstance(dout, bool):
        return None
    Y = <cnp.ndarray>y
    n = cnp.PyArray_DIMS(Y)[0]
    c = cnp.PyArray_DIMS(Y)[1]
    if not (cnp.PyArray_Check(t) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>t)):
        return None
    T = <cnp.ndarray>t
    if cnp.PyArray_TYPE(T) == cnp.NPY_INT64 and cnp.PyArray_ISNOTSWAPPED(T) \
            and cnp.PyArray_NDIM(T) == 1 and cnp.PyArray_DIMS(T)[0] == n:
        for i in range(n):                    # the same check as every kernel
            v = (<const int64_t*>cnp.PyArray_DATA(T))[i]
            if v < 0 or v >= c:
                raise IndexError(f"target {v} is out of range for {c} classes (row {i})")
        dense = False
    elif cnp.PyArray_TYPE(T) == cnp.PyArray_TYPE(Y) and _is_native_float(T) \
            and _same_shape(T, Y):
        dense = True
    else:
        return None
    DX = cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(Y), cnp.PyArray_TYPE(Y), 0)
    if cnp.PyArray_TYPE(Y) == cnp.NPY_FLOAT:
        _softmax_backward_typed(<const float*>cnp.PyArray_DATA(Y), <const int64_t*>cnp.PyArray_DATA(T),
                                <const float*>cnp.PyArray_DATA(T) if dense else NULL,
                                n, c, <float>dout, <float>n, <float*>cnp.PyArray_DATA(DX))
    else:
        _softmax_backward_typed(<const double*>cnp.PyArray_DATA(Y), <const int64_t*>cnp.PyArray_DATA(T),
                                <const double*>cnp.PyArray_DATA(T) if dense else NULL,
                                n, c, <double>dout, <double>n, <double*>cnp.PyArray_DATA(DX))
    return DX
