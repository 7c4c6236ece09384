# Softmax cross-entropy on logits.  "Far" rows have a logit beyond
# +-DIRECT_MAX (or a NaN) and are shifted by their maximum; "long" rows have
# more than CAP classes and take the scalar path, one row at a time.

cdef inline Py_ssize_t _far_rows(const pfloat* x, Py_ssize_t rows, Py_ssize_t C,
                                Py_ssize_t rs, Py_ssize_t cs, double lim,
                                unsigned char* is_far) noexcept nogil:
    """is_far[i] = 1 for the rows of a group (strides rs, cs) with a logit
    beyond +-lim, or a NaN (else 0); returns how many."""
    cdef Py_ssize_t i, j, n = 0
    cdef double v
    for i in range(rows):
        is_far[i] = 0
        for j in range(C):
            v = x[i * rs + j * cs]
            if not (v >= -lim and v <= lim):
                is_far[i] = 1
        n += is_far[i]
    return n


cdef inline void _shifted_log_args(const double* a, const double* e, const double* ssum,
                                   Py_ssize_t rows, Py_ssize_t C, double* lu,
                                   double* lc) noexcept nogil:
    """For rows shifted by their maximum (a) and their exps (e, row sums
    ssum): the SIMD log pass's argument lu and a correction lc, with
    log(lu) + lc = log(ssum).  ssum near 1 loses a confident row's digits:
    there, with T the sum without the maximum's e = 1, lu = 1 + T rounded and
    lc = d / lu with d = T - (lu - 1) its exact rounding error (Fast2Sum),
    log1p(T) to well under an ulp."""
    cdef Py_ssize_t i
    cdef double tail, row_sum
    for i in range(rows):
        row_sum = ssum[i]
        lu[i] = row_sum
        lc[i] = 0.0
        if row_sum < 1.25:
            tail = _exp_tail(a + i * C, e + i * C, C)
            if tail >= 0.0:
                lu[i] = 1.0 + tail
                lc[i] = (tail - (lu[i] - 1.0)) / lu[i]


cdef void _sce_far_rows(const Job* J, const pfloat* x, Py_ssize_t r0, Py_ssize_t g0,
                        Py_ssize_t g1, const unsigned char* is_far, const int64_t* lab,
                         double* a, double* ew, double* lse) noexcept nogil:
    """_sce_block's plain rows with a logit beyond +-DIRECT_MAX (or a NaN),
    flagged in ``is_far``, that have a label: packed into a, each shifted by
    its maximum, then the shifted path of _sce_block (one SIMD exp pass into
    ew, row sums, log1p of a confident row's tail, one SIMD log pass).  Each
    row gets its loss in lse[i] and its gradient row (if any); every step is
    row by row or element by element, so a row's bits do not depend on
    which other rows are packed with it."""
    cdef double ws[BLOCK]
    cdef double lu[BLOCK]
    cdef double lc[BLOCK]
    cdef double lw[BLOCK]
    cdef Py_ssize_t C = J.n_classes, rs = J.pred_row_stride, cs = J.pred_col_stride
    cdef Py_ssize_t grs = J.grad_row_stride, gcs = J.grad_col_stride
    cdef Py_ssize_t i, j, n = 0, u
    cdef double finv, scale = J.grad_scale
    cdef int64_t k
    cdef pfloat* g = <pfloat*>J.grad
    cdef pfloat* grow
    for i in range(g0, g1):
        if is_far[i - g0] and lab[i] >= 0:
            _shift_row(x + (r0 + i) * rs, cs, C, _row_max(x + (r0 + i) * rs, cs, C), a + n * C)
            n += 1
    fl_vexp(a, ew, n * C)
    fl_row_sums(ew, n, C, ws)
    _shifted_log_args(a, ew, ws, n, C, lu, lc)
    fl_vlog(lu, lw, n)
    u = 0
    for i in range(g0, g1):
        if not (is_far[i - g0] and lab[i] >= 0):
            continue
        k = lab[i]
        lse[i] = (lw[u] + lc[u]) - a[u * C + k]
        if g != NULL:
            grow = g + (r0 + i) * grs
            scale = J.grad_scale * _sample_weight(J, r0 + i)
            finv = scale / ws[u]
            for j in range(C):
                grow[j * gcs] = <pfloat>(ew[u * C + j] * finv)
            grow[k * gcs] = <pfloat>((ew[u * C + k] / ws[u] - 1.0) * scale)
        u += 1


