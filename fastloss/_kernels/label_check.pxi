# The labels-only pass: every label checked, and the divisor of "mean"
# when weights or ignore_index make it differ from N.

cdef void _labels_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                        const int64_t* lab, BlockResult* res) noexcept nogil:
    """The divisor of "mean": sum of s_i w[t_i] over kept rows (s_i the
    sample weight, 1 without; w 1 unweighted and for dense targets)."""
    cdef Py_ssize_t i
    cdef double div = 0.0
    cdef bint labelled = J.labels != NULL and not J.dense_target
    for i in range(r1 - r0):
        if not labelled:
            div += _weighed(_sample_weight(J, r0 + i), 1.0)
        elif lab[i] >= 0:
            div += _weighed(_sample_weight(J, r0 + i), _row_weight(J, lab[i]))
    res.loss = 0.0
    res.div = div


cdef int _label_pass(Job* J, BlockResult* res, object target,
                     object positions=None) except -1:
    """The labels-only pass (FAM_LABELS, one thread), run before the kernel
    writes anything: an out-of-range label raises IndexError; res.div gets
    the divisor of a weighted or ignoring mean."""
    cdef int family = J.family
    J.family = FAM_LABELS
    _run_job(J, 1, res)
    J.family = family
    if res.bad >= 0:
        _raise_bad_label(target, res.bad, J.n_classes, positions)
    return 0
