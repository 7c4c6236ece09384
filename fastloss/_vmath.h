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
 * On x86-64 with GCC or clang each array function is compiled for baseline
 * x86-64, for AVX2+FMA and (exp, log, the one-hot scan, the binary
 * targets' product and count of ones, the float64 softmax row shift) for
 * AVX-512 F/DQ/VL, and fl_vmath_init() picks one from the CPU's features
 * at import (capped by FASTLOSS_SIMD), so one wheel runs on any x86-64 and
 * uses the widest vectors the CPU has.  (target_clones("arch=haswell") would not pick the
 * AVX2 loop on AMD CPUs.)  The variants may differ in the last bit (FMA,
 * the AVX-512 exp's table), except the binary product (fl_binprod), whose
 * order is fixed; a given machine always runs the same one.
 */
#ifndef FASTLOSS_VMATH_H
#define FASTLOSS_VMATH_H

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

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) \
    && !defined(FASTLOSS_NO_SIMD_DISPATCH)
#define FL_DISPATCH 1
#else
#define FL_DISPATCH 0
#endif

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

/* y[i] = exp(x[i]) wherever |x[i]| <= lim (lim <= 700); returns nonzero if
 * some x[i] is beyond lim or NaN, whose y[i] the caller must not use as is.
 * x and y must not overlap. */
static inline __attribute__((always_inline)) int
fl_vexp_lim_body(const double *restrict x, double *restrict y, ptrdiff_t n, double lim)
{
    int64_t special = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        double v = x[i];
        special |= (int64_t)(((v >= -lim) & (v <= lim)) ^ 1);
        y[i] = fl_exp_core(v);
    }
    return special != 0;
}

typedef void (*fl_varray_fn)(const double *restrict, double *restrict, ptrdiff_t);
typedef int (*fl_vexp_lim_fn)(const double *restrict, double *restrict, ptrdiff_t, double);

static void fl_vlog_base(const double *restrict x, double *restrict y, ptrdiff_t n)
{ fl_vlog_body(x, y, n); }
static int fl_vexp_lim_base(const double *restrict x, double *restrict y, ptrdiff_t n, double lim)
{ return fl_vexp_lim_body(x, y, n, lim); }

#if FL_DISPATCH
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static void
fl_vlog_avx2(const double *restrict x, double *restrict y, ptrdiff_t n)
{ fl_vlog_body(x, y, n); }
__attribute__((target("avx2,fma"))) static int
fl_vexp_lim_avx2(const double *restrict x, double *restrict y, ptrdiff_t n, double lim)
{ return fl_vexp_lim_body(x, y, n, lim); }

/* AVX-512: GCC keeps auto-vectorised loops at 256 bits unless asked */
#if defined(__clang__)
#define FL_AVX512 "avx512f,avx512dq,avx512vl,avx2,fma"
#else
#define FL_AVX512 "avx512f,avx512dq,avx512vl,avx2,fma,prefer-vector-width=512"
#endif

__attribute__((target(FL_AVX512))) static void
fl_vlog_avx512(const double *restrict x, double *restrict y, ptrdiff_t n)
{ fl_vlog_body(x, y, n); }

/* exp on AVX-512: x = (16k + j) ln2/16 + r with |r| <= ln2/32, and
 * exp(x) = 2^k 2^(j/16) exp(r).  2^(j/16) is a 16-entry table held in two
 * registers as hi + lo (a vpermt2pd lookup each, indexed by the low bits of
 * the rounded 16k + j); exp(r) = 1 + r + r^2 q(r), q a degree-4 Chebyshev
 * fit of (exp(r) - 1 - r)/r^2 (relative error 2.8e-17).  Five fewer FMAs
 * than the degree-11 loop; measured error <= 0.76 ulp over 1.3e7 inputs. */
static const double fl_exp2_16_hi[16] __attribute__((aligned(64))) = {
    1.0, 1.0442737824274138, 1.0905077326652577, 1.1387886347566916,
    1.189207115002721, 1.241857812073484, 1.2968395546510096, 1.3542555469368927,
    1.4142135623730951, 1.4768261459394993, 1.5422108254079407, 1.6104903319492543,
    1.681792830507429, 1.7562521603732995, 1.8340080864093424, 1.9152065613971474};
static const double fl_exp2_16_lo[16] __attribute__((aligned(64))) = {
    0.0, 8.551889705537965e-17, -3.046782079812471e-17, 8.912812676025408e-17,
    3.982015231465646e-17, 4.658027591836937e-17, 2.5382502794888315e-17,
    7.70094837980299e-17, -9.667293313452913e-17, -3.483994556892796e-17,
    7.949834809697621e-17, 2.4707192569797888e-17, 8.199010020581497e-17,
    2.960140695448873e-17, 3.283107224245627e-17, -1.0619946056195963e-16};

__attribute__((target(FL_AVX512))) static inline __m512d
fl_exp8_avx512(__m512d v, __m512d hi0, __m512d hi1, __m512d lo0, __m512d lo1)
{
    const __m512d shifter = _mm512_set1_pd(6755399441055744.0);   /* 1.5 * 2^52 */
    /* kd = round(x * 16 / ln2); its low bits in ki are 16k + j */
    __m512d kd = _mm512_fmadd_pd(v, _mm512_set1_pd(23.083120654223414), shifter);
    __m512i ki = _mm512_castpd_si512(kd);
    kd = _mm512_sub_pd(kd, shifter);
    __m512d r = _mm512_fnmadd_pd(kd, _mm512_set1_pd(6.93147180369123816490e-01 / 16), v);
    r = _mm512_fnmadd_pd(kd, _mm512_set1_pd(1.90821492927058770002e-10 / 16), r);
    __m512d q = _mm512_set1_pd(0.0013889034348599464);
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.008333449701253456));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.04166666666496045));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.1666666666530169));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.5));
    __m512d t = _mm512_fmadd_pd(_mm512_mul_pd(r, r), q, r);       /* exp(r) - 1 */
    __m512d hi = _mm512_permutex2var_pd(hi0, ki, hi1);              /* bits 0-3 of ki */
    __m512d lo = _mm512_permutex2var_pd(lo0, ki, lo1);
    __m512d y = _mm512_add_pd(_mm512_fmadd_pd(hi, t, lo), hi);     /* in [0.98, 2.04) */
    /* times 2^k: add k = (ki >> 4) to the exponent field (|k| <= 1010) */
    __m512i k52 = _mm512_slli_epi64(_mm512_andnot_si512(_mm512_set1_epi64(15), ki), 48);
    return _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(y), k52));
}

__attribute__((target(FL_AVX512))) static int
fl_vexp_lim_avx512(const double *restrict x, double *restrict y, ptrdiff_t n, double lim)
{
    const __m512d hi0 = _mm512_load_pd(fl_exp2_16_hi), hi1 = _mm512_load_pd(fl_exp2_16_hi + 8);
    const __m512d lo0 = _mm512_load_pd(fl_exp2_16_lo), lo1 = _mm512_load_pd(fl_exp2_16_lo + 8);
    const __m512d vlim = _mm512_set1_pd(lim);
    __mmask8 special = 0;
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d v = _mm512_loadu_pd(x + i);
        special |= _mm512_cmp_pd_mask(_mm512_abs_pd(v), vlim, _CMP_NLE_UQ);   /* or NaN */
        _mm512_storeu_pd(y + i, fl_exp8_avx512(v, hi0, hi1, lo0, lo1));
    }
    if (i < n) {
        __mmask8 m = (__mmask8)((1u << (n - i)) - 1);
        __m512d v = _mm512_maskz_loadu_pd(m, x + i);
        special |= _mm512_mask_cmp_pd_mask(m, _mm512_abs_pd(v), vlim, _CMP_NLE_UQ);
        _mm512_mask_storeu_pd(y + i, m, fl_exp8_avx512(v, hi0, hi1, lo0, lo1));
    }
    return special != 0;
}
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
static fl_vexp_lim_fn fl_vexp_lim_impl = fl_vexp_lim_base;
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
/* The SIMD row loops below split a row into 4-, 2- and 1-element pieces
 * rather than using masked loads and stores (vmaskmovpd, or AVX-512 k-masked
 * stores): those cost several times a plain access on AMD Zen, and rows of
 * 10 made them the larger part of a softmax. */
