# Labels: loading and range checks.

cdef inline bint _out_of_range(label_t v, Py_ssize_t c) noexcept nogil:
    """Label v outside [0, c): one unsigned compare catches negative labels
    too, so none is ever wrapped around."""
    if label_t is uint64_t:
        return v >= <uint64_t>c
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


cdef Py_ssize_t _load_labels(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                             int64_t* out) noexcept nogil:
    if J.label_unsigned:
        if J.label_size == 1:
            return _load_labels_typed(J, <const uint8_t*>J.labels, r0, r1, out)
        elif J.label_size == 2:
            return _load_labels_typed(J, <const uint16_t*>J.labels, r0, r1, out)
        elif J.label_size == 4:
            return _load_labels_typed(J, <const uint32_t*>J.labels, r0, r1, out)
        return _load_labels_typed(J, <const uint64_t*>J.labels, r0, r1, out)
    if J.label_size == 1:
        return _load_labels_typed(J, <const int8_t*>J.labels, r0, r1, out)
    elif J.label_size == 2:
        return _load_labels_typed(J, <const int16_t*>J.labels, r0, r1, out)
    elif J.label_size == 4:
        return _load_labels_typed(J, <const int32_t*>J.labels, r0, r1, out)
    return _load_labels_typed(J, <const int64_t*>J.labels, r0, r1, out)
