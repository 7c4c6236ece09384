/* Softmax rows: the shift by the row maximum, the row sums and the scaled
 * rows of the gradient.  Included by baseline.c, avx2.c and avx512.c; the
 * per-dtype kernels are in rows.tpl.h.
 *
 * fl_shift_rows_<T>(x, rows, C, rs, a, m): for each of `rows` rows of C
 * contiguous logits (row stride rs elements), m[i] = max_j x[i, j] and
 * a[i*C + j] = x[i, j] - m[i].  The maximum is exact, so the SIMD and scalar
 * variants agree bit for bit (rows holding NaN give NaN either way, through
 * a).
 *
 * fl_row_sums(e, rows, C, s): the row sums of a contiguous rows x C buffer,
 * s[i] = (l0 + l1) + (l2 + l3), l_k the sum of the row's elements
 * j = k mod 4 in increasing j.  The AVX2 variant keeps the four lanes in
 * one register (masked tail adds +0), so both give the same bits.
 *
 * fl_row_sums_but(e, rows, C, lab, s, ek): the same sums without each row's
 * label term: s[i] the sum of row i with e[i*C + lab[i]] taken as +0.0 (the
 * bits of fl_row_sums after zeroing it), ek[i] that term; a row with
 * lab[i] < 0 (ignored) sums whole and gets ek[i] = 1.  Labels are < C.
 * Both are one loop with the label's masking compiled in or out (but, a
 * constant), and the loop is compiled once for each C up to 16
 * (fl_row_sums_any), so that a row's pieces unroll: 1e6 x 10 float32 and
 * float16 losses 2-3% faster.
 *
 * fl_scale_rows_<T>(e, rows, C, f, g, grs, lab, kv): g[i*grs + j] =
 * (T)(e[i*C + j] * f[i]) for a group of rows of a contiguous e (softmax
 * numerators) into rows of g with unit column stride, T double or float,
 * and then the label's entry g[i*grs + lab[i]] = (T)kv[i]; a row with
 * lab[i] < 0 (ignored) is all zeros.  Labels are < C.  One multiply and one
 * rounding per element in every variant, so all give the same bits.
 *
 * fl_tail_logs(tl, ek, ssum, lu, lc, pk, n): from each plain softmax row's
 * tail sum tl = sum_{j != k} e_j and label term ek = e_k (fl_row_sums_but),
 * ssum = tl + ek, the log's argument lu = 1 + q, q = tl / ek, rounded, with
 * its exact rounding error d = (1 - (lu - q)) + (q - (lu - (lu - q))) (2Sum,
 * whichever term is larger), p_k = pk = 1 / lu, and lc = d * pk: log(lu) +
 * lc is log1p(q) to well under an ulp.  Each value one IEEE operation after
 * another (no contraction to FMA, which would change the bits), so every
 * variant gives the same bits; one pass instead of four (two quotient
 * passes and two loops).
 *
 * fl_weigh(w, y, n): y[i] = w[i] * y[i], and exactly +0.0 where w[i] == 0
 * whatever y[i] is (0 * inf is NaN); returns how many w[i] are 0.  Rows'
 * losses times their sample weights.  Two loops without a branch (the
 * products, then the count) and a fix-up only when some weight is 0: a
 * select in one loop keeps the compiler from vectorising it below
 * AVX-512, and the count alone cost a weighted 1e6 x 10 loss 4%.  One
 * multiply per element in every variant: the same bits.
 */

#if FL_ISA == FL_ISA_BASELINE

/* the row sums' loop (fl_row_sums_rows in each instruction set) */
static inline __attribute__((always_inline)) void
fl_row_sums_rows(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                 const int64_t *restrict lab, double *restrict s, double *restrict ek,
                 const int but)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *er = e + i * C;
        const int64_t k = but ? lab[i] : -1;
        double l[4] = {0.0, 0.0, 0.0, 0.0};
        for (ptrdiff_t j = 0; j < C; j++)
            l[j & 3] += but && j == k ? 0.0 : er[j];
        s[i] = (l[0] + l[1]) + (l[2] + l[3]);
        if (but)
            ek[i] = k >= 0 ? er[k] : 1.0;
    }
}

#elif FL_ISA == FL_ISA_AVX2

/* The SIMD row loops below split a row into 4-, 2- and 1-element pieces
 * rather than using masked loads and stores (vmaskmovpd, or AVX-512 k-masked
 * stores): those cost several times a plain access on AMD Zen, and rows of
 * 10 made them the larger part of a softmax.  These load 4, 2 or 1 elements
 * as doubles (float32 widened, exactly). */
