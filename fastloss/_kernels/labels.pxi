# Labels: class indices of any integer dtype, read in place.
#
# Every label is checked against [0, n_classes) before the row that uses it is
# touched, so no label can make a kernel read or write outside an array.  The
# first out-of-range row goes back in BlockResult.bad; the caller raises.

cdef inline bint _out_of_range(label_t v, Py_ssize_t c) noexcept nogil:
    """Label v outside [0, c): one unsigned compare catches negative labels
    too, so none is ever wrapped around."""
    if label_t is uint64_t:
        return v >= <uint64_t>c
    else:
        return <uint64_t><int64_t>v >= <uint64_t>c


cdef inline Py_ssize_t _load_labels_typed(const Job* J, const label_t* t,
                                          Py_ssize_t r0, Py_ssize_t r1,
                                          int64_t* out) noexcept nogil:
    """Copy the labels of rows [r0, r1) to ``out`` as int64, -1 for ignored
    rows.  Returns the first row whose label is out of range, or -1."""
    cdef Py_ssize_t i
    cdef label_t v
    cdef Py_ssize_t c = J.n_classes, stride = J.label_stride
    cdef bint has_ignore = J.has_ignore_index, ignored
    cdef int64_t ign_s = J.ignore_signed
    cdef uint64_t ign_u = J.ignore_unsigned
    if label_t is int64_t:
        # the common labels (NumPy's default integer) in one SIMD pass; a
        # bad label sends the rows through the loop below, which finds it
        if stride == 1 and not fl_labels_i64(t + r0, r1 - r0, c, ign_s, has_ignore, out):
            return -1
    for i in range(r0, r1):
        v = t[i * stride]
        if has_ignore:
            if label_t is uint64_t:
                ignored = <uint64_t>v == ign_u
            else:
                ignored = <int64_t>v == ign_s
            if ignored:
                out[i - r0] = -1
                continue
        if _out_of_range(v, c):
            return i
        out[i - r0] = <int64_t>v
    return -1


cdef inline Py_ssize_t _gather_typed(const Job* J, const label_t* t, const pfloat* p,
                                     Py_ssize_t r0, Py_ssize_t r1, double* pe) noexcept nogil:
    """pe[i - r0] = p[i, t_i] + eps for rows [r0, r1), checking each label
    before it is used; returns the first bad row or -1.

    On a pred too big for the caches, each row is prefetched PREFETCH_ROWS
    ahead: the label decides which line of a row is read, which the
    hardware prefetcher cannot follow (1e6 x 10: 7.1 -> 4.9 ms, near
    y[:, 0].sum())."""
    cdef Py_ssize_t i, c = J.n_classes, stride = J.label_stride, rs = J.pred_row_stride
    cdef Py_ssize_t cs = J.pred_col_stride
    cdef Py_ssize_t ahead = PREFETCH_ROWS * rs, last = (c - 1) * cs
    cdef double eps = J.eps
    cdef label_t v
    if _big(J, sizeof(pfloat)):
        for i in range(r0, r1):
            fl_prefetch(p + i * rs, ahead * <Py_ssize_t>sizeof(pfloat))
            fl_prefetch(p + i * rs, (ahead + last) * <Py_ssize_t>sizeof(pfloat))
            v = t[i * stride]
            if _out_of_range(v, c):
                return i
            pe[i - r0] = <double>p[i * rs + <Py_ssize_t>v * cs] + eps
        return -1
    for i in range(r0, r1):
        v = t[i * stride]
        if _out_of_range(v, c):
            return i
        pe[i - r0] = <double>p[i * rs + <Py_ssize_t>v * cs] + eps
    return -1


cdef inline Py_ssize_t _labels_typed(const Job* J, const label_t* t, Py_ssize_t r0, Py_ssize_t r1,
                                     const pfloat* p, int64_t* out, double* pe) noexcept nogil:
    if pe != NULL:
        return _gather_typed(J, t, p, r0, r1, pe)
    return _load_labels_typed(J, t, r0, r1, out)


cdef inline int64_t _argmax_row(const row_t* row, Py_ssize_t c, Py_ssize_t cs) noexcept nogil:
    """NumPy's argmax of one row: the first maximum, or the first NaN."""
    cdef Py_ssize_t j, k = 0
    cdef row_t best = row[0], v
    if row_t is float or row_t is double:
        if best != best:
            return 0
        for j in range(1, c):
            v = row[j * cs]
            if v != v:
                return j
            if v > best:
                best = v
                k = j
    else:
        for j in range(1, c):
            v = row[j * cs]
            if v > best:
                best = v
                k = j
    return k


