/* The per-dtype pieces of cols.inc.h, for exps held as FL_T (doubles for
 * float64 logits, the floats themselves for float32; widening a float is
 * exact, so either gives the same sums).  cols.inc.h says what they compute
 * and includes this once per dtype. */

/* fl_col_sums_but's work on exps of dtype FL_T: the label's term out of e
 * (into ek, +0 in its place), then the row sums s */
FL_TARGET static inline __attribute__((always_inline)) void
FL_CAT(fl_col_sums_of_, FL_TS)(FL_T *restrict e, ptrdiff_t n, ptrdiff_t C,
                               const int64_t *restrict lab, double *restrict s,
                               double *restrict ek)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const int64_t k = lab[i];
        ek[i] = k >= 0 ? (double)e[k * n + i] : 1.0;
        if (k >= 0)
            e[k * n + i] = (FL_T)0;
    }
    ptrdiff_t i = 0;
#if FL_ISA == FL_ISA_AVX2 || FL_ISA == FL_ISA_AVX512
    /* FL_CS_W rows a vector (4 at AVX2, 8 at AVX-512), the four partial
     * sums of each in registers; plain loads and stores (masked ones cost
     * several times as much on AMD Zen), the last rows scalar.  Floats are
     * widened as they are loaded. */
#if FL_ISA == FL_ISA_AVX2
#define FL_CS_W 4
#define FL_CS_VEC __m256d
#define FL_CS_ZERO _mm256_setzero_pd
#if FL_TBITS == 64
#define FL_CS_LOAD(p) _mm256_loadu_pd(p)
#else
#define FL_CS_LOAD(p) _mm256_cvtps_pd(_mm_loadu_ps(p))
#endif
#define FL_CS_ADD _mm256_add_pd
#define FL_CS_STORE _mm256_storeu_pd
#else
#define FL_CS_W 8
#define FL_CS_VEC __m512d
#define FL_CS_ZERO _mm512_setzero_pd
#if FL_TBITS == 64
#define FL_CS_LOAD(p) _mm512_loadu_pd(p)
#else
#define FL_CS_LOAD(p) _mm512_cvtps_pd(_mm256_loadu_ps(p))
#endif
#define FL_CS_ADD _mm512_add_pd
#define FL_CS_STORE _mm512_storeu_pd
#endif
    for (; i + FL_CS_W <= n; i += FL_CS_W) {
        FL_CS_VEC l0 = FL_CS_ZERO(), l1 = l0, l2 = l0, l3 = l0;
        const FL_T *ei = e + i;
        ptrdiff_t j = 0;
        for (; j + 4 <= C; j += 4) {
            l0 = FL_CS_ADD(l0, FL_CS_LOAD(ei + j * n));
            l1 = FL_CS_ADD(l1, FL_CS_LOAD(ei + (j + 1) * n));
            l2 = FL_CS_ADD(l2, FL_CS_LOAD(ei + (j + 2) * n));
            l3 = FL_CS_ADD(l3, FL_CS_LOAD(ei + (j + 3) * n));
        }
        if (j < C)
            l0 = FL_CS_ADD(l0, FL_CS_LOAD(ei + j * n));
        if (j + 1 < C)
            l1 = FL_CS_ADD(l1, FL_CS_LOAD(ei + (j + 1) * n));
        if (j + 2 < C)
            l2 = FL_CS_ADD(l2, FL_CS_LOAD(ei + (j + 2) * n));
        FL_CS_STORE(s + i, FL_CS_ADD(FL_CS_ADD(l0, l1), FL_CS_ADD(l2, l3)));
    }
#undef FL_CS_W
#undef FL_CS_VEC
#undef FL_CS_ZERO
#undef FL_CS_LOAD
#undef FL_CS_ADD
#undef FL_CS_STORE
#endif
    for (; i < n; i++) {
        double l[4] = {0.0, 0.0, 0.0, 0.0};
        for (ptrdiff_t j = 0; j < C; j++)
            l[j & 3] += (double)e[j * n + i];
        s[i] = (l[0] + l[1]) + (l[2] + l[3]);
    }
}

FL_TARGET void FL_NAME(FL_CAT(fl_scale_cols_, FL_TS))(const FL_T *restrict e, ptrdiff_t n,
                                                      ptrdiff_t C, const double *restrict f,
                                                      FL_T *restrict g, ptrdiff_t gcs,
                                                      const int64_t *restrict lab,
                                                      const double *restrict kv)
{
    for (ptrdiff_t j = 0; j < C; j++) {
        const FL_T *ej = e + j * n;
        FL_T *gj = g + j * gcs;
        for (ptrdiff_t i = 0; i < n; i++)
            gj[i] = (FL_T)((double)ej[i] * f[i]);
    }
    for (ptrdiff_t i = 0; i < n; i++) {
        const int64_t k = lab[i];
        if (k >= 0) {
            g[k * gcs + i] = (FL_T)kv[i];
        } else {
            for (ptrdiff_t j = 0; j < C; j++)
                g[j * gcs + i] = (FL_T)0;
        }
    }
}
