/* Binary targets, forward loss: the variants of fl_binprod (binprod.h says
 * what it computes, in which order, and with which error) and the count of
 * ones.  Included by baseline.c, avx2.c and avx512.c; the per-dtype kernels
 * are in binprod.tpl.h.
 *
 * A variant returns 0 where the product form does not apply, 2 with M and
 * E set, or 1 with the running products P[32] and mx for fl_binprod_finish
 * to check and combine in the caller's frame.  mx is the largest factor's
 * bits as an unsigned integer, or (AVX2) any value above the bits of 2.0
 * where some factor is out of [+0, 2]: the only use of mx is that test.
 * No variant keeps an array in its own frame: ASan's fake stack
 * (detect_stack_use_after_return) mishandled one in an AVX-512 frame,
 * which GCC realigns (a SEGV on storing to it).
 *
 * fl_count_ones_<T>(t, L): the number of t[u] == 1 among L contiguous
 * targets: the n1 of a binary group whose loss is too small for
 * fl_binprod's cruder bound n1 <= L (the caller counts float64 targets of
 * float32 probabilities itself, in float32).
 */
#include "binprod.h"

#if FL_ISA == FL_ISA_AVX512

/* AVX-512: four vectors of running products (P[8q + l] is lane l of aq).
   vfixupimmpd classifies t: +-0 gives 1.0, +1 keeps p + eps, anything else
   gives NaN (token responses 0xA = +1.0, 0 = the first operand, 3 = NaN). */
#define FL_BIN_TABLE 0x33330A33

/* the mask of the first n of 8 lanes (none for n <= 0) */
static inline __mmask8 fl_lanes8(ptrdiff_t n)
{ return n >= 8 ? (__mmask8)0xff : n <= 0 ? (__mmask8)0 : (__mmask8)((1u << n) - 1u); }

/* 8 elements (lanes k) as doubles; the targets' loaders fl_ldt8_<TP><TT>
   read them in the computation dtype TP: float64 ones rounded to float32 */
FL_TARGET static inline __m512d fl_ld8_d(__mmask8 k, const double *p)
{ return _mm512_maskz_loadu_pd(k, p); }
FL_TARGET static inline __m512d fl_ld8_f(__mmask8 k, const float *p)
{ return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(k, p)); }
FL_TARGET static inline __m512d fl_ldt8_dd(__mmask8 k, const double *t) { return fl_ld8_d(k, t); }
FL_TARGET static inline __m512d fl_ldt8_df(__mmask8 k, const float *t) { return fl_ld8_f(k, t); }
FL_TARGET static inline __m512d fl_ldt8_fd(__mmask8 k, const double *t)
{ return _mm512_cvtps_pd(_mm512_cvtpd_ps(fl_ld8_d(k, t))); }
FL_TARGET static inline __m512d fl_ldt8_ff(__mmask8 k, const float *t) { return fl_ld8_f(k, t); }

/* m(x): the mantissa of x in [1, 2), sign kept */
FL_TARGET static inline __m512d fl_mant12(__m512d x)
{ return _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src); }

/* fl_binprod_finish in registers, from the running products a0..a3 and
   their factors' largest bits m0..m3: the same checks, splits and order;
   returns 0 or 2 */
FL_TARGET static inline __attribute__((always_inline)) int
fl_binprod_finish_avx512(__m512d a0, __m512d a1, __m512d a2, __m512d a3,
                         __m512i m0, __m512i m1, __m512i m2, __m512i m3,
                         double *M, double *E)
{
    const __m512i two = _mm512_set1_epi64(0x4000000000000000LL);
    const __m512i mv = _mm512_max_epu64(_mm512_max_epu64(m0, m1), _mm512_max_epu64(m2, m3));
    const __m512d tiny = _mm512_set1_pd(4.1045368012983762e-289);   /* 2^-958 */
    if (_mm512_cmp_epu64_mask(mv, two, _MM_CMPINT_NLE)
        | _mm512_cmp_pd_mask(a0, tiny, _CMP_NGE_UQ) | _mm512_cmp_pd_mask(a1, tiny, _CMP_NGE_UQ)
        | _mm512_cmp_pd_mask(a2, tiny, _CMP_NGE_UQ) | _mm512_cmp_pd_mask(a3, tiny, _CMP_NGE_UQ))
        return 0;
    __m512d ex = _mm512_add_pd(_mm512_add_pd(_mm512_getexp_pd(a0), _mm512_getexp_pd(a1)),
                               _mm512_add_pd(_mm512_getexp_pd(a2), _mm512_getexp_pd(a3)));
    __m512d x = _mm512_mul_pd(_mm512_mul_pd(fl_mant12(a0), fl_mant12(a1)),
                              _mm512_mul_pd(fl_mant12(a2), fl_mant12(a3)));
    ex = _mm512_add_pd(ex, _mm512_getexp_pd(x));
    x = fl_mant12(x);
    const __m256d y = _mm256_mul_pd(_mm512_castpd512_pd256(x), _mm512_extractf64x4_pd(x, 1));
    const __m128d z = _mm_mul_pd(_mm256_castpd256_pd128(y), _mm256_extractf128_pd(y, 1));
    int64_t e = (int64_t)_mm512_reduce_add_pd(ex);
    *M = fl_split2(_mm_cvtsd_f64(_mm_mul_sd(z, _mm_unpackhi_pd(z, z))), &e);
    *E = (double)e;
    return 2;
}

FL_TARGET ptrdiff_t fl_count_ones_d_avx512(const double *restrict t, ptrdiff_t L)
{
    const __m512d one = _mm512_set1_pd(1.0);
    ptrdiff_t n = 0, u = 0;
    for (; u + 8 <= L; u += 8)
        n += __builtin_popcount(_mm512_cmp_pd_mask(_mm512_loadu_pd(t + u), one, _CMP_EQ_OQ));
    const __mmask8 k = fl_lanes8(L - u);
    return n + __builtin_popcount(_mm512_mask_cmp_pd_mask(k, _mm512_maskz_loadu_pd(k, t + u),
                                                          one, _CMP_EQ_OQ));
}

FL_TARGET ptrdiff_t fl_count_ones_f_avx512(const float *restrict t, ptrdiff_t L)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    ptrdiff_t n = 0, u = 0;
    for (; u + 16 <= L; u += 16)
        n += __builtin_popcount(_mm512_cmp_ps_mask(_mm512_loadu_ps(t + u), one, _CMP_EQ_OQ));
    for (; u < L; u++)
        n += t[u] == 1.0f;
    return n;
}

#elif FL_ISA == FL_ISA_AVX2

/* AVX2: the targets' loaders fl_ldt4_<TP><TT>, 4 targets as doubles read in
   the computation dtype TP (the predictions' loaders fl_ld4_<T> are in
   rows.inc.h) */
FL_TARGET static inline __m256d fl_ldt4_dd(const double *t) { return fl_ld4_d(t); }
FL_TARGET static inline __m256d fl_ldt4_df(const float *t) { return fl_ld4_f(t); }
FL_TARGET static inline __m256d fl_ldt4_fd(const double *t)
{ return _mm256_cvtps_pd(_mm256_cvtpd_ps(fl_ld4_d(t))); }
FL_TARGET static inline __m256d fl_ldt4_ff(const float *t) { return fl_ld4_f(t); }

#endif

#define FL_TEMPLATE "binprod.tpl.h"
#include "each_type.h"
#define FL_TEMPLATE "binprod.tpl.h"
#include "each_pair.h"
