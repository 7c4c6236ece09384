# Argument handling: every check, conversion and error message of the public
# functions, and the set-up of a Job from the arguments.  Native, aligned
# float32/float64 arrays and integer label arrays of any layout are used in
# place; anything else (other dtypes, byte-swapped or unaligned buffers,
# array-likes) goes through one NumPy conversion.

cdef object _F32 = np.dtype(np.float32)
cdef object _F64 = np.dtype(np.float64)
cdef cnp.dtype _D32 = cnp.PyArray_DescrFromType(cnp.NPY_FLOAT)
cdef cnp.dtype _D64 = cnp.PyArray_DescrFromType(cnp.NPY_DOUBLE)
_REDUCTIONS = "'mean', 'sum', 'none'"


cdef inline bint _is_native_float(object a):
    """A float32/float64 ndarray that kernels can read in place."""
    cdef int tn
    if not cnp.PyArray_Check(a):
        return False
    tn = cnp.PyArray_TYPE(<cnp.ndarray>a)
    return ((tn == cnp.NPY_DOUBLE or tn == cnp.NPY_FLOAT)
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a)
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>a))


cdef inline bint _f64_in_place(object a):
    """A float64 ndarray that kernels can read as one contiguous run:
    native, aligned and C-ordered."""
    return (_is_native_float(a) and cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_DOUBLE
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a))


cdef inline bint _is_native_int(object a):
    if not cnp.PyArray_Check(a):
        return False
    return (cnp.PyArray_ISINTEGER(<cnp.ndarray>a)
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a)
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>a))


cdef object _NUMPY_FLOATS = (np.float16, np.float32, np.float64, np.longdouble)


cdef _real_array(object obj, str name):
    """np.asarray(obj), or TypeError if its dtype is not real (NumPy's own
    floats only: ml_dtypes' float8 types are floats too)."""
    arr = np.asarray(obj)
    if arr.dtype.kind not in "biu" and not (arr.dtype.kind == "f"
                                            and arr.dtype.type in _NUMPY_FLOATS):
        raise TypeError(
            f"unsupported dtype {arr.dtype} for {name}: expected a real "
            f"(bool, integer or floating) array")
    return arr


cdef inline bint _is_half(object dtype):
    """float16 (either byte order) or ml_dtypes' bfloat16, recognised by the
    dtype itself (no import of ml_dtypes)."""
    return (dtype.itemsize == 2 and (dtype.type is np.float16
                                     or (dtype.kind == "V" and dtype.name == "bfloat16")))


cdef _real_or_half_array(object obj, str name):
    """np.asarray(obj): a real array (bool, integers, floats, bfloat16), or
    TypeError."""
    arr = np.asarray(obj)
    return arr if _is_half(arr.dtype) else _real_array(arr, name)


cdef cnp.ndarray _to_dtype(object arr, object dt):
    """``arr`` (an ndarray) as a native, aligned array of dtype ``dt``."""
    if arr.dtype != dt:
        return arr.astype(dt)
    if not arr.flags.aligned:
        return arr.copy()
    return arr


cdef cnp.ndarray _coerce_pred(object pred, str name):
    cdef cnp.ndarray P
    if _is_native_float(pred):
        P = <cnp.ndarray>pred
    else:
        arr = _real_array(pred, name)
        if arr.dtype.kind == "f" and arr.dtype.itemsize == 4:
            P = _to_dtype(arr, _F32)
        else:
            P = _to_dtype(arr, _F64)
    cdef int nd = cnp.PyArray_NDIM(P)
    if nd != 1 and nd != 2:
        raise ValueError(
            f"{name} must have shape (N, C) or (C,), got shape {(<object>P).shape}")
    if cnp.PyArray_DIMS(P)[nd - 1] == 0:
        raise ValueError(
            f"{name} has 0 classes (shape {(<object>P).shape}); need at least one class")
    return P


cdef cnp.ndarray _pred_array(object pred, str name):
    """``pred`` of any shape: a native float32/float64 array as it is,
    float16 or bfloat16 as a native, aligned array of its dtype (read in
    place later), any other real dtype as float64."""
    if _is_native_float(pred):
        return <cnp.ndarray>pred
    arr = _real_or_half_array(pred, name)
    if _is_half(arr.dtype):
        if arr.dtype.isnative and arr.flags.aligned:
            return arr
        return arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype.kind == "f" and arr.dtype.itemsize == 4:
        return _to_dtype(arr, _F32)
    return _to_dtype(arr, _F64)


