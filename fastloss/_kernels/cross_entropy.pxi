# Cross-entropy on probabilities: class indices (one gathered element per
# row), dense targets (nonzero terms only; the product form for 0/1 targets)
# and the general case (weights, smoothing).

cdef inline Py_ssize_t _gather_logs(const Job* J, const pfloat* p, Py_ssize_t r0, Py_ssize_t r,
                                    const int64_t* lab, double* pe, double* lg) noexcept nogil:
    """pe[i] = p[r0 + i, t_i] + eps and lg[i] = log(pe[i]) for a block's r
    rows.  With lab NULL the labels are read and checked in the gather's
    loop (_read_labels: returns the first row out of range, else -1);
    otherwise they are lab's (an ignored row, -1, gathers any in-bounds
    element).

    A pred beyond the caches is gathered in runs of GATHER_RUN rows, each
    run's log pass placed after the next run's gather: the gather's loads
    wait for memory, and the log pass behind them (a few hundred
    instructions, within the out-of-order window) runs while they wait
    (1e6 x 10 float64 cross_entropy(y, t): 0.77-0.86x the time of gather,
    then log).  Each log is the same wherever its run ends, so are the bits."""
    cdef Py_ssize_t run = GATHER_RUN if _big(J, sizeof(pfloat)) else r
    cdef Py_ssize_t i, k, c0 = 0, c1, prev = 0, bad
    cdef Py_ssize_t rs = J.pred_row_stride, cs = J.pred_col_stride
    cdef double eps = J.eps
    while c0 < r:
        c1 = c0 + run if c0 + run < r else r
        if lab == NULL:
            bad = _read_labels(J, r0 + c0, r0 + c1, p, NULL, &pe[c0])
            if bad >= 0:
                return bad
        else:
            for i in range(c0, c1):
                k = lab[i]
                if k < 0:
                    k = 0           # ignored row: any in-bounds element
                pe[i] = <double>p[(r0 + i) * rs + k * cs] + eps
        if c0 > 0:
            fl_vlog(&pe[prev], &lg[prev], c0 - prev)
        prev = c0
        c0 = c1
    fl_vlog(&pe[prev], &lg[prev], r - prev)
    return -1


cdef void _ce_gather_plain_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                                 const pfloat* p, BlockResult* res) noexcept nogil:
    """The headline case (class indices; no weight, smoothing, ignore_index,
    gradient or per-row output): labels are read, checked and used in one
    loop, then the SIMD log pass (_gather_logs) and the sum (the same bits
    as _ce_gather_block)."""
    cdef double pe[BLOCK]
    cdef double lg[BLOCK]
    cdef Py_ssize_t bad, r = r1 - r0
    bad = _gather_logs(J, p, r0, r, <const int64_t*>NULL, pe, lg)
    if bad >= 0:
        res.bad = bad
        return
    res.loss = _sum_negated(lg, r)
    res.div = <double>r


cdef void _ce_gather_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                           const int64_t* lab, const pfloat* p,
                           BlockResult* res) noexcept nogil:
    """Class indices, no weight, no smoothing: one element per row."""
    cdef double acc4[4]
    cdef double pe[BLOCK]
    cdef double lg[BLOCK]
    cdef Py_ssize_t i, j, k, r = r1 - r0
    cdef Py_ssize_t C = J.n_classes
    cdef Py_ssize_t grs = J.grad_row_stride, gcs = J.grad_col_stride
    cdef double div = 0.0, li, sw, scale = J.grad_scale
    cdef pfloat* g = <pfloat*>J.grad
    cdef pfloat* grow
    cdef pfloat* rows = <pfloat*>J.row_loss
    _gather_logs(J, p, r0, r, lab, pe, lg)
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    for i in range(r):
        k = lab[i]
        sw = _sample_weight(J, r0 + i) if k >= 0 else 0.0
        li = 0.0
        if sw != 0.0:
            li = _weighed(sw, -lg[i])
            _add4(acc4, i, li)
            div += sw
        if g != NULL:
            grow = g + (r0 + i) * grs
            _zero_row(grow, C, gcs)
            if sw != 0.0:
                if (sw * scale) - (sw * scale) != 0.0:
                    # an inf or NaN scale (D == 0 or NaN with sample weights):
                    # the zero terms are 0 * scale, NaN, as IEEE has it
                    for j in range(C):
                        grow[j * gcs] = <pfloat>(0.0 * (sw * scale))
                grow[k * gcs] = <pfloat>((-1.0 / pe[i]) * (sw * scale))
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
    cdef int ok = _binprod(p, t, L, J.eps, &M, &E)
    if not ok:
        return -1
    loss[0] = _bin_loss(M, E)
    return 1


