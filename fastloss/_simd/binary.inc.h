/* The binary cross-entropies' element loops (fastloss/_kernels/
 * binary_cross_entropy.pxi gathers a block's elements into float64 scratch
 * and their coefficients a = w pw t' and b = w (1 - t'); these loops do the
 * rest, branch-free so that they vectorise).  Included by baseline.c and
 * avx2.c.
 *
 * A term whose coefficient is 0 is exactly 0 (a select after the product,
 * so that the compiler can vectorise the loop, never the product itself with
 * an inf or NaN log); a zero sample weight makes an element exactly 0.
 * The rare special inputs (a NaN or |x| > 700 logit; a log argument that is
 * zero, negative, subnormal, inf or NaN) are flagged in the same pass and
 * recomputed with libm afterwards.
 */

/* c ? x : y, and c ? x : 0, as bit operations: a conditional expression
 * keeps GCC from vectorising a loop (it will not if-convert it under the
 * default -ftrapping-math) */
static inline double fl_select(int c, double x, double y)
{
    uint64_t m = (uint64_t)0 - (uint64_t)(c != 0);
    return fl_as_double((fl_as_u64(x) & m) | (fl_as_u64(y) & ~m));
}

static inline double fl_keep(int c, double x)
{
    return fl_as_double(fl_as_u64(x) & ((uint64_t)0 - (uint64_t)(c != 0)));
}

/* y[k] = u[k] v[k], exactly +0 where either factor is 0 (an inf or NaN
 * factor included: a zero weight or target removes its term); the
 * coefficients' products.  Masked with bits: as a conditional expression
 * the product compiles to a branch (GCC does not if-convert a product that
 * may trap), which mispredicts on every other element of random 0/1
 * targets.  y may be u or v. */
FL_TARGET void FL_NAME(fl_products0)(const double *u, const double *v, double *y, ptrdiff_t n)
{
    for (ptrdiff_t k = 0; k < n; k++) {
        double uk = u[k], vk = v[k];
        y[k] = fl_keep((uk != 0.0) & (vk != 0.0), uk * vk);
    }
}

/* s[i] * loss[i] and (s[i] / div) * grad[i], exactly 0 where s[i] == 0 (the
 * quotient first: s[i] * (grad[i] / div) would lose digits or overflow where
 * div is subnormal or huge, and s[i] / div is the weight's exact share when
 * the weights are alike); without sample weights (s NULL), grad[i] / div as
 * a product with 1 / div (div is then the element count, or 1) */
static inline void fl_binary_weigh(const double *restrict s, double div, ptrdiff_t n,
                                   double *restrict loss, double *restrict grad)
{
    if (s != NULL) {
        for (ptrdiff_t i = 0; i < n; i++) {
            double l = s[i] * loss[i];
            loss[i] = fl_keep(s[i] != 0.0, l);
        }
        if (grad != NULL)
            for (ptrdiff_t i = 0; i < n; i++) {
                double g = (s[i] / div) * grad[i];
                grad[i] = fl_keep(s[i] != 0.0, g);
            }
    } else if (grad != NULL && div != 1.0) {
        const double scale = 1.0 / div;
        for (ptrdiff_t i = 0; i < n; i++)
            grad[i] = grad[i] * scale;
    }
}

/* Logits: loss[i] = a softplus(-x) + b softplus(x) with
 * softplus(+-x) = max(+-x, 0) + log1p(exp(-|x|)) (fl_log1p_unit), and
 * (grad not NULL) grad[i] = b sigmoid(x) - a sigmoid(-x), sigmoid from
 * 1 / (1 + e); then fl_binary_weigh.  e is computed into loss[] first;
 * scratch holds n doubles. */
