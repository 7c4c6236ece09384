# cython: language_level=3
"""Compiled kernels and argument handling of fastloss.

Design
------
A call goes through three layers, all in this module:

1. Argument handling (``_run``).  Each public function validates its
   arguments once, in C, and reduces them to a plain C struct (``Job``): raw
   data pointers, element strides, sizes and options.  Native, aligned
   float32/float64 arrays and integer label arrays of any layout are used in
   place; anything else (other dtypes, byte-swapped or unaligned buffers,
   array-likes) goes through one NumPy conversion.  Every argument, dtype and
   shape error is raised here, in the reference's order, before any kernel
   runs.

2. Blocks.  Rows are processed in fixed blocks of ``BLOCK`` rows.  Each block
   yields a ``BlockResult`` (its loss sum in float64, its divisor, its first bad
   label row).  Block sums are added in block order with a compensated sum,
   whether the blocks ran on one thread or many, so the result never depends
   on ``n_threads``.

3. Block kernels (``_ce_gather_plain_block``, ``_ce_dense_block``,
   ``_sce_block``, ``_mse_block``, ...).  One function per loss and target
   kind computes a block's row losses (and, when asked, its gradient rows) in
   double precision whatever the storage dtype.  Transcendentals go through
   the SIMD loops of ``_vmath.h`` on small stack buffers; every sum has an
   order fixed by the shape alone (lanes by row or element index), never by
   the memory layout, the vector width or the thread count, so any layout
   gives the bits of a contiguous copy.  The common cases have short paths:
   the gathered cross-entropy reads one element per row; dense targets that
   are all 0 or 1 take one product and one logarithm per group of rows
   (other one-hot targets one logarithm per row).

Labels are checked inside the block loop, before the row that uses them is
touched, so no label can make a kernel read or write outside an array.
"""

cimport cython
cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport log, log1p, exp, fabs, INFINITY
from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t,
                          uint8_t, uint16_t, uint32_t, uint64_t)
from libc.stdlib cimport malloc, free
from libc.string cimport memset

import numbers

import numpy as np

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void* data, cnp.dtype descr, object base)

cdef extern from "_config.h":
    int fl_max_threads() noexcept nogil
    const int fl_openmp_enabled


# ---------------------------------------------------------------------------
# Constants and the job description
# ---------------------------------------------------------------------------

cdef enum:
    BLOCK = 256                 # rows per block: fixes the summation order
    BIG_BYTES = 1 << 20         # a pred this big is read from memory (_big)
    PREFETCH_ROWS = 64          # ... and gathers prefetch this many rows ahead

cdef enum Reduction:
    RED_NONE = 0
    RED_SUM = 1
    RED_MEAN = 2

cdef enum Family:
    FAM_CE = 0                  # cross-entropy on probabilities
    FAM_SCE = 1                 # softmax cross-entropy on logits
    FAM_MSE = 2                 # squared error
    FAM_LABELS = 3              # label check and divisor only (first pass)
    FAM_SOFTMAX = 4             # the book's softmax (optionally with its loss)

# Below this many elements a call stays on one thread: starting a team costs
# more than the work (scikit-learn #30662).
cdef Py_ssize_t PARALLEL_MIN_ELEMENTS = 1 << 17

ctypedef struct Job:
    int family
    Py_ssize_t n, c
    # pred: float32 if p_f32 else float64; strides in elements
    const void* p
    Py_ssize_t p_rs, p_cs
    bint p_f32
    # dense target (float32 if t_f32 else float64)
    bint dense
    const void* t
    Py_ssize_t t_rs, t_cs
    bint t_f32
    # class-index labels: kind 'i' or 'u', size in bytes, stride in elements
    const void* lab
    Py_ssize_t lab_stride
    bint lab_unsigned
    int lab_size
    bint has_ignore
    int64_t ign_s
    uint64_t ign_u
    # options
    const double* w             # class weights, NULL when unweighted
    double eps
    double s                    # label smoothing
    # outputs: per-row losses ("none"), gradient
    void* row_out
    Py_ssize_t row_stride
    void* g
    Py_ssize_t g_rs, g_cs
    double g_scale              # 1 / D
    bint mse_row_mean           # "none" squared error: mean over the row

ctypedef struct BlockResult:
    double loss
    double div
    Py_ssize_t bad              # first row with an out-of-range label, or -1


# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------

ctypedef fused label_t:
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t
    uint16_t
    uint32_t
    uint64_t


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
    cdef Py_ssize_t c = J.c, stride = J.lab_stride
    cdef bint has_ignore = J.has_ignore, ignored
    cdef int64_t ign_s = J.ign_s
    cdef uint64_t ign_u = J.ign_u
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
    if J.lab_unsigned:
        if J.lab_size == 1:
            return _load_labels_typed(J, <const uint8_t*>J.lab, r0, r1, out)
        elif J.lab_size == 2:
            return _load_labels_typed(J, <const uint16_t*>J.lab, r0, r1, out)
        elif J.lab_size == 4:
            return _load_labels_typed(J, <const uint32_t*>J.lab, r0, r1, out)
        return _load_labels_typed(J, <const uint64_t*>J.lab, r0, r1, out)
    if J.lab_size == 1:
        return _load_labels_typed(J, <const int8_t*>J.lab, r0, r1, out)
    elif J.lab_size == 2:
        return _load_labels_typed(J, <const int16_t*>J.lab, r0, r1, out)
    elif J.lab_size == 4:
        return _load_labels_typed(J, <const int32_t*>J.lab, r0, r1, out)
    return _load_labels_typed(J, <const int64_t*>J.lab, r0, r1, out)


# ---------------------------------------------------------------------------
# Kernels
#
# Each block function handles rows [r0, r1) of one block and fills a
# BlockResult.  Transcendentals go through fl_vlog / fl_vexp (_vmath.h) on
# small stack buffers, so they run as SIMD loops; the arithmetic order of every
# sum (and of the binary targets' product, fl_binprod) is fixed by the code
# below and never by the memory layout, the vector width or the thread count.
# ---------------------------------------------------------------------------

cdef extern from "_simd/simd.h":
    void fl_vlog(const double* x, double* y, Py_ssize_t n) noexcept nogil
    void fl_prefetch(const void* base, Py_ssize_t offset) noexcept nogil
    void fl_vexp(const double* x, double* y, Py_ssize_t n) noexcept nogil
    int fl_vexp_lim(const double* x, double* y, Py_ssize_t n, double lim) noexcept nogil
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
    void fl_vdiv(const double* a, const double* b, double* y, Py_ssize_t n) noexcept nogil
    void fl_vrdiv(double c, const double* b, double* y, Py_ssize_t n) noexcept nogil
    void fl_scale_rows_d(const double* e, Py_ssize_t rows, Py_ssize_t C, const double* f,
                         double* g, Py_ssize_t grs, const int64_t* lab,
                         const double* kv) noexcept nogil
    void fl_scale_rows_f(const double* e, Py_ssize_t rows, Py_ssize_t C, const double* f,
                         float* g, Py_ssize_t grs, const int64_t* lab,
                         const double* kv) noexcept nogil
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
    void fl_vmath_init(int max_level) noexcept
    const char* fl_simd_name


def _simd_level():
    """The highest SIMD level to use: FASTLOSS_SIMD=baseline|avx2|avx512 caps
    it (to test or compare the slower loops on a fast CPU); unset, the best
    the CPU has."""
    import os
    import warnings
    levels = {"baseline": 0, "avx2": 1, "avx512": 2}
    name = os.environ.get("FASTLOSS_SIMD", "").strip().lower()
    if not name:
        return 2
    if name not in levels:
        warnings.warn(f"FASTLOSS_SIMD={name!r} is not one of {sorted(levels)}; "
                      "using the best the CPU has", RuntimeWarning, stacklevel=2)
        return 2
    return levels[name]


fl_vmath_init(_simd_level())

cdef enum:
    CAP = 2048                  # doubles per scratch buffer (on the stack)

# softmax rows whose logits all lie within +-DIRECT_MAX skip the shift by the
# row maximum: then exp(x) and any ratio of two such exps (up to CAP terms
# summed) stay normal doubles, far from overflow and underflow
cdef double DIRECT_MAX = 350.0

ctypedef fused pfloat:
    float
    double

ctypedef fused tfloat:
    float
    double


cdef inline double _coef_index(const Job* J, Py_ssize_t c, int64_t k) noexcept nogil:
    """w_c q'_c for class-index target k."""
    cdef double q = J.s / J.c
    if c == k:
        q = (1.0 - J.s) + J.s / J.c
    if J.w != NULL and q != 0.0:       # a zero target term is 0, even for an inf weight
        return J.w[c] * q
    return q


cdef inline double _coef_dense(const Job* J, Py_ssize_t c, double q) noexcept nogil:
    """w_c q'_c for a dense target value q (already in the computation dtype)."""
    if J.s != 0.0:
        q = (1.0 - J.s) * q + J.s / J.c
    if J.w != NULL and q != 0.0:       # a zero target term is 0, even for an inf weight
        return J.w[c] * q
    return q


cdef inline void _add4(double* acc4, Py_ssize_t i, double x) noexcept nogil:
    """Row sums go to four lanes by row index: four short dependency chains
    instead of one long one, in an order fixed by the rows alone."""
    acc4[i & 3] += x


cdef inline void _add4_run(double* acc4, Py_ssize_t i0, const double* x,
                           Py_ssize_t n) noexcept nogil:
    """_add4(acc4, i0 + u, x[u]) for u < n, the same additions in the same
    order, with the four lanes held in registers: _add4 in a loop keeps
    them in memory, a store-to-load chain of about 2 cycles a row."""
    cdef Py_ssize_t u = 0
    cdef double a0, a1, a2, a3
    while u < n and ((i0 + u) & 3) != 0:
        acc4[(i0 + u) & 3] += x[u]
        u += 1
    a0 = acc4[0]
    a1 = acc4[1]
    a2 = acc4[2]
    a3 = acc4[3]
    while u + 4 <= n:
        a0 += x[u]
        a1 += x[u + 1]
        a2 += x[u + 2]
        a3 += x[u + 3]
        u += 4
    acc4[0] = a0
    acc4[1] = a1
    acc4[2] = a2
    acc4[3] = a3
    while u < n:
        acc4[(i0 + u) & 3] += x[u]
        u += 1


