/* exp and log over arrays of doubles, and quotients.  Included by
 * baseline.c, avx2.c and avx512.c, which set FL_ISA, FL_NAME's suffix and
 * the target attributes FL_TARGET (no FMA) and FL_TARGET_FMA.
 *
 * The exp and log loops are branch-free on the usual inputs so the compiler
 * turns them into SIMD code; the rare special inputs (zero, negative,
 * subnormal, inf, NaN, huge exponents) are flagged in the same pass and
 * recomputed with libm afterwards, so the results are those of a < 1 ulp
 * implementation everywhere.
 *
 * Algorithms: log is fdlibm's (reduction to [sqrt(2)/2, sqrt(2)), then
 * 2 atanh(s) by a degree-14 polynomial in s); exp reduces by k ln 2
 * (|r| <= ln2 / 2) and evaluates a degree-11 Chebyshev fit (error 3.2e-18);
 * the AVX-512 exp (below) reduces further and looks up a table.
 */

/* fdlibm's log(1 + f) less its f - hfsq + k ln 2 terms: s (hfsq + R(s^2)),
 * s = f / (2 + f), for f in [sqrt(2)/2 - 1, sqrt(2) - 1] (hfsq = f^2 / 2) */
static inline double fl_log_tail(double f, double hfsq)
{
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                 Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                 Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    double R = t2 + t1;
    return s * (hfsq + R);
}

static const double fl_ln2_hi = 6.93147180369123816490e-01;
static const double fl_ln2_lo = 1.90821492927058770002e-10;

/* log(x) for a normal, positive, finite x */
static inline double fl_log_core(double x)
{
    uint64_t ix = fl_as_u64(x);
    /* x = 2^k m with m in [sqrt(2)/2, sqrt(2)) */
    ix += (uint64_t)(0x3ff00000 - 0x3fe6a09e) << 32;
    /* k as a double without an int64 -> double conversion (not in AVX2) */
    double dk = fl_as_double(0x4330000000000000ULL | (ix >> 52)) - 4503599627370496.0 - 1023.0;
    ix = (ix & 0x000fffffffffffffULL) + ((uint64_t)0x3fe6a09e << 32);
    double f = fl_as_double(ix) - 1.0;
    double hfsq = 0.5 * f * f;
    return fl_log_tail(f, hfsq) + dk * fl_ln2_lo - hfsq + f + dk * fl_ln2_hi;
}

/* log1p(e) for e in [0, 1] (the softplus of a logit: e = exp(-|x|)), with
 * one division where log(1 + e) plus the rounding error of 1 + e over
 * 1 + e takes two.  fdlibm's reduction, with the argument known exactly:
 * below sqrt(2) - 1, log(1 + f) with f = e itself; from there,
 * log(2) + log(1 + f) with f = (e - 1) / 2, where e - 1 is exact for
 * e >= 1/2 and below that its exact rounding error lo enters as
 * (lo / 2) / (1 + f), 1 + f in [0.71, 0.75], taken as lo * 0.6875 (an
 * error below 0.03 ulp).  Measured error <= 0.73 ulp (1.06 for the
 * two-division form) over 3e4 arguments against 120-bit log1p. */
static inline double fl_log1p_unit(double e)
{
    uint64_t k = (uint64_t)0 - (uint64_t)(e >= 0.41421356237309503);   /* all ones: f = (e - 1) / 2 */
    double h = e - 1.0;
    double lo = e - (h + 1.0);
    double f = fl_as_double((fl_as_u64(0.5 * h) & k) | (fl_as_u64(e) & ~k));
    double c = fl_as_double(fl_as_u64(0.6875 * lo) & k);
    double dk = fl_as_double(fl_as_u64(1.0) & k);
    double hfsq = 0.5 * f * f;
    return fl_log_tail(f, hfsq) + (dk * fl_ln2_lo + c) - hfsq + f + dk * fl_ln2_hi;
}

/* y[i] = log(x[i]).  x and y must not overlap. */
FL_TARGET_FMA void FL_NAME(fl_vlog)(const double *restrict x, double *restrict y, ptrdiff_t n)
{
    int64_t special = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        double v = x[i];
        special |= (int64_t)(((v >= 2.2250738585072014e-308) & (v <= 1.7976931348623157e308)) ^ 1);
        y[i] = fl_log_core(v);
    }
    if (special) {
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = x[i];
            if (!(v >= 2.2250738585072014e-308 && v <= 1.7976931348623157e308))
                y[i] = log(v);
        }
    }
}