ctypedef struct SoftmaxScratch:
    # a group's elements (offsets (i - g0) * C + j)
    double a[CAP]               # logits as doubles, shifted by the row maximum if shifted
    float af[CAP]               # float32 logits gathered from a strided group (plain path),
                                # or in columns their exps, class-major (cols.inc.h)
    double e[CAP]               # their exps
    double e_far[CAP]           # the exps of far rows, shifted (_sce_far_rows)
    unsigned char is_far[CAP]   # per group row: a logit beyond +-DIRECT_MAX, or a NaN
    double mrow[BLOCK]          # per group row: the maximum
    # per block row
    double ssum[BLOCK]          # sum_j e_j
    double lse[BLOCK]           # log(ssum) (+ the shift, for shifted rows)
    double lu[BLOCK]            # log's argument: ssum, or 1 + T rounded
    double lc[BLOCK]            # and the correction for that rounding
    double ek[BLOCK]            # plain rows: e_k
    double pk[BLOCK]            # and p_k = 1 / u
    double tl[BLOCK]            # and the tail sum_{j != k} e_j
    double finv[BLOCK]          # scale / ssum
    double kv[BLOCK]            # the gradient's label entries


cdef inline bint _in_columns(const Job* J) noexcept nogil:
    """The group's rows are contiguous and its classes runs of them (a
    channels-first batch, or a Fortran-ordered one), and so is the
    gradient's: the plain path then holds e class-major (cols.inc.h)."""
    return (J.pred_row_stride == 1 and J.pred_col_stride != 1
            and (J.grad == NULL or J.grad_row_stride == 1))


cdef inline Py_ssize_t _plain_group_logs(const Job* J, const pfloat* xg, Py_ssize_t g0,
                                         Py_ssize_t n, const int64_t* lab,
                                         SoftmaxScratch* s) noexcept nogil:
    """Class indices, unweighted, unsmoothed: the logits as they are (see
    _sce_block).  Fills the exps (e; for float32 in columns, af as floats),
    ssum, pk and the log's argument lu with its correction lc; returns the
    number of far rows (flagged in is_far), which _sce_far_rows redoes
    shifted by their maximum, so that every row's bits depend on that row
    alone.

    The row sums leave the label's e_k out: the tails T_i = sum_{j != k}
    e_j, and ssum = T_i + e_k.  The loss log(1 + T_i / e_k) is log(u) + d /
    u, u = 1 + T_i / e_k rounded and d its exact rounding error (2Sum,
    whichever term is larger): to well under an ulp whether the row is
    confident (the sum near 1) or not, with no branch and one SIMD log pass
    for every row.  p_k is 1 / u (and d / u is d * p_k): for a confident row
    that is 1 / (1 + sum_{j != k} exp(x_j - x_k)) rounded as the usual shift
    by the maximum rounds it, so the gradient's p_k - 1 cancels to the same
    value."""
    cdef Py_ssize_t i, j, nfar = 0
    cdef Py_ssize_t C = J.n_classes, rs = J.pred_row_stride, cs = J.pred_col_stride
    cdef bint cols = _in_columns(J)
    cdef int special = 0
    cdef double lim = DIRECT_MAX if pfloat is double else DIRECT_MAX_F32
    cdef float* xf
    if cols:                            # class-major exps, one run per class
        if pfloat is double:
            special = fl_vexp_lim_runs(xg, cs, s.e, n, C, lim)
        else:                           # floats in af, and the row sums
            special = fl_col_expf_sums_but(xg, cs, n, C, <float>lim, &lab[g0], &s.tl[g0],
                                           &s.ek[g0], s.af)
    elif cs == 1 and rs == C:
        if pfloat is double:
            special = fl_vexp_lim(xg, s.e, n * C, lim)
        else:
            special = fl_vexpf_lim(xg, s.e, n * C, <float>lim)
    elif pfloat is double:              # the same doubles, so the same bits
        _copy_group(xg, n, C, rs, cs, s.a)
        special = fl_vexp_lim(s.a, s.e, n * C, lim)
    else:                               # the same floats, gathered
        xf = s.af
        for i in range(n):
            for j in range(C):
                xf[i * C + j] = xg[i * rs + j * cs]
        special = fl_vexpf_lim(xf, s.e, n * C, <float>lim)
    if special:
        nfar = _far_rows(xg, n, C, rs, cs, lim, s.is_far)
    if cols:
        if pfloat is double:
            fl_col_sums_but(s.e, n, C, &lab[g0], &s.tl[g0], &s.ek[g0])
    else:
        fl_row_sums_but(s.e, n, C, &lab[g0], &s.tl[g0], &s.ek[g0])
    fl_tail_logs(&s.tl[g0], &s.ek[g0], &s.ssum[g0], &s.lu[g0], &s.lc[g0], &s.pk[g0], n)
    return nfar


