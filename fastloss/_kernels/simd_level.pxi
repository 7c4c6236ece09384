# The SIMD level chosen at import: FASTLOSS_SIMD caps it.

def _simd_level():
    """The highest SIMD level to use: FASTLOSS_SIMD=baseline|avx2|avx512 caps
    it (to test or compare the slower loops on a fast CPU); unset, the best
    the CPU has."""
    import os
    import warnings
    levels = {"baseline": 0, "avx2": 1, "avx512": 2}
    name = os.environ.get("FASTLOSS_SIMD", "").strip().lower()
    if not name:
        return 2
    if name not in levels:
        warnings.warn(f"FASTLOSS_SIMD={name!r} is not one of {sorted(levels)}; "
                      "using the best the CPU has", RuntimeWarning, stacklevel=2)
        return 2
    return levels[name]
