"""Every SIMD dispatch level computes the same numbers as the reference.

A CPU runs only its best exp/log/row loops, so on a fast machine the
baseline and AVX2 loops would never be exercised.  FASTLOSS_SIMD caps the
level at import; each level runs in a child process over a battery of
shapes (every remainder of the 4- and 8-lane loops, strided and float32
inputs, confident and tiny logits, exp's libm fallback range) and is checked
against fastloss.reference here, in the parent.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastloss
import fastloss.reference as ref

LEVELS = ["baseline", "avx2", "avx512"]

CHILD = r"""
import json, sys
import numpy as np
import fastloss
cases = json.loads(sys.stdin.read())
out = {"simd": fastloss._core.simd(), "results": []}
for c in cases:
    x = np.array(c["x"], dtype=c["dtype"])
    if c["transpose"]:
        x = np.ascontiguousarray(x.T).T
    t = np.array(c["t"], dtype=np.int64)
    y = np.array(c["y"], dtype=c["dtype"])
    onehot = np.eye(x.shape[1], dtype=c["dtype"])[t]
    dense = np.array(c["dense"], dtype=c["tdtype"])
    l1, g1 = fastloss.softmax_cross_entropy_and_grad(x, t)
    rows = fastloss.softmax_cross_entropy(x, t, reduction="none")
    # the row shift of C-contiguous logits (the transposed ones take the
    # strided path), with its whole-vector stores and the masked ones at the end
    rows_c = fastloss.softmax_cross_entropy(np.ascontiguousarray(x), t, reduction="none")
    ce = fastloss.cross_entropy(y, t, reduction="none")
    oh = fastloss.cross_entropy(y, onehot, reduction="none")
    mixed = fastloss.cross_entropy(y, dense, reduction="none")
    # the forward-only fast paths (mean, no per-row output): the one-hot
    # gather with pred rows read whole (unit column stride, padded rows) or
    # element by element (column-major), and the class-index gather
    wide = np.zeros((y.shape[0], y.shape[1] + 3), dtype=y.dtype)
    wide[:, :y.shape[1]] = y
    means = [float(fastloss.cross_entropy(p, onehot))
             for p in (y, wide[:, :y.shape[1]], np.asfortranarray(y))]
    means.append(float(fastloss.cross_entropy(y, dense)))
    # every row has a nonzero, one has two: the scan must not take it for one-hot
    soft = onehot.copy()
    soft[5, :2] = 0.5
    means.append(float(fastloss.cross_entropy(y, soft)))
    means.append(float(fastloss.cross_entropy(y, t)))
    out["results"].append({"loss": float(l1), "grad": np.asarray(g1, np.float64).tolist(),
                           "rows": np.asarray(rows, np.float64).tolist(),
                           "rows_c": np.asarray(rows_c, np.float64).tolist(),
                           "ce": np.asarray(ce, np.float64).tolist(),
                           "onehot": np.asarray(oh, np.float64).tolist(),
                           "mixed": np.asarray(mixed, np.float64).tolist(),
                           "means": means})
