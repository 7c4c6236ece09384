/* Vectorisable exp and log over arrays of doubles.
 *
 * glibc's scalar log/exp cost 15-20 cycles a call and cannot be vectorised,
 * which for a 100 x 10 batch is most of a call.  These loops are branch-free
 * on the usual inputs so the compiler turns them into SIMD code; the rare
 * special inputs (zero, negative, subnormal, inf, NaN, huge exponents) are
 * flagged in the same pass and recomputed with libm afterwards, so the results
 * are those of a < 1 ulp implementation everywhere.
 *
 * Algorithms: log is fdlibm's (reduction to [sqrt(2)/2, sqrt(2)), then
 * 2 atanh(s) by a degree-14 polynomial in s); exp reduces by k ln 2
 * (|r| <= ln2 / 2) and evaluates a degree-11 Chebyshev fit (error 3.2e-18).
 *
 * On x86-64 with GCC or clang each array function is compiled twice, for
 * baseline x86-64 and for AVX2+FMA, and fl_vmath_init() picks one from the
 * CPU's features at import, so one wheel runs on any x86-64 and uses AVX2
 * where the CPU has it.  (target_clones("arch=haswell") would not pick the
 * AVX2 loop on AMD CPUs.)  The two variants may differ in the last bit
 * (FMA); a given machine always runs the same one.
 */
#ifndef FASTLOSS_VMATH_H
#define FASTLOSS_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <stddef.h>

#ifdef _MSC_VER
#define restrict __restrict
#define __attribute__(x)
#endif

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) \
    && !defined(FASTLOSS_NO_SIMD_DISPATCH)
#define FL_DISPATCH 1
#else
#define FL_DISPATCH 0
#endif

static inline double fl_as_double(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
static inline uint64_t fl_as_u64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

/* log(x) for a normal, positive, finite x */
static inline double fl_log_core(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                 Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                 Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;
    uint64_t ix = fl_as_u64(x);
    /* x = 2^k m with m in [sqrt(2)/2, sqrt(2)) */
    ix += (uint64_t)(0x3ff00000 - 0x3fe6a09e) << 32;
    /* k as a double without an int64 -> double conversion (not in AVX2) */
    double dk = fl_as_double(0x4330000000000000ULL | (ix >> 52)) - 4503599627370496.0 - 1023.0;
    ix = (ix & 0x000fffffffffffffULL) + ((uint64_t)0x3fe6a09e << 32);
    double f = fl_as_double(ix) - 1.0;
    double hfsq = 0.5 * f * f;
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    double R = t2 + t1;
    return s * (hfsq + R) + dk * ln2_lo - hfsq + f + dk * ln2_hi;
}

/* exp(x) for -700 <= x <= 700 */
static inline double fl_exp_core(double x)
{
    const double inv_ln2 = 1.44269504088896338700e+00;
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double shifter = 6755399441055744.0;            /* 1.5 * 2^52 */
    double kd = x * inv_ln2 + shifter;                     /* round to nearest */
    uint64_t ki = fl_as_u64(kd);
    kd -= shifter;
    double r = (x - kd * ln2_hi) - kd * ln2_lo;
    /* degree-11 Chebyshev fit of exp on [-ln2/2, ln2/2] (error 3.2e-18) */
    double p = 2.5110037605963777e-08;
    p = 2.763263963904103e-07 + r * p;
    p = 2.755724091857897e-06 + r * p;
    p = 2.4801485482328494e-05 + r * p;
    p = 0.00019841269890047113 + r * p;
    p = 0.0013888888952314775 + r * p;
    p = 0.008333333333319601 + r * p;
    p = 0.0416666666664881 + r * p;
    p = 0.1666666666666668 + r * p;
    p = 0.5000000000000019 + r * p;
    p = 1.0 + r * p;
    p = 1.0 + r * p;
    /* 2^k from the low bits of ki (k in [-1010, 1010]) */
    uint64_t scale_bits = ((ki + 1023) & 0x7ff) << 52;
    return p * fl_as_double(scale_bits);
}

/* y[i] = log(x[i]).  x and y must not overlap. */
static inline __attribute__((always_inline)) void
fl_vlog_body(const double *restrict x, double *restrict y, ptrdiff_t n)
{
    int64_t special = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        double v = x[i];
        special |= (int64_t)(((v >= 2.2250738585072014e-308) & (v <= 1.7976931348623157e308)) ^ 1);
        y[i] = fl_log_core(v);
    }
    if (special) {
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = x[i];
            if (!(v >= 2.2250738585072014e-308 && v <= 1.7976931348623157e308))
                y[i] = log(v);
        }
    }
}