cdef inline void _argmax_rows_typed(const Job* J, const row_t* t, Py_ssize_t r0, Py_ssize_t r1,
                                    int64_t* out) noexcept nogil:
    """out[i - r0] = the argmax of row i of J's label rows, for rows [r0, r1).

    Float rows of at most 64 contiguous columns first go through
    fl_onehot_cols, one SIMD test a row: a row whose only nonzero is
    positive or NaN has its argmax there.  Every other row (soft, all zero,
    a negative entry) is scanned in full, so each row gets NumPy's answer."""
    cdef int32_t col[BLOCK]
    cdef Py_ssize_t i, c = J.n_classes, rs = J.label_stride, cs = J.label_col_stride
    cdef int32_t k
    cdef row_t v
    if (row_t is float or row_t is double) and c <= 64 and (cs == 1 or c == 1):
        if row_t is double:
            fl_onehot_cols_d(t + r0 * rs, r1 - r0, c, rs, col)
        else:
            fl_onehot_cols_f(t + r0 * rs, r1 - r0, c, rs, col)
        for i in range(r0, r1):
            k = col[i - r0]
            if k >= 0:
                v = t[i * rs + k]
                if v > 0 or v != v:
                    out[i - r0] = k
                    continue
            out[i - r0] = _argmax_row(t + i * rs, c, cs)
        return
    for i in range(r0, r1):
        out[i - r0] = _argmax_row(t + i * rs, c, cs)


cdef enum RowsOp:
    ROWS_ARGMAX = 0             # out[i - r0] = the argmax of row i, rows [r0, r1)
    ROWS_BACKWARD_F32 = 1       # the book layer's backward into a float32 dx
    ROWS_BACKWARD_F64 = 2       # ... into a float64 dx


cdef inline void _rows_typed(const Job* J, const row_t* t, int op, Py_ssize_t r0, Py_ssize_t r1,
                             int64_t* out, double dout, void* dx) noexcept nogil:
    if op == ROWS_ARGMAX:
        _argmax_rows_typed(J, t, r0, r1, out)
    elif op == ROWS_BACKWARD_F32:
        _backward_rows_typed(J, t, <float>dout, <float>J.n_rows, <float*>dx)
    else:
        _backward_rows_typed(J, t, dout, <double>J.n_rows, <double*>dx)


cdef void _on_label_rows(const Job* J, int op, Py_ssize_t r0, Py_ssize_t r1, int64_t* out,
                         double dout, void* dx) noexcept nogil:
    """Run ``op`` (a RowsOp) on the label rows of J, read in their own dtype:
    the one place that maps a label-rows dtype to a type, as _read_labels
    is for class indices.  The backward ops (book.pxi) take every row and
    ignore r0, r1 and out; the argmax takes rows [r0, r1) and ignores dout
    and dx."""
    if J.label_float:
        if J.label_size == 4:
            _rows_typed(J, <const float*>J.labels, op, r0, r1, out, dout, dx)
        else:
            _rows_typed(J, <const double*>J.labels, op, r0, r1, out, dout, dx)
    elif J.label_unsigned:
        if J.label_size == 1:
            _rows_typed(J, <const uint8_t*>J.labels, op, r0, r1, out, dout, dx)
        elif J.label_size == 2:
            _rows_typed(J, <const uint16_t*>J.labels, op, r0, r1, out, dout, dx)
        elif J.label_size == 4:
            _rows_typed(J, <const uint32_t*>J.labels, op, r0, r1, out, dout, dx)
        else:
            _rows_typed(J, <const uint64_t*>J.labels, op, r0, r1, out, dout, dx)
    elif J.label_size == 1:
        _rows_typed(J, <const int8_t*>J.labels, op, r0, r1, out, dout, dx)
    elif J.label_size == 2:
        _rows_typed(J, <const int16_t*>J.labels, op, r0, r1, out, dout, dx)
    elif J.label_size == 4:
        _rows_typed(J, <const int32_t*>J.labels, op, r0, r1, out, dout, dx)
    else:
        _rows_typed(J, <const int64_t*>J.labels, op, r0, r1, out, dout, dx)


cdef Py_ssize_t _read_labels(const Job* J, Py_ssize_t r0, Py_ssize_t r1, const pfloat* p,
                             int64_t* out, double* pe) noexcept nogil:
    """The labels of rows [r0, r1), read in their own dtype: with pe NULL,
    copied to ``out`` (_load_labels_typed); else gathered, pe[i - r0] =
    p[i, t_i] + eps (_gather_typed).  Returns the first row whose label is
    out of range, or -1.  The one place that maps the label dtype to a type.
    Label rows (J.label_rows) are argmaxed into ``out``; they are never out
    of range, and their callers pass ``out``."""
    if J.label_rows:
        _on_label_rows(J, ROWS_ARGMAX, r0, r1, out, 0.0, NULL)
        return -1
    if J.label_unsigned:
        if J.label_size == 1:
            return _labels_typed(J, <const uint8_t*>J.labels, r0, r1, p, out, pe)
        elif J.label_size == 2:
            return _labels_typed(J, <const uint16_t*>J.labels, r0, r1, p, out, pe)
        elif J.label_size == 4:
            return _labels_typed(J, <const uint32_t*>J.labels, r0, r1, p, out, pe)
        return _labels_typed(J, <const uint64_t*>J.labels, r0, r1, p, out, pe)
    if J.label_size == 1:
        return _labels_typed(J, <const int8_t*>J.labels, r0, r1, p, out, pe)
    elif J.label_size == 2:
        return _labels_typed(J, <const int16_t*>J.labels, r0, r1, p, out, pe)
    elif J.label_size == 4:
        return _labels_typed(J, <const int32_t*>J.labels, r0, r1, p, out, pe)
    return _labels_typed(J, <const int64_t*>J.labels, r0, r1, p, out, pe)