cdef inline double _total4(const double* acc4) noexcept nogil:
    return (acc4[0] + acc4[1]) + (acc4[2] + acc4[3])


cdef inline void _zero_row(pfloat* g, Py_ssize_t C, Py_ssize_t gcs) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(C):
        g[j * gcs] = 0


cdef inline void _finish_row(const Job* J, Py_ssize_t row, double li, pfloat* rows) noexcept nogil:
    if rows != NULL:
        rows[row * J.row_stride] = <pfloat>li


cdef inline void _shift_group(const pfloat* x, Py_ssize_t rows, Py_ssize_t C,
                              Py_ssize_t rs, Py_ssize_t cs, double* a,
                              double* m) noexcept nogil:
    """a[i*C + j] = x[i, j] - max_j x[i, j] for a group of rows; m gets the
    maxima (exact, so the SIMD loop for unit strides changes no bit)."""
    cdef Py_ssize_t i
    if cs == 1:
        if pfloat is double:
            fl_shift_rows_d(x, rows, C, rs, a, m)
        else:
            fl_shift_rows_f(x, rows, C, rs, a, m)
        return
    for i in range(rows):
        m[i] = _row_max(x + i * rs, cs, C)
        _shift_row(x + i * rs, cs, C, m[i], a + i * C)


cdef inline void _copy_group(const pfloat* x, Py_ssize_t rows, Py_ssize_t C,
                             Py_ssize_t rs, Py_ssize_t cs, double* a) noexcept nogil:
    """a[i*C + j] = x[i, j] as doubles, for a group of rows."""
    cdef Py_ssize_t i, j
    if cs == 1 and rs == C:
        for i in range(rows * C):
            a[i] = x[i]
        return
    for i in range(rows):
        for j in range(C):
            a[i * C + j] = x[i * rs + j * cs]


cdef inline Py_ssize_t _wide_rows(const double* a, Py_ssize_t rows, Py_ssize_t C,
                                 unsigned char* wide) noexcept nogil:
    """wide[i] = 1 for the rows of a contiguous group with a value beyond
    +-DIRECT_MAX, or a NaN (else 0); returns how many."""
    cdef Py_ssize_t i, j, n = 0
    cdef double v
    for i in range(rows):
        wide[i] = 0
        for j in range(C):
            v = a[i * C + j]
            if not (v >= -DIRECT_MAX and v <= DIRECT_MAX):
                wide[i] = 1
        n += wide[i]
    return n


cdef inline double _exp_tail(const double* a, const double* e, Py_ssize_t C) noexcept nogil:
    """The sum of a shifted row's e_j without the maximum's own e = exp(0) =
    1, or -1 when no a_j is 0 (a row with inf or NaN)."""
    cdef Py_ssize_t j, jmax = -1
    cdef double tail = 0.0
    for j in range(C):
        if jmax < 0 and a[j] == 0.0:
            jmax = j
        else:
            tail += e[j]
    return tail if jmax >= 0 else -1.0


cdef inline bint _big(const Job* J, Py_ssize_t itemsize) noexcept nogil:
    """pred spans at least BIG_BYTES: beyond the caches, where a gather's
    loads wait for memory and the best loop shape changes."""
    cdef Py_ssize_t rs = J.p_rs if J.p_rs >= 0 else -J.p_rs
    return J.n * rs * itemsize >= BIG_BYTES


cdef inline Py_ssize_t _gather_typed(const Job* J, const label_t* t, const pfloat* p,
                                     Py_ssize_t r0, Py_ssize_t r1, double* pe) noexcept nogil:
    """pe[i - r0] = p[i, t_i] + eps for rows [r0, r1), checking each label
    before it is used; returns the first bad row or -1.

    On a pred too big for the caches, each row is prefetched PREFETCH_ROWS
    ahead: the label decides which line of a row is read, which the
    hardware prefetcher cannot follow (1e6 x 10: 7.1 -> 4.9 ms, near
    y[:, 0].sum())."""
    cdef Py_ssize_t i, c = J.c, stride = J.lab_stride, rs = J.p_rs, cs = J.p_cs
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


cdef void _ce_gather_plain_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                                 const pfloat* p, BlockResult* res) noexcept nogil:
    """The headline case (class indices; no weight, smoothing, ignore_index,
    gradient or per-row output): labels are read, checked and used in one
    loop, then one SIMD log pass and the sum (the same bits as
    _ce_gather_block)."""
    cdef double pe[BLOCK]
    cdef double lg[BLOCK]
    cdef double acc4[4]
    cdef Py_ssize_t i, bad, r = r1 - r0
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    if J.lab_unsigned:
        if J.lab_size == 1:
            bad = _gather_typed(J, <const uint8_t*>J.lab, p, r0, r1, pe)
        elif J.lab_size == 2:
            bad = _gather_typed(J, <const uint16_t*>J.lab, p, r0, r1, pe)
        elif J.lab_size == 4:
            bad = _gather_typed(J, <const uint32_t*>J.lab, p, r0, r1, pe)
        else:
            bad = _gather_typed(J, <const uint64_t*>J.lab, p, r0, r1, pe)
    else:
        if J.lab_size == 1:
            bad = _gather_typed(J, <const int8_t*>J.lab, p, r0, r1, pe)
        elif J.lab_size == 2:
            bad = _gather_typed(J, <const int16_t*>J.lab, p, r0, r1, pe)
        elif J.lab_size == 4:
            bad = _gather_typed(J, <const int32_t*>J.lab, p, r0, r1, pe)
        else:
            bad = _gather_typed(J, <const int64_t*>J.lab, p, r0, r1, pe)
    if bad >= 0:
        res.bad = bad
        return
    fl_vlog(pe, lg, r)
    for i in range(r):
        lg[i] = -lg[i]
    _add4_run(acc4, 0, lg, r)
    res.loss = _total4(acc4)
    res.div = <double>r


cdef void _ce_gather_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                           const int64_t* lab, const pfloat* p,
                           BlockResult* res) noexcept nogil:
    """Class indices, no weight, no smoothing: one element per row."""
    cdef double acc4[4]
    cdef double pe[BLOCK]
    cdef double lg[BLOCK]
    cdef Py_ssize_t i, k, r = r1 - r0
    cdef Py_ssize_t rs = J.p_rs, cs = J.p_cs, C = J.c, grs = J.g_rs, gcs = J.g_cs
    cdef double eps = J.eps, div = 0.0, li, scale = J.g_scale
    cdef pfloat* g = <pfloat*>J.g
    cdef pfloat* grow
    cdef pfloat* rows = <pfloat*>J.row_out
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    for i in range(r):
        k = lab[i]
        if k < 0:
            k = 0                   # ignored row: any in-bounds element
        pe[i] = <double>p[(r0 + i) * rs + k * cs] + eps
    fl_vlog(pe, lg, r)
    for i in range(r):
        k = lab[i]
        li = 0.0
        if k >= 0:
            li = -lg[i]
            _add4(acc4, i, li)
            div += 1.0
        if g != NULL:
            grow = g + (r0 + i) * grs
            _zero_row(grow, C, gcs)
            if k >= 0:
                grow[k * gcs] = <pfloat>((-1.0 / pe[i]) * scale)
        _finish_row(J, r0 + i, li, rows)
    res.loss = _total4(acc4)
    res.div = div


cdef inline double _row_max(const pfloat* x, Py_ssize_t cs, Py_ssize_t C) noexcept nogil:
    cdef Py_ssize_t j
    cdef double v, m = -INFINITY
    for j in range(C):
        v = x[j * cs]
        m = v if v > m else m
    return m


cdef inline void _shift_row(const pfloat* x, Py_ssize_t cs, Py_ssize_t C, double m,
                            double* a) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(C):
        a[j] = <double>x[j * cs] - m


cdef inline void _scaled_probs(const double* e, Py_ssize_t C, double factor,
                               pfloat* g, Py_ssize_t gcs) noexcept nogil:
    """g[j] = e[j] * factor: one multiply per element (no cancellation
    follows, so the reciprocal's last-bit error stays a last-bit error)."""
    cdef Py_ssize_t j
    for j in range(C):
        g[j * gcs] = <pfloat>(e[j] * factor)


cdef inline Py_ssize_t _nonzero_cols(const tfloat* t, Py_ssize_t tcs, Py_ssize_t C,
                                     Py_ssize_t base, int32_t* out) noexcept nogil:
    """Write base + j for the columns j with t[j] != 0 to ``out``; return their
    count.  Branch-free: one-hot rows make a branch per element unpredictable."""
    cdef Py_ssize_t j, n = 0
    for j in range(C):
        out[n] = <int32_t>(base + j)
        n += t[j * tcs] != 0
    return n


cdef double LN2_HI = 6.93147180369123816490e-01   # fdlibm's split: E * LN2_HI is
cdef double LN2_LO = 1.90821492927058770002e-10   # exact for |E| < 2**21
cdef double BIN_TOL = 1.0 / 256                   # see _bin_accurate


cdef inline double _bin_loss(double M, double E) noexcept nogil:
    """-log(M * 2**E), the loss of a binary group from fl_binprod."""
    return -(E * LN2_HI + (log(M) + E * LN2_LO))


cdef inline bint _bin_accurate(double v, Py_ssize_t n1) noexcept nogil:
    """Whether the product form's loss v of a group with n1 ones (or at
    most n1) is within 2**-45 relative.  Each multiplication that rounds
    errs by at most u = 2**-53 relative (half an ulp of 1), and those by
    1.0 are exact: fewer than m = n1 + min(n1, 32) - 1 round (a bound that
    overcounts the tree's), so the log of the product is off by at most
    m u; log(M) in [0, ln 2) and the addition of E ln 2 add at most 2 u and
    half an ulp of v.  (m + 2) u <= 2**-45 |v| is the test below.  A group
    of confident rows has a loss near 0, where that absolute error is large
    relative to v: it takes the per-row logs instead."""
    cdef Py_ssize_t m = n1 + (n1 if n1 < 32 else 32) - 1
    return fabs(v) >= <double>(m + 2) * BIN_TOL


cdef inline Py_ssize_t _count_ones(const tfloat* t, Py_ssize_t L, const pfloat* like) noexcept nogil:
    """The number of targets among L contiguous ones that are 1 in the
    computation dtype (pfloat, of `like`): n1 for _bin_accurate."""
    cdef Py_ssize_t u, n = 0
    if pfloat is float and tfloat is double:
        for u in range(L):
            n += <float>t[u] == 1
        return n
    elif tfloat is double:
        return fl_count_ones_d(t, L)
    else:
        return fl_count_ones_f(t, L)