/* fl_vexp_lim: y[r n + i] = exp(x[r xs + i]) for the runs r < runs of n
 * elements, wherever |x| <= lim (lim <= 700); returns nonzero if some x is
 * beyond lim or NaN, whose y the caller must not use as is.  x and y must
 * not overlap.  (One run is an array; several, the classes of a group of a
 * channels-first batch, in one call: the constants are set up once.) */
#if FL_ISA != FL_ISA_AVX512

/* exp(x) for -700 <= x <= 700 */
static inline double fl_exp_core(double x)
{
    const double inv_ln2 = 1.44269504088896338700e+00;
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double shifter = 6755399441055744.0;            /* 1.5 * 2^52 */
    double kd = x * inv_ln2 + shifter;                     /* round to nearest */
    uint64_t ki = fl_as_u64(kd);
    kd -= shifter;
    double r = (x - kd * ln2_hi) - kd * ln2_lo;
    /* degree-11 Chebyshev fit of exp on [-ln2/2, ln2/2] (error 3.2e-18) */
    double p = 2.5110037605963777e-08;
    p = 2.763263963904103e-07 + r * p;
    p = 2.755724091857897e-06 + r * p;
    p = 2.4801485482328494e-05 + r * p;
    p = 0.00019841269890047113 + r * p;
    p = 0.0013888888952314775 + r * p;
    p = 0.008333333333319601 + r * p;
    p = 0.0416666666664881 + r * p;
    p = 0.1666666666666668 + r * p;
    p = 0.5000000000000019 + r * p;
    p = 1.0 + r * p;
    p = 1.0 + r * p;
    /* 2^k from the low bits of ki (k in [-1010, 1010]) */
    uint64_t scale_bits = ((ki + 1023) & 0x7ff) << 52;
    return p * fl_as_double(scale_bits);
}

FL_TARGET_FMA int FL_NAME(fl_vexp_lim)(const double *restrict x, ptrdiff_t xs,
                                       double *restrict y, ptrdiff_t n, ptrdiff_t runs,
                                       double lim)
{
    int64_t special = 0;
    for (ptrdiff_t r = 0; r < runs; r++) {
        const double *restrict xr = x + r * xs;
        double *restrict yr = y + r * n;
        for (ptrdiff_t i = 0; i < n; i++) {
            double v = xr[i];
            special |= (int64_t)(((v >= -lim) & (v <= lim)) ^ 1);
            yr[i] = fl_exp_core(v);
        }
    }
    return special != 0;
}

#else   /* FL_ISA == FL_ISA_AVX512 */

/* exp on AVX-512: x = (16k + j) ln2/16 + r with |r| <= ln2/32, and
 * exp(x) = 2^k 2^(j/16) exp(r).  2^(j/16) is a 16-entry table held in two
 * registers as hi + lo (a vpermt2pd lookup each, indexed by the low bits of
 * the rounded 16k + j); exp(r) = 1 + r + r^2 q(r), q a degree-4 Chebyshev
 * fit of (exp(r) - 1 - r)/r^2 (relative error 2.8e-17).  Five fewer FMAs
 * than the degree-11 loop; measured error <= 0.76 ulp over 1.3e7 inputs. */
static const double fl_exp2_16_hi[16] __attribute__((aligned(64))) = {
    1.0, 1.0442737824274138, 1.0905077326652577, 1.1387886347566916,
    1.189207115002721, 1.241857812073484, 1.2968395546510096, 1.3542555469368927,
    1.4142135623730951, 1.4768261459394993, 1.5422108254079407, 1.6104903319492543,
    1.681792830507429, 1.7562521603732995, 1.8340080864093424, 1.9152065613971474};
static const double fl_exp2_16_lo[16] __attribute__((aligned(64))) = {
    0.0, 8.551889705537965e-17, -3.046782079812471e-17, 8.912812676025408e-17,
    3.982015231465646e-17, 4.658027591836937e-17, 2.5382502794888315e-17,
    7.70094837980299e-17, -9.667293313452913e-17, -3.483994556892796e-17,
    7.949834809697621e-17, 2.4707192569797888e-17, 8.199010020581497e-17,
    2.960140695448873e-17, 3.283107224245627e-17, -1.0619946056195963e-16};

