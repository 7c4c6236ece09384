"""Binary cross-entropy, element-wise: ``binary_cross_entropy`` (probabilities),
``sigmoid_binary_cross_entropy`` (logits) and their ``*_and_grad`` gradients.

- PyTorch's ``F.binary_cross_entropy`` and ``F.binary_cross_entropy_with_logits``,
  every reduction, losses and autograd gradients, float32 and float64, 1-D,
  2-D and 4-D inputs, ``weight`` and ``pos_weight`` per column, per channel
  ``(C, 1, 1)`` and full;
- ``pos_weight`` on probabilities against the formula written out here;
- scikit-learn's ``log_loss`` with sample weights; optax's published values
  of ``sigmoid_binary_cross_entropy``; Keras's label-smoothing rule;
- extremes: logits of +-1e4 and +-inf, NaN, probabilities 0 and 1 with
  ``eps=0``, soft targets, empty and 0-d inputs, without a warning;
- sample weights (exact zeros, the divisor of "mean", 1-D pred, shapes);
- central differences of every gradient; every error, its message and the
  order of the checks; dtypes (float32, float16, bfloat16, integers, bool)
  and ``out``; inputs never modified;
- hypothesis: ranks 0 to 4, dtypes, broadcast weights and reductions against
  the contract's formulas written out below (not fastloss.reference), and
  the compiled functions against the NumPy ones.

Both ``fastloss`` and ``fastloss.reference`` must pass every test.
"""
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss
import fastloss.reference

# no warning may escape from either implementation (torch, sklearn included)
pytestmark = pytest.mark.filterwarnings("error")

IMPLS = [pytest.param(fastloss, id="fastloss"),
         pytest.param(fastloss.reference, id="reference")]
REDUCTIONS = ["mean", "sum", "none"]
KINDS = ["probs", "logits"]
LOSS_OF_KIND = {"probs": "binary_cross_entropy", "logits": "sigmoid_binary_cross_entropy"}
LOSS_NAMES = list(LOSS_OF_KIND.values())
GRAD_NAMES = [f"{name}_and_grad" for name in LOSS_NAMES]
ALL_NAMES = LOSS_NAMES + GRAD_NAMES


def kind_of(name):
    return "probs" if name.startswith("binary") else "logits"


def loss_fn(impl, kind):
    return getattr(impl, LOSS_OF_KIND[kind])


def grad_fn(impl, kind):
    return getattr(impl, LOSS_OF_KIND[kind] + "_and_grad")


def split(result):
    """(loss, gradient or None) of a loss's or a gradient function's result."""
    return result if isinstance(result, tuple) else (result, None)


# ---------------------------------------------------------------------------
# the contract's formulas, in float64 on the inputs rounded to the
# computation dtype (written independently of fastloss.reference)
# ---------------------------------------------------------------------------

def computation_dtype(pred):
    dt = np.asarray(pred).dtype
    if dt == np.float32 or (dt.itemsize == 2 and dt.kind in "fV"):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def rounded(a, cdt):
    with np.errstate(over="ignore"):
        return np.asarray(a).astype(cdt).astype(np.float64)


def sigmoid(x):
    """sigmoid(x) = exp(-softplus(-x)), accurate for every x (+-inf included)."""
    return np.exp(-np.logaddexp(0.0, -x))


def contract(kind, pred, target, *, reduction="mean", eps=1e-7, weight=None,
             pos_weight=None, label_smoothing=0.0, sample_weight=None):
    """(loss, gradient) of the contract, unrounded float64.

    t' = t (1 - s) + s / 2, a = pw t', b = 1 - t'; per element
    l = -w (a log(p + eps) + b log((1 - p) + eps)) or
    l = w (a softplus(-x) + b softplus(x)); a term whose coefficient (w a or
    w b) has a zero factor, or a zero sample weight, gives exactly 0; "mean"
    divides by M sum_i s_i.
    """
    pred = np.asarray(pred)
    cdt = computation_dtype(pred)
    x = rounded(pred, cdt)
    t = rounded(target, cdt)
    with np.errstate(all="ignore"):
        tp = t * (1.0 - label_smoothing) + label_smoothing / 2.0
        w = np.ones_like(x) if weight is None else np.broadcast_to(rounded(weight, cdt), x.shape)
        pw = (np.ones_like(x) if pos_weight is None
              else np.broadcast_to(rounded(pos_weight, cdt), x.shape))
        a = np.where((tp == 0) | (pw == 0), 0.0, pw * tp)
        b = 1.0 - tp
        # the coefficients of the two terms, 0 where any factor is 0
        ca = np.where((a == 0) | (w == 0), 0.0, w * a)
        cb = np.where((b == 0) | (w == 0), 0.0, w * b)
        if kind == "probs":
            la, lb = -np.log(x + eps), -np.log((1.0 - x) + eps)
            ga, gb = -1.0 / (x + eps), 1.0 / ((1.0 - x) + eps)
        else:
            la, lb = np.logaddexp(0.0, -x), np.logaddexp(0.0, x)
            ga, gb = -sigmoid(-x), sigmoid(x)

        def weigh(part_a, part_b):
            return np.where(ca == 0, 0.0, ca * part_a) + np.where(cb == 0, 0.0, cb * part_b)

        if sample_weight is None:
            s = np.ones(x.shape[:1])
            divisor = float(x.size)
        else:
            s = rounded(sample_weight, cdt)
            divisor = float(np.prod(x.shape[1:])) * s.sum()
        s = s.reshape(s.shape + (1,) * max(x.ndim - 1, 0))
        losses = np.where(s == 0, 0.0, s * weigh(la, lb))
        d = divisor if reduction == "mean" else 1.0
        grad = np.where(s == 0, 0.0, s * weigh(ga, gb) / d)
        if reduction == "none":
            loss = losses
        elif reduction == "sum":
            loss = losses.sum()
        else:
            loss = losses.sum() / divisor
    return loss, grad


