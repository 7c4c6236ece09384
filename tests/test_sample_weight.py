"""Per-position weights: ``sample_weight=`` of every class loss and its
gradient.

- every combination of class weight, sample weight, ignore_index and label
  smoothing, both target kinds, every reduction, losses and gradients,
  against the contract's formulas written out below in plain NumPy (not
  fastloss.reference); the squared error too;
- cross_entropy on probabilities against scikit-learn's ``log_loss``;
- zero weights contribute exactly 0 (even where the loss is inf or NaN),
  all-zero weights give a nan mean without a warning, negative weights are
  allowed, a NaN weight propagates;
- sample weights with a class axis elsewhere (positions' shape);
- the errors and their order; central differences.

Both ``fastloss`` and ``fastloss.reference`` must pass every test.
"""
import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from support import REDUCTIONS, assert_close, assert_same, assert_same_result



def base_name(name):
    return name[: -len("_and_grad")] if name.endswith("_and_grad") else name


def split(result):
    """(loss, gradient or None) of a loss's or a gradient function's result."""
    return result if isinstance(result, tuple) else (result, None)
from support import (ALL_NAMES, CLASS_NAMES, GRAD_NAMES, IMPLS, LOSS_NAMES,  # noqa: F401
                     NAMED_CASE_IDS as CASE_IDS, NAMED_CASES as CASES,
                     name_is_probs as is_probs, name_is_squared as is_squared,
                     named_problem, raised)


# ---------------------------------------------------------------------------
# the contract's formulas, in float64 on the inputs rounded to the
# computation dtype
# ---------------------------------------------------------------------------

def _computation_dtype(pred):
    dt = np.asarray(pred).dtype
    return np.float32 if dt.kind in "fV" and dt.itemsize in (2, 4) else np.float64


def contract(name, pred, target, *, reduction="mean", axis=-1, eps=1e-7, weight=None,
             ignore_index=None, label_smoothing=0.0, sample_weight=None):
    """(loss, gradient) of ``name`` by the contract, in float64.

    The positions are the rows of pred with the class axis moved last, in C
    order. ``s_i`` is the sample weight (1 without one); a position counts
    when it is not ignored and ``s_i != 0``; a counted position adds
    ``s_i l_i`` to the sum and ``s_i w_i`` to the divisor of "mean"
    (``w_i = weight[t_i]`` for class indices, else 1; ``C s_i`` for the
    squared error); its gradient row is ``s_i`` times the row's own
    derivative, divided by that divisor for "mean". Positions that do not
    count give exactly 0 everywhere.
    """
    pred = np.asarray(pred)
    cdt = _computation_dtype(pred)

    def rounded(a):
        return np.asarray(a).astype(cdt).astype(np.float64)

    axis = axis % pred.ndim
    x = rounded(np.moveaxis(pred, axis, -1))
    positions, c = x.shape[:-1], x.shape[-1]
    x = x.reshape(-1, c)
    n = len(x)
    s = np.ones(n) if sample_weight is None else rounded(sample_weight).reshape(n)
    with np.errstate(all="ignore"):
        if is_squared(name):
            d = x - rounded(np.moveaxis(np.asarray(target), axis, -1)).reshape(n, c)
            counted = s != 0
            row_loss = (d * d).sum(axis=1)
            row_weight = np.full(n, float(c))
            numerator = 2.0 * d
            none_scale = 1.0 / c
        else:
            if np.asarray(target).dtype.kind in "iu" or isinstance(target, int):
                labels = [int(v) for v in np.asarray(target).reshape(n)]
                kept = np.array([ignore_index is None or v != ignore_index for v in labels],
                                bool)
                q = np.zeros((n, c))
                for i, v in enumerate(labels):
                    if kept[i]:
                        q[i, v] = 1.0
            else:
                q = rounded(np.moveaxis(np.asarray(target), axis, -1)).reshape(n, c)
                kept = np.ones(n, bool)
                labels = None
            q = (1.0 - label_smoothing) * q + label_smoothing / c
            q[~kept] = 0.0
            w = np.ones(c) if weight is None else rounded(weight)
            coef = np.where(q == 0.0, 0.0, w * q)
            if labels is None:
                row_weight = np.ones(n)
            else:
                row_weight = np.array([w[v] if kept[i] else 0.0 for i, v in enumerate(labels)])
            if is_probs(name):
                terms = np.where(coef != 0, -coef * np.log(x + eps), 0.0)
                numerator = np.where(coef != 0, -coef / (x + eps), 0.0)
            else:
                m = x.max(axis=1, keepdims=True)
                lse = m + np.log(np.exp(x - m).sum(axis=1, keepdims=True))
                terms = np.where(coef != 0, coef * (lse - x), 0.0)
                p = np.exp(x - lse)
                numerator = p * coef.sum(axis=1, keepdims=True) - coef
            row_loss = terms.sum(axis=1)
            counted = kept & (s != 0)
            none_scale = 1.0
        contrib = np.where(counted, s * row_loss, 0.0)
        if reduction == "mean":
            divisor = np.where(counted, s * row_weight, 0.0).sum()
            loss = contrib.sum() / divisor
        elif reduction == "sum":
            divisor, loss = 1.0, contrib.sum()
        else:
            divisor, loss = 1.0 / none_scale, (contrib * none_scale).reshape(positions)
        grad = np.where(counted[:, None], s[:, None] * numerator / divisor, 0.0)
    grad = np.moveaxis(grad.reshape(positions + (c,)), -1, axis)
    return loss, grad