cdef cnp.ndarray _loss_pred(object pred, str name):
    """``pred`` of a class loss (_pred_array): at least one axis."""
    cdef cnp.ndarray P = _pred_array(pred, name)
    if cnp.PyArray_NDIM(P) == 0:
        raise ValueError(f"{name} must have at least one axis (the classes), got shape ()")
    return P


cdef int _class_axis(object axis, cnp.ndarray P, str name) except -1:
    """The class axis in [0, ndim): AxisError when out of range, TypeError
    when not an int; and the axis must hold at least one class."""
    cdef int nd = cnp.PyArray_NDIM(P)
    cdef Py_ssize_t a
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an int, got {axis!r}")
    if not -nd <= axis < nd:
        raise np.exceptions.AxisError(int(axis), nd)
    a = axis
    if a < 0:
        a += nd
    if cnp.PyArray_DIMS(P)[a] == 0:
        raise ValueError(f"{name} has 0 classes (shape {(<object>P).shape}, axis {a}); "
                         f"need at least one class")
    return <int>a


cdef object _moved_last(object A, int axis):
    """np.moveaxis(A, axis, -1), as one transpose in C (np.moveaxis's
    Python layer costs more than a small batch's loss)."""
    cdef cnp.npy_intp perm[64]
    cdef cnp.PyArray_Dims order
    cdef int nd = cnp.PyArray_NDIM(<cnp.ndarray>A), d, j = 0
    if axis == nd - 1:
        return A
    for d in range(nd):
        if d != axis:
            perm[j] = d
            j += 1
    perm[nd - 1] = axis
    order.ptr = perm
    order.len = nd
    return cnp.PyArray_Transpose(<cnp.ndarray>A, &order)


cdef object _strided_view(object A, object shape, object strides):
    """A view of A's memory from its first element with the given shape and
    strides (bytes), writeable where A is: np.lib.stride_tricks.as_strided
    without its Python layer.  The caller keeps the view inside A's
    memory."""
    cdef cnp.npy_intp dims[64]
    cdef cnp.npy_intp steps[64]
    cdef int nd = len(shape), d
    cdef cnp.ndarray base = <cnp.ndarray>A
    for d in range(nd):
        dims[d] = shape[d]
        steps[d] = strides[d]
    cdef cnp.dtype descr = <cnp.dtype>cnp.PyArray_DESCR(base)
    Py_INCREF(descr)                        # PyArray_NewFromDescr steals it
    view = PyArray_NewFromDescr(<PyTypeObject*>np.ndarray, descr, nd, dims, steps,
                                cnp.PyArray_DATA(base),
                                cnp.NPY_ARRAY_WRITEABLE if cnp.PyArray_ISWRITEABLE(base) else 0,
                                NULL)
    cnp.set_array_base(<cnp.ndarray>view, base)
    return view


@cython.wraparound(True)   # negative indices of Python tuples
cdef object _rows_view(object A, int axis):
    """An array of pred's shape as (positions, C) rows (class axis last,
    positions in C order) without a copy, or None where the positions'
    strides do not collapse into one."""
    moved = _moved_last(A, axis)
    if moved.ndim <= 2:
        return moved
    shape, strides = moved.shape, moved.strides
    n = 1
    for d in shape[:-1]:
        n *= d
    step = None
    inner = 0                               # the stride of the positions' flat index
    for d in range(moved.ndim - 2, -1, -1):
        if shape[d] == 1:
            continue
        if step is None:
            inner = strides[d]
        elif strides[d] != step:
            if n != 0:
                return None
        step = strides[d] * shape[d]
    return _strided_view(moved, (n, shape[-1]), (inner, strides[-1]))


@cython.wraparound(True)   # negative indices of Python tuples
cdef object _slabs_view(object A, int axis):
    """An array of pred's shape as rows in slabs, (slabs, rows a slab, C),
    without a copy: the innermost position axes that collapse into one
    stride are a slab's rows, the others (collapsing into one stride too)
    the slabs, as for a channels-first batch of images.  None where that
    does not exist.  (A block that runs across a slab's end is copied into
    scratch rows: _block_across_slabs.)"""
    moved = _moved_last(A, axis)
    dims = [(n, s) for n, s in zip(moved.shape[:-1], moved.strides[:-1]) if n != 1]
    if len(dims) < 2:
        return None
    m = len(dims) - 1                       # dims[m:] are a slab's rows
    inner, inner_stride = dims[m]
    while m > 0 and dims[m - 1][1] == dims[m][1] * dims[m][0]:
        m -= 1
        inner *= dims[m][0]
    if m == 0:
        return None
    outer, outer_stride = dims[m - 1]
    for d in range(m - 2, -1, -1):
        if dims[d][1] != outer_stride * outer:
            return None
        outer *= dims[d][0]
    return _strided_view(moved, (outer, inner, moved.shape[-1]),
                         (outer_stride, inner_stride, moved.strides[-1]))


