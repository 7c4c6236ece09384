/* The binary targets' kernels of binprod.inc.h, included once per dtype
 * (each_type.h) and once per pair of dtypes (each_pair.h). */

#ifndef FL_PT
/* ---- per target dtype FL_T: the baseline's count of ones (the AVX-512
 * ones are in binprod.inc.h) ---- */
#if FL_ISA == FL_ISA_BASELINE
FL_TARGET ptrdiff_t FL_NAME(FL_CAT(fl_count_ones_, FL_TS))(const FL_T *restrict t, ptrdiff_t L)
{
    ptrdiff_t n = 0;
    for (ptrdiff_t u = 0; u < L; u++)
        n += t[u] == (FL_T)1;
    return n;
}
#endif

#elif FL_ISA == FL_ISA_BASELINE
/* ---- per pair of dtypes (predictions FL_TP, targets FL_TT): fl_binprod,
 * baseline.  32 running products in the caller's array P; the
 * first 32 elements are checked alone, so that a soft target leaves after
 * one chunk.  Returns 1 (the caller combines P) or 0 ---- */
FL_TARGET_FMA int FL_NAME(FL_CAT(fl_binprod_, FL_PT))(const FL_TP *restrict p,
                                                      const FL_TT *restrict t, ptrdiff_t L,
                                                      double eps, double *restrict P,
                                                      uint64_t *restrict mxp,
                                                      double *M, double *E)
{
    (void)M; (void)E;
    uint64_t mx = 0;
    for (int r = 0; r < 32; r++)
        P[r] = 1.0;
    for (ptrdiff_t u0 = 0; u0 < L; u0 += 32) {
        const ptrdiff_t n = L - u0 < 32 ? L - u0 : 32;
        for (ptrdiff_t r = 0; r < n; r++) {
            const double f = fl_bin_factor((double)(FL_TP)t[u0 + r], (double)p[u0 + r], eps);
            const uint64_t b = fl_as_u64(f);
            mx = b > mx ? b : mx;
            P[r] *= f;
        }
        if (u0 == 0 && mx > 0x4000000000000000ULL)
            return 0;
    }
    *mxp = mx;
    return 1;
}

#elif FL_ISA == FL_ISA_AVX2
/* ---- per pair of dtypes: fl_binprod on AVX2, the running products in
 * eight vectors (P[4q + l] is lane l of aq) and no branch per element: a
 * one-hot target's position is data, and a branch on it mispredicts about
 * once a row.  Returns 0 or 1, with P and mx as binprod.inc.h says ---- */

/* one vector of 4 factors f = p + eps, 1 or NaN into the running product a;
   bad gets all-ones lanes where f's bits, unsigned, exceed those of 2.0
   (f negative, NaN or above 2): a signed compare after flipping the sign */
FL_TARGET static inline __attribute__((always_inline)) void
FL_CAT(fl_bin_step4_, FL_PT)(const FL_TP *p, const FL_TT *t, __m256d veps, __m256d *a,
                             __m256i *bad)
{
    const __m256d one = _mm256_set1_pd(1.0), nan = _mm256_set1_pd((double)NAN);
    const __m256i sign = _mm256_set1_epi64x(INT64_MIN);
    const __m256i lim = _mm256_set1_epi64x((int64_t)(0x4000000000000000ULL ^ 0x8000000000000000ULL));
    const __m256d tv = FL_CAT(fl_ldt4_, FL_PT)(t);
    const __m256d pe = _mm256_add_pd(FL_CAT(fl_ld4_, FL_TPS)(p), veps);
    __m256d f = _mm256_blendv_pd(nan, pe, _mm256_cmp_pd(tv, one, _CMP_EQ_OQ));
    f = _mm256_blendv_pd(f, one, _mm256_cmp_pd(tv, _mm256_setzero_pd(), _CMP_EQ_OQ));
    *a = _mm256_mul_pd(*a, f);
    *bad = _mm256_or_si256(*bad, _mm256_cmpgt_epi64(
        _mm256_xor_si256(_mm256_castpd_si256(f), sign), lim));
}

