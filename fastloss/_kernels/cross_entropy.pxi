# Cross-entropy on probabilities.

cdef void _ce_gather_plain_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                                 const pfloat* p, BlockResult* res) noexcept nogil:
    """The headline case (class indices; no weight, smoothing, ignore_index,
    gradient or per-row output): labels are read, checked and used in one
    loop, then one SIMD log pass and the sum (the same bits as
    _ce_gather_block)."""
    cdef double pe[BLOCK]
    cdef double lg[BLOCK]
    cdef Py_ssize_t bad, r = r1 - r0
    bad = _read_labels(J, r0, r1, p, NULL, pe)
    if bad >= 0:
        res.bad = bad
        return
    res.loss = _sum_neg_logs(pe, lg, r)
    res.div = <double>r


cdef void _ce_gather_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                           const int64_t* lab, const pfloat* p,
                           BlockResult* res) noexcept nogil:
    """Class indices, no weight, no smoothing: one element per row."""
    cdef double acc4[4]
    cdef double pe[BLOCK]
    cdef double lg[BLOCK]
    cdef Py_ssize_t i, k, r = r1 - r0
    cdef Py_ssize_t rs = J.pred_row_stride, cs = J.pred_col_stride, C = J.n_classes, grs = J.grad_row_stride, gcs = J.grad_col_stride
    cdef double eps = J.eps, div = 0.0, li, scale = J.grad_scale
    cdef pfloat* g = <pfloat*>J.grad
    cdef pfloat* grow
    cdef pfloat* rows = <pfloat*>J.row_loss
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    for i in range(r):
        k = lab[i]
        if k < 0:
            k = 0                   # ignored row: any in-bounds element
        pe[i] = <double>p[(r0 + i) * rs + k * cs] + eps
    fl_vlog(pe, lg, r)
    for i in range(r):
        k = lab[i]
        li = 0.0
        if k >= 0:
            li = -lg[i]
            _add4(acc4, i, li)
            div += 1.0
        if g != NULL:
            grow = g + (r0 + i) * grs
            _zero_row(grow, C, gcs)
            if k >= 0:
                grow[k * gcs] = <pfloat>((-1.0 / pe[i]) * scale)
        _finish_row(J, r0 + i, li, rows)
    res.loss = _total4(acc4)
    res.div = div


cdef inline Py_ssize_t _nonzero_cols(const tfloat* t, Py_ssize_t tcs, Py_ssize_t C,
                                     Py_ssize_t base, int32_t* out) noexcept nogil:
    """Write base + j for the columns j with t[j] != 0 to ``out``; return their
    count.  Branch-free: one-hot rows make a branch per element unpredictable."""
    cdef Py_ssize_t j, n = 0
    for j in range(C):
        out[n] = <int32_t>(base + j)
        n += t[j * tcs] != 0
    return n


cdef double LN2_HI = 6.93147180369123816490e-01   # fdlibm's split: E * LN2_HI is
cdef double LN2_LO = 1.90821492927058770002e-10   # exact for |E| < 2**21
cdef double BIN_TOL = 1.0 / 256                   # see _bin_accurate


cdef inline double _bin_loss(double M, double E) noexcept nogil:
    """-log(M * 2**E), the loss of a binary group from fl_binprod."""
    return -(E * LN2_HI + (log(M) + E * LN2_LO))


cdef inline bint _bin_accurate(double v, Py_ssize_t n1) noexcept nogil:
    """Whether the product form's loss v of a group with n1 ones (or at
    most n1) is within 2**-45 relative.  Each multiplication that rounds
    errs by at most u = 2**-53 relative (half an ulp of 1), and those by
    1.0 are exact: fewer than m = n1 + min(n1, 32) - 1 round (a bound that
    overcounts the tree's), so the log of the product is off by at most
    m u; log(M) in [0, ln 2) and the addition of E ln 2 add at most 2 u and
    half an ulp of v.  (m + 2) u <= 2**-45 |v| is the test below.  A group
    of confident rows has a loss near 0, where that absolute error is large
    relative to v: it takes the per-row logs instead."""
    cdef Py_ssize_t m = n1 + (n1 if n1 < 32 else 32) - 1
    return fabs(v) >= <double>(m + 2) * BIN_TOL