#define FL_MAX_PIECES(LOAD4, LOAD2, LOAD1)                                    \
    __m256d vm = _mm256_set1_pd(-INFINITY);                                   \
    ptrdiff_t j = 0;                                                          \
    for (; j + 4 <= C; j += 4)                                                \
        vm = _mm256_max_pd(LOAD4(xr + j), vm);  /* NaN in x: vm kept */       \
    __m128d h = _mm_max_pd(_mm256_castpd256_pd128(vm), _mm256_extractf128_pd(vm, 1)); \
    if (j + 2 <= C)                                                           \
        h = _mm_max_pd(LOAD2(xr + j), h);                                     \
    h = _mm_max_sd(_mm_unpackhi_pd(h, h), h);                                 \
    if (C & 1)                                                                \
        h = _mm_max_sd(LOAD1(xr + C - 1), h);                                 \
    const double mx = _mm_cvtsd_f64(h);
#define FL_SUB_PIECES(LOAD4, LOAD2, LOAD1)                                    \
    const __m256d vmx = _mm256_set1_pd(mx);                                   \
    for (j = 0; j + 4 <= C; j += 4)                                           \
        _mm256_storeu_pd(ar + j, _mm256_sub_pd(LOAD4(xr + j), vmx));          \
    if (j + 2 <= C)                                                           \
        _mm_storeu_pd(ar + j, _mm_sub_pd(LOAD2(xr + j), _mm256_castpd256_pd128(vmx))); \
    if (C & 1)                                                                \
        ar[C - 1] = (double)xr[C - 1] - mx;
#define FL_LD4D(p) _mm256_loadu_pd(p)
#define FL_LD2D(p) _mm_loadu_pd(p)
#define FL_LD1D(p) _mm_load_sd(p)
#define FL_LD4F(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
/* two floats as one 64-bit unaligned load (_mm_load_sd on a float pointer
 * would be a misaligned double access: undefined, and UBSan says so) */
#define FL_LD2F(p) _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(p))))
#define FL_LD1F(p) _mm_set_sd((double)*(p))

__attribute__((target("avx2"))) static void
fl_shift_rows_d_avx2(const double *restrict x, ptrdiff_t rows, ptrdiff_t C,
                     ptrdiff_t rs, double *restrict a, double *restrict m)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *xr = x + i * rs;
        double *ar = a + i * C;
        FL_MAX_PIECES(FL_LD4D, FL_LD2D, FL_LD1D)
        m[i] = mx;
        FL_SUB_PIECES(FL_LD4D, FL_LD2D, FL_LD1D)
    }
}
__attribute__((target("avx2"))) static void
fl_shift_rows_f_avx2(const float *restrict x, ptrdiff_t rows, ptrdiff_t C,
                     ptrdiff_t rs, double *restrict a, double *restrict m)
{
    /* float32 logits widened to double (exact) */
    for (ptrdiff_t i = 0; i < rows; i++) {
        const float *xr = x + i * rs;
        double *ar = a + i * C;
        FL_MAX_PIECES(FL_LD4F, FL_LD2F, FL_LD1F)
        m[i] = mx;
        FL_SUB_PIECES(FL_LD4F, FL_LD2F, FL_LD1F)
    }
}

/* AVX-512, float64, C <= 16: a row is one or two vectors (masked loads,
 * -inf in the lanes past C), reduced to its maximum and stored whole.  A
 * whole-vector store runs past the row into the next rows' place, which
 * they overwrite in turn; the rows near the end of a, where it would run
 * past a[rows * C], take masked stores (slow on AMD Zen, so only there).
 * The maximum skips NaN as the other variants do (max_pd returns its second
 * operand).  100 x 10: 0.25 -> 0.20 us in C.  For float32 logits the
 * widening made it slower than the AVX2 loop, which they keep. */
__attribute__((target(FL_AVX512))) static void
fl_shift_rows_d_avx512(const double *restrict x, ptrdiff_t rows, ptrdiff_t C,
                       ptrdiff_t rs, double *restrict a, double *restrict m)
{
    if (C > 16) {
        fl_shift_rows_d_avx2(x, rows, C, rs, a, m);
        return;
    }
    const __mmask8 k0 = (__mmask8)(C >= 8 ? 0xffu : (1u << C) - 1u);
    const __mmask8 k1 = (__mmask8)(C >= 16 ? 0xffu : C > 8 ? (1u << (C - 8)) - 1u : 0u);
    const __m512d ninf = _mm512_set1_pd(-INFINITY);
    const ptrdiff_t W = C > 8 ? 16 : 8, end = rows * C;
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *xr = x + i * rs;
        const __m512d v0 = _mm512_mask_loadu_pd(ninf, k0, xr);
        const __m512d v1 = _mm512_mask_loadu_pd(ninf, k1, xr + 8);
        const __m512d mm = _mm512_max_pd(v1, _mm512_max_pd(v0, ninf));
        __m256d h = _mm256_max_pd(_mm512_castpd512_pd256(mm), _mm512_extractf64x4_pd(mm, 1));
        __m128d q = _mm_max_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
        q = _mm_max_sd(_mm_unpackhi_pd(q, q), q);
        const double mx = _mm_cvtsd_f64(q);
        m[i] = mx;
        const __m512d vm = _mm512_set1_pd(mx);
        double *ar = a + i * C;
        if (i * C + W <= end) {
            _mm512_storeu_pd(ar, _mm512_sub_pd(v0, vm));
            if (C > 8)
                _mm512_storeu_pd(ar + 8, _mm512_sub_pd(v1, vm));
        } else {
            _mm512_mask_storeu_pd(ar, k0, _mm512_sub_pd(v0, vm));
            _mm512_mask_storeu_pd(ar + 8, k1, _mm512_sub_pd(v1, vm));
        }
    }
}
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
 *
 * fl_row_sums_but: the same sums without each row's label term: s[i] the
 * sum of row i with e[i*C + lab[i]] taken as +0.0 (the bits of fl_row_sums
 * after zeroing it), ek[i] that term; a row with lab[i] < 0 (ignored) sums
 * whole and gets ek[i] = 1.  Labels are < C.  Both are one body with the
 * label's masking compiled in or out (BUT, a constant).
 * ---------------------------------------------------------------------- */
static inline __attribute__((always_inline)) void
fl_row_sums_body(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                 const int64_t *restrict lab, double *restrict s, double *restrict ek,
                 const int BUT)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *er = e + i * C;
        const int64_t k = BUT ? lab[i] : -1;
        double l[4] = {0.0, 0.0, 0.0, 0.0};
        for (ptrdiff_t j = 0; j < C; j++)
            l[j & 3] += BUT && j == k ? 0.0 : er[j];
        s[i] = (l[0] + l[1]) + (l[2] + l[3]);
        if (BUT)
            ek[i] = k >= 0 ? er[k] : 1.0;
    }
}
static void fl_row_sums_base(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                             double *restrict s)
{ fl_row_sums_body(e, rows, C, NULL, s, NULL, 0); }
static void fl_row_sums_but_base(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                                 const int64_t *restrict lab, double *restrict s,
                                 double *restrict ek)
{ fl_row_sums_body(e, rows, C, lab, s, ek, 1); }