@cython.final
@cython.auto_pickle(False)
cdef class _Slabs:
    """The SlabIndex of one call's rows in slabs of any layout (the job
    points into it while the call runs)."""
    cdef SlabIndex s


cdef object _nested_dims(object moved):
    """The position axes of an array with its class axis moved last, as
    (length, stride) pairs, axes of length 1 left out."""
    return [(n, s) for n, s in zip(moved.shape[:moved.ndim - 1], moved.strides[:moved.ndim - 1])
            if n != 1]


cdef object _nested_rows(object A, int axis):
    """An array of pred's shape whose positions collapse neither into one
    stride nor into slabs one stride apart (Fortran order, every other
    pixel row, ...), read in place all the same: (rows, slabs) where rows
    is _nested_like's stand-in view of A and slabs the _Slabs it fills, a
    slab's rows being the last position axis and the slabs the others.
    (None, None) where the rows or slabs views serve (fewer than three
    position axes)."""
    cdef _Slabs held
    cdef int d
    dims = _nested_dims(_moved_last(A, axis))
    if len(dims) < 3:
        return None, None
    held = _Slabs()
    held.s.nd = len(dims) - 1
    for d in range(held.s.nd):
        held.s.shape[d] = dims[d][0]
    return _nested_like(A, axis, held, ROWS_PRED), held


cdef object _nested_like(object A, int axis, _Slabs held, int which):
    """The (slabs, rows a slab, C) stand-in view of A (pred, a dense target
    or a gradient of pred's shape, native and aligned) for the slabs of
    _nested_rows, its slab strides recorded in ``held`` (ROWS_PRED,
    ROWS_TARGET or ROWS_GRAD).  Its slab stride is 0: the kernels find each
    slab through ``held``, and copy every block into scratch rows."""
    cdef Py_ssize_t itemsize = (<cnp.ndarray>A).itemsize
    cdef int d
    moved = _moved_last(A, axis)
    dims = _nested_dims(moved)
    n_slabs = 1
    for d in range(held.s.nd):
        if which == ROWS_PRED:
            held.s.pred[d] = dims[d][1] // itemsize
        elif which == ROWS_TARGET:
            held.s.target[d] = dims[d][1] // itemsize
        else:
            held.s.grad[d] = dims[d][1] // itemsize
        n_slabs *= held.s.shape[d]
    inner, inner_stride = dims[held.s.nd]
    C = moved.shape[moved.ndim - 1]
    return _strided_view(moved, (n_slabs, inner, C),
                         (0, inner_stride, moved.strides[moved.ndim - 1]))


@cython.wraparound(True)   # negative indices of Python tuples
cdef object _as_rows(object A, int axis):
    """_rows_view, or a C-ordered copy of the rows where the positions do
    not collapse into one stride."""
    rows = _rows_view(A, axis)
    if rows is None:
        moved = _moved_last(A, axis)
        rows = np.ascontiguousarray(moved).reshape(-1, moved.shape[-1])
    return rows