/* y[i] = exp(x[i]).  x and y must not overlap. */
static inline __attribute__((always_inline)) void
fl_vexp_body(const double *restrict x, double *restrict y, ptrdiff_t n)
{
    int64_t special = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        double v = x[i];
        special |= (int64_t)(((v >= -700.0) & (v <= 700.0)) ^ 1);
        y[i] = fl_exp_core(v);
    }
    if (special) {
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = x[i];
            if (!(v >= -700.0 && v <= 700.0))
                y[i] = exp(v);
        }
    }
}

typedef void (*fl_varray_fn)(const double *restrict, double *restrict, ptrdiff_t);

static void fl_vlog_base(const double *restrict x, double *restrict y, ptrdiff_t n)
{ fl_vlog_body(x, y, n); }
static void fl_vexp_base(const double *restrict x, double *restrict y, ptrdiff_t n)
{ fl_vexp_body(x, y, n); }

#if FL_DISPATCH
__attribute__((target("avx2,fma"))) static void
fl_vlog_avx2(const double *restrict x, double *restrict y, ptrdiff_t n)
{ fl_vlog_body(x, y, n); }
__attribute__((target("avx2,fma"))) static void
fl_vexp_avx2(const double *restrict x, double *restrict y, ptrdiff_t n)
{ fl_vexp_body(x, y, n); }
#endif


/* ------------------------------------------------------------------------
 * Nonzero positions: out[0..k) = the offsets i in [0, n) with t[i] != 0, in
 * increasing order; returns k.  out must have room for n + 4 entries (the
 * SIMD loop stores four at a time).  Used to find the terms of one-hot
 * targets without a data-dependent branch per element.
 * ---------------------------------------------------------------------- */

#define FL_NONZERO_SCALAR(T)                                                  \
    ptrdiff_t k = 0;                                                          \
    for (; i < n; i++) {                                                      \
        out[k] = (int32_t)i;                                                  \
        k += t[i] != (T)0;                                                    \
    }

static ptrdiff_t fl_nonzero_f64_base(const double *restrict t, ptrdiff_t n, int32_t *restrict out)
{ ptrdiff_t i = 0; FL_NONZERO_SCALAR(double) return k; }
static ptrdiff_t fl_nonzero_f32_base(const float *restrict t, ptrdiff_t n, int32_t *restrict out)
{ ptrdiff_t i = 0; FL_NONZERO_SCALAR(float) return k; }

#if FL_DISPATCH
#include <immintrin.h>

/* the lanes of a 4-bit mask, packed to the front */
static const int32_t fl_pack4[16][4] __attribute__((aligned(16))) = {
    {0,0,0,0}, {0,0,0,0}, {1,0,0,0}, {0,1,0,0}, {2,0,0,0}, {0,2,0,0}, {1,2,0,0}, {0,1,2,0},
    {3,0,0,0}, {0,3,0,0}, {1,3,0,0}, {0,1,3,0}, {2,3,0,0}, {0,2,3,0}, {1,2,3,0}, {0,1,2,3}};

__attribute__((target("avx2,popcnt"))) static ptrdiff_t
fl_nonzero_f64_avx2(const double *restrict t, ptrdiff_t n, int32_t *restrict out)
{
    ptrdiff_t i = 0, k = 0;
    const __m256d zero = _mm256_setzero_pd();
    for (; i + 4 <= n; i += 4) {
        int m = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(t + i), zero, _CMP_NEQ_UQ));
        __m128i lanes = _mm_load_si128((const __m128i *)fl_pack4[m]);
        _mm_storeu_si128((__m128i *)(out + k), _mm_add_epi32(lanes, _mm_set1_epi32((int32_t)i)));
        k += _mm_popcnt_u32((unsigned)m);
    }
    for (; i < n; i++) {
        out[k] = (int32_t)i;
        k += t[i] != 0.0;
    }
    return k;
}