cdef inline void _shifted_group_logs(const Job* J, const pfloat* xg, Py_ssize_t g0,
                                     Py_ssize_t n, SoftmaxScratch* s) noexcept nogil:
    """Every row shifted by its maximum (into a): e, ssum, and the log's
    argument lu with its correction lc (log1p of the tail for confident
    rows, _shifted_log_args)."""
    cdef Py_ssize_t C = J.n_classes
    _shift_group(xg, n, C, J.pred_row_stride, J.pred_col_stride, s.a, s.mrow)
    fl_vexp(s.a, s.e, n * C)
    fl_row_sums(s.e, n, C, &s.ssum[g0])
    _shifted_log_args(s.a, s.e, &s.ssum[g0], n, C, &s.lu[g0], &s.lc[g0])


cdef inline void _group_lse(Py_ssize_t g0, Py_ssize_t n, SoftmaxScratch* s) noexcept nogil:
    """lse = log(lu) + lc: one SIMD log pass over the group."""
    cdef Py_ssize_t i
    fl_vlog(&s.lu[g0], &s.lse[g0], n)
    for i in range(g0, g0 + n):
        s.lse[i] = s.lse[i] + s.lc[i]


cdef inline void _plain_group_grad(const Job* J, pfloat* gg, Py_ssize_t r0, Py_ssize_t g0,
                                   Py_ssize_t n, const int64_t* lab,
                                   SoftmaxScratch* s) noexcept nogil:
    """finv = scale / ssum; for a unit column stride, every row's p_j *
    scale, and at the label (p_k - 1) * scale, in one pass (ignored rows get
    zeros).  Other strides are written row by row in _group_rows.  With
    sample weights, a row's scale is s_i * scale (_group_rows then zeroes
    the rows of weight 0)."""
    cdef Py_ssize_t i
    cdef double scale = J.grad_scale, row_scale
    cdef bint cols = _in_columns(J)
    if J.sample_weight == NULL:
        fl_vrdiv(scale, &s.ssum[g0], &s.finv[g0], n)
    else:
        for i in range(g0, g0 + n):
            s.finv[i] = (scale * _sample_weight(J, r0 + i)) / s.ssum[i]
    if J.grad_col_stride == 1 or cols:
        for i in range(g0, g0 + n):
            row_scale = scale
            if J.sample_weight != NULL:
                row_scale = scale * _sample_weight(J, r0 + i)
            s.kv[i] = (s.pk[i] - 1.0) * row_scale
        if cols:
            if pfloat is double:
                fl_scale_cols_d(s.e, n, J.n_classes, &s.finv[g0], gg, J.grad_col_stride,
                                &lab[g0], &s.kv[g0])
            else:                       # (the float32 exps are held as floats)
                fl_scale_cols_f(s.af, n, J.n_classes, &s.finv[g0], gg, J.grad_col_stride,
                                &lab[g0], &s.kv[g0])
        else:
            _scale_rows(s.e, n, J.n_classes, &s.finv[g0], gg, J.grad_row_stride,
                        &lab[g0], &s.kv[g0])