cdef inline int _binary_packed(const Job* J, const pfloat* p, const tfloat* t,
                               Py_ssize_t n, double* loss) noexcept nogil:
    """fl_binprod over n packed rows: 1 with their loss, or -1 where some
    target is not 0 or 1, some p + eps is outside [+0, 2], or a running
    product falls below 2**-958."""
    cdef Py_ssize_t L = n * J.c
    cdef double M, E
    cdef int ok
    if pfloat is double:
        if tfloat is double:
            ok = fl_binprod_dd(p, t, L, J.eps, &M, &E)
        else:
            ok = fl_binprod_df(p, t, L, J.eps, &M, &E)
    else:
        if tfloat is double:
            ok = fl_binprod_fd(p, t, L, J.eps, &M, &E)
        else:
            ok = fl_binprod_ff(p, t, L, J.eps, &M, &E)
    if not ok:
        return -1
    loss[0] = _bin_loss(M, E)
    return 1


cdef void _ce_dense_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                          const pfloat* p, const tfloat* t, BlockResult* res) noexcept nogil:
    """Dense (one-hot or soft) targets without weight or smoothing, C <= CAP.
    The loss ("mean", "sum") of a group whose targets are all 0 or 1 is one
    product and one log (fl_binprod; _bin_accurate).  Otherwise: find the
    nonzero target terms of the group's rows, take their logs in one SIMD
    pass, then add each row's terms in column order (the order, hence the
    bits, of _ce_general_block)."""
    cdef double acc4[4]
    cdef double pe[CAP]
    cdef double q[CAP]
    cdef double lg[CAP]
    cdef int32_t idx[CAP + 4]           # offsets (i - g0) * C + j of the terms
    cdef int32_t col[CAP]
    cdef Py_ssize_t C = J.c, prs = J.p_rs, pcs = J.p_cs, trs = J.t_rs, tcs = J.t_cs
    cdef Py_ssize_t grs = J.g_rs, gcs = J.g_cs
    cdef Py_ssize_t G = CAP // C, r = r1 - r0
    cdef Py_ssize_t g0, g1, i, ii, j, u, nt, end
    cdef double eps = J.eps, scale = J.g_scale, s, sp = 0.0, gl = 0.0, bM, bE
    cdef bint binary, allone
    cdef int bstate
    cdef Py_ssize_t n1
    cdef int flat = not _big(J, sizeof(pfloat))
    cdef pfloat* g = <pfloat*>J.g
    cdef pfloat* grow = NULL
    cdef pfloat* rows = <pfloat*>J.row_out
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    g0 = 0
    while g0 < r:
        g1 = g0 + G
        if g1 > r:
            g1 = r
        # A binary group's loss is its product form, with or without the
        # gradient (*_and_grad's loss is the loss function's, bit for bit).
        # bstate: 0 not known yet, 1 binary with its loss in gl, -1 not
        # binary (or "none").  Packed rows are multiplied out in one pass;
        # the others, and the gradient, use the terms gathered below.
        bstate = -1 if rows != NULL else 0
        if (bstate == 0 and g == NULL and pcs == 1 and tcs == 1
                and (g1 - g0 == 1 or (prs == C and trs == C))):
            bstate = _binary_packed(J, p + (r0 + g0) * prs, t + (r0 + g0) * trs, g1 - g0, &gl)
            # accurate enough with n1 <= N C ones?  Else count them, unless
            # even one a row is too many (confident rows: the paths below
            # learn n1 anyway, and decide the same way)
            if bstate == 1 and not _bin_accurate(gl, (g1 - g0) * C):
                if not _bin_accurate(gl, g1 - g0):
                    binary = False
                else:
                    nt = _count_ones(t + (r0 + g0) * trs, (g1 - g0) * C, p)
                    binary = _bin_accurate(gl, nt)
                    if not binary:
                        bstate = -1
            else:
                binary = bstate == 1
            if binary:
                sp += gl
                g0 = g1
                continue
        if tcs == 1 and C <= 64 and g == NULL and rows == NULL:
            # forward loss: find each row's only nonzero and gather its term
            # in one pass; a group with any other row is redone below
            if pfloat is double:
                if tfloat is double:
                    nt = fl_onehot_gather_dd(p + (r0 + g0) * prs, prs, pcs, t + (r0 + g0) * trs,
                                             trs, g1 - g0, C, eps, q, pe, col, flat)
                else:
                    nt = fl_onehot_gather_df(p + (r0 + g0) * prs, prs, pcs, t + (r0 + g0) * trs,
                                             trs, g1 - g0, C, eps, q, pe, col, flat)
            else:
                if tfloat is double:
                    nt = fl_onehot_gather_fd(p + (r0 + g0) * prs, prs, pcs, t + (r0 + g0) * trs,
                                             trs, g1 - g0, C, eps, q, pe, col, flat)
                else:
                    nt = fl_onehot_gather_ff(p + (r0 + g0) * prs, prs, pcs, t + (r0 + g0) * trs,
                                             trs, g1 - g0, C, eps, q, pe, col, flat)
            if nt == 0:
                # one nonzero a row: col >= 0 where it is 1 (n1 of them), -2
                # where it is 0 in the computation dtype, -1 otherwise
                n1 = 0
                allone = bstate != -1
                if allone:
                    for i in range(g1 - g0):
                        if col[i] == -1:
                            allone = False
                            break
                        if col[i] >= 0:
                            idx[n1] = <int32_t>(i * C + col[i])
                            lg[n1] = pe[i]              # (lg: scratch here)
                            n1 += 1
                if bstate == 0:
                    bstate = -1
                    if allone and fl_binprod_sparse(idx, lg, n1, &bM, &bE):
                        gl = _bin_loss(bM, bE)
                        bstate = 1
                if bstate == 1 and _bin_accurate(gl, n1):
                    sp += gl
                    g0 = g1
                    continue
                fl_vlog(pe, lg, g1 - g0)
                for u in range(g1 - g0):
                    lg[u] = 0.0 - q[u] * lg[u]
                _add4_run(acc4, g0, lg, g1 - g0)
                g0 = g1
                continue
        if tcs == 1 and C <= 64:
            # one SIMD test per row finds its only nonzero (one-hot rows)
            if tfloat is double:
                fl_onehot_cols_d(t + (r0 + g0) * trs, g1 - g0, C, trs, col)
            else:
                fl_onehot_cols_f(t + (r0 + g0) * trs, g1 - g0, C, trs, col)
            nt = 0
            for i in range(g0, g1):
                if col[i - g0] >= 0:
                    idx[nt] = <int32_t>((i - g0) * C + col[i - g0])
                    nt += 1
                elif col[i - g0] == -2:
                    nt += _nonzero_cols(t + (r0 + i) * trs, 1, C, (i - g0) * C, idx + nt)
        elif tcs == 1 and (trs == C or g1 - g0 == 1):
            # the group's targets are one contiguous run
            if tfloat is double:
                nt = fl_nonzero_f64(t + (r0 + g0) * trs, (g1 - g0) * C, idx)
            else:
                nt = fl_nonzero_f32(t + (r0 + g0) * trs, (g1 - g0) * C, idx)
        else:
            nt = 0
            for i in range(g0, g1):
                nt += _nonzero_cols(t + (r0 + i) * trs, tcs, C, (i - g0) * C, idx + nt)
        # gather the terms, walking the rows in step; a target that is 0 in
        # the computation dtype (a float64 1e-50 for float32) is a zero
        # term, with p + eps taken as 1
        i = g0
        end = C
        for u in range(nt):
            while idx[u] >= end:
                i += 1
                end += C
            j = idx[u] - (end - C)
            q[u] = <double><pfloat>t[(r0 + i) * trs + j * tcs]
            pe[u] = <double>p[(r0 + i) * prs + j * pcs] + eps
            if q[u] == 0.0:
                pe[u] = 1.0
        binary = False
        if bstate != -1:
            allone = True
            n1 = 0
            for u in range(nt):
                n1 += q[u] == 1.0
                allone &= (q[u] == 1.0) | (q[u] == 0.0)
            if bstate == 0:
                if allone and fl_binprod_sparse(idx, pe, nt, &bM, &bE):
                    gl = _bin_loss(bM, bE)
                    bstate = 1
            binary = bstate == 1 and _bin_accurate(gl, n1)
        if binary:
            sp += gl
            if g == NULL:
                g0 = g1
                continue
        else:
            fl_vlog(pe, lg, nt)
        u = 0
        end = 0
        for i in range(g0, g1):
            ii = r0 + i
            end += C
            if g != NULL:
                grow = g + ii * grs
                _zero_row(grow, C, gcs)
            s = 0.0
            while u < nt and idx[u] < end:
                if not binary:
                    s -= q[u] * lg[u]
                if g != NULL and q[u] != 0.0:
                    grow[(idx[u] - (end - C)) * gcs] = <pfloat>((-q[u] / pe[u]) * scale)
                u += 1
            if not binary:
                _add4(acc4, i, s)
            _finish_row(J, ii, s, rows)
        g0 = g1
    res.loss = _total4(acc4) + sp
    res.div = <double>r


