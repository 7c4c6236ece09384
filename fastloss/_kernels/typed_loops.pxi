# The typed face of the C loops.  fastloss/_simd has one function per storage
# dtype (suffix _d/_f or _f64/_f32) or per pair of pred and target dtypes
# (_dd, _df, _fd, _ff); the kernels are fused over pfloat (pred) and tfloat
# (target) and call these wrappers, so the choice of suffix is written here
# once.  Every branch is resolved at compile time, per specialization.


cdef inline int _binprod(const pfloat* p, const tfloat* t, Py_ssize_t L, double eps,
                         double* M, double* E) noexcept nogil:
    if pfloat is double and tfloat is double:
        return fl_binprod_dd(p, t, L, eps, M, E)
    elif pfloat is double and tfloat is float:
        return fl_binprod_df(p, t, L, eps, M, E)
    elif pfloat is float and tfloat is double:
        return fl_binprod_fd(p, t, L, eps, M, E)
    else:
        return fl_binprod_ff(p, t, L, eps, M, E)


cdef inline Py_ssize_t _onehot_gather(const pfloat* p, Py_ssize_t prs, Py_ssize_t pcs,
                                      const tfloat* t, Py_ssize_t trs, Py_ssize_t rows,
                                      Py_ssize_t C, double eps, double* q, double* pe,
                                      int32_t* col, int flat) noexcept nogil:
    if pfloat is double and tfloat is double:
        return fl_onehot_gather_dd(p, prs, pcs, t, trs, rows, C, eps, q, pe, col, flat)
    elif pfloat is double and tfloat is float:
        return fl_onehot_gather_df(p, prs, pcs, t, trs, rows, C, eps, q, pe, col, flat)
    elif pfloat is float and tfloat is double:
        return fl_onehot_gather_fd(p, prs, pcs, t, trs, rows, C, eps, q, pe, col, flat)
    else:
        return fl_onehot_gather_ff(p, prs, pcs, t, trs, rows, C, eps, q, pe, col, flat)


cdef inline void _sq_lanes_simd(const pfloat* p, const tfloat* t, Py_ssize_t n,
                                double* lanes) noexcept nogil:
    if pfloat is double and tfloat is double:
        fl_sq_lanes_dd(p, t, n, lanes)
    elif pfloat is double and tfloat is float:
        fl_sq_lanes_df(p, t, n, lanes)
    elif pfloat is float and tfloat is double:
        fl_sq_lanes_fd(p, t, n, lanes)
    else:
        fl_sq_lanes_ff(p, t, n, lanes)


cdef inline void _onehot_cols(const tfloat* t, Py_ssize_t rows, Py_ssize_t C, Py_ssize_t rs,
                              int32_t* col) noexcept nogil:
    if tfloat is double:
        fl_onehot_cols_d(t, rows, C, rs, col)
    else:
        fl_onehot_cols_f(t, rows, C, rs, col)


cdef inline Py_ssize_t _nonzero_run(const tfloat* t, Py_ssize_t n, int32_t* out) noexcept nogil:
    if tfloat is double:
        return fl_nonzero_f64(t, n, out)
    else:
        return fl_nonzero_f32(t, n, out)


cdef inline void _scale_rows(const double* e, Py_ssize_t rows, Py_ssize_t C, const double* f,
                             pfloat* g, Py_ssize_t grs, const int64_t* lab,
                             const double* kv) noexcept nogil:
    if pfloat is double:
        fl_scale_rows_d(e, rows, C, f, g, grs, lab, kv)
    else:
        fl_scale_rows_f(e, rows, C, f, g, grs, lab, kv)

