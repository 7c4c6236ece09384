/* The SIMD kernels as the Cython code calls them (fastloss/_kernels/
 * simd_loops.pxi declares this header, and nothing else of fastloss/_simd).
 *
 * glibc's scalar log/exp cost 15-20 cycles a call and cannot be vectorised,
 * which for a 100 x 10 batch is most of a call; likewise the loops over a
 * group's targets and rows.  Each kernel is compiled for baseline x86-64 (or
 * whatever the platform is), for AVX2(+FMA) and, where it pays, for AVX-512
 * F/DQ/VL (baseline.c, avx2.c, avx512.c), and fl_simd_init() (dispatch.c)
 * points each fl_*_impl at the widest variant the CPU has, capped by
 * FASTLOSS_SIMD, once at import: one wheel runs on any x86-64 and uses the
 * widest vectors the CPU has.  (target_clones("arch=haswell") would not pick
 * the AVX2 loop on AMD CPUs.)  The variants may differ in the last bit (FMA,
 * the AVX-512 exp's table), except where a kernel's comment says they give
 * the same bits; a given machine always runs the same one.
 *
 * The wrappers below are static inline, so a kernel call from Cython costs
 * one load of the pointer and one indirect call.
 */
#ifndef FASTLOSS_SIMD_H
#define FASTLOSS_SIMD_H

#include "common.h"

/* Pick each kernel's variant from the CPU's features: max_level 0 keeps the
 * baseline, 1 allows AVX2, 2 AVX-512.  Called once, at import. */
FL_HIDDEN void fl_simd_init(int max_level);
/* "baseline", "avx2+fma" or "avx512": the level fl_simd_init chose */
FL_HIDDEN extern const char *fl_simd_name;

FL_HIDDEN extern fl_vlog_fn *fl_vlog_impl;
FL_HIDDEN extern fl_vexp_lim_fn *fl_vexp_lim_impl;
FL_HIDDEN extern fl_sbce_fn *fl_sbce_impl;
FL_HIDDEN extern fl_products0_fn *fl_products0_impl;
FL_HIDDEN extern fl_bce_fn *fl_bce_impl;
FL_HIDDEN extern fl_vexpf_lim_fn *fl_vexpf_lim_impl;
FL_HIDDEN extern fl_col_sums_but_fn *fl_col_sums_but_impl;
FL_HIDDEN extern fl_col_expf_sums_but_fn *fl_col_expf_sums_but_impl;
FL_HIDDEN extern fl_labels_i64_fn *fl_labels_i64_impl;
FL_HIDDEN extern fl_scale_cols_d_fn *fl_scale_cols_d_impl;
FL_HIDDEN extern fl_scale_cols_f_fn *fl_scale_cols_f_impl;
FL_HIDDEN extern fl_vrdiv_fn *fl_vrdiv_impl;
FL_HIDDEN extern fl_nonzero_f64_fn *fl_nonzero_f64_impl;
FL_HIDDEN extern fl_nonzero_f32_fn *fl_nonzero_f32_impl;
FL_HIDDEN extern fl_sq_lanes_dd_fn *fl_sq_lanes_dd_impl;
FL_HIDDEN extern fl_sq_lanes_df_fn *fl_sq_lanes_df_impl;
FL_HIDDEN extern fl_sq_lanes_fd_fn *fl_sq_lanes_fd_impl;
FL_HIDDEN extern fl_sq_lanes_ff_fn *fl_sq_lanes_ff_impl;
FL_HIDDEN extern fl_shift_rows_d_fn *fl_shift_rows_d_impl;
FL_HIDDEN extern fl_shift_rows_f_fn *fl_shift_rows_f_impl;
FL_HIDDEN extern fl_row_sums_fn *fl_row_sums_impl;
FL_HIDDEN extern fl_row_sums_but_fn *fl_row_sums_but_impl;
FL_HIDDEN extern fl_weigh_fn *fl_weigh_impl;
FL_HIDDEN extern fl_tail_logs_fn *fl_tail_logs_impl;
FL_HIDDEN extern fl_scale_rows_d_fn *fl_scale_rows_d_impl;
FL_HIDDEN extern fl_scale_rows_f_fn *fl_scale_rows_f_impl;
FL_HIDDEN extern fl_onehot_gather_dd_fn *fl_onehot_gather_dd_impl;
FL_HIDDEN extern fl_onehot_gather_df_fn *fl_onehot_gather_df_impl;
FL_HIDDEN extern fl_onehot_gather_fd_fn *fl_onehot_gather_fd_impl;
FL_HIDDEN extern fl_onehot_gather_ff_fn *fl_onehot_gather_ff_impl;
FL_HIDDEN extern fl_onehot_cols_d_fn *fl_onehot_cols_d_impl;
FL_HIDDEN extern fl_onehot_cols_f_fn *fl_onehot_cols_f_impl;
FL_HIDDEN extern fl_binprod_dd_fn *fl_binprod_dd_impl;
FL_HIDDEN extern fl_binprod_df_fn *fl_binprod_df_impl;
FL_HIDDEN extern fl_binprod_fd_fn *fl_binprod_fd_impl;
FL_HIDDEN extern fl_binprod_ff_fn *fl_binprod_ff_impl;
FL_HIDDEN extern fl_count_ones_d_fn *fl_count_ones_d_impl;
FL_HIDDEN extern fl_count_ones_f_fn *fl_count_ones_f_impl;
FL_HIDDEN extern fl_half_to_float_fn *fl_half_to_float_impl;
FL_HIDDEN extern fl_float_to_half_fn *fl_float_to_half_impl;
FL_HIDDEN extern fl_half_to_float_fn *fl_bf16_to_float_impl;
FL_HIDDEN extern fl_float_to_half_fn *fl_float_to_bf16_impl;