FL_TARGET static inline __m512d
fl_exp8_avx512(__m512d v, __m512d hi0, __m512d hi1, __m512d lo0, __m512d lo1)
{
    const __m512d shifter = _mm512_set1_pd(6755399441055744.0);   /* 1.5 * 2^52 */
    /* kd = round(x * 16 / ln2); its low bits in ki are 16k + j */
    __m512d kd = _mm512_fmadd_pd(v, _mm512_set1_pd(23.083120654223414), shifter);
    __m512i ki = _mm512_castpd_si512(kd);
    kd = _mm512_sub_pd(kd, shifter);
    __m512d r = _mm512_fnmadd_pd(kd, _mm512_set1_pd(6.93147180369123816490e-01 / 16), v);
    r = _mm512_fnmadd_pd(kd, _mm512_set1_pd(1.90821492927058770002e-10 / 16), r);
    __m512d q = _mm512_set1_pd(0.0013889034348599464);
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.008333449701253456));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.04166666666496045));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.1666666666530169));
    q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(0.5));
    __m512d t = _mm512_fmadd_pd(_mm512_mul_pd(r, r), q, r);       /* exp(r) - 1 */
    __m512d hi = _mm512_permutex2var_pd(hi0, ki, hi1);              /* bits 0-3 of ki */
    __m512d lo = _mm512_permutex2var_pd(lo0, ki, lo1);
    __m512d y = _mm512_add_pd(_mm512_fmadd_pd(hi, t, lo), hi);     /* in [0.98, 2.04) */
    /* times 2^k: add k = (ki >> 4) to the exponent field (|k| <= 1010) */
    __m512i k52 = _mm512_slli_epi64(_mm512_andnot_si512(_mm512_set1_epi64(15), ki), 48);
    return _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(y), k52));
}

FL_TARGET int fl_vexp_lim_avx512(const double *restrict x, ptrdiff_t xs, double *restrict y,
                                 ptrdiff_t n, ptrdiff_t runs, double lim)
{
    const __m512d hi0 = _mm512_load_pd(fl_exp2_16_hi), hi1 = _mm512_load_pd(fl_exp2_16_hi + 8);
    const __m512d lo0 = _mm512_load_pd(fl_exp2_16_lo), lo1 = _mm512_load_pd(fl_exp2_16_lo + 8);
    const __m512d vlim = _mm512_set1_pd(lim);
    __mmask8 special = 0;
    for (ptrdiff_t r = 0; r < runs; r++) {
        const double *xr = x + r * xs;
        double *yr = y + r * n;
        ptrdiff_t i = 0;
        for (; i + 8 <= n; i += 8) {
            __m512d v = _mm512_loadu_pd(xr + i);
            special |= _mm512_cmp_pd_mask(_mm512_abs_pd(v), vlim, _CMP_NLE_UQ);   /* or NaN */
            _mm512_storeu_pd(yr + i, fl_exp8_avx512(v, hi0, hi1, lo0, lo1));
        }
        if (i < n) {
            __mmask8 m = (__mmask8)((1u << (n - i)) - 1);
            __m512d v = _mm512_maskz_loadu_pd(m, xr + i);
            special |= _mm512_mask_cmp_pd_mask(m, _mm512_abs_pd(v), vlim, _CMP_NLE_UQ);
            _mm512_mask_storeu_pd(yr + i, m, fl_exp8_avx512(v, hi0, hi1, lo0, lo1));
        }
    }
    return special != 0;
}

#endif

/* fl_vexpf_lim: y[i] = exp(x[i]) for float32 x, in float32 arithmetic and
 * widened exactly to double, wherever |x[i]| <= lim (lim <= 80, so that
 * the result is a normal float); returns nonzero if some x[i] is beyond lim or
 * NaN, whose y[i] the caller must not use as is.  Eight lanes an AVX2
 * instruction where fl_vexp_lim has four: the float32 softmax's exps.
 *
 * Cephes' expf: x = k ln2 + r (|r| <= ln2/2, ln2 in two parts so that k ln2
 * is exact), exp(r) = 1 + r + r^2 p(r) with p of degree 5, times 2^k put in
 * the exponent field.  Error over every float in [-80, 80], measured once:
 * at most 1.01 ulp of float32 at AVX2 (FMA), 0.99 at the baseline
 * (tests/test_float32_exp.py samples it at each level).  Every element is
 * computed the same way wherever it lies in the array (the loop's vector
 * body and its remainder contract the same FMAs), so a row's exps do not
 * depend on the rows around it. */
static inline float fl_expf_core(float x)
{
    const float shifter = 12582912.0f;                    /* 1.5 * 2^23 */
    float kf = x * 1.44269504088896341f + shifter;       /* round to nearest */
    uint32_t ki = fl_as_u32(kf);
    kf -= shifter;
    float r = x - kf * 0.693359375f;                      /* exact: 9 + 7 bits */
    r = r - kf * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = (p * (r * r) + r) + 1.0f;
    /* 2^k from the low bits of ki (k in [-116, 116]) */
    return y * fl_as_float(((ki + 127u) & 0xffu) << 23);
}

