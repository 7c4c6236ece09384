/* One-hot targets: the nonzero scan, the one-hot gather and the one-hot
 * columns.  Included by baseline.c, avx2.c and avx512.c; the per-dtype
 * kernels are in gather.tpl.h, the intrinsics pieces of each instruction
 * set below.
 *
 * fl_nonzero_f64/f32(t, n, out): out[0..k) = the offsets i in [0, n) with
 * t[i] != 0, in increasing order; returns k.  out must have room for n + 4
 * entries (the SIMD loop stores four at a time).  Used to find the terms of
 * one-hot targets without a data-dependent branch per element.
 *
 * fl_onehot_gather_<TP><TT>(p, prs, pcs, t, trs, rows, C, eps, q, pe, col,
 * flat): the forward cross-entropy's path for one-hot groups that the
 * binary product (binprod.h) does not take (a target other than 1, unpacked
 * rows, confident rows): for each of `rows` rows of C <= 64 contiguous
 * targets t (row stride trs) and predictions p (strides prs, pcs), with j
 * the column of the row's only nonzero target,
 *     q[i] = (double)(TP)t[i, j], pe[i] = (double)p[i, j] + eps,
 *     col[i] = j where q[i] == 1, -2 where q[i] == 0, else -1
 * (t is read in the computation dtype TP: a float64 target that is 0 in
 * float32 is a zero term, with pe = 1); a row with no nonzero or several
 * (NaN counts) gets q = 0, pe = 1 (a zero term) and col = -1.  Returns the
 * number of such rows, so the caller can redo a group that has any
 * (fl_onehot_cols then tells which).  One pass over t, one element of p per
 * row; the same values in every variant.  flat allows the AVX-512 variant's
 * two-pass form for packed groups (below): set it for inputs that fit the
 * caches.
 *
 * fl_onehot_cols_<T>(t, rows, C, rs, col): for each of `rows` rows of
 * C <= 64 contiguous targets (row stride rs), col[i] = the column of the
 * row's only nonzero, -1 if the row is all zero, -2 if it has several
 * nonzeros (NaN counts as nonzero).  The same row masks as the gather.
 *
 * Every instruction set has fl_nzmask_d/f(tr, C, b): the row tr's mask of
 * nonzeros (bit j for each nonzero tr[j], NaN counts).  Its AVX-512 forms
 * scan whole vectors, then one masked tail, with the bounds b fixed by C
 * (set once a call).
 */

struct fl_row_bounds {
    ptrdiff_t full8, full16;        /* C rounded down to 8 and 16 */
    unsigned tail8, tail16;         /* masks of the C % 8 and C % 16 last lanes */
    unsigned pk_lo, pk_hi;          /* masks of a row of C <= 16 in 16 floats, 2 x 8 doubles */
};

static inline struct fl_row_bounds fl_row_bounds_of(ptrdiff_t C)
{
    struct fl_row_bounds b;
    b.full8 = C & ~(ptrdiff_t)7;
    b.full16 = C & ~(ptrdiff_t)15;
    b.tail8 = (1u << (C & 7)) - 1u;
    b.tail16 = (1u << (C & 15)) - 1u;
    b.pk_lo = C >= 16 ? 0xffffu : (1u << (C & 15)) - 1u;
    b.pk_hi = C >= 16 ? 0xffu : C > 8 ? (1u << (C - 8)) - 1u : 0u;
    return b;
}

/* row i's gather outputs from its nonzero mask (one: exactly one nonzero,
   at column j), the prediction pv and target tv there; returns 1 for a row
   without exactly one nonzero, which gets the zero term */
static inline __attribute__((always_inline)) ptrdiff_t
fl_onehot_term(int one, ptrdiff_t j, double pv, double tv, double eps,
               double *q, double *pe, int32_t *col)
{
    *q = one ? tv : 0.0;
    *pe = one && tv != 0.0 ? pv + eps : 1.0;
    *col = !one ? -1 : tv == 1.0 ? (int32_t)j : tv == 0.0 ? -2 : -1;
    return !one;
}

#if FL_ISA == FL_ISA_AVX2