/* A read prefetch of base + offset bytes.  The address is formed as an
 * integer: it may lie past the array (a prefetch never faults), and pointer
 * arithmetic out of bounds would be undefined behaviour. */
static inline void fl_prefetch(const void* base, ptrdiff_t offset)
{
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch((const void*)((uintptr_t)base + (uintptr_t)offset));
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    _mm_prefetch((const char*)((uintptr_t)base + (uintptr_t)offset), _MM_HINT_T0);
#else
    (void)base; (void)offset;
#endif
}

/* GCC 12 at -O1 (the sanitizer build) assumes a const pointer passed through
 * the dispatch pointer reads the whole array, and warns that the callers'
 * stack buffers "may be used uninitialized"; they read only x[0..n), which
 * every caller has written. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

/* ---- exp and log (math.inc.h) ---- */
static inline void fl_vlog(const double *x, double *y, ptrdiff_t n) { fl_vlog_impl(x, y, n); }
static inline int fl_vexp_lim(const double *x, double *y, ptrdiff_t n, double lim)
{ return fl_vexp_lim_impl(x, n, y, n, 1, lim); }
static inline int fl_vexpf_lim(const float *x, double *y, ptrdiff_t n, float lim)
{ return fl_vexpf_lim_impl(x, y, n, lim); }
/* the same over `runs` runs of n elements, run r at x + r * xs, into y + r * n
 * (one call per group of a channels-first batch, one run per class) */