# A group's binary state: whether its targets are all 0 or 1 and its loss is
# the product form's (fl_binprod), found once per group by the first step
# that can tell.
cdef enum:
    BIN_UNKNOWN = 0
    BIN_YES = 1                 # binary, with the product form's loss known
    BIN_NO = -1                 # not binary, or not asked (reduction "none")


ctypedef struct TermBuffers:
    # the nonzero target terms of one group of rows, for _ce_dense_block
    double pe[CAP]              # p + eps at each term (1.0 for a zero term)
    double q[CAP]               # the target value, in the computation dtype
    double lg[CAP]              # log(pe), or scratch
    int32_t idx[CAP + 4]        # offsets (i - g0) * C + j of the terms
    int32_t col[CAP]            # per row: its only nonzero column, or < 0


cdef inline bint _binary_packed_group(const Job* J, const pfloat* pg, const tfloat* tg,
                                      Py_ssize_t n, int* bstate, double* loss) noexcept nogil:
    """The product form over n packed rows (fl_binprod): True when their
    targets are all 0 or 1 and the product form's loss (in ``loss``) is
    accurate (_bin_accurate) with n C ones, or with the ones counted.  Else
    False, with bstate BIN_YES when the loss may still serve (a row of the
    group has at most one 1: the one-hot steps learn n1 anyway and decide
    the same way), BIN_NO when it cannot."""
    cdef Py_ssize_t n1
    bstate[0] = _binary_packed(J, pg, tg, n, loss)
    if bstate[0] != BIN_YES:
        return False
    if _bin_accurate(loss[0], n * J.n_classes):
        return True
    if not _bin_accurate(loss[0], n):
        return False
    n1 = _count_ones(tg, n * J.n_classes, pg)
    if _bin_accurate(loss[0], n1):
        return True
    bstate[0] = BIN_NO
    return False


cdef inline bint _onehot_forward_group(const Job* J, const pfloat* pg, const tfloat* tg,
                                       Py_ssize_t n, Py_ssize_t g0, int flat, int* bstate,
                                       double* gloss, double* acc4, double* binary_sum,
                                       TermBuffers* b) noexcept nogil:
    """The forward loss of a group whose rows have at most one nonzero
    target each (unit column stride, C <= 64): each row's term is found and
    gathered in one pass (fl_onehot_gather); a binary group takes the
    product form, any other the per-row logs.  False, with nothing added,
    when some row has more nonzeros: the general steps redo the group."""
    cdef Py_ssize_t i, n1 = 0, C = J.n_classes
    cdef bint allone
    cdef double M, E
    if _onehot_gather(pg, J.pred_row_stride, J.pred_col_stride, tg, J.target_row_stride,
                      n, C, J.eps, b.q, b.pe, b.col, flat) != 0:
        return False
    # col >= 0 where the row's nonzero is 1 (n1 of them), -2 where it is 0
    # in the computation dtype, -1 otherwise
    allone = bstate[0] != BIN_NO
    if allone:
        for i in range(n):
            if b.col[i] == -1:
                allone = False
                break
            if b.col[i] >= 0:
                b.idx[n1] = <int32_t>(i * C + b.col[i])
                b.lg[n1] = b.pe[i]              # (lg: scratch here)
                n1 += 1
    if bstate[0] == BIN_UNKNOWN:
        bstate[0] = BIN_NO
        if allone and fl_binprod_sparse(b.idx, b.lg, n1, &M, &E):
            gloss[0] = _bin_loss(M, E)
            bstate[0] = BIN_YES
    if bstate[0] == BIN_YES and _bin_accurate(gloss[0], n1):
        binary_sum[0] += gloss[0]
        return True
    fl_vlog(b.pe, b.lg, n)
    for i in range(n):
        b.lg[i] = 0.0 - b.q[i] * b.lg[i]
    _add4_run(acc4, g0, b.lg, n)
    return True