cdef void _ce_general_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                            const int64_t* lab, const pfloat* p, const tfloat* t,
                            BlockResult* res) noexcept nogil:
    """Dense targets, weights or smoothing: every element is read, but only
    the terms with a nonzero coefficient w_c q'_c take a logarithm."""
    cdef double acc4[4]
    cdef double pe[CAP + 1]
    cdef double cf[CAP + 1]
    cdef double lg[CAP]
    cdef int32_t trow[CAP + 1]
    cdef double rowsum[BLOCK]
    cdef Py_ssize_t i, j, u, ii, nt = 0, r = r1 - r0
    cdef Py_ssize_t C = J.c, prs = J.p_rs, pcs = J.p_cs, trs = J.t_rs, tcs = J.t_cs
    cdef Py_ssize_t grs = J.g_rs, gcs = J.g_cs
    cdef double eps = J.eps, scale = J.g_scale, div = 0.0, coef, pv
    cdef int64_t k = 0
    cdef bint dense = J.dense
    cdef pfloat* g = <pfloat*>J.g
    cdef pfloat* grow = NULL
    cdef pfloat* rows = <pfloat*>J.row_out
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    for i in range(r):
        rowsum[i] = 0.0
        ii = r0 + i
        if g != NULL:
            grow = g + ii * grs
        if not dense:
            k = lab[i]
            if k < 0:
                if grow != NULL:
                    _zero_row(grow, C, gcs)
                continue
        for j in range(C):
            if dense:
                coef = _coef_dense(J, j, <double><pfloat>t[ii * trs + j * tcs])
            else:
                coef = _coef_index(J, j, k)
            pv = <double>p[ii * prs + j * pcs] + eps
            pe[nt] = pv
            cf[nt] = coef
            trow[nt] = <int32_t>i
            nt += coef != 0.0
            if grow != NULL:
                grow[j * gcs] = <pfloat>(((-coef / pv) if coef != 0.0 else 0.0) * scale)
            if nt == CAP:
                fl_vlog(pe, lg, nt)
                for u in range(nt):
                    rowsum[trow[u]] -= cf[u] * lg[u]
                nt = 0
    fl_vlog(pe, lg, nt)
    for u in range(nt):
        rowsum[trow[u]] -= cf[u] * lg[u]
    for i in range(r):
        if dense:
            div += 1.0
        else:
            k = lab[i]
            if k < 0:
                _finish_row(J, r0 + i, 0.0, rows)
                continue
            div += J.w[k] if J.w != NULL else 1.0
        _add4(acc4, i, rowsum[i])
        _finish_row(J, r0 + i, rowsum[i], rows)
    res.loss = _total4(acc4)
    res.div = div


cdef inline void _shifted_log_args(const double* a, const double* e, const double* ssum,
                                   Py_ssize_t rows, Py_ssize_t C, double* lu,
                                   double* lc) noexcept nogil:
    """For rows shifted by their maximum (a) and their exps (e, row sums
    ssum): the SIMD log pass's argument lu and a correction lc, with
    log(lu) + lc = log(ssum).  ssum near 1 loses a confident row's digits:
    there, with T the sum without the maximum's e = 1, lu = 1 + T rounded and
    lc = d / lu with d = T - (lu - 1) its exact rounding error (Fast2Sum),
    log1p(T) to well under an ulp."""
    cdef Py_ssize_t i
    cdef double tail
    for i in range(rows):
        lu[i] = ssum[i]
        lc[i] = 0.0
        if ssum[i] < 1.25:
            tail = _exp_tail(a + i * C, e + i * C, C)
            if tail >= 0.0:
                lu[i] = 1.0 + tail
                lc[i] = (tail - (lu[i] - 1.0)) / lu[i]


cdef void _sce_wide_rows(const Job* J, const pfloat* x, Py_ssize_t r0, Py_ssize_t g0,
                         Py_ssize_t g1, const unsigned char* wide, const int64_t* lab,
                         double* a, double* ew, double* lse) noexcept nogil:
    """_sce_block's plain rows with a logit beyond +-DIRECT_MAX (or a NaN),
    flagged in ``wide``, that have a label: packed into a, each shifted by
    its maximum, then the shifted path of _sce_block (one SIMD exp pass into
    ew, row sums, log1p of a confident row's tail, one SIMD log pass).  Each
    row gets its loss in lse[i] and its gradient row (if any); every step is
    row by row or element by element, so a row's bits do not depend on
    which other rows are packed with it."""
    cdef double ws[BLOCK]
    cdef double lu[BLOCK]
    cdef double lc[BLOCK]
    cdef double lw[BLOCK]
    cdef Py_ssize_t C = J.c, rs = J.p_rs, cs = J.p_cs, grs = J.g_rs, gcs = J.g_cs
    cdef Py_ssize_t i, j, n = 0, u
    cdef double finv, scale = J.g_scale
    cdef int64_t k
    cdef pfloat* g = <pfloat*>J.g
    cdef pfloat* grow
    for i in range(g0, g1):
        if wide[i - g0] and lab[i] >= 0:
            _shift_row(x + (r0 + i) * rs, cs, C, _row_max(x + (r0 + i) * rs, cs, C), a + n * C)
            n += 1
    fl_vexp(a, ew, n * C)
    fl_row_sums(ew, n, C, ws)
    _shifted_log_args(a, ew, ws, n, C, lu, lc)
    fl_vlog(lu, lw, n)
    u = 0
    for i in range(g0, g1):
        if not (wide[i - g0] and lab[i] >= 0):
            continue
        k = lab[i]
        lse[i] = (lw[u] + lc[u]) - a[u * C + k]
        if g != NULL:
            grow = g + (r0 + i) * grs
            finv = scale / ws[u]
            for j in range(C):
                grow[j * gcs] = <pfloat>(ew[u * C + j] * finv)
            grow[k * gcs] = <pfloat>((ew[u * C + k] / ws[u] - 1.0) * scale)
        u += 1


cdef void _sce_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                     const int64_t* lab, const pfloat* x, const tfloat* t,
                     BlockResult* res) noexcept nogil:
    """Softmax cross-entropy, C <= CAP, a group of rows at a time: one SIMD
    exp pass over the group, row sums, one SIMD log pass, then the losses.

    Class indices without weight or smoothing (``plain``) take the logits as
    they are: the loss is log(1 + sum_{j != k} e_j / e_k), no row maximum is
    needed, and every exp is as accurate as exp itself.  That holds for rows
    within +-DIRECT_MAX; any other row (and a row with a NaN) is redone
    shifted by its maximum (_sce_wide_rows).  The dense, weighted and
    smoothed losses shift every row by its maximum first."""
    cdef double acc4[4]
    cdef double a[CAP]
    cdef double e[CAP]
    cdef double ew[CAP]                 # the exps of rows beyond +-DIRECT_MAX
    cdef double mrow[BLOCK]
    cdef double ssum[BLOCK]
    cdef double lse[BLOCK]
    cdef double ek[BLOCK]               # plain rows: e_k
    cdef double pk[BLOCK]               # and p_k = 1 / u
    cdef double finv[BLOCK]             # scale / ssum
    cdef double lu[BLOCK]               # log's argument: ssum, or 1 + T rounded
    cdef double lc[BLOCK]               # and the correction for that rounding
    cdef double tl[BLOCK]               # unshifted rows: sum_{j != k} e_j
    cdef double tq[BLOCK]               # and that over e_k
    cdef double kv[BLOCK]               # the gradient's label entries
    cdef Py_ssize_t C = J.c, rs = J.p_rs, cs = J.p_cs, trs = J.t_rs, tcs = J.t_cs
    cdef Py_ssize_t grs = J.g_rs, gcs = J.g_cs
    cdef Py_ssize_t G = CAP // C, r = r1 - r0
    cdef Py_ssize_t g0, g1, i, j, ii, base, kept
    cdef double s, li, coef, coef_sum, big, div = 0.0, scale = J.g_scale
    cdef int64_t k = 0
    cdef bint dense = J.dense
    cdef bint plain = not dense and J.w == NULL and J.s == 0.0
    cdef Py_ssize_t nwide = 0
    cdef unsigned char wide[CAP]        # rows beyond +-DIRECT_MAX (or with a NaN)
    cdef const double* src
    cdef pfloat* g = <pfloat*>J.g
    cdef pfloat* grow = NULL
    cdef pfloat* rows = <pfloat*>J.row_out
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    g0 = 0
    while g0 < r:
        g1 = g0 + G
        if g1 > r:
            g1 = r
        if plain:
            # the logits as they are (see the doc above); a row with a logit
            # beyond +-DIRECT_MAX, or a NaN, is redone shifted by its maximum
            # (_sce_wide_rows), so that every row's bits depend on that row
            # alone
            if pfloat is double and cs == 1 and rs == C:
                src = <const double*>x + (r0 + g0) * rs
            else:                       # the same doubles, so the same bits
                _copy_group(x + (r0 + g0) * rs, g1 - g0, C, rs, cs, a)
                src = a
            nwide = 0
            if fl_vexp_lim(src, e, (g1 - g0) * C, DIRECT_MAX):
                nwide = _wide_rows(src, g1 - g0, C, wide)
            # the row sums leave the label's e_k out: the tails T_i =
            # sum_{j != k} e_j, and ssum = T_i + e_k.  The loss
            # log(1 + T_i / e_k) is log(u) + d / u, u = 1 + T_i / e_k rounded
            # and d its exact rounding error (2Sum, whichever term is larger):
            # to well under an ulp whether the row is confident (the sum near
            # 1) or not, with no branch and one SIMD log pass for every row.
            # p_k is 1 / u (and d / u is d * p_k): for a confident row that is
            # 1 / (1 + sum_{j != k} exp(x_j - x_k)) rounded as the usual shift
            # by the maximum rounds it, so the gradient's p_k - 1 cancels to
            # the same value
            fl_row_sums_but(e, g1 - g0, C, &lab[g0], &tl[g0], &ek[g0])
            fl_vdiv(&tl[g0], &ek[g0], &tq[g0], g1 - g0)
            for i in range(g0, g1):
                ssum[i] = tl[i] + ek[i]
                lu[i] = 1.0 + tq[i]
                big = lu[i] - tq[i]
                lc[i] = (1.0 - big) + (tq[i] - (lu[i] - big))
            fl_vrdiv(1.0, &lu[g0], &pk[g0], g1 - g0)
            for i in range(g0, g1):
                lc[i] = lc[i] * pk[i]
        else:
            # shifted rows: log(ssum), log1p of the tail for confident rows
            _shift_group(x + (r0 + g0) * rs, g1 - g0, C, rs, cs, a, mrow)
            fl_vexp(a, e, (g1 - g0) * C)
            fl_row_sums(e, g1 - g0, C, &ssum[g0])
            _shifted_log_args(a, e, &ssum[g0], g1 - g0, C, &lu[g0], &lc[g0])
        fl_vlog(&lu[g0], &lse[g0], g1 - g0)
        for i in range(g0, g1):
            lse[i] = lse[i] + lc[i]
        if plain and g != NULL:
            fl_vrdiv(scale, &ssum[g0], &finv[g0], g1 - g0)
            if gcs == 1:
                # every row's p_j * scale, and at the label (p_k - 1) * scale,
                # in one pass; ignored rows get zeros
                for i in range(g0, g1):
                    kv[i] = (pk[i] - 1.0) * scale
                if pfloat is double:
                    fl_scale_rows_d(e, g1 - g0, C, &finv[g0], g + (r0 + g0) * grs, grs,
                                    &lab[g0], &kv[g0])
                else:
                    fl_scale_rows_f(e, g1 - g0, C, &finv[g0], g + (r0 + g0) * grs, grs,
                                    &lab[g0], &kv[g0])
        if nwide != 0:
            _sce_wide_rows(J, x, r0, g0, g1, wide, lab, a, ew, lse)
        if plain and rows == NULL and (g == NULL or gcs == 1):
            # the common cases, forward and training step: g is complete; the
            # row losses lse are added in one run (an ignored row's as +0.0,
            # which changes no lane)
            kept = g1 - g0              # (an integer: div lives in memory)
            if J.has_ignore:            # (only then can a label be -1)
                for i in range(g0, g1):
                    if lab[i] < 0:
                        lse[i] = 0.0
                        kept -= 1
            div += <double>kept
            _add4_run(acc4, g0, &lse[g0], g1 - g0)
            g0 = g1
            continue
        for i in range(g0, g1):
            ii = r0 + i
            base = (i - g0) * C
            if g != NULL:
                grow = g + ii * grs
            if not dense:
                k = lab[i]
                if k < 0:
                    if grow != NULL:
                        _zero_row(grow, C, gcs)
                    _finish_row(J, ii, 0.0, rows)
                    continue
            if plain:
                li = lse[i]
                # (a wide row's gradient is written by _sce_wide_rows)
                if grow != NULL and not (nwide != 0 and wide[i - g0]):
                    if gcs != 1:
                        _scaled_probs(e + base, C, finv[i], grow, gcs)
                    grow[k * gcs] = <pfloat>((pk[i] - 1.0) * scale)
                div += 1.0
            else:
                li = 0.0
                coef_sum = 0.0
                for j in range(C):
                    if dense:
                        coef = _coef_dense(J, j, <double><pfloat>t[ii * trs + j * tcs])
                    else:
                        coef = _coef_index(J, j, k)
                    coef_sum += coef
                    if coef != 0.0:
                        li += coef * (lse[i] - a[base + j])
                if grow != NULL:
                    s = ssum[i]
                    for j in range(C):
                        if dense:
                            coef = _coef_dense(J, j, <double><pfloat>t[ii * trs + j * tcs])
                        else:
                            coef = _coef_index(J, j, k)
                        grow[j * gcs] = <pfloat>(((e[base + j] / s) * coef_sum - coef) * scale)
                if dense:
                    div += 1.0
                else:
                    div += J.w[k] if J.w != NULL else 1.0
            _add4(acc4, i, li)
            _finish_row(J, ii, li, rows)
        g0 = g1
    res.loss = _total4(acc4)
    res.div = div