def check_contract(fn, pred, target, kw, scale=8.0, what=""):
    """fn's loss (and gradient) against the formulas, within the accuracy of
    the computation dtype."""
    cdt = _computation_dtype(pred)
    want_loss, want_grad = contract(base_name(fn.__name__), pred, target, **kw)
    loss, grad = split(fn(pred, target, **kw))
    assert_close(loss, want_loss, cdt, scale)
    if kw.get("reduction") == "none":
        assert np.shape(loss) == np.shape(want_loss), what
    if grad is not None:
        assert grad.shape == np.shape(pred), what
        assert_close(grad, want_grad, cdt, 1.0)


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------

N, C = 6, 4
LABELS = np.array([1, 2, 3, 0, 2, 1])            # ignore_index=2 drops rows 1 and 4
WEIGHT = np.array([0.5, 2.0, 1.5, 3.0])
SAMPLE_WEIGHT = np.array([0.5, 2.0, 0.0, 1.5, 3.0, 0.25])


def make(name, kind, shape=(N, C), axis=-1, seed=0, dtype=np.float64):
    """(pred, target) of ``shape`` (named_problem)."""
    return named_problem(name, kind, shape, axis, seed, dtype)


# ---------------------------------------------------------------------------
# the formulas: every combination of the options
# ---------------------------------------------------------------------------

def option_grid(name, kind):
    """Every combination of class weight x sample weight x ignore_index x
    label smoothing that applies to ``name`` and the target kind."""
    if is_squared(name):
        for sw in (None, SAMPLE_WEIGHT):
            yield {"sample_weight": sw}
        return
    ignores = (None, 2) if kind == "index" else (None,)
    for weight, sw, ignore, smoothing in itertools.product((None, WEIGHT), (None, SAMPLE_WEIGHT),
                                                           ignores, (0.0, 0.25)):
        kw = {"weight": weight, "sample_weight": sw, "label_smoothing": smoothing}
        if ignore is not None:
            kw["ignore_index"] = ignore
        yield kw


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: np.dtype(d).name)
def test_every_option_combination_matches_the_formulas(impl, name, kind, dtype):
    """Each combination of class weight, sample weight (one of them 0),
    ignore_index and label smoothing, each reduction: the loss ("none" of
    shape (N,)) and the gradient are the contract's formulas: sum s_i l_i over
    counted rows, divided by sum s_i w_i for "mean"."""
    fn = getattr(impl, name)
    pred, target = make(name, kind, dtype=dtype)
    if kind == "index":
        target = LABELS
    for options in option_grid(name, kind):
        for reduction in REDUCTIONS:
            kw = dict(options, reduction=reduction)
            check_contract(fn, pred, target, kw, what=f"{name} {kind} {kw}")