#if FL_DISPATCH
__attribute__((target("avx2"))) static inline __attribute__((always_inline)) void
fl_row_sums_avx2_body(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                      const int64_t *restrict lab, double *restrict s, double *restrict ek,
                      const int BUT)
{
    /* lane k of v is l_k; the 2- and 1-element pieces after the last
       4-element one go to lanes 0, 1 and 2 (see FL_MAX_PIECES); with BUT,
       an and-not clears the lane whose column is the label */
    const ptrdiff_t full = C & ~(ptrdiff_t)3, rem = C & 3;
    const __m256i iota = _mm256_setr_epi64x(0, 1, 2, 3), four = _mm256_set1_epi64x(4);
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *er = e + i * C;
        const int64_t k = BUT ? lab[i] : -1;
        const __m256i kv = _mm256_set1_epi64x(k);
        __m256i col = iota;
        __m256d v = _mm256_setzero_pd();
        for (ptrdiff_t j = 0; j < full; j += 4) {
            __m256d x = _mm256_loadu_pd(er + j);
            if (BUT)
                x = _mm256_andnot_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(col, kv)), x);
            v = _mm256_add_pd(v, x);
            col = _mm256_add_epi64(col, four);
        }
        __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
        if (rem >= 2) {
            __m128d x = _mm_loadu_pd(er + full);
            if (BUT)
                x = _mm_andnot_pd(_mm_castsi128_pd(_mm_cmpeq_epi64(
                        _mm256_castsi256_si128(col), _mm256_castsi256_si128(kv))), x);
            lo = _mm_add_pd(lo, x);
        }
        if (rem == 1)
            lo = _mm_add_sd(lo, _mm_set_sd(BUT && full == k ? 0.0 : er[full]));
        if (rem == 3)
            hi = _mm_add_sd(hi, _mm_set_sd(BUT && full + 2 == k ? 0.0 : er[full + 2]));
        __m128d a = _mm_add_sd(lo, _mm_unpackhi_pd(lo, lo));   /* l0 + l1 */
        __m128d b = _mm_add_sd(hi, _mm_unpackhi_pd(hi, hi));   /* l2 + l3 */
        s[i] = _mm_cvtsd_f64(_mm_add_sd(a, b));
        if (BUT)
            ek[i] = k >= 0 ? er[k] : 1.0;
    }
}
__attribute__((target("avx2"))) static void
fl_row_sums_avx2(const double *restrict e, ptrdiff_t rows, ptrdiff_t C, double *restrict s)
{ fl_row_sums_avx2_body(e, rows, C, NULL, s, NULL, 0); }
__attribute__((target("avx2"))) static void
fl_row_sums_but_avx2(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                     const int64_t *restrict lab, double *restrict s, double *restrict ek)
{ fl_row_sums_avx2_body(e, rows, C, lab, s, ek, 1); }
#endif

static void (*fl_row_sums_impl)(const double *restrict, ptrdiff_t, ptrdiff_t, double *restrict)
    = fl_row_sums_base;
static inline void fl_row_sums(const double *e, ptrdiff_t rows, ptrdiff_t C, double *s)
{ fl_row_sums_impl(e, rows, C, s); }
static void (*fl_row_sums_but_impl)(const double *restrict, ptrdiff_t, ptrdiff_t,
                                    const int64_t *restrict, double *restrict,
                                    double *restrict) = fl_row_sums_but_base;
static inline void fl_row_sums_but(const double *e, ptrdiff_t rows, ptrdiff_t C,
                                   const int64_t *lab, double *s, double *ek)
{ fl_row_sums_but_impl(e, rows, C, lab, s, ek); }



/* ------------------------------------------------------------------------
 * Quotients: y[i] = a[i] / b[i] (fl_vdiv) and y[i] = c / b[i] (fl_vrdiv).
 * Correctly rounded in every variant; the SIMD ones only divide several
 * lanes at once (a scalar divide per softmax row costs more than the row's
 * exps).
 * ---------------------------------------------------------------------- */
#define FL_VDIV_BODY for (ptrdiff_t i = 0; i < n; i++) y[i] = a[i] / b[i];
#define FL_VRDIV_BODY for (ptrdiff_t i = 0; i < n; i++) y[i] = c / b[i];
static void fl_vdiv_base(const double *restrict a, const double *restrict b,
                         double *restrict y, ptrdiff_t n) { FL_VDIV_BODY }
static void fl_vrdiv_base(double c, const double *restrict b, double *restrict y, ptrdiff_t n)
{ FL_VRDIV_BODY }
#if FL_DISPATCH
__attribute__((target("avx2"))) static void
fl_vdiv_avx2(const double *restrict a, const double *restrict b, double *restrict y,
             ptrdiff_t n) { FL_VDIV_BODY }
__attribute__((target("avx2"))) static void
fl_vrdiv_avx2(double c, const double *restrict b, double *restrict y, ptrdiff_t n)
{ FL_VRDIV_BODY }
__attribute__((target(FL_AVX512))) static void
fl_vdiv_avx512(const double *restrict a, const double *restrict b, double *restrict y,
               ptrdiff_t n) { FL_VDIV_BODY }
__attribute__((target(FL_AVX512))) static void
fl_vrdiv_avx512(double c, const double *restrict b, double *restrict y, ptrdiff_t n)
{ FL_VRDIV_BODY }
#endif
static void (*fl_vdiv_impl)(const double *restrict, const double *restrict, double *restrict,
                            ptrdiff_t) = fl_vdiv_base;
static void (*fl_vrdiv_impl)(double, const double *restrict, double *restrict, ptrdiff_t)
    = fl_vrdiv_base;
static inline void fl_vdiv(const double *a, const double *b, double *y, ptrdiff_t n)
{ fl_vdiv_impl(a, b, y, n); }
static inline void fl_vrdiv(double c, const double *b, double *y, ptrdiff_t n)
{ fl_vrdiv_impl(c, b, y, n); }

/* ------------------------------------------------------------------------
 * Scaled rows: g[i*grs + j] = (T)(e[i*C + j] * f[i]) for a group of rows of
 * a contiguous e (softmax numerators) into rows of g with unit column
 * stride, T double or float, and then the label's entry g[i*grs + lab[i]] =
 * (T)kv[i]; a row with lab[i] < 0 (ignored) is all zeros.  Labels are < C.
 * One multiply and one rounding per element in every variant, so all give
 * the same bits.
 * ---------------------------------------------------------------------- */
#define FL_SCALE_ROWS_SIG(NAME, T)                                            \
    NAME(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,               \
         const double *restrict f, T *restrict g, ptrdiff_t grs,              \
         const int64_t *restrict lab, const double *restrict kv)
#define FL_SCALE_ROWS_BODY(T, ROW)                                            \
    for (ptrdiff_t i = 0; i < rows; i++) {                                    \
        const double *er = e + i * C;                                         \
        T *gr = g + i * grs;                                                  \
        const int64_t k = lab[i];                                             \
        if (k < 0) {                                                          \
            for (ptrdiff_t j = 0; j < C; j++)                                 \
                gr[j] = (T)0;                                                 \
            continue;                                                         \
        }                                                                     \
        ROW                                                                   \
        gr[k] = (T)kv[i];                                                     \
    }
#define FL_SCALE_ROW_SCALAR(T)                                                \
        for (ptrdiff_t j = 0; j < C; j++)                                     \
            gr[j] = (T)(er[j] * f[i]);
#define FL_SCALE_ROW_AVX2_double                                              \
        const __m256d fi = _mm256_set1_pd(f[i]);                              \
        ptrdiff_t j = 0;                                                      \
        for (; j + 4 <= C; j += 4)                                            \
            _mm256_storeu_pd(gr + j, _mm256_mul_pd(_mm256_loadu_pd(er + j), fi)); \
        if (j + 2 <= C)                                                       \
            _mm_storeu_pd(gr + j, _mm_mul_pd(_mm_loadu_pd(er + j), _mm256_castpd256_pd128(fi))); \
        if (C & 1)                                                            \
            gr[C - 1] = er[C - 1] * f[i];