__attribute__((target("avx2,popcnt"))) static ptrdiff_t
fl_nonzero_f32_avx2(const float *restrict t, ptrdiff_t n, int32_t *restrict out)
{
    ptrdiff_t i = 0, k = 0;
    const __m128 zero = _mm_setzero_ps();
    for (; i + 4 <= n; i += 4) {
        int m = _mm_movemask_ps(_mm_cmp_ps(_mm_loadu_ps(t + i), zero, _CMP_NEQ_UQ));
        __m128i lanes = _mm_load_si128((const __m128i *)fl_pack4[m]);
        _mm_storeu_si128((__m128i *)(out + k), _mm_add_epi32(lanes, _mm_set1_epi32((int32_t)i)));
        k += _mm_popcnt_u32((unsigned)m);
    }
    for (; i < n; i++) {
        out[k] = (int32_t)i;
        k += t[i] != 0.0f;
    }
    return k;
}
#endif

typedef ptrdiff_t (*fl_nonzero_f64_fn)(const double *restrict, ptrdiff_t, int32_t *restrict);
typedef ptrdiff_t (*fl_nonzero_f32_fn)(const float *restrict, ptrdiff_t, int32_t *restrict);
static fl_nonzero_f64_fn fl_nonzero_f64_impl = fl_nonzero_f64_base;
static fl_nonzero_f32_fn fl_nonzero_f32_impl = fl_nonzero_f32_base;

static inline ptrdiff_t fl_nonzero_f64(const double *t, ptrdiff_t n, int32_t *out)
{ return fl_nonzero_f64_impl(t, n, out); }
static inline ptrdiff_t fl_nonzero_f32(const float *t, ptrdiff_t n, int32_t *out)
{ return fl_nonzero_f32_impl(t, n, out); }

static fl_varray_fn fl_vlog_impl = fl_vlog_base;
static fl_varray_fn fl_vexp_impl = fl_vexp_base;
static const char *fl_simd_name = "baseline";


/* ------------------------------------------------------------------------
 * Squared error over contiguous p, t: lanes[f % 8] += (p[f] - (TP)t[f])^2.
 * Compiled without FMA in every variant, so the result is bit-identical to
 * the scalar loop the kernels use for strided layouts.
 * ---------------------------------------------------------------------- */
#define FL_SQ_LANES_BODY(TP, TT)                                              \
    double a[8];                                                              \
    for (int l = 0; l < 8; l++) a[l] = lanes[l];                              \
    ptrdiff_t n8 = n - (n & 7), f;                                            \
    for (f = 0; f < n8; f += 8)                                               \
        for (int l = 0; l < 8; l++) {                                         \
            double d = (double)p[f + l] - (double)(TP)t[f + l];               \
            a[l] += d * d;                                                    \
        }                                                                     \
    for (f = n8; f < n; f++) {                                                \
        double d = (double)p[f] - (double)(TP)t[f];                           \
        a[f & 7] += d * d;                                                    \
    }                                                                         \
    for (int l = 0; l < 8; l++) lanes[l] = a[l];

#define FL_SQ_LANES(SUF, TP, TT)                                              \
static void fl_sq_lanes_##SUF##_base(const TP *restrict p, const TT *restrict t, \
                                     ptrdiff_t n, double *restrict lanes)    \
{ FL_SQ_LANES_BODY(TP, TT) }                                                  \
FL_SQ_LANES_AVX2(SUF, TP, TT)                                                 \
static void (*fl_sq_lanes_##SUF##_impl)(const TP *restrict, const TT *restrict, \
                                        ptrdiff_t, double *restrict)         \
    = fl_sq_lanes_##SUF##_base;                                               \
static inline void fl_sq_lanes_##SUF(const TP *p, const TT *t, ptrdiff_t n, double *lanes) \
{ fl_sq_lanes_##SUF##_impl(p, t, n, lanes); }

#if FL_DISPATCH
#define FL_SQ_LANES_AVX2(SUF, TP, TT)                                         \
__attribute__((target("avx2"))) static void                                   \
fl_sq_lanes_##SUF##_avx2(const TP *restrict p, const TT *restrict t,          \
                         ptrdiff_t n, double *restrict lanes)                 \
{ FL_SQ_LANES_BODY(TP, TT) }
#else
#define FL_SQ_LANES_AVX2(SUF, TP, TT)
#endif

FL_SQ_LANES(dd, double, double)
FL_SQ_LANES(df, double, float)
FL_SQ_LANES(fd, float, double)
FL_SQ_LANES(ff, float, float)


/* ------------------------------------------------------------------------
 * Softmax rows: for each of `rows` rows of C contiguous logits (row stride
 * rs elements), m[i] = max_j x[i, j] and a[i*C + j] = x[i, j] - m[i].
 * The maximum is exact, so the SIMD and scalar variants agree bit for bit
 * (rows holding NaN give NaN either way, through a).
 * ---------------------------------------------------------------------- */