@st.composite
def weighted_problems(draw):
    """A float32/float64 pred of rank 1..3 with a random class axis, a
    function, a target, options, and sample weights of the positions' shape
    (non-negative, some 0, bool, int or float)."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rank = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))
    axis = draw(st.integers(-rank, rank - 1))
    name = draw(st.sampled_from(ALL_NAMES))
    kind = "dense" if is_squared(name) else draw(st.sampled_from(["index", "dense"]))
    pred, target = make(name, kind, shape, axis, seed=draw(st.integers(0, 2**16)), dtype=dtype)
    positions = np.moveaxis(pred, axis, -1).shape[:-1]
    sw_dtype = draw(st.sampled_from([np.float64, np.float32, np.int16, np.bool_]))
    if sw_dtype is np.bool_:
        elements = st.booleans()
    elif sw_dtype is np.int16:
        elements = st.integers(0, 5)
    else:
        elements = st.sampled_from([0.0, 0.25, 1.0, 1.5, 3.0])
    sw = draw(hnp.arrays(sw_dtype, positions, elements=elements))
    kw = {"reduction": draw(st.sampled_from(REDUCTIONS)), "axis": axis, "sample_weight": sw}
    if not is_squared(name):
        c = shape[axis]
        if draw(st.booleans()):
            kw["weight"] = np.linspace(0.5, 2.0, c)
        if draw(st.booleans()):
            kw["label_smoothing"] = draw(st.sampled_from([0.1, 0.5, 1.0]))
        if kind == "index" and draw(st.booleans()):
            kw["ignore_index"] = draw(st.integers(0, c - 1))
        if is_probs(name) and draw(st.booleans()):
            kw["eps"] = 0.0
    return name, pred, target, kw


@pytest.mark.parametrize("impl", IMPLS)
@settings(max_examples=min(50, settings.default.max_examples), deadline=None)
@given(problem=weighted_problems())
def test_drawn_weighted_problems_match_the_formulas(impl, problem):
    """Random ranks, class axes, sample-weight dtypes (bool, int, float, zeros
    included) and options: the formulas hold (a zero divisor included: nan
    for "mean", as IEEE division gives)."""
    name, pred, target, kw = problem
    check_contract(getattr(impl, name), pred, target, kw, what=f"{name} {kw}")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_sample_weight_with_a_middle_class_axis(impl, name, kind):
    """(N, C, H, W) with axis=1 takes sample weights of shape (N, H, W), in
    any memory layout: the formulas hold, and the results are bitwise those
    of the class axis moved last with the same weights."""
    fn = getattr(impl, name)
    shape = (2, 3, 4, 2)
    pred, target = make(name, kind, shape, axis=1, seed=3)
    sw = np.random.default_rng(1).uniform(0.0, 2.0, (2, 4, 2))
    sw[0, 1, 1] = 0.0
    kw = {} if is_squared(name) else {"weight": [0.5, 2.0, 1.5], "label_smoothing": 0.1}
    moved_pred = np.ascontiguousarray(np.moveaxis(pred, 1, -1))
    moved_target = np.ascontiguousarray(np.moveaxis(target, 1, -1)) if kind == "dense" else target
    for reduction in REDUCTIONS:
        check_contract(fn, pred, target, dict(kw, reduction=reduction, axis=1, sample_weight=sw))
        loss, grad = split(fn(moved_pred, moved_target, reduction=reduction, sample_weight=sw,
                              **kw))
        for layout in (sw, np.asfortranarray(sw), sw[::-1, ::-1, ::-1].copy()[::-1, ::-1, ::-1]):
            got_loss, got_grad = split(fn(pred, target, axis=1, reduction=reduction,
                                          sample_weight=layout, **kw))
            assert_same(got_loss, loss)
            if grad is not None:
                assert_same(got_grad, np.ascontiguousarray(np.moveaxis(grad, -1, 1)))


# ---------------------------------------------------------------------------
# scikit-learn's log_loss
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("seed", range(4))
def test_cross_entropy_matches_sklearn_log_loss(impl, seed):
    """cross_entropy(probs, labels, eps=0, sample_weight=s) on rows that sum to
    1 is sklearn.metrics.log_loss(labels, probs, sample_weight=s,
    labels=range(C)) ("mean"), and its normalize=False value ("sum"); one-hot
    targets and a class axis elsewhere give the same."""
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    n, c = 9, 4
    e = np.exp(rng.normal(0.0, 1.0, (n, c)))
    probs = e / e.sum(axis=1, keepdims=True)
    labels = rng.integers(0, c, n)
    sw = rng.uniform(0.0, 3.0, n)
    sw[seed] = 0.0
    want_mean = metrics.log_loss(labels, probs, sample_weight=sw, labels=list(range(c)))
    want_sum = metrics.log_loss(labels, probs, sample_weight=sw, labels=list(range(c)),
                                normalize=False)
    one_hot = np.eye(c)[labels]
    for target in (labels, one_hot):
        for fn in (impl.cross_entropy, lambda *a, **k: impl.cross_entropy_and_grad(*a, **k)[0]):
            assert_close(fn(probs, target, eps=0.0, sample_weight=sw), want_mean, np.float64)
            assert_close(fn(probs, target, eps=0.0, sample_weight=sw, reduction="sum"),
                         want_sum, np.float64)
    # the same rows as (3, C, 3) with axis=1: position (a, b) is row 3 a + b
    probs3 = np.moveaxis(probs.reshape(3, 3, c), -1, 1)
    assert_close(impl.cross_entropy(probs3, labels.reshape(3, 3), eps=0.0, axis=1,
                                    sample_weight=sw.reshape(3, 3)), want_mean, np.float64)


# ---------------------------------------------------------------------------
# zero, negative and NaN weights
# ---------------------------------------------------------------------------

def poisoned(name, kind):
    """(pred, target, rows) where the loss of ``rows`` is inf or NaN: a zero
    probability under the label with eps=0, a NaN, an inf logit, a NaN target."""
    pred, target = make(name, kind, seed=9)
    if is_probs(name):
        if kind == "index":
            pred[1, target[1]] = 0.0      # -log(0) = inf with eps=0
        else:
            pred[1, 0] = 0.0
            target[1, 0] = 0.5
        pred[4, 2] = np.nan
    elif is_squared(name):
        pred[1, 0] = np.inf
        pred[4, 2] = np.nan
    else:
        pred[1, 0] = np.inf               # inf - inf: NaN
        pred[4, 2] = np.nan
    if kind == "dense" and not is_squared(name):
        target[4, 1] = np.nan
    return pred, target, [1, 4]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_zero_weight_rows_contribute_exactly_zero_even_if_inf_or_nan(impl, name, kind):
    """Rows with an inf or NaN loss and sample weight 0: the loss equals that
    of the other rows alone (with their weights), their "none" entries are
    exactly 0, their gradient rows exactly 0 (written into an out full of
    NaN), and the other rows follow the formulas."""
    fn = getattr(impl, name)
    pred, target, bad = poisoned(name, kind)
    sw = np.array([1.0, 0.0, 2.0, 0.5, 0.0, 1.5])
    extra = {"eps": 0.0} if is_probs(name) else {}
    good = [i for i in range(N) if i not in bad]
    for reduction in REDUCTIONS:
        kw = dict(extra, reduction=reduction, sample_weight=sw)
        result = fn(pred, target, **kw)
        loss, grad = split(result)
        if reduction == "none":
            assert (loss[bad] == 0).all(), loss
            assert np.isfinite(loss).all(), loss
        else:
            sub = fn(pred[good], target[good], **dict(kw, sample_weight=sw[good]))
            assert_close(loss, split(sub)[0], np.float64, 8.0)
            assert np.isfinite(loss)
        check_contract(fn, pred, target, kw)
        if grad is not None:
            assert (grad[bad] == 0).all() and np.isfinite(grad).all()
            out = np.full(pred.shape, np.nan)
            fn(pred, target, out=out, **kw)
            assert (out[bad] == 0).all() and np.isfinite(out).all()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", CLASS_NAMES)
def test_ignored_rows_with_nan_or_inf_weights_contribute_nothing(impl, name):
    """An ignored position contributes 0 whatever its sample weight (NaN, inf,
    negative): the result is that of the same batch with weight 1 there."""
    fn = getattr(impl, name)
    pred = make(name, "index", seed=2)[0]
    sw = np.array([1.0, np.nan, 2.0, 0.5, np.inf, 1.5])    # rows 1 and 4 have label 2
    plain = np.where(LABELS == 2, 1.0, sw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for reduction in REDUCTIONS:
            got = fn(pred, LABELS, ignore_index=2, sample_weight=sw, reduction=reduction)
            want = fn(pred, LABELS, ignore_index=2, sample_weight=plain, reduction=reduction)
            assert_same_result(got, want, reduction)
            assert np.isfinite(split(got)[0]).all()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_all_zero_weights_give_nan_mean_without_warning(impl, name, kind):
    """All sample weights 0: "mean" is nan (0/0), "sum" 0, "none" zeros and
    every gradient entry exactly 0; no exception and no warning."""
    fn = getattr(impl, name)
    pred, target = make(name, kind)
    sw = np.zeros(N)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, grad_mean = split(fn(pred, target, sample_weight=sw))
        total, grad_sum = split(fn(pred, target, sample_weight=sw, reduction="sum"))
        rows, grad_none = split(fn(pred, target, sample_weight=sw, reduction="none"))
    assert type(mean) is np.float64 and np.isnan(mean)
    assert type(total) is np.float64 and total == 0.0
    assert rows.shape == (N,) and (rows == 0).all()
    for grad in (grad_mean, grad_sum, grad_none):
        if grad is not None:
            assert (grad == 0).all()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_negative_weights_are_allowed(impl, name, kind):
    """Negative sample weights are no error: loss and gradient follow the
    formulas (the divisor sum s_i w_i may be smaller than some terms)."""
    fn = getattr(impl, name)
    pred, target = make(name, kind, seed=5)
    sw = np.array([1.0, -0.5, 2.0, -1.0, 0.5, 1.5])
    for reduction in REDUCTIONS:
        check_contract(fn, pred, target, {"reduction": reduction, "sample_weight": sw})
    if kind == "index":
        check_contract(fn, pred, target, {"sample_weight": sw, "weight": WEIGHT,
                                          "label_smoothing": 0.1})


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_weights_that_cancel_give_an_ieee_division_by_zero(impl, name, kind):
    """Sample weights summing to exactly 0 (1, -1, 2, -2): "mean" divides by
    0, +-inf or nan as IEEE gives, the gradient entries likewise; "sum" and
    "none" are finite; no warning."""
    fn = getattr(impl, name)
    pred, target = make(name, kind, shape=(4, C), seed=6)
    sw = np.array([1.0, -1.0, 2.0, -2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = split(fn(pred, target, sample_weight=sw))
        want_loss, want_grad = contract(base_name(name), pred, target, sample_weight=sw)
        assert not np.isfinite(loss)
        np.testing.assert_array_equal(loss, want_loss)
        if grad is not None:
            assert not np.isfinite(grad).any()
            finite_numerator = ~np.isnan(want_grad)
            np.testing.assert_array_equal(grad[finite_numerator], want_grad[finite_numerator])
            assert np.isnan(grad[~finite_numerator]).all()
        for reduction in ("sum", "none"):
            assert np.isfinite(split(fn(pred, target, sample_weight=sw,
                                        reduction=reduction))[0]).all()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_nan_weight_of_a_counted_row_propagates(impl, name, kind):
    """A NaN sample weight of a counted row makes "mean" and "sum" NaN and,
    through the divisor, every gradient entry of every counted row of "mean";
    rows with weight 0 (and ignored rows) keep exactly 0."""
    fn = getattr(impl, name)
    pred, target = make(name, kind, seed=8)
    sw = np.array([1.0, np.nan, 2.0, 0.0, 0.5, 1.5])
    kw = {"sample_weight": sw}
    zero_rows = [3]
    if kind == "index":
        target = LABELS
        kw["ignore_index"] = 2           # rows 1 (the NaN weight, ignored) and 4
        sw[0] = np.nan                   # row 0 counts
        zero_rows = [1, 3, 4]
    counted = [i for i in range(N) if i not in zero_rows]
    loss, grad = split(fn(pred, target, **kw))
    assert np.isnan(loss)
    assert np.isnan(split(fn(pred, target, reduction="sum", **kw))[0])
    rows = split(fn(pred, target, reduction="none", **kw))[0]
    nan_row = 0 if kind == "index" else 1
    assert np.isnan(rows[nan_row])
    assert np.isfinite(np.delete(rows, nan_row)).all()
    if grad is not None:
        assert np.isnan(grad[counted]).all()
        assert (grad[zero_rows] == 0).all()


# ---------------------------------------------------------------------------
# accepted forms
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_weight_dtypes_are_converted_to_the_computation_dtype(impl, name, kind):
    """bool, int, float16, float32, big-endian and list weights give the bits
    of the same values as float64 weights for float64 pred; for float32 pred a
    float64 weight gives the bits of the weight rounded to float32; weights of
    1 give the unweighted result."""
    fn = getattr(impl, name)
    pred, target = make(name, kind, seed=1)
    ints = np.array([1, 0, 3, 2, 0, 1])
    for reduction in REDUCTIONS:
        want = fn(pred, target, reduction=reduction, sample_weight=ints.astype(np.float64))
        for sw in (ints.astype(np.int8), ints.astype(np.uint64), ints.astype(np.float16),
                   ints.astype(np.float32), ints.tolist(), ints.astype(">f8")):
            assert_same_result(fn(pred, target, reduction=reduction, sample_weight=sw), want,
                               f"{reduction} {np.asarray(sw).dtype}")
        flags = ints > 0
        assert_same_result(fn(pred, target, reduction=reduction, sample_weight=flags),
                           fn(pred, target, reduction=reduction,
                              sample_weight=flags.astype(np.float64)), "bool")
        # weights of 1 are no weights (to rounding: the sums may be grouped otherwise)
        ones_loss, ones_grad = split(fn(pred, target, reduction=reduction,
                                        sample_weight=np.ones(N)))
        plain_loss, plain_grad = split(fn(pred, target, reduction=reduction))
        assert_close(ones_loss, plain_loss, np.float64, 8.0)
        if plain_grad is not None:
            assert_close(ones_grad, plain_grad, np.float64)
        p32 = pred.astype(np.float32)
        sw64 = np.array([0.1, 1.0 / 3.0, 2.7, 0.0, 1e-3, 5.5])
        assert_same_result(fn(p32, target, reduction=reduction, sample_weight=sw64),
                           fn(p32, target, reduction=reduction,
                              sample_weight=sw64.astype(np.float32)), "float32")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", CLASS_NAMES)
def test_one_sample_takes_a_scalar_weight(impl, name):
    """A 1-D pred has positions' shape (): a Python float, a NumPy scalar or a
    0-d array is its sample weight, multiplying "sum", "none" and the
    gradient; "mean" is unchanged (s l / s)."""
    fn = getattr(impl, name)
    pred = make(name, "index", shape=(C,))[0]
    for reduction in REDUCTIONS:
        want = contract(base_name(name), pred, 2, reduction=reduction, sample_weight=2.5)
        for sw in (2.5, np.float32(2.5), np.array(2.5)):
            loss, grad = split(fn(pred, 2, reduction=reduction, sample_weight=sw))
            assert_close(loss, want[0], np.float64)
            if grad is not None:
                assert_close(grad, want[1], np.float64)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_sample_weight_of_another_shape_names_both_shapes(impl, name):
    """sample_weight must have exactly the positions' shape (no broadcasting,
    not pred's shape, not the positions of another axis): ValueError naming
    sample_weight, its shape and the positions' shape."""
    kind = "dense" if is_squared(name) else "index"
    for pred_shape, axis, sw_shape in [
            ((N, C), -1, (N - 1,)), ((N, C), -1, (N, 1)), ((N, C), -1, (1, N)),
            ((N, C), -1, (N, C)), ((N, C), -1, ()), ((N, C), 0, (N,)), ((C,), -1, (1,)),
            ((2, 3, 4), 1, (2, 3)), ((2, 3, 4), 1, (4, 2)), ((2, 3, 4), 1, (2, 1, 4))]:
        pred, target = make(name, kind, shape=pred_shape, axis=axis)
        positions = np.moveaxis(pred, axis, -1).shape[:-1]
        with pytest.raises(ValueError) as info:
            getattr(impl, name)(pred, target, axis=axis, sample_weight=np.ones(sw_shape))
        msg = str(info.value)
        assert "sample_weight" in msg and str(sw_shape) in msg and str(positions) in msg, msg


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_python_scalar_weight_of_a_batch_is_a_value_error(impl, name):
    """A Python float is a weight only for one sample: with N positions it is
    a ValueError (no broadcasting)."""
    kind = "dense" if is_squared(name) else "index"
    pred, target = make(name, kind)
    with pytest.raises(ValueError, match="sample_weight"):
        getattr(impl, name)(pred, target, sample_weight=1.0)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("sw", [np.ones(N, np.complex128), np.array(["1"] * N),
                                np.array([1.0] * N, dtype=object)],
                         ids=["complex", "str", "object"])
