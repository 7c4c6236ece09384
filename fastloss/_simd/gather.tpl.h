/* The one-hot kernels of gather.inc.h (which says what they compute),
 * included once per dtype (each_type.h) and once per pair of dtypes
 * (each_pair.h). */

#ifndef FL_PT
/* ---- per target dtype FL_T: the baseline's nonzero scan and row mask,
 * and fl_onehot_cols ---- */

#if FL_ISA == FL_ISA_BASELINE
FL_TARGET ptrdiff_t FL_NAME(FL_CAT(fl_nonzero_f, FL_TBITS))(const FL_T *restrict t, ptrdiff_t n,
                                                            int32_t *restrict out)
{
    ptrdiff_t k = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        out[k] = (int32_t)i;
        k += t[i] != (FL_T)0;
    }
    return k;
}

static inline __attribute__((always_inline)) uint64_t
FL_CAT(fl_nzmask_, FL_TS)(const FL_T *restrict tr, ptrdiff_t C, const struct fl_row_bounds b)
{
    (void)b;
    uint64_t m = 0;
    for (ptrdiff_t j = 0; j < C; j++)
        m |= (uint64_t)(tr[j] != (FL_T)0) << j;
    return m;
}
#endif

FL_TARGET void FL_NAME(FL_CAT(fl_onehot_cols_, FL_TS))(const FL_T *restrict t, ptrdiff_t rows,
                                                       ptrdiff_t C, ptrdiff_t rs,
                                                       int32_t *restrict col)
{
    const struct fl_row_bounds b = fl_row_bounds_of(C);
    for (ptrdiff_t i = 0; i < rows; i++) {
        const FL_T *tr = t + i * rs;
        const uint64_t m = FL_CAT(fl_nzmask_, FL_TS)(tr, C, b);
        col[i] = fl_one_bit(m) ? (int32_t)fl_ctz64(m) : (m ? -2 : -1);
    }
}

#else
/* ---- per pair of dtypes (predictions FL_TP, targets FL_TT): the gather ---- */

/* the gather row by row: each row's nonzero mask, then its term; pick16
   (AVX-512, a constant) takes p[i, j] from a whole-row load */
FL_TARGET static inline __attribute__((always_inline)) ptrdiff_t
FL_CAT(fl_onehot_rows_, FL_PT)(const FL_TP *restrict p, ptrdiff_t prs, ptrdiff_t pcs,
                               const FL_TT *restrict t, ptrdiff_t trs, ptrdiff_t rows,
                               ptrdiff_t C, double eps, double *restrict q,
                               double *restrict pe, int32_t *restrict col, const int pick16)
{
    ptrdiff_t bad = 0;
    const struct fl_row_bounds b = fl_row_bounds_of(C);
    for (ptrdiff_t i = 0; i < rows; i++) {
        const FL_TT *tr = t + i * trs;
        const uint64_t m = FL_CAT(fl_nzmask_, FL_TTS)(tr, C, b);
        const int one = fl_one_bit(m);
        const ptrdiff_t j = one ? fl_ctz64(m) : 0;
#if FL_ISA == FL_ISA_AVX512
        const double pv = pick16 ? FL_CAT(fl_pick16_, FL_TPS)(p + i * prs, j, b)
                                 : (double)p[i * prs + j * pcs];
#else
        (void)pick16;
        const double pv = (double)p[i * prs + j * pcs];
#endif
        bad += fl_onehot_term(one, j, pv, (double)(FL_TP)tr[j], eps, q + i, pe + i, col + i);
    }
    return bad;
}

#if FL_ISA == FL_ISA_AVX512
/* the two-pass form for packed groups in cache (gather.inc.h) */
FL_TARGET static inline __attribute__((always_inline)) ptrdiff_t
FL_CAT(fl_onehot_flat_, FL_PT)(const FL_TP *restrict p, const FL_TT *restrict t, ptrdiff_t rows,
                               ptrdiff_t C, double eps, double *restrict q,
                               double *restrict pe, int32_t *restrict col)
{
    uint8_t mb[FL_FLAT_MAX / 8 + 16];
    const ptrdiff_t L = rows * C;
    ptrdiff_t bad = 0;
    const ptrdiff_t k = FL_CAT(fl_nzbits_, FL_TTS)(t, L, mb);
    memset(mb + (k >> 3), 0, 8);        /* the last rows' loads read past */
    const uint64_t cm = ((uint64_t)1 << C) - 1u;
    for (ptrdiff_t i = 0, b = 0; i < rows; i++, b += C) {
        uint64_t w;
        memcpy(&w, mb + (b >> 3), 8);
        const uint64_t m = (w >> (b & 7)) & cm;
        const int one = fl_one_bit(m);
        const ptrdiff_t j = one ? fl_ctz64(m) : 0;
        bad += fl_onehot_term(one, j, (double)p[b + j], (double)(FL_TP)t[b + j], eps,
                              q + i, pe + i, col + i);
    }
    return bad;
}
#endif

FL_TARGET ptrdiff_t FL_NAME(FL_CAT(fl_onehot_gather_, FL_PT))(
    const FL_TP *restrict p, ptrdiff_t prs, ptrdiff_t pcs,
    const FL_TT *restrict t, ptrdiff_t trs, ptrdiff_t rows, ptrdiff_t C,
    double eps, double *restrict q, double *restrict pe, int32_t *restrict col, int flat)
{
#if FL_ISA == FL_ISA_AVX512
    if (flat && trs == C && prs == C && pcs == 1 && C <= 56 && rows * C <= FL_FLAT_MAX)
        return FL_CAT(fl_onehot_flat_, FL_PT)(p, t, rows, C, eps, q, pe, col);
    if (pcs == 1 && C <= 16)
        return FL_CAT(fl_onehot_rows_, FL_PT)(p, prs, pcs, t, trs, rows, C, eps, q, pe, col, 1);
#else
    (void)flat;                         /* the two-pass form is AVX-512's */
#endif
    return FL_CAT(fl_onehot_rows_, FL_PT)(p, prs, pcs, t, trs, rows, C, eps, q, pe, col, 0);
}

#endif