FL_TARGET static inline __m256d fl_ld4_d(const double *p) { return _mm256_loadu_pd(p); }
FL_TARGET static inline __m128d fl_ld2_d(const double *p) { return _mm_loadu_pd(p); }
FL_TARGET static inline __m128d fl_ld1_d(const double *p) { return _mm_load_sd(p); }
FL_TARGET static inline __m256d fl_ld4_f(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
/* two floats as one 64-bit unaligned load (_mm_load_sd on a float pointer
 * would be a misaligned double access: undefined, and UBSan says so) */
FL_TARGET static inline __m128d fl_ld2_f(const float *p)
{ return _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)p))); }
FL_TARGET static inline __m128d fl_ld1_f(const float *p) { return _mm_set_sd((double)*p); }

/* the row sums' loop: lane k of v is l_k; the 2- and 1-element pieces after
   the last 4-element one go to lanes 0, 1 and 2; with but, an and-not
   clears the lane whose column is the label */
FL_TARGET static inline __attribute__((always_inline)) void
fl_row_sums_rows(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                 const int64_t *restrict lab, double *restrict s, double *restrict ek,
                 const int but)
{
    const ptrdiff_t full = C & ~(ptrdiff_t)3, rem = C & 3;
    const __m256i iota = _mm256_setr_epi64x(0, 1, 2, 3), four = _mm256_set1_epi64x(4);
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *er = e + i * C;
        const int64_t k = but ? lab[i] : -1;
        const __m256i kv = _mm256_set1_epi64x(k);
        __m256i col = iota;
        __m256d v = _mm256_setzero_pd();
        for (ptrdiff_t j = 0; j < full; j += 4) {
            __m256d x = _mm256_loadu_pd(er + j);
            if (but)
                x = _mm256_andnot_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(col, kv)), x);
            v = _mm256_add_pd(v, x);
            col = _mm256_add_epi64(col, four);
        }
        __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
        if (rem >= 2) {
            __m128d x = _mm_loadu_pd(er + full);
            if (but)
                x = _mm_andnot_pd(_mm_castsi128_pd(_mm_cmpeq_epi64(
                        _mm256_castsi256_si128(col), _mm256_castsi256_si128(kv))), x);
            lo = _mm_add_pd(lo, x);
        }
        if (rem == 1)
            lo = _mm_add_sd(lo, _mm_set_sd(but && full == k ? 0.0 : er[full]));
        if (rem == 3)
            hi = _mm_add_sd(hi, _mm_set_sd(but && full + 2 == k ? 0.0 : er[full + 2]));
        __m128d a = _mm_add_sd(lo, _mm_unpackhi_pd(lo, lo));   /* l0 + l1 */
        __m128d b = _mm_add_sd(hi, _mm_unpackhi_pd(hi, hi));   /* l2 + l3 */
        s[i] = _mm_cvtsd_f64(_mm_add_sd(a, b));
        if (but)
            ek[i] = k >= 0 ? er[k] : 1.0;
    }
}

/* the row of fl_scale_rows: gr[j] = (T)(er[j] * fi), in pieces */
FL_TARGET static inline __attribute__((always_inline)) void
fl_scale_row_d(const double *restrict er, double *restrict gr, ptrdiff_t C, double fi)
{
    const __m256d vf = _mm256_set1_pd(fi);
    ptrdiff_t j = 0;
    for (; j + 4 <= C; j += 4)
        _mm256_storeu_pd(gr + j, _mm256_mul_pd(_mm256_loadu_pd(er + j), vf));
    if (j + 2 <= C)
        _mm_storeu_pd(gr + j, _mm_mul_pd(_mm_loadu_pd(er + j), _mm256_castpd256_pd128(vf)));
    if (C & 1)
        gr[C - 1] = er[C - 1] * fi;
}
FL_TARGET static inline __attribute__((always_inline)) void
fl_scale_row_f(const double *restrict er, float *restrict gr, ptrdiff_t C, double fi)
{
    const __m256d vf = _mm256_set1_pd(fi);
    ptrdiff_t j = 0;
    for (; j + 4 <= C; j += 4)
        _mm_storeu_ps(gr + j, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_loadu_pd(er + j), vf)));
    if (j + 2 <= C)
        _mm_storel_epi64((__m128i *)(gr + j), _mm_castps_si128(_mm_cvtpd_ps(
            _mm_mul_pd(_mm_loadu_pd(er + j), _mm256_castpd256_pd128(vf)))));
    if (C & 1)
        gr[C - 1] = (float)(er[C - 1] * fi);
}

#elif FL_ISA == FL_ISA_AVX512

/* AVX-512, float64, C <= 16: a row is one or two vectors (masked loads,
 * -inf in the lanes past C), reduced to its maximum and stored whole.  A
 * whole-vector store runs past the row into the next rows' place, which
 * they overwrite in turn; the rows near the end of a, where it would run
 * past a[rows * C], take masked stores (slow on AMD Zen, so only there).
 * The maximum skips NaN as the other variants do (max_pd returns its second
 * operand).  100 x 10: 0.25 -> 0.20 us in C.  For float32 logits the
 * widening made it slower than the AVX2 loop, which they keep.  Wider rows
 * take the AVX2 loop. */