@cython.wraparound(True)   # shape[:-1]
cdef object _set_sample_weight(Job* J, object sample_weight, cnp.ndarray P, int axis):
    """Point the job at the per-row weights: native float32/float64 arrays
    in place (rounded to the computation dtype as the kernels read them),
    any other real array-like through one conversion; returns the array
    the job points into."""
    cdef cnp.ndarray S
    cdef int nd = cnp.PyArray_NDIM(P), snd
    if sample_weight is None:
        return None
    if _is_native_float(sample_weight):
        # the common shapes, checked without building shape tuples: (N,)
        # weights of (N, C) rows, or a 0-d weight of one (C,) row
        S = <cnp.ndarray>sample_weight
        snd = cnp.PyArray_NDIM(S)
        if (snd == 1 and nd == 2 and cnp.PyArray_DIMS(S)[0] == cnp.PyArray_DIMS(P)[0]) or \
                (snd == 0 and nd == 1):
            J.sample_weight = cnp.PyArray_DATA(S)
            J.sample_weight_f32 = cnp.PyArray_TYPE(S) == cnp.NPY_FLOAT
            J.sample_weight_stride = _estride(S, 0) if snd == 1 else 0
            return S
    pred_shape = (<object>P).shape
    positions = pred_shape[:-1]
    arr = _real_or_half_array(sample_weight, "sample_weight")
    if arr.shape != positions:
        raise ValueError(
            f"sample_weight shape {arr.shape} does not match the positions' shape "
            f"{positions} (pred shape {pred_shape} without axis {axis})")
    if cnp.PyArray_NDIM(<cnp.ndarray>arr) > 1:
        arr = arr.reshape(-1)
    S = _to_dtype(arr, _F32 if J.pred_f32 else _F64)
    J.sample_weight = cnp.PyArray_DATA(S)
    J.sample_weight_f32 = J.pred_f32
    J.sample_weight_stride = _estride(S, 0) if cnp.PyArray_NDIM(S) == 1 else 0
    return S


cdef inline Py_ssize_t _estride(cnp.ndarray a, int axis):
    """Stride of ``axis`` in elements (0 where the axis has length <= 1)."""
    if cnp.PyArray_DIMS(a)[axis] <= 1:
        return 0
    return cnp.PyArray_STRIDES(a)[axis] // cnp.PyArray_ITEMSIZE(a)


cdef void _set_pred(Job* J, cnp.ndarray P):
    """pred: (C,), (N, C), or rows in slabs (slabs, rows a slab, C)."""
    cdef int nd = cnp.PyArray_NDIM(P)
    cdef int tn = cnp.PyArray_TYPE(P)
    J.pred = cnp.PyArray_DATA(P)
    J.pred_f32 = tn == cnp.NPY_FLOAT
    if tn == cnp.NPY_FLOAT16:
        J.half = HALF_F16
        J.pred_f32 = True
    elif tn != cnp.NPY_DOUBLE and tn != cnp.NPY_FLOAT and _is_half(P.dtype):
        J.half = HALF_BF16
        J.pred_f32 = True
    if nd == 3:
        J.n_inner = cnp.PyArray_DIMS(P)[1]
        J.n_rows = cnp.PyArray_DIMS(P)[0] * J.n_inner
        J.n_classes = cnp.PyArray_DIMS(P)[2]
        J.pred_outer_stride = _estride(P, 0)
        J.pred_row_stride = _estride(P, 1)
        J.pred_col_stride = _estride(P, 2)
    elif nd == 2:
        J.n_rows = cnp.PyArray_DIMS(P)[0]
        J.n_classes = cnp.PyArray_DIMS(P)[1]
        J.pred_row_stride = _estride(P, 0)
        J.pred_col_stride = _estride(P, 1)
    else:
        J.n_rows = 1
        J.n_classes = cnp.PyArray_DIMS(P)[0]
        J.pred_row_stride = 0
        J.pred_col_stride = _estride(P, 0)


cdef inline cnp.ndarray _start_job(Job* J, int family, object pred, str name):
    """The first step of every call: a zeroed job of ``family`` (unscaled
    gradient) and ``pred`` read into it; returns the array it points into."""
    cdef cnp.ndarray P
    memset(J, 0, sizeof(Job))
    J.family = family
    J.grad_scale = 1.0
    P = _coerce_pred(pred, name)
    _set_pred(J, P)
    return P


cdef inline void _set_grad(Job* J, cnp.ndarray O):
    """Point the job's gradient output at ``O`` (pred's shape and dtype)."""
    J.grad = cnp.PyArray_DATA(O)
    if cnp.PyArray_NDIM(O) == 3:
        J.grad_outer_stride = _estride(O, 0)
        J.grad_row_stride = _estride(O, 1)
        J.grad_col_stride = _estride(O, 2)
    elif cnp.PyArray_NDIM(O) == 2:
        J.grad_row_stride = _estride(O, 0)
        J.grad_col_stride = _estride(O, 1)
    else:
        J.grad_col_stride = _estride(O, 0)


cdef inline void _set_scalar_label(Job* J, int64_t* label):
    """A single sample's Python int label, held by the caller as an int64."""
    J.labels = label
    J.label_size = 8
    J.label_unsigned = False


