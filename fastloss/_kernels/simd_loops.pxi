# The C loops of fastloss/_simd (simd.h), as Cython sees them (exp, log, gathers, sums).

cdef extern from "_simd/simd.h":
    void fl_half_to_float(const uint16_t* h, float* f, Py_ssize_t n) noexcept nogil
    void fl_float_to_half(const float* f, uint16_t* h, Py_ssize_t n) noexcept nogil
    void fl_bf16_to_float(const uint16_t* h, float* f, Py_ssize_t n) noexcept nogil
    void fl_float_to_bf16(const float* f, uint16_t* h, Py_ssize_t n) noexcept nogil
    void fl_vlog(const double* x, double* y, Py_ssize_t n) noexcept nogil
    void fl_sbce(const double* x, const double* a, const double* b, const double* s,
                 Py_ssize_t n, double div, double* loss, double* grad,
                 double* scratch) noexcept nogil
    void fl_bce(const double* p, const double* a, const double* b, const double* s,
                Py_ssize_t n, double eps, double div, double* loss, double* grad,
                double* scratch) noexcept nogil
    void fl_products0(const double* u, const double* v, double* y, Py_ssize_t n) noexcept nogil
    void fl_prefetch(const void* base, Py_ssize_t offset) noexcept nogil
    void fl_vexp(const double* x, double* y, Py_ssize_t n) noexcept nogil
    int fl_vexp_lim(const double* x, double* y, Py_ssize_t n, double lim) noexcept nogil
    int fl_vexpf_lim(const float* x, double* y, Py_ssize_t n, float lim) noexcept nogil
    int fl_vexp_lim_runs(const double* x, Py_ssize_t xs, double* y, Py_ssize_t n,
                         Py_ssize_t runs, double lim) noexcept nogil
    int fl_labels_i64(const int64_t* t, Py_ssize_t n, int64_t C, int64_t ign, int has_ignore,
                      int64_t* out) noexcept nogil
    void fl_col_sums_but(double* e, Py_ssize_t n, Py_ssize_t C, const int64_t* lab,
                         double* s, double* ek) noexcept nogil
    int fl_col_expf_sums_but(const float* x, Py_ssize_t xs, Py_ssize_t n, Py_ssize_t C,
                             float lim, const int64_t* lab, double* s, double* ek,
                             float* e) noexcept nogil
    void fl_scale_cols_d(const double* e, Py_ssize_t n, Py_ssize_t C, const double* f,
                         double* g, Py_ssize_t gcs, const int64_t* lab,
                         const double* kv) noexcept nogil
    void fl_scale_cols_f(const float* e, Py_ssize_t n, Py_ssize_t C, const double* f,
                         float* g, Py_ssize_t gcs, const int64_t* lab,
                         const double* kv) noexcept nogil
    Py_ssize_t fl_nonzero_f64(const double* t, Py_ssize_t n, int32_t* out) noexcept nogil
    Py_ssize_t fl_nonzero_f32(const float* t, Py_ssize_t n, int32_t* out) noexcept nogil
    void fl_sq_lanes_dd(const double* p, const double* t, Py_ssize_t n, double* lanes) noexcept nogil
    void fl_sq_lanes_df(const double* p, const float* t, Py_ssize_t n, double* lanes) noexcept nogil
    void fl_sq_lanes_fd(const float* p, const double* t, Py_ssize_t n, double* lanes) noexcept nogil
    void fl_sq_lanes_ff(const float* p, const float* t, Py_ssize_t n, double* lanes) noexcept nogil
    void fl_shift_rows_d(const double* x, Py_ssize_t rows, Py_ssize_t C, Py_ssize_t rs,
                         double* a, double* m) noexcept nogil
    void fl_shift_rows_f(const float* x, Py_ssize_t rows, Py_ssize_t C, Py_ssize_t rs,
                         double* a, double* m) noexcept nogil
    void fl_row_sums(const double* e, Py_ssize_t rows, Py_ssize_t C, double* s) noexcept nogil
    void fl_onehot_cols_d(const double* t, Py_ssize_t rows, Py_ssize_t C, Py_ssize_t rs,
                          int32_t* col) noexcept nogil
    void fl_onehot_cols_f(const float* t, Py_ssize_t rows, Py_ssize_t C, Py_ssize_t rs,
                          int32_t* col) noexcept nogil
    void fl_vrdiv(double c, const double* b, double* y, Py_ssize_t n) noexcept nogil
    void fl_scale_rows_d(const double* e, Py_ssize_t rows, Py_ssize_t C, const double* f,
                         double* g, Py_ssize_t grs, const int64_t* lab,
                         const double* kv) noexcept nogil
    void fl_scale_rows_f(const double* e, Py_ssize_t rows, Py_ssize_t C, const double* f,
                         float* g, Py_ssize_t grs, const int64_t* lab,
                         const double* kv) noexcept nogil
    Py_ssize_t fl_weigh(const double* w, double* y, Py_ssize_t n) noexcept nogil
    void fl_tail_logs(const double* tl, const double* ek, double* ssum, double* lu,
                      double* lc, double* pk, Py_ssize_t n) noexcept nogil
    void fl_row_sums_but(const double* e, Py_ssize_t rows, Py_ssize_t C, const int64_t* lab,
                         double* s, double* ek) noexcept nogil
    Py_ssize_t fl_onehot_gather_dd(const double* p, Py_ssize_t prs, Py_ssize_t pcs,
                                   const double* t, Py_ssize_t trs, Py_ssize_t rows,
                                   Py_ssize_t C, double eps, double* q,
                                   double* pe, int32_t* col, int flat) noexcept nogil
    Py_ssize_t fl_onehot_gather_df(const double* p, Py_ssize_t prs, Py_ssize_t pcs,
                                   const float* t, Py_ssize_t trs, Py_ssize_t rows,
                                   Py_ssize_t C, double eps, double* q,
                                   double* pe, int32_t* col, int flat) noexcept nogil
    Py_ssize_t fl_onehot_gather_fd(const float* p, Py_ssize_t prs, Py_ssize_t pcs,
                                   const double* t, Py_ssize_t trs, Py_ssize_t rows,
                                   Py_ssize_t C, double eps, double* q,
                                   double* pe, int32_t* col, int flat) noexcept nogil
    Py_ssize_t fl_onehot_gather_ff(const float* p, Py_ssize_t prs, Py_ssize_t pcs,
                                   const float* t, Py_ssize_t trs, Py_ssize_t rows,
                                   Py_ssize_t C, double eps, double* q,
                                   double* pe, int32_t* col, int flat) noexcept nogil
    int fl_binprod_dd(const double* p, const double* t, Py_ssize_t L, double eps,
                      double* M, double* E) noexcept nogil
    int fl_binprod_df(const double* p, const float* t, Py_ssize_t L, double eps,
                      double* M, double* E) noexcept nogil
    int fl_binprod_fd(const float* p, const double* t, Py_ssize_t L, double eps,
                      double* M, double* E) noexcept nogil
    int fl_binprod_ff(const float* p, const float* t, Py_ssize_t L, double eps,
                      double* M, double* E) noexcept nogil
    int fl_binprod_sparse(const int32_t* u, const double* f, Py_ssize_t n,
                          double* M, double* E) noexcept nogil
    Py_ssize_t fl_count_ones_d(const double* t, Py_ssize_t L) noexcept nogil
    Py_ssize_t fl_count_ones_f(const float* t, Py_ssize_t L) noexcept nogil
    void fl_simd_init(int max_level) noexcept
    const char* fl_simd_name
