# Squared error: eight lanes by element index, a SIMD loop when contiguous.

cdef inline void _sq_lanes(const pfloat* p, const tfloat* t, Py_ssize_t n, double* lanes,
                           pfloat* g, double scale) noexcept nogil:
    """lanes[f % 8] += (p[f] - t[f])**2 over contiguous p, t (and g)."""
    cdef Py_ssize_t f, l, n8 = n - (n & 7)
    cdef double d
    if g == NULL:                       # the SIMD loop of fastloss/_simd
        _sq_lanes_simd(p, t, n, lanes)
        return
    for f in range(0, n8, 8):
        for l in range(8):
            d = <double>p[f + l] - <double><pfloat>t[f + l]
            lanes[l] += d * d
            g[f + l] = <pfloat>((2.0 * d) * scale)
    for f in range(n8, n):
        d = <double>p[f] - <double><pfloat>t[f]
        lanes[f & 7] += d * d
        g[f] = <pfloat>((2.0 * d) * scale)


cdef void _mse_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                     const pfloat* p, const tfloat* t, BlockResult* res) noexcept nogil:
    """Squared error.  Sum and mean: the block's elements, in row-major
    order f = (i - r0) * C + j, go to eight lanes by f % 8, added in a fixed
    tree at the end; contiguous blocks are one SIMD loop and any other
    layout visits the same f in the same order.  "none" sums each row in
    column order."""
    cdef double acc4[4]
    cdef double lanes[8]
    cdef Py_ssize_t C = J.n_classes, prs = J.pred_row_stride, pcs = J.pred_col_stride
    cdef Py_ssize_t trs = J.target_row_stride, tcs = J.target_col_stride
    cdef Py_ssize_t grs = J.grad_row_stride, gcs = J.grad_col_stride
    cdef Py_ssize_t i, j, f, r = r1 - r0
    cdef double d, s, sw, row_scale, div = 0.0, scale = J.grad_scale
    cdef pfloat* g = <pfloat*>J.grad
    cdef pfloat* rows = <pfloat*>J.row_loss
    cdef bint flat
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    if rows != NULL or J.sample_weight != NULL:
        # row by row: s_i sum_j d_ij^2 (s_i = 1 without sample weights)
        for i in range(r0, r1):
            sw = _sample_weight(J, i)
            div += _weighed(sw, 1.0)
            if sw == 0.0:
                if g != NULL:
                    _zero_row(g + i * grs, C, gcs)
                if rows != NULL:
                    rows[i * J.row_loss_stride] = 0
                continue
            row_scale = sw * scale
            s = 0.0
            for j in range(C):
                d = <double>p[i * prs + j * pcs] - <double><pfloat>t[i * trs + j * tcs]
                s += d * d
                if g != NULL:
                    g[i * grs + j * gcs] = <pfloat>((2.0 * d) * row_scale)
            s = _weighed(sw, s)
            if rows != NULL:
                rows[i * J.row_loss_stride] = <pfloat>(s / C)
            _add4(acc4, i, s)
    else:
        for j in range(8):
            lanes[j] = 0.0
        flat = (pcs == 1 and tcs == 1 and (g == NULL or gcs == 1)
                and ((prs == C and trs == C and (g == NULL or grs == C)) or r == 1))
        if flat:
            _sq_lanes(p + r0 * prs, t + r0 * trs, r * C, lanes,
                      g + r0 * grs if g != NULL else NULL, scale)
        else:
            f = 0
            for i in range(r0, r1):
                for j in range(C):
                    d = <double>p[i * prs + j * pcs] - <double><pfloat>t[i * trs + j * tcs]
                    lanes[f & 7] += d * d
                    if g != NULL:
                        g[i * grs + j * gcs] = <pfloat>((2.0 * d) * scale)
                    f += 1
        acc4[0] = (((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
               + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])))
    res.loss = _total4(acc4)
    if J.sample_weight != NULL:
        res.div = div * <double>C
    else:
        res.div = <double>r * <double>C