cdef void _set_dense(Job* J, cnp.ndarray T):
    J.dense_target = True
    J.target = cnp.PyArray_DATA(T)
    J.target_f32 = cnp.PyArray_TYPE(T) == cnp.NPY_FLOAT
    if cnp.PyArray_NDIM(T) == 3:
        J.target_outer_stride = _estride(T, 0)
        J.target_row_stride = _estride(T, 1)
        J.target_col_stride = _estride(T, 2)
    elif cnp.PyArray_NDIM(T) == 2:
        J.target_row_stride = _estride(T, 0)
        J.target_col_stride = _estride(T, 1)
    else:
        J.target_row_stride = 0
        J.target_col_stride = _estride(T, 0)


cdef inline bint _same_shape(cnp.ndarray a, cnp.ndarray b):
    cdef int nd = cnp.PyArray_NDIM(a), i
    if cnp.PyArray_NDIM(b) != nd:
        return False
    for i in range(nd):
        if cnp.PyArray_DIMS(a)[i] != cnp.PyArray_DIMS(b)[i]:
            return False
    return True


cdef inline bint _is_label_shape(cnp.ndarray T, cnp.ndarray P):
    """T's shape is (<object>P).shape[:-1]; for rows in slabs, (N,), one
    label a row."""
    cdef int nd = cnp.PyArray_NDIM(P)
    if nd == 3:
        return (cnp.PyArray_NDIM(T) == 1
                and cnp.PyArray_DIMS(T)[0] == cnp.PyArray_DIMS(P)[0] * cnp.PyArray_DIMS(P)[1])
    if cnp.PyArray_NDIM(T) != nd - 1:
        return False
    return nd == 1 or cnp.PyArray_DIMS(T)[0] == cnp.PyArray_DIMS(P)[0]


@cython.wraparound(True)   # shape[:-1]
cdef _shape_error(object target_shape, cnp.ndarray P, str name, bint labels_allowed):
    shape = (<object>P).shape
    if labels_allowed:
        return ValueError(
            f"target shape {target_shape} does not match {name} shape {shape}: "
            f"expected {shape[:-1]} for class indices or {shape} for dense targets")
    return ValueError(
        f"target shape {target_shape} does not match {name} shape {shape}")


cdef object _index_shape_error(object target_shape, object shape, str name, int axis,
                               object positions):
    """The ValueError of an integer target whose shape is not the
    positions'."""
    return ValueError(
        f"target shape {target_shape} does not match {name} shape {shape} with class "
        f"axis {axis}: integer targets are class indices of shape {positions} "
        f"(one-hot rows must be float or bool)")


cdef object _label_target(Job* J, object target, cnp.ndarray P, str name):
    """Set up ``target`` for a cross-entropy: class indices or a dense array.
    Returns the array the job points into (to keep it alive)."""
    cdef cnp.ndarray T
    cdef object dt = _F32 if J.pred_f32 else _F64
    if type(target) is int:
        if cnp.PyArray_NDIM(P) == 1:
            return target                 # a Python int label (checked in _run)
        raise _shape_error((), P, name, True)
    if _is_native_int(target):
        T = <cnp.ndarray>target
    elif _is_native_float(target) and _same_shape(<cnp.ndarray>target, P):
        T = <cnp.ndarray>target
        _set_dense(J, T)
        return T
    else:
        arr = np.asarray(target)
        kind = arr.dtype.kind
        if _is_half(arr.dtype):
            kind = "f"                       # bfloat16 is a float too
        if kind == "i" or kind == "u":
            if not arr.dtype.isnative or not arr.flags.aligned:
                arr = arr.astype(arr.dtype.newbyteorder("="))
            T = arr
        elif kind == "f" or kind == "b":
            T = arr
            if _is_label_shape(T, P):
                raise TypeError(
                    f"class indices must be integers, got target dtype {arr.dtype}")
            if not _same_shape(T, P):
                raise _shape_error(arr.shape, P, name, True)
            T = _to_dtype(arr, dt)
            _set_dense(J, T)
            return T
        else:
            raise TypeError(
                f"unsupported dtype {arr.dtype} for target: expected integer "
                f"class indices or a float array of {name}'s shape")
    if not _is_label_shape(T, P):
        raise _index_shape_error((<object>T).shape, (<object>P).shape, name,
                                 cnp.PyArray_NDIM(P) - 1,
                                 (<object>P).shape[:cnp.PyArray_NDIM(P) - 1])
    J.labels = cnp.PyArray_DATA(T)
    J.label_unsigned = cnp.PyArray_ISUNSIGNED(T)
    J.label_size = <int>cnp.PyArray_ITEMSIZE(T)
    J.label_stride = _estride(T, 0) if cnp.PyArray_NDIM(T) == 1 else 0
    return T