#define FL_SCALE_ROW_AVX2_float                                               \
        const __m256d fi = _mm256_set1_pd(f[i]);                              \
        ptrdiff_t j = 0;                                                      \
        for (; j + 4 <= C; j += 4)                                            \
            _mm_storeu_ps(gr + j, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_loadu_pd(er + j), fi))); \
        if (j + 2 <= C)                                                       \
            _mm_storel_epi64((__m128i *)(gr + j), _mm_castps_si128(_mm_cvtpd_ps( \
                _mm_mul_pd(_mm_loadu_pd(er + j), _mm256_castpd256_pd128(fi))))); \
        if (C & 1)                                                            \
            gr[C - 1] = (float)(er[C - 1] * f[i]);

static void FL_SCALE_ROWS_SIG(fl_scale_rows_d_base, double)
{ FL_SCALE_ROWS_BODY(double, FL_SCALE_ROW_SCALAR(double)) }
static void FL_SCALE_ROWS_SIG(fl_scale_rows_f_base, float)
{ FL_SCALE_ROWS_BODY(float, FL_SCALE_ROW_SCALAR(float)) }
#if FL_DISPATCH
__attribute__((target("avx2"))) static void FL_SCALE_ROWS_SIG(fl_scale_rows_d_avx2, double)
{ FL_SCALE_ROWS_BODY(double, FL_SCALE_ROW_AVX2_double) }
__attribute__((target("avx2"))) static void FL_SCALE_ROWS_SIG(fl_scale_rows_f_avx2, float)
{ FL_SCALE_ROWS_BODY(float, FL_SCALE_ROW_AVX2_float) }
#endif
typedef void FL_SCALE_ROWS_SIG(fl_scale_rows_d_fn, double);
typedef void FL_SCALE_ROWS_SIG(fl_scale_rows_f_fn, float);
static fl_scale_rows_d_fn *fl_scale_rows_d_impl = fl_scale_rows_d_base;
static fl_scale_rows_f_fn *fl_scale_rows_f_impl = fl_scale_rows_f_base;
static inline void FL_SCALE_ROWS_SIG(fl_scale_rows_d, double)
{ fl_scale_rows_d_impl(e, rows, C, f, g, grs, lab, kv); }
static inline void FL_SCALE_ROWS_SIG(fl_scale_rows_f, float)
{ fl_scale_rows_f_impl(e, rows, C, f, g, grs, lab, kv); }

/* ------------------------------------------------------------------------
 * One-hot gather, the forward cross-entropy's path for one-hot groups
 * that the binary product's packed pass below does not take (a target
 * other than 1, unpacked rows, confident rows): for each of `rows` rows of C <= 64 contiguous
 * targets t (row stride trs) and predictions p (strides prs, pcs), with j
 * the column of the row's only nonzero target,
 *     q[i] = (double)(TP)t[i, j], pe[i] = (double)p[i, j] + eps,
 *     col[i] = j where q[i] == 1, -2 where q[i] == 0, else -1
 * (t is read in the computation dtype TP: a float64 target that is 0 in
 * float32 is a zero term, with pe = 1); a row with no nonzero or several
 * (NaN counts) gets q = 0, pe = 1 (a zero term) and col = -1.  Returns the number of such rows, so the caller can
 * redo a group that has any (fl_onehot_cols then tells which).  One pass
 * over t, one element of p per row; the same values in every variant.
 * flat allows the AVX-512 variant's two-pass form for packed groups (see
 * below): set it for inputs that fit the caches.
 * ---------------------------------------------------------------------- */
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

#define FL_NZMASK_SCALAR(TT)                                                  \
    uint64_t m = 0;                                                           \
    for (ptrdiff_t j = 0; j < C; j++)                                         \
        m |= (uint64_t)(tr[j] != (TT)0) << j;
/* NZMASK(TT) sets m, bit j for each nonzero tr[j] (NaN counts), for the row
   tr of C <= 64 contiguous targets; its AVX-512 forms scan whole vectors,
   then one masked tail, with these bounds fixed by C (set once a call) */
#define FL_NZMASK_SETUP                                                       \
    const ptrdiff_t full8 = C & ~(ptrdiff_t)7, full16 = C & ~(ptrdiff_t)15;   \
    const unsigned tail8 = (1u << (C & 7)) - 1u, tail16 = (1u << (C & 15)) - 1u; \
    const unsigned pk_lo = C >= 16 ? 0xffffu : (1u << (C & 15)) - 1u;          \
    const unsigned pk_hi = C >= 16 ? 0xffu : C > 8 ? (1u << (C - 8)) - 1u : 0u; \
    (void)full8; (void)full16; (void)tail8; (void)tail16; (void)pk_lo; (void)pk_hi;
#define FL_PICK_SCALAR(TP) (double)p[i * prs + j * pcs]
/* row i's term from its nonzero mask m: j its column, PV and TV (which may
   use j) the prediction and target there; a row without exactly one
   nonzero gets the zero term and counts as bad */
#define FL_ONEHOT_TERM(PV, TV)                                                \
        const int one = fl_one_bit(m);                                        \
        const ptrdiff_t j = one ? fl_ctz64(m) : 0;                            \
        const double pv = (PV), tv = (TV);                                    \
        q[i] = one ? tv : 0.0;                                                \
        pe[i] = one && tv != 0.0 ? pv + eps : 1.0;                            \
        col[i] = !one ? -1 : tv == 1.0 ? (int32_t)j : tv == 0.0 ? -2 : -1;    \
        bad += !one;
#define FL_ONEHOT_GATHER_BODY(TP, TT, NZMASK, PICK)                           \
    ptrdiff_t bad = 0;                                                        \
    FL_NZMASK_SETUP                                                           \
    for (ptrdiff_t i = 0; i < rows; i++) {                                    \
        const TT *tr = t + i * trs;                                           \
        NZMASK(TT)                                                            \
        FL_ONEHOT_TERM(PICK(TP), (double)(TP)tr[j])                           \
    }                                                                         \
    return bad;
#define FL_ONEHOT_GATHER_SIG(NAME, TP, TT)                                    \
    NAME(const TP *restrict p, ptrdiff_t prs, ptrdiff_t pcs,                  \
         const TT *restrict t, ptrdiff_t trs, ptrdiff_t rows, ptrdiff_t C,    \
         double eps, double *restrict q, double *restrict pe,                 \
         int32_t *restrict col, int flat)

#if FL_DISPATCH
/* AVX2: 4-/8-lane compares, then 2-/4-lane and scalar pieces (no masked
   loads); AVX-512: 8-/16-lane compares with a masked load for the rest */
#define FL_NZMASK_AVX2_double(TT)                                             \
    uint64_t m = 0;                                                           \
    ptrdiff_t jj = 0;                                                         \
    for (; jj + 4 <= C; jj += 4)                                              \
        m |= (uint64_t)_mm256_movemask_pd(_mm256_cmp_pd(                      \
                 _mm256_loadu_pd(tr + jj), _mm256_setzero_pd(), _CMP_NEQ_UQ)) << jj; \
    if (jj + 2 <= C) {                                                        \
        m |= (uint64_t)_mm_movemask_pd(_mm_cmp_pd(                            \
                 _mm_loadu_pd(tr + jj), _mm_setzero_pd(), _CMP_NEQ_UQ)) << jj; \
        jj += 2;                                                              \
    }                                                                         \
    if (jj < C)                                                               \
        m |= (uint64_t)(tr[jj] != 0.0) << jj;
#define FL_NZMASK_AVX2_float(TT)                                              \
    uint64_t m = 0;                                                           \
    ptrdiff_t jj = 0;                                                         \
    for (; jj + 8 <= C; jj += 8)                                              \
        m |= (uint64_t)_mm256_movemask_ps(_mm256_cmp_ps(                      \
                 _mm256_loadu_ps(tr + jj), _mm256_setzero_ps(), _CMP_NEQ_UQ)) << jj; \
    if (jj + 4 <= C) {                                                        \
        m |= (uint64_t)_mm_movemask_ps(_mm_cmp_ps(                            \
                 _mm_loadu_ps(tr + jj), _mm_setzero_ps(), _CMP_NEQ_UQ)) << jj; \
        jj += 4;                                                              \
    }                                                                         \
    for (; jj < C; jj++)                                                      \
        m |= (uint64_t)(tr[jj] != 0.0f) << jj;
