# Hooks for the tests: C routines exposed to Python so that tests can check
# them directly, on inputs the public functions rarely reach.

def _binary_product(p, t, double eps=1e-7, bint sparse=False):
    """For tests: fl_binprod over p and t as float64 (same size, read
    flattened, at most 2048 elements), the product form of a binary group's
    loss, or with sparse=True fl_binprod_sparse over the factors at t != 0
    (which must then all be 1).  None where it does not apply, else
    (M, E, loss) with the product of p + eps over t == 1 equal to M * 2**E
    and loss = -log of it."""
    cdef cnp.ndarray P = np.ascontiguousarray(p, dtype=np.float64).ravel()
    cdef cnp.ndarray T = np.ascontiguousarray(t, dtype=np.float64).ravel()
    cdef cnp.ndarray U, F
    cdef double M, E
    cdef int ok
    cdef Py_ssize_t n = cnp.PyArray_DIMS(P)[0]
    if cnp.PyArray_DIMS(T)[0] != n or n > CAP:
        raise ValueError(f"p and t must have the same size, at most {CAP}")
    if sparse:
        U = np.flatnonzero(T).astype(np.int32)
        F = np.ascontiguousarray(P[U] + eps)
        ok = fl_binprod_sparse(<const int32_t*>cnp.PyArray_DATA(U),
                               <const double*>cnp.PyArray_DATA(F), U.shape[0], &M, &E)
    else:
        ok = fl_binprod_dd(<const double*>cnp.PyArray_DATA(P),
                           <const double*>cnp.PyArray_DATA(T), n, eps, &M, &E)
    if not ok:
        return None
    return M, E, _bin_loss(M, E)


def _half_convert(bits_or_floats, str kind, bint to_float):
    """For tests: the half-precision conversions of this SIMD level.
    ``kind`` is "float16" or "bfloat16"; with to_float, uint16 bit
    patterns in and float32 values out, else float32 values in and uint16
    bit patterns out (rounded to nearest even)."""
    cdef cnp.ndarray a, out
    cdef Py_ssize_t n
    cdef bint f16 = kind == "float16"
    if not f16 and kind != "bfloat16":
        raise ValueError(f"kind must be 'float16' or 'bfloat16', got {kind!r}")
    if to_float:
        a = np.ascontiguousarray(bits_or_floats, dtype=np.uint16).ravel()
        n = a.shape[0]
        out = np.empty(n, np.float32)
        if f16:
            fl_half_to_float(<const uint16_t*>cnp.PyArray_DATA(a), <float*>cnp.PyArray_DATA(out), n)
        else:
            fl_bf16_to_float(<const uint16_t*>cnp.PyArray_DATA(a), <float*>cnp.PyArray_DATA(out), n)
    else:
        a = np.ascontiguousarray(bits_or_floats, dtype=np.float32).ravel()
        n = a.shape[0]
        out = np.empty(n, np.uint16)
        if f16:
            fl_float_to_half(<const float*>cnp.PyArray_DATA(a), <uint16_t*>cnp.PyArray_DATA(out), n)
        else:
            fl_float_to_bf16(<const float*>cnp.PyArray_DATA(a), <uint16_t*>cnp.PyArray_DATA(out), n)
    return out


def _exp_float32(x, float lim=80.0):
    """For tests: fl_vexpf_lim of this SIMD level, the float32 softmax's
    exp, over x as float32 (read flattened).  Returns (exps widened to
    float64, special): special is True where some |x| > lim or x is NaN,
    whose exps are not to be used."""
    cdef cnp.ndarray a = np.ascontiguousarray(x, dtype=np.float32).ravel()
    cdef Py_ssize_t n = a.shape[0]
    cdef cnp.ndarray out = np.empty(n, np.float64)
    cdef int special = fl_vexpf_lim(<const float*>cnp.PyArray_DATA(a),
                                    <double*>cnp.PyArray_DATA(out), n, lim)
    return out, bool(special)
