# The shared body of the six loss functions: validate the arguments (in the
# contract's order: pred, axis, the scalar options, target, weights, out,
# then the labels), describe the call as a Job, run its blocks, package the
# result.
#
# Two steps: _run takes any pred; a pred of one or two axes with the class
# axis last (the common case) goes straight to _run_rows, which sets up the
# Job.  Any other (more axes, another class axis, float16 and bfloat16) is
# first checked in full and viewed as (positions, C) rows by
# _run_positions, whose results are those of the same data with the class
# axis moved last.

cdef double TWO_600 = 2.0 ** 600
cdef object _MINUS_ONE = -1


cdef object _run(int family, object pred, object target, object reduction, object eps,
                 object weight, object ignore_index, object label_smoothing,
                 object sample_weight, object axis, object n_threads, bint want_grad,
                 object out, str name, _Request req=None):
    cdef cnp.ndarray P = _loss_pred(pred, name)
    cdef int nd = cnp.PyArray_NDIM(P)
    cdef int tn = cnp.PyArray_TYPE(P)
    # the default axis is the cached int -1: one pointer comparison
    if (nd <= 2 and (tn == cnp.NPY_DOUBLE or tn == cnp.NPY_FLOAT)
            and (axis is _MINUS_ONE or (type(axis) is int and axis == nd - 1))):
        if cnp.PyArray_DIMS(P)[nd - 1] == 0:
            _class_axis(axis, P, name)          # raises: no classes
        return _run_rows(family, P, target, reduction, eps, weight, ignore_index,
                         label_smoothing, sample_weight, n_threads, want_grad, out, name,
                         None, nd - 1, req)
    return _run_positions(family, P, target, reduction, eps, weight, ignore_index,
                          label_smoothing, sample_weight, axis, n_threads, want_grad, out,
                          name, req)