FL_TARGET_FMA void FL_NAME(fl_sbce)(const double *restrict x, const double *restrict a,
                                    const double *restrict b, const double *restrict s,
                                    ptrdiff_t n, double div, double *restrict loss,
                                    double *restrict grad, double *restrict scratch)
{
    for (ptrdiff_t i = 0; i < n; i++)
        scratch[i] = -fabs(x[i]);
    int special = FL_NAME(fl_vexp_lim)(scratch, n, loss, n, 1, 700.0);
    /* one loop a case, each vectorised (a test of grad inside the loop
     * would keep it scalar): e is in loss[], read before it is overwritten */
    if (grad == NULL) {
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = x[i], nv = -v, L = fl_log1p_unit(loss[i]);
            double la = a[i] * (fl_keep(v < 0.0, nv) + L);      /* a softplus(-x) */
            double lb = b[i] * (fl_keep(v > 0.0, v) + L);       /* b softplus(x) */
            loss[i] = fl_keep(a[i] != 0.0, la) + fl_keep(b[i] != 0.0, lb);
        }
    } else {
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = x[i], nv = -v, e = loss[i], u = 1.0 + e;
            double L = fl_log1p_unit(e);
            double la = a[i] * (fl_keep(v < 0.0, nv) + L);
            double lb = b[i] * (fl_keep(v > 0.0, v) + L);
            double r = 1.0 / u, er = e * r;
            double gb = b[i] * fl_select(v >= 0.0, r, er);      /* b sigmoid(x) */
            double ga = a[i] * fl_select(v >= 0.0, er, r);      /* a sigmoid(-x) */
            grad[i] = fl_keep(b[i] != 0.0, gb) - fl_keep(a[i] != 0.0, ga);
            loss[i] = fl_keep(a[i] != 0.0, la) + fl_keep(b[i] != 0.0, lb);
        }
    }
    if (special) {
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = x[i];
            if (fabs(v) <= 700.0)
                continue;
            /* |x| > 700 (inf included): exp(-|x|) is below 1e-304, log1p of it
             * is itself, 1 + it is 1; NaN stays NaN */
            double e = exp(-fabs(v)), u = 1.0 + e, L = log1p(e);
            double sn = (v < 0.0 ? -v : 0.0) + L, sp = (v > 0.0 ? v : 0.0) + L;
            if (v != v)
                sn = sp = e = v;
            double la = a[i] != 0.0 ? a[i] * sn : 0.0;
            double lb = b[i] != 0.0 ? b[i] * sp : 0.0;
            loss[i] = la + lb;
            if (grad != NULL) {
                double r = 1.0 / u, er = e * r;
                double sx = v >= 0.0 ? r : er, snx = v >= 0.0 ? er : r;
                if (v != v)
                    sx = snx = v;
                grad[i] = (b[i] != 0.0 ? b[i] * sx : 0.0) - (a[i] != 0.0 ? a[i] * snx : 0.0);
            }
        }
    }
    fl_binary_weigh(s, div, n, loss, grad);
}

static inline int fl_log_arg_special(double z)
{
    return ((z >= 2.2250738585072014e-308) & (z <= 1.7976931348623157e308)) ^ 1;
}

/* Probabilities: loss[i] = -(a log(p + eps) + b log((1 - p) + eps)) and
 * (grad not NULL) grad[i] = -(a / (p + eps) - b / ((1 - p) + eps)); then
 * fl_binary_weigh.  Where one coefficient is 0 (hard targets) only the
 * other term's log is taken: one log an element; a second pass of logs
 * only if some element has both.  scratch holds n doubles. */
FL_TARGET_FMA void FL_NAME(fl_bce)(const double *restrict p, const double *restrict a,
                                   const double *restrict b, const double *restrict s,
                                   ptrdiff_t n, double eps, double div,
                                   double *restrict loss, double *restrict grad,
                                   double *restrict scratch)
{
    int64_t special = 0, soft = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        double z1 = p[i] + eps, z2 = (1.0 - p[i]) + eps;
        double z = fl_select(a[i] != 0.0, z1, z2);
        soft |= (int64_t)((a[i] != 0.0) & (b[i] != 0.0));
        special |= (int64_t)fl_log_arg_special(z);
        loss[i] = fl_log_core(z);               /* the log of the term that counts */
    }
    if (special) {
        for (ptrdiff_t i = 0; i < n; i++) {
            double z = a[i] != 0.0 ? p[i] + eps : (1.0 - p[i]) + eps;
            if (fl_log_arg_special(z))
                loss[i] = log(z);
        }
    }
    if (soft) {
        /* scratch = log((1 - p) + eps) for the b terms of the soft elements */
        special = 0;
        for (ptrdiff_t i = 0; i < n; i++) {
            double z = (1.0 - p[i]) + eps;
            special |= (int64_t)fl_log_arg_special(z);
            scratch[i] = fl_log_core(z);
        }
        if (special) {
            for (ptrdiff_t i = 0; i < n; i++) {
                double z = (1.0 - p[i]) + eps;
                if (fl_log_arg_special(z))
                    scratch[i] = log(z);
            }
        }
        for (ptrdiff_t i = 0; i < n; i++) {
            double la = a[i] * loss[i];
            double lb = b[i] * fl_select(a[i] != 0.0, scratch[i], loss[i]);
            loss[i] = -(fl_keep(a[i] != 0.0, la) + fl_keep(b[i] != 0.0, lb));
        }
    } else {
        for (ptrdiff_t i = 0; i < n; i++) {
            double la = a[i] * loss[i], lb = b[i] * loss[i];
            loss[i] = -(fl_keep(a[i] != 0.0, la) + fl_keep(b[i] != 0.0, lb));
        }
    }
    if (grad != NULL) {
        for (ptrdiff_t i = 0; i < n; i++) {
            double ga = a[i] / (p[i] + eps);
            double gb = b[i] / ((1.0 - p[i]) + eps);
            grad[i] = -(fl_keep(a[i] != 0.0, ga) - fl_keep(b[i] != 0.0, gb));
        }
    }
    fl_binary_weigh(s, div, n, loss, grad);
}
