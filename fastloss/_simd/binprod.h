/* Binary targets, forward loss: the parts every variant and the caller share.
 *
 * Where every target of a group is exactly 0 or 1 (one-hot rows, or several
 * ones), the group's loss is
 *     -sum_{t_u = 1} log(p_u + eps) = -log prod_{t_u = 1} (p_u + eps):
 * one pass of multiplications and a single log, instead of finding each
 * row's nonzero and taking a log per row.  fl_binprod(p, t, L, eps, &M, &E)
 * reads L contiguous elements of p and t and returns 1 with that product =
 * M 2^E (M in [1, 2), E an integer), or 0 where the product form does not
 * apply: a target other than +-0 and 1 (NaN included), a factor p + eps
 * outside [+0, 2] (negative, NaN, large), or a partial product below 2^-958
 * (a zero factor, or a chance of leaving the normal range).  The targets are
 * read in the computation dtype TP (a float64 target that rounds to 1 in
 * float32 is a one there).  Every variant computes the same bits, in this
 * order:
 *   f_u = 1 where t_u = 0, (double)p_u + eps where t_u = 1;
 *   P_r = the product of f_u over u = r (mod 32), u increasing (r < 32);
 *   with n(x) = (m, e) the exact split x = m 2^e, m in [1, 2):
 *   x_l = (m(P_l) m(P_l+8)) (m(P_l+16) m(P_l+24)) for l < 8,
 *   y_l = m(x_l) m(x_l+4) for l < 4, M = m((y_0 y_2) (y_1 y_3)),
 *   and E the sum of every exponent split off.
 * A multiplication by f_u = 1 is exact; each other one rounds once.
 *
 * The group size limit: L <= 2048 = 32 running products x 64 factors.  A
 * P_r then has at most 64 factors, each at most 2, so with P_r >= 2^-958
 * none of its partial products is subnormal or overflows: the product is
 * within (#ones + 31) 2^-53 relative, its log within that absolutely.  The
 * per-row logs it replaces carry half an ulp each, plus the rounding of
 * every addition.  The callers keep to the limit by calling it on one group
 * of a scratch buffer of CAP = 2048 doubles (fastloss/_core.pxd) at a time.
 */
#ifndef FASTLOSS_SIMD_BINPROD_H
#define FASTLOSS_SIMD_BINPROD_H

#include "common.h"

/* x = m 2^e for a normal x > 0: returns m in [1, 2) and adds e to *e */
static inline double fl_split2(double x, int64_t *e)
{
    const uint64_t b = fl_as_u64(x);
    *e += (int64_t)(b >> 52) - 1023;
    return fl_as_double((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);
}

/* one factor f_u of the product: 1 for a target of +-0, p + eps for a
   target of 1, NaN for any other target (the product form then fails) */
static inline double fl_bin_factor(double tv, double p, double eps)
{
    return tv == 0.0 ? 1.0 : tv == 1.0 ? p + eps : (double)NAN;
}

/* the checks and the fixed combination order above, from P[32] and the
   largest factor's bits mx */
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

#endif