#define FL_SHIFT_ROWS_BODY(TP)                                                \
    for (ptrdiff_t i = 0; i < rows; i++) {                                    \
        const TP *xr = x + i * rs;                                            \
        double mx = -INFINITY;                                                \
        for (ptrdiff_t j = 0; j < C; j++) {                                   \
            double v = (double)xr[j];                                         \
            mx = v > mx ? v : mx;                                             \
        }                                                                     \
        m[i] = mx;                                                            \
        double *ar = a + i * C;                                               \
        for (ptrdiff_t j = 0; j < C; j++)                                     \
            ar[j] = (double)xr[j] - mx;                                       \
    }

static void fl_shift_rows_d_base(const double *restrict x, ptrdiff_t rows, ptrdiff_t C,
                                 ptrdiff_t rs, double *restrict a, double *restrict m)
{ FL_SHIFT_ROWS_BODY(double) }
static void fl_shift_rows_f_base(const float *restrict x, ptrdiff_t rows, ptrdiff_t C,
                                 ptrdiff_t rs, double *restrict a, double *restrict m)
{ FL_SHIFT_ROWS_BODY(float) }

#if FL_DISPATCH
/* lanes [0, k) of a 4-lane mask, k = 0..4 */
static const int64_t fl_mask4[5][4] __attribute__((aligned(32))) = {
    {0, 0, 0, 0}, {-1, 0, 0, 0}, {-1, -1, 0, 0}, {-1, -1, -1, 0}, {-1, -1, -1, -1}};

__attribute__((target("avx2"))) static void
fl_shift_rows_d_avx2(const double *restrict x, ptrdiff_t rows, ptrdiff_t C,
                     ptrdiff_t rs, double *restrict a, double *restrict m)
{
    /* masked loads for the last partial vector: no scalar tail per row */
    const ptrdiff_t full = C & ~(ptrdiff_t)3;
    const __m256i tail = _mm256_load_si256((const __m256i *)fl_mask4[C & 3]);
    const __m256d ninf = _mm256_set1_pd(-INFINITY);
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *xr = x + i * rs;
        double *ar = a + i * C;
        ptrdiff_t j;
        __m256d vm = ninf;
        for (j = 0; j < full; j += 4)
            vm = _mm256_max_pd(_mm256_loadu_pd(xr + j), vm);
        if (C & 3)
            vm = _mm256_max_pd(_mm256_blendv_pd(ninf, _mm256_maskload_pd(xr + full, tail),
                                                _mm256_castsi256_pd(tail)), vm);
        __m128d h = _mm_max_pd(_mm256_castpd256_pd128(vm), _mm256_extractf128_pd(vm, 1));
        h = _mm_max_sd(_mm_unpackhi_pd(h, h), h);
        double mx = _mm_cvtsd_f64(h);
        m[i] = mx;
        __m256d vmx = _mm256_set1_pd(mx);
        for (j = 0; j < full; j += 4)
            _mm256_storeu_pd(ar + j, _mm256_sub_pd(_mm256_loadu_pd(xr + j), vmx));
        if (C & 3)
            _mm256_maskstore_pd(ar + full, tail,
                                _mm256_sub_pd(_mm256_maskload_pd(xr + full, tail), vmx));
    }
}
__attribute__((target("avx2"))) static void
fl_shift_rows_f_avx2(const float *restrict x, ptrdiff_t rows, ptrdiff_t C,
                     ptrdiff_t rs, double *restrict a, double *restrict m)
{ FL_SHIFT_ROWS_BODY(float) }
#endif

typedef void (*fl_shift_rows_d_fn)(const double *restrict, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                                   double *restrict, double *restrict);
typedef void (*fl_shift_rows_f_fn)(const float *restrict, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                                   double *restrict, double *restrict);
static fl_shift_rows_d_fn fl_shift_rows_d_impl = fl_shift_rows_d_base;
static fl_shift_rows_f_fn fl_shift_rows_f_impl = fl_shift_rows_f_base;
static inline void fl_shift_rows_d(const double *x, ptrdiff_t rows, ptrdiff_t C, ptrdiff_t rs,
                                   double *a, double *m)
{ fl_shift_rows_d_impl(x, rows, C, rs, a, m); }
static inline void fl_shift_rows_f(const float *x, ptrdiff_t rows, ptrdiff_t C, ptrdiff_t rs,
                                   double *a, double *m)
{ fl_shift_rows_f_impl(x, rows, C, rs, a, m); }


