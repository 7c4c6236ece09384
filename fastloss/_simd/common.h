/* Glue shared by every C file of fastloss/_simd: the compiler and platform
 * switches, the function types of the dispatched kernels, bit casts and the
 * small scalar helpers more than one kernel uses.  Nothing here is
 * instruction-set specific. */
#ifndef FASTLOSS_SIMD_COMMON_H
#define FASTLOSS_SIMD_COMMON_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <stddef.h>

#ifdef _MSC_VER
#if defined(_M_X64) || defined(_M_IX86)
#include <xmmintrin.h>              /* _mm_prefetch */
#endif
#define restrict __restrict
#define __attribute__(x)
#endif

/* FL_DISPATCH: the AVX2 and AVX-512 variants are compiled, and picked at
 * import from the CPU's features.  That needs GCC or clang (the target
 * attribute, __builtin_cpu_supports) on x86-64; elsewhere, and with
 * FASTLOSS_NO_SIMD_DISPATCH defined (CFLAGS=-DFASTLOSS_NO_SIMD_DISPATCH, to
 * build and test the portable code alone on x86-64), only the baseline
 * variants exist and fl_simd_name stays "baseline". */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) \
    && !defined(FASTLOSS_NO_SIMD_DISPATCH)
#define FL_DISPATCH 1
#else
#define FL_DISPATCH 0
#endif

/* The C files' shared symbols stay inside the extension module: hidden
 * visibility also lets the Cython code reach the dispatch pointers with one
 * PC-relative load, as it did when they were static. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(_WIN32) && !defined(__CYGWIN__)
#define FL_HIDDEN __attribute__((visibility("hidden")))
#else
#define FL_HIDDEN
#endif

/* ------------------------------------------------------------------------
 * The kernels' function types.  Each kernel has one variant per
 * instruction set (fl_vlog_base, fl_vlog_avx2, ...), all of the one type,
 * and a pointer fl_vlog_impl that fl_simd_init sets.  The comment at each
 * kernel's body (math.inc.h, sqerr.inc.h, rows.inc.h, gather.inc.h,
 * binprod.inc.h, binary.inc.h) says what it computes.
 * ---------------------------------------------------------------------- */
typedef void fl_vlog_fn(const double *restrict x, double *restrict y, ptrdiff_t n);
typedef void fl_sbce_fn(const double *restrict x, const double *restrict a,
                        const double *restrict b, const double *restrict s, ptrdiff_t n,
                        double div, double *restrict loss, double *restrict grad,
                        double *restrict scratch);
typedef void fl_products0_fn(const double *u, const double *v, double *y, ptrdiff_t n);
typedef void fl_bce_fn(const double *restrict p, const double *restrict a,
                       const double *restrict b, const double *restrict s, ptrdiff_t n,
                       double eps, double div, double *restrict loss,
                       double *restrict grad, double *restrict scratch);
typedef int fl_vexpf_lim_fn(const float *restrict x, double *restrict y, ptrdiff_t n,
                            float lim);
typedef int fl_labels_i64_fn(const int64_t *restrict t, ptrdiff_t n, int64_t C, int64_t ign,
                             int has_ignore, int64_t *restrict out);
typedef void fl_col_sums_but_fn(double *restrict e, ptrdiff_t n, ptrdiff_t C,
                                const int64_t *restrict lab, double *restrict s,
                                double *restrict ek);
typedef int fl_col_expf_sums_but_fn(const float *restrict x, ptrdiff_t xs, ptrdiff_t n,
                                    ptrdiff_t C, float lim, const int64_t *restrict lab,
                                    double *restrict s, double *restrict ek,
                                    float *restrict e);
typedef void fl_scale_cols_d_fn(const double *restrict e, ptrdiff_t n, ptrdiff_t C,
                                const double *restrict f, double *restrict g, ptrdiff_t gcs,
                                const int64_t *restrict lab, const double *restrict kv);
typedef void fl_scale_cols_f_fn(const float *restrict e, ptrdiff_t n, ptrdiff_t C,
                                const double *restrict f, float *restrict g, ptrdiff_t gcs,
                                const int64_t *restrict lab, const double *restrict kv);
typedef int fl_vexp_lim_fn(const double *restrict x, ptrdiff_t xs, double *restrict y,
                           ptrdiff_t n, ptrdiff_t runs, double lim);
typedef void fl_vrdiv_fn(double c, const double *restrict b, double *restrict y,
                         ptrdiff_t n);

typedef ptrdiff_t fl_nonzero_f64_fn(const double *restrict t, ptrdiff_t n,
                                    int32_t *restrict out);
typedef ptrdiff_t fl_nonzero_f32_fn(const float *restrict t, ptrdiff_t n,
                                    int32_t *restrict out);

typedef void fl_sq_lanes_dd_fn(const double *restrict p, const double *restrict t,
                               ptrdiff_t n, double *restrict lanes);
typedef void fl_sq_lanes_df_fn(const double *restrict p, const float *restrict t,
                               ptrdiff_t n, double *restrict lanes);
typedef void fl_sq_lanes_fd_fn(const float *restrict p, const double *restrict t,
                               ptrdiff_t n, double *restrict lanes);