def test_sample_weight_of_a_non_real_dtype_is_a_type_error(impl, name, sw):
    """complex, str and object sample weights: TypeError naming the dtype."""
    kind = "dense" if is_squared(name) else "index"
    pred, target = make(name, kind)
    with pytest.raises(TypeError) as info:
        getattr(impl, name)(pred, target, sample_weight=sw)
    msg = str(info.value)
    assert str(sw.dtype) in msg and "sample_weight" in msg, msg


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", CLASS_NAMES)
def test_sample_weight_errors_come_after_target_and_weight_before_out_and_labels(impl, name):
    """The order of the checks: the target's shape and the class weight
    before sample_weight; sample_weight before out and before the labels (a
    bad label with a bad sample_weight raises the sample_weight error)."""
    fn = getattr(impl, name)
    pred = make(name, "index")[0]
    bad_labels = np.array([0, 99, 1, -1, 2, 3])
    bad_sw = np.ones(N + 1)
    err = raised(lambda: fn(pred, bad_labels, sample_weight=bad_sw))
    assert type(err) is ValueError and "sample_weight" in str(err), repr(err)
    err = raised(lambda: fn(pred, bad_labels, sample_weight=np.ones(N, np.complex64)))
    assert type(err) is TypeError and "sample_weight" in str(err), repr(err)
    err = raised(lambda: fn(pred, np.zeros(N + 2, np.int64), sample_weight=bad_sw))
    assert type(err) is ValueError and str((N + 2,)) in str(err), repr(err)
    err = raised(lambda: fn(pred, LABELS, weight=np.ones(C + 1), sample_weight=bad_sw))
    assert type(err) is ValueError and "sample_weight" not in str(err), repr(err)
    if name.endswith("_and_grad"):
        out = np.full(pred.shape, 3.0, np.float32)
        err = raised(lambda: fn(pred, LABELS, sample_weight=bad_sw, out=out))
        assert type(err) is ValueError and "sample_weight" in str(err), repr(err)
        assert (out == 3.0).all()
        out = np.full(pred.shape, 3.0)
        err = raised(lambda: fn(pred, bad_labels, sample_weight=np.ones(N), out=out))
        assert type(err) is IndexError, repr(err)
        assert (out == 3.0).all()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ["mean_squared_error", "mean_squared_error_and_grad"])