cdef inline Py_ssize_t _count_ones(const tfloat* t, Py_ssize_t L, const pfloat* like) noexcept nogil:
    """The number of targets among L contiguous ones that are 1 in the
    computation dtype (pfloat, of `like`): n1 for _bin_accurate."""
    cdef Py_ssize_t u, n = 0
    if pfloat is float and tfloat is double:
        for u in range(L):
            n += <float>t[u] == 1
        return n
    elif tfloat is double:
        return fl_count_ones_d(t, L)
    else:
        return fl_count_ones_f(t, L)


cdef inline int _binary_packed(const Job* J, const pfloat* p, const tfloat* t,
                               Py_ssize_t n, double* loss) noexcept nogil:
    """fl_binprod over n packed rows: 1 with their loss, or -1 where some
    target is not 0 or 1, some p + eps is outside [+0, 2], or a running
    product falls below 2**-958."""
    cdef Py_ssize_t L = n * J.n_classes
    cdef double M, E
    cdef int ok
    if pfloat is double:
        if tfloat is double:
            ok = fl_binprod_dd(p, t, L, J.eps, &M, &E)
        else:
            ok = fl_binprod_df(p, t, L, J.eps, &M, &E)
    else:
        if tfloat is double:
            ok = fl_binprod_fd(p, t, L, J.eps, &M, &E)
        else:
            ok = fl_binprod_ff(p, t, L, J.eps, &M, &E)
    if not ok:
        return -1
    loss[0] = _bin_loss(M, E)
    return 1


