"""The half-precision conversions of every SIMD level: float16 and bfloat16
to float32 (exact) and back (to nearest, ties to even), bit for bit as NumPy
converts float16 and ml_dtypes converts bfloat16.

float16 and bfloat16 inputs are computed in float32 one block at a time, and
their gradients rounded back into the input's dtype; these tests hold the
conversions themselves, over every float16 and bfloat16 bit pattern and
float32 values around every rounding boundary, at each level the CPU has
(each in a child process with FASTLOSS_SIMD set)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastloss

LEVELS = ["baseline", "avx2", "avx512"]

CHILD = r"""
import sys
import numpy as np
import fastloss
from fastloss import _core
kind, path = sys.argv[1], sys.argv[2]
data = np.load(path)
np.savez(path + ".out.npz", simd=np.array(_core.simd()),
         widened=_core._half_convert(data["bits"], kind, True),
         narrowed=_core._half_convert(data["floats"], kind, False))
"""


def float32_probes():
    """float32 values around every float16 and bfloat16 rounding boundary:
    every float16 value and the midpoints between neighbours, one float32
    ulp either side, overflow and subnormal edges, random bit patterns,
    zeros, infinities and NaNs of both signs."""
    rng = np.random.default_rng(2026)
    halves = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
    halves = halves[np.isfinite(halves)]
    ordered = np.unique(halves)
    mids = ((ordered[:-1].astype(np.float64) + ordered[1:]) / 2).astype(np.float32)
    around = np.concatenate([ordered, mids])
    bits = around.view(np.uint32)
    near = np.concatenate([bits, bits + 1, bits - 1]).view(np.float32)
    bf = (np.arange(1 << 16, dtype=np.uint32) << 16)
    bf_near = np.concatenate([bf, bf + 0x8000, bf + 0x7fff, bf + 0x8001]).view(np.float32)
    edges = np.array([65504, 65519.996, 65520, 65536, 1e9, 2.0**-24, 2.0**-25, 2.0**-26,
                      3 * 2.0**-26, 2.0**-14, 2.0**-15, 0.0, -0.0, np.inf, -np.inf, np.nan,
                      -np.nan, 3.4028235e38], np.float32)
    random = rng.integers(0, 1 << 32, 1 << 18, dtype=np.uint64).astype(np.uint32).view(np.float32)
    return np.concatenate([near, bf_near, edges, -edges, random])


def expected(kind, bits, floats):
    with np.errstate(invalid="ignore", over="ignore"):   # NaN and inf probes
        return _expected(kind, bits, floats)


def _expected(kind, bits, floats):
    if kind == "float16":
        return bits.view(np.float16).astype(np.float32), floats.astype(np.float16).view(np.uint16)
    ml_dtypes = pytest.importorskip("ml_dtypes")
    return (bits.view(ml_dtypes.bfloat16).astype(np.float32),
            floats.astype(ml_dtypes.bfloat16).view(np.uint16))


def same_bits_or_both_nan(got, want, got_float, want_float):
    nan = np.isnan(got_float) & np.isnan(want_float)
    return np.flatnonzero((got != want) & ~nan)


@pytest.mark.parametrize("kind", ["float16", "bfloat16"])
@pytest.mark.parametrize("level", LEVELS)
def test_every_level_converts_as_numpy_and_ml_dtypes_do(kind, level, tmp_path):
    bits = np.arange(1 << 16, dtype=np.uint16)
    floats = float32_probes()
    want_wide, want_narrow = expected(kind, bits, floats)
    path = str(tmp_path / "data.npz")
    np.savez(path, bits=bits, floats=floats)
    env = dict(os.environ, FASTLOSS_SIMD=level)
    subprocess.run([sys.executable, "-c", CHILD, kind, path], env=env, check=True)
    got = np.load(path + ".out.npz")
    if not str(got["simd"]).startswith(level):
        pytest.skip(f"this CPU has no {level} level (it runs {got['simd']})")
    wide = got["widened"]
    bad = same_bits_or_both_nan(wide.view(np.uint32), want_wide.view(np.uint32), wide, want_wide)
    assert bad.size == 0, (kind, level, [hex(b) for b in bits[bad[:5]]])
    narrow = got["narrowed"]
    if kind == "float16":
        got_f, want_f = narrow.view(np.float16), want_narrow.view(np.float16)
    else:
        import ml_dtypes
        got_f, want_f = narrow.view(ml_dtypes.bfloat16), want_narrow.view(ml_dtypes.bfloat16)
    bad = same_bits_or_both_nan(narrow, want_narrow, got_f.astype(np.float32),
                                want_f.astype(np.float32))
    assert bad.size == 0, (kind, level, floats[bad[:5]], narrow[bad[:5]], want_narrow[bad[:5]])


@pytest.mark.parametrize("kind", ["float16", "bfloat16"])
def test_half_gradients_are_the_float32_gradients_rounded_once(kind):
    """A half-precision pred is computed as its float32 values: the loss is
    bitwise that of the float32 upcast, and the gradient is that float32
    gradient rounded once to the input's dtype (NumPy's and ml_dtypes'
    rounding)."""
    dtype = np.float16 if kind == "float16" else pytest.importorskip("ml_dtypes").bfloat16
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((700, 10)) * 4).astype(dtype)
    t = rng.integers(0, 10, 700)
    up = x.astype(np.float32)
    for fn in (fastloss.softmax_cross_entropy_and_grad, fastloss.cross_entropy_and_grad):
        arg = x if fn is fastloss.softmax_cross_entropy_and_grad else \
            (np.abs(up) / 20 + 0.01).astype(dtype)
        arg_up = arg.astype(np.float32)
        for reduction in ("mean", "sum", "none"):
            loss, grad = fn(arg, t, reduction=reduction)
            loss32, grad32 = fn(arg_up, t, reduction=reduction)
            assert np.asarray(loss).dtype == np.float32
            np.testing.assert_array_equal(loss, loss32)
            assert grad.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(grad.view(np.uint16),
                                          grad32.astype(dtype).view(np.uint16))
