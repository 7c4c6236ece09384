"""Binary dense targets (every entry exactly 0 or 1: one-hot, multi-hot).

For "mean" and "sum" the kernel takes the loss of such a group of rows as
-log of the product of its p + eps over the ones (fl_binprod in fastloss/_simd,
exposed for these tests as fastloss._core._binary_product): one pass of
multiplications and one log instead of a log a row.  These tests check

- the product form against an exact reference (the decimal module's ln at
  40 digits) within its stated error bound, and where it must not apply;
- that the library really takes it (bit for bit), with or without the
  gradient, for every layout and dtype of the inputs, on every SIMD level;
- that groups of confident rows, whose loss is too small for the bound,
  keep the 1e-13 relative accuracy of the per-row logs.
"""
import decimal
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import fastloss as fl
from fastloss import _core
from support import layouts

U = 2.0 ** -53
D40 = decimal.Context(prec=40)


def probs(rng, n, c, dtype=np.float64):
    if c == 1:                                      # not a distribution: any p
        return rng.uniform(0.01, 1.0, (n, c)).astype(dtype)
    x = rng.normal(0.0, 2.0, (n, c))
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(dtype)


def one_hot(rng, n, c, dtype=np.float64):
    return np.eye(c, dtype=dtype)[rng.integers(0, c, n)]


def exact_loss(p, t, eps):
    """-sum of log(p + eps) over t == 1, p + eps rounded to float64 as the
    kernels (and the reference) round it, the logs and the sum exact to 40
    digits."""
    f = (np.asarray(p, np.float64) + eps)[np.asarray(t) == 1]
    return -sum((D40.ln(decimal.Decimal(float(v))) for v in f), decimal.Decimal(0))


def bound(n1, v):
    """The error bound of the product form (see _bin_accurate in fastloss/_kernels/cross_entropy.pxi):
    m + 2 ulps of 1 for the m rounding multiplications and the final log,
    plus an ulp of the result (a little above the half ulp stated)."""
    m = n1 + min(n1, 32) - 1
    return (m + 2) * U * (1 + 1e-12) + abs(v) * 2 * U


# ---------------------------------------------------------------------------
# the product form itself
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(40))
def test_product_is_within_its_bound_of_the_exact_log_sum(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 2049))
    density = rng.choice([0.02, 0.1, 0.5, 1.0])
    t = (rng.uniform(size=size) < density).astype(np.float64)
    p = 10.0 ** rng.uniform(-6, 0, size)
    p[rng.uniform(size=size) < 0.1] = 1.0            # factors 1 and 1 + eps
    eps = [0.0, 1e-7][seed % 2]
    got = _core._binary_product(p, t, eps)
    assert got is not None
    M, E, loss = got
    assert 1.0 <= M < 2.0 and E == int(E)
    exact = exact_loss(p, t, eps)
    n1 = int(t.sum())
    err = abs(decimal.Decimal(loss) - exact)
    assert err <= decimal.Decimal(bound(n1, float(exact))), (n1, loss, exact)
    # and M 2**E is the product itself, to the same bound
    log_prod = D40.ln(decimal.Decimal(M)) + decimal.Decimal(E) * D40.ln(decimal.Decimal(2))
    assert abs(log_prod + exact) <= decimal.Decimal(bound(n1, float(exact)))


@pytest.mark.parametrize("seed", range(40))
def test_the_product_of_the_gathered_factors_is_the_same(seed):
    # fl_binprod_sparse (the per-row and gradient paths) multiplies the
    # same factors into the same 32 running products as the packed pass
    rng = np.random.default_rng(100 + seed)
    size = int(rng.integers(1, 2049))
    t = (rng.uniform(size=size) < rng.choice([0.05, 0.1, 0.5, 1.0])).astype(np.float64)
    p = 10.0 ** rng.uniform(-4, 0.3, size)
    eps = [0.0, 1e-7][seed % 2]
    want = _core._binary_product(p, t, eps)
    assert _core._binary_product(p, t, eps, sparse=True) == want
    if seed % 4 == 0:                               # and refuses the same
        p[rng.integers(0, size)] = 2.5
        t[:] = 1.0
        assert _core._binary_product(p, t, eps) is None
        assert _core._binary_product(p, t, eps, sparse=True) is None