def assert_close(got, want, dtype, rtol=None, atol=0.0, what=""):
    """``got`` (rounded to ``dtype`` by the implementation) against ``want``
    (float64, rounded here): NaN and infinite entries in the same places,
    the rest within ``rtol |want| + atol`` (rtol 1e-12 float64, 1e-5 float32
    by default)."""
    dtype = np.dtype(dtype)
    if rtol is None:
        rtol = 1e-12 if dtype == np.float64 else 1e-5
    got = np.asarray(got).astype(np.float64)
    with np.errstate(over="ignore"):
        want = np.asarray(want, np.float64).astype(dtype).astype(np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert np.array_equal(np.isnan(got), np.isnan(want)), f"{what}: NaN positions differ"
    inf = np.isinf(got) | np.isinf(want)
    assert np.array_equal(got[inf], want[inf]), f"{what}: infinite entries differ"
    fin = ~(inf | np.isnan(want))
    err = np.abs(got[fin] - want[fin])
    bound = rtol * np.abs(want[fin]) + (np.broadcast_to(atol, got.shape)[fin]
                                        if np.ndim(atol) else atol)
    bad = err > bound
    assert not bad.any(), (f"{what}: {int(bad.sum())} entries off, e.g. got "
                           f"{got[fin][bad][:3]} want {want[fin][bad][:3]}")


def same_bits(got, want, what=""):
    """Equal type, dtype, shape and bits (NaNs in the same places)."""
    assert type(got) is type(want), f"{what}: {type(got)} != {type(want)}"
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype and g.shape == w.shape, f"{what}: {g.dtype}{g.shape}"
    assert g.tobytes() == w.tobytes(), what


def problem(kind, shape, seed=0, dtype=np.float64, low=0.05):
    """(pred, soft target in [0, 1]) of ``shape``: probabilities in
    [low, 1 - low] or logits of spread 2."""
    rng = np.random.default_rng(seed)
    if kind == "probs":
        pred = rng.uniform(low, 1.0 - low, shape)
    else:
        pred = rng.normal(0.0, 2.0, shape)
    target = rng.uniform(0.0, 1.0, shape)
    return np.asarray(pred, dtype), target


def weights(shape, form, seed=1):
    """Positive weights of ``form``: "column" pred.shape[-1:], "channel"
    (C, 1, 1) of a 4-D pred, "full" pred's shape, "scalar" 0-d."""
    rng = np.random.default_rng(seed)
    wshape = {"column": shape[-1:], "channel": (shape[1], 1, 1) if len(shape) == 4 else None,
              "full": shape, "scalar": ()}[form]
    return rng.uniform(0.3, 2.5, wshape)


# ---------------------------------------------------------------------------
# PyTorch
# ---------------------------------------------------------------------------

# (shape, weight form, pos_weight form): 1-D, 2-D and 4-D (N, C, H, W)
TORCH_CASES = [
    ((7,), None, None),
    ((7,), "full", "column"),
    ((6, 5), None, None),
    ((6, 5), "column", "column"),
    ((6, 5), "full", "full"),
    ((6, 5), "scalar", "full"),
    ((2, 3, 4, 5), "channel", "channel"),
    ((2, 3, 4, 5), "column", "full"),
    ((2, 3, 4, 5), "full", "channel"),
    ((2, 3, 4, 5), None, "column"),
]
TORCH_IDS = [f"{len(s)}d-w_{w}-pw_{p}" for s, w, p in TORCH_CASES]


def torch_result(f, pred, target, reduction, **kwargs):
    """(loss, autograd gradient) of the torch function ``f``: the gradient of
    the loss, or of its sum for "none"."""
    torch = pytest.importorskip("torch")
    x = torch.tensor(pred, requires_grad=True)
    t = torch.tensor(target.astype(pred.dtype))
    kw = {k: torch.tensor(np.asarray(v, pred.dtype)) for k, v in kwargs.items() if v is not None}
    loss = f(x, t, reduction=reduction, **kw)
    (loss.sum() if reduction == "none" else loss).backward()
    return loss.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,wform,pwform", TORCH_CASES, ids=TORCH_IDS)
def test_probabilities_match_torch_binary_cross_entropy(impl, dtype, reduction, shape, wform,
                                                        pwform):
    """F.binary_cross_entropy (its log clamp at -100 is out of reach for
    probabilities in [0.01, 0.99]) is binary_cross_entropy with eps=0:
    losses and gradients, per-column, per-channel and full weights."""
    F = pytest.importorskip("torch.nn.functional")
    pred, target = problem("probs", shape, seed=11, dtype=dtype, low=0.01)
    weight = None if wform is None else weights(shape, wform)
    want_loss, want_grad = torch_result(F.binary_cross_entropy, pred, target, reduction,
                                        weight=weight)
    kwargs = {"reduction": reduction, "eps": 0.0, "weight": weight}
    loss = impl.binary_cross_entropy(pred, target, **kwargs)
    loss2, grad = impl.binary_cross_entropy_and_grad(pred, target, **kwargs)
    same_bits(loss2, loss, "the gradient function's loss")
    assert (type(loss) is np.ndarray) == (reduction == "none")
    assert np.asarray(loss).dtype == dtype and grad.dtype == dtype and grad.shape == shape
    atol = 1e-13 if dtype == np.float64 else 1e-6
    assert_close(loss, want_loss, dtype, atol=atol, what="loss")
    assert_close(grad, want_grad, dtype, atol=atol, what="gradient")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,wform,pwform", TORCH_CASES, ids=TORCH_IDS)
def test_logits_match_torch_binary_cross_entropy_with_logits(impl, dtype, reduction, shape,
                                                             wform, pwform):
    """F.binary_cross_entropy_with_logits with weight and pos_weight in every
    broadcasting form: losses and gradients."""
    F = pytest.importorskip("torch.nn.functional")
    pred, target = problem("logits", shape, seed=12, dtype=dtype)
    weight = None if wform is None else weights(shape, wform, seed=2)
    pos_weight = None if pwform is None else weights(shape, pwform, seed=3)
    want_loss, want_grad = torch_result(F.binary_cross_entropy_with_logits, pred, target,
                                        reduction, weight=weight, pos_weight=pos_weight)
    kwargs = {"reduction": reduction, "weight": weight, "pos_weight": pos_weight}
    loss = impl.sigmoid_binary_cross_entropy(pred, target, **kwargs)
    loss2, grad = impl.sigmoid_binary_cross_entropy_and_grad(pred, target, **kwargs)
    same_bits(loss2, loss, "the gradient function's loss")
    assert np.asarray(loss).dtype == dtype and grad.dtype == dtype and grad.shape == shape
    atol = 1e-13 if dtype == np.float64 else 1e-6
    assert_close(loss, want_loss, dtype, atol=atol, what="loss")
    assert_close(grad, want_grad, dtype, atol=atol, what="gradient")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("s", [0.1, 0.5, 1.0])
def test_label_smoothing_is_keras_rule_and_torch_on_the_smoothed_target(impl, kind, s):
    """label_smoothing=s equals the unsmoothed loss of t' = t (1 - s) + 0.5 s
    (Keras's rule), which is PyTorch's loss of t'."""
    F = pytest.importorskip("torch.nn.functional")
    pred, _ = problem(kind, (5, 4), seed=13, low=0.01)
    target = np.random.default_rng(5).integers(0, 2, (5, 4)).astype(np.float64)
    target[0, :2] = [0.3, 0.8]                      # soft targets are smoothed too
    smoothed = target * (1 - s) + 0.5 * s
    torch_f = F.binary_cross_entropy if kind == "probs" else F.binary_cross_entropy_with_logits
    kw = {"eps": 0.0} if kind == "probs" else {}
    for reduction in REDUCTIONS:
        loss, grad = grad_fn(impl, kind)(pred, target, reduction=reduction, label_smoothing=s,
                                         **kw)
        want_loss, want_grad = torch_result(torch_f, pred, smoothed, reduction)
        assert_close(loss, want_loss, np.float64, atol=1e-13, what=reduction)
        assert_close(grad, want_grad, np.float64, atol=1e-13, what=reduction)
        plain = split(grad_fn(impl, kind)(pred, smoothed, reduction=reduction, **kw))
        assert_close(loss, plain[0], np.float64, what=reduction)
    # one value by hand: t = 1, s = 0.2 -> t' = 0.9
    if kind == "probs":
        got = impl.binary_cross_entropy(np.array([0.7]), np.array([1.0]), eps=0.0,
                                        label_smoothing=0.2)
        want = -(0.9 * np.log(0.7) + 0.1 * np.log(0.3))
    else:
        got = impl.sigmoid_binary_cross_entropy(np.array([0.5]), np.array([1.0]),
                                                label_smoothing=0.2)
        want = 0.9 * np.log1p(np.exp(-0.5)) + 0.1 * (0.5 + np.log1p(np.exp(-0.5)))
    assert_close(got, want, np.float64)
    # s = 1: t' = 1/2 whatever t
    a = loss_fn(impl, kind)(pred, np.zeros_like(pred), label_smoothing=1.0, **kw)
    b = loss_fn(impl, kind)(pred, np.ones_like(pred), label_smoothing=1.0, **kw)
    same_bits(a, b, "label_smoothing=1")


# ---------------------------------------------------------------------------
# pos_weight on probabilities, scikit-learn, optax
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [0.0, 1e-7, 1e-2])
def test_pos_weight_on_probabilities_is_the_written_out_formula(impl, reduction, eps):
    """-w (pw t log(p + eps) + (1 - t) log(1 - p + eps)) and its derivative
    -w (pw t / (p + eps) - (1 - t) / (1 - p + eps)), pw per column."""
    p, t = problem("probs", (4, 3), seed=21)
    w = np.array([[0.5], [1.0], [2.0], [1.5]])      # (4, 1): broadcasts over columns
    pw = np.array([3.0, 0.25, 1.0])
    elementwise = -w * (pw * t * np.log(p + eps) + (1 - t) * np.log(1 - p + eps))
    d = -w * (pw * t / (p + eps) - (1 - t) / (1 - p + eps))
    if reduction == "mean":
        want, want_grad = elementwise.mean(), d / p.size
    elif reduction == "sum":
        want, want_grad = elementwise.sum(), d
    else:
        want, want_grad = elementwise, d
    loss, grad = impl.binary_cross_entropy_and_grad(p, t, reduction=reduction, eps=eps,
                                                    weight=w, pos_weight=pw)
    assert_close(loss, want, np.float64)
    assert_close(grad, want_grad, np.float64)
    unweighted = impl.binary_cross_entropy(p, t, reduction="sum", eps=eps, weight=w)
    assert not np.isclose(float(np.sum(loss)), float(unweighted) / (
        p.size if reduction == "mean" else 1))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn_log_loss_with_sample_weights(impl, seed):
    """sklearn's log_loss(t, p, sample_weight=s) of 1-D p (P(class 1)) is the
    "mean" of binary_cross_entropy with eps=0 (each element its own sample,
    divisor sum(s)); normalize=False is the "sum"."""
    log_loss = pytest.importorskip("sklearn.metrics").log_loss
    rng = np.random.default_rng(seed)
    n = 50
    p = rng.uniform(0.01, 0.99, n)
    t = rng.integers(0, 2, n)
    t[:2] = [0, 1]                                  # both classes present
    s = rng.uniform(0.0, 3.0, n)
    s[3] = 0.0
    want = log_loss(t, p, sample_weight=s)
    got = impl.binary_cross_entropy(p, t, eps=0.0, sample_weight=s)
    np.testing.assert_allclose(float(got), want, rtol=1e-12)
    want_sum = log_loss(t, p, sample_weight=s, normalize=False)
    got_sum = impl.binary_cross_entropy(p, t, eps=0.0, sample_weight=s, reduction="sum")
    np.testing.assert_allclose(float(got_sum), want_sum, rtol=1e-12)
    # and without sample weights: the plain mean
    np.testing.assert_allclose(float(impl.binary_cross_entropy(p, t, eps=0.0)),
                               log_loss(t, p), rtol=1e-12)