cdef object _dense_target(Job* J, object target, cnp.ndarray P, str name):
    """Set up the target of a squared error: exactly ``P``'s shape."""
    cdef cnp.ndarray T
    if _is_native_float(target) and _same_shape(<cnp.ndarray>target, P):
        T = <cnp.ndarray>target
    else:
        arr = _real_or_half_array(target, "target")
        if not _same_shape(arr, P):
            raise _shape_error(arr.shape, P, name, False)
        T = _to_dtype(arr, _F32 if J.pred_f32 else _F64)
    _set_dense(J, T)
    return T


cdef object _MEAN = "mean"           # (the defaults' interned strings: an
cdef object _SUM = "sum"             # identity test each, before comparing)
cdef object _NONE = "none"


cdef inline int _reduction(object reduction) except -1:
    if reduction is _MEAN:
        return RED_MEAN
    if reduction is _SUM:
        return RED_SUM
    if reduction is _NONE:
        return RED_NONE
    if isinstance(reduction, str):
        if reduction == "mean":
            return RED_MEAN
        if reduction == "sum":
            return RED_SUM
        if reduction == "none":
            return RED_NONE
    raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


cdef inline int _threads(object n_threads) except -1:
    """0 for automatic, else the requested count."""
    if n_threads is None:
        return 0
    if (isinstance(n_threads, (int, np.integer)) and not isinstance(n_threads, bool)
            and not isinstance(n_threads, np.timedelta64) and n_threads >= 1):
        # more threads than this only multiplies OS threads (the result is
        # the same for any count): 10**6 would start one per 256-row block
        return <int>min(n_threads, 256)
    raise ValueError(f"n_threads must be None or an int >= 1, got {n_threads!r}")


cdef object _weights(Job* J, object weight):
    """Point the job at the class weights, float64 values of the computation
    dtype: a native, aligned, contiguous float64 (C,) array of a float64
    pred in place, anything else through one conversion."""
    cdef cnp.ndarray W
    if weight is None:
        return None
    if not J.pred_f32 and _f64_in_place(weight):
        W = <cnp.ndarray>weight
        if cnp.PyArray_NDIM(W) == 1 and cnp.PyArray_DIMS(W)[0] == J.n_classes:
            J.class_weight = <const double*>cnp.PyArray_DATA(W)
            return W
    arr = _real_array(weight, "weight")
    if arr.shape != (J.n_classes,):
        raise ValueError(f"weight must have shape ({J.n_classes},), got shape {arr.shape}")
    w = np.ascontiguousarray(
        arr.astype(_F32 if J.pred_f32 else _F64).astype(np.float64))
    J.class_weight = <const double*>cnp.PyArray_DATA(<cnp.ndarray>w)
    return w


cdef object _INT64_MAX = int(np.iinfo(np.int64).max)


cdef inline object _ignore_value(object ignore_index):
    """``ignore_index`` checked: None or an int (not a bool)."""
    if ignore_index is None:
        return None
    if (isinstance(ignore_index, (bool, np.timedelta64))
            or not isinstance(ignore_index, (int, np.integer))):
        raise TypeError(
            f"ignore_index must be None or an int, got {type(ignore_index).__name__} "
            f"{ignore_index!r}")
    return ignore_index


cdef int _ignore(Job* J, object ignore_index) except -1:
    """Set up ``ignore_index`` (checked by _ignore_value): compared with each
    label as integers, so a value outside the label dtype's range never
    matches."""
    if ignore_index is None:
        return 0
    if J.dense_target:
        raise ValueError(
            f"ignore_index={ignore_index!r} is only supported with class-index targets, "
            f"not with dense (one-hot or probability) targets")
    cdef object ii = int(ignore_index)
    cdef object bits = 8 * J.label_size if J.labels != NULL else 64
    cdef object lo, hi
    if J.labels != NULL and J.label_unsigned:
        lo, hi = 0, (1 << bits) - 1
    else:                                      # a Python int label: int64
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if lo <= ii <= hi:                         # else it can never match
        J.has_ignore_index = True
        if ii > _INT64_MAX:                    # only uint64 labels get here
            J.ignore_unsigned = <uint64_t>ii
        else:
            J.ignore_signed = <int64_t>ii
            if ii >= 0:
                J.ignore_unsigned = <uint64_t>ii
    return 0


