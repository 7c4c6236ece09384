/* Softmax in columns: the row sums and the gradient's scaled rows of
 * rows.inc.h for a group whose exps are held class-major, e[j*n + i] for
 * row i of n and class j.  That is the natural order of a channels-first
 * batch (N, C, d1, ...) read in place: its rows are contiguous positions
 * and each class is a run of them, so the exps come in one contiguous pass
 * per class and the loops below run across rows, several rows a vector.
 * Included by baseline.c, avx2.c and avx512.c: the sums' loop in
 * intrinsics, four rows a vector at AVX2 and eight at AVX-512, with each
 * row's four partial sums in registers; the rest plain C that the compiler
 * vectorises.
 *
 * Each row's arithmetic is that of rows.inc.h, element for element, so a
 * batch gives the same bits in either order:
 *
 * fl_col_sums_but(e, n, C, lab, s, ek): s[i] = (l0 + l1) + (l2 + l3), l_k
 * the sum of row i's e over the classes j = k mod 4 in increasing j, the
 * label's term taken as +0.0, and ek[i] that term (1 for an ignored row,
 * lab[i] < 0), as fl_row_sums_but.  It overwrites the label's term in e
 * with +0.0.
 *
 * fl_scale_cols_<T>(e, n, C, f, g, gcs, lab, kv): g[j*gcs + i] =
 * (T)(e[j*n + i] * f[i]), then g[lab[i]*gcs + i] = (T)kv[i], a row with
 * lab[i] < 0 all zeros, as fl_scale_rows_<T> with the rows' unit stride
 * and the classes' stride gcs.
 */

/* the row sums of rows i0 .. i1 (no label terms left: see below) */
static inline __attribute__((always_inline)) void
fl_col_sums_scalar(const double *restrict e, ptrdiff_t n, ptrdiff_t C, ptrdiff_t i0,
                   ptrdiff_t i1, double *restrict s)
{
    for (ptrdiff_t i = i0; i < i1; i++) {
        double l[4] = {0.0, 0.0, 0.0, 0.0};
        for (ptrdiff_t j = 0; j < C; j++)
            l[j & 3] += e[j * n + i];
        s[i] = (l[0] + l[1]) + (l[2] + l[3]);
    }
}

/* The label's term is taken out by storing +0.0 in its place (e is the
 * caller's scratch, and the gradient's label entry does not read it), so
 * the sums need no per-element test: adding +0.0 to the positive partial
 * sums changes no bit, as the masked adds of fl_row_sums_but. */
FL_TARGET void FL_NAME(fl_col_sums_but)(double *restrict e, ptrdiff_t n, ptrdiff_t C,
                                        const int64_t *restrict lab, double *restrict s,
                                        double *restrict ek)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const int64_t k = lab[i];
        ek[i] = k >= 0 ? e[k * n + i] : 1.0;
        if (k >= 0)
            e[k * n + i] = 0.0;
    }
#if FL_ISA == FL_ISA_AVX2 || FL_ISA == FL_ISA_AVX512
    /* FL_CS_W rows a vector (4 at AVX2, 8 at AVX-512), the four partial
     * sums of each in registers; plain loads and stores (masked ones cost
     * several times as much on AMD Zen), the last rows scalar */
#if FL_ISA == FL_ISA_AVX2
#define FL_CS_W 4
#define FL_CS_VEC __m256d
#define FL_CS_ZERO _mm256_setzero_pd
#define FL_CS_LOAD _mm256_loadu_pd
#define FL_CS_ADD _mm256_add_pd
#define FL_CS_STORE _mm256_storeu_pd
#else
#define FL_CS_W 8
#define FL_CS_VEC __m512d
#define FL_CS_ZERO _mm512_setzero_pd
#define FL_CS_LOAD _mm512_loadu_pd
#define FL_CS_ADD _mm512_add_pd
#define FL_CS_STORE _mm512_storeu_pd
#endif
    ptrdiff_t i = 0;
    for (; i + FL_CS_W <= n; i += FL_CS_W) {
        FL_CS_VEC l0 = FL_CS_ZERO(), l1 = l0, l2 = l0, l3 = l0;
        const double *ei = e + i;
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
    fl_col_sums_scalar(e, n, C, i, n, s);
#else
    fl_col_sums_scalar(e, n, C, 0, n, s);
#endif
}

#define FL_SCALE_COLS(T, TS)                                                               \
FL_TARGET void FL_NAME(fl_scale_cols_##TS)(const double *restrict e, ptrdiff_t n,         \
                                           ptrdiff_t C, const double *restrict f,         \
                                           T *restrict g, ptrdiff_t gcs,                  \
                                           const int64_t *restrict lab,                   \
                                           const double *restrict kv)                     \
{                                                                                          \
    for (ptrdiff_t j = 0; j < C; j++) {                                                    \
        const double *ej = e + j * n;                                                      \
        T *gj = g + j * gcs;                                                               \
        for (ptrdiff_t i = 0; i < n; i++)                                                  \
            gj[i] = (T)(ej[i] * f[i]);                                                     \
    }                                                                                      \
    for (ptrdiff_t i = 0; i < n; i++) {                                                    \
        const int64_t k = lab[i];                                                          \
        if (k >= 0) {                                                                      \
            g[k * gcs + i] = (T)kv[i];                                                     \
        } else {                                                                           \
            for (ptrdiff_t j = 0; j < C; j++)                                              \
                g[j * gcs + i] = (T)0;                                                     \
        }                                                                                  \
    }                                                                                      \
}

FL_SCALE_COLS(double, d)
FL_SCALE_COLS(float, f)

#undef FL_SCALE_COLS
