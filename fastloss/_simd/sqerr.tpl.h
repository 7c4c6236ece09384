/* fl_sq_lanes_<FL_PT> for predictions of dtype FL_TP and targets of dtype
 * FL_TT (included by sqerr.inc.h once per pair):
 *     lanes[f % 8] += (p[f] - (TP)t[f])^2  for f in [0, n).
 * Compiled without FMA in every variant (FL_TARGET), so the result is
 * bit-identical to the scalar loop the kernels use for strided layouts. */
FL_TARGET void FL_NAME(FL_CAT(fl_sq_lanes_, FL_PT))(const FL_TP *restrict p,
                                                    const FL_TT *restrict t, ptrdiff_t n,
                                                    double *restrict lanes)
{
    double a[8];
    for (int l = 0; l < 8; l++) a[l] = lanes[l];
    ptrdiff_t n8 = n - (n & 7), f;
    for (f = 0; f < n8; f += 8)
        for (int l = 0; l < 8; l++) {
            double d = (double)p[f + l] - (double)(FL_TP)t[f + l];
            a[l] += d * d;
        }
    for (f = n8; f < n; f++) {
        double d = (double)p[f] - (double)(FL_TP)t[f];
        a[f & 7] += d * d;
    }
    for (int l = 0; l < 8; l++) lanes[l] = a[l];
}