#define FL_NZMASK_AVX512_double(TT)                                           \
    uint64_t m = 0;                                                           \
    ptrdiff_t jj = 0;                                                         \
    for (; jj < full8; jj += 8)                                               \
        m |= (uint64_t)_mm512_cmp_pd_mask(_mm512_loadu_pd(tr + jj),           \
                                          _mm512_setzero_pd(), _CMP_NEQ_UQ) << jj; \
    if (tail8) {                                                              \
        const __mmask8 k = (__mmask8)tail8;                                   \
        m |= (uint64_t)_mm512_mask_cmp_pd_mask(k, _mm512_maskz_loadu_pd(k, tr + full8), \
                                               _mm512_setzero_pd(), _CMP_NEQ_UQ) << full8; \
    }
#define FL_NZMASK_AVX512_float(TT)                                            \
    uint64_t m = 0;                                                           \
    ptrdiff_t jj = 0;                                                         \
    for (; jj < full16; jj += 16)                                             \
        m |= (uint64_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(tr + jj),           \
                                          _mm512_setzero_ps(), _CMP_NEQ_UQ) << jj; \
    if (tail16) {                                                             \
        const __mmask16 k = (__mmask16)tail16;                                \
        m |= (uint64_t)_mm512_mask_cmp_ps_mask(k, _mm512_maskz_loadu_ps(k, tr + full16), \
                                               _mm512_setzero_ps(), _CMP_NEQ_UQ) << full16; \
    }
/* p[i, j] for a unit-stride row of C <= 16: the whole row is loaded (its
   address does not wait for the target scan) and lane j picked */
#define FL_PICK_AVX512_double(TP)                                             \
    _mm512_cvtsd_f64(_mm512_permutex2var_pd(                                  \
        _mm512_maskz_loadu_pd((__mmask8)pk_lo, p + i * prs),                  \
        _mm512_set1_epi64(j),                                                 \
        _mm512_maskz_loadu_pd((__mmask8)pk_hi, p + i * prs + 8)))
#define FL_PICK_AVX512_float(TP)                                              \
    (double)_mm512_cvtss_f32(_mm512_permutexvar_ps(_mm512_set1_epi32((int)j), \
        _mm512_maskz_loadu_ps((__mmask16)pk_lo, p + i * prs)))
/* Packed groups (rows of t and p back to back: trs = prs = C, pcs = 1,
   C <= 56, rows * C <= FL_FLAT_MAX) of inputs in cache (flat != 0): one
   flat pass over t writes a bit per element into mb, then each row takes
   its C bits with one unaligned 64-bit load and a shift, and reads p and t
   at its column: no per-row vector loads or tails (100 x 10 float64: 0.25
   -> 0.14 us).  From memory, the two passes are slower than the row loop
   (1e6 x 10: 8.1 -> 12 ms), hence the flag.  NZBITS(TT) is the flat pass. */
#define FL_FLAT_MAX 2048

#define FL_NZBITS_AVX512_double(TT)                                           \
    {                                                                         \
        const __m512d z = _mm512_setzero_pd();                                \
        for (; k + 8 <= L; k += 8)                                            \
            mb[k >> 3] = (uint8_t)_mm512_cmp_pd_mask(_mm512_loadu_pd(t + k), z, _CMP_NEQ_UQ); \
        if (k < L) {                                                          \
            const __mmask8 kt = (__mmask8)((1u << (L - k)) - 1u);             \
            mb[k >> 3] = (uint8_t)_mm512_mask_cmp_pd_mask(                    \
                kt, _mm512_maskz_loadu_pd(kt, t + k), z, _CMP_NEQ_UQ);         \
            k += 8;                                                           \
        }                                                                     \
    }
#define FL_NZBITS_AVX512_float(TT)                                            \
    {                                                                         \
        const __m512 z = _mm512_setzero_ps();                                 \
        uint16_t m16;                                                         \
        for (; k + 16 <= L; k += 16) {                                        \
            m16 = (uint16_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(t + k), z, _CMP_NEQ_UQ); \
            memcpy(mb + (k >> 3), &m16, 2);                                   \
        }                                                                     \
        if (k < L) {                                                          \
            const __mmask16 kt = (__mmask16)((1u << (L - k)) - 1u);           \
            m16 = (uint16_t)_mm512_mask_cmp_ps_mask(                          \
                kt, _mm512_maskz_loadu_ps(kt, t + k), z, _CMP_NEQ_UQ);         \
            memcpy(mb + (k >> 3), &m16, 2);                                   \
            k += 16;                                                          \
        }                                                                     \
    }
#define FL_ONEHOT_FLAT_BODY(TP, TT, NZBITS)                                   \
    uint8_t mb[FL_FLAT_MAX / 8 + 16];                                         \
    const ptrdiff_t L = rows * C;                                             \
    ptrdiff_t k = 0, bad = 0;                                                 \
    NZBITS(TT)                                                                \
    memset(mb + (k >> 3), 0, 8);        /* the last rows' loads read past */  \
    const uint64_t cm = ((uint64_t)1 << C) - 1u;                              \
    for (ptrdiff_t i = 0, b = 0; i < rows; i++, b += C) {                     \
        uint64_t w;                                                           \
        memcpy(&w, mb + (b >> 3), 8);                                         \
        const uint64_t m = (w >> (b & 7)) & cm;                               \
        FL_ONEHOT_TERM((double)p[b + j], (double)(TP)t[b + j])                \
    }                                                                         \
    return bad;
#define FL_ONEHOT_PACKED (flat && trs == C && prs == C && pcs == 1 && C <= 56 \
                          && rows * C <= FL_FLAT_MAX)
