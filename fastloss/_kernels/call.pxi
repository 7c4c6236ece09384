# The shared body of the six loss functions: validate the arguments (in the
# reference's order), describe the call as a Job, run its blocks, package the
# result.

cdef object _run(int family, object pred, object target, object reduction, object eps,
                 object weight, object ignore_index, object label_smoothing,
                 object n_threads, bint want_grad, object out, str name):
    """Validate, set up a Job, run it and package the result."""
    cdef Job J
    cdef BlockResult total, first
    cdef cnp.ndarray P, O = None, R = None
    cdef int64_t scalar_label = 0
    cdef double D
    cdef int nt
    cdef bint need_first_pass
    cdef double divide_after = 0.0
    cdef object staged_out = None
    cdef object T = None, W = None
    cdef double eps_value = 0.0
    # the order of the checks is the reference's: eps, reduction, n_threads,
    # pred, target, weight, ignore_index, label_smoothing, out; labels last
    if family == FAM_CE:
        eps_value = _nonneg(eps, "eps")
    cdef int red = _reduction(reduction)
    cdef int requested = _threads(n_threads)
    P = _start_job(&J, family, pred, name)
    J.eps = eps_value
    if family == FAM_MSE:
        T = _dense_target(&J, target, P, name)
    else:
        T = _label_target(&J, target, P, name)
        W = _weights(&J, weight)
        _ignore(&J, ignore_index)
        J.smoothing = _smoothing(label_smoothing)
    if want_grad:
        O = _grad_out(P, out)
        if out is not None and _needs_staging(O, (P, T, W)):
            staged_out = O
            O = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(P), cnp.PyArray_DIMS(P),
                                  cnp.PyArray_TYPE(P), 0)
        _set_grad(&J, O)
    # a Python int label of a single sample
    if family != FAM_MSE and not J.dense_target and J.labels == NULL:
        try:
            scalar_label = target
        except OverflowError:
            raise IndexError(
                f"target {target} is out of range for {J.n_classes} classes (row 0)") from None
        _set_scalar_label(&J, &scalar_label)
    if red == RED_NONE:
        R = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(P) - 1, cnp.PyArray_DIMS(P),
                              cnp.PyArray_TYPE(P), 0)
        J.row_loss = cnp.PyArray_DATA(R)
        J.row_loss_stride = 1
    cdef bint labels_checked = False
    if want_grad:
        if family == FAM_MSE:
            if red == RED_MEAN:
                J.grad_scale = 1.0 / (<double>J.n_rows * <double>J.n_classes)
            elif red == RED_NONE:
                J.grad_scale = 1.0 / <double>J.n_classes
        elif red == RED_MEAN:
            need_first_pass = not J.dense_target and (J.class_weight != NULL or J.has_ignore_index)
            if need_first_pass:
                _label_pass(&J, &first, target)
                D = first.div
                labels_checked = True
            else:
                D = <double>J.n_rows
            J.grad_scale = 1.0 / D
            if D != 0.0 and J.grad_scale - J.grad_scale != 0.0:
                # 1 / D overflows for a subnormal D: divide the finished gradient
                J.grad_scale = 1.0
                divide_after = D
    if (want_grad and out is not None and staged_out is None and J.labels != NULL
            and not labels_checked):
        # a bad label must leave the caller's out untouched, as the reference
        # does: check every label before the kernel writes a row
        _label_pass(&J, &first, target)
    nt = _pick_threads(&J, requested)
    _run_job(&J, nt, &total)
    if total.bad >= 0:
        _raise_bad_label(target, total.bad, J.n_classes)
    if divide_after != 0.0:
        np.divide(O, divide_after, out=O)
    if staged_out is not None:
        staged_out[...] = O
        O = staged_out
    if red == RED_NONE:
        loss = R
    elif red == RED_SUM:
        loss = _scalar(total.loss, J.pred_f32)
    else:
        loss = _scalar(total.loss / total.div, J.pred_f32)
    if want_grad:
        return loss, O
    return loss
