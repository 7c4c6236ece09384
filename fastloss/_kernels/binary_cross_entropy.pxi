# Binary cross-entropy, on probabilities (FAM_BCE) and on logits (FAM_SBCE):
# element-wise losses, every element of pred its own binary prediction.
#
# The job's rows are pred's elements in C order (n_rows = pred.size, one
# "class"), so a block is BLOCK consecutive elements and the engine's block
# order, threads and compensated sum apply unchanged.  A block gathers its
# elements through an N-d strided walk (_elem_gather; the axes coalesced
# first, so a contiguous call is one run) into float64 scratch, forms each
# element's two coefficients there, hands them to the SIMD element loops
# (fl_sbce, fl_bce in fastloss/_simd/binary.inc.h), and adds the element
# losses in four lanes by element index.  The scratch values, and so every bit, are
# the same whatever the layout, the broadcasting of the weights or the
# thread count.
#
# Per element, with t' = t (1 - s) + s / 2, a = pw t' and b = 1 - t':
#   probabilities: l = -w (a log(p + eps) + b log((1 - p) + eps))
#   logits:        l = w (a softplus(-x) + b softplus(x)),
#                  softplus(+-x) = max(+-x, 0) + log1p(exp(-|x|))
# A term whose coefficient (w a, w b) is 0 contributes exactly 0, even where
# its log is -inf or NaN; so does an element whose sample weight is 0.


cdef inline void _elem_unravel(const Elementwise* E, Py_ssize_t f, Py_ssize_t* idx) noexcept nogil:
    """idx = the multi-index of element f (C order) over E's coalesced axes."""
    cdef int d
    for d in range(E.nd - 1, -1, -1):
        idx[d] = f % E.shape[d]
        f = f // E.shape[d]


cdef inline Py_ssize_t _elem_offset(const Elementwise* E, const Py_ssize_t* idx,
                                    const Py_ssize_t* strides) noexcept nogil:
    cdef int d
    cdef Py_ssize_t off = 0
    for d in range(E.nd):
        off += idx[d] * strides[d]
    return off


cdef inline void _elem_advance(const Elementwise* E, Py_ssize_t* idx, Py_ssize_t n) noexcept nogil:
    """Move idx on by n elements, n at most what is left of the last axis."""
    cdef int d = E.nd - 1
    idx[d] += n
    while d > 0 and idx[d] >= E.shape[d]:
        idx[d] = 0
        d -= 1
        idx[d] += 1


cdef void _elem_gather(const Elementwise* E, const void* base, int kind,
                       const Py_ssize_t* strides, Py_ssize_t f0, Py_ssize_t n,
                       double* dst) noexcept nogil:
    """dst[k] = element f0 + k of an operand, as a double (exact), k < n <= BLOCK."""
    cdef Py_ssize_t idx[ELEM_MAX_ND]
    cdef float fb[BLOCK]
    cdef uint16_t hb[BLOCK]
    cdef Py_ssize_t k = 0, u, L, off, last = E.nd - 1, st = strides[E.nd - 1]
    cdef double v
    cdef const double* pd
    cdef const float* pf
    cdef const uint16_t* ph
    _elem_unravel(E, f0, idx)
    while k < n:
        L = E.shape[last] - idx[last]
        if L > n - k:
            L = n - k
        off = _elem_offset(E, idx, strides)
        if kind == EK_F64:
            pd = <const double*>base + off
            if st == 1:
                memcpy(dst + k, pd, L * sizeof(double))
            elif st == 0:                       # a weight broadcast along the run
                v = pd[0]
                for u in range(L):
                    dst[k + u] = v
            else:
                for u in range(L):
                    dst[k + u] = pd[u * st]
        elif kind == EK_F32:
            pf = <const float*>base + off
            for u in range(L):
                dst[k + u] = pf[u * st]
        else:
            ph = <const uint16_t*>base + off
            for u in range(L):
                hb[u] = ph[u * st]
            if kind == EK_F16:
                fl_half_to_float(hb, fb, L)
            else:
                fl_bf16_to_float(hb, fb, L)
            for u in range(L):
                dst[k + u] = fb[u]
        k += L
        _elem_advance(E, idx, L)