cdef inline Py_ssize_t _plain_group_sum(const Job* J, Py_ssize_t g0, Py_ssize_t n,
                                        const int64_t* lab, SoftmaxScratch* s,
                                        double* acc4) noexcept nogil:
    """The common cases, forward and training step, once the gradient is
    complete: the row losses lse are added in one run (an ignored row's as
    +0.0, which changes no lane).  Returns the number of kept rows."""
    cdef Py_ssize_t i, kept = n
    if J.has_ignore_index:              # (only then can a label be -1)
        for i in range(g0, g0 + n):
            if lab[i] < 0:
                s.lse[i] = 0.0
                kept -= 1
    _add4_run(acc4, g0, &s.lse[g0], n)
    return kept


cdef inline void _plain_group_weighted_sum(const Job* J, pfloat* gg, Py_ssize_t r0,
                                           Py_ssize_t g0, Py_ssize_t n,
                                           const int64_t* lab, SoftmaxScratch* s,
                                           double* acc4, double* div4) noexcept nogil:
    """_plain_group_sum with sample weights: s_i lse_i added in one run (a
    row of weight 0, or ignored, as +0.0: the bits of _group_rows), the
    weights s_i (0 for an ignored row) added to the divisor's four lanes by
    row, as _group_rows adds them, and the gradient rows of weight 0 zeroed
    (their scale was 0, but 0 * e may be NaN)."""
    cdef Py_ssize_t i, stride = J.sample_weight_stride
    cdef Py_ssize_t zeros = 0
    cdef double* w = &s.ssum[g0]            # (the group's row sums are spent)
    cdef double* L = &s.lse[g0]
    cdef const double* src
    cdef const float* srcf
    # the weights in the computation dtype, one loop per storage; the common
    # one (contiguous float64 weights, float64 pred, no ignore_index) is
    # read where it lies.  (Each pointer is formed for its own storage
    # only: as the other type it would point outside the array.)
    if J.sample_weight_f32:
        srcf = <const float*>J.sample_weight + (r0 + g0) * stride
        for i in range(n):
            w[i] = srcf[i * stride]
    else:
        src = <const double*>J.sample_weight + (r0 + g0) * stride
        if J.pred_f32:
            for i in range(n):
                w[i] = <float>src[i * stride]
        elif stride != 1 or J.has_ignore_index:
            for i in range(n):
                w[i] = src[i * stride]
        else:
            w = <double*>src                # (read only below)
    if J.has_ignore_index:
        for i in range(n):
            if lab[g0 + i] < 0:
                w[i] = 0.0
    zeros = fl_weigh(w, L, n)               # s_i lse_i (+0.0 where s_i is 0)
    _add4_run2(acc4, L, div4, w, g0, n)
    if zeros != 0 and gg != NULL:
        for i in range(n):
            if w[i] == 0.0:
                _zero_row(gg + i * J.grad_row_stride, J.n_classes, J.grad_col_stride)