# optax's published values: google-deepmind/optax, optax/losses/_classification_test.py,
# class SigmoidCrossEntropyTest: jnp.mean(sigmoid_binary_cross_entropy(preds,
# labels)) == expected, rtol=1e-6, atol=1e-6. optax returns element-wise
# losses (our "none"); the mean of them is our "mean".
OPTAX_CASES = [
    ([-1e09, -1e-09], [1.0, 0.0], 5e08),
    ([-1e09, -1e-09], [0.0, 1.0], 0.3465736),
    ([1e09, 1e-09], [1.0, 0.0], 0.3465736),
    ([1e09, 1e-09], [0.0, 1.0], 5e08),
    ([-1e09, 1e-09], [1.0, 0.0], 5e08),
    ([-1e09, 1e-09], [0.0, 1.0], 0.3465736),
    ([1e09, -1e-09], [1.0, 0.0], 0.3465736),
    ([1e09, -1e-09], [0.0, 1.0], 5e08),
    ([0.0, 0.0], [1.0, 0.0], 0.6931472),
    ([0.0, 0.0], [0.0, 1.0], 0.6931472),
]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("preds,labels,expected", OPTAX_CASES)
def test_optax_published_values(impl, preds, labels, expected):
    preds, labels = np.array(preds), np.array(labels)
    elementwise = impl.sigmoid_binary_cross_entropy(preds, labels, reduction="none")
    np.testing.assert_allclose(float(np.mean(elementwise)), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(float(impl.sigmoid_binary_cross_entropy(preds, labels)),
                               expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("impl", IMPLS)
def test_optax_formula_by_hand(impl):
    """optax's documented element-wise loss, -t log sigmoid(x) - (1 - t)
    log(1 - sigmoid(x)), worked out by hand for logits [1, -1, 0] and labels
    [1, 0, 1]: log1p(e^-1), log1p(e^-1), log 2."""
    got = impl.sigmoid_binary_cross_entropy(np.array([1.0, -1.0, 0.0]),
                                            np.array([1.0, 0.0, 1.0]), reduction="none")
    want = np.array([0.31326168751822286, 0.31326168751822286, 0.6931471805599453])
    np.testing.assert_allclose(got, want, rtol=1e-15)


@pytest.mark.skipif(np.finfo(np.longdouble).nmant < 63,
                    reason="needs x87 extended precision for the exact softplus")
def test_softplus_is_within_two_ulp_of_the_extended_precision_value():
    """Each element of the float64 logits' loss is max(-+x, 0) +
    log1p(exp(-|x|)), within 2 ulp of that formula in 64-bit-mantissa
    arithmetic: over [-40, 40], densely where exp(-|x|) crosses the
    kernel's reduction points (1/2 and sqrt(2) - 1, |x| near 0.69 and
    0.88), and at 0."""
    rng = np.random.default_rng(11)
    x = np.concatenate([np.linspace(-40.0, 40.0, 40001), rng.uniform(-1.2, 1.2, 40000),
                        [0.0, -0.0, np.log(2.0), -np.log(2.0), 0.8813735870195430,
                         -0.8813735870195430]])
    xl = x.astype(np.longdouble)
    log1p_e = np.log1p(np.exp(-np.abs(xl)))
    for target in (0.0, 1.0):
        t = np.full_like(x, target)
        # t = 1: softplus(-x); t = 0: softplus(x)
        want = np.maximum(-xl if target else xl, 0) + log1p_e
        got = fastloss.sigmoid_binary_cross_entropy(x, t, reduction="none")
        err = np.abs(got.astype(np.longdouble) - want)
        ulps = err / np.spacing(want.astype(np.float64)).astype(np.longdouble)
        worst = int(np.argmax(ulps))
        assert ulps[worst] <= 2.0, (target, x[worst], float(ulps[worst]))


# ---------------------------------------------------------------------------
# extremes: infinities, NaN, exact 0 and 1, soft, empty and 0-d inputs
# ---------------------------------------------------------------------------

def quietly(call):
    """call() with every NumPy floating-point event and every warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            return call()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huge_logits_give_finite_losses_without_warning(impl, dtype, reduction):
    x = np.array([1e4, -1e4, 1e4, -1e4], dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0])
    loss, grad = quietly(lambda: impl.sigmoid_binary_cross_entropy_and_grad(
        x, t, reduction=reduction))
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    elementwise = impl.sigmoid_binary_cross_entropy(x, t, reduction="none")
    np.testing.assert_array_equal(elementwise, np.array([0.0, 0.0, 1e4, 1e4], dtype))
    d = {"mean": 4.0, "sum": 1.0, "none": 1.0}[reduction]
    np.testing.assert_array_equal(grad, np.array([0.0, 0.0, 1.0, -1.0], dtype) / dtype(d))
    if reduction != "none":
        assert float(loss) == 2e4 / d


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_infinite_logits(impl, dtype):
    """An infinite logit whose term has a zero coefficient contributes exactly
    0 (loss and gradient); with a nonzero coefficient the loss is inf and the
    gradient finite; weight 0 or pos_weight 0 zero the term too."""
    inf = np.inf
    x = np.array([inf, -inf, inf, -inf, inf, -inf, -inf], dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 1.0])
    loss, grad = quietly(lambda: impl.sigmoid_binary_cross_entropy_and_grad(
        x, t, reduction="none"))
    np.testing.assert_array_equal(loss, np.array([0, 0, inf, inf, inf, inf, inf], dtype))
    np.testing.assert_array_equal(grad, np.array([0, 0, 1, -1, 0.5, -0.5, -1], dtype))
    # weight 0 on the infinite terms, pos_weight 0 on the last one (t = 1)
    w = np.array([1, 1, 0, 0, 0, 0, 1.0])
    pw = np.array([1, 1, 1, 1, 1, 1, 0.0])
    for reduction in REDUCTIONS:
        loss, grad = quietly(lambda: impl.sigmoid_binary_cross_entropy_and_grad(
            x, t, reduction=reduction, weight=w, pos_weight=pw))
        assert np.all(np.asarray(loss) == 0)
        assert np.all(grad == 0)
    assert impl.sigmoid_binary_cross_entropy(x, t, reduction="sum") == inf


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
def test_inf_or_nan_weight_times_a_zero_factor_contributes_zero(impl, kind):
    """A term's coefficient w pw t' (or w (1 - t')) with a zero factor is
    exactly 0 even where another factor is inf or NaN, as for the class
    weights of the other losses: pos_weight inf with t = 0, weight inf or NaN
    with t = 1 and pos_weight 0. Elsewhere an inf weight gives inf."""
    pred, _ = problem(kind, (4,), seed=32)
    t = np.array([0.0, 1.0, 1.0, 0.0])
    pw = np.array([np.inf, 0.0, 0.0, np.nan])
    w = np.array([1.0, np.inf, np.nan, 1.0])
    plain = grad_fn(impl, kind)(pred, t, reduction="none")
    for reduction in REDUCTIONS:
        loss, grad = quietly(lambda: grad_fn(impl, kind)(pred, t, reduction=reduction,
                                                         weight=w, pos_weight=pw))
        d = 4.0 if reduction == "mean" else 1.0
        want = plain[0] * np.array([1.0, 0.0, 0.0, 1.0])
        np.testing.assert_allclose(np.sum(loss) if reduction != "none" else loss,
                                   want.sum() / d if reduction != "none" else want,
                                   rtol=1e-15)
        np.testing.assert_allclose(grad, plain[1] * np.array([1.0, 0.0, 0.0, 1.0]) / d,
                                   rtol=1e-15)
    loss = loss_fn(impl, kind)(pred, np.ones(4), weight=np.array([np.inf, 1, 1, 1]),
                               reduction="none")
    assert loss[0] == np.inf


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
def test_nan_propagates_to_its_element_only(impl, kind):
    pred, target = problem(kind, (3, 4), seed=31)
    pred[1, 2] = np.nan
    target[2, 0] = np.nan
    loss, grad = quietly(lambda: grad_fn(impl, kind)(pred, target, reduction="none"))
    nan = np.zeros((3, 4), bool)
    nan[1, 2] = nan[2, 0] = True
    np.testing.assert_array_equal(np.isnan(loss), nan)
    np.testing.assert_array_equal(np.isnan(grad), nan)
    for reduction in ("mean", "sum"):
        assert np.isnan(loss_fn(impl, kind)(pred, target, reduction=reduction))
    # a NaN weight propagates; a zero weight, or a zero sample weight, hides a NaN
    w = np.ones((3, 4))
    w[1, 2] = w[2, 0] = 0.0
    loss, grad = grad_fn(impl, kind)(pred, target, weight=w)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert grad[1, 2] == 0 and grad[2, 0] == 0
    w[0, 0] = np.nan
    assert np.isnan(loss_fn(impl, kind)(pred, target, weight=w))
    s = np.array([1.0, 0.0, 0.0])
    loss, grad = grad_fn(impl, kind)(pred, target, sample_weight=s, reduction="none")
    assert np.all(loss[1:] == 0) and np.all(grad[1:] == 0)
    assert np.all(np.isfinite(loss[0]))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probabilities_zero_and_one_with_eps_zero(impl, dtype):
    """p in {0, 1} with eps=0: the zero-coefficient term is exactly 0 (loss
    and gradient), a nonzero coefficient on log 0 gives inf."""
    inf = np.inf
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0], dtype)
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.5])
    loss, grad = quietly(lambda: impl.binary_cross_entropy_and_grad(
        p, t, eps=0.0, reduction="none"))
    np.testing.assert_array_equal(loss, np.array([0, 0, inf, inf, inf, inf], dtype))
    np.testing.assert_array_equal(grad, np.array([1, -1, -inf, inf, -inf, inf], dtype))
    loss = quietly(lambda: impl.binary_cross_entropy(p[:2], t[:2], eps=0.0))
    assert loss == 0 and type(loss) is np.dtype(dtype).type
    # eps keeps everything finite
    loss, grad = quietly(lambda: impl.binary_cross_entropy_and_grad(p, t, eps=1e-7))
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
def test_soft_and_out_of_range_targets_follow_the_formula(impl, kind):
    """Soft targets and targets outside [0, 1] are not checked: the formula
    holds (int and bool targets too)."""
    pred, _ = problem(kind, (6,), seed=33)
    eps = {"eps": 1e-7} if kind == "probs" else {}
    for target in (np.array([0.3, 0.7, 0.5, 0.01, 0.99, 0.25]),
                   np.array([1.5, -0.5, 2.0, 0.0, 1.0, -1.0]),
                   np.array([1, 0, 1, 1, 0, 0], np.int8),
                   np.array([True, False, True, True, False, False])):
        for reduction in REDUCTIONS:
            got = grad_fn(impl, kind)(pred, target, reduction=reduction, **eps)
            want = contract(kind, pred, target, reduction=reduction, **eps)
            assert_close(got[0], want[0], np.float64, atol=1e-15, what=str(target.dtype))
            assert_close(got[1], want[1], np.float64, atol=1e-15, what=str(target.dtype))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", GRAD_NAMES)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty_input(impl, name, shape, dtype):
    """mean nan, sum 0, none empty, gradient empty; no warning."""
    fn = getattr(impl, name)
    pred = np.zeros(shape, dtype)
    sw = np.ones(shape[:1])
    for kwargs in ({}, {"sample_weight": sw}):
        mean, grad = quietly(lambda: fn(pred, pred, **kwargs))
        assert type(mean) is np.dtype(dtype).type and np.isnan(mean)
        assert grad.shape == shape and grad.dtype == dtype
        total = quietly(lambda: fn(pred, pred, reduction="sum", **kwargs))[0]
        assert type(total) is np.dtype(dtype).type and total == 0
        none = quietly(lambda: fn(pred, pred, reduction="none", **kwargs))[0]
        assert type(none) is np.ndarray and none.shape == shape and none.dtype == dtype


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
def test_zero_dimensional_input(impl, kind):
    """A 0-d pred is one sample of one element (N = M = 1); its sample
    weight is 0-d too; "none" is a 0-d array."""
    pred = np.float64(0.3 if kind == "probs" else -0.7)
    l1 = -np.log(0.3 + 1e-7) if kind == "probs" else np.log1p(np.exp(0.7))
    g1 = -1 / (0.3 + 1e-7) if kind == "probs" else -sigmoid(np.float64(0.7))
    for reduction in REDUCTIONS:
        loss, grad = grad_fn(impl, kind)(pred, 1.0, reduction=reduction)
        assert grad.shape == () and type(grad) is np.ndarray
        if reduction == "none":
            assert type(loss) is np.ndarray and loss.shape == ()
        np.testing.assert_allclose(float(loss), l1, rtol=1e-12)
        np.testing.assert_allclose(float(grad), g1, rtol=1e-12)
        loss, grad = grad_fn(impl, kind)(pred, np.array(1.0), reduction=reduction,
                                         sample_weight=np.array(2.5))
        scale = 1.0 if reduction == "mean" else 2.5   # mean: 2.5 l / 2.5
        np.testing.assert_allclose(float(loss), scale * l1, rtol=1e-12)
        np.testing.assert_allclose(float(grad), scale * g1, rtol=1e-12)
    with pytest.raises(ValueError, match=re.escape("sample_weight shape (1,) does not match ()")):
        loss_fn(impl, kind)(pred, 1.0, sample_weight=np.ones(1))


# ---------------------------------------------------------------------------
# sample weights
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
def test_zero_sample_weights_are_exact_zeros_even_for_nan_and_inf(impl, kind):
    pred, target = problem(kind, (4, 3), seed=41)
    pred[1] = [np.nan, 0.0, 1.0] if kind == "probs" else [np.nan, np.inf, -np.inf]
    target[1] = [0.5, 1.0, 0.0]
    target[3, 1] = np.nan
    s = np.array([2.0, 0.0, 0.5, 0.0])
    kw = {"eps": 0.0} if kind == "probs" else {}
    for reduction in REDUCTIONS:
        loss, grad = quietly(lambda: grad_fn(impl, kind)(pred, target, sample_weight=s,
                                                         reduction=reduction, **kw))
        assert np.all(np.isfinite(loss))
        assert np.all(grad[[1, 3]] == 0) and np.all(np.isfinite(grad))
        if reduction == "none":
            assert np.all(loss[[1, 3]] == 0)
        want = contract(kind, pred, target, reduction=reduction, sample_weight=s, **kw)
        assert_close(loss, want[0], np.float64, atol=1e-15)
        assert_close(grad, want[1], np.float64, atol=1e-15)
    # all-zero sample weights: nan mean (0 / 0), zero sum and gradient of the sum
    zeros = np.zeros(4)
    assert np.isnan(quietly(lambda: loss_fn(impl, kind)(pred, target, sample_weight=zeros,
                                                        **kw)))
    total, grad = grad_fn(impl, kind)(pred, target, sample_weight=zeros, reduction="sum", **kw)
    assert total == 0 and np.all(grad == 0)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(5,), (5, 3), (4, 2, 3), (2, 3, 2, 2)])
def test_mean_divides_by_elements_per_sample_times_the_weights_sum(impl, kind, shape):
    """"mean" = sum_i s_i l_e / (M sum_i s_i), M = prod(shape[1:]): a 1-D
    pred has one element per sample; constant weights change nothing."""
    pred, target = problem(kind, shape, seed=42)
    s = np.random.default_rng(7).uniform(0.1, 3.0, shape[0])
    elementwise = loss_fn(impl, kind)(pred, target, reduction="none")
    m = int(np.prod(shape[1:]))
    weighted = elementwise * s.reshape((-1,) + (1,) * (len(shape) - 1))
    got = loss_fn(impl, kind)(pred, target, sample_weight=s)
    np.testing.assert_allclose(float(got), weighted.sum() / (m * s.sum()), rtol=1e-12)
    got_sum = loss_fn(impl, kind)(pred, target, sample_weight=s, reduction="sum")
    np.testing.assert_allclose(float(got_sum), weighted.sum(), rtol=1e-12)
    got_none = loss_fn(impl, kind)(pred, target, sample_weight=s, reduction="none")
    np.testing.assert_allclose(got_none, weighted, rtol=1e-15)
    constant = loss_fn(impl, kind)(pred, target, sample_weight=np.full(shape[0], 4.0))
    np.testing.assert_allclose(float(constant), float(loss_fn(impl, kind)(pred, target)),
                               rtol=1e-14)
    _, grad = grad_fn(impl, kind)(pred, target, sample_weight=s)
    _, grad_sum = grad_fn(impl, kind)(pred, target, sample_weight=s, reduction="sum")
    np.testing.assert_allclose(grad, grad_sum / (m * s.sum()), rtol=1e-14)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_sample_weight_of_the_wrong_shape(impl, name):
    fn = getattr(impl, name)
    kind = kind_of(name)
    for shape, sw_shape in (((4, 3), (3,)), ((4, 3), (4, 3)), ((4, 3), (1,)), ((4, 3), ()),
                            ((4,), ()), ((4,), (4, 1)), ((2, 3, 4), (2, 3))):
        pred, target = problem(kind, shape)
        msg = (f"sample_weight shape {sw_shape} does not match {shape[:1]}, the first axis "
               f"of {kind} shape {shape}")
        with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
            fn(pred, target, sample_weight=np.ones(sw_shape))


# ---------------------------------------------------------------------------
# gradients: central differences
# ---------------------------------------------------------------------------

def central_difference(f, x, h):
    grad = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += h
        minus[idx] -= h
        grad[idx] = (f(plus) - f(minus)) / (2 * h)
    return grad


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weights", "all"])
def test_gradient_matches_central_differences(impl, kind, reduction, options):
    """The gradient of the loss ("mean", "sum") or of sum_e s_i l_e ("none")."""
    shape = (3, 2, 4)
    pred, target = problem(kind, shape, seed=51, low=0.2)
    kwargs = {"reduction": reduction}
    rng = np.random.default_rng(9)
    if options in ("weights", "all"):
        kwargs["weight"] = rng.uniform(0.5, 2.0, shape[-1])
        kwargs["pos_weight"] = rng.uniform(0.5, 3.0, (2, 1))
    if options == "all":
        kwargs["label_smoothing"] = 0.15
        kwargs["sample_weight"] = np.array([0.5, 0.0, 2.0])
        if kind == "probs":
            kwargs["eps"] = 1e-3

    def scalar(x):
        return float(np.sum(loss_fn(impl, kind)(x, target, **kwargs)))

    _, grad = grad_fn(impl, kind)(pred, target, **kwargs)
    numeric = central_difference(scalar, pred, 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)
    assert np.abs(grad).max() > 1e-3


# ---------------------------------------------------------------------------
# errors: types, messages, order
# ---------------------------------------------------------------------------

def bad_arguments(name, shape=(4, 3)):
    """The contract's checks in order: [(label, kwargs, exception, message)],
    each one a single bad argument (pred and target in kwargs)."""
    kind = kind_of(name)
    pred, target = problem(kind, shape)
    grad = name.endswith("_and_grad")
    cases = [
        ("pred complex", {"pred": pred.astype(complex)}, TypeError,
         f"unsupported dtype complex128 for {kind}: expected a real "
         "(bool, integer or floating) array"),
        ("pred object", {"pred": pred.astype(object)}, TypeError,
         f"unsupported dtype object for {kind}: expected a real "
         "(bool, integer or floating) array"),
        ("pred str", {"pred": np.full(shape, "a")}, TypeError,
         f"unsupported dtype <U1 for {kind}: expected a real "
         "(bool, integer or floating) array"),
    ]
    if kind == "probs":
        cases += [
            ("eps str", {"eps": "x"}, TypeError, "eps must be a real number, got 'x'"),
            ("eps None", {"eps": None}, TypeError, "eps must be a real number, got None"),
            ("eps < 0", {"eps": -1e-3}, ValueError, "eps must be >= 0, got -0.001"),
            ("eps nan", {"eps": float("nan")}, ValueError, "eps must be >= 0, got nan"),
        ]
    cases += [
        ("reduction", {"reduction": "avg"}, ValueError,
         "reduction must be one of 'mean', 'sum', 'none', got 'avg'"),
        ("reduction None", {"reduction": None}, ValueError,
         "reduction must be one of 'mean', 'sum', 'none', got None"),
        ("n_threads 0", {"n_threads": 0}, ValueError,
         "n_threads must be None or an int >= 1, got 0"),
        ("n_threads bool", {"n_threads": True}, ValueError,
         "n_threads must be None or an int >= 1, got True"),
        ("n_threads float", {"n_threads": 2.0}, ValueError,
         "n_threads must be None or an int >= 1, got 2.0"),
        ("smoothing", {"label_smoothing": 1.5}, ValueError,
         "label_smoothing must be in [0, 1], got 1.5"),
        ("smoothing < 0", {"label_smoothing": -0.1}, ValueError,
         "label_smoothing must be in [0, 1], got -0.1"),
        ("target complex", {"target": target.astype(complex)}, TypeError,
         "unsupported dtype complex128 for target: expected a real "
         "(bool, integer or floating) array"),
        ("target shape", {"target": target[:, 0]}, ValueError,
         f"target shape (4,) does not match {kind} shape (4, 3)"),
        ("target broadcastable", {"target": target[:1]}, ValueError,
         f"target shape (1, 3) does not match {kind} shape (4, 3)"),
        ("target transposed", {"target": target.T}, ValueError,
         f"target shape (3, 4) does not match {kind} shape (4, 3)"),
        ("weight complex", {"weight": np.ones(3, complex)}, TypeError,
         "unsupported dtype complex128 for weight: expected a real "
         "(bool, integer or floating) array"),
        ("weight shape", {"weight": np.ones(4)}, ValueError,
         f"weight shape (4,) does not broadcast to {kind} shape (4, 3)"),
        ("weight rank", {"weight": np.ones((2, 4, 3))}, ValueError,
         f"weight shape (2, 4, 3) does not broadcast to {kind} shape (4, 3)"),
        ("pos_weight complex", {"pos_weight": np.ones(3, complex)}, TypeError,
         "unsupported dtype complex128 for pos_weight: expected a real "
         "(bool, integer or floating) array"),
        ("pos_weight shape", {"pos_weight": np.ones((4, 2))}, ValueError,
         f"pos_weight shape (4, 2) does not broadcast to {kind} shape (4, 3)"),
        ("sample_weight complex", {"sample_weight": np.ones(4, complex)}, TypeError,
         "unsupported dtype complex128 for sample_weight: expected a real "
         "(bool, integer or floating) array"),
        ("sample_weight shape", {"sample_weight": np.ones(3)}, ValueError,
         f"sample_weight shape (3,) does not match (4,), the first axis of {kind} shape "
         "(4, 3)"),
    ]
    if grad:
        readonly = np.empty(shape)
        readonly.flags.writeable = False
        cases += [
            ("out list", {"out": [[0.0] * 3] * 4}, TypeError,
             "out must be a numpy.ndarray, got list"),
            ("out dtype", {"out": np.empty(shape, np.float32)}, TypeError,
             "out must have dtype float64, got float32"),
            ("out byte order", {"out": np.empty(shape, ">f8")}, TypeError,
             "out must have dtype float64, got >f8"),
            ("out shape", {"out": np.empty((3, 4))}, ValueError,
             "out must have shape (4, 3), got shape (3, 4)"),
            ("out read-only", {"out": readonly}, ValueError,
             "out must be writable, got a read-only array"),
        ]
    return pred, target, cases


def call_with(fn, pred, target, kwargs):
    kwargs = dict(kwargs)
    return fn(kwargs.pop("pred", pred), kwargs.pop("target", target), **kwargs)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_error_type_and_message(impl, name):
    fn = getattr(impl, name)
    pred, target, cases = bad_arguments(name)
    for label, kwargs, exc, msg in cases:
        with pytest.raises(exc, match="^" + re.escape(msg) + "$"):
            call_with(fn, pred, target, kwargs)
        if "out" in kwargs and isinstance(kwargs["out"], np.ndarray):
            pass  # out is checked last: nothing to have been written yet


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_errors_come_in_the_contract_order(impl, name):
    """With every bad argument from the k-th check on, the k-th check's error
    is raised: pred, eps, reduction, n_threads, label_smoothing, target,
    weight, pos_weight, sample_weight, out."""
    fn = getattr(impl, name)
    pred, target, cases = bad_arguments(name)
    order = ["pred", "eps", "reduction", "n_threads", "label_smoothing", "target", "weight",
             "pos_weight", "sample_weight", "out"]
    first = {}
    for label, kwargs, exc, msg in cases:          # one representative per argument
        (key,) = kwargs
        first.setdefault(key, (kwargs, exc, msg))
    keys = [k for k in order if k in first]
    for i, key in enumerate(keys):
        combined = {}
        for later in keys[i:]:
            combined.update(first[later][0])
        _, exc, msg = first[key]
        with pytest.raises(exc, match="^" + re.escape(msg) + "$"):
            call_with(fn, pred, target, combined)
    # the brief's example: a bad reduction and a bad target raise the reduction error
    with pytest.raises(ValueError, match="^reduction must be one of"):
        fn(pred, target[:, 0], reduction="avg")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", GRAD_NAMES)
def test_errors_leave_out_untouched(impl, name):
    fn = getattr(impl, name)
    pred, target = problem(kind_of(name), (4, 3))
    out = np.full((4, 3), 7.0)
    for kwargs in ({"reduction": "avg"}, {"weight": np.ones(4)},
                   {"sample_weight": np.ones(3)}, {"label_smoothing": 2.0}):
        with pytest.raises(ValueError):
            fn(pred, target, out=out, **kwargs)
        assert np.all(out == 7.0)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_float8_pred_is_a_type_error(impl, name):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    fn = getattr(impl, name)
    kind = kind_of(name)
    pred, target = problem(kind, (4, 3))
    f8 = pred.astype(ml_dtypes.float8_e4m3fn)
    with pytest.raises(TypeError, match="^" + re.escape(f"unsupported dtype {f8.dtype} for "
                                                         f"{kind}")):
        fn(f8, target)


# ---------------------------------------------------------------------------
# dtypes, out, n_threads, results' types
# ---------------------------------------------------------------------------

def half_dtype(name):
    if name == "bfloat16":
        return np.dtype(pytest.importorskip("ml_dtypes").bfloat16)
    return np.dtype(name)


def half_step(x, dtype):
    """The spacing of the half ``dtype`` at |x| (its subnormal step near 0)."""
    nmant, minexp = (10, -14) if dtype == np.float16 else (7, -126)
    a = np.abs(np.asarray(x, np.float64))
    with np.errstate(divide="ignore"):
        e = np.floor(np.log2(np.where(a > 0, a, 1.0)))
    e = np.maximum(np.where(a > 0, e, minexp), minexp)
    return np.ldexp(1.0, (e - nmant).astype(int))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", GRAD_NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_result_types(impl, name, dtype):
    """"mean"/"sum": a NumPy scalar of the computation dtype; "none": an
    ndarray of pred's shape; the gradient: pred's shape and dtype."""
    fn = getattr(impl, name)
    for shape in ((5,), (3, 4), (2, 3, 2, 2)):
        pred, target = problem(kind_of(name), shape, dtype=dtype)
        for reduction in REDUCTIONS:
            loss, grad = fn(pred, target, reduction=reduction)
            if reduction == "none":
                assert type(loss) is np.ndarray and loss.shape == shape
                assert loss.dtype == dtype and loss.dtype.isnative
            else:
                assert type(loss) is np.dtype(dtype).type
            assert type(grad) is np.ndarray and grad.shape == shape and grad.dtype == dtype


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", GRAD_NAMES)
@pytest.mark.parametrize("half", ["float16", ">f2", "bfloat16"])
def test_half_precision(impl, name, half):
    """float16 (either byte order) and bfloat16 pred: float32 losses within
    float32 accuracy of the float64 formulas on the same rounded inputs,
    native half gradients within one half step; out must be the native half."""
    dtype = half_dtype(half)
    kind = kind_of(name)
    fn = getattr(impl, name)
    pred64, target = problem(kind, (6, 5), seed=61)
    pred = pred64.astype(dtype)
    wide = pred.astype(np.float32)
    w = np.linspace(0.3, 2.1, 5)                    # not all exact in float32
    pw = np.array([[0.5], [1.1], [2.3], [1.0], [0.7], [1.9]])
    s = np.linspace(0.0, 2.0, 6)
    grad_dtype = dtype.newbyteorder("=")
    for kwargs in ({}, {"weight": w, "pos_weight": pw, "sample_weight": s,
                        "label_smoothing": 0.1}):
        for reduction in REDUCTIONS:
            loss, grad = fn(pred, target, reduction=reduction, **kwargs)
            want_loss, want_grad = contract(kind, wide, target, reduction=reduction, **kwargs)
            if reduction == "none":
                assert type(loss) is np.ndarray and loss.dtype == np.float32
            else:
                assert type(loss) is np.float32
            assert_close(loss, want_loss, np.float32, rtol=1e-6, atol=1e-7, what=reduction)
            assert grad.dtype == grad_dtype and grad.dtype.isnative and grad.shape == pred.shape
            g = grad.astype(np.float64)
            assert np.all(np.abs(g - want_grad) <= half_step(want_grad, grad_dtype)), reduction
            # the float32 pred of the same values gives the same loss bits
            same_bits(loss, fn(wide, target, reduction=reduction, **kwargs)[0], reduction)
    out = np.full(pred.shape, 3, grad_dtype)
    got = fn(pred, target, out=out)
    assert got[1] is out
    same_bits(out, fn(pred, target)[1])
    with pytest.raises(TypeError, match="^" + re.escape(
            f"out must have dtype {grad_dtype}, got float32") + "$"):
        fn(pred, target, out=np.empty(pred.shape, np.float32))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", GRAD_NAMES)
def test_integer_and_bool_pred_are_converted_to_float64(impl, name):
    fn = getattr(impl, name)
    kind = kind_of(name)
    if kind == "probs":
        preds = [np.array([[True, False], [False, True]]), np.array([[1, 0], [0, 1]], np.uint8)]
        target = np.array([[1.0, 0.0], [0.3, 1.0]])
    else:
        preds = [np.array([[-2, 0], [3, 1]], np.int64), np.array([[-2, 0], [3, 1]], np.int8),
                 np.array([[True, False], [False, True]])]
        target = np.array([[1.0, 0.0], [0.3, 1.0]])
    for pred in preds:
        for reduction in REDUCTIONS:
            got = fn(pred, target, reduction=reduction)
            want = fn(pred.astype(np.float64), target, reduction=reduction)
            assert got[1].dtype == np.float64
            same_bits(got[0], want[0], f"{pred.dtype} loss")
            same_bits(got[1], want[1], f"{pred.dtype} gradient")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", GRAD_NAMES)
def test_arguments_are_rounded_to_float32_for_float32_pred(impl, name):
    """target, weight, pos_weight and sample_weight of float64 are read as
    float32 values for a float32 pred; a float32 target of a float64 pred is
    widened exactly."""
    fn = getattr(impl, name)
    kind = kind_of(name)
    pred, target = problem(kind, (5, 4), seed=71, dtype=np.float32)
    rng = np.random.default_rng(3)
    kw64 = {"weight": rng.uniform(0.5, 2, 4), "pos_weight": rng.uniform(0.5, 2, (5, 4)),
            "sample_weight": rng.uniform(0.5, 2, 5)}
    kw32 = {k: v.astype(np.float32) for k, v in kw64.items()}
    for reduction in REDUCTIONS:
        a = fn(pred, target, reduction=reduction, **kw64)
        b = fn(pred, target.astype(np.float32), reduction=reduction, **kw32)
        same_bits(a[0], b[0], reduction)
        same_bits(a[1], b[1], reduction)
    p64 = pred.astype(np.float64)
    same_bits(fn(p64, target.astype(np.float32))[0],
              fn(p64, target.astype(np.float32).astype(np.float64))[0])


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", GRAD_NAMES)
def test_out_is_filled_and_returned(impl, name):
    fn = getattr(impl, name)
    pred, target = problem(kind_of(name), (6, 5), seed=81)
    for reduction in REDUCTIONS:
        want = fn(pred, target, reduction=reduction)
        for out in (np.full((6, 5), 9.0), np.asfortranarray(np.full((6, 5), 9.0)),
                    np.full((6, 10), 9.0)[:, ::2]):
            loss, grad = fn(pred, target, reduction=reduction, out=out)
            assert grad is out
            same_bits(loss, want[0])
            np.testing.assert_array_equal(out, want[1])


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_n_threads_changes_nothing(impl, name):
    fn = getattr(impl, name)
    pred, target = problem(kind_of(name), (300, 7), seed=82)
    for reduction in REDUCTIONS:
        want = fn(pred, target, reduction=reduction, sample_weight=np.linspace(0, 1, 300))
        for n in (1, 3, np.int64(2)):
            got = fn(pred, target, reduction=reduction, sample_weight=np.linspace(0, 1, 300),
                     n_threads=n)
            for g, w in zip(split(got), split(want)):
                if w is not None:
                    same_bits(g, w, f"n_threads={n}")


def _weight_forms(full):
    """The same broadcast values in every form a caller may give them, each
    against the full-shape C-ordered float64 array they stand for."""
    shape = full.shape
    col = full[(0,) * (len(shape) - 1)]                  # one value per last-axis entry
    big = np.zeros(shape[:-1] + (2 * shape[-1],))
    big[..., ::2] = full
    swapped = full.astype(full.dtype.newbyteorder())
    yield "python float", float(full.flat[0]), np.full(shape, full.flat[0])
    yield "numpy scalar", np.float64(full.flat[0]), np.full(shape, full.flat[0])
    yield "0-d array", np.array(full.flat[0]), np.full(shape, full.flat[0])
    yield "python int", 3, np.full(shape, 3.0)
    yield "(1,)", np.array([full.flat[0]]), np.full(shape, full.flat[0])
    yield "per column", col, np.broadcast_to(col, shape)
    yield "per column, list", col.tolist(), np.broadcast_to(col, shape)
    yield "per column, reversed view", col[::-1].copy()[::-1], np.broadcast_to(col, shape)
    yield "per channel (C, 1)", full[0, :, :1], np.broadcast_to(full[0, :, :1], shape)
    yield "full", full, full
    yield "full, Fortran order", np.asfortranarray(full), full
    yield "full, strided view", big[..., ::2], full
    yield "full, byte-swapped", swapped, full
    yield "full, float32 values", full.astype(np.float32), full.astype(np.float32)
    yield "full, broadcast view", np.broadcast_to(col, shape), np.broadcast_to(col, shape)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("option", ["weight", "pos_weight"])
def test_every_form_of_a_weight_gives_the_same_bits(impl, name, option):
    """A weight is read through its own strides (0 along the axes it is
    broadcast over) or, a Python float, without an array: every form gives
    the bits of the full-shape C-ordered array of the same values."""
    fn = getattr(impl, name)
    shape = (6, 4, 5)
    pred, _ = problem(kind_of(name), shape, seed=91)
    rng = np.random.default_rng(92)
    full = rng.uniform(0.0, 3.0, shape)
    full[:, :, 1] = 0.0                                   # zero weights remove their terms
    # (a C-ordered pred and target take the one-run path, a Fortran-ordered
    # pred the walk over coalesced axes)
    for pred, target in ((pred, (rng.random(shape) < 0.5).astype(np.float64)),
                         (np.asfortranarray(pred), rng.random(shape))):
        for what, given, values in _weight_forms(full):
            for reduction in REDUCTIONS:
                want = fn(pred, target, reduction=reduction,
                          **{option: np.ascontiguousarray(values, np.float64)})
                got = fn(pred, target, reduction=reduction, **{option: given})
                for g, w in zip(split(got), split(want)):
                    if w is not None:
                        same_bits(g, w, f"{option} {what}, {reduction}")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_large_batch_matches_the_formulas(impl, kind):
    """Many elements, every option: the formulas, entry by entry."""
    shape = (257, 3, 67)
    pred, target = problem(kind, shape, seed=83)
    rng = np.random.default_rng(4)
    kwargs = {"weight": rng.uniform(0.2, 2, (3, 1)), "pos_weight": rng.uniform(0.2, 2, 67),
              "sample_weight": rng.uniform(0, 2, 257), "label_smoothing": 0.05}
    for reduction in REDUCTIONS:
        loss, grad = grad_fn(impl, kind)(pred, target, reduction=reduction, **kwargs)
        want_loss, want_grad = contract(kind, pred, target, reduction=reduction, **kwargs)
        assert_close(loss, want_loss, np.float64, atol=1e-15, what=reduction)
        # (b sigmoid(x) - a sigmoid(-x) cancels where the two nearly meet: an
        # absolute bound scaled by the largest entry)
        assert_close(grad, want_grad, np.float64,
                     atol=1e-14 * np.max(np.abs(want_grad)), what=reduction)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_inputs_are_not_modified(impl, name):
    fn = getattr(impl, name)
    kind = kind_of(name)
    for dtype in (np.float64, np.float32, np.float16):
        pred, target = problem(kind, (5, 4), seed=91, dtype=dtype)
        pred[0, 0] = np.nan
        args = {"pred": pred, "target": target.astype(np.float32),
                "weight": np.linspace(0.5, 1.5, 4), "pos_weight": np.full((5, 1), 2.0),
                "sample_weight": np.array([1.0, 0.0, 2.0, 0.5, 1.0])}
        copies = {k: v.copy() for k, v in args.items()}
        for reduction in REDUCTIONS:
            call_with(fn, None, None, dict(args, reduction=reduction, label_smoothing=0.1))
            for k, v in args.items():
                assert v.dtype == copies[k].dtype
                assert np.array_equal(v, copies[k], equal_nan=True), k


# ---------------------------------------------------------------------------
# hypothesis: ranks 0 to 4, dtypes, broadcasting forms, reductions
# ---------------------------------------------------------------------------

try:
    import ml_dtypes
    _HYP_DTYPES = [np.float64, np.float32, np.float16, ml_dtypes.bfloat16]
except ImportError:                                  # pragma: no cover
    _HYP_DTYPES = [np.float64, np.float32, np.float16]


@st.composite
def broadcast_form(draw, shape):
    """None, or a shape that broadcasts to ``shape``: a suffix of it with
    some axes 1, PyTorch's (C, 1, 1) for a rank-4 shape among them."""
    if not draw(st.booleans()):
        return None
    k = draw(st.integers(0, len(shape)))
    suffix = shape[len(shape) - k:]
    return tuple(d if draw(st.booleans()) else 1 for d in suffix)


@st.composite
def binary_problems(draw):
    kind = draw(st.sampled_from(KINDS))
    dtype = np.dtype(draw(st.sampled_from(_HYP_DTYPES)))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=4)))
    n = int(np.prod(shape))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "probs":
        values = rng.uniform(0.0, 1.0, shape)
        specials = [0.0, 1.0, 0.5]
    else:
        values = rng.normal(0.0, 4.0, shape) * draw(st.sampled_from([1.0, 10.0]))
        specials = [0.0, 40.0, -40.0, np.inf, -np.inf]
    flat = values.reshape(-1)
    for i in draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=3)) if n else []:
        flat[i] = draw(st.sampled_from(specials))
    pred = np.asarray(values, dtype)
    target = rng.choice([0.0, 1.0, 0.25, 0.8], shape) if draw(st.booleans()) \
        else rng.uniform(0.0, 1.0, shape)
    kwargs = {"reduction": draw(st.sampled_from(REDUCTIONS))}
    for name in ("weight", "pos_weight"):
        form = draw(broadcast_form(shape))
        if form is not None:
            w = rng.uniform(0.0, 3.0, form)
            if w.size and draw(st.booleans()):
                w.reshape(-1)[0] = 0.0
            kwargs[name] = w
    if draw(st.booleans()):
        sw = rng.uniform(0.0, 3.0, shape[:1])
        if sw.size and draw(st.booleans()):
            sw.reshape(-1)[0] = 0.0
        kwargs["sample_weight"] = sw
    if draw(st.booleans()):
        kwargs["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 1.0, 0.37]))
    if kind == "probs":
        kwargs["eps"] = draw(st.sampled_from([0.0, 1e-7, 1e-3]))
    return kind, pred, target, kwargs


def gradient_atol(kind, pred, kwargs, dtype):
    """The absolute error of a gradient entry's difference of two terms:
    a few ulps of the larger term."""
    ulp = 1e-15 if dtype == np.float64 else 1e-6
    x = np.asarray(pred).astype(np.float64)
    scale = np.ones_like(x)
    for name in ("weight", "pos_weight"):
        if kwargs.get(name) is not None:
            scale = scale * np.abs(np.broadcast_to(kwargs[name], x.shape))
    if kind == "probs":
        eps = kwargs.get("eps", 1e-7)
        with np.errstate(all="ignore"):
            scale = scale * (1 / (x + eps) + 1 / ((1 - x) + eps))
    return ulp * np.nan_to_num(scale, nan=0.0, posinf=0.0)


def check_against(got, want, kind, pred, kwargs, rtol):
    """Losses within rtol, gradient entries within rtol and a few ulps of
    their terms; NaN and infinities in the same places."""
    loss, grad = got
    want_loss, want_grad = want
    cdt = computation_dtype(pred)
    assert np.asarray(loss).dtype == cdt
    assert_close(loss, want_loss, cdt, rtol=rtol, atol=1e-300, what="loss")
    gdt = np.asarray(grad).dtype
    if gdt.itemsize == 2:                            # half: one step of the half dtype
        g = grad.astype(np.float64)
        with np.errstate(over="ignore"):
            w = np.asarray(want_grad, np.float64).astype(np.float32).astype(gdt).astype(
                np.float64)
        assert np.array_equal(np.isnan(g), np.isnan(w))
        fin = np.isfinite(w)
        assert np.array_equal(g[~fin & ~np.isnan(w)], w[~fin & ~np.isnan(w)])
        assert np.all(np.abs(g[fin] - w[fin]) <= half_step(w[fin], gdt)
                      + gradient_atol(kind, pred, kwargs, cdt)[fin])
    else:
        d = 1.0
        if kwargs["reduction"] == "mean" and np.asarray(pred).size:
            sw = kwargs.get("sample_weight")
            d = np.asarray(pred).size if sw is None else max(
                np.prod(np.shape(pred)[1:]) * float(np.sum(sw)), 1e-300)
        assert_close(grad, want_grad, gdt, rtol=rtol,
                     atol=gradient_atol(kind, pred, kwargs, cdt) * 3.0 / d + 1e-300,
                     what="gradient")


@pytest.mark.parametrize("impl", IMPLS)
@settings(max_examples=100, deadline=None)
@given(case=binary_problems())
def test_drawn_problems_match_the_formulas(impl, case):
    """Ranks 0-4, every dtype, weights in any broadcasting form, zeros,
    infinities, reductions: the contract's formulas (rtol 1e-10 float64,
    1e-5 float32)."""
    kind, pred, target, kwargs = case
    got = grad_fn(impl, kind)(pred, target, **kwargs)
    loss_only = loss_fn(impl, kind)(pred, target, **kwargs)
    same_bits(got[0], loss_only, "the gradient function's loss")
    rtol = 1e-10 if computation_dtype(pred) == np.float64 else 1e-5
    want = contract(kind, pred, target, **kwargs)
    check_against(got, want, kind, pred, kwargs, rtol)


@settings(max_examples=100, deadline=None)
@given(case=binary_problems())
def test_drawn_problems_compiled_equals_numpy_version(case):
    """fastloss against fastloss.reference, on the same drawn problems."""
    kind, pred, target, kwargs = case
    got = grad_fn(fastloss, kind)(pred, target, **kwargs)
    want = grad_fn(fastloss.reference, kind)(pred, target, **kwargs)
    rtol = 1e-10 if computation_dtype(pred) == np.float64 else 1e-5
    check_against(got, tuple(np.asarray(a, np.float64) for a in want), kind, pred, kwargs,
                  rtol)