cdef double _sce_row_wide(const Job* J, const pfloat* x, const tfloat* t, int64_t k,
                          pfloat* g) noexcept nogil:
    """Softmax cross-entropy of one row with C > CAP (scalar libm path)."""
    cdef Py_ssize_t j, C = J.c, cs = J.p_cs, gcs = J.g_cs, tcs = J.t_cs
    cdef double m = -INFINITY, v, e, ssum = 0.0, tsum = 0.0, lse, loss = 0.0
    cdef double coef, coef_sum = 0.0, scale = J.g_scale
    cdef Py_ssize_t jmax
    for j in range(C):
        v = x[j * cs]
        if v > m:
            m = v
    jmax = -1
    for j in range(C):
        e = exp(<double>x[j * cs] - m)
        if jmax < 0 and <double>x[j * cs] - m == 0.0:
            jmax = j                    # its e = 1 stays out of T (see _sce_block)
        else:
            tsum += e
    if jmax >= 0:
        ssum = 1.0 + tsum
        lse = log1p(tsum)
    else:
        ssum = tsum
        lse = log(ssum)
    for j in range(C):
        if t == NULL:
            coef = _coef_index(J, j, k)
        else:
            coef = _coef_dense(J, j, <double><pfloat>t[j * tcs])
        coef_sum += coef
        if coef != 0.0:
            loss += coef * (lse - (<double>x[j * cs] - m))
    if g != NULL:
        for j in range(C):
            if t == NULL:
                coef = _coef_index(J, j, k)
            else:
                coef = _coef_dense(J, j, <double><pfloat>t[j * tcs])
            # exp again rather than kept in g: a float32 g would flush tiny ones
            e = exp(<double>x[j * cs] - m)
            g[j * gcs] = <pfloat>(((e / ssum) * coef_sum - coef) * scale)
    return loss


cdef void _sce_wide_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                          const int64_t* lab, const pfloat* x, const tfloat* t,
                          BlockResult* res) noexcept nogil:
    cdef double acc4[4]
    cdef Py_ssize_t i
    cdef double li, div = 0.0
    cdef int64_t k = 0
    cdef pfloat* g = <pfloat*>J.g
    cdef pfloat* grow = NULL
    cdef const tfloat* trow = NULL
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    for i in range(r0, r1):
        if g != NULL:
            grow = g + i * J.g_rs
        if J.dense:
            trow = t + i * J.t_rs
            div += 1.0
        else:
            k = lab[i - r0]
            if k < 0:
                if grow != NULL:
                    _zero_row(grow, J.c, J.g_cs)
                _finish_row(J, i, 0.0, <pfloat*>J.row_out)
                continue
            div += J.w[k] if J.w != NULL else 1.0
        li = _sce_row_wide(J, x + i * J.p_rs, trow, k, grow)
        _add4(acc4, i, li)
        _finish_row(J, i, li, <pfloat*>J.row_out)
    res.loss = _total4(acc4)
    res.div = div


cdef inline void _sq_lanes(const pfloat* p, const tfloat* t, Py_ssize_t n, double* lanes,
                           pfloat* g, double scale) noexcept nogil:
    """lanes[f % 8] += (p[f] - t[f])**2 over contiguous p, t (and g)."""
    cdef Py_ssize_t f, l, n8 = n - (n & 7)
    cdef double d
    if g == NULL:                       # the SIMD loop of _vmath.h
        if pfloat is double and tfloat is double:
            fl_sq_lanes_dd(p, t, n, lanes)
        elif pfloat is double and tfloat is float:
            fl_sq_lanes_df(p, t, n, lanes)
        elif pfloat is float and tfloat is double:
            fl_sq_lanes_fd(p, t, n, lanes)
        else:
            fl_sq_lanes_ff(p, t, n, lanes)
        return
    for f in range(0, n8, 8):
        for l in range(8):
            d = <double>p[f + l] - <double><pfloat>t[f + l]
            lanes[l] += d * d
            g[f + l] = <pfloat>((2.0 * d) * scale)
    for f in range(n8, n):
        d = <double>p[f] - <double><pfloat>t[f]
        lanes[f & 7] += d * d
        g[f] = <pfloat>((2.0 * d) * scale)


cdef void _mse_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                     const pfloat* p, const tfloat* t, BlockResult* res) noexcept nogil:
    """Squared error.  Sum and mean: the block's elements, in row-major
    order f = (i - r0) * C + j, go to eight lanes by f % 8, added in a fixed
    tree at the end; contiguous blocks are one SIMD loop and any other
    layout visits the same f in the same order.  "none" sums each row in
    column order."""
    cdef double acc4[4]
    cdef double lanes[8]
    cdef Py_ssize_t C = J.c, prs = J.p_rs, pcs = J.p_cs, trs = J.t_rs, tcs = J.t_cs
    cdef Py_ssize_t grs = J.g_rs, gcs = J.g_cs
    cdef Py_ssize_t i, j, f, r = r1 - r0
    cdef double d, s, scale = J.g_scale
    cdef pfloat* g = <pfloat*>J.g
    cdef pfloat* rows = <pfloat*>J.row_out
    cdef bint flat
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    if rows != NULL:
        for i in range(r0, r1):
            s = 0.0
            for j in range(C):
                d = <double>p[i * prs + j * pcs] - <double><pfloat>t[i * trs + j * tcs]
                s += d * d
                if g != NULL:
                    g[i * grs + j * gcs] = <pfloat>((2.0 * d) * scale)
            rows[i * J.row_stride] = <pfloat>(s / C)
            _add4(acc4, i, s)
    else:
        for j in range(8):
            lanes[j] = 0.0
        flat = (pcs == 1 and tcs == 1 and (g == NULL or gcs == 1)
                and ((prs == C and trs == C and (g == NULL or grs == C)) or r == 1))
        if flat:
            _sq_lanes(p + r0 * prs, t + r0 * trs, r * C, lanes,
                      g + r0 * grs if g != NULL else NULL, scale)
        else:
            f = 0
            for i in range(r0, r1):
                for j in range(C):
                    d = <double>p[i * prs + j * pcs] - <double><pfloat>t[i * trs + j * tcs]
                    lanes[f & 7] += d * d
                    if g != NULL:
                        g[i * grs + j * gcs] = <pfloat>((2.0 * d) * scale)
                    f += 1
        acc4[0] = (((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
               + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])))
    res.loss = _total4(acc4)
    res.div = <double>r * <double>C


cdef void _softmax_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                         const int64_t* lab, const pfloat* x, BlockResult* res) noexcept nogil:
    """The book's softmax into J.g and, with labels, -log(y[i, t_i] + eps)."""
    cdef double acc4[4]
    cdef double a[CAP]
    cdef double e[CAP]
    cdef double mrow[BLOCK]
    cdef double ssum[BLOCK]
    cdef double pe[BLOCK]
    cdef double lg[BLOCK]
    cdef Py_ssize_t C = J.c, rs = J.p_rs, cs = J.p_cs, grs = J.g_rs, gcs = J.g_cs
    cdef Py_ssize_t G = CAP // C, r = r1 - r0, g0, g1, i, j, ii, base
    cdef double m, v, s
    cdef pfloat* y = <pfloat*>J.g
    cdef pfloat* yrow
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    g0 = 0
    while g0 < r:
        g1 = g0 + G
        if g1 > r:
            g1 = r
        _shift_group(x + (r0 + g0) * rs, g1 - g0, C, rs, cs, a, mrow)
        fl_vexp(a, e, (g1 - g0) * C)
        fl_row_sums(e, g1 - g0, C, ssum)
        for i in range(g0, g1):
            base = (i - g0) * C
            yrow = y + (r0 + i) * grs
            s = ssum[i - g0]
            for j in range(C):
                yrow[j * gcs] = <pfloat>(e[base + j] / s)
            if lab != NULL:
                pe[i] = <double>yrow[lab[i] * gcs] + J.eps
        g0 = g1
    if lab != NULL:
        fl_vlog(pe, lg, r)
        for i in range(r):
            lg[i] = -lg[i]
        _add4_run(acc4, 0, lg, r)
    res.loss = _total4(acc4)
    res.div = <double>r