cdef inline double _row_loss_and_grad(const Job* J, const tfloat* target_row, int64_t k,
                                      const pfloat* x, const SoftmaxScratch* s, Py_ssize_t i,
                                      Py_ssize_t base, pfloat* grow,
                                      double scale) noexcept nogil:
    """A shifted row's loss, sum_j w_j q'_j (lse - a_j), from the dense
    target row ``target_row`` or (NULL) class index k (_coef); and its
    gradient row (if any), (p_j sum_c w_c q'_c - w_j q'_j) * scale."""
    cdef Py_ssize_t j, C = J.n_classes, gcs = J.grad_col_stride
    cdef double li = 0.0, coef, coef_sum = 0.0, ssum
    for j in range(C):
        coef = _coef(J, target_row, j, k, x)
        coef_sum += coef
        if coef != 0.0:
            li += coef * (s.lse[i] - s.a[base + j])
    if grow != NULL:
        ssum = s.ssum[i]
        for j in range(C):
            coef = _coef(J, target_row, j, k, x)
            grow[j * gcs] = <pfloat>(((s.e[base + j] / ssum) * coef_sum - coef) * scale)
    return li


cdef inline void _group_rows(const Job* J, Py_ssize_t r0, Py_ssize_t g0, Py_ssize_t n,
                             const int64_t* lab, const pfloat* x, bint plain,
                             Py_ssize_t nfar, const SoftmaxScratch* s,
                             double* acc4, double* div, double* div4) noexcept nogil:
    """Class-index targets, row by row: each row's loss, per-row output,
    divisor share and gradient row.  Plain rows take lse as their loss and
    add their share to the divisor's four lanes by row (div4, as
    _plain_group_weighted_sum); the others (weighted or smoothed) go
    through _row_loss_and_grad and add theirs to div in row order."""
    cdef Py_ssize_t i, ii, base, C = J.n_classes
    cdef Py_ssize_t grs = J.grad_row_stride, gcs = J.grad_col_stride
    cdef double li, sw, scale = J.grad_scale
    cdef int64_t k
    cdef pfloat* g = <pfloat*>J.grad
    cdef pfloat* grow = NULL
    cdef pfloat* rows = <pfloat*>J.row_loss
    cdef bint cols = plain and _in_columns(J)
    for i in range(g0, g0 + n):
        ii = r0 + i
        base = (i - g0) * C
        if g != NULL:
            grow = g + ii * grs
        k = lab[i]
        sw = _sample_weight(J, ii) if k >= 0 else 0.0
        if sw == 0.0:               # ignored, or of sample weight 0
            if grow != NULL:
                _zero_row(grow, C, gcs)
            _finish_row(J, ii, 0.0, rows)
            if plain:
                _add4(div4, i, 0.0)         # (the lanes' bits: as a zero weight adds)
            continue
        if plain:
            li = s.lse[i]
            # (a far row's gradient is written by _sce_far_rows, and in
            # columns every row's by _plain_group_grad)
            if grow != NULL and not (nfar != 0 and s.is_far[i - g0]) and not cols:
                if gcs != 1:
                    _scaled_probs(s.e + base, C, s.finv[i], grow, gcs)
                grow[k * gcs] = <pfloat>((s.pk[i] - 1.0) * (sw * scale))
            _add4(div4, i, sw)
        else:
            # (no target row: class index k; the pointer's type only picks
            # a specialisation of _row_loss_and_grad)
            li = _row_loss_and_grad(J, <const pfloat*>NULL, k, x, s, i, base, grow,
                                    sw * scale)
            div[0] += _weighed(sw, _row_weight(J, k))
        li = _weighed(sw, li)
        _add4(acc4, i, li)
        _finish_row(J, ii, li, rows)


