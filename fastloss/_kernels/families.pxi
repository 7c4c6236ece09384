# The family table: which block kernel runs a block, by family and options
# (_block_typed), and the pred/target dtype dispatch (_block).  A new loss
# adds its line here.

cdef void _block_typed(const Job* J, Py_ssize_t b, BlockResult* res,
                       const pfloat* p, const tfloat* t) noexcept nogil:
    cdef int64_t lab[BLOCK]
    cdef Py_ssize_t r0 = b * BLOCK
    cdef Py_ssize_t r1 = r0 + BLOCK
    cdef Py_ssize_t bad, slab, before
    cdef int fam = J.family
    cdef Job in_slab
    if r1 > J.n_rows:
        r1 = J.n_rows
    if J.n_inner != 0:
        if fam != FAM_LABELS and (J.slabs != NULL or r0 // J.n_inner != (r1 - 1) // J.n_inner):
            _block_across_slabs(J, b, r0, r1, res, p, t)
            return
        # rows in slabs, and this block lies in one: the kernels see one
        # strided run of rows, its pointers shifted so that row r is still
        # at r * row_stride
        slab = r0 // J.n_inner
        before = slab * J.n_inner
        in_slab = J[0]
        p = p + (slab * J.pred_outer_stride - before * J.pred_row_stride)
        if J.dense_target:
            t = t + (slab * J.target_outer_stride - before * J.target_row_stride)
        if J.grad != NULL:
            in_slab.grad = (<pfloat*>J.grad) + (slab * J.grad_outer_stride
                                                 - before * J.grad_row_stride)
        J = &in_slab
    res.bad = -1
    res.loss = 0.0
    res.div = 0.0
    if (fam == FAM_CE and J.labels != NULL and not J.dense_target and not J.label_rows
            and J.class_weight == NULL and J.smoothing == 0.0
            and not J.has_ignore_index and J.grad == NULL and J.row_loss == NULL
            and J.sample_weight == NULL):
        _ce_gather_plain_block(J, r0, r1, p, res)
        return
    if J.labels != NULL and not J.dense_target:
        bad = _read_labels(J, r0, r1, p, lab, NULL)
        if bad >= 0:
            res.bad = bad
            return
    if fam == FAM_CE:
        if not J.dense_target and J.class_weight == NULL and J.smoothing == 0.0:
            _ce_gather_block(J, r0, r1, lab, p, res)
        elif (J.dense_target and J.class_weight == NULL and J.smoothing == 0.0
              and J.sample_weight == NULL and J.n_classes <= CAP):
            _ce_dense_block(J, r0, r1, p, t, res)
        else:
            _ce_general_block(J, r0, r1, lab, p, t, res)
    elif fam == FAM_SCE:
        if J.n_classes <= CAP:
            _sce_block(J, r0, r1, lab, p, t, res)
        else:
            _sce_long_block(J, r0, r1, lab, p, t, res)
    elif fam == FAM_MSE:
        _mse_block(J, r0, r1, p, t, res)
    elif fam == FAM_SOFTMAX:
        if J.n_classes <= CAP:
            _softmax_block(J, r0, r1, lab if J.labels != NULL else NULL, p, res)
        else:
            _softmax_long_block(J, r0, r1, lab if J.labels != NULL else NULL, p, res)
    else:
        _labels_block(J, r0, r1, lab, res)


cdef enum:
    ROWS_PRED = 0
    ROWS_TARGET = 1
    ROWS_GRAD = 2


cdef inline Py_ssize_t _slab_start(const Job* J, Py_ssize_t slab, int which) noexcept nogil:
    """The offset, in elements, of a slab of pred, the dense target or the
    gradient (ROWS_*): slab * *_outer_stride, or through J.slabs."""
    cdef Py_ssize_t q, off = 0
    cdef int d
    if J.slabs == NULL:
        if which == ROWS_PRED:
            return slab * J.pred_outer_stride
        if which == ROWS_TARGET:
            return slab * J.target_outer_stride
        return slab * J.grad_outer_stride
    for d in range(J.slabs.nd - 1, -1, -1):      # the slab's multi-index, last axis first
        q = slab // J.slabs.shape[d]
        if which == ROWS_PRED:
            off += (slab - q * J.slabs.shape[d]) * J.slabs.pred[d]
        elif which == ROWS_TARGET:
            off += (slab - q * J.slabs.shape[d]) * J.slabs.target[d]
        else:
            off += (slab - q * J.slabs.shape[d]) * J.slabs.grad[d]
        slab = q
    return off


cdef void _slab_rows(const Job* J, Py_ssize_t r0, Py_ssize_t n, int which,
                     Py_ssize_t* off) noexcept nogil:
    """off[i]: the offset, in elements, of row r0 + i of pred, the dense
    target or the gradient (ROWS_*), for rows or rows in slabs; a slab's
    start is found once per slab, not once per row."""
    cdef Py_ssize_t i, rs, slab, k, start
    if which == ROWS_PRED:
        rs = J.pred_row_stride
    elif which == ROWS_TARGET:
        rs = J.target_row_stride
    else:
        rs = J.grad_row_stride
    if J.n_inner == 0:
        for i in range(n):
            off[i] = (r0 + i) * rs
        return
    slab = r0 // J.n_inner
    k = r0 - slab * J.n_inner
    start = _slab_start(J, slab, which)
    for i in range(n):
        if k == J.n_inner:
            k = 0
            slab += 1
            start = _slab_start(J, slab, which)
        off[i] = start + k * rs
        k += 1


cdef void _rows_in(const Job* J, Py_ssize_t r0, Py_ssize_t n, int which, const tfloat* src,
                   Py_ssize_t cs, tfloat* dst) noexcept nogil:
    """Rows r0 .. r0 + n of pred or the dense target (ROWS_*; src its
    data, cs its class stride), rows or rows in slabs, copied into n
    contiguous rows of C at dst."""
    cdef Py_ssize_t off[BLOCK]
    cdef Py_ssize_t i, j, o, C = J.n_classes
    _slab_rows(J, r0, n, which, off)
    for i in range(n):
        o = off[i]
        for j in range(C):
            dst[i * C + j] = src[o + j * cs]


cdef void _block_across_slabs(const Job* J, Py_ssize_t b, Py_ssize_t r0, Py_ssize_t r1,
                              BlockResult* res, const pfloat* p,
                              const tfloat* t) noexcept nogil:
    """A block of rows in slabs that runs across a slab's end (a
    channels-first batch whose images are not a multiple of BLOCK
    positions), or any block of slabs laid out by J.slabs: its pred rows,
    and its dense target rows, copied into contiguous scratch, the block
    run there as on contiguous rows, and its gradient rows copied out.
    The same bits as the moved-axis call (a row's arithmetic does not
    depend on its layout), with scratch of one block instead of a copy of
    the input.  Without memory for the scratch, res.bad is
    BAD_NO_MEMORY."""
    cdef Py_ssize_t n = r1 - r0, C = J.n_classes, i, j, o
    cdef Py_ssize_t off[BLOCK]
    cdef Job local = J[0]
    cdef pfloat* x = <pfloat*>malloc(n * C * sizeof(pfloat))
    cdef tfloat* tt = NULL
    cdef pfloat* g = NULL
    cdef pfloat* gout
    if J.dense_target:
        tt = <tfloat*>malloc(n * C * sizeof(tfloat))
    if J.grad != NULL:
        g = <pfloat*>malloc(n * C * sizeof(pfloat))
    if x == NULL or (J.dense_target and tt == NULL) or (J.grad != NULL and g == NULL):
        free(x)
        free(tt)
        free(g)
        res.bad = BAD_NO_MEMORY
        return
    _rows_in(J, r0, n, ROWS_PRED, p, J.pred_col_stride, x)
    local.n_inner = 0
    local.slabs = NULL
    local.pred_row_stride = C
    local.pred_col_stride = 1
    if J.dense_target:
        _rows_in(J, r0, n, ROWS_TARGET, t, J.target_col_stride, tt)
        local.target_row_stride = C
        local.target_col_stride = 1
    if J.grad != NULL:
        local.grad = <void*>(<size_t>g - <size_t>(r0 * C * sizeof(pfloat)))
        local.grad_row_stride = C
        local.grad_col_stride = 1
    # the kernels find row r at p + r * C: the scratch, shifted back by r0
    # rows (addresses formed as integers, never dereferenced outside it)
    _block_typed(&local, b, res,
                 <const pfloat*>(<size_t>x - <size_t>(r0 * C * sizeof(pfloat))),
                 <const tfloat*>(<size_t>tt - <size_t>(r0 * C * sizeof(tfloat))))
    if J.grad != NULL and res.bad < 0:
        gout = <pfloat*>J.grad
        _slab_rows(J, r0, n, ROWS_GRAD, off)
        for i in range(n):
            o = off[i]
            for j in range(C):
                gout[o + j * J.grad_col_stride] = g[i * C + j]
    free(x)
    free(tt)
    free(g)


cdef void _half_rows(const Job* J, Py_ssize_t r0, Py_ssize_t n, float* dst) noexcept nogil:
    """Rows r0 .. r0 + n of the half-precision pred (rows, or rows in
    slabs) as float32 rows of C in dst; exact."""
    cdef Py_ssize_t i, j, j0, m, o, C = J.n_classes
    cdef Py_ssize_t rs = J.pred_row_stride, cs = J.pred_col_stride
    cdef Py_ssize_t off[BLOCK]
    cdef const uint16_t* h = <const uint16_t*>J.pred
    cdef uint16_t v[HALF_MAX_C]
    cdef Py_ssize_t ahead
    if J.n_inner == 0 and cs == 1 and (rs == C or n == 1):
        if J.half == HALF_F16:
            fl_half_to_float(h + r0 * rs, dst, n * C)
        else:
            fl_bf16_to_float(h + r0 * rs, dst, n * C)
        # the next block's rows, on a pred beyond the caches: each block
        # reads its rows in one short run and then computes for
        # microseconds, which leaves the hardware prefetcher behind
        # (1e6 x 10 float16: 5% of the call)
        ahead = J.n_rows - (r0 + n)
        if ahead > 0 and rs == C and _big(J, 2):
            if ahead > BLOCK:
                ahead = BLOCK
            _prefetch_run(h, (r0 + n) * C * 2, ahead * C * 2)
        return
    _slab_rows(J, r0, n, ROWS_PRED, off)
    for i in range(n):
        o = off[i]
        j0 = 0
        while j0 < C:                   # (HALF_MAX_C classes at a time)
            m = min(<Py_ssize_t>HALF_MAX_C, C - j0)
            for j in range(m):
                v[j] = h[o + (j0 + j) * cs]
            if J.half == HALF_F16:
                fl_half_to_float(v, dst + i * C + j0, m)
            else:
                fl_bf16_to_float(v, dst + i * C + j0, m)
            j0 += m


cdef void _half_grad_rows(const Job* J, const float* src, Py_ssize_t r0, Py_ssize_t n) noexcept nogil:
    """float32 gradient rows (n rows of C) rounded into the half-precision
    gradient's rows r0 .. r0 + n (to nearest even)."""
    cdef Py_ssize_t i, j, j0, m, o, C = J.n_classes
    cdef Py_ssize_t rs = J.grad_row_stride, cs = J.grad_col_stride
    cdef Py_ssize_t off[BLOCK]
    cdef uint16_t* g = <uint16_t*>J.grad
    cdef uint16_t v[HALF_MAX_C]
    if J.n_inner == 0 and cs == 1 and (rs == C or n == 1):
        if J.half == HALF_F16:
            fl_float_to_half(src, g + r0 * rs, n * C)
        else:
            fl_float_to_bf16(src, g + r0 * rs, n * C)
        return
    _slab_rows(J, r0, n, ROWS_GRAD, off)
    for i in range(n):
        o = off[i]
        j0 = 0
        while j0 < C:                   # (HALF_MAX_C classes at a time)
            m = min(<Py_ssize_t>HALF_MAX_C, C - j0)
            if J.half == HALF_F16:
                fl_float_to_half(src + i * C + j0, v, m)
            else:
                fl_float_to_bf16(src + i * C + j0, v, m)
            for j in range(m):
                g[o + (j0 + j) * cs] = v[j]
            j0 += m


cdef void _block_half(const Job* J, Py_ssize_t b, BlockResult* res) noexcept nogil:
    """A block of a float16 or bfloat16 pred (rows, or rows in slabs): its
    rows converted to float32 scratch (on the stack up to HALF_MAX_C
    classes, from malloc beyond), the
    float32 block run on them as on a contiguous float32 pred, and its
    gradient rows rounded into the half-precision gradient.  The same bits
    as the float32 copy of the whole pred, without the copy.  A dense
    target of rows in slabs is copied into scratch rows too (malloc; without
    memory, res.bad is BAD_NO_MEMORY)."""
    cdef float xs[BLOCK * HALF_MAX_C]
    cdef float gs[BLOCK * HALF_MAX_C]
    cdef float* x = xs
    cdef float* g = gs
    cdef Py_ssize_t r0 = b * BLOCK, n, C = J.n_classes
    cdef Job local = J[0]
    cdef const float* p
    cdef double* td = NULL
    cdef float* tf = NULL
    n = BLOCK if r0 + BLOCK <= J.n_rows else J.n_rows - r0
    if C > HALF_MAX_C:                  # more classes than the stack scratch holds
        x = <float*>malloc(n * C * sizeof(float))
        g = <float*>malloc(n * C * sizeof(float)) if J.grad != NULL else NULL
        if x == NULL or (J.grad != NULL and g == NULL):
            free(x)
            free(g)
            res.bad = BAD_NO_MEMORY
            return
    if J.n_inner != 0 and J.dense_target:
        if J.target_f32:
            tf = <float*>malloc(n * C * sizeof(float))
        else:
            td = <double*>malloc(n * C * sizeof(double))
        if tf == NULL and td == NULL:
            if C > HALF_MAX_C:
                free(x)
                free(g)
            res.bad = BAD_NO_MEMORY
            return
        if J.target_f32:
            _rows_in(J, r0, n, ROWS_TARGET, <const float*>J.target, J.target_col_stride, tf)
        else:
            _rows_in(J, r0, n, ROWS_TARGET, <const double*>J.target, J.target_col_stride, td)
        local.target = <const void*>(<size_t>(<void*>tf if J.target_f32 else <void*>td)
                                     - <size_t>(r0 * C * (sizeof(float) if J.target_f32
                                                          else sizeof(double))))
        local.target_row_stride = C
        local.target_col_stride = 1
    _half_rows(J, r0, n, x)
    # the kernels find row r at p + r * C: the scratch, shifted back by r0
    # rows (an address formed as an integer, never dereferenced outside x)
    p = <const float*>(<size_t>x - <size_t>(r0 * C * sizeof(float)))
    local.half = 0
    local.n_inner = 0                   # (the scratch is one run of rows)
    local.slabs = NULL
    local.pred_row_stride = C
    local.pred_col_stride = 1
    if J.grad != NULL:
        local.grad = <void*>(<size_t>g - <size_t>(r0 * C * sizeof(float)))
        local.grad_row_stride = C
        local.grad_col_stride = 1
    if J.target_f32:
        _block_typed(&local, b, res, p, <const float*>local.target)
    else:
        _block_typed(&local, b, res, p, <const double*>local.target)
    free(tf)
    free(td)
    if J.grad != NULL and res.bad < 0:
        _half_grad_rows(J, g, r0, n)
    if C > HALF_MAX_C:
        free(x)
        free(g)


cdef void _block(const Job* J, Py_ssize_t b, BlockResult* res) noexcept nogil:
    """A block of rows, by pred and target dtype (and family, _block_typed).
    The element-wise families read their operands' dtypes themselves."""
    if J.family == FAM_BCE or J.family == FAM_SBCE:
        _bce_block(J, b, res)
        return
    if J.half:
        _block_half(J, b, res)
        return
    if J.pred_f32:
        if J.target_f32:
            _block_typed(J, b, res, <const float*>J.pred, <const float*>J.target)
        else:
            _block_typed(J, b, res, <const float*>J.pred, <const double*>J.target)
    else:
        if J.target_f32:
            _block_typed(J, b, res, <const double*>J.pred, <const float*>J.target)
        else:
            _block_typed(J, b, res, <const double*>J.pred, <const double*>J.target)