@cython.wraparound(True)   # negative indices of Python tuples
cdef object _run_positions(int family, cnp.ndarray P, object target, object reduction,
                           object eps, object weight, object ignore_index,
                           object label_smoothing, object sample_weight, object axis,
                           object n_threads, bint want_grad, object out, str name,
                           _Request req):
    """Any pred: every argument checked against pred's shape and class
    axis, then the call made on (positions, C) rows by _run_rows.  Rows are
    views where the positions' strides allow, else C-ordered copies; float16
    and bfloat16 are read as float32, and their gradient rounds to their
    dtype."""
    cdef int ax = _class_axis(axis, P, name)
    cdef object out_rows = None
    shape = (<object>P).shape
    positions = shape[:ax] + shape[ax + 1:]
    n_classes = shape[ax]
    grad_dtype = P.dtype.newbyteorder("=") if _is_half(P.dtype) else None
    comp = _F32 if grad_dtype is not None else P.dtype
    # the scalar arguments, in the order _run_rows checks them
    if family == FAM_CE:
        _nonneg(eps, "eps")
    _reduction(reduction)
    _threads(n_threads)
    if family != FAM_MSE:
        _ignore_value(ignore_index)
        _smoothing(label_smoothing)
    # target
    if family == FAM_MSE:
        T = _real_or_half_array(target, "target")
        if T.shape != shape:
            raise ValueError(f"target shape {T.shape} does not match {name} shape {shape}")
        dense = True
    elif type(target) is int:
        if positions != ():
            raise ValueError(
                f"target shape () does not match {name} shape {shape}: expected "
                f"{positions} for class indices or {shape} for dense targets")
        T, dense = target, False
    else:
        T = _real_or_half_array(target, "target")
        dense = T.dtype.kind not in "iu"
        if not dense and T.shape != positions:
            raise _index_shape_error(T.shape, shape, name, ax, positions)
        if dense and T.shape == positions:
            raise TypeError(f"class indices must be integers, got target dtype {T.dtype}")
        if dense and T.shape != shape:
            raise ValueError(
                f"target shape {T.shape} does not match {name} shape {shape}: expected "
                f"{positions} for class indices or {shape} for dense targets")
        if dense and ignore_index is not None:
            raise ValueError(
                f"ignore_index={ignore_index!r} is only supported with class-index targets, "
                f"not with dense (one-hot or probability) targets")
    # weights
    if weight is not None:
        W = _real_array(weight, "weight")
        if W.shape != (n_classes,):
            raise ValueError(f"weight must have shape ({n_classes},), got shape {W.shape}")
    if sample_weight is not None:
        S = _real_or_half_array(sample_weight, "sample_weight")
        if S.shape != positions:
            raise ValueError(
                f"sample_weight shape {S.shape} does not match the positions' shape "
                f"{positions} ({name} shape {shape} without axis {ax})")
        sample_weight = S.reshape(-1) if S.ndim > 1 else S
    # out
    out_dtype = grad_dtype if grad_dtype is not None else comp
    if want_grad and out is not None:
        if not cnp.PyArray_Check(out):
            raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
        if out.dtype != out_dtype or not out.dtype.isnative:
            raise TypeError(f"out must have dtype {out_dtype}, got {out.dtype}")
        if out.shape != shape:
            raise ValueError(f"out must have shape {shape}, got shape {out.shape}")
        if not out.flags.writeable:
            raise ValueError("out must be writable, got a read-only array")
    # the same call on rows: a view of pred as rows, or as rows in slabs
    # (a channels-first batch), or in slabs of any layout (_nested_rows);
    # else (unaligned or byte-swapped pred) a C-ordered copy of the rows.
    # Half precision is read in place the same ways (native and aligned),
    # else through a float32 copy.
    cdef _Slabs held = None
    if grad_dtype is not None and not (P.dtype.isnative and P.flags.aligned):
        P = P.astype(_F32)
    rows = _rows_view(P, ax)
    if rows is None:
        rows = _slabs_view(P, ax)
    if rows is None and P.dtype.isnative and P.flags.aligned:
        rows, held = _nested_rows(P, ax)
    if rows is None:
        rows = _as_rows(P, ax)
    slabs = rows.ndim == 3
    real_target = T
    if dense:
        if _is_half(T.dtype):
            T = T.astype(comp)      # (exact: float32 holds every half value)
        if held is not None:
            # (the stand-in view must be read as it is: no conversion of it)
            if not (T.dtype == _F64 or T.dtype == _F32) or not T.dtype.isnative \
                    or not T.flags.aligned:
                T = T.astype(comp)
            real_target = T
            T = _nested_like(T, ax, held, ROWS_TARGET)
        else:
            view = _like_rows(T, ax, rows)
            T = view if view is not None else _as_rows(T, ax).reshape(rows.shape)
    elif type(T) is not int and (T.ndim > 1 or slabs):
        T = T.reshape(-1)
    if slabs and sample_weight is not None:
        sample_weight = sample_weight.reshape(rows.shape[:2])
    # the gradient goes straight into G where G has the rows' structure
    G = None
    filled = None
    if want_grad:
        G = out if out is not None else np.empty(shape, out_dtype)
        if held is not None:
            # an out that shares memory with an input, or is unaligned, is
            # filled from a new gradient (checked on the real arrays: the
            # stand-in views do not show every element's address)
            if out is not None and _needs_staging(G, (P, real_target, weight, sample_weight)):
                filled = G
                G = np.empty(shape, out_dtype)
            out_rows = _nested_like(G, ax, held, ROWS_GRAD)
        elif rows.dtype == G.dtype:
            out_rows = _like_rows(G, ax, rows)
    # (a gradient of our own, out_rows viewing a new G, needs no protection
    # from a bad label: _run_rows checks the labels first only for the
    # caller's out)
    result = _run_rows(family, rows, T, reduction, eps, weight, ignore_index,
                       label_smoothing, sample_weight, n_threads, want_grad, out_rows,
                       name, positions, ax, req, held, G is not out)
    if req is not None and (req.labels_only or req.bad >= 0):
        return None                         # kept in req, nothing to return
    loss = result[0] if want_grad else result
    if cnp.PyArray_Check(loss):             # "none": one loss per position
        loss = loss.reshape(positions)
    if not want_grad:
        return loss
    if out_rows is None:                    # a staged gradient: into G
        moved = _moved_last(G, ax)
        with np.errstate(over="ignore"):    # float32 beyond a half's range is inf, quietly
            moved[...] = result[1].reshape(moved.shape)
    if filled is not None:
        filled[...] = G
        G = filled
    return loss, G


cdef object _like_rows(object A, int axis, object rows):
    """A view of A (of pred's shape) with the structure of ``rows`` (rows,
    or rows in slabs, of the same shape), or None."""
    view = _rows_view(A, axis) if rows.ndim < 3 else _slabs_view(A, axis)
    if view is None or view.shape != rows.shape:
        return None
    return view