cdef inline void _dense_rows(const Job* J, Py_ssize_t r0, Py_ssize_t g0, Py_ssize_t n,
                             const pfloat* x, const tfloat* t, const SoftmaxScratch* s,
                             double* acc4, double* div) noexcept nogil:
    """Dense targets, row by row: each row's loss (_row_loss_and_grad), per-row
    output, divisor share 1 and gradient row.  A loop of its own, without
    the label tests of _group_rows: the per-row flags cost the forward
    pass a few percent."""
    cdef Py_ssize_t i, ii, C = J.n_classes, grs = J.grad_row_stride
    cdef Py_ssize_t trs = J.target_row_stride
    cdef double li, sw
    cdef pfloat* g = <pfloat*>J.grad
    cdef pfloat* grow = NULL
    cdef pfloat* rows = <pfloat*>J.row_loss
    for i in range(g0, g0 + n):
        ii = r0 + i
        if g != NULL:
            grow = g + ii * grs
        sw = _sample_weight(J, ii)
        if sw == 0.0:
            if grow != NULL:
                _zero_row(grow, C, J.grad_col_stride)
            _finish_row(J, ii, 0.0, rows)
            continue
        li = _weighed(sw, _row_loss_and_grad(J, t + ii * trs, 0, x, s, i, (i - g0) * C, grow,
                                             sw * J.grad_scale))
        div[0] += sw
        _add4(acc4, i, li)
        _finish_row(J, ii, li, rows)


cdef inline void _prefetch_ahead(const Job* J, Py_ssize_t a, Py_ssize_t n) noexcept nogil:
    """For the group of rows [a, a + n) of a pred beyond the caches:
    prefetch the next block's contiguous labels of the same rows.  The
    label pass reads a block's labels in one short run at its start, then
    the block computes for microseconds: the hardware prefetcher leaves
    each run cold (1e6 x 10: the label pass was 5% of the call)."""
    if J.labels != NULL and not J.label_rows and J.label_stride == 1:
        _prefetch_run(J.labels, (a + BLOCK) * J.label_size, n * J.label_size)


cdef void _sce_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                     const int64_t* lab, const pfloat* x, const tfloat* t,
                     BlockResult* res) noexcept nogil:
    """Softmax cross-entropy, C <= CAP, a group of CAP // C rows at a time:
    one SIMD exp pass over the group, row sums, one SIMD log pass, then the
    losses.

    Class indices without weight or smoothing (``plain``) take the logits as
    they are: the loss is log(1 + sum_{j != k} e_j / e_k), no row maximum is
    needed, and every exp is as accurate as exp itself.  That holds for rows
    within +-DIRECT_MAX; any other row (a far row, or a row with a NaN) is
    redone shifted by its maximum (_sce_far_rows).  The dense, weighted and
    smoothed losses shift every row by its maximum first."""
    cdef SoftmaxScratch s
    cdef double acc4[4]
    cdef double div4[4]                 # the plain rows' divisor, four lanes by row
    cdef Py_ssize_t C = J.n_classes, rs = J.pred_row_stride
    cdef Py_ssize_t G = CAP // C, r = r1 - r0
    cdef Py_ssize_t g0, n, nfar
    cdef double div = 0.0
    cdef bint plain = (not J.dense_target and J.class_weight == NULL
                       and J.smoothing == 0.0)
    cdef bint cols = plain and _in_columns(J)   # e held class-major (cols.inc.h)
    cdef bint whole_grad                # _plain_group_grad writes every gradient row
    cdef bint big = _big(J, sizeof(pfloat))     # (prefetch the next block's labels)
    cdef pfloat* g = <pfloat*>J.grad
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    div4[0] = div4[1] = div4[2] = div4[3] = 0.0
    whole_grad = g == NULL or J.grad_col_stride == 1 or cols
    if cols and G >= 16:
        # in columns a group is C runs of G rows: whole vectors of 16
        # floats (or twice 8 doubles) leave no remainder to each run's
        # exp loop.  No bit depends on G: every row stands alone.
        G -= G % 16
    g0 = 0
    while g0 < r:
        n = G if g0 + G <= r else r - g0
        if big:
            _prefetch_ahead(J, r0 + g0, n)
        nfar = 0
        if plain:
            nfar = _plain_group_logs(J, x + (r0 + g0) * rs, g0, n, lab, &s)
        else:
            _shifted_group_logs(J, x + (r0 + g0) * rs, g0, n, &s)
        _group_lse(g0, n, &s)
        if plain and g != NULL:
            _plain_group_grad(J, g + (r0 + g0) * J.grad_row_stride, r0, g0, n, lab, &s)
        if nfar != 0:
            _sce_far_rows(J, x, r0, g0, g0 + n, s.is_far, lab, s.a, s.e_far, s.lse)
        if plain and J.row_loss == NULL and J.sample_weight == NULL and whole_grad:
            div += <double>_plain_group_sum(J, g0, n, lab, &s, acc4)
        elif plain and J.row_loss == NULL and whole_grad:
            _plain_group_weighted_sum(
                J, g + (r0 + g0) * J.grad_row_stride if g != NULL else NULL,
                r0, g0, n, lab, &s, acc4, div4)
        elif J.dense_target:
            _dense_rows(J, r0, g0, n, x, t, &s, acc4, &div)
        else:
            _group_rows(J, r0, g0, n, lab, x, plain, nfar, &s, acc4, &div, div4)
        g0 += n
    res.loss = _total4(acc4)
    res.div = div + _total4(div4)