/* ------------------------------------------------------------------------
 * Row sums of a contiguous rows x C buffer: s[i] = (l0 + l1) + (l2 + l3),
 * l_k the sum of the row's elements j = k mod 4 in increasing j.  The
 * AVX2 variant keeps the four lanes in one register (masked tail adds +0),
 * so both give the same bits.
 * ---------------------------------------------------------------------- */
static void fl_row_sums_base(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                             double *restrict s)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *er = e + i * C;
        double l[4] = {0.0, 0.0, 0.0, 0.0};
        for (ptrdiff_t j = 0; j < C; j++)
            l[j & 3] += er[j];
        s[i] = (l[0] + l[1]) + (l[2] + l[3]);
    }
}

#if FL_DISPATCH
__attribute__((target("avx2"))) static void
fl_row_sums_avx2(const double *restrict e, ptrdiff_t rows, ptrdiff_t C, double *restrict s)
{
    const ptrdiff_t full = C & ~(ptrdiff_t)3;
    const __m256i tail = _mm256_load_si256((const __m256i *)fl_mask4[C & 3]);
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *er = e + i * C;
        __m256d v = _mm256_setzero_pd();
        for (ptrdiff_t j = 0; j < full; j += 4)
            v = _mm256_add_pd(v, _mm256_loadu_pd(er + j));
        if (C & 3)
            v = _mm256_add_pd(v, _mm256_maskload_pd(er + full, tail));
        __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
        __m128d a = _mm_add_sd(lo, _mm_unpackhi_pd(lo, lo));   /* l0 + l1 */
        __m128d b = _mm_add_sd(hi, _mm_unpackhi_pd(hi, hi));   /* l2 + l3 */
        s[i] = _mm_cvtsd_f64(_mm_add_sd(a, b));
    }
}
#endif

static void (*fl_row_sums_impl)(const double *restrict, ptrdiff_t, ptrdiff_t, double *restrict)
    = fl_row_sums_base;
static inline void fl_row_sums(const double *e, ptrdiff_t rows, ptrdiff_t C, double *s)
{ fl_row_sums_impl(e, rows, C, s); }


/* ------------------------------------------------------------------------
 * One-hot rows: for each of `rows` rows of C <= 64 contiguous targets (row
 * stride rs), col[i] = the column of the row's only nonzero, -1 if the row
 * is all zero, -2 if it has several nonzeros (NaN counts as nonzero).
 * ---------------------------------------------------------------------- */
#define FL_ONEHOT_SCALAR(T)                                                   \
    for (ptrdiff_t i = 0; i < rows; i++) {                                    \
        const T *tr = t + i * rs;                                             \
        int32_t n = 0, last = 0;                                              \
        for (ptrdiff_t j = 0; j < C; j++) {                                   \
            int32_t nz = tr[j] != (T)0;                                       \
            n += nz;                                                          \
            last = nz ? (int32_t)j : last;                                    \
        }                                                                     \
        col[i] = n == 1 ? last : (n == 0 ? -1 : -2);                          \
    }

static void fl_onehot_cols_d_base(const double *restrict t, ptrdiff_t rows, ptrdiff_t C,
                                  ptrdiff_t rs, int32_t *restrict col)
{ FL_ONEHOT_SCALAR(double) }
static void fl_onehot_cols_f_base(const float *restrict t, ptrdiff_t rows, ptrdiff_t C,
                                  ptrdiff_t rs, int32_t *restrict col)
{ FL_ONEHOT_SCALAR(float) }

#if FL_DISPATCH
__attribute__((target("avx2,popcnt,bmi"))) static void
fl_onehot_cols_d_avx2(const double *restrict t, ptrdiff_t rows, ptrdiff_t C,
                      ptrdiff_t rs, int32_t *restrict col)
{
    const ptrdiff_t full = C & ~(ptrdiff_t)3;
    const __m256i tail = _mm256_load_si256((const __m256i *)fl_mask4[C & 3]);
    const __m256d zero = _mm256_setzero_pd();
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *tr = t + i * rs;
        uint64_t m = 0;
        ptrdiff_t j;
        for (j = 0; j < full; j += 4)
            m |= (uint64_t)_mm256_movemask_pd(
                     _mm256_cmp_pd(_mm256_loadu_pd(tr + j), zero, _CMP_NEQ_UQ)) << j;
        if (C & 3)   /* masked-off lanes load 0.0: never nonzero */
            m |= (uint64_t)_mm256_movemask_pd(
                     _mm256_cmp_pd(_mm256_maskload_pd(tr + full, tail), zero, _CMP_NEQ_UQ)) << full;
        int n = (int)_mm_popcnt_u64(m);
        col[i] = n == 1 ? (int32_t)_tzcnt_u64(m) : (n == 0 ? -1 : -2);
    }
}