cdef void _ce_dense_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                          const pfloat* p, const tfloat* t, BlockResult* res) noexcept nogil:
    """Dense (one-hot or soft) targets without weight or smoothing, C <= CAP.
    The loss ("mean", "sum") of a group whose targets are all 0 or 1 is one
    product and one log (fl_binprod; _bin_accurate).  Otherwise: find the
    nonzero target terms of the group's rows, take their logs in one SIMD
    pass, then add each row's terms in column order (the order, hence the
    bits, of _ce_general_block)."""
    cdef double acc4[4]
    cdef double pe[CAP]
    cdef double q[CAP]
    cdef double lg[CAP]
    cdef int32_t idx[CAP + 4]           # offsets (i - g0) * C + j of the terms
    cdef int32_t col[CAP]
    cdef Py_ssize_t C = J.n_classes, prs = J.pred_row_stride, pcs = J.pred_col_stride, trs = J.target_row_stride, tcs = J.target_col_stride
    cdef Py_ssize_t grs = J.grad_row_stride, gcs = J.grad_col_stride
    cdef Py_ssize_t G = CAP // C, r = r1 - r0
    cdef Py_ssize_t g0, g1, i, ii, j, u, nt, end
    cdef double eps = J.eps, scale = J.grad_scale, s, sp = 0.0, gl = 0.0, bM, bE
    cdef bint binary, allone
    cdef int bstate
    cdef Py_ssize_t n1
    cdef int flat = not _big(J, sizeof(pfloat))
    cdef pfloat* g = <pfloat*>J.grad
    cdef pfloat* grow = NULL
    cdef pfloat* rows = <pfloat*>J.row_loss
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    g0 = 0
    while g0 < r:
        g1 = g0 + G
        if g1 > r:
            g1 = r
        # A binary group's loss is its product form, with or without the
        # gradient (*_and_grad's loss is the loss function's, bit for bit).
        # bstate: 0 not known yet, 1 binary with its loss in gl, -1 not
        # binary (or "none").  Packed rows are multiplied out in one pass;
        # the others, and the gradient, use the terms gathered below.
        bstate = -1 if rows != NULL else 0
        if (bstate == 0 and g == NULL and pcs == 1 and tcs == 1
                and (g1 - g0 == 1 or (prs == C and trs == C))):
            bstate = _binary_packed(J, p + (r0 + g0) * prs, t + (r0 + g0) * trs, g1 - g0, &gl)
            # accurate enough with n1 <= N C ones?  Else count them, unless
            # even one a row is too many (confident rows: the paths below
            # learn n1 anyway, and decide the same way)
            if bstate == 1 and not _bin_accurate(gl, (g1 - g0) * C):
                if not _bin_accurate(gl, g1 - g0):
                    binary = False
                else:
                    nt = _count_ones(t + (r0 + g0) * trs, (g1 - g0) * C, p)
                    binary = _bin_accurate(gl, nt)
                    if not binary:
                        bstate = -1
            else:
                binary = bstate == 1
            if binary:
                sp += gl
                g0 = g1
                continue
        if tcs == 1 and C <= 64 and g == NULL and rows == NULL:
            # forward loss: find each row's only nonzero and gather its term
            # in one pass; a group with any other row is redone below
            if pfloat is double:
                if tfloat is double:
                    nt = fl_onehot_gather_dd(p + (r0 + g0) * prs, prs, pcs, t + (r0 + g0) * trs,
                                             trs, g1 - g0, C, eps, q, pe, col, flat)
                else:
                    nt = fl_onehot_gather_df(p + (r0 + g0) * prs, prs, pcs, t + (r0 + g0) * trs,
                                             trs, g1 - g0, C, eps, q, pe, col, flat)
            else:
                if tfloat is double:
                    nt = fl_onehot_gather_fd(p + (r0 + g0) * prs, prs, pcs, t + (r0 + g0) * trs,
                                             trs, g1 - g0, C, eps, q, pe, col, flat)
                else:
                    nt = fl_onehot_gather_ff(p + (r0 + g0) * prs, prs, pcs, t + (r0 + g0) * trs,
                                             trs, g1 - g0, C, eps, q, pe, col, flat)
            if nt == 0:
                # one nonzero a row: col >= 0 where it is 1 (n1 of them), -2
                # where it is 0 in the computation dtype, -1 otherwise
                n1 = 0
                allone = bstate != -1
                if allone:
                    for i in range(g1 - g0):
                        if col[i] == -1:
                            allone = False
                            break
                        if col[i] >= 0:
                            idx[n1] = <int32_t>(i * C + col[i])
                            lg[n1] = pe[i]              # (lg: scratch here)
                            n1 += 1
                if bstate == 0:
                    bstate = -1
                    if allone and fl_binprod_sparse(idx, lg, n1, &bM, &bE):
                        gl = _bin_loss(bM, bE)
                        bstate = 1
                if bstate == 1 and _bin_accurate(gl, n1):
                    sp += gl
                    g0 = g1
                    continue
                fl_vlog(pe, lg, g1 - g0)
                for u in range(g1 - g0):
                    lg[u] = 0.0 - q[u] * lg[u]
                _add4_run(acc4, g0, lg, g1 - g0)
                g0 = g1
                continue
        if tcs == 1 and C <= 64:
            # one SIMD test per row finds its only nonzero (one-hot rows)
            if tfloat is double:
                fl_onehot_cols_d(t + (r0 + g0) * trs, g1 - g0, C, trs, col)
            else:
                fl_onehot_cols_f(t + (r0 + g0) * trs, g1 - g0, C, trs, col)
            nt = 0
            for i in range(g0, g1):
                if col[i - g0] >= 0:
                    idx[nt] = <int32_t>((i - g0) * C + col[i - g0])
                    nt += 1
                elif col[i - g0] == -2:
                    nt += _nonzero_cols(t + (r0 + i) * trs, 1, C, (i - g0) * C, idx + nt)
        elif tcs == 1 and (trs == C or g1 - g0 == 1):
            # the group's targets are one contiguous run
            if tfloat is double:
                nt = fl_nonzero_f64(t + (r0 + g0) * trs, (g1 - g0) * C, idx)
            else:
                nt = fl_nonzero_f32(t + (r0 + g0) * trs, (g1 - g0) * C, idx)
        else:
            nt = 0
            for i in range(g0, g1):
                nt += _nonzero_cols(t + (r0 + i) * trs, tcs, C, (i - g0) * C, idx + nt)
        # gather the terms, walking the rows in step; a target that is 0 in
        # the computation dtype (a float64 1e-50 for float32) is a zero
        # term, with p + eps taken as 1
        i = g0
        end = C
        for u in range(nt):
            while idx[u] >= end:
                i += 1
                end += C
            j = idx[u] - (end - C)
            q[u] = <double><pfloat>t[(r0 + i) * trs + j * tcs]
            pe[u] = <double>p[(r0 + i) * prs + j * pcs] + eps
            if q[u] == 0.0:
                pe[u] = 1.0
        binary = False
        if bstate != -1:
            allone = True
            n1 = 0
            for u in range(nt):
                n1 += q[u] == 1.0
                allone &= (q[u] == 1.0) | (q[u] == 0.0)
            if bstate == 0:
                if allone and fl_binprod_sparse(idx, pe, nt, &bM, &bE):
                    gl = _bin_loss(bM, bE)
                    bstate = 1
            binary = bstate == 1 and _bin_accurate(gl, n1)
        if binary:
            sp += gl
            if g == NULL:
                g0 = g1
                continue
        else:
            fl_vlog(pe, lg, nt)
        u = 0
        end = 0
        for i in range(g0, g1):
            ii = r0 + i
            end += C
            if g != NULL:
                grow = g + ii * grs
                _zero_row(grow, C, gcs)
            s = 0.0
            while u < nt and idx[u] < end:
                if not binary:
                    s -= q[u] * lg[u]
                if g != NULL and q[u] != 0.0:
                    grow[(idx[u] - (end - C)) * gcs] = <pfloat>((-q[u] / pe[u]) * scale)
                u += 1
            if not binary:
                _add4(acc4, i, s)
            _finish_row(J, ii, s, rows)
        g0 = g1
    res.loss = _total4(acc4) + sp
    res.div = <double>r