typedef void fl_sq_lanes_ff_fn(const float *restrict p, const float *restrict t,
                               ptrdiff_t n, double *restrict lanes);

typedef void fl_shift_rows_d_fn(const double *restrict x, ptrdiff_t rows, ptrdiff_t C,
                                ptrdiff_t rs, double *restrict a, double *restrict m);
typedef void fl_shift_rows_f_fn(const float *restrict x, ptrdiff_t rows, ptrdiff_t C,
                                ptrdiff_t rs, double *restrict a, double *restrict m);
typedef void fl_row_sums_fn(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                            double *restrict s);
typedef void fl_row_sums_but_fn(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                                const int64_t *restrict lab, double *restrict s,
                                double *restrict ek);
typedef void fl_tail_logs_fn(const double *restrict tl, const double *restrict ek,
                             double *restrict ssum, double *restrict lu, double *restrict lc,
                             double *restrict pk, ptrdiff_t n);
typedef ptrdiff_t fl_weigh_fn(const double *restrict w, double *restrict y, ptrdiff_t n);
typedef void fl_scale_rows_d_fn(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                                const double *restrict f, double *restrict g, ptrdiff_t grs,
                                const int64_t *restrict lab, const double *restrict kv);
typedef void fl_scale_rows_f_fn(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                                const double *restrict f, float *restrict g, ptrdiff_t grs,
                                const int64_t *restrict lab, const double *restrict kv);

typedef ptrdiff_t fl_onehot_gather_dd_fn(const double *restrict p, ptrdiff_t prs, ptrdiff_t pcs,
                                         const double *restrict t, ptrdiff_t trs,
                                         ptrdiff_t rows, ptrdiff_t C, double eps,
                                         double *restrict q, double *restrict pe,
                                         int32_t *restrict col, int flat);
typedef ptrdiff_t fl_onehot_gather_df_fn(const double *restrict p, ptrdiff_t prs, ptrdiff_t pcs,
                                         const float *restrict t, ptrdiff_t trs,
                                         ptrdiff_t rows, ptrdiff_t C, double eps,
                                         double *restrict q, double *restrict pe,
                                         int32_t *restrict col, int flat);
typedef ptrdiff_t fl_onehot_gather_fd_fn(const float *restrict p, ptrdiff_t prs, ptrdiff_t pcs,
                                         const double *restrict t, ptrdiff_t trs,
                                         ptrdiff_t rows, ptrdiff_t C, double eps,
                                         double *restrict q, double *restrict pe,
                                         int32_t *restrict col, int flat);
typedef ptrdiff_t fl_onehot_gather_ff_fn(const float *restrict p, ptrdiff_t prs, ptrdiff_t pcs,
                                         const float *restrict t, ptrdiff_t trs,
                                         ptrdiff_t rows, ptrdiff_t C, double eps,
                                         double *restrict q, double *restrict pe,
                                         int32_t *restrict col, int flat);
typedef void fl_onehot_cols_d_fn(const double *restrict t, ptrdiff_t rows, ptrdiff_t C,
                                 ptrdiff_t rs, int32_t *restrict col);
typedef void fl_onehot_cols_f_fn(const float *restrict t, ptrdiff_t rows, ptrdiff_t C,
                                 ptrdiff_t rs, int32_t *restrict col);

typedef int fl_binprod_dd_fn(const double *restrict p, const double *restrict t, ptrdiff_t L,
                             double eps, double *restrict P, uint64_t *restrict mxp,
                             double *M, double *E);
typedef int fl_binprod_df_fn(const double *restrict p, const float *restrict t, ptrdiff_t L,
                             double eps, double *restrict P, uint64_t *restrict mxp,
                             double *M, double *E);
typedef int fl_binprod_fd_fn(const float *restrict p, const double *restrict t, ptrdiff_t L,
                             double eps, double *restrict P, uint64_t *restrict mxp,
                             double *M, double *E);
typedef int fl_binprod_ff_fn(const float *restrict p, const float *restrict t, ptrdiff_t L,
                             double eps, double *restrict P, uint64_t *restrict mxp,
                             double *M, double *E);
typedef ptrdiff_t fl_count_ones_d_fn(const double *restrict t, ptrdiff_t L);
typedef ptrdiff_t fl_count_ones_f_fn(const float *restrict t, ptrdiff_t L);

typedef void fl_half_to_float_fn(const uint16_t *restrict h, float *restrict f, ptrdiff_t n);
typedef void fl_float_to_half_fn(const float *restrict f, uint16_t *restrict h, ptrdiff_t n);

/* ------------------------------------------------------------------------
 * Scalar helpers
 * ---------------------------------------------------------------------- */
static inline double fl_as_double(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static inline uint64_t fl_as_u64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static inline float fl_as_float(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t fl_as_u32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static inline int fl_one_bit(uint64_t m)     /* exactly one bit set */
{ return m != 0 && (m & (m - 1)) == 0; }

static inline int fl_ctz64(uint64_t m)       /* m != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctzll(m);
#else
    int n = 0;
    while (!(m & 1)) { m >>= 1; n++; }
    return n;
#endif
}

#endif