cdef void _softmax_wide_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                              const int64_t* lab, const pfloat* x, BlockResult* res) noexcept nogil:
    cdef double acc4[4]
    cdef Py_ssize_t i, j, C = J.c, cs = J.p_cs, gcs = J.g_cs
    cdef double m, v, e, s
    cdef pfloat* yrow
    cdef const pfloat* xrow
    acc4[0] = acc4[1] = acc4[2] = acc4[3] = 0.0
    for i in range(r0, r1):
        xrow = x + i * J.p_rs
        yrow = <pfloat*>J.g + i * J.g_rs
        m = -INFINITY
        for j in range(C):
            v = xrow[j * cs]
            if v > m:
                m = v
        s = 0.0
        for j in range(C):
            e = exp(<double>xrow[j * cs] - m)
            s += e
            yrow[j * gcs] = <pfloat>e
        for j in range(C):
            yrow[j * gcs] = <pfloat>(<double>yrow[j * gcs] / s)
        if lab != NULL:
            _add4(acc4, i, -log(<double>yrow[lab[i - r0] * gcs] + J.eps))
    res.loss = _total4(acc4)
    res.div = <double>(r1 - r0)


cdef void _labels_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1,
                        const int64_t* lab, BlockResult* res) noexcept nogil:
    """The divisor of "mean": sum of w[t_i] (or the count) over kept rows."""
    cdef Py_ssize_t i
    cdef double div = 0.0
    for i in range(r1 - r0):
        if lab[i] >= 0:
            div += J.w[lab[i]] if J.w != NULL else 1.0
    res.loss = 0.0
    res.div = div


# ---------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------

cdef void _block_typed(const Job* J, Py_ssize_t b, BlockResult* res,
                       const pfloat* p, const tfloat* t) noexcept nogil:
    cdef int64_t lab[BLOCK]
    cdef Py_ssize_t r0 = b * BLOCK
    cdef Py_ssize_t r1 = r0 + BLOCK
    cdef Py_ssize_t bad
    cdef int fam = J.family
    if r1 > J.n:
        r1 = J.n
    res.bad = -1
    res.loss = 0.0
    res.div = 0.0
    if (fam == FAM_CE and J.lab != NULL and not J.dense and J.w == NULL and J.s == 0.0
            and not J.has_ignore and J.g == NULL and J.row_out == NULL):
        _ce_gather_plain_block(J, r0, r1, p, res)
        return
    if J.lab != NULL and not J.dense:
        bad = _load_labels(J, r0, r1, lab)
        if bad >= 0:
            res.bad = bad
            return
    if fam == FAM_CE:
        if not J.dense and J.w == NULL and J.s == 0.0:
            _ce_gather_block(J, r0, r1, lab, p, res)
        elif J.dense and J.w == NULL and J.s == 0.0 and J.c <= CAP:
            _ce_dense_block(J, r0, r1, p, t, res)
        else:
            _ce_general_block(J, r0, r1, lab, p, t, res)
    elif fam == FAM_SCE:
        if J.c <= CAP:
            _sce_block(J, r0, r1, lab, p, t, res)
        else:
            _sce_wide_block(J, r0, r1, lab, p, t, res)
    elif fam == FAM_MSE:
        _mse_block(J, r0, r1, p, t, res)
    elif fam == FAM_SOFTMAX:
        if J.c <= CAP:
            _softmax_block(J, r0, r1, lab if J.lab != NULL else NULL, p, res)
        else:
            _softmax_wide_block(J, r0, r1, lab if J.lab != NULL else NULL, p, res)
    else:
        _labels_block(J, r0, r1, lab, res)


cdef void _block(const Job* J, Py_ssize_t b, BlockResult* res) noexcept nogil:
    if J.p_f32:
        if J.t_f32:
            _block_typed(J, b, res, <const float*>J.p, <const float*>J.t)
        else:
            _block_typed(J, b, res, <const float*>J.p, <const double*>J.t)
    else:
        if J.t_f32:
            _block_typed(J, b, res, <const double*>J.p, <const float*>J.t)
        else:
            _block_typed(J, b, res, <const double*>J.p, <const double*>J.t)


ctypedef struct Neumaier:
    double sum
    double comp


cdef inline void _neumaier_add(Neumaier* acc, double x) noexcept nogil:
    """Compensated addition (Neumaier): the block sums of a large batch are
    added with an error of about one rounding, not one per block."""
    cdef double t = acc.sum + x
    if fabs(acc.sum) >= fabs(x):
        acc.comp += (acc.sum - t) + x
    else:
        acc.comp += (x - t) + acc.sum
    acc.sum = t


cdef inline double _neumaier_total(const Neumaier* acc) noexcept nogil:
    # an inf or nan sum makes the compensation nan: the sum alone is the answer
    if acc.sum - acc.sum != 0.0:
        return acc.sum
    return acc.sum + acc.comp


cdef int _run_blocks(const Job* J, int n_threads, BlockResult* total) except -1 nogil:
    """Run every block and add their results in block order (compensated)."""
    cdef Py_ssize_t nblocks = (J.n + BLOCK - 1) // BLOCK
    cdef Py_ssize_t b
    cdef BlockResult r
    cdef BlockResult* parts
    cdef Neumaier loss, div
    loss.sum = loss.comp = div.sum = div.comp = 0.0
    total.loss = 0.0
    total.div = 0.0
    total.bad = -1
    if n_threads > nblocks:
        n_threads = <int>nblocks
    if n_threads <= 1:
        for b in range(nblocks):
            _block(J, b, &r)
            if r.bad >= 0:
                total.bad = r.bad
                return 0
            _neumaier_add(&loss, r.loss)
            _neumaier_add(&div, r.div)
    else:
        parts = <BlockResult*>malloc(nblocks * sizeof(BlockResult))
        if parts == NULL:
            with gil:
                raise MemoryError()
        for b in prange(nblocks, num_threads=n_threads, schedule="static"):
            _block(J, b, &parts[b])
        for b in range(nblocks):
            if parts[b].bad >= 0:
                total.bad = parts[b].bad
                break
            _neumaier_add(&loss, parts[b].loss)
            _neumaier_add(&div, parts[b].div)
        free(parts)
        if total.bad >= 0:
            return 0
    total.loss = _neumaier_total(&loss)
    total.div = _neumaier_total(&div)
    return 0


# Below this many elements the kernel keeps the GIL: the call is shorter than
# releasing and re-acquiring it.
cdef Py_ssize_t NOGIL_MIN_ELEMENTS = 4096


cdef inline int _run_job(const Job* J, int n_threads, BlockResult* total) except -1:
    if J.n * J.c < NOGIL_MIN_ELEMENTS:
        return _run_blocks(J, n_threads, total)
    with nogil:
        _run_blocks(J, n_threads, total)
    return 0


# ---------------------------------------------------------------------------
# Argument handling
# ---------------------------------------------------------------------------

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


cdef inline bint _is_native_int(object a):
    if not cnp.PyArray_Check(a):
        return False
    return (cnp.PyArray_ISINTEGER(<cnp.ndarray>a)
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a)
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>a))


cdef _real_array(object obj, str name):
    """np.asarray(obj), or TypeError if its dtype is not real."""
    arr = np.asarray(obj)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"unsupported dtype {arr.dtype} for {name}: expected a real "
            f"(bool, integer or floating) array")
    return arr


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


cdef inline Py_ssize_t _estride(cnp.ndarray a, int axis):
    """Stride of ``axis`` in elements (0 where the axis has length <= 1)."""
    if cnp.PyArray_DIMS(a)[axis] <= 1:
        return 0
    return cnp.PyArray_STRIDES(a)[axis] // cnp.PyArray_ITEMSIZE(a)


cdef void _set_pred(Job* J, cnp.ndarray P):
    cdef int nd = cnp.PyArray_NDIM(P)
    J.p = cnp.PyArray_DATA(P)
    J.p_f32 = cnp.PyArray_TYPE(P) == cnp.NPY_FLOAT
    if nd == 2:
        J.n = cnp.PyArray_DIMS(P)[0]
        J.c = cnp.PyArray_DIMS(P)[1]
        J.p_rs = _estride(P, 0)
        J.p_cs = _estride(P, 1)
    else:
        J.n = 1
        J.c = cnp.PyArray_DIMS(P)[0]
        J.p_rs = 0
        J.p_cs = _estride(P, 0)


cdef void _set_dense(Job* J, cnp.ndarray T):
    J.dense = True
    J.t = cnp.PyArray_DATA(T)
    J.t_f32 = cnp.PyArray_TYPE(T) == cnp.NPY_FLOAT
    if cnp.PyArray_NDIM(T) == 2:
        J.t_rs = _estride(T, 0)
        J.t_cs = _estride(T, 1)
    else:
        J.t_rs = 0
        J.t_cs = _estride(T, 0)


cdef inline bint _same_shape(cnp.ndarray a, cnp.ndarray b):
    cdef int nd = cnp.PyArray_NDIM(a), i
    if cnp.PyArray_NDIM(b) != nd:
        return False
    for i in range(nd):
        if cnp.PyArray_DIMS(a)[i] != cnp.PyArray_DIMS(b)[i]:
            return False
    return True


cdef inline bint _is_label_shape(cnp.ndarray T, cnp.ndarray P):
    """T's shape is (<object>P).shape[:-1]."""
    cdef int nd = cnp.PyArray_NDIM(P)
    if cnp.PyArray_NDIM(T) != nd - 1:
        return False
    return nd == 1 or cnp.PyArray_DIMS(T)[0] == cnp.PyArray_DIMS(P)[0]


cdef _shape_error(object target_shape, cnp.ndarray P, str name, bint labels_allowed):
    shape = (<object>P).shape
    if labels_allowed:
        return ValueError(
            f"target shape {target_shape} does not match {name} shape {shape}: "
            f"expected {shape[:-1]} for class indices or {shape} for dense targets")
    return ValueError(
        f"target shape {target_shape} does not match {name} shape {shape}")