cdef void _ce_general_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                            const int64_t* lab, const pfloat* p, const tfloat* t,
                            BlockResult* res) noexcept nogil:
    """Dense targets, weights or smoothing: every element is read, but only
    the terms with a nonzero coefficient w_c q'_c take a logarithm."""
    cdef double acc4[4]
    cdef double pe[CAP + 1]
    cdef double cf[CAP + 1]
    cdef double lg[CAP]
    cdef int32_t trow[CAP + 1]
    cdef double rowsum[BLOCK]
    cdef Py_ssize_t i, j, u, ii, nt = 0, r = r1 - r0
    cdef Py_ssize_t C = J.n_classes, prs = J.pred_row_stride, pcs = J.pred_col_stride, trs = J.target_row_stride
    cdef Py_ssize_t grs = J.grad_row_stride, gcs = J.grad_col_stride
    cdef double eps = J.eps, scale = J.grad_scale, div = 0.0, coef, pv
    cdef int64_t k = 0
    cdef bint dense = J.dense_target
    cdef pfloat* g = <pfloat*>J.grad
    cdef pfloat* grow = NULL
    cdef pfloat* rows = <pfloat*>J.row_loss
    cdef const tfloat* target_row
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    for i in range(r):
        rowsum[i] = 0.0
        ii = r0 + i
        if g != NULL:
            grow = g + ii * grs
        if not dense:
            k = lab[i]
            if k < 0:
                if grow != NULL:
                    _zero_row(grow, C, gcs)
                continue
        target_row = t + ii * trs if dense else NULL
        for j in range(C):
            coef = _coef(J, target_row, j, k, p)
            pv = <double>p[ii * prs + j * pcs] + eps
            pe[nt] = pv
            cf[nt] = coef
            trow[nt] = <int32_t>i
            nt += coef != 0.0
            if grow != NULL:
                grow[j * gcs] = <pfloat>(((-coef / pv) if coef != 0.0 else 0.0) * scale)
            if nt == CAP:
                fl_vlog(pe, lg, nt)
                for u in range(nt):
                    rowsum[trow[u]] -= cf[u] * lg[u]
                nt = 0
    fl_vlog(pe, lg, nt)
    for u in range(nt):
        rowsum[trow[u]] -= cf[u] * lg[u]
    for i in range(r):
        if dense:
            div += 1.0
        else:
            k = lab[i]
            if k < 0:
                _finish_row(J, r0 + i, 0.0, rows)
                continue
            div += _row_weight(J, k)
        _add4(acc4, i, rowsum[i])
        _finish_row(J, r0 + i, rowsum[i], rows)
    res.loss = _total4(acc4)
    res.div = div