print(json.dumps(out))
"""


def _cases():
    rng = np.random.default_rng(20261128)
    cases = []
    for c in (1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 15, 16, 17, 33):
        for dtype in ("float64", "float32"):
            n = 13
            x = rng.standard_normal((n, c)) * 3
            x[0] = 0.0                       # all-equal row
            x[1, 0] = 40.0                   # confident row (log1p path)
            if c > 1:
                x[2, 1] = -800.0             # exp below libm's fallback bound
            x[3] *= 1e-9                     # tiny logits
            x[8, -1] = 800.0                 # overflows unless shifted by the true maximum
            t = rng.integers(0, c, n)
            e = np.exp(x - x.max(1, keepdims=True))
            y = e / e.sum(1, keepdims=True)
            # one-hot rows, then rows the one-hot scan must hand back: all
            # zero, two nonzeros, a NaN target, a single non-unit value
            dense = np.eye(c)[t]
            dense[4] = 0.0
            if c > 1:
                dense[5, :2] = 0.5
            dense[6, 0] = np.nan
            dense[7] *= 0.25
            # c = 4k+1 runs transposed (the staged path); the other odd c
            # stay C-contiguous, where every other float32 row starts 4
            # bytes off 8-byte alignment
            cases.append({"x": x.tolist(), "t": t.tolist(), "y": y.tolist(),
                          "dtype": dtype, "transpose": c % 4 == 1,
                          "dense": dense.tolist(),
                          "tdtype": "float32" if dtype == "float64" else "float64"})
    return cases


def _run_level(level, cases):
    env = dict(os.environ, FASTLOSS_SIMD=level)
    proc = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(cases),
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def cases():
    return _cases()


@pytest.mark.parametrize("level", LEVELS)
def test_each_level_matches_the_reference(level, cases):
    got = _run_level(level, cases)
    # the cap holds; a CPU without the level runs a lower one
    order = {"baseline": 0, "avx2+fma": 1, "avx512": 2}
    assert order[got["simd"]] <= LEVELS.index(level)
    if level == "baseline":
        assert got["simd"] == "baseline"
    for case, res in zip(cases, got["results"]):
        x = np.array(case["x"], dtype=case["dtype"])
        t = np.array(case["t"])
        y = np.array(case["y"], dtype=case["dtype"])
        f32 = case["dtype"] == "float32"
        rtol = 1e-6 if f32 else 1e-13
        want_loss, want_grad = ref.softmax_cross_entropy_and_grad(x, t)
        np.testing.assert_allclose(res["loss"], want_loss, rtol=rtol, atol=0)
        np.testing.assert_allclose(res["grad"], want_grad, rtol=rtol, atol=1e-300 if not f32 else 1e-37)
        np.testing.assert_allclose(res["rows"], ref.softmax_cross_entropy(x, t, reduction="none"),
                                   rtol=rtol, atol=0)
        np.testing.assert_allclose(res["rows_c"], ref.softmax_cross_entropy(x, t, reduction="none"),
                                   rtol=rtol, atol=0)
        np.testing.assert_allclose(res["ce"], ref.cross_entropy(y, t, reduction="none"),
                                   rtol=rtol, atol=0)
        onehot = np.eye(x.shape[1], dtype=case["dtype"])[t]
        np.testing.assert_allclose(res["onehot"], ref.cross_entropy(y, onehot, reduction="none"),
                                   rtol=rtol, atol=0)
        dense = np.array(case["dense"], dtype=case["tdtype"])
        np.testing.assert_allclose(res["mixed"], ref.cross_entropy(y, dense, reduction="none"),
                                   rtol=rtol, atol=0, equal_nan=True)
        want_means = [ref.cross_entropy(y, onehot)] * 3
        soft = onehot.copy()
        soft[5, :2] = 0.5
        want_means += [ref.cross_entropy(y, dense), ref.cross_entropy(y, soft),
                       ref.cross_entropy(y, t)]
        np.testing.assert_allclose(res["means"], want_means, rtol=rtol, atol=0, equal_nan=True)


def test_levels_agree_to_the_last_bits(cases):
    """The levels differ only in exp/log rounding: a few ulp at most."""
    runs = [_run_level(level, cases)["results"] for level in LEVELS]
    for other in runs[1:]:
        for case, a, b in zip(cases, runs[0], other):
            if case["dtype"] != "float64":  # float32 outputs may round apart
                continue
            np.testing.assert_allclose(a["rows"], b["rows"], rtol=4e-15, atol=0)
            np.testing.assert_allclose(a["grad"], b["grad"], rtol=4e-15, atol=1e-300)


def test_unknown_level_warns_and_uses_the_best():
    code = "import fastloss, warnings; print(fastloss._core.simd())"
    best = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "FASTLOSS_SIMD"})
    proc = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True,
                          text=True, env=dict(os.environ, FASTLOSS_SIMD="sse9"))
    assert proc.returncode == 0, proc.stderr
    assert "FASTLOSS_SIMD='sse9'" in proc.stderr
    assert proc.stdout.strip() == best.stdout.strip()


def test_simd_reports_a_known_level():
    assert fastloss._core.simd() in ("baseline", "avx2+fma", "avx512")
