# Row helpers shared by the loss kernels: target coefficients w_c q'_c,
# row maxima and shifts, per-row outputs, the -log sum.

# softmax rows whose logits all lie within +-DIRECT_MAX skip the shift by the
# row maximum: then exp(x) and any ratio of two such exps (up to CAP terms
# summed) stay normal doubles, far from overflow and underflow
cdef double DIRECT_MAX = 350.0
# the same for float32 logits, whose exps are float32 (fl_vexpf_lim): within
# +-80, exp(x) is a normal float
cdef double DIRECT_MAX_F32 = 80.0


cdef inline double _coef_index(const Job* J, Py_ssize_t c, int64_t k) noexcept nogil:
    """w_c q'_c for class-index target k."""
    cdef double q = J.smoothing / J.n_classes
    if c == k:
        q = (1.0 - J.smoothing) + J.smoothing / J.n_classes
    if J.class_weight != NULL and q != 0.0:       # a zero target term is 0, even for an inf weight
        return J.class_weight[c] * q
    return q


cdef inline double _coef_dense(const Job* J, Py_ssize_t c, double q) noexcept nogil:
    """w_c q'_c for a dense target value q (already in the computation dtype)."""
    if J.smoothing != 0.0:
        q = (1.0 - J.smoothing) * q + J.smoothing / J.n_classes
    if J.class_weight != NULL and q != 0.0:       # a zero target term is 0, even for an inf weight
        return J.class_weight[c] * q
    return q


cdef inline double _coef(const Job* J, const tfloat* target_row, Py_ssize_t j, int64_t k,
                         const pfloat* like) noexcept nogil:
    """w_j q'_j of column j: from the dense target row ``target_row`` (its
    value in the computation dtype, that of ``like``), or, when that is
    NULL, for class index k."""
    if target_row != NULL:
        return _coef_dense(J, j, <double><pfloat>target_row[j * J.target_col_stride])
    return _coef_index(J, j, k)


cdef inline double _row_weight(const Job* J, int64_t k) noexcept nogil:
    """A kept row's share of the divisor of "mean": w[k], or 1 unweighted."""
    return J.class_weight[k] if J.class_weight != NULL else 1.0


cdef inline double _sample_weight(const Job* J, Py_ssize_t row) noexcept nogil:
    """s_i of a row: its sample weight in the computation dtype, 1 without any."""
    cdef double v
    if J.sample_weight == NULL:
        return 1.0
    if J.sample_weight_f32:
        return (<const float*>J.sample_weight)[row * J.sample_weight_stride]
    v = (<const double*>J.sample_weight)[row * J.sample_weight_stride]
    if J.pred_f32:
        return <float>v
    return v


cdef inline double _weighed(double s, double x) noexcept nogil:
    """s * x, exactly 0 for s == 0 whatever x is (inf, NaN); x itself for s == 1."""
    return 0.0 if s == 0.0 else s * x


cdef inline void _zero_row(pfloat* g, Py_ssize_t C, Py_ssize_t gcs) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(C):
        g[j * gcs] = 0


cdef inline void _finish_row(const Job* J, Py_ssize_t row, double li, pfloat* rows) noexcept nogil:
    if rows != NULL:
        rows[row * J.row_loss_stride] = <pfloat>li


cdef inline void _shift_group(const pfloat* x, Py_ssize_t rows, Py_ssize_t C,
                              Py_ssize_t rs, Py_ssize_t cs, double* a,
                              double* m) noexcept nogil:
    """a[i*C + j] = x[i, j] - max_j x[i, j] for a group of rows; m gets the
    maxima (exact, so the SIMD loop for unit strides changes no bit)."""
    cdef Py_ssize_t i
    if cs == 1:
        if pfloat is double:
            fl_shift_rows_d(x, rows, C, rs, a, m)
        else:
            fl_shift_rows_f(x, rows, C, rs, a, m)
        return
    for i in range(rows):
        m[i] = _row_max(x + i * rs, cs, C)
        _shift_row(x + i * rs, cs, C, m[i], a + i * C)


cdef inline void _copy_group(const pfloat* x, Py_ssize_t rows, Py_ssize_t C,
                             Py_ssize_t rs, Py_ssize_t cs, double* a) noexcept nogil:
    """a[i*C + j] = x[i, j] as doubles, for a group of rows."""
    cdef Py_ssize_t i, j
    if cs == 1 and rs == C:
        for i in range(rows * C):
            a[i] = x[i]
        return
    for i in range(rows):
        for j in range(C):
            a[i * C + j] = x[i * rs + j * cs]


cdef inline double _exp_tail(const double* a, const double* e, Py_ssize_t C) noexcept nogil:
    """The sum of a shifted row's e_j without the maximum's own e = exp(0) =
    1, or -1 when no a_j is 0 (a row with inf or NaN)."""
    cdef Py_ssize_t j, jmax = -1
    cdef double tail = 0.0
    for j in range(C):
        if jmax < 0 and a[j] == 0.0:
            jmax = j
        else:
            tail += e[j]
    return tail if jmax >= 0 else -1.0


cdef inline bint _big(const Job* J, Py_ssize_t itemsize) noexcept nogil:
    """pred spans at least BIG_BYTES: beyond the caches, where a gather's
    loads wait for memory and the best loop shape changes."""
    cdef Py_ssize_t rs = J.pred_row_stride if J.pred_row_stride >= 0 else -J.pred_row_stride
    return J.n_rows * rs * itemsize >= BIG_BYTES


cdef inline void _prefetch_run(const void* base, Py_ssize_t start,
                               Py_ssize_t nbytes) noexcept nogil:
    """Prefetch bytes [start, start + nbytes) of base, a line at a time (the
    addresses may lie past the array: fl_prefetch)."""
    cdef Py_ssize_t off
    for off in range(start, start + nbytes, 64):
        fl_prefetch(base, off)


cdef inline double _row_max(const pfloat* x, Py_ssize_t cs, Py_ssize_t C) noexcept nogil:
    cdef Py_ssize_t j
    cdef double v, m = -INFINITY
    for j in range(C):
        v = x[j * cs]
        m = v if v > m else m
    return m


cdef inline void _shift_row(const pfloat* x, Py_ssize_t cs, Py_ssize_t C, double m,
                            double* a) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(C):
        a[j] = <double>x[j * cs] - m


cdef inline void _scaled_probs(const double* e, Py_ssize_t C, double factor,
                               pfloat* g, Py_ssize_t gcs) noexcept nogil:
    """g[j] = e[j] * factor: one multiply per element (no cancellation
    follows, so the reciprocal's last-bit error stays a last-bit error)."""
    cdef Py_ssize_t j
    for j in range(C):
        g[j * gcs] = <pfloat>(e[j] * factor)


cdef inline double _sum_negated(double* lg, Py_ssize_t n) noexcept nogil:
    """sum_i -lg[i], the terms in four lanes by index (_add4_run); lg is
    left negated."""
    cdef double acc4[4]
    cdef Py_ssize_t i
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    for i in range(n):
        lg[i] = -lg[i]
    _add4_run(acc4, 0, lg, n)
    return _total4(acc4)


cdef inline double _sum_neg_logs(const double* x, double* lg, Py_ssize_t n) noexcept nogil:
    """sum_i -log(x[i]): one SIMD log pass into the scratch lg, then the
    terms in four lanes by index (_sum_negated)."""
    fl_vlog(x, lg, n)
    return _sum_negated(lg, n)