@pytest.mark.parametrize("size", [1, 7, 31, 32, 33, 64, 100, 1000, 2047, 2048])
def test_every_position_is_multiplied_once(size):
    # the masked tails and the 32 running products: one factor of 2**-k at
    # position k (k < 40), so each position's factor is visible in E
    t = np.zeros(size)
    p = np.ones(size)
    k = np.arange(size)
    sel = k % 3 == 0
    t[sel] = 1.0
    p[sel] = 2.0 ** -(k[sel] % 40).astype(float)
    M, E, loss = _core._binary_product(p, t, 0.0)
    assert M == 1.0
    assert E == -float((k[sel] % 40).sum())


@pytest.mark.parametrize("t_value", [0.5, 2.0, -1.0, np.nan, np.inf, -np.inf, 5e-324, 1 + 2**-52,
                                     1 - 2**-53])
def test_a_target_other_than_0_or_1_is_not_binary(t_value):
    rng = np.random.default_rng(3)
    p = probs(rng, 20, 10).ravel()
    t = one_hot(rng, 20, 10).ravel()
    for pos in (0, 5, 63, 199):                       # first chunk, later, tail
        t2 = t.copy()
        t2[pos] = t_value
        assert _core._binary_product(p, t2) is None


@pytest.mark.parametrize("p_value,eps", [(-1e-3, 1e-7), (-1e-7, 0.0), (np.nan, 1e-7), (2.5, 0.0),
                                         (2.0, 1e-7), (np.inf, 1e-7), (0.0, 0.0), (-0.0, 0.0)])
def test_a_factor_outside_the_range_is_left_to_the_logs(p_value, eps):
    rng = np.random.default_rng(4)
    p = probs(rng, 20, 10).ravel()
    t = one_hot(rng, 20, 10).ravel()
    ones = np.flatnonzero(t)
    for pos in (ones[0], ones[7], ones[-1]):
        p2 = p.copy()
        p2[pos] = p_value
        assert _core._binary_product(p2, t, eps) is None


def test_what_the_product_form_accepts():
    rng = np.random.default_rng(5)
    p = probs(rng, 20, 10).ravel()
    t = one_hot(rng, 20, 10).ravel()
    want = _core._binary_product(p, t, 0.0)
    zeros = np.flatnonzero(t == 0)
    # a target of -0.0 is a zero; any p under a zero target is ignored
    t2 = t.copy()
    t2[zeros[:5]] = -0.0
    p2 = p.copy()
    p2[zeros[5:10]] = [np.nan, np.inf, -np.inf, -5.0, 1e300]
    assert _core._binary_product(p2, t2, 0.0) == want
    # factors up to exactly 2, and down to 2**-958 for one running product
    one = np.flatnonzero(t)[0]
    p3 = p.copy()
    p3[one] = 2.0
    assert _core._binary_product(p3, t, 0.0) is not None
    z = np.zeros(64)
    z[0] = z[32] = 1.0
    assert _core._binary_product(np.full(64, 2.0 ** -479), z, 0.0)[:2] == (1.0, -958.0)
    # below it, or a zero factor, is left to the logs
    assert _core._binary_product(np.full(64, 2.0 ** -480), z, 0.0) is None
    assert _core._binary_product(np.zeros(64), z, 0.0) is None


def test_no_ones_is_the_empty_product():
    assert _core._binary_product(np.full(100, 0.3), np.zeros(100)) == (1.0, 0.0, -0.0)


# ---------------------------------------------------------------------------
# the library takes it
# ---------------------------------------------------------------------------

SHAPES = [(1, 10), (1, 1), (3, 1), (7, 3), (100, 10), (204, 10), (64, 32), (20, 100), (2, 1000)]


def multi_hot(rng, n, c, dtype=np.float64):
    t = (rng.uniform(size=(n, c)) < 0.3).astype(dtype)
    t[np.arange(n), rng.integers(0, c, n)] = 1.0
    return t