cdef object _label_target(Job* J, object target, cnp.ndarray P, str name):
    """Set up ``target`` for a cross-entropy: class indices or a dense array.
    Returns the array the job points into (to keep it alive)."""
    cdef cnp.ndarray T
    cdef object dt = _F32 if J.p_f32 else _F64
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
        raise _shape_error((<object>T).shape, P, name, True)
    J.lab = cnp.PyArray_DATA(T)
    J.lab_unsigned = cnp.PyArray_ISUNSIGNED(T)
    J.lab_size = <int>cnp.PyArray_ITEMSIZE(T)
    J.lab_stride = _estride(T, 0) if cnp.PyArray_NDIM(T) == 1 else 0
    return T


cdef object _dense_target(Job* J, object target, cnp.ndarray P, str name):
    """Set up the target of a squared error: exactly ``P``'s shape."""
    cdef cnp.ndarray T
    if _is_native_float(target) and _same_shape(<cnp.ndarray>target, P):
        T = <cnp.ndarray>target
    else:
        arr = _real_array(target, "target")
        if not _same_shape(arr, P):
            raise _shape_error(arr.shape, P, name, False)
        T = _to_dtype(arr, _F32 if J.p_f32 else _F64)
    _set_dense(J, T)
    return T


cdef int _reduction(object reduction) except -1:
    if isinstance(reduction, str):
        if reduction == "mean":
            return RED_MEAN
        if reduction == "sum":
            return RED_SUM
        if reduction == "none":
            return RED_NONE
    raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


cdef int _threads(object n_threads) except -1:
    """0 for automatic, else the requested count."""
    if n_threads is None:
        return 0
    if (isinstance(n_threads, (int, np.integer)) and not isinstance(n_threads, bool)
            and not isinstance(n_threads, np.timedelta64) and n_threads >= 1):
        # more threads than this only multiplies OS threads (the result is
        # the same for any count): 10**6 would start one per 256-row block
        return <int>min(n_threads, 256)
    raise ValueError(f"n_threads must be None or an int >= 1, got {n_threads!r}")


cdef inline int _pick_threads(const Job* J, int requested) noexcept:
    if requested > 0:
        return requested
    if J.n * J.c < PARALLEL_MIN_ELEMENTS:
        return 1
    return fl_max_threads()


cdef object _weights(Job* J, object weight):
    if weight is None:
        return None
    arr = _real_array(weight, "weight")
    if arr.shape != (J.c,):
        raise ValueError(f"weight must have shape ({J.c},), got shape {arr.shape}")
    w = np.ascontiguousarray(
        arr.astype(_F32 if J.p_f32 else _F64).astype(np.float64))
    J.w = <const double*>cnp.PyArray_DATA(<cnp.ndarray>w)
    return w


cdef object _INT64_MIN = int(np.iinfo(np.int64).min)
cdef object _INT64_MAX = int(np.iinfo(np.int64).max)


cdef int _ignore(Job* J, object ignore_index) except -1:
    """Set up ``ignore_index``: compared with each label as integers, so a
    value outside the label dtype's range never matches."""
    if ignore_index is None:
        return 0
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(
            f"ignore_index must be None or an int, got {type(ignore_index).__name__} "
            f"{ignore_index!r}")
    if J.dense:
        raise ValueError(
            f"ignore_index={ignore_index!r} is only supported with class-index targets, "
            f"not with dense (one-hot or probability) targets")
    cdef object ii = int(ignore_index)
    cdef object bits = 8 * J.lab_size if J.lab != NULL else 64
    cdef object lo, hi
    if J.lab != NULL and J.lab_unsigned:
        lo, hi = 0, (1 << bits) - 1
    else:                                      # a Python int label: int64
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if lo <= ii <= hi:                         # else it can never match
        J.has_ignore = True
        if ii > _INT64_MAX:                    # only uint64 labels get here
            J.ign_u = <uint64_t>ii
        else:
            J.ign_s = <int64_t>ii
            if ii >= 0:
                J.ign_u = <uint64_t>ii
    return 0


cdef double _real_number(object value, str name) except? -1:
    """``value`` as a double if it is a real number (numbers.Real: bool, int,
    float, NumPy scalars, Fraction), else TypeError; as the reference."""
    if type(value) is float:
        return value
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"{name} must be a real number, got {value!r}")


cdef double _nonneg(object value, str name) except? -1:
    cdef double v = _real_number(value, name)
    if not (v >= 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


cdef double _smoothing(object value) except? -1:
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
    arr = np.asarray(target)
    return int(arr[()] if arr.ndim == 0 else arr[row])


cdef int _raise_bad_label(object target, Py_ssize_t row, Py_ssize_t c) except -1:
    """The IndexError of an out-of-range label in `row`, one message for
    every path."""
    raise IndexError(f"target {_label_value(target, row)} is out of range "
                     f"for {c} classes (row {row})")


cdef int _label_pass(Job* J, BlockResult* res, object target) except -1:
    """The labels-only pass (FAM_LABELS, one thread), run before the kernel
    writes anything: an out-of-range label raises IndexError; res.div gets
    the divisor of a weighted or ignoring mean."""
    cdef int family = J.family
    J.family = FAM_LABELS
    _run_job(J, 1, res)
    J.family = family
    if res.bad >= 0:
        _raise_bad_label(target, res.bad, J.c)
    return 0


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
    memset(&J, 0, sizeof(Job))
    J.family = family
    J.g_scale = 1.0
    # the order of the checks is the reference's: eps, reduction, n_threads,
    # pred, target, weight, ignore_index, label_smoothing, out; labels last
    if family == FAM_CE:
        J.eps = _nonneg(eps, "eps")
    cdef int red = _reduction(reduction)
    cdef int requested = _threads(n_threads)
    P = _coerce_pred(pred, name)
    _set_pred(&J, P)
    if family == FAM_MSE:
        T = _dense_target(&J, target, P, name)
    else:
        T = _label_target(&J, target, P, name)
        W = _weights(&J, weight)
        _ignore(&J, ignore_index)
        J.s = _smoothing(label_smoothing)
    if want_grad:
        O = _grad_out(P, out)
        if out is not None and _needs_staging(O, (P, T, W)):
            staged_out = O
            O = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(P), cnp.PyArray_DIMS(P),
                                  cnp.PyArray_TYPE(P), 0)
        J.g = cnp.PyArray_DATA(O)
        if cnp.PyArray_NDIM(O) == 2:
            J.g_rs = _estride(O, 0)
            J.g_cs = _estride(O, 1)
        else:
            J.g_cs = _estride(O, 0)
    # a Python int label of a single sample
    if family != FAM_MSE and not J.dense and J.lab == NULL:
        try:
            scalar_label = target
        except OverflowError:
            raise IndexError(
                f"target {target} is out of range for {J.c} classes (row 0)") from None
        J.lab = &scalar_label
        J.lab_size = 8
        J.lab_unsigned = False
    if red == RED_NONE:
        R = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(P) - 1, cnp.PyArray_DIMS(P),
                              cnp.PyArray_TYPE(P), 0)
        J.row_out = cnp.PyArray_DATA(R)
        J.row_stride = 1
        J.mse_row_mean = family == FAM_MSE
    cdef bint labels_checked = False
    if want_grad:
        if family == FAM_MSE:
            if red == RED_MEAN:
                J.g_scale = 1.0 / (<double>J.n * <double>J.c)
            elif red == RED_NONE:
                J.g_scale = 1.0 / <double>J.c
        elif red == RED_MEAN:
            need_first_pass = not J.dense and (J.w != NULL or J.has_ignore)
            if need_first_pass:
                _label_pass(&J, &first, target)
                D = first.div
                labels_checked = True
            else:
                D = <double>J.n
            J.g_scale = 1.0 / D
            if D != 0.0 and J.g_scale - J.g_scale != 0.0:
                # 1 / D overflows for a subnormal D: divide the finished gradient
                J.g_scale = 1.0
                divide_after = D
    if (want_grad and out is not None and staged_out is None and J.lab != NULL
            and not labels_checked):
        # a bad label must leave the caller's out untouched, as the reference
        # does: check every label before the kernel writes a row
        _label_pass(&J, &first, target)
    nt = _pick_threads(&J, requested)
    _run_job(&J, nt, &total)
    if total.bad >= 0:
        _raise_bad_label(target, total.bad, J.c)
    if divide_after != 0.0:
        np.divide(O, divide_after, out=O)
    if staged_out is not None:
        staged_out[...] = O
        O = staged_out
    if red == RED_NONE:
        loss = R
    elif red == RED_SUM:
        loss = _scalar(total.loss, J.p_f32)
    else:
        loss = _scalar(total.loss / total.div, J.p_f32)
    if want_grad:
        return loss, O
    return loss


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def cross_entropy(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                  ignore_index=None, label_smoothing=0.0, n_threads=None):
    """Cross-entropy of probabilities against class indices or dense targets.

    Per sample, with ``q' = (1 - s) q + s / C`` the (smoothed) target row and
    ``w`` the class weights::

        l_i = -sum_c w_c q'_ic log(p_ic + eps)

    A zero target term contributes exactly 0.  ``reduction="mean"`` divides
    the sum by ``sum_i w[t_i]`` over rows that are not ignored (class indices)
    or by ``N`` (dense targets).  Class indices without weight or smoothing
    read one element per row.
    """
    return _run(FAM_CE, probs, target, reduction, eps, weight, ignore_index,
                label_smoothing, n_threads, False, None, "probs")


def softmax_cross_entropy(logits, target, *, reduction="mean", weight=None,
                          ignore_index=None, label_smoothing=0.0, n_threads=None):
    """Cross-entropy of ``softmax(logits)``, computed stably from the logits.

    Per sample, with ``LSE_i = m_i + log sum_c exp(x_ic - m_i)`` and ``m_i``
    the row maximum::

        l_i = sum_c w_c q'_ic (LSE_i - x_ic)

    Reductions, weights, ``ignore_index`` and smoothing as in
    :func:`cross_entropy` (PyTorch's ``F.cross_entropy`` semantics).
    """
    return _run(FAM_SCE, logits, target, reduction, None, weight, ignore_index,
                label_smoothing, n_threads, False, None, "logits")


def mean_squared_error(pred, target, *, reduction="mean", n_threads=None):
    """Squared error ``(p - t)**2``: mean over all ``N*C`` elements, sum, or
    (``"none"``) the mean over the last axis per sample."""
    return _run(FAM_MSE, pred, target, reduction, None, None, None, None,
                n_threads, False, None, "pred")


def cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                           ignore_index=None, label_smoothing=0.0, n_threads=None,
                           out=None):
    """``(cross_entropy(...), gradient)`` in one pass.

    The gradient with respect to ``probs`` is ``-w_c q'_ic / (p_ic + eps) / D``
    (``D`` the divisor of ``"mean"``, 1 otherwise), exactly 0 for a zero
    target term; ignored rows get 0.  ``out`` receives it if given.
    """
    return _run(FAM_CE, probs, target, reduction, eps, weight, ignore_index,
                label_smoothing, n_threads, True, out, "probs")


def softmax_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                   ignore_index=None, label_smoothing=0.0,
                                   n_threads=None, out=None):
    """``(softmax_cross_entropy(...), gradient)`` in one pass.

    The gradient with respect to the logits is
    ``(p_ic * sum_k w_k q'_ik - w_c q'_ic) / D`` with ``p = softmax(x)``;
    unweighted with one-hot targets, ``(p - onehot(t)) / D``.
    """
    return _run(FAM_SCE, logits, target, reduction, None, weight, ignore_index,
                label_smoothing, n_threads, True, out, "logits")


def mean_squared_error_and_grad(pred, target, *, reduction="mean", n_threads=None,
                                out=None):
    """``(mean_squared_error(...), gradient)``: the gradient is ``2 (p - t)``
    divided by ``N*C`` (mean), 1 (sum) or ``C`` (none)."""
    return _run(FAM_MSE, pred, target, reduction, None, None, None, None,
                n_threads, True, out, "pred")


# ---------------------------------------------------------------------------
# The book's functions (fastloss.book)
# ---------------------------------------------------------------------------

def sum_squared_error(y, t):
    """The book's ``0.5 * np.sum((y - t)**2)``, for ``t`` of exactly ``y``'s
    shape."""
    cdef Job J
    cdef BlockResult total
    memset(&J, 0, sizeof(Job))
    J.family = FAM_MSE
    J.g_scale = 1.0
    P = _coerce_pred(y, "y")
    _set_pred(&J, P)
    T = _dense_target(&J, t, P, "y")
    cdef int nt = _pick_threads(&J, 0)
    _run_job(&J, nt, &total)
    return _scalar(0.5 * total.loss, J.p_f32)


def _softmax(x, t=None, double eps=1e-7):
    """Row-wise softmax of ``x`` (1-D or 2-D) as a new array; with class
    indices ``t`` also the book's loss ``-mean(log(y[i, t_i] + eps))``.
    Returns ``y`` or ``(y, loss)``."""
    cdef Job J
    cdef BlockResult total
    cdef cnp.ndarray P, Y
    memset(&J, 0, sizeof(Job))
    J.family = FAM_SOFTMAX
    J.g_scale = 1.0
    J.eps = eps
    P = _coerce_pred(x, "x")
    _set_pred(&J, P)
    T = None
    if t is not None:
        T = _label_target(&J, t, P, "x")
        if J.dense:
            raise ValueError("_softmax takes class indices")
    Y = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(P), cnp.PyArray_DIMS(P), cnp.PyArray_TYPE(P), 0)
    J.g = cnp.PyArray_DATA(Y)
    if cnp.PyArray_NDIM(Y) == 2:
        J.g_rs = _estride(Y, 0)
        J.g_cs = _estride(Y, 1)
    else:
        J.g_cs = _estride(Y, 0)
    cdef int64_t scalar_label = 0
    if t is not None and J.lab == NULL:
        scalar_label = t
        J.lab = &scalar_label
        J.lab_size = 8
    cdef int nt = _pick_threads(&J, 0)
    _run_job(&J, nt, &total)
    if total.bad >= 0:
        _raise_bad_label(t, total.bad, J.c)
    if t is None:
        return Y
    return Y, _scalar(total.loss / total.div, J.p_f32)


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


def openmp_enabled():
    """True if the extension was compiled with OpenMP."""
    return bool(fl_openmp_enabled)


def simd():
    """Which exp/log loops this CPU runs: "avx512", "avx2+fma" or "baseline"
    (the best the CPU has, or the cap set by the environment variable
    FASTLOSS_SIMD at import)."""
    return fl_simd_name.decode()


def max_threads():
    """The number of threads ``n_threads=None`` may use for large inputs."""
    return fl_max_threads()


def _argmax_rows(t):
    """``t.argmax(axis=1)`` for a 2-D native float32/float64 ``t`` with a unit
    column stride and at most 64 columns (the book's one-hot targets to class
    indices); None for any other ``t``.  A row whose only nonzero is positive
    or NaN is that column, found by one SIMD test per row; a block of 256
    rows with any other row goes through NumPy's argmax (into the result, no
    copy), so each row gets NumPy's answer.  NumPy's
    argmax costs about 17 ns a row of 10, more than the loss it feeds."""
    cdef cnp.ndarray T, L
    cdef Py_ssize_t n, c, rs, isz, i, i0, m, nbad = 0
    cdef int32_t col[256]
    cdef int32_t k
    cdef cnp.npy_intp* lab
    cdef const float* tf
    cdef const double* td
    cdef double v
    cdef bint f32
    cdef cnp.npy_intp dims[1]
    if not (_is_native_float(t) and cnp.PyArray_NDIM(<cnp.ndarray>t) == 2):
        return None
    T = <cnp.ndarray>t
    n = cnp.PyArray_DIMS(T)[0]
    c = cnp.PyArray_DIMS(T)[1]
    isz = cnp.PyArray_ITEMSIZE(T)
    if c < 1 or c > 64:
        return None
    if n == 0:                          # (NumPy gives such arrays zero strides)
        return np.empty(0, np.intp)
    if (c > 1 and cnp.PyArray_STRIDES(T)[1] != isz) or cnp.PyArray_STRIDES(T)[0] % isz != 0:
        return None
    rs = cnp.PyArray_STRIDES(T)[0] // isz
    f32 = cnp.PyArray_TYPE(T) == cnp.NPY_FLOAT
    tf = <const float*>cnp.PyArray_DATA(T)
    td = <const double*>cnp.PyArray_DATA(T)
    dims[0] = n
    L = cnp.PyArray_EMPTY(1, dims, cnp.NPY_INTP, 0)   # argmax's dtype
    lab = <cnp.npy_intp*>cnp.PyArray_DATA(L)
    i0 = 0
    while i0 < n:
        m = n - i0 if n - i0 < 256 else 256
        nbad = 0
        with nogil:
            if f32:
                fl_onehot_cols_f(tf + i0 * rs, m, c, rs, col)
            else:
                fl_onehot_cols_d(td + i0 * rs, m, c, rs, col)
            for i in range(m):
                k = col[i]
                if k >= 0:
                    v = tf[(i0 + i) * rs + k] if f32 else td[(i0 + i) * rs + k]
                    if v > 0.0 or v != v:
                        lab[i0 + i] = k
                        continue
                nbad += 1
        if nbad:                        # NumPy, on views: no temporary copy
            T[i0:i0 + m].argmax(axis=1, out=L[i0:i0 + m])
        i0 += m
    return L


cdef void _softmax_backward_typed(const pfloat* y, const void* lab, int lab_size,
                                  bint lab_unsigned, const pfloat* t, Py_ssize_t n,
                                  Py_ssize_t c, pfloat dout, pfloat n_rows,
                                  pfloat* dx) noexcept nogil:
    """dx = (y - onehot(t)) * dout / N, element by element in the order (and
    the dtype) of the book's NumPy code: y - t, then * dout, then / N."""
    cdef Py_ssize_t i, j
    cdef int64_t k
    for i in range(n):
        if t != NULL:
            for j in range(c):
                dx[i * c + j] = ((y[i * c + j] - t[i * c + j]) * dout) / n_rows
        else:
            for j in range(c):
                dx[i * c + j] = (y[i * c + j] * dout) / n_rows
            k = (<const int64_t*>lab)[i]
            dx[i * c + k] = ((y[i * c + k] - <pfloat>1) * dout) / n_rows


def _softmax_backward(y, t, dout):
    """The book's SoftmaxWithLoss.backward for a C-contiguous 2-D ``y`` (the
    layer's own softmax output), int64 class indices or a dense ``t`` of y's
    shape and dtype, and a Python/NumPy scalar ``dout``; returns ``dx`` or
    None when the arguments need the general (NumPy) path."""
    cdef cnp.ndarray Y, T, DX
    cdef Py_ssize_t n, c, i
    cdef int64_t v
    if not (cnp.PyArray_Check(y) and cnp.PyArray_NDIM(<cnp.ndarray>y) == 2
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>y) and _is_native_float(y)):
        return None
    if not isinstance(dout, (int, float, np.floating, np.integer)) or isinstance(dout, bool):
        return None
    Y = <cnp.ndarray>y
    n = cnp.PyArray_DIMS(Y)[0]
    c = cnp.PyArray_DIMS(Y)[1]
    if not (cnp.PyArray_Check(t) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>t)):
        return None
    T = <cnp.ndarray>t
    if cnp.PyArray_TYPE(T) == cnp.NPY_INT64 and cnp.PyArray_ISNOTSWAPPED(T) \
            and cnp.PyArray_NDIM(T) == 1 and cnp.PyArray_DIMS(T)[0] == n:
        for i in range(n):                    # the same check as every kernel
            v = (<const int64_t*>cnp.PyArray_DATA(T))[i]
            if v < 0 or v >= c:
                raise IndexError(f"target {v} is out of range for {c} classes (row {i})")
        dense = False
    elif cnp.PyArray_TYPE(T) == cnp.PyArray_TYPE(Y) and _is_native_float(T) \
            and _same_shape(T, Y):
        dense = True
    else:
        return None
    DX = cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(Y), cnp.PyArray_TYPE(Y), 0)
    if cnp.PyArray_TYPE(Y) == cnp.NPY_FLOAT:
        _softmax_backward_typed(<const float*>cnp.PyArray_DATA(Y), cnp.PyArray_DATA(T), 8, False,
                                <const float*>cnp.PyArray_DATA(T) if dense else NULL,
                                n, c, <float>dout, <float>n, <float*>cnp.PyArray_DATA(DX))
    else:
        _softmax_backward_typed(<const double*>cnp.PyArray_DATA(Y), cnp.PyArray_DATA(T), 8, False,
                                <const double*>cnp.PyArray_DATA(T) if dense else NULL,
                                n, c, <double>dout, <double>n, <double*>cnp.PyArray_DATA(DX))
    return DX