cdef inline Py_ssize_t _nonzero_terms(const tfloat* tg, Py_ssize_t n, Py_ssize_t C,
                                      Py_ssize_t trs, Py_ssize_t tcs,
                                      TermBuffers* b) noexcept nogil:
    """b.idx gets the offsets i * C + j of the group's nonzero targets, in
    row-major order; returns their count."""
    cdef Py_ssize_t i, nt = 0
    if tcs == 1 and C <= 64:
        # one SIMD test per row finds its only nonzero (one-hot rows)
        _onehot_cols(tg, n, C, trs, b.col)
        for i in range(n):
            if b.col[i] >= 0:
                b.idx[nt] = <int32_t>(i * C + b.col[i])
                nt += 1
            elif b.col[i] == -2:
                nt += _nonzero_cols(tg + i * trs, 1, C, i * C, b.idx + nt)
    elif tcs == 1 and (trs == C or n == 1):
        # the group's targets are one contiguous run
        nt = _nonzero_run(tg, n * C, b.idx)
    else:
        for i in range(n):
            nt += _nonzero_cols(tg + i * trs, tcs, C, i * C, b.idx + nt)
    return nt


cdef inline void _gather_terms(const Job* J, const pfloat* pg, const tfloat* tg, Py_ssize_t nt,
                               TermBuffers* b) noexcept nogil:
    """b.q and b.pe of each term, walking the rows in step.  A target that is
    0 in the computation dtype (a float64 1e-50 for float32) is a zero term,
    with p + eps taken as 1."""
    cdef Py_ssize_t u, i = 0, j, C = J.n_classes, end = J.n_classes
    cdef Py_ssize_t prs = J.pred_row_stride, pcs = J.pred_col_stride
    cdef Py_ssize_t trs = J.target_row_stride, tcs = J.target_col_stride
    cdef double eps = J.eps
    for u in range(nt):
        while b.idx[u] >= end:
            i += 1
            end += C
        j = b.idx[u] - (end - C)
        b.q[u] = <double><pfloat>tg[i * trs + j * tcs]
        b.pe[u] = <double>pg[i * prs + j * pcs] + eps
        if b.q[u] == 0.0:
            b.pe[u] = 1.0


cdef inline bint _terms_binary(Py_ssize_t nt, int* bstate, double* gloss,
                               const TermBuffers* b) noexcept nogil:
    """Whether the group's loss is the product form's over its gathered
    terms: all of them 0 or 1 and the product accurate (_bin_accurate)."""
    cdef Py_ssize_t u, n1 = 0
    cdef bint allone = True
    cdef double M, E
    if bstate[0] == BIN_NO:
        return False
    for u in range(nt):
        n1 += b.q[u] == 1.0
        allone &= (b.q[u] == 1.0) | (b.q[u] == 0.0)
    if bstate[0] == BIN_UNKNOWN:
        if allone and fl_binprod_sparse(b.idx, b.pe, nt, &M, &E):
            gloss[0] = _bin_loss(M, E)
            bstate[0] = BIN_YES
    return bstate[0] == BIN_YES and _bin_accurate(gloss[0], n1)


cdef inline void _rows_from_terms(const Job* J, Py_ssize_t r0, Py_ssize_t g0, Py_ssize_t n,
                                  Py_ssize_t nt, bint binary, const pfloat* like,
                                  const TermBuffers* b, double* acc4) noexcept nogil:
    """Each row's loss, its terms added in column order (unless the group's
    loss is the product form's), its per-row output and gradient row."""
    cdef Py_ssize_t i, u = 0, C = J.n_classes, end = 0
    cdef Py_ssize_t grs = J.grad_row_stride, gcs = J.grad_col_stride
    cdef double s, scale = J.grad_scale
    cdef pfloat* g = <pfloat*>J.grad
    cdef pfloat* grow = NULL
    cdef pfloat* rows = <pfloat*>J.row_loss
    for i in range(g0, g0 + n):
        end += C
        if g != NULL:
            grow = g + (r0 + i) * grs
            _zero_row(grow, C, gcs)
        s = 0.0
        while u < nt and b.idx[u] < end:
            if not binary:
                s -= b.q[u] * b.lg[u]
            if g != NULL and b.q[u] != 0.0:
                grow[(b.idx[u] - (end - C)) * gcs] = <pfloat>((-b.q[u] / b.pe[u]) * scale)
            u += 1
        if not binary:
            _add4(acc4, i, s)
        _finish_row(J, r0 + i, s, rows)


