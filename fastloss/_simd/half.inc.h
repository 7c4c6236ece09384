/* Half precision: float16 (IEEE binary16) and bfloat16 to float32 and back,
 * for inputs that are computed in float32 and gradients that are stored in
 * the input's dtype.
 *
 * fl_half_to_float(h, f, n), fl_float_to_half(f, h, n): float16.  Widening
 * is exact; narrowing rounds to nearest, ties to even (NumPy's astype, the
 * F16C instruction VCVTPS2PH), with overflow to +-inf and subnormals.  The
 * baseline loops are scalar bit manipulation; the AVX2 level uses F16C, 8
 * values an instruction, with the same results (a NaN's payload may differ:
 * F16C quiets it).
 * fl_bf16_to_float, fl_float_to_bf16: bfloat16 is float32's upper half, so
 * widening is a shift; narrowing rounds to nearest even, a NaN becomes the
 * quiet NaN of its sign (ml_dtypes' rule).  One C loop, which compilers
 * vectorise: four lanes at the baseline, eight at AVX2. */

#if FL_ISA == FL_ISA_BASELINE

static inline float fl_half_bits_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, u;
    float f;
    if (e == 0) {                              /* zero or subnormal: m * 2^-24, exact */
        f = (float)m * 5.9604644775390625e-08f;
        memcpy(&u, &f, 4);
        u |= sign;
    } else if (e == 31) {                      /* inf or NaN (payload kept) */
        u = sign | 0x7f800000u | (m << 13);
    } else {
        u = sign | ((e + 112u) << 23) | (m << 13);
    }
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t fl_float_to_half_bits(float f)
{
    uint32_t x, ax, sign, r, rem, half, m;
    int shift;
    memcpy(&x, &f, 4);
    sign = (x >> 16) & 0x8000u;
    ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u)                     /* inf, or NaN made quiet */
        return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u | ((ax >> 13) & 0x3ffu) : 0));
    if (ax >= 0x477ff000u)                     /* 65520 and up round to inf */
        return (uint16_t)(sign | 0x7c00u);
    if (ax < 0x38800000u) {                    /* below 2^-14: a subnormal half or 0 */
        if (ax < 0x33000000u)                  /* below 2^-25 (2^-25 itself ties to 0) */
            return (uint16_t)sign;
        m = (ax & 0x7fffffu) | 0x800000u;
        shift = 126 - (int)(ax >> 23);         /* from 14 (2^-15) to 24 (2^-25) */
        r = m >> shift;
        rem = m & ((1u << shift) - 1u);
        half = 1u << (shift - 1);
        r += (rem > half || (rem == half && (r & 1u)));
        return (uint16_t)(sign | r);
    }
    r = (ax - 0x38000000u) >> 13;              /* rebias 127 -> 15, keep 10 bits */
    rem = ax & 0x1fffu;
    r += (rem > 0x1000u || (rem == 0x1000u && (r & 1u)));   /* a carry fixes the exponent */
    return (uint16_t)(sign | r);
}

FL_TARGET void FL_NAME(fl_half_to_float)(const uint16_t *restrict h, float *restrict f,
                                         ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        f[i] = fl_half_bits_to_float(h[i]);
}

FL_TARGET void FL_NAME(fl_float_to_half)(const float *restrict f, uint16_t *restrict h,
                                         ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++)
        h[i] = fl_float_to_half_bits(f[i]);
}

#endif /* FL_ISA_BASELINE */

#if FL_ISA != FL_ISA_AVX512

/* bfloat16: the same loops at the baseline and AVX2 (eight lanes) */
FL_TARGET void FL_NAME(fl_bf16_to_float)(const uint16_t *restrict h, float *restrict f,
                                         ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)h[i] << 16;
        memcpy(&f[i], &u, 4);
    }
}

FL_TARGET void FL_NAME(fl_float_to_bf16)(const float *restrict f, uint16_t *restrict h,
                                         ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &f[i], 4);
        if ((u & 0x7fffffffu) > 0x7f800000u)
            h[i] = (uint16_t)((u >> 16) & 0x8000u) | 0x7fc0u;
        else
            h[i] = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
}

#endif

#if FL_ISA == FL_ISA_AVX2

__attribute__((target("avx2,f16c")))
void fl_half_to_float_avx2(const uint16_t *restrict h, float *restrict f, ptrdiff_t n)
{
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(f + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    fl_half_to_float_base(h + i, f + i, n - i);
}

__attribute__((target("avx2,f16c")))
void fl_float_to_half_avx2(const float *restrict f, uint16_t *restrict h, ptrdiff_t n)
{
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(h + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(f + i),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    fl_float_to_half_base(f + i, h + i, n - i);
}

#endif /* FL_ISA_AVX2 */