def test_squared_error_sample_weight_comes_before_out(impl, name):
    """For the squared error too, a bad sample_weight shape is reported
    before a bad out."""
    pred, target = make(name, "dense")
    err = raised(lambda: getattr(impl, name)(pred, target, sample_weight=np.ones(N + 1),
                                             **({"out": np.zeros(pred.shape, np.float32)}
                                                if name.endswith("grad") else {})))
    assert type(err) is ValueError and "sample_weight" in str(err), repr(err)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_inputs_are_not_modified(impl, name, kind):
    """pred, target, weight and sample_weight are left as they were."""
    pred, target = make(name, kind, shape=(3, C, 2), axis=1)
    sw = np.array([[1.0, 0.0], [2.0, -1.0], [0.5, np.nan]])
    weight = np.linspace(1.0, 2.0, C)
    kw = {} if is_squared(name) else {"weight": weight}
    copies = [a.copy() for a in (pred, target, sw, weight)]
    getattr(impl, name)(pred, target, axis=1, sample_weight=sw, reduction="none", **kw)
    for before, after in zip(copies, (pred, target, sw, weight)):
        np.testing.assert_array_equal(before, after)


# ---------------------------------------------------------------------------
# central differences
# ---------------------------------------------------------------------------

def fd_cases():
    for name in LOSS_NAMES:
        for kind in (["dense"] if is_squared(name) else ["index", "dense"]):
            for shape, axis in (((N, C), -1), ((2, 3, 3), 1)):
                yield pytest.param(name, kind, shape, axis,
                                   id=f"{name}-{kind}-{len(shape)}d")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind,shape,axis", list(fd_cases()))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_gradient_matches_central_differences(impl, name, kind, shape, axis,
                                                       reduction):
    """With sample weights (a zero and a negative one among them) and class
    options, the gradient is the central difference of the loss (of the sum
    of "none")."""
    pred, target = make(name, kind, shape=shape, axis=axis, seed=12)
    if is_probs(name):
        pred = 0.2 + 0.8 * (pred - 0.05) / 0.95
    positions = np.moveaxis(pred, axis, -1).shape[:-1]
    sw = np.linspace(-0.5, 2.0, int(np.prod(positions))).reshape(positions)
    sw.reshape(-1)[2] = 0.0
    kw = {"reduction": reduction, "axis": axis, "sample_weight": sw}
    if not is_squared(name):
        kw.update(weight=np.linspace(0.5, 2.0, shape[axis]), label_smoothing=0.1)
    loss_fn = getattr(impl, name)
    _, grad = getattr(impl, name + "_and_grad")(pred, target, **kw)
    h = 1e-6
    fd = np.zeros_like(pred)
    for idx in np.ndindex(pred.shape):
        xp, xm = pred.copy(), pred.copy()
        xp[idx] += h
        xm[idx] -= h
        fd[idx] = (np.sum(loss_fn(xp, target, **kw)) - np.sum(loss_fn(xm, target, **kw))) / (2 * h)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)