cdef inline double _real_number(object value, str name) except? -1:
    """``value`` as a double if it is a real number (numbers.Real: bool, int,
    float, NumPy scalars, Fraction), else TypeError; as the reference."""
    if type(value) is float:
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"{name} must be a real number, got {value!r}")


cdef inline double _nonneg(object value, str name) except? -1:
    cdef double v = _real_number(value, name)
    if not (v >= 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


cdef inline double _smoothing(object value) except? -1:
    cdef double v = _real_number(value, "label_smoothing")
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"label_smoothing must be in [0, 1], got {value!r}")
    return v


cdef cnp.ndarray _grad_out(cnp.ndarray P, object out):
    cdef cnp.ndarray O
    cdef int tn = cnp.PyArray_TYPE(P)
    if out is None:
        return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(P), cnp.PyArray_DIMS(P), tn, 0)
    if not cnp.PyArray_Check(out):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    O = <cnp.ndarray>out
    if cnp.PyArray_TYPE(O) != tn or not cnp.PyArray_ISNOTSWAPPED(O):
        raise TypeError(f"out must have dtype {P.dtype}, got {O.dtype}")
    if not _same_shape(O, P):
        raise ValueError(f"out must have shape {(<object>P).shape}, got shape {(<object>O).shape}")
    if not cnp.PyArray_ISWRITEABLE(O):
        raise ValueError("out must be writable, got a read-only array")
    return O


cdef bint _needs_staging(cnp.ndarray O, tuple inputs):
    """An unaligned ``out``, or one that shares memory with an input (the
    softmax kernel uses its gradient row as scratch), is filled through a
    temporary gradient copied into it at the end."""
    if not cnp.PyArray_ISALIGNED(O):
        return True
    for a in inputs:
        if cnp.PyArray_Check(a) and _extents_overlap(O, <cnp.ndarray>a):
            return True
    return False


cdef void _extent(cnp.ndarray a, char** lo, char** hi):
    """[lo, hi): the bytes a's elements can touch (empty if a is empty)."""
    cdef int d
    cdef Py_ssize_t n, step
    lo[0] = hi[0] = <char*>cnp.PyArray_DATA(a)
    for d in range(cnp.PyArray_NDIM(a)):
        n = cnp.PyArray_DIM(a, d)
        if n == 0:
            return
        step = cnp.PyArray_STRIDE(a, d) * (n - 1)
        if step < 0:
            lo[0] += step
        else:
            hi[0] += step
    hi[0] += cnp.PyArray_ITEMSIZE(a)


cdef bint _extents_overlap(cnp.ndarray a, cnp.ndarray b):
    """np.may_share_memory(a, b) (bounds only) without a Python call."""
    cdef char* alo
    cdef char* ahi
    cdef char* blo
    cdef char* bhi
    _extent(a, &alo, &ahi)
    _extent(b, &blo, &bhi)
    return alo < ahi and blo < bhi and alo < bhi and blo < ahi


cdef object _scalar(double v, bint f32):
    cdef float v32
    if f32:
        v32 = <float>v
        return PyArray_Scalar(&v32, _D32, None)
    return PyArray_Scalar(&v, _D64, None)


cdef object _label_value(object target, Py_ssize_t row):
    if type(target) is int:
        return target
    arr = np.asarray(target).reshape(-1)     # (N,), (N, 1), or one label for every row
    return int(arr[row if arr.size > 1 else 0])


cdef object _bad_label_error(object value, Py_ssize_t row, Py_ssize_t c, object positions):
    """The IndexError of the out-of-range label ``value`` in ``row``, one
    message for every path (fastloss.combine_partial_sums included); with
    two or more position axes (``positions``, their shape) it names the
    label's index tuple."""
    if positions is not None and len(positions) >= 2:
        where = "position " + str(tuple(int(i) for i in np.unravel_index(row, positions)))
    else:
        where = f"row {row}"
    return IndexError(f"target {value} is out of range for {c} classes ({where})")


cdef int _raise_bad_label(object target, Py_ssize_t row, Py_ssize_t c,
                          object positions=None) except -1:
    raise _bad_label_error(_label_value(target, row), row, c, positions)