/* 4-/8-lane compares, then 2-/4-lane and scalar pieces (no masked loads,
   see rows.inc.h) */
FL_TARGET static inline __attribute__((always_inline)) uint64_t
fl_nzmask_d(const double *restrict tr, ptrdiff_t C, const struct fl_row_bounds b)
{
    (void)b;
    uint64_t m = 0;
    ptrdiff_t jj = 0;
    for (; jj + 4 <= C; jj += 4)
        m |= (uint64_t)_mm256_movemask_pd(_mm256_cmp_pd(
                 _mm256_loadu_pd(tr + jj), _mm256_setzero_pd(), _CMP_NEQ_UQ)) << jj;
    if (jj + 2 <= C) {
        m |= (uint64_t)_mm_movemask_pd(_mm_cmp_pd(
                 _mm_loadu_pd(tr + jj), _mm_setzero_pd(), _CMP_NEQ_UQ)) << jj;
        jj += 2;
    }
    if (jj < C)
        m |= (uint64_t)(tr[jj] != 0.0) << jj;
    return m;
}

FL_TARGET static inline __attribute__((always_inline)) uint64_t
fl_nzmask_f(const float *restrict tr, ptrdiff_t C, const struct fl_row_bounds b)
{
    (void)b;
    uint64_t m = 0;
    ptrdiff_t jj = 0;
    for (; jj + 8 <= C; jj += 8)
        m |= (uint64_t)_mm256_movemask_ps(_mm256_cmp_ps(
                 _mm256_loadu_ps(tr + jj), _mm256_setzero_ps(), _CMP_NEQ_UQ)) << jj;
    if (jj + 4 <= C) {
        m |= (uint64_t)_mm_movemask_ps(_mm_cmp_ps(
                 _mm_loadu_ps(tr + jj), _mm_setzero_ps(), _CMP_NEQ_UQ)) << jj;
        jj += 4;
    }
    for (; jj < C; jj++)
        m |= (uint64_t)(tr[jj] != 0.0f) << jj;
    return m;
}

/* the nonzero scan: the lanes of a 4-bit mask, packed to the front */
static const int32_t fl_pack4[16][4] __attribute__((aligned(16))) = {
    {0,0,0,0}, {0,0,0,0}, {1,0,0,0}, {0,1,0,0}, {2,0,0,0}, {0,2,0,0}, {1,2,0,0}, {0,1,2,0},
    {3,0,0,0}, {0,3,0,0}, {1,3,0,0}, {0,1,3,0}, {2,3,0,0}, {0,2,3,0}, {1,2,3,0}, {0,1,2,3}};

__attribute__((target("avx2,popcnt"))) ptrdiff_t
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

__attribute__((target("avx2,popcnt"))) ptrdiff_t
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

#elif FL_ISA == FL_ISA_AVX512

/* 8-/16-lane compares with a masked load for the rest */
FL_TARGET static inline __attribute__((always_inline)) uint64_t
fl_nzmask_d(const double *restrict tr, ptrdiff_t C, const struct fl_row_bounds b)
{
    (void)C;
    uint64_t m = 0;
    ptrdiff_t jj = 0;
    for (; jj < b.full8; jj += 8)
        m |= (uint64_t)_mm512_cmp_pd_mask(_mm512_loadu_pd(tr + jj),
                                          _mm512_setzero_pd(), _CMP_NEQ_UQ) << jj;
    if (b.tail8) {
        const __mmask8 k = (__mmask8)b.tail8;
        m |= (uint64_t)_mm512_mask_cmp_pd_mask(k, _mm512_maskz_loadu_pd(k, tr + b.full8),
                                               _mm512_setzero_pd(), _CMP_NEQ_UQ) << b.full8;
    }
    return m;
}