static inline int fl_vexp_lim_runs(const double *x, ptrdiff_t xs, double *y, ptrdiff_t n,
                                   ptrdiff_t runs, double lim)
{ return fl_vexp_lim_impl(x, xs, y, n, runs, lim); }
/* y[i] = exp(x[i]) for every x: beyond +-700 (or NaN) through libm */
static inline void fl_vexp(const double *x, double *y, ptrdiff_t n)
{
    if (fl_vexp_lim_impl(x, n, y, n, 1, 700.0)) {
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = x[i];
            if (!(v >= -700.0 && v <= 700.0))
                y[i] = exp(v);
        }
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
static inline void fl_vrdiv(double c, const double *b, double *y, ptrdiff_t n)
{ fl_vrdiv_impl(c, b, y, n); }

/* ---- class-index labels (labels.inc.h) ---- */
static inline int fl_labels_i64(const int64_t *t, ptrdiff_t n, int64_t C, int64_t ign,
                                int has_ignore, int64_t *out)
{ return fl_labels_i64_impl(t, n, C, ign, has_ignore, out); }

/* ---- softmax in columns (cols.inc.h) ---- */
static inline void fl_col_sums_but(double *e, ptrdiff_t n, ptrdiff_t C,
                                   const int64_t *lab, double *s, double *ek)
{ fl_col_sums_but_impl(e, n, C, lab, s, ek); }
static inline int fl_col_expf_sums_but(const float *x, ptrdiff_t xs, ptrdiff_t n, ptrdiff_t C,
                                       float lim, const int64_t *lab, double *s, double *ek,
                                       float *e)
{ return fl_col_expf_sums_but_impl(x, xs, n, C, lim, lab, s, ek, e); }
static inline void fl_scale_cols_d(const double *e, ptrdiff_t n, ptrdiff_t C, const double *f,
                                   double *g, ptrdiff_t gcs, const int64_t *lab, const double *kv)
{ fl_scale_cols_d_impl(e, n, C, f, g, gcs, lab, kv); }
static inline void fl_scale_cols_f(const float *e, ptrdiff_t n, ptrdiff_t C, const double *f,
                                   float *g, ptrdiff_t gcs, const int64_t *lab, const double *kv)
{ fl_scale_cols_f_impl(e, n, C, f, g, gcs, lab, kv); }

/* ---- binary cross-entropy elements (binary.inc.h) ---- */
static inline void fl_sbce(const double *x, const double *a, const double *b, const double *s,
                           ptrdiff_t n, double div, double *loss, double *grad,
                           double *scratch)
{ fl_sbce_impl(x, a, b, s, n, div, loss, grad, scratch); }
static inline void fl_bce(const double *p, const double *a, const double *b, const double *s,
                          ptrdiff_t n, double eps, double div, double *loss, double *grad,
                          double *scratch)
{ fl_bce_impl(p, a, b, s, n, eps, div, loss, grad, scratch); }
static inline void fl_products0(const double *u, const double *v, double *y, ptrdiff_t n)
{ fl_products0_impl(u, v, y, n); }

/* ---- squared error (sqerr.inc.h) ---- */
static inline void fl_sq_lanes_dd(const double *p, const double *t, ptrdiff_t n, double *lanes)
{ fl_sq_lanes_dd_impl(p, t, n, lanes); }
static inline void fl_sq_lanes_df(const double *p, const float *t, ptrdiff_t n, double *lanes)
{ fl_sq_lanes_df_impl(p, t, n, lanes); }
static inline void fl_sq_lanes_fd(const float *p, const double *t, ptrdiff_t n, double *lanes)
{ fl_sq_lanes_fd_impl(p, t, n, lanes); }
static inline void fl_sq_lanes_ff(const float *p, const float *t, ptrdiff_t n, double *lanes)
{ fl_sq_lanes_ff_impl(p, t, n, lanes); }

/* ---- softmax rows: shift, sums, scale (rows.inc.h) ---- */
static inline void fl_shift_rows_d(const double *x, ptrdiff_t rows, ptrdiff_t C, ptrdiff_t rs,
                                   double *a, double *m)
{ fl_shift_rows_d_impl(x, rows, C, rs, a, m); }
static inline void fl_shift_rows_f(const float *x, ptrdiff_t rows, ptrdiff_t C, ptrdiff_t rs,
                                   double *a, double *m)
{ fl_shift_rows_f_impl(x, rows, C, rs, a, m); }
static inline void fl_row_sums(const double *e, ptrdiff_t rows, ptrdiff_t C, double *s)
{ fl_row_sums_impl(e, rows, C, s); }
static inline void fl_row_sums_but(const double *e, ptrdiff_t rows, ptrdiff_t C,
                                   const int64_t *lab, double *s, double *ek)
{ fl_row_sums_but_impl(e, rows, C, lab, s, ek); }
static inline void fl_tail_logs(const double *tl, const double *ek, double *ssum, double *lu,
                                double *lc, double *pk, ptrdiff_t n)
{ fl_tail_logs_impl(tl, ek, ssum, lu, lc, pk, n); }
static inline ptrdiff_t fl_weigh(const double *restrict w, double *restrict y, ptrdiff_t n)
{ return fl_weigh_impl(w, y, n); }
static inline void fl_scale_rows_d(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                                   const double *restrict f, double *restrict g, ptrdiff_t grs,
                                   const int64_t *restrict lab, const double *restrict kv)
{ fl_scale_rows_d_impl(e, rows, C, f, g, grs, lab, kv); }
static inline void fl_scale_rows_f(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                                   const double *restrict f, float *restrict g, ptrdiff_t grs,
                                   const int64_t *restrict lab, const double *restrict kv)
{ fl_scale_rows_f_impl(e, rows, C, f, g, grs, lab, kv); }

/* ---- one-hot targets: nonzero scan, gather, columns (gather.inc.h) ---- */
static inline ptrdiff_t fl_nonzero_f64(const double *t, ptrdiff_t n, int32_t *out)
{ return fl_nonzero_f64_impl(t, n, out); }
static inline ptrdiff_t fl_nonzero_f32(const float *t, ptrdiff_t n, int32_t *out)
{ return fl_nonzero_f32_impl(t, n, out); }
static inline ptrdiff_t
fl_onehot_gather_dd(const double *restrict p, ptrdiff_t prs, ptrdiff_t pcs,
                    const double *restrict t, ptrdiff_t trs, ptrdiff_t rows, ptrdiff_t C,
                    double eps, double *restrict q, double *restrict pe,
                    int32_t *restrict col, int flat)
{ return fl_onehot_gather_dd_impl(p, prs, pcs, t, trs, rows, C, eps, q, pe, col, flat); }
static inline ptrdiff_t
fl_onehot_gather_df(const double *restrict p, ptrdiff_t prs, ptrdiff_t pcs,
                    const float *restrict t, ptrdiff_t trs, ptrdiff_t rows, ptrdiff_t C,
                    double eps, double *restrict q, double *restrict pe,
                    int32_t *restrict col, int flat)
{ return fl_onehot_gather_df_impl(p, prs, pcs, t, trs, rows, C, eps, q, pe, col, flat); }
static inline ptrdiff_t
fl_onehot_gather_fd(const float *restrict p, ptrdiff_t prs, ptrdiff_t pcs,
                    const double *restrict t, ptrdiff_t trs, ptrdiff_t rows, ptrdiff_t C,
                    double eps, double *restrict q, double *restrict pe,
                    int32_t *restrict col, int flat)
{ return fl_onehot_gather_fd_impl(p, prs, pcs, t, trs, rows, C, eps, q, pe, col, flat); }
static inline ptrdiff_t
fl_onehot_gather_ff(const float *restrict p, ptrdiff_t prs, ptrdiff_t pcs,
                    const float *restrict t, ptrdiff_t trs, ptrdiff_t rows, ptrdiff_t C,
                    double eps, double *restrict q, double *restrict pe,
                    int32_t *restrict col, int flat)
{ return fl_onehot_gather_ff_impl(p, prs, pcs, t, trs, rows, C, eps, q, pe, col, flat); }
static inline void fl_onehot_cols_d(const double *restrict t, ptrdiff_t rows, ptrdiff_t C,
                                    ptrdiff_t rs, int32_t *restrict col)
{ fl_onehot_cols_d_impl(t, rows, C, rs, col); }
static inline void fl_onehot_cols_f(const float *restrict t, ptrdiff_t rows, ptrdiff_t C,
                                    ptrdiff_t rs, int32_t *restrict col)
{ fl_onehot_cols_f_impl(t, rows, C, rs, col); }

/* ---- binary targets: the product form of the loss (binprod.h, binprod.inc.h) ---- */
#include "binprod.h"

/* fl_binprod(p, t, L, eps, &M, &E): 1 with the product of a binary group's
 * p + eps over its ones = M 2^E, or 0 where the product form does not apply
 * (binprod.h says when, and in which order the product is taken).  The
 * variant leaves its running products in P, or returns 2 with M and E set
 * (the AVX-512 one, which combines them in registers). */
static inline int fl_binprod_dd(const double *p, const double *t, ptrdiff_t L, double eps,
                                double *M, double *E)
{
    double P[32];
    uint64_t mx = 0;
    const int r = fl_binprod_dd_impl(p, t, L, eps, P, &mx, M, E);
    return r == 2 || (r == 1 && fl_binprod_finish(P, mx, M, E));
}
static inline int fl_binprod_df(const double *p, const float *t, ptrdiff_t L, double eps,
                                double *M, double *E)
{
    double P[32];
    uint64_t mx = 0;
    const int r = fl_binprod_df_impl(p, t, L, eps, P, &mx, M, E);
    return r == 2 || (r == 1 && fl_binprod_finish(P, mx, M, E));
}
static inline int fl_binprod_fd(const float *p, const double *t, ptrdiff_t L, double eps,
                                double *M, double *E)
{
    double P[32];
    uint64_t mx = 0;
    const int r = fl_binprod_fd_impl(p, t, L, eps, P, &mx, M, E);
    return r == 2 || (r == 1 && fl_binprod_finish(P, mx, M, E));
}
static inline int fl_binprod_ff(const float *p, const float *t, ptrdiff_t L, double eps,
                                double *M, double *E)
{
    double P[32];
    uint64_t mx = 0;
    const int r = fl_binprod_ff_impl(p, t, L, eps, P, &mx, M, E);
    return r == 2 || (r == 1 && fl_binprod_finish(P, mx, M, E));
}

static inline ptrdiff_t fl_count_ones_d(const double *restrict t, ptrdiff_t L)
{ return fl_count_ones_d_impl(t, L); }
static inline ptrdiff_t fl_count_ones_f(const float *restrict t, ptrdiff_t L)
{ return fl_count_ones_f_impl(t, L); }

/* ---- half precision (half.inc.h): float16 by level, bfloat16 one loop ---- */
static inline void fl_half_to_float(const uint16_t *restrict h, float *restrict f, ptrdiff_t n)
{ fl_half_to_float_impl(h, f, n); }
static inline void fl_float_to_half(const float *restrict f, uint16_t *restrict h, ptrdiff_t n)
{ fl_float_to_half_impl(f, h, n); }
static inline void fl_bf16_to_float(const uint16_t *restrict h, float *restrict f, ptrdiff_t n)
{ fl_bf16_to_float_impl(h, f, n); }
static inline void fl_float_to_bf16(const float *restrict f, uint16_t *restrict h, ptrdiff_t n)
{ fl_float_to_bf16_impl(f, h, n); }

#endif