cdef inline const double* _elem_doubles(const Elementwise* E, const void* base, int kind,
                                        const Py_ssize_t* strides,
                                        Py_ssize_t f0) noexcept nogil:
    """Elements f0, f0 + 1, ... of a float64 operand whose elements are one
    contiguous run (the coalesced axes are one, stride 1): read in place.
    NULL for any other operand, which _elem_gather copies into scratch."""
    if kind == EK_F64 and E.nd == 1 and strides[0] == 1:
        return <const double*>base + f0
    return NULL


cdef void _elem_scatter(const Elementwise* E, void* base, int kind, const Py_ssize_t* strides,
                        Py_ssize_t f0, Py_ssize_t n, const double* src) noexcept nogil:
    """Element f0 + k of an output = src[k] rounded to its kind (half
    precision through float32, as the other losses' half gradients)."""
    cdef Py_ssize_t idx[ELEM_MAX_ND]
    cdef float fb[BLOCK]
    cdef uint16_t hb[BLOCK]
    cdef Py_ssize_t k = 0, u, L, off, last = E.nd - 1, st = strides[E.nd - 1]
    cdef double* pd
    cdef float* pf
    cdef uint16_t* ph
    _elem_unravel(E, f0, idx)
    while k < n:
        L = E.shape[last] - idx[last]
        if L > n - k:
            L = n - k
        off = _elem_offset(E, idx, strides)
        if kind == EK_F64:
            pd = <double*>base + off
            for u in range(L):
                pd[u * st] = src[k + u]
        elif kind == EK_F32:
            pf = <float*>base + off
            for u in range(L):
                pf[u * st] = <float>src[k + u]
        else:
            for u in range(L):
                fb[u] = <float>src[k + u]
            if kind == EK_F16:
                fl_float_to_half(fb, hb, L)
            else:
                fl_float_to_bf16(fb, hb, L)
            ph = <uint16_t*>base + off
            for u in range(L):
                ph[u * st] = hb[u]
        k += L
        _elem_advance(E, idx, L)


cdef inline void _elem_sample_weights(const Elementwise* E, Py_ssize_t f0, Py_ssize_t n,
                                      double* sv) noexcept nogil:
    """sv[k] = the sample weight of element f0 + k."""
    cdef Py_ssize_t k, i = f0 // E.per_sample, rem = f0 % E.per_sample
    cdef double s = E.sample_weight[i]
    for k in range(n):
        sv[k] = s
        rem += 1
        if rem == E.per_sample and k + 1 < n:
            rem = 0
            i += 1
            s = E.sample_weight[i]


cdef inline double _elem_block_div(Py_ssize_t f0, Py_ssize_t n,
                                   const double* sv) noexcept nogil:
    """A block's share of the "mean" divisor: the sample weights of its n
    elements (sv, NULL without sample weights: each counts 1), added in four
    lanes by element index as the block's losses are.  Added across blocks
    as the losses are, these give M sum_i s_i (M elements a sample), in an
    order fixed by pred's size alone, so a piece of the rows gives its
    blocks' exact share (fastloss.partial_sums)."""
    cdef double acc4[4]
    if sv == NULL:
        return <double>n
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    _add4_run(acc4, f0, sv, n)
    return _total4(acc4)