cdef void _ce_dense_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                          const pfloat* p, const tfloat* t, BlockResult* res) noexcept nogil:
    """Dense (one-hot or soft) targets without weight or smoothing, C <= CAP,
    a group of CAP // C rows at a time.  The loss ("mean", "sum") of a group
    whose targets are all 0 or 1 is one product and one log (fl_binprod;
    _bin_accurate).  Otherwise: find the nonzero target terms of the group's
    rows, take their logs in one SIMD pass, then add each row's terms in
    column order (the order, hence the bits, of _ce_general_block).  A
    binary group's loss is the product form's with or without the gradient
    (*_and_grad's loss is the loss function's, bit for bit)."""
    cdef TermBuffers b
    cdef double acc4[4]
    cdef Py_ssize_t C = J.n_classes, prs = J.pred_row_stride, pcs = J.pred_col_stride
    cdef Py_ssize_t trs = J.target_row_stride, tcs = J.target_col_stride
    cdef Py_ssize_t G = CAP // C, r = r1 - r0
    cdef Py_ssize_t g0, n, nt
    cdef double binary_sum = 0.0, gloss = 0.0
    cdef bint binary
    cdef int bstate
    cdef int flat = not _big(J, sizeof(pfloat))
    cdef bint forward = J.grad == NULL
    cdef const pfloat* pg
    cdef const tfloat* tg
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    g0 = 0
    while g0 < r:
        n = G if g0 + G <= r else r - g0
        pg = p + (r0 + g0) * prs
        tg = t + (r0 + g0) * trs
        bstate = BIN_NO if J.row_loss != NULL else BIN_UNKNOWN
        # packed rows are multiplied out in one pass
        if (bstate == BIN_UNKNOWN and forward and pcs == 1 and tcs == 1
                and (n == 1 or (prs == C and trs == C))):
            if _binary_packed_group(J, pg, tg, n, &bstate, &gloss):
                binary_sum += gloss
                g0 += n
                continue
        if tcs == 1 and C <= 64 and forward and J.row_loss == NULL:
            if _onehot_forward_group(J, pg, tg, n, g0, flat, &bstate, &gloss, acc4,
                                     &binary_sum, &b):
                g0 += n
                continue
        nt = _nonzero_terms(tg, n, C, trs, tcs, &b)
        _gather_terms(J, pg, tg, nt, &b)
        binary = _terms_binary(nt, &bstate, &gloss, &b)
        if binary:
            binary_sum += gloss
        else:
            fl_vlog(b.pe, b.lg, nt)
        if not (binary and forward):
            _rows_from_terms(J, r0, g0, n, nt, binary, p, &b, acc4)
        g0 += n
    res.loss = _total4(acc4) + binary_sum
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
    cdef Py_ssize_t C = J.n_classes, prs = J.pred_row_stride, pcs = J.pred_col_stride
    cdef Py_ssize_t trs = J.target_row_stride
    cdef Py_ssize_t grs = J.grad_row_stride, gcs = J.grad_col_stride
    cdef double eps = J.eps, scale = J.grad_scale, div = 0.0, coef, pv, sw, li
    cdef double row_scale = scale
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
        sw = _sample_weight(J, ii) if dense or k >= 0 else 0.0
        if sw == 0.0:               # ignored, or of sample weight 0: no term
            if grow != NULL:
                _zero_row(grow, C, gcs)
            continue
        row_scale = sw * scale
        target_row = t + ii * trs if dense else NULL
        for j in range(C):
            coef = _coef(J, target_row, j, k, p)
            pv = <double>p[ii * prs + j * pcs] + eps
            pe[nt] = pv
            cf[nt] = coef
            trow[nt] = <int32_t>i
            nt += coef != 0.0
            if grow != NULL:
                grow[j * gcs] = <pfloat>(((-coef / pv) if coef != 0.0 else 0.0) * row_scale)
            if nt == CAP:
                fl_vlog(pe, lg, nt)
                for u in range(nt):
                    rowsum[trow[u]] -= cf[u] * lg[u]
                nt = 0
    fl_vlog(pe, lg, nt)
    for u in range(nt):
        rowsum[trow[u]] -= cf[u] * lg[u]
    for i in range(r):
        if not dense:
            k = lab[i]
        sw = _sample_weight(J, r0 + i) if dense or k >= 0 else 0.0
        if sw == 0.0:
            _finish_row(J, r0 + i, 0.0, rows)
            continue
        div += _weighed(sw, 1.0 if dense else _row_weight(J, k))
        li = _weighed(sw, rowsum[i])
        _add4(acc4, i, li)
        _finish_row(J, r0 + i, li, rows)
    res.loss = _total4(acc4)
    res.div = div