@cython.wraparound(True)   # negative indices of Python tuples
cdef object _run_rows(int family, cnp.ndarray P, object target, object reduction, object eps,
                      object weight, object ignore_index, object label_smoothing,
                      object sample_weight, object n_threads, bint want_grad, object out,
                      str name, object positions, int axis, _Request req=None,
                      _Slabs held=None, bint own_out=False):
    """Validate, set up a Job and run it: P is a native float32/float64 pred
    of one or two axes, the class axis last.  ``positions`` (the caller's
    positions' shape, None for P's own) only words a bad label's error.
    With ``req`` (a partial call) the block results are kept there, and a
    bad label is recorded there instead of raised.  With ``held``, P (and a
    dense target, and out) are the stand-in views of _nested_rows.
    ``own_out``: out is a new array of the caller's (_run_positions), not
    the user's, so a bad label may leave it half written."""
    cdef Job J
    cdef BlockResult total, first
    cdef cnp.ndarray O = None, R = None
    cdef int64_t scalar_label = 0
    cdef double D
    cdef int nt
    cdef bint need_first_pass
    cdef double divide_after = 0.0, multiply_after = 0.0
    cdef object staged_out = None
    cdef object T = None, W = None, S = None
    cdef double eps_value = 0.0
    memset(&J, 0, sizeof(Job))
    J.family = family
    J.grad_scale = 1.0
    _set_pred(&J, P)
    if held is not None:
        J.slabs = &held.s
    # the scalar arguments
    if family == FAM_CE:
        eps_value = _nonneg(eps, "eps")
    J.eps = eps_value
    cdef int red = _reduction(reduction)
    cdef int requested = _threads(n_threads)
    if family != FAM_MSE:
        ignore_index = _ignore_value(ignore_index)
        J.smoothing = _smoothing(label_smoothing)
    # target, weights, out
    if family == FAM_MSE:
        T = _dense_target(&J, target, P, name)
    else:
        T = _label_target(&J, target, P, name)
        _ignore(&J, ignore_index)
        W = _weights(&J, weight)
    if sample_weight is not None:
        S = _set_sample_weight(&J, sample_weight, P, axis)
    if want_grad:
        O = _grad_out(P, out)
        if out is not None and _needs_staging(O, (P, T, W, S)):
            staged_out = O
            O = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(P), cnp.PyArray_DIMS(P),
                                  cnp.PyArray_TYPE(P), 0)
        _set_grad(&J, O)
    # a Python int label of a single sample
    if family != FAM_MSE and not J.dense_target and J.labels == NULL:
        try:
            scalar_label = target
        except OverflowError:
            if ignore_index is None or target != ignore_index:
                raise IndexError(
                    f"target {target} is out of range for {J.n_classes} classes (row 0)"
                ) from None
            # a label beyond int64 that is ignore_index: the one row is ignored
            scalar_label = -1
            J.has_ignore_index = True
            J.ignore_signed = -1
        _set_scalar_label(&J, &scalar_label)
    if red == RED_NONE:
        R = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(P) - 1, cnp.PyArray_DIMS(P),
                              cnp.NPY_FLOAT if J.half else cnp.PyArray_TYPE(P), 0)
        J.row_loss = cnp.PyArray_DATA(R)
        J.row_loss_stride = 1
    cdef bint labels_checked = False
    cdef bint given = req is not None and req.has_divisor
    if req is not None:
        req.positions = positions if positions is not None else (<object>P).shape[:-1]
        req.n_classes = J.n_classes
        if req.labels_only:
            # the divisor pass alone: each block's share of the divisor
            J.family = FAM_LABELS
            _run_kept(&J, 1, &total, req)
            if total.bad >= 0:
                req.bad_label = _label_value(target, total.bad)
            return None
    if want_grad:
        if family == FAM_MSE and J.sample_weight == NULL:
            if red == RED_MEAN:
                # (a given divisor is the whole array's row count)
                J.grad_scale = 1.0 / ((req.divisor if given else <double>J.n_rows)
                                      * <double>J.n_classes)
            elif red == RED_NONE:
                J.grad_scale = 1.0 / <double>J.n_classes
        elif red == RED_MEAN:
            need_first_pass = ((not J.dense_target and (J.class_weight != NULL
                                                        or J.has_ignore_index))
                               or J.sample_weight != NULL)
            if given:
                # the whole array's divisor pass, from its pieces
                D = req.divisor
                if need_first_pass and family == FAM_MSE:
                    D = D * <double>J.n_classes
            elif need_first_pass:
                _label_pass(&J, &first, target, positions)
                D = first.div
                if family == FAM_MSE:
                    D = D * <double>J.n_classes
                labels_checked = True
            else:
                D = <double>J.n_rows
            J.grad_scale = 1.0 / D
            if D != 0.0 and D - D == 0.0 and J.grad_scale - J.grad_scale != 0.0:
                # 1 / D overflows for a subnormal D (a NaN or inf D, from sample
                # weights, is left to IEEE)
                if J.sample_weight != NULL:
                    # s_i / D: the rows are scaled by s_i / (D 2^600), exact in
                    # its powers of two, and the finished gradient by 2^600
                    # (s_i times 1, then divided, would lose a subnormal s_i's digits)
                    J.grad_scale = 1.0 / (D * TWO_600)
                    multiply_after = TWO_600
                else:
                    # divide the finished gradient
                    J.grad_scale = 1.0
                    divide_after = D
        elif red == RED_NONE and family == FAM_MSE:
            J.grad_scale = 1.0 / <double>J.n_classes
    if (want_grad and out is not None and not own_out and staged_out is None
            and J.labels != NULL and not labels_checked and req is None):
        # a bad label must leave the caller's out untouched, as the reference
        # does: check every label before the kernel writes a row
        _label_pass(&J, &first, target, positions)
    nt = _pick_threads(&J, requested)
    if req is None:
        _run_job(&J, nt, &total)
    else:
        _run_kept(&J, nt, &total, req)
    if total.bad >= 0:
        if req is not None:
            req.bad_label = _label_value(target, total.bad)
            return None
        _raise_bad_label(target, total.bad, J.n_classes, positions)
    if divide_after != 0.0:
        np.divide(O, divide_after, out=O)
    if multiply_after != 0.0:
        with np.errstate(over="ignore"):
            np.multiply(O, multiply_after, out=O)
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