@pytest.mark.parametrize("kind", ["one_hot", "multi_hot"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_binary_loss_is_the_product_form_bit_for_bit(shape, kind, tmp_path):
    # one group of rows (N C <= 2048, N <= 256): the sum is that group's
    # product form, the mean that over N, for every layout of either input
    # and with the gradient too
    n, c = shape
    rng = np.random.default_rng(n * 1000 + c)
    p = probs(rng, n, c)
    t = one_hot(rng, n, c) if kind == "one_hot" else multi_hot(rng, n, c)
    want = _core._binary_product(p, t)
    assert want is not None
    loss = want[2]
    assert abs(loss) >= (int(t.sum()) + 33) / 256    # where it is accurate enough
    assert fl.cross_entropy(p, t, reduction="sum") == loss
    assert fl.cross_entropy(p, t) == loss / n
    assert fl.cross_entropy_and_grad(p, t, reduction="sum")[0] == loss
    assert fl.cross_entropy_and_grad(p, t)[0] == loss / n
    for name, pv in layouts(p, tmp_path).items():
        assert fl.cross_entropy(pv, t, reduction="sum") == loss, name
        assert fl.cross_entropy_and_grad(pv, t)[0] == loss / n, name
    for name, tv in layouts(t, tmp_path).items():
        assert fl.cross_entropy(p, tv, reduction="sum") == loss, name
        assert fl.cross_entropy_and_grad(p, tv)[0] == loss / n, name
    # float32 targets are the same numbers
    assert fl.cross_entropy(p, t.astype(np.float32), reduction="sum") == loss
    # a single sample of shape (C,)
    if n == 1:
        assert fl.cross_entropy(p[0], t[0], reduction="sum") == loss


@pytest.mark.parametrize("shape", [(100, 10), (7, 3), (1, 10)], ids=str)
def test_float32_probabilities_take_the_product_of_their_float64_values(shape):
    n, c = shape
    rng = np.random.default_rng(11)
    p = probs(rng, n, c, np.float32)
    t = one_hot(rng, n, c, np.float32)
    want = _core._binary_product(p.astype(np.float64), t)[2]
    got = fl.cross_entropy(p, t, reduction="sum")
    assert got.dtype == np.float32 and got == np.float32(want)
    assert fl.cross_entropy(p, t.astype(np.float64), reduction="sum") == np.float32(want)


def test_a_soft_row_sends_its_group_to_the_logs():
    rng = np.random.default_rng(12)
    p = probs(rng, 100, 10)
    t = one_hot(rng, 100, 10)
    t[50] = 0.0
    t[50, :2] = 0.5
    assert _core._binary_product(p, t) is None
    pe = p + 1e-7
    exact = -sum((decimal.Decimal(float(q)) * D40.ln(decimal.Decimal(float(v)))
                  for q, v in zip(t.ravel(), pe.ravel()) if q != 0), decimal.Decimal(0))
    for got in (fl.cross_entropy(p, t, reduction="sum"),
                fl.cross_entropy_and_grad(p, t, reduction="sum")[0]):
        assert abs(decimal.Decimal(float(got)) - exact) <= decimal.Decimal(1e-13) * exact


@pytest.mark.parametrize("near", [1 + 2**-52, 1 - 2**-53, 1 + 2**-30])
def test_a_target_is_read_in_the_computation_dtype(near, tmp_path):
    # A dense target is converted to the computation dtype.  For
    # float64 probabilities a target within an ulp of 1 is not a one; for
    # float32 ones it rounds to 1.0 and is, on every path the layout takes
    # (packed pass, per-row gather, gathered terms) and with the gradient
    rng = np.random.default_rng(13)
    for dtype in (np.float64, np.float32):
        p = probs(rng, 100, 10, dtype)
        t = one_hot(rng, 100, 10)
        t[37, np.argmax(t[37])] = near
        want = fl.cross_entropy(p, t, reduction="sum")
        if dtype == np.float32:
            assert want == fl.cross_entropy(p, t.astype(np.float32), reduction="sum")
            assert want == np.float32(_core._binary_product(p.astype(np.float64),
                                                            t.astype(np.float32))[2])
        else:
            assert _core._binary_product(p, t) is None
        for name, pv in layouts(p, tmp_path).items():
            assert fl.cross_entropy(pv, t, reduction="sum") == want, (dtype, name)
            assert fl.cross_entropy_and_grad(pv, t, reduction="sum")[0] == want, (dtype, name)
        for name, tv in layouts(t, tmp_path).items():
            assert fl.cross_entropy(p, tv, reduction="sum") == want, (dtype, name)


@pytest.mark.parametrize("soft", [False, True])
def test_a_float64_target_that_is_0_in_float32_is_a_zero_term(soft, tmp_path):
    # 1e-50 is 0 in float32: with float32 probabilities its term is exactly
    # 0, even where p + eps == 0 (a term whose coefficient is 0 is 0, in the
    # loss and the gradient), as fastloss.reference has it
    rng = np.random.default_rng(14)
    n, c = 50, 6
    p = probs(rng, n, c, np.float32)
    t = one_hot(rng, n, c)
    if soft:
        t[3, :] = 0.0
        t[3, :2] = 0.5
    tiny = (rng.uniform(size=(n, c)) < 0.3) & (t == 0)
    t[tiny] = 1e-50
    p[tiny] = 0.0
    t[7] = 0.0
    t[7, 2] = 1e-50                                  # a row whose only target is 0
    p[7, 2] = 0.0
    import fastloss.reference as ref
    for reduction in ("sum", "mean", "none"):
        want = ref.cross_entropy(p, t, reduction=reduction, eps=0.0)
        want_l, want_g = ref.cross_entropy_and_grad(p, t, reduction=reduction, eps=0.0)
        assert np.all(np.isfinite(want)) and np.all(np.isfinite(want_g))
        for name, pv in dict(layouts(p, tmp_path), contiguous=p).items():
            got = fl.cross_entropy(pv, t, reduction=reduction, eps=0.0)
            np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=name)
            got_l, got_g = fl.cross_entropy_and_grad(pv, t, reduction=reduction, eps=0.0)
            np.testing.assert_allclose(got_l, want_l, rtol=1e-6, err_msg=name)
            np.testing.assert_allclose(got_g, want_g, rtol=1e-6, err_msg=name)
            assert not np.signbit(got_g[tiny]).any(), name      # +0, as the reference
            same = fl.cross_entropy(pv, t.astype(np.float32), reduction=reduction, eps=0.0)
            assert np.asarray(got).tobytes() == np.asarray(same).tobytes(), name


# ---------------------------------------------------------------------------
# accuracy where the product form is not accurate enough
# ---------------------------------------------------------------------------

def confident_problem(n, c, loss_per_row, seed):
    rng = np.random.default_rng(seed)
    t = one_hot(rng, n, c)
    p = rng.uniform(0.0, 1.0, (n, c)) * 1e-3
    p[t == 1] = np.exp(-loss_per_row * rng.uniform(0.5, 1.5, n))
    return p, t


@pytest.mark.parametrize("loss_per_row", [1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 3e-3, 1e-2, 0.1])
@pytest.mark.parametrize("shape", [(100, 10), (204, 10), (1, 10), (1000, 2)], ids=str)
def test_confident_rows_keep_the_relative_accuracy(shape, loss_per_row):
    # a product near 1 has lost the digits of its small log: these groups
    # must take the per-row logs (the product form would be off by up to
    # 1e-4 relative for losses of 1e-12 a row)
    n, c = shape
    p, t = confident_problem(n, c, loss_per_row, seed=n + c)
    for eps in (0.0, 1e-7):
        exact = float(exact_loss(p, t, eps))
        for got in (fl.cross_entropy(p, t, reduction="sum", eps=eps),
                    fl.cross_entropy_and_grad(p, t, reduction="sum", eps=eps)[0],
                    fl.cross_entropy(np.asfortranarray(p), t, reduction="sum", eps=eps)):
            assert abs(got - exact) <= 1e-13 * abs(exact), (got, exact)


def per_row_sum(p, t, eps):
    """The per-row path's sum of one block of rows: the rows' losses (as
    reduction="none" computes them) added into four lanes by row, then
    (l0 + l1) + (l2 + l3)."""
    lanes = [0.0] * 4
    for i, v in enumerate(fl.cross_entropy(p, t, reduction="none", eps=eps)):
        lanes[i % 4] += float(v)
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])


