"""Every SIMD dispatch level computes the same numbers as the reference.

A CPU runs only its best exp/log/row loops, so on a fast machine the
baseline and AVX2 loops would never be exercised.  FASTLOSS_SIMD caps the
level at import; each level runs in a child process over a battery of
shapes (every remainder of the 4- and 8-lane loops, strided and float32
inputs, confident and tiny logits, exp's libm fallback range) and is checked
against fastloss.reference here, in the parent. The binary cross-entropies
have a battery of their own (both functions, loss and gradient, float64 and
float32, pos_weight, weight, smoothing, sample weights, and the special
values their element loops leave to libm: |x| > 700, +-inf and NaN logits,
p = 0 and 1 with eps = 0).
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


# ---------------------------------------------------------------------------
# the binary cross-entropies: their element loops (fl_bce, fl_sbce) and the
# libm fix-up of the special values, at every level
# ---------------------------------------------------------------------------

BINARY_CHILD = r"""
import json, sys
import numpy as np
import fastloss
cases = json.loads(sys.stdin.read())
out = {"simd": fastloss._core.simd(), "results": []}
for c in cases:
    x = np.array(c["x"], dtype=c["dtype"])
    if c["strided"]:                  # every other element of a wider array
        wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype)
        wide[..., ::2] = x
        x = wide[..., ::2]
    t = np.array(c["t"])
    kw = {k: np.array(v) if isinstance(v, list) else v for k, v in c["kw"].items()}
    res = {}
    for reduction in ("mean", "sum", "none"):
        loss, grad = getattr(fastloss, c["name"] + "_and_grad")(x, t, reduction=reduction, **kw)
        alone = getattr(fastloss, c["name"])(x, t, reduction=reduction, **kw)
        res[reduction] = {"loss": np.asarray(loss, np.float64).tolist(),
                          "alone": np.asarray(alone, np.float64).tolist(),
                          "grad": np.asarray(grad, np.float64).tolist()}
    out["results"].append(res)
