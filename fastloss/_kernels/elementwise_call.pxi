# The shared body of the binary cross-entropies: validate the arguments (pred,
# the scalar options, target, weight, pos_weight, sample_weight, out), describe
# the call as an element-wise Job (its rows are pred's elements in C order),
# run its blocks, package the result.  Every operand is read in place as an
# N-d strided array of pred's shape (weights broadcast by zero strides); only
# other dtypes, byte orders and unaligned buffers are converted.


cdef inline int _elem_kind(cnp.ndarray A):
    cdef int tn = cnp.PyArray_TYPE(A)
    if tn == cnp.NPY_DOUBLE:
        return EK_F64
    if tn == cnp.NPY_FLOAT:
        return EK_F32
    if tn == cnp.NPY_FLOAT16:
        return EK_F16
    return EK_BF16


cdef inline void _elem_strides(cnp.ndarray A, Py_ssize_t* out):
    """A's strides in elements (0 along an axis of length <= 1)."""
    cdef int d
    for d in range(cnp.PyArray_NDIM(A)):
        out[d] = _estride(A, d)


cdef void _elem_coalesce(Elementwise* E, int nd, const cnp.npy_intp* dims):
    """Drop the axes of length 1 and merge each axis into the one before it
    where every operand allows (stride of the outer = stride of the inner
    times its length), in place: a contiguous call becomes one axis."""
    cdef Py_ssize_t* ops[6]
    cdef int d, o, m = 0
    cdef bint merge
    ops[0] = E.pred_strides
    ops[1] = E.target_strides
    ops[2] = E.weight_strides
    ops[3] = E.pos_strides
    ops[4] = E.loss_strides
    ops[5] = E.grad_strides
    for d in range(nd):
        if dims[d] == 1:
            continue
        merge = m > 0
        if merge:
            for o in range(6):
                if ops[o][m - 1] != ops[o][d] * dims[d]:
                    merge = False
                    break
        if merge:
            E.shape[m - 1] *= dims[d]
            for o in range(6):
                ops[o][m - 1] = ops[o][d]
        else:
            E.shape[m] = dims[d]
            for o in range(6):
                ops[o][m] = ops[o][d]
            m += 1
    if m == 0:                          # 0-d, or every axis of length 1
        E.shape[0] = 1
        for o in range(6):
            ops[o][0] = 0
        m = 1
    E.nd = m


cdef object _elem_weight(object weight, str wname, cnp.ndarray P, object comp, str name,
                         Py_ssize_t* strides, double* value, const double** data):
    """``weight`` (or ``pos_weight``) as float64 values of the computation
    dtype, broadcast to pred's shape: its strides go to ``strides`` (0 along
    the axes it is broadcast over) and its first element's address to
    ``data``; the array it lies in is returned, for the job's lifetime.  A
    Python float with a float64 pred is stored in ``value`` (no array at
    all; None is returned).
    The broadcasting rule is checked here rather than by np.broadcast_to,
    whose Python layer costs more than a small batch's loss."""
    cdef cnp.ndarray A, V
    cdef int nd = cnp.PyArray_NDIM(P), an, lead, i
    cdef Py_ssize_t dim
    cdef bint ok
    if type(weight) is float and comp is _F64:
        value[0] = <double>weight
        for i in range(nd):
            strides[i] = 0
        data[0] = value
        return None
    if comp is _F64 and _f64_in_place(weight):
        A = <cnp.ndarray>weight                 # real: no dtype check to make
    else:
        A = _real_or_half_array(weight, wname)
    an = cnp.PyArray_NDIM(A)
    lead = nd - an
    ok = lead >= 0
    if ok:
        for i in range(an):
            dim = cnp.PyArray_DIMS(A)[i]
            if dim != 1 and dim != cnp.PyArray_DIMS(P)[lead + i]:
                ok = False
                break
    if not ok:
        raise ValueError(f"{wname} shape {(<object>A).shape} does not broadcast to {name} "
                         f"shape {(<object>P).shape}")
    if comp is _F64 and _f64_in_place(A):
        V = A
    else:
        with np.errstate(over="ignore"):     # beyond float32's range: inf, quietly
            V = np.asarray(A.astype(comp), dtype=_F64, order="C")    # (0-d stays 0-d)
    for i in range(lead):
        strides[i] = 0
    for i in range(an):
        strides[lead + i] = _estride(V, i)   # 0 where V's axis has length 1
    data[0] = <const double*>cnp.PyArray_DATA(V)
    return V