__attribute__((target("avx2,popcnt,bmi"))) static void
fl_onehot_cols_f_avx2(const float *restrict t, ptrdiff_t rows, ptrdiff_t C,
                      ptrdiff_t rs, int32_t *restrict col)
{
    const ptrdiff_t full = C & ~(ptrdiff_t)3;
    const __m128i tail = _mm_set_epi32(0, (C & 3) > 2 ? -1 : 0, (C & 3) > 1 ? -1 : 0,
                                       (C & 3) > 0 ? -1 : 0);
    const __m128 zero = _mm_setzero_ps();
    for (ptrdiff_t i = 0; i < rows; i++) {
        const float *tr = t + i * rs;
        uint64_t m = 0;
        ptrdiff_t j;
        for (j = 0; j < full; j += 4)
            m |= (uint64_t)_mm_movemask_ps(_mm_cmp_ps(_mm_loadu_ps(tr + j), zero, _CMP_NEQ_UQ)) << j;
        if (C & 3)   /* masked-off lanes load 0.0f: never nonzero */
            m |= (uint64_t)_mm_movemask_ps(
                     _mm_cmp_ps(_mm_maskload_ps(tr + full, tail), zero, _CMP_NEQ_UQ)) << full;
        int n = (int)_mm_popcnt_u64(m);
        col[i] = n == 1 ? (int32_t)_tzcnt_u64(m) : (n == 0 ? -1 : -2);
    }
}
#endif

static void (*fl_onehot_cols_d_impl)(const double *restrict, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                                     int32_t *restrict) = fl_onehot_cols_d_base;
static void (*fl_onehot_cols_f_impl)(const float *restrict, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                                     int32_t *restrict) = fl_onehot_cols_f_base;
static inline void fl_onehot_cols_d(const double *t, ptrdiff_t rows, ptrdiff_t C, ptrdiff_t rs,
                                    int32_t *col)
{ fl_onehot_cols_d_impl(t, rows, C, rs, col); }
static inline void fl_onehot_cols_f(const float *t, ptrdiff_t rows, ptrdiff_t C, ptrdiff_t rs,
                                    int32_t *col)
{ fl_onehot_cols_f_impl(t, rows, C, rs, col); }

/* Pick the AVX2(+FMA) loops where the CPU has them; called once at import. */
static void fl_vmath_init(void)
{
#if FL_DISPATCH
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        fl_vlog_impl = fl_vlog_avx2;
        fl_vexp_impl = fl_vexp_avx2;
        fl_simd_name = "avx2+fma";
    }
    if (__builtin_cpu_supports("avx2")) {
        fl_sq_lanes_dd_impl = fl_sq_lanes_dd_avx2;
        fl_sq_lanes_df_impl = fl_sq_lanes_df_avx2;
        fl_sq_lanes_fd_impl = fl_sq_lanes_fd_avx2;
        fl_sq_lanes_ff_impl = fl_sq_lanes_ff_avx2;
        fl_shift_rows_d_impl = fl_shift_rows_d_avx2;
        fl_shift_rows_f_impl = fl_shift_rows_f_avx2;
        fl_row_sums_impl = fl_row_sums_avx2;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) {
        fl_nonzero_f64_impl = fl_nonzero_f64_avx2;
        fl_nonzero_f32_impl = fl_nonzero_f32_avx2;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")
            && __builtin_cpu_supports("bmi")) {
        fl_onehot_cols_d_impl = fl_onehot_cols_d_avx2;
        fl_onehot_cols_f_impl = fl_onehot_cols_f_avx2;
    }
#endif
}

static inline void fl_vlog(const double *x, double *y, ptrdiff_t n) { fl_vlog_impl(x, y, n); }
static inline void fl_vexp(const double *x, double *y, ptrdiff_t n) { fl_vexp_impl(x, y, n); }

#endif