@pytest.mark.parametrize("ratio", [0.5, 0.99, 1.01, 2.0, 8.0])
@pytest.mark.parametrize("ones_a_row,shape", [(1, (100, 10)), (3, (100, 10)), (2, (7, 3))])
def test_either_side_of_the_accuracy_threshold(ratio, ones_a_row, shape, tmp_path):
    # a group of rows with n1 ones whose loss is `ratio` times the smallest
    # the product form is taken for, (m + 2) / 256 with m = n1 + min(n1, 32)
    # - 1: below it the sum is the per-row path's, from it on the
    # product's, whichever path (packed pass and count of the ones, row
    # gather, gathered terms) the layout takes; 7 x 3 ends the count in a
    # vector tail
    n, c = shape
    n1 = n * ones_a_row
    rng = np.random.default_rng(21 + ones_a_row)
    t = multi_hot(rng, n, c) if ones_a_row > 1 else one_hot(rng, n, c)
    while int(t.sum()) != n1:                        # exactly that many a row
        t = np.zeros((n, c))
        for i in range(n):
            t[i, rng.choice(c, ones_a_row, replace=False)] = 1.0
    p = rng.uniform(0.0, 1.0, (n, c)) * 1e-3
    p[t == 1] = np.exp(-rng.uniform(0.5, 1.5, n1))
    target = ratio * (n1 + min(n1, 32) + 1) / 256
    p[t == 1] = np.exp(np.log(p[t == 1]) * (target / float(exact_loss(p, t, 0.0))))
    exact = float(exact_loss(p, t, 0.0))
    want = _core._binary_product(p, t, 0.0)[2] if ratio > 1 else per_row_sum(p, t, 0.0)
    assert abs(want - exact) <= 1e-13 * exact
    for name, pv in dict(layouts(p, tmp_path), contiguous=p).items():
        assert fl.cross_entropy(pv, t, reduction="sum", eps=0.0) == want, name
        assert fl.cross_entropy_and_grad(pv, t, reduction="sum", eps=0.0)[0] == want, name
        assert fl.cross_entropy(pv, t, eps=0.0) == want / n, name