cdef object _run_binary(int family, object pred, object target, object reduction, object eps,
                        object weight, object pos_weight, object label_smoothing,
                        object sample_weight, object n_threads, bint want_grad, object out,
                        str name, _Request req=None):
    cdef Job J
    cdef Elementwise E
    cdef BlockResult total
    cdef cnp.ndarray P = _pred_array(pred, name)     # any shape, 0-d included
    cdef cnp.ndarray T, O = None, R = None, S = None
    cdef int nd = cnp.PyArray_NDIM(P), red, requested, nt, tn
    cdef Py_ssize_t size = cnp.PyArray_SIZE(P), n_samples, d
    cdef object W = None, Q = None, staged_out = None
    cdef bint f32
    memset(&J, 0, sizeof(Job))
    E.grad_div = 1.0
    J.family = family
    J.grad_scale = 1.0
    J.elem = &E
    E.pred = cnp.PyArray_DATA(P)
    E.pred_kind = _elem_kind(P)
    f32 = E.pred_kind != EK_F64
    comp = _F32 if f32 else _F64
    # the scalar arguments
    if family == FAM_BCE:
        J.eps = _nonneg(eps, "eps")
    red = _reduction(reduction)
    requested = _threads(n_threads)
    J.smoothing = _smoothing(label_smoothing)
    # target: exactly pred's shape, values of the computation dtype (a
    # float32 target of a float64 pred is read as it is: widening is exact)
    tn = cnp.PyArray_TYPE(<cnp.ndarray>target) if _is_native_float(target) else -1
    if (tn == cnp.NPY_DOUBLE and not f32) or tn == cnp.NPY_FLOAT:
        T = <cnp.ndarray>target
        if not _same_shape(T, P):
            raise ValueError(f"target shape {(<object>T).shape} does not match {name} shape "
                             f"{(<object>P).shape}")
    else:
        arr = _real_or_half_array(target, "target")
        if arr.shape != (<object>P).shape:
            raise ValueError(f"target shape {arr.shape} does not match {name} shape "
                             f"{(<object>P).shape}")
        with np.errstate(over="ignore"):     # beyond float32's range: inf, quietly
            T = _to_dtype(arr, comp)
    E.target = cnp.PyArray_DATA(T)
    E.target_kind = _elem_kind(T)
    # the weights
    for d in range(nd):
        E.weight_strides[d] = 0
        E.pos_strides[d] = 0
        E.loss_strides[d] = 0
        E.grad_strides[d] = 0
    E.weight = NULL
    E.pos_weight = NULL
    if weight is not None:
        W = _elem_weight(weight, "weight", P, comp, name, E.weight_strides,
                         &E.weight_value, &E.weight)
    if pos_weight is not None:
        Q = _elem_weight(pos_weight, "pos_weight", P, comp, name, E.pos_strides,
                         &E.pos_value, &E.pos_weight)
    n_samples = cnp.PyArray_DIMS(P)[0] if nd > 0 else 1
    E.per_sample = size // n_samples if n_samples > 0 else 1
    E.sample_weight = NULL
    if (sample_weight is not None and comp is _F64 and nd > 0
            and _f64_in_place(sample_weight)
            and cnp.PyArray_NDIM(<cnp.ndarray>sample_weight) == 1
            and cnp.PyArray_DIMS(<cnp.ndarray>sample_weight)[0] == n_samples):
        # the common case, checked without building shape tuples: read in place
        S = <cnp.ndarray>sample_weight
        E.sample_weight = <const double*>cnp.PyArray_DATA(S)
    elif sample_weight is not None:
        arr = _real_or_half_array(sample_weight, "sample_weight")
        expected = (<object>P).shape[:1]
        if arr.shape != expected:
            raise ValueError(
                f"sample_weight shape {arr.shape} does not match {expected}, the first axis "
                f"of {name} shape {(<object>P).shape}")
        if comp is _F64 and _f64_in_place(arr):
            S = arr
        else:
            with np.errstate(over="ignore"):
                S = np.ascontiguousarray(arr.astype(comp).astype(_F64))
        E.sample_weight = <const double*>cnp.PyArray_DATA(S)
    # out
    if want_grad:
        O = _grad_out(P, out)
        if out is not None and _needs_staging(O, (P, T, W, Q, S)):
            staged_out = O
            O = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(P), cnp.PyArray_TYPE(P), 0)
        E.grad = cnp.PyArray_DATA(O)
        E.grad_kind = E.pred_kind
        _elem_strides(O, E.grad_strides)
    else:
        E.grad = NULL
    if red == RED_NONE:
        R = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(P),
                              cnp.NPY_FLOAT if f32 else cnp.NPY_DOUBLE, 0)
        E.loss = cnp.PyArray_DATA(R)
        E.loss_kind = EK_F32 if f32 else EK_F64
        _elem_strides(R, E.loss_strides)
    else:
        E.loss = NULL
    if (W is None and Q is None and cnp.PyArray_IS_C_CONTIGUOUS(P)
            and cnp.PyArray_IS_C_CONTIGUOUS(T) and (O is None or cnp.PyArray_IS_C_CONTIGUOUS(O))):
        # every operand one C-ordered run ("none" is new and C-ordered; a
        # weight given as a Python float has strides 0): the one axis that
        # coalescing would give, without the walk over axes
        E.nd = 1
        E.shape[0] = size if size > 0 else 1
        E.pred_strides[0] = 1
        E.target_strides[0] = 1
        E.loss_strides[0] = 1
        E.grad_strides[0] = 1
        E.weight_strides[0] = 0
        E.pos_strides[0] = 0
    else:
        _elem_strides(P, E.pred_strides)
        _elem_strides(T, E.target_strides)
        _elem_coalesce(&E, nd, cnp.PyArray_DIMS(P))
    J.n_rows = size
    J.n_classes = 1
    if req is not None:
        req.positions = (<object>P).shape
        req.n_classes = 1
        if req.labels_only:
            # the divisor pass alone: each block's share of the divisor
            keep = np.empty((size + BLOCK - 1) // BLOCK, np.float64)
            _elem_divisor(&J, <double*>cnp.PyArray_DATA(<cnp.ndarray>keep))
            req.loss = np.zeros_like(keep)
            req.div = keep
            req.rows = size
            return None
    # a "mean" gradient needs the divisor first (M sum_i s_i, or the element
    # count), added as the blocks add it
    if red == RED_MEAN and want_grad:
        E.grad_div = req.divisor if req is not None and req.has_divisor else _elem_divisor(&J, NULL)
    nt = _pick_threads(&J, requested)
    if req is None:
        _run_job(&J, nt, &total)
    else:
        _run_kept(&J, nt, &total, req)
    if staged_out is not None:
        staged_out[...] = O
        O = staged_out
    if red == RED_NONE:
        loss = R
    elif red == RED_SUM:
        loss = _scalar(total.loss, f32)
    else:
        loss = _scalar(total.loss / total.div, f32)
    if want_grad:
        return loss, O
    return loss