FL_TARGET void fl_shift_rows_d_avx512(const double *restrict x, ptrdiff_t rows, ptrdiff_t C,
                                      ptrdiff_t rs, double *restrict a, double *restrict m)
{
    if (C > 16) {
        fl_shift_rows_d_avx2(x, rows, C, rs, a, m);
        return;
    }
    const __mmask8 k0 = (__mmask8)(C >= 8 ? 0xffu : (1u << C) - 1u);
    const __mmask8 k1 = (__mmask8)(C >= 16 ? 0xffu : C > 8 ? (1u << (C - 8)) - 1u : 0u);
    const __m512d ninf = _mm512_set1_pd(-INFINITY);
    const ptrdiff_t W = C > 8 ? 16 : 8, end = rows * C;
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double *xr = x + i * rs;
        const __m512d v0 = _mm512_mask_loadu_pd(ninf, k0, xr);
        const __m512d v1 = _mm512_mask_loadu_pd(ninf, k1, xr + 8);
        const __m512d mm = _mm512_max_pd(v1, _mm512_max_pd(v0, ninf));
        __m256d h = _mm256_max_pd(_mm512_castpd512_pd256(mm), _mm512_extractf64x4_pd(mm, 1));
        __m128d q = _mm_max_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
        q = _mm_max_sd(_mm_unpackhi_pd(q, q), q);
        const double mx = _mm_cvtsd_f64(q);
        m[i] = mx;
        const __m512d vm = _mm512_set1_pd(mx);
        double *ar = a + i * C;
        if (i * C + W <= end) {
            _mm512_storeu_pd(ar, _mm512_sub_pd(v0, vm));
            if (C > 8)
                _mm512_storeu_pd(ar + 8, _mm512_sub_pd(v1, vm));
        } else {
            _mm512_mask_storeu_pd(ar, k0, _mm512_sub_pd(v0, vm));
            _mm512_mask_storeu_pd(ar + 8, k1, _mm512_sub_pd(v1, vm));
        }
    }
}

#endif

#if FL_ISA != FL_ISA_AVX512
/* fl_row_sums_rows with C a constant for each C up to 16, the rest as it
   comes (but: a constant as well) */
#define FL_ROW_SUMS_C(c) case c: fl_row_sums_rows(e, rows, c, lab, s, ek, but); return;
FL_TARGET static inline __attribute__((always_inline)) void
fl_row_sums_any(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                const int64_t *restrict lab, double *restrict s, double *restrict ek,
                const int but)
{
    switch (C) {
    FL_ROW_SUMS_C(2) FL_ROW_SUMS_C(3) FL_ROW_SUMS_C(4) FL_ROW_SUMS_C(5)
    FL_ROW_SUMS_C(6) FL_ROW_SUMS_C(7) FL_ROW_SUMS_C(8) FL_ROW_SUMS_C(9)
    FL_ROW_SUMS_C(10) FL_ROW_SUMS_C(11) FL_ROW_SUMS_C(12) FL_ROW_SUMS_C(13)
    FL_ROW_SUMS_C(14) FL_ROW_SUMS_C(15) FL_ROW_SUMS_C(16)
    default:
        fl_row_sums_rows(e, rows, C, lab, s, ek, but);
    }
}
#undef FL_ROW_SUMS_C

FL_TARGET void FL_NAME(fl_row_sums)(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                                    double *restrict s)
{
    fl_row_sums_any(e, rows, C, NULL, s, NULL, 0);
}

FL_TARGET void FL_NAME(fl_row_sums_but)(const double *restrict e, ptrdiff_t rows, ptrdiff_t C,
                                        const int64_t *restrict lab, double *restrict s,
                                        double *restrict ek)
{
    fl_row_sums_any(e, rows, C, lab, s, ek, 1);
}

#define FL_TEMPLATE "rows.tpl.h"
#include "each_type.h"
#endif

FL_TARGET ptrdiff_t FL_NAME(fl_weigh)(const double *restrict w, double *restrict y, ptrdiff_t n)
{
    ptrdiff_t zeros = 0;
    for (ptrdiff_t i = 0; i < n; i++)
        y[i] = w[i] * y[i];
    for (ptrdiff_t i = 0; i < n; i++)
        zeros += w[i] == 0.0;
    if (zeros != 0) {
        for (ptrdiff_t i = 0; i < n; i++) {
            if (w[i] == 0.0)
                y[i] = 0.0;
        }
    }
    return zeros;
}

FL_TARGET void FL_NAME(fl_tail_logs)(const double *restrict tl, const double *restrict ek,
                                     double *restrict ssum, double *restrict lu,
                                     double *restrict lc, double *restrict pk, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        const double q = tl[i] / ek[i];
        const double u = 1.0 + q;
        const double big = u - q;
        const double d = (1.0 - big) + (q - (u - big));
        const double p = 1.0 / u;
        ssum[i] = tl[i] + ek[i];
        lu[i] = u;
        pk[i] = p;
        lc[i] = d * p;
    }
}
