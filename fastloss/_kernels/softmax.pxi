# The book's softmax (fastloss.book), optionally with its loss; long rows
# (more than CAP classes) take the scalar path.

cdef void _softmax_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                         const int64_t* lab, const pfloat* x, BlockResult* res) noexcept nogil:
    """The book's softmax into J.grad and, with labels, -log(y[i, t_i] + eps)."""
    cdef double a[CAP]
    cdef double e[CAP]
    cdef double mrow[BLOCK]
    cdef double ssum[BLOCK]
    cdef double pe[BLOCK]
    cdef double lg[BLOCK]
    cdef Py_ssize_t C = J.n_classes, rs = J.pred_row_stride, cs = J.pred_col_stride
    cdef Py_ssize_t grs = J.grad_row_stride, gcs = J.grad_col_stride
    cdef Py_ssize_t G = CAP // C, r = r1 - r0, g0, g1, i, j, base
    cdef double s
    cdef pfloat* y = <pfloat*>J.grad
    cdef pfloat* yrow
    g0 = 0
    while g0 < r:
        g1 = g0 + G
        if g1 > r:
            g1 = r
        _shift_group(x + (r0 + g0) * rs, g1 - g0, C, rs, cs, a, mrow)
        fl_vexp(a, e, (g1 - g0) * C)
        fl_row_sums(e, g1 - g0, C, ssum)
        for i in range(g0, g1):
            base = (i - g0) * C
            yrow = y + (r0 + i) * grs
            s = ssum[i - g0]
            for j in range(C):
                yrow[j * gcs] = <pfloat>(e[base + j] / s)
            if lab != NULL:
                pe[i] = <double>yrow[lab[i] * gcs] + J.eps
        g0 = g1
    res.loss = _sum_neg_logs(pe, lg, r) if lab != NULL else 0.0
    res.div = <double>r


cdef void _softmax_long_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                              const int64_t* lab, const pfloat* x, BlockResult* res) noexcept nogil:
    cdef double acc4[4]
    cdef Py_ssize_t i, j, C = J.n_classes, cs = J.pred_col_stride, gcs = J.grad_col_stride
    cdef double m, v, e, s
    cdef pfloat* yrow
    cdef const pfloat* xrow
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    for i in range(r0, r1):
        xrow = x + i * J.pred_row_stride
        yrow = <pfloat*>J.grad + i * J.grad_row_stride
        m = -INFINITY
        for j in range(C):
            v = xrow[j * cs]
            if v > m:
                m = v
        s = 0.0
        for j in range(C):
            e = exp(<double>xrow[j * cs] - m)
            s += e
            yrow[j * gcs] = <pfloat>e
        for j in range(C):
            yrow[j * gcs] = <pfloat>(<double>yrow[j * gcs] / s)
        if lab != NULL:
            _add4(acc4, i, -log(<double>yrow[lab[i - r0] * gcs] + J.eps))
    res.loss = _total4(acc4)
    res.div = <double>(r1 - r0)