cdef double _elem_divisor(const Job* J, double* keep) noexcept nogil:
    """The "mean" divisor alone, block by block as _bce_block adds it (the
    gradient needs it first); ``keep``, when not NULL, receives every
    block's share."""
    cdef const Elementwise* E = J.elem
    cdef double sv[BLOCK]
    cdef Py_ssize_t b, f0, n, nblocks = (J.n_rows + BLOCK - 1) // BLOCK
    cdef double d
    cdef Neumaier acc
    acc.sum = acc.comp = 0.0
    for b in range(nblocks):
        f0 = b * BLOCK
        n = BLOCK if f0 + BLOCK <= J.n_rows else J.n_rows - f0
        if E.sample_weight != NULL:
            _elem_sample_weights(E, f0, n, sv)
            d = _elem_block_div(f0, n, sv)
        else:
            d = _elem_block_div(f0, n, NULL)
        if keep != NULL:
            keep[b] = d
        _neumaier_add(&acc, d)
    return _neumaier_total(&acc)


cdef void _bce_block(const Job* J, Py_ssize_t b, BlockResult* res) noexcept nogil:
    """BLOCK elements of a binary cross-entropy: their loss sum in four lanes
    by element index, their "none" losses and their gradient.  The element
    loops are fl_sbce / fl_bce (fastloss/_simd/binary.inc.h)."""
    cdef const Elementwise* E = J.elem
    cdef double x[BLOCK]
    cdef double ca[BLOCK]
    cdef double cb[BLOCK]
    cdef double w[BLOCK]
    cdef double sv[BLOCK]
    cdef double loss[BLOCK]
    cdef double g[BLOCK]
    cdef double scratch[BLOCK]
    cdef double acc4[4]
    cdef Py_ssize_t f0 = b * BLOCK, n, k
    cdef double sm = J.smoothing
    cdef double* grad = g if E.grad != NULL else NULL
    cdef const double* s = NULL
    cdef const double* xp = _elem_doubles(E, E.pred, E.pred_kind, E.pred_strides, f0)
    cdef const double* tp
    cdef const double* ap
    n = BLOCK if f0 + BLOCK <= J.n_rows else J.n_rows - f0
    res.bad = -1
    if xp == NULL:
        _elem_gather(E, E.pred, E.pred_kind, E.pred_strides, f0, n, x)
        xp = x
    # the coefficients a = w pw t' (ap) and b = w (1 - t') (cb); a product
    # with a zero factor is exactly 0, an inf or NaN weight included, as for
    # the class weights of the other losses (fl_products0)
    tp = _elem_doubles(E, E.target, E.target_kind, E.target_strides, f0)
    if tp == NULL or sm != 0.0:
        if tp == NULL:
            _elem_gather(E, E.target, E.target_kind, E.target_strides, f0, n, ca)
        else:
            memcpy(ca, tp, n * sizeof(double))
        if sm != 0.0:
            for k in range(n):
                ca[k] = ca[k] * (1.0 - sm) + sm * 0.5
        tp = ca
    for k in range(n):
        cb[k] = 1.0 - tp[k]
    ap = tp
    if E.pos_weight != NULL:
        _elem_gather(E, E.pos_weight, EK_F64, E.pos_strides, f0, n, w)
        fl_products0(w, tp, ca, n)
        ap = ca
    if E.weight != NULL:
        _elem_gather(E, E.weight, EK_F64, E.weight_strides, f0, n, w)
        fl_products0(w, ap, ca, n)
        fl_products0(w, cb, cb, n)
        ap = ca
    if E.sample_weight != NULL:
        _elem_sample_weights(E, f0, n, sv)
        s = sv
    res.div = _elem_block_div(f0, n, s)
    if J.family == FAM_SBCE:
        fl_sbce(xp, ap, cb, s, n, E.grad_div, loss, grad, scratch)
    else:
        fl_bce(xp, ap, cb, s, n, J.eps, E.grad_div, loss, grad, scratch)
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    _add4_run(acc4, f0, loss, n)
    res.loss = _total4(acc4)
    if E.loss != NULL:
        _elem_scatter(E, E.loss, E.loss_kind, E.loss_strides, f0, n, loss)
    if grad != NULL:
        _elem_scatter(E, E.grad, E.grad_kind, E.grad_strides, f0, n, g)