#if FL_ISA == FL_ISA_AVX512
/* fl_expf_core on sixteen lanes in intrinsics: what the compiler makes of
 * fl_expf_core at this level, the same FMAs, except that 2^k is applied
 * with one vscalefps instead of the core's exponent-field build and
 * multiply (exact either way for |x| <= 80), so the same bits (checked over
 * every float in [-80, 80], and sampled by tests/test_float32_exp.py
 * against the scalar core).  Written out so that the loop around it checks
 * |x| <= lim with one compare and widens and stores with fewer
 * instructions than the compiler's (Zen 4 runs 512-bit operations in two
 * halves: the exp pass is bound by their count).  The second reduction
 * constant is negated exactly: fma(kf, c, r) = r - kf (-c). */
FL_TARGET static inline __m512 fl_expf16_avx512(__m512 x)
{
    const __m512 shifter = _mm512_set1_ps(12582912.0f);
    __m512 kf = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), shifter);
    kf = _mm512_sub_ps(kf, shifter);
    __m512 r = _mm512_fnmadd_ps(kf, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fmadd_ps(kf, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.9875691500e-4f), r,
                               _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    /* y 2^k in one operation (the core puts k in the exponent field and
     * multiplies): both exact for k in [-116, 116], so the same bits
     * wherever |x| <= 80, checked over every such float */
    return _mm512_scalef_ps(y, kf);
}
#endif

/* fl_vexpf_lim's loop, into doubles y or (y NULL) floats yf, as they are:
 * inlined with one of them a constant NULL, each caller gets its own loop */
FL_TARGET_FMA static inline __attribute__((always_inline)) int
fl_expf_runs(const float *restrict x, ptrdiff_t xs, double *restrict y, float *restrict yf,
             ptrdiff_t n, ptrdiff_t runs, float lim)
{
#if FL_ISA == FL_ISA_AVX512
    const __m512 vlim = _mm512_set1_ps(lim);
    __mmask16 special = 0;
    for (ptrdiff_t r = 0; r < runs; r++) {
        const float *xr = x + r * xs;
        ptrdiff_t i = 0;
        /* whole vectors with plain loads and stores (masked ones cost
         * several times as much on AMD Zen), then one masked tail */
        for (; i + 16 <= n; i += 16) {
            const __m512 v = _mm512_loadu_ps(xr + i);
            special |= _mm512_cmp_ps_mask(_mm512_abs_ps(v), vlim, _CMP_NLE_UQ);
            const __m512 e = fl_expf16_avx512(v);
            if (y == NULL) {
                _mm512_storeu_ps(yf + r * n + i, e);
                continue;
            }
            double *yr = y + r * n;
            _mm512_storeu_pd(yr + i, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
            _mm512_storeu_pd(yr + i + 8, _mm512_cvtps_pd(
                _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
        }
        if (i < n) {
            const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
            const __m512 v = _mm512_maskz_loadu_ps(m, xr + i);
            special |= _mm512_mask_cmp_ps_mask(m, _mm512_abs_ps(v), vlim, _CMP_NLE_UQ);
            const __m512 e = fl_expf16_avx512(v);
            if (y == NULL) {
                _mm512_mask_storeu_ps(yf + r * n + i, m, e);
                continue;
            }
            double *yr = y + r * n;
            _mm512_mask_storeu_pd(yr + i, (__mmask8)m, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
            _mm512_mask_storeu_pd(yr + i + 8, (__mmask8)(m >> 8), _mm512_cvtps_pd(
                _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
        }
    }
    return special != 0;
#else
    int32_t special = 0;
    for (ptrdiff_t r = 0; r < runs; r++) {
        const float *restrict xr = x + r * xs;
        for (ptrdiff_t i = 0; i < n; i++) {
            float v = xr[i];
            special |= (int32_t)(((v >= -lim) & (v <= lim)) ^ 1);
            if (y == NULL)
                yf[r * n + i] = fl_expf_core(v);
            else
                y[r * n + i] = (double)fl_expf_core(v);
        }
    }
    return special != 0;
#endif
}

FL_TARGET_FMA int FL_NAME(fl_vexpf_lim)(const float *restrict x, double *restrict y,
                                        ptrdiff_t n, float lim)
{
    return fl_expf_runs(x, n, y, NULL, n, 1, lim);
}

/* ------------------------------------------------------------------------
 * Quotients: y[i] = c / b[i] (fl_vrdiv).  Correctly rounded in every
 * variant; the SIMD ones only divide several lanes at once (a scalar
 * divide per softmax row costs more than the row's exps).
 * ---------------------------------------------------------------------- */
FL_TARGET void FL_NAME(fl_vrdiv)(double c, const double *restrict b, double *restrict y,
                                 ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        y[i] = c / b[i];
}
