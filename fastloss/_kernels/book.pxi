# The book's helpers (fastloss.book): the backward of SoftmaxWithLoss.

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
