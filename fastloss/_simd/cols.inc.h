/* Softmax in columns: the row sums and the gradient's scaled rows of
 * rows.inc.h for a group whose exps are held class-major, e[j*n + i] for
 * row i of n and class j.  That is the natural order of a channels-first
 * batch (N, C, d1, ...) read in place: its rows are contiguous positions
 * and each class is a run of them, so the exps come in one contiguous pass
 * per class and the loops below run across rows, several rows a vector.
 * Included by baseline.c, avx2.c and avx512.c: the sums' loop in
 * intrinsics, four rows a vector at AVX2 and eight at AVX-512, with each
 * row's four partial sums in registers; the rest plain C that the compiler
 * vectorises.  The per-dtype pieces are in cols.tpl.h.
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
 * and the classes' stride gcs.  The float32 variant reads float exps
 * (fl_col_expf_sums_but's), the float64 one doubles.
 */

#define FL_TEMPLATE "cols.tpl.h"
#include "each_type.h"

/* The label's term is taken out by storing +0 in its place (e is the
 * caller's scratch, and the gradient's label entry does not read it), so
 * the sums need no per-element test: adding +0.0 to the positive partial
 * sums changes no bit, as the masked adds of fl_row_sums_but. */
FL_TARGET void FL_NAME(fl_col_sums_but)(double *restrict e, ptrdiff_t n, ptrdiff_t C,
                                        const int64_t *restrict lab, double *restrict s,
                                        double *restrict ek)
{
    fl_col_sums_of_d(e, n, C, lab, s, ek);
}

/* The float32 logits' exps are kept as the floats they are: half the bytes
 * stored and loaded of doubles, and no lane extraction at AVX-512, for the
 * same values and so the same bits.
 *
 * fl_col_expf_sums_but(x, xs, n, C, lim, lab, s, ek, e): the exps of a
 * group of float32 logits in C runs of n rows (run j at x + j * xs), as
 * fl_vexpf_lim makes them, into e (floats, e[j*n + i]), then fl_col_sums_but's
 * s and ek from them; returns fl_vexpf_lim's flag (some logit beyond lim,
 * or a NaN). */
FL_TARGET_FMA int FL_NAME(fl_col_expf_sums_but)(const float *restrict x, ptrdiff_t xs,
                                                ptrdiff_t n, ptrdiff_t C, float lim,
                                                const int64_t *restrict lab,
                                                double *restrict s, double *restrict ek,
                                                float *restrict e)
{
    const int special = fl_expf_runs(x, xs, NULL, e, n, C, lim);
    fl_col_sums_of_f(e, n, C, lab, s, ek);
    return special;
}