print(json.dumps(out))
"""

BINARY_NAMES = ["binary_cross_entropy", "sigmoid_binary_cross_entropy"]
# the values the loops hand to libm: |x| > 700 (inf included) and NaN
# logits; p + eps or (1 - p) + eps zero, subnormal, negative, inf or NaN
FIXUP_LOGITS = [750.0, -750.0, 1e4, -1e4, np.inf, -np.inf, np.nan, 700.5, -709.0,
                  1e-9, 0.0, 36.0]
FIXUP_PROBS = [0.0, 1.0, 0.0, 1.0, 1e-310, np.nan, 1.5, -0.5, 1 - 2 ** -53, 2 ** -1022]


def _binary_cases():
    """Both functions, float64 and float32, (3, n) inputs whose 3n elements
    leave every remainder of the 4- and 8-lane loops and cross 256-element
    blocks, with
    pos_weight, weight, smoothing, sample weights, eps = 0, strided input,
    and the special values of the fix-up paths."""
    rng = np.random.default_rng(20261206)
    cases = []
    options = [
        lambda n: {},
        lambda n: {"pos_weight": np.r_[0.0, rng.uniform(0.5, 3.0, n - 1)][:n].tolist()},
        lambda n: {"weight": np.r_[rng.uniform(0.5, 2.0, n - 1), 0.0][:n].tolist(),
                   "label_smoothing": 0.1},
        lambda n: {"sample_weight": [1.0, 0.0, 2.5]},
        lambda n: {"pos_weight": 2.0, "weight": rng.uniform(0.0, 2.0, (3, n)).tolist(),
                   "label_smoothing": 0.2, "sample_weight": [0.5, 1.0, 0.0]},
    ]
    k = 0
    for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 33, 300):
        for dtype in ("float64", "float32"):
            for name in BINARY_NAMES:
                probs = name == "binary_cross_entropy"
                shape = (3, n)
                if probs:
                    x = rng.uniform(0.0, 1.0, shape)
                    specials = FIXUP_PROBS
                else:
                    x = rng.standard_normal(shape) * 4.0
                    specials = FIXUP_LOGITS
                # hard targets, soft ones in the middle row
                t = rng.integers(0, 2, shape).astype(np.float64)
                t[1] = rng.uniform(0.0, 1.0, n)
                # the special values, rotated through the positions; with
                # eps = 0, probabilities 0 and 1 under both targets: a zero
                # term's log of 0 and a counted one (inf)
                flat = x.reshape(-1)
                for j, v in enumerate(specials):
                    flat[(3 * j + k) % flat.size] = v
                kw = options[k % len(options)](n)
                if probs and k % 3 != 2:
                    kw["eps"] = 0.0
                cases.append({"name": name, "dtype": dtype, "x": x.tolist(), "t": t.tolist(),
                              "kw": kw, "strided": k % 4 == 1})
                k += 1
    return cases


def _binary_inputs(case):
    """The case's arguments, as the child process builds them (contiguous:
    the values are the same)."""
    x = np.array(case["x"], dtype=case["dtype"])
    t = np.array(case["t"])
    kw = {k: np.array(v) if isinstance(v, list) else v for k, v in case["kw"].items()}
    return x, t, kw


def _binary_scales(case, reduction):
    """(loss scale, gradient scale): per "none" element and per gradient
    entry, |s_i| (|w a L_a| + |w b L_b|) and |s_i| (|w a G_a| + |w b G_b|)
    over |D|, the magnitudes of the two terms (a term with a zero
    coefficient 0, whatever its log). The gradient's two terms have
    opposite signs: its error is relative to this scale, not to its value."""
    x, t, kw = _binary_inputs(case)
    with np.errstate(all="ignore"):
        x = x.astype(np.float64)
        s = kw.get("label_smoothing", 0.0)
        tp = t * (1.0 - s) + s / 2.0
        w = np.abs(np.broadcast_to(np.asarray(kw.get("weight", 1.0), np.float64), x.shape))
        pw = np.abs(np.broadcast_to(np.asarray(kw.get("pos_weight", 1.0), np.float64), x.shape))
        a, b = w * pw * np.abs(tp), w * np.abs(1.0 - tp)
        sw = np.asarray(kw.get("sample_weight", np.ones(x.shape[0])), np.float64)[:, None]
        if case["name"] == "binary_cross_entropy":
            eps = kw.get("eps", 1e-7)
            za, zb = np.abs(x + eps), np.abs((1.0 - x) + eps)
            la, lb, ga, gb = np.abs(np.log(za)), np.abs(np.log(zb)), 1.0 / za, 1.0 / zb
        else:
            la, lb = np.logaddexp(0.0, -x), np.logaddexp(0.0, x)       # softplus(-+x)
            ga, gb = np.exp(-lb), np.exp(-la)                          # sigmoid(-+x)

        def terms(part_a, part_b):
            return np.where(a == 0, 0.0, a * part_a) + np.where(b == 0, 0.0, b * part_b)

        d = x.shape[1] * sw.sum() if reduction == "mean" else 1.0
        loss = np.where(sw == 0, 0.0, np.abs(sw) * terms(la, lb)) / d
        grad = np.where(sw == 0, 0.0, np.abs(sw) * terms(ga, gb)) / d
    if reduction != "none":
        loss = loss.sum()
    return np.nan_to_num(loss, nan=0.0), np.nan_to_num(grad, nan=0.0)


def _assert_binary_close(got, want, scale, rtol, what):
    """got == want where NaN or infinite (the same), else within rtol of
    the larger of |want| and the scale."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    with np.errstate(invalid="ignore"):
        tol = rtol * np.maximum(np.abs(want), scale)
        ok = (got == want) | (np.isnan(got) & np.isnan(want)) \
            | (np.isfinite(want) & (np.abs(got - want) <= tol))
    bad = np.argwhere(~np.asarray(ok).reshape(got.shape))
    assert ok.all(), (f"{what}: {len(bad)} values differ, first at {bad[:1].tolist()}: "
                      f"{got[tuple(bad[0])]!r} != {want[tuple(bad[0])]!r}")