@pytest.mark.parametrize("eps", [0.0, 1e-7])
def test_a_million_one_hot_rows_spanning_magnitudes(eps):
    # per-row losses from 1e-12 to 300, so some groups are confident and
    # most are not; 4900 groups in 3907 blocks, summed across threads
    n, c = 10**6, 10
    rng = np.random.default_rng(31)
    labels = rng.integers(0, c, n)
    t = np.eye(c)[labels]
    p = rng.uniform(0.0, 1.0, (n, c))
    sel = np.exp(-(10.0 ** rng.uniform(-12, 2.5, n)))
    sel[: n // 4] = 1 - 1e-12                      # a confident quarter
    p[np.arange(n), labels] = sel
    exact = math.fsum((-np.log(sel + eps)).tolist())   # each term within an ulp
    for n_threads in (1, 2):
        got = fl.cross_entropy(p, t, reduction="sum", eps=eps, n_threads=n_threads)
        assert abs(got - exact) <= 1e-13 * exact
    assert fl.cross_entropy(p, t, eps=eps, n_threads=1) == fl.cross_entropy(p, t, eps=eps, n_threads=2)
    assert fl.cross_entropy(p, t, eps=eps) == fl.cross_entropy_and_grad(p, t, eps=eps)[0]


# ---------------------------------------------------------------------------
# every SIMD level computes the same product, bit for bit
# ---------------------------------------------------------------------------

LEVEL_CHILD = r"""
import json, sys
import numpy as np
import fastloss as fl
from fastloss import _core
out = {"simd": _core.simd(), "prod": [], "sparse": [], "loss": []}
for seed in range(30):
    rng = np.random.default_rng(seed)
    n, c = [(1, 10), (7, 3), (100, 10), (33, 31), (204, 10), (1000, 2)][seed % 6]
    x = rng.normal(0, 2, (n, c))
    p = np.exp(x) / np.exp(x).sum(1, keepdims=True)
    t = np.eye(c)[rng.integers(0, c, n)]
    if seed % 3 == 0:
        t[rng.uniform(size=(n, c)) < 0.2] = 1.0
    if seed % 5 == 1:                               # factors in (1, 2] up front
        p[0, :] = [1.0, 2.0 - 1e-7, 1.5][seed % 3]
        t[0, :] = 1.0
    out["prod"].append(_core._binary_product(p, t))
    out["sparse"].append(_core._binary_product(p, t, sparse=True))
    # and the same refusals: a target or a factor out of place, in the first
    # 32 elements, later, or in the tail
    pos = [0, min(40, n * c - 1), n * c - 1][seed % 3]
    for value in (0.5, np.nan, 1 + 2**-52, -1.0):
        t2 = t.copy().ravel()
        t2[pos] = value
        out["prod"].append(_core._binary_product(p, t2))
    t2 = t.copy().ravel()
    t2[pos] = 1.0
    for value in (-1e-3, 2.5, np.nan):
        p2 = p.copy().ravel()
        p2[pos] = value
        out["prod"].append(_core._binary_product(p2, t2))
    out["loss"].append([float(fl.cross_entropy(p, t, reduction="sum")),
                        float(fl.cross_entropy(p.astype(np.float32), t.astype(np.float32))),
                        float(fl.cross_entropy(p, t.astype(np.float32)))])
# groups either side of the accuracy threshold (the ones counted on the
# packed path): is the sum the product form's, or the per-row path's?
out["taken"] = []
for ones, ratio, dtype in [(1, 0.99, "f8"), (1, 1.01, "f8"), (3, 0.99, "f8"), (3, 1.01, "f8"),
                           (3, 0.99, "f4"), (3, 1.01, "f4")]:
    rng = np.random.default_rng(ones)
    t = np.zeros((100, 10))
    for i in range(100):
        t[i, rng.choice(10, ones, replace=False)] = 1.0
    p = rng.uniform(0, 1e-3, (100, 10))
    p[t == 1] = np.exp(-rng.uniform(0.5, 1.5, 100 * ones))
    p[t == 1] **= ratio * (100 * ones + 33) / 256 / -np.log(p[t == 1]).sum()
    got = fl.cross_entropy(p, t.astype(dtype), reduction="sum", eps=0.0)
    lanes = [0.0] * 4            # the per-row path's sum (see per_row_sum)
    for i, v in enumerate(fl.cross_entropy(p, t.astype(dtype), reduction="none", eps=0.0)):
        lanes[i % 4] += float(v)
    per_row = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    out["taken"].append([bool(got == _core._binary_product(p, t, 0.0)[2]), bool(got == per_row)])
print(json.dumps(out))
"""


def test_every_simd_level_computes_the_same_bits():
    runs = []
    for level in ("baseline", "avx2", "avx512"):
        proc = subprocess.run([sys.executable, "-c", LEVEL_CHILD], capture_output=True, text=True,
                              env=dict(os.environ, FASTLOSS_SIMD=level), timeout=300)
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout))
    assert runs[0]["simd"] == "baseline"
    assert sum(r is not None for r in runs[0]["prod"]) == 30
    assert sum(r is None for r in runs[0]["prod"]) == 30 * 7
    assert runs[0]["sparse"] == [r for r in runs[0]["prod"] if r is not None]
    # below the threshold the per-row path's sum, from it on the product
    # (either may equal the other's bits by chance)
    for run in runs:
        for (is_product, is_per_row), above in zip(run["taken"], [False, True] * 3):
            assert is_product if above else is_per_row, run["simd"]
    for other in runs[1:]:
        assert other["prod"] == runs[0]["prod"]
        assert other["sparse"] == runs[0]["sparse"]
        assert other["loss"] == runs[0]["loss"]
