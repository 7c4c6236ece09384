/* Class-index labels.  Included by baseline.c, avx2.c and avx512.c: one
 * body in plain C, which each instruction set's compiler vectorises (the
 * unsigned range check is one compare per lane from AVX2 on).
 *
 * fl_labels_i64(t, n, C, ign, has_ignore, out): the contiguous int64
 * labels t[0..n) copied to out as the kernels read them, -1 for an ignored
 * label (has_ignore and t[i] == ign); returns nonzero if some label that is
 * not ignored lies outside [0, C) (a negative one included: the compare is
 * unsigned).  No branch per label, so no early exit either: on a nonzero
 * return the caller finds the first bad row itself, and out is not to be
 * used. */
FL_TARGET int FL_NAME(fl_labels_i64)(const int64_t *restrict t, ptrdiff_t n, int64_t C,
                                     int64_t ign, int has_ignore, int64_t *restrict out)
{
    const uint64_t keep_all = (uint64_t)(has_ignore == 0);
    uint64_t bad = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        const int64_t v = t[i];
        const uint64_t kept = keep_all | (uint64_t)(v != ign);
        bad |= kept & (uint64_t)((uint64_t)v >= (uint64_t)C);
        out[i] = kept ? v : -1;
    }
    return bad != 0;
}