FL_TARGET int FL_NAME(FL_CAT(fl_binprod_, FL_PT))(const FL_TP *restrict p,
                                                  const FL_TT *restrict t, ptrdiff_t L,
                                                  double eps, double *restrict P,
                                                  uint64_t *restrict mxp, double *M, double *E)
{
    (void)M; (void)E;
    const __m256d veps = _mm256_set1_pd(eps), one = _mm256_set1_pd(1.0);
    __m256d a0 = one, a1 = one, a2 = one, a3 = one, a4 = one, a5 = one, a6 = one, a7 = one;
    __m256i bad = _mm256_setzero_si256();
    ptrdiff_t k = 0;
    for (; k + 32 <= L; k += 32) {
        FL_CAT(fl_bin_step4_, FL_PT)(p + k, t + k, veps, &a0, &bad);
        FL_CAT(fl_bin_step4_, FL_PT)(p + k + 4, t + k + 4, veps, &a1, &bad);
        FL_CAT(fl_bin_step4_, FL_PT)(p + k + 8, t + k + 8, veps, &a2, &bad);
        FL_CAT(fl_bin_step4_, FL_PT)(p + k + 12, t + k + 12, veps, &a3, &bad);
        FL_CAT(fl_bin_step4_, FL_PT)(p + k + 16, t + k + 16, veps, &a4, &bad);
        FL_CAT(fl_bin_step4_, FL_PT)(p + k + 20, t + k + 20, veps, &a5, &bad);
        FL_CAT(fl_bin_step4_, FL_PT)(p + k + 24, t + k + 24, veps, &a6, &bad);
        FL_CAT(fl_bin_step4_, FL_PT)(p + k + 28, t + k + 28, veps, &a7, &bad);
        if (k == 0 && !_mm256_testz_si256(bad, bad))
            return 0;
    }
    _mm256_storeu_pd(P, a0);
    _mm256_storeu_pd(P + 4, a1);
    _mm256_storeu_pd(P + 8, a2);
    _mm256_storeu_pd(P + 12, a3);
    _mm256_storeu_pd(P + 16, a4);
    _mm256_storeu_pd(P + 20, a5);
    _mm256_storeu_pd(P + 24, a6);
    _mm256_storeu_pd(P + 28, a7);
    /* the last L - k < 32 elements, one at a time, to P[0 ..] */
    uint64_t mx = _mm256_testz_si256(bad, bad) ? 0 : UINT64_MAX;
    for (ptrdiff_t r = 0; k + r < L; r++) {
        const double f = fl_bin_factor((double)(FL_TP)t[k + r], (double)p[k + r], eps);
        const uint64_t b = fl_as_u64(f);
        mx = b > mx ? b : mx;
        P[r] *= f;
    }
    *mxp = mx;
    return 1;
}

#else
/* ---- per pair of dtypes: fl_binprod on AVX-512, the running products in
 * four vectors (binprod.inc.h); returns 0 or 2 ---- */

/* one vector of 8 factors f = p + eps or 1 (or NaN), from lanes k of p and
   t, into the running product a and the largest factor bits mx */
FL_TARGET static inline __attribute__((always_inline)) void
FL_CAT(fl_bin_step_, FL_PT)(const FL_TP *p, const FL_TT *t, __mmask8 k, __m512d veps,
                            __m512i tab, __m512d *a, __m512i *mx)
{
    const __m512d f = _mm512_fixupimm_pd(_mm512_add_pd(FL_CAT(fl_ld8_, FL_TPS)(k, p), veps),
                                         FL_CAT(fl_ldt8_, FL_PT)(k, t), tab, 0);
    *a = _mm512_mul_pd(*a, f);
    *mx = _mm512_max_epu64(*mx, _mm512_castpd_si512(f));
}

FL_TARGET int FL_NAME(FL_CAT(fl_binprod_, FL_PT))(const FL_TP *restrict p,
                                                  const FL_TT *restrict t, ptrdiff_t L,
                                                  double eps, double *restrict P,
                                                  uint64_t *restrict mxp, double *M, double *E)
{
    (void)P; (void)mxp;
    const __m512d veps = _mm512_set1_pd(eps), one = _mm512_set1_pd(1.0);
    const __m512i tab = _mm512_set1_epi64(FL_BIN_TABLE);
    const __m512i two = _mm512_set1_epi64(0x4000000000000000LL);
    __m512d a0 = one, a1 = one, a2 = one, a3 = one;
    __m512i m0 = _mm512_setzero_si512(), m1 = m0, m2 = m0, m3 = m0;
    ptrdiff_t k = 0;
    for (; k + 32 <= L; k += 32) {
        FL_CAT(fl_bin_step_, FL_PT)(p + k, t + k, 0xff, veps, tab, &a0, &m0);
        FL_CAT(fl_bin_step_, FL_PT)(p + k + 8, t + k + 8, 0xff, veps, tab, &a1, &m1);
        FL_CAT(fl_bin_step_, FL_PT)(p + k + 16, t + k + 16, 0xff, veps, tab, &a2, &m2);
        FL_CAT(fl_bin_step_, FL_PT)(p + k + 24, t + k + 24, 0xff, veps, tab, &a3, &m3);
        if (k == 0 && _mm512_cmp_epu64_mask(_mm512_max_epu64(_mm512_max_epu64(m0, m1),
                                                             _mm512_max_epu64(m2, m3)),
                                            two, _MM_CMPINT_NLE))
            return 0;
    }
    if (k < L) {
        const ptrdiff_t n = L - k;
        FL_CAT(fl_bin_step_, FL_PT)(p + k, t + k, fl_lanes8(n), veps, tab, &a0, &m0);
        FL_CAT(fl_bin_step_, FL_PT)(p + k + 8, t + k + 8, fl_lanes8(n - 8), veps, tab, &a1, &m1);
        FL_CAT(fl_bin_step_, FL_PT)(p + k + 16, t + k + 16, fl_lanes8(n - 16), veps, tab,
                                    &a2, &m2);
        FL_CAT(fl_bin_step_, FL_PT)(p + k + 24, t + k + 24, fl_lanes8(n - 24), veps, tab,
                                    &a3, &m3);
    }
    return fl_binprod_finish_avx512(a0, a1, a2, a3, m0, m1, m2, m3, M, E);
}

#endif
