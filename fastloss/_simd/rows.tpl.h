/* fl_shift_rows_<FL_TS> (logits of dtype FL_T) and fl_scale_rows_<FL_TS>
 * (a gradient of dtype FL_T) for the baseline and AVX2; rows.inc.h says
 * what they compute and includes this once per dtype. */

#if FL_ISA == FL_ISA_BASELINE

FL_TARGET void FL_NAME(FL_CAT(fl_shift_rows_, FL_TS))(const FL_T *restrict x, ptrdiff_t rows,
                                                      ptrdiff_t C, ptrdiff_t rs,
                                                      double *restrict a, double *restrict m)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const FL_T *xr = x + i * rs;
        double mx = -INFINITY;
        for (ptrdiff_t j = 0; j < C; j++) {
            double v = (double)xr[j];
            mx = v > mx ? v : mx;
        }
        m[i] = mx;
        double *ar = a + i * C;
        for (ptrdiff_t j = 0; j < C; j++)
            ar[j] = (double)xr[j] - mx;
    }
}

/* the row of fl_scale_rows */
static inline __attribute__((always_inline)) void FL_CAT(fl_scale_row_, FL_TS)(const double *restrict er, FL_T *restrict gr,
                                               ptrdiff_t C, double fi)
{
    for (ptrdiff_t j = 0; j < C; j++)
        gr[j] = (FL_T)(er[j] * fi);
}

#elif FL_ISA == FL_ISA_AVX2

/* the row's maximum from 4-, 2- and 1-element pieces (rows.inc.h), then
   the row minus it, in the same pieces */
FL_TARGET void FL_NAME(FL_CAT(fl_shift_rows_, FL_TS))(const FL_T *restrict x, ptrdiff_t rows,
                                                      ptrdiff_t C, ptrdiff_t rs,
                                                      double *restrict a, double *restrict m)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const FL_T *xr = x + i * rs;
        double *ar = a + i * C;
        __m256d vm = _mm256_set1_pd(-INFINITY);
        ptrdiff_t j = 0;
        for (; j + 4 <= C; j += 4)
            vm = _mm256_max_pd(FL_CAT(fl_ld4_, FL_TS)(xr + j), vm);  /* NaN in x: vm kept */
        __m128d h = _mm_max_pd(_mm256_castpd256_pd128(vm), _mm256_extractf128_pd(vm, 1));
        if (j + 2 <= C)
            h = _mm_max_pd(FL_CAT(fl_ld2_, FL_TS)(xr + j), h);
        h = _mm_max_sd(_mm_unpackhi_pd(h, h), h);
        if (C & 1)
            h = _mm_max_sd(FL_CAT(fl_ld1_, FL_TS)(xr + C - 1), h);
        const double mx = _mm_cvtsd_f64(h);
        m[i] = mx;
        const __m256d vmx = _mm256_set1_pd(mx);
        for (j = 0; j + 4 <= C; j += 4)
            _mm256_storeu_pd(ar + j, _mm256_sub_pd(FL_CAT(fl_ld4_, FL_TS)(xr + j), vmx));
        if (j + 2 <= C)
            _mm_storeu_pd(ar + j, _mm_sub_pd(FL_CAT(fl_ld2_, FL_TS)(xr + j),
                                             _mm256_castpd256_pd128(vmx)));
        if (C & 1)
            ar[C - 1] = (double)xr[C - 1] - mx;
    }
}

#endif

FL_TARGET void FL_NAME(FL_CAT(fl_scale_rows_, FL_TS))(const double *restrict e, ptrdiff_t rows,
                                                      ptrdiff_t C, const double *restrict f,
                                                      FL_T *restrict g, ptrdiff_t grs,
                                                      const int64_t *restrict lab,
                                                      const double *restrict kv)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *er = e + i * C;
        FL_T *gr = g + i * grs;
        const int64_t k = lab[i];
        if (k < 0) {
            for (ptrdiff_t j = 0; j < C; j++)
                gr[j] = (FL_T)0;
            continue;
        }
        FL_CAT(fl_scale_row_, FL_TS)(er, gr, C, f[i]);
        gr[k] = (FL_T)kv[i];
    }
}