FL_TARGET static inline __attribute__((always_inline)) uint64_t
fl_nzmask_f(const float *restrict tr, ptrdiff_t C, const struct fl_row_bounds b)
{
    (void)C;
    uint64_t m = 0;
    ptrdiff_t jj = 0;
    for (; jj < b.full16; jj += 16)
        m |= (uint64_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(tr + jj),
                                          _mm512_setzero_ps(), _CMP_NEQ_UQ) << jj;
    if (b.tail16) {
        const __mmask16 k = (__mmask16)b.tail16;
        m |= (uint64_t)_mm512_mask_cmp_ps_mask(k, _mm512_maskz_loadu_ps(k, tr + b.full16),
                                               _mm512_setzero_ps(), _CMP_NEQ_UQ) << b.full16;
    }
    return m;
}

/* pr[j] for a unit-stride row pr of C <= 16: the whole row is loaded (its
   address does not wait for the target scan) and lane j picked */
FL_TARGET static inline __attribute__((always_inline)) double
fl_pick16_d(const double *pr, ptrdiff_t j, const struct fl_row_bounds b)
{
    return _mm512_cvtsd_f64(_mm512_permutex2var_pd(
        _mm512_maskz_loadu_pd((__mmask8)b.pk_lo, pr),
        _mm512_set1_epi64(j),
        _mm512_maskz_loadu_pd((__mmask8)b.pk_hi, pr + 8)));
}

FL_TARGET static inline __attribute__((always_inline)) double
fl_pick16_f(const float *pr, ptrdiff_t j, const struct fl_row_bounds b)
{
    return (double)_mm512_cvtss_f32(_mm512_permutexvar_ps(_mm512_set1_epi32((int)j),
        _mm512_maskz_loadu_ps((__mmask16)b.pk_lo, pr)));
}

/* Packed groups (rows of t and p back to back: trs = prs = C, pcs = 1,
   C <= 56, rows * C <= FL_FLAT_MAX) of inputs in cache (flat != 0): one
   flat pass over t writes a bit per element into mb, then each row takes
   its C bits with one unaligned 64-bit load and a shift, and reads p and t
   at its column: no per-row vector loads or tails (100 x 10 float64: 0.25
   -> 0.14 us).  From memory, the two passes are slower than the row loop
   (1e6 x 10: 8.1 -> 12 ms), hence the flag.  fl_nzbits_d/f is the flat
   pass over the L elements of t: it fills mb and returns the number of
   elements it covered (L rounded up to whole vectors). */
#define FL_FLAT_MAX 2048

FL_TARGET static inline __attribute__((always_inline)) ptrdiff_t
fl_nzbits_d(const double *restrict t, ptrdiff_t L, uint8_t *restrict mb)
{
    ptrdiff_t k = 0;
    const __m512d z = _mm512_setzero_pd();
    for (; k + 8 <= L; k += 8)
        mb[k >> 3] = (uint8_t)_mm512_cmp_pd_mask(_mm512_loadu_pd(t + k), z, _CMP_NEQ_UQ);
    if (k < L) {
        const __mmask8 kt = (__mmask8)((1u << (L - k)) - 1u);
        mb[k >> 3] = (uint8_t)_mm512_mask_cmp_pd_mask(
            kt, _mm512_maskz_loadu_pd(kt, t + k), z, _CMP_NEQ_UQ);
        k += 8;
    }
    return k;
}

FL_TARGET static inline __attribute__((always_inline)) ptrdiff_t
fl_nzbits_f(const float *restrict t, ptrdiff_t L, uint8_t *restrict mb)
{
    ptrdiff_t k = 0;
    const __m512 z = _mm512_setzero_ps();
    uint16_t m16;
    for (; k + 16 <= L; k += 16) {
        m16 = (uint16_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(t + k), z, _CMP_NEQ_UQ);
        memcpy(mb + (k >> 3), &m16, 2);
    }
    if (k < L) {
        const __mmask16 kt = (__mmask16)((1u << (L - k)) - 1u);
        m16 = (uint16_t)_mm512_mask_cmp_ps_mask(
            kt, _mm512_maskz_loadu_ps(kt, t + k), z, _CMP_NEQ_UQ);
        memcpy(mb + (k >> 3), &m16, 2);
        k += 16;
    }
    return k;
}

#endif

#define FL_TEMPLATE "gather.tpl.h"
#include "each_type.h"
#define FL_TEMPLATE "gather.tpl.h"
#include "each_pair.h"