#define FL_ONEHOT_GATHER_SIMD(SUF, TP, TT)                                    \
__attribute__((target("avx2"))) static ptrdiff_t                              \
FL_ONEHOT_GATHER_SIG(fl_onehot_gather_##SUF##_avx2, TP, TT)                   \
{ FL_ONEHOT_GATHER_BODY(TP, TT, FL_NZMASK_AVX2_##TT, FL_PICK_SCALAR) }        \
__attribute__((target(FL_AVX512))) static ptrdiff_t                           \
FL_ONEHOT_GATHER_SIG(fl_onehot_gather_##SUF##_avx512, TP, TT)                 \
{ if (FL_ONEHOT_PACKED) { FL_ONEHOT_FLAT_BODY(TP, TT, FL_NZBITS_AVX512_##TT) }   \
  if (pcs == 1 && C <= 16) { FL_ONEHOT_GATHER_BODY(TP, TT, FL_NZMASK_AVX512_##TT, FL_PICK_AVX512_##TP) } \
  FL_ONEHOT_GATHER_BODY(TP, TT, FL_NZMASK_AVX512_##TT, FL_PICK_SCALAR) }
#else
#define FL_ONEHOT_GATHER_SIMD(SUF, TP, TT)
#endif

#define FL_ONEHOT_GATHER(SUF, TP, TT)                                         \
static ptrdiff_t FL_ONEHOT_GATHER_SIG(fl_onehot_gather_##SUF##_base, TP, TT)  \
{ FL_ONEHOT_GATHER_BODY(TP, TT, FL_NZMASK_SCALAR, FL_PICK_SCALAR) }           \
FL_ONEHOT_GATHER_SIMD(SUF, TP, TT)                                            \
typedef ptrdiff_t FL_ONEHOT_GATHER_SIG(fl_onehot_gather_##SUF##_fn, TP, TT);  \
static fl_onehot_gather_##SUF##_fn *fl_onehot_gather_##SUF##_impl             \
    = fl_onehot_gather_##SUF##_base;                                          \
static inline ptrdiff_t FL_ONEHOT_GATHER_SIG(fl_onehot_gather_##SUF, TP, TT)  \
{ return fl_onehot_gather_##SUF##_impl(p, prs, pcs, t, trs, rows, C, eps, q, pe, col, flat); }

FL_ONEHOT_GATHER(dd, double, double)
FL_ONEHOT_GATHER(df, double, float)
FL_ONEHOT_GATHER(fd, float, double)
FL_ONEHOT_GATHER(ff, float, float)

/* ------------------------------------------------------------------------
 * Binary targets, forward loss.  Where every target of a group is exactly 0
 * or 1 (one-hot rows, or several ones), the group's loss is
 *     -sum_{t_u = 1} log(p_u + eps) = -log prod_{t_u = 1} (p_u + eps):
 * one pass of multiplications and a single log, instead of finding each
 * row's nonzero and taking a log per row.  fl_binprod(p, t, L, eps, &M, &E)
 * reads L <= FL_BINPROD_MAX contiguous elements of p and t and returns 1
 * with that product = M 2^E (M in [1, 2), E an integer), or 0 where the
 * product form does not apply: a target other than +-0 and 1 (NaN
 * included), a factor p + eps outside [+0, 2] (negative, NaN, large), or a
 * partial product below 2^-958 (a zero factor, or a chance of leaving the
 * normal range).  The targets are read in the computation dtype TP (a
 * float64 target that rounds to 1 in float32 is a one there).  Every
 * variant computes the same bits, in this order:
 *   f_u = 1 where t_u = 0, (double)p_u + eps where t_u = 1;
 *   P_r = the product of f_u over u = r (mod 32), u increasing (r < 32);
 *   with n(x) = (m, e) the exact split x = m 2^e, m in [1, 2):
 *   x_l = (m(P_l) m(P_l+8)) (m(P_l+16) m(P_l+24)) for l < 8,
 *   y_l = m(x_l) m(x_l+4) for l < 4, M = m((y_0 y_2) (y_1 y_3)),
 *   and E the sum of every exponent split off.
 * A multiplication by f_u = 1 is exact; each other one rounds once.  A P_r
 * has at most 64 factors, each at most 2, so with P_r >= 2^-958 none of its
 * partial products is subnormal: the product is within (#ones + 31) 2^-53
 * relative, its log within that absolutely.  The per-row logs it replaces
 * carry half an ulp each, plus the rounding of every addition.
 * ---------------------------------------------------------------------- */
#define FL_BINPROD_MAX 2048

/* x = m 2^e for a normal x > 0: returns m in [1, 2) and adds e to *e */
static inline double fl_split2(double x, int64_t *e)
{
    const uint64_t b = fl_as_u64(x);
    *e += (int64_t)(b >> 52) - 1023;
    return fl_as_double((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
}

/* the checks and the fixed combination order above, from P[32] */
static inline int fl_binprod_finish(const double *P, uint64_t mx, double *M, double *E)
{
    int ok = mx <= 0x4000000000000000ULL;                  /* bits of 2.0 */
    for (int r = 0; r < 32; r++)
        ok &= P[r] >= 4.1045368012983762e-289;        /* 2^-958; NaN fails */
    if (!ok)
        return 0;
    int64_t e = 0;
    double x[8], y[4];
    for (int l = 0; l < 8; l++)
        x[l] = fl_split2((fl_split2(P[l], &e) * fl_split2(P[l + 8], &e))
                         * (fl_split2(P[l + 16], &e) * fl_split2(P[l + 24], &e)), &e);
    for (int l = 0; l < 4; l++)
        y[l] = x[l] * x[l + 4];
    *M = fl_split2((y[0] * y[2]) * (y[1] * y[3]), &e);
    *E = (double)e;
    return 1;
}

/* The same product from its factors alone: f[k] at the offsets u[k]
   (increasing) of the group, every other factor 1 (a target of 0).  The
   caller has checked that each of these targets is exactly 1. */
static inline int fl_binprod_sparse(const int32_t *u, const double *f, ptrdiff_t n,
                                    double *M, double *E)
{
    double P[32];
    uint64_t mx = 0;
    for (int r = 0; r < 32; r++)
        P[r] = 1.0;
    for (ptrdiff_t k = 0; k < n; k++) {
        const uint64_t b = fl_as_u64(f[k]);
        mx = b > mx ? b : mx;
        P[u[k] & 31] *= f[k];
    }
    return fl_binprod_finish(P, mx, M, E);
}

/* A variant returns 0 where the product form does not apply, 2 with M and
   E set, or 1 with the running products P[32] and mx (the largest factor's
   bits) for fl_binprod_finish to check and combine in the caller's frame.
   No variant keeps an array in its own frame: ASan's fake stack
   (detect_stack_use_after_return) mishandled one in an AVX-512 frame,
   which GCC realigns (a SEGV on storing to it). */
#define FL_BINPROD_SIG(NAME, TP, TT)                                          \
    NAME(const TP *restrict p, const TT *restrict t, ptrdiff_t L, double eps, \
         double *restrict P, uint64_t *restrict mxp, double *M, double *E)

/* 32 running products in an array; the first 32 elements are checked alone,
   so that a soft target leaves after one chunk */
#define FL_BINPROD_BODY(TP, TT)                                               \
    uint64_t mx = 0;                                                          \
    for (int r = 0; r < 32; r++)                                              \
        P[r] = 1.0;                                                           \
    for (ptrdiff_t u0 = 0; u0 < L; u0 += 32) {                                \
        const ptrdiff_t n = L - u0 < 32 ? L - u0 : 32;                        \
        for (ptrdiff_t r = 0; r < n; r++) {                                   \
            const double tv = (double)(TP)t[u0 + r];                          \
            const double f = tv == 0.0 ? 1.0                                  \
                           : tv == 1.0 ? (double)p[u0 + r] + eps : (double)NAN; \
            const uint64_t b = fl_as_u64(f);                                  \
            mx = b > mx ? b : mx;                                             \
            P[r] *= f;                                                        \
        }                                                                     \
        if (u0 == 0 && mx > 0x4000000000000000ULL)                            \
            return 0;                                                         \
    }                                                                         \
    *mxp = mx;                                                                \
    (void)M; (void)E;                                                         \
    return 1;

#if FL_DISPATCH
/* AVX-512: four vectors of running products (P[8q + l] is lane l of aq).
   vfixupimmpd classifies t: +-0 gives 1.0, +1 keeps p + eps, anything else
   gives NaN (token responses 0xA = +1.0, 0 = the first operand, 3 = NaN). */
#define FL_BIN_TABLE 0x33330A33
#define FL_LD8_double(K, PTR) _mm512_maskz_loadu_pd(K, PTR)
#define FL_LD8_float(K, PTR) _mm512_cvtps_pd(_mm256_maskz_loadu_ps(K, PTR))
/* targets in the computation dtype TP: float64 ones rounded to float32 */
#define FL_LDT8_double_double FL_LD8_double
#define FL_LDT8_double_float FL_LD8_float
#define FL_LDT8_float_float FL_LD8_float
#define FL_LDT8_float_double(K, PTR) _mm512_cvtps_pd(_mm512_cvtpd_ps(FL_LD8_double(K, PTR)))
#define FL_BIN_STEP(TP, TT, K, OFF, A, MX) {                                  \
        const __m512d f = _mm512_fixupimm_pd(                                 \
            _mm512_add_pd(FL_LD8_##TP(K, p + (OFF)), veps),                   \
            FL_LDT8_##TP##_##TT(K, t + (OFF)), tab, 0);                       \
        A = _mm512_mul_pd(A, f);                                              \
        MX = _mm512_max_epu64(MX, _mm512_castpd_si512(f));                    \
    }
#define FL_BIN_CHUNK(TP, TT, K0, K1, K2, K3)                                  \
        FL_BIN_STEP(TP, TT, K0, k, a0, m0)                                    \
        FL_BIN_STEP(TP, TT, K1, k + 8, a1, m1)                                \
        FL_BIN_STEP(TP, TT, K2, k + 16, a2, m2)                               \
        FL_BIN_STEP(TP, TT, K3, k + 24, a3, m3)
#define FL_BINPROD_AVX512_BODY(TP, TT)                                        \
    const __m512d veps = _mm512_set1_pd(eps), one = _mm512_set1_pd(1.0);      \
    const __m512i tab = _mm512_set1_epi64(FL_BIN_TABLE);                      \
    const __m512i two = _mm512_set1_epi64(0x4000000000000000LL);              \
    __m512d a0 = one, a1 = one, a2 = one, a3 = one;                           \
    __m512i m0 = _mm512_setzero_si512(), m1 = m0, m2 = m0, m3 = m0;           \
    ptrdiff_t k = 0;                                                          \
    for (; k + 32 <= L; k += 32) {                                            \
        FL_BIN_CHUNK(TP, TT, 0xff, 0xff, 0xff, 0xff)                          \
        if (k == 0 && _mm512_cmp_epu64_mask(_mm512_max_epu64(_mm512_max_epu64(m0, m1), \
                          _mm512_max_epu64(m2, m3)), two, _MM_CMPINT_NLE))    \
            return 0;                                                         \
    }                                                                         \
    if (k < L) {                                                              \
        const ptrdiff_t n = L - k;                                            \
        FL_BIN_CHUNK(TP, TT, fl_lanes8(n), fl_lanes8(n - 8), fl_lanes8(n - 16), \
                     fl_lanes8(n - 24))                                       \
    }                                                                         \
    /* fl_binprod_finish in registers: the same checks, splits and order */ \
    const __m512i mv = _mm512_max_epu64(_mm512_max_epu64(m0, m1), _mm512_max_epu64(m2, m3)); \
    const __m512d tiny = _mm512_set1_pd(4.1045368012983762e-289);   /* 2^-958 */ \
    if (_mm512_cmp_epu64_mask(mv, two, _MM_CMPINT_NLE)                        \
        | _mm512_cmp_pd_mask(a0, tiny, _CMP_NGE_UQ) | _mm512_cmp_pd_mask(a1, tiny, _CMP_NGE_UQ) \
        | _mm512_cmp_pd_mask(a2, tiny, _CMP_NGE_UQ) | _mm512_cmp_pd_mask(a3, tiny, _CMP_NGE_UQ)) \
        return 0;                                                             \
    __m512d ex = _mm512_add_pd(_mm512_add_pd(_mm512_getexp_pd(a0), _mm512_getexp_pd(a1)), \
                               _mm512_add_pd(_mm512_getexp_pd(a2), _mm512_getexp_pd(a3))); \
    __m512d x = _mm512_mul_pd(_mm512_mul_pd(FL_MANT12(a0), FL_MANT12(a1)),    \
                              _mm512_mul_pd(FL_MANT12(a2), FL_MANT12(a3)));   \
    ex = _mm512_add_pd(ex, _mm512_getexp_pd(x));                              \
    x = FL_MANT12(x);                                                         \
    const __m256d y = _mm256_mul_pd(_mm512_castpd512_pd256(x), _mm512_extractf64x4_pd(x, 1)); \
    const __m128d z = _mm_mul_pd(_mm256_castpd256_pd128(y), _mm256_extractf128_pd(y, 1)); \
    int64_t e = (int64_t)_mm512_reduce_add_pd(ex);                            \
    *M = fl_split2(_mm_cvtsd_f64(_mm_mul_sd(z, _mm_unpackhi_pd(z, z))), &e);  \
    *E = (double)e;                                                           \
    (void)P; (void)mxp;                                                       \
    return 2;

#define FL_MANT12(X) _mm512_getmant_pd(X, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src)

/* the mask of the first n of 8 lanes (none for n <= 0) */
static inline __mmask8 fl_lanes8(ptrdiff_t n)
{ return n >= 8 ? (__mmask8)0xff : n <= 0 ? (__mmask8)0 : (__mmask8)((1u << n) - 1u); }

#define FL_BINPROD_SIMD(SUF, TP, TT)                                          \
__attribute__((target("avx2,fma"))) static int                                \
FL_BINPROD_SIG(fl_binprod_##SUF##_avx2, TP, TT) { FL_BINPROD_BODY(TP, TT) }   \
__attribute__((target(FL_AVX512))) static int                                 \
FL_BINPROD_SIG(fl_binprod_##SUF##_avx512, TP, TT) { FL_BINPROD_AVX512_BODY(TP, TT) }
#else
#define FL_BINPROD_SIMD(SUF, TP, TT)
#endif

#define FL_BINPROD(SUF, TP, TT)                                               \
static int FL_BINPROD_SIG(fl_binprod_##SUF##_base, TP, TT)                    \
{ FL_BINPROD_BODY(TP, TT) }                                                   \
FL_BINPROD_SIMD(SUF, TP, TT)                                                  \
typedef int FL_BINPROD_SIG(fl_binprod_##SUF##_fn, TP, TT);                    \
static fl_binprod_##SUF##_fn *fl_binprod_##SUF##_impl = fl_binprod_##SUF##_base; \
static inline int fl_binprod_##SUF(const TP *p, const TT *t, ptrdiff_t L, double eps, \
                                   double *M, double *E)                      \
{                                                                             \
    double P[32];                                                             \
    uint64_t mx = 0;                                                          \
    const int r = fl_binprod_##SUF##_impl(p, t, L, eps, P, &mx, M, E);        \
    return r == 2 || (r == 1 && fl_binprod_finish(P, mx, M, E));              \
}


/* The number of t[u] == 1 among L contiguous targets: the n1 of a binary
   group whose loss is too small for fl_binprod's cruder bound n1 <= L (the
   caller counts float64 targets of float32 probabilities itself, in
   float32). */
#define FL_COUNT_ONES_SIG(NAME, TT) NAME(const TT *restrict t, ptrdiff_t L)
#define FL_COUNT_ONES_BODY(TT)                                                \
    ptrdiff_t n = 0;                                                          \
    for (ptrdiff_t u = 0; u < L; u++)                                         \
        n += t[u] == (TT)1;                                                   \
    return n;
#if FL_DISPATCH
#define FL_COUNT_ONES_AVX512_double                                           \
    const __m512d one = _mm512_set1_pd(1.0);                                  \
    ptrdiff_t n = 0, u = 0;                                                   \
    for (; u + 8 <= L; u += 8)                                                \
        n += __builtin_popcount(_mm512_cmp_pd_mask(_mm512_loadu_pd(t + u), one, _CMP_EQ_OQ)); \
    const __mmask8 k = fl_lanes8(L - u);                                      \
    return n + __builtin_popcount(_mm512_mask_cmp_pd_mask(k, _mm512_maskz_loadu_pd(k, t + u), \
                                                          one, _CMP_EQ_OQ));
#define FL_COUNT_ONES_AVX512_float                                            \
    const __m512 one = _mm512_set1_ps(1.0f);                                  \
    ptrdiff_t n = 0, u = 0;                                                   \
    for (; u + 16 <= L; u += 16)                                              \
        n += __builtin_popcount(_mm512_cmp_ps_mask(_mm512_loadu_ps(t + u), one, _CMP_EQ_OQ)); \
    for (; u < L; u++)                                                        \
        n += t[u] == 1.0f;                                                    \
    return n;
#define FL_COUNT_ONES_SIMD(SUF, TT)                                           \
__attribute__((target(FL_AVX512))) static ptrdiff_t                           \
FL_COUNT_ONES_SIG(fl_count_ones_##SUF##_avx512, TT) { FL_COUNT_ONES_AVX512_##TT }
#else
#define FL_COUNT_ONES_SIMD(SUF, TT)
#endif
#define FL_COUNT_ONES(SUF, TT)                                                \
static ptrdiff_t FL_COUNT_ONES_SIG(fl_count_ones_##SUF##_base, TT)            \
{ FL_COUNT_ONES_BODY(TT) }                                                    \
FL_COUNT_ONES_SIMD(SUF, TT)                                                   \
typedef ptrdiff_t FL_COUNT_ONES_SIG(fl_count_ones_##SUF##_fn, TT);            \
static fl_count_ones_##SUF##_fn *fl_count_ones_##SUF##_impl = fl_count_ones_##SUF##_base; \
static inline ptrdiff_t FL_COUNT_ONES_SIG(fl_count_ones_##SUF, TT)            \
{ return fl_count_ones_##SUF##_impl(t, L); }
FL_COUNT_ONES(d, double)
FL_COUNT_ONES(f, float)

FL_BINPROD(dd, double, double)
FL_BINPROD(df, double, float)
FL_BINPROD(fd, float, double)
FL_BINPROD(ff, float, float)

/* ------------------------------------------------------------------------
 * One-hot rows: for each of `rows` rows of C <= 64 contiguous targets (row
 * stride rs), col[i] = the column of the row's only nonzero, -1 if the row
 * is all zero, -2 if it has several nonzeros (NaN counts as nonzero).  The
 * same row masks as the gather above.
 * ---------------------------------------------------------------------- */
#define FL_ONEHOT_COLS_BODY(TT, NZMASK)                                       \
    FL_NZMASK_SETUP                                                           \
    for (ptrdiff_t i = 0; i < rows; i++) {                                    \
        const TT *tr = t + i * rs;                                            \
        NZMASK(TT)                                                            \
        col[i] = fl_one_bit(m) ? (int32_t)fl_ctz64(m) : (m ? -2 : -1);        \
    }
#define FL_ONEHOT_COLS_SIG(NAME, TT)                                          \
    NAME(const TT *restrict t, ptrdiff_t rows, ptrdiff_t C, ptrdiff_t rs,     \
         int32_t *restrict col)

#if FL_DISPATCH
#define FL_ONEHOT_COLS_SIMD(SUF, TT)                                          \
__attribute__((target("avx2"))) static void                                   \
FL_ONEHOT_COLS_SIG(fl_onehot_cols_##SUF##_avx2, TT)                           \
{ FL_ONEHOT_COLS_BODY(TT, FL_NZMASK_AVX2_##TT) }                              \
__attribute__((target(FL_AVX512))) static void                                \
FL_ONEHOT_COLS_SIG(fl_onehot_cols_##SUF##_avx512, TT)                         \
{ FL_ONEHOT_COLS_BODY(TT, FL_NZMASK_AVX512_##TT) }
#else
#define FL_ONEHOT_COLS_SIMD(SUF, TT)
#endif

#define FL_ONEHOT_COLS(SUF, TT)                                               \
static void FL_ONEHOT_COLS_SIG(fl_onehot_cols_##SUF##_base, TT)               \
{ FL_ONEHOT_COLS_BODY(TT, FL_NZMASK_SCALAR) }                                 \
FL_ONEHOT_COLS_SIMD(SUF, TT)                                                  \
typedef void FL_ONEHOT_COLS_SIG(fl_onehot_cols_##SUF##_fn, TT);               \
static fl_onehot_cols_##SUF##_fn *fl_onehot_cols_##SUF##_impl                 \
    = fl_onehot_cols_##SUF##_base;                                            \
static inline void FL_ONEHOT_COLS_SIG(fl_onehot_cols_##SUF, TT)               \
{ fl_onehot_cols_##SUF##_impl(t, rows, C, rs, col); }

FL_ONEHOT_COLS(d, double)
FL_ONEHOT_COLS(f, float)

/* Pick the AVX2(+FMA) loops where the CPU has them; called once at import. */
static void fl_vmath_init(int max_level)
{
#if FL_DISPATCH
    __builtin_cpu_init();
    if (max_level < 1)
        return;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        fl_vlog_impl = fl_vlog_avx2;
        fl_vexp_lim_impl = fl_vexp_lim_avx2;
        fl_simd_name = "avx2+fma";
    }
    if (max_level >= 2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2")
            && __builtin_cpu_supports("fma")) {
        fl_vlog_impl = fl_vlog_avx512;
        fl_vexp_lim_impl = fl_vexp_lim_avx512;
        fl_vdiv_impl = fl_vdiv_avx512;
        fl_vrdiv_impl = fl_vrdiv_avx512;
        fl_onehot_gather_dd_impl = fl_onehot_gather_dd_avx512;
        fl_onehot_gather_df_impl = fl_onehot_gather_df_avx512;
        fl_onehot_gather_fd_impl = fl_onehot_gather_fd_avx512;
        fl_onehot_gather_ff_impl = fl_onehot_gather_ff_avx512;
        fl_binprod_dd_impl = fl_binprod_dd_avx512;
        fl_binprod_df_impl = fl_binprod_df_avx512;
        fl_binprod_fd_impl = fl_binprod_fd_avx512;
        fl_binprod_ff_impl = fl_binprod_ff_avx512;
        fl_count_ones_d_impl = fl_count_ones_d_avx512;
        fl_count_ones_f_impl = fl_count_ones_f_avx512;
        fl_onehot_cols_d_impl = fl_onehot_cols_d_avx512;
        fl_onehot_cols_f_impl = fl_onehot_cols_f_avx512;
        fl_shift_rows_d_impl = fl_shift_rows_d_avx512;
        fl_simd_name = "avx512";
    }
    if (__builtin_cpu_supports("avx2")) {
        if (fl_vdiv_impl == fl_vdiv_base) {
            fl_vdiv_impl = fl_vdiv_avx2;
            fl_vrdiv_impl = fl_vrdiv_avx2;
            fl_onehot_gather_dd_impl = fl_onehot_gather_dd_avx2;
            fl_onehot_gather_df_impl = fl_onehot_gather_df_avx2;
            fl_onehot_gather_fd_impl = fl_onehot_gather_fd_avx2;
            fl_onehot_gather_ff_impl = fl_onehot_gather_ff_avx2;
            fl_binprod_dd_impl = fl_binprod_dd_avx2;
            fl_binprod_df_impl = fl_binprod_df_avx2;
            fl_binprod_fd_impl = fl_binprod_fd_avx2;
            fl_binprod_ff_impl = fl_binprod_ff_avx2;
            fl_onehot_cols_d_impl = fl_onehot_cols_d_avx2;
            fl_onehot_cols_f_impl = fl_onehot_cols_f_avx2;
        }
        fl_sq_lanes_dd_impl = fl_sq_lanes_dd_avx2;
        fl_sq_lanes_df_impl = fl_sq_lanes_df_avx2;
        fl_sq_lanes_fd_impl = fl_sq_lanes_fd_avx2;
        fl_sq_lanes_ff_impl = fl_sq_lanes_ff_avx2;
        fl_scale_rows_d_impl = fl_scale_rows_d_avx2;   /* (no AVX-512 variant) */
        fl_scale_rows_f_impl = fl_scale_rows_f_avx2;
        if (fl_shift_rows_d_impl == fl_shift_rows_d_base)
            fl_shift_rows_d_impl = fl_shift_rows_d_avx2;
        fl_shift_rows_f_impl = fl_shift_rows_f_avx2;  /* AVX-512 measured slower */
        fl_row_sums_impl = fl_row_sums_avx2;
        fl_row_sums_but_impl = fl_row_sums_but_avx2;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) {
        fl_nonzero_f64_impl = fl_nonzero_f64_avx2;
        fl_nonzero_f32_impl = fl_nonzero_f32_avx2;
    }
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
static inline void fl_vlog(const double *x, double *y, ptrdiff_t n) { fl_vlog_impl(x, y, n); }
static inline int fl_vexp_lim(const double *x, double *y, ptrdiff_t n, double lim)
{ return fl_vexp_lim_impl(x, y, n, lim); }
/* y[i] = exp(x[i]) for every x: beyond +-700 (or NaN) through libm */
static inline void fl_vexp(const double *x, double *y, ptrdiff_t n)
{
    if (fl_vexp_lim_impl(x, y, n, 700.0)) {
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

#endif