@pytest.fixture(scope="module")
def binary_cases():
    return _binary_cases()


@pytest.fixture(scope="module")
def binary_runs(binary_cases):
    """Each level's results on the binary cases (one child process a level)."""
    runs = {}
    for level in LEVELS:
        env = dict(os.environ, FASTLOSS_SIMD=level)
        proc = subprocess.run([sys.executable, "-c", BINARY_CHILD],
                              input=json.dumps(binary_cases), capture_output=True, text=True,
                              env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        runs[level] = json.loads(proc.stdout)
    return runs


@pytest.mark.parametrize("level", LEVELS)
def test_each_level_matches_the_reference_binary(level, binary_cases, binary_runs):
    got = binary_runs[level]
    order = {"baseline": 0, "avx2+fma": 1, "avx512": 2}
    assert order[got["simd"]] <= LEVELS.index(level)
    if level == "baseline":
        assert got["simd"] == "baseline"
    assert len(got["results"]) == len(binary_cases)
    for i, (case, res) in enumerate(zip(binary_cases, got["results"])):
        x, t, kw = _binary_inputs(case)
        rtol = 1e-6 if case["dtype"] == "float32" else 1e-13
        grad_fn = getattr(ref, case["name"] + "_and_grad")
        for reduction in ("mean", "sum", "none"):
            what = f"case {i} ({case['name']} {case['dtype']} {case['kw']}) {reduction}"
            want_loss, want_grad = grad_fn(x, t, reduction=reduction, **kw)
            loss_scale, grad_scale = _binary_scales(case, reduction)
            r = res[reduction]
            _assert_binary_close(r["loss"], want_loss, loss_scale, rtol, what + " loss")
            _assert_binary_close(r["alone"], want_loss, loss_scale, rtol,
                                 what + " loss function")
            _assert_binary_close(r["grad"], want_grad, grad_scale, rtol, what + " gradient")


def test_the_binary_cases_reach_the_special_paths(binary_cases):
    """The battery holds what the fix-up paths are for: |x| > 700, +-inf
    and NaN logits, probabilities 0 and 1 with eps = 0 under a target that
    counts their log (inf) and under one that does not (exactly 0)."""
    seen = set()
    for case in binary_cases:
        x, t, kw = _binary_inputs(case)
        x = x.astype(np.float64)
        if case["name"] == "sigmoid_binary_cross_entropy":
            seen |= {"|x|>700"} if (np.abs(x[np.isfinite(x)]) > 700).any() else set()
            seen |= {"inf"} if np.isinf(x).any() else set()
            seen |= {"nan"} if np.isnan(x).any() else set()
        elif kw.get("eps") == 0.0:
            seen |= {"p=0 counted"} if ((x == 0) & (t == 1)).any() else set()
            seen |= {"p=0 zero term"} if ((x == 0) & (t == 0)).any() else set()
            seen |= {"p=1 counted"} if ((x == 1) & (t == 0)).any() else set()
            seen |= {"p=1 zero term"} if ((x == 1) & (t == 1)).any() else set()
    assert seen == {"|x|>700", "inf", "nan", "p=0 counted", "p=0 zero term", "p=1 counted",
                    "p=1 zero term"}, seen


def test_levels_agree_to_the_last_bits_binary(binary_cases, binary_runs):
    """The levels differ only in exp/log rounding: a few ulp at most."""
    runs = [binary_runs[level]["results"] for level in LEVELS]
    for other in runs[1:]:
        for i, (case, a, b) in enumerate(zip(binary_cases, runs[0], other)):
            if case["dtype"] != "float64":  # float32 outputs may round apart
                continue
            for reduction in ("sum", "none"):
                loss_scale, grad_scale = _binary_scales(case, reduction)
                what = f"case {i} {reduction}"
                _assert_binary_close(a[reduction]["loss"], b[reduction]["loss"], loss_scale,
                                     4e-15, what + " loss")
                _assert_binary_close(a[reduction]["grad"], b[reduction]["grad"], grad_scale,
                                     4e-15, what + " gradient")