cdef double _sce_long_row(const Job* J, const pfloat* x, const tfloat* t, int64_t k,
                          pfloat* g, double scale) noexcept nogil:
    """Softmax cross-entropy of one row with C > CAP (scalar libm path);
    its gradient row (if any) times ``scale``."""
    cdef Py_ssize_t j, C = J.n_classes, cs = J.pred_col_stride, gcs = J.grad_col_stride
    cdef double m = -INFINITY, v, e, ssum = 0.0, tsum = 0.0, lse, loss = 0.0
    cdef double coef, coef_sum = 0.0
    cdef Py_ssize_t jmax
    for j in range(C):
        v = x[j * cs]
        if v > m:
            m = v
    jmax = -1
    for j in range(C):
        e = exp(<double>x[j * cs] - m)
        if jmax < 0 and <double>x[j * cs] - m == 0.0:
            jmax = j                    # its e = 1 stays out of T (see _sce_block)
        else:
            tsum += e
    if jmax >= 0:
        ssum = 1.0 + tsum
        lse = log1p(tsum)
    else:
        ssum = tsum
        lse = log(ssum)
    for j in range(C):
        coef = _coef(J, t, j, k, x)
        coef_sum += coef
        if coef != 0.0:
            loss += coef * (lse - (<double>x[j * cs] - m))
    if g != NULL:
        for j in range(C):
            coef = _coef(J, t, j, k, x)
            # exp again rather than kept in g: a float32 g would flush tiny ones
            e = exp(<double>x[j * cs] - m)
            g[j * gcs] = <pfloat>(((e / ssum) * coef_sum - coef) * scale)
    return loss


cdef void _sce_long_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                          const int64_t* lab, const pfloat* x, const tfloat* t,
                          BlockResult* res) noexcept nogil:
    cdef double acc4[4]
    cdef Py_ssize_t i
    cdef double li, sw, div = 0.0
    cdef int64_t k = 0
    cdef pfloat* g = <pfloat*>J.grad
    cdef pfloat* grow = NULL
    cdef const tfloat* trow = NULL
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    for i in range(r0, r1):
        if g != NULL:
            grow = g + i * J.grad_row_stride
        if not J.dense_target:
            k = lab[i - r0]
        sw = _sample_weight(J, i) if J.dense_target or k >= 0 else 0.0
        if sw == 0.0:               # ignored, or of sample weight 0
            if grow != NULL:
                _zero_row(grow, J.n_classes, J.grad_col_stride)
            _finish_row(J, i, 0.0, <pfloat*>J.row_loss)
            continue
        if J.dense_target:
            trow = t + i * J.target_row_stride
            div += sw
        else:
            div += _weighed(sw, _row_weight(J, k))
        li = _weighed(sw, _sce_long_row(J, x + i * J.pred_row_stride, trow, k, grow,
                                        sw * J.grad_scale))
        _add4(acc4, i, li)
        _finish_row(J, i, li, <pfloat*>J.row_loss)
    res.loss = _total4(acc4)
    res.div = div
