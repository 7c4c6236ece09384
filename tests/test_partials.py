"""Partial sums: ``fastloss.partial_sums`` and ``fastloss.combine_partial_sums``.

A reduction is the compensated sum, in block order, of one result per block
of ``BLOCK_ROWS`` (256) rows: positions for the class losses, elements for
the binary ones.  A piece is a first-axis slice ``pred[a:b]`` (with the same
slice of the target, the sample weights and a binary loss's full-shape
weights); every piece but the last holds a multiple of 256 rows.  Then:

- the pieces' PartialSums, combined in order, are bitwise the call on the
  whole array, the same type and dtype: every loss, "sum" and "mean", class
  weights, ignore_index, label smoothing, sample weights, dense targets,
  ``axis=1`` on ``(N, C, H, W)``, ``(N, H, W, C)``, per-column, per-channel
  and full-shape binary weights, float64, float32, float16 (and bfloat16)
  preds; any split drawn by hypothesis on the block boundaries that fall on
  a first-axis index (empty pieces and a non-aligned last piece included),
  each piece with its own ``n_threads``;
- a piece's block results do not depend on ``n_threads``;
- the errors: a misaligned piece that is not the last, parts of different
  losses, reductions, dtypes or position shapes, ``"none"``, a callable that
  is not one of the five losses, no parts; every argument error of the loss
  raised by partial_sums exactly as the loss raises it;
- an out-of-range label is kept by partial_sums and raised by the
  combination with the in-memory message, naming the row (or position
  tuple) in the whole array, the first of several;
- PartialSums pickle.

The oracle is always the in-memory call on the whole array.
"""
import functools
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastloss as fl
import fastloss.reference
from support import assert_same, raised

try:
    from ml_dtypes import bfloat16
except ImportError:                      # pragma: no cover - ml_dtypes is optional
    bfloat16 = None

BINARY = (fl.binary_cross_entropy, fl.sigmoid_binary_cross_entropy)
CLASS = (fl.cross_entropy, fl.softmax_cross_entropy)
LOSSES = CLASS + (fl.mean_squared_error,) + BINARY
REDUCTIONS = ["sum", "mean"]
IGNORE = -100

SPLIT_SETTINGS = settings(max_examples=min(20, settings.default.max_examples), deadline=None)


def test_block_rows_is_256():
    assert fl.BLOCK_ROWS == 256


# ---------------------------------------------------------------------------
# the problems: a loss, its whole arrays and which operands a piece slices
# ---------------------------------------------------------------------------

class Case:
    """A loss on whole arrays: ``options`` go to every piece unchanged,
    ``sliced`` operands (sample weights, a binary loss's weights with a
    first axis of N) are cut with the piece."""

    def __init__(self, fn, pred, target, options, sliced, positions):
        self.fn = fn
        self.pred = pred
        self.target = target
        self.options = options
        self.sliced = sliced
        self.positions = positions

    @property
    def lead(self):
        return self.pred.shape[0]

    @property
    def rows_per_index(self):
        return math.prod(self.positions[1:])

    @property
    def unit(self):
        """First-axis indices between two block boundaries on an index."""
        return fl.BLOCK_ROWS // math.gcd(fl.BLOCK_ROWS, self.rows_per_index)

    def whole(self, reduction, **extra):
        return self.fn(self.pred, self.target, reduction=reduction, **self.options,
                       **self.sliced, **extra)

    def piece(self, a, b, reduction, n_threads=None, fn=None):
        """partial_sums of first-axis indices [a, b)."""
        kw = {k: v[a:b] for k, v in self.sliced.items()}
        return fl.partial_sums(fn or self.fn, self.pred[a:b], self.target[a:b],
                               reduction=reduction, n_threads=n_threads, **self.options, **kw)


def _pred(fn, shape, dtype, rng):
    if fn is fl.cross_entropy:
        x = rng.uniform(0.05, 1.0, shape)
    elif fn is fl.binary_cross_entropy:
        x = rng.uniform(0.01, 0.99, shape)
    else:
        x = rng.normal(0.0, 2.0, shape)
    return x.astype(dtype)


def _sample_weight(shape, rng):
    sw = rng.uniform(0.0, 2.0, shape)
    sw.reshape(-1)[::7] = 0.0                       # exact zeros too
    return sw


def class_case(fn, shape, dtype, *, axis=-1, dense=False, weight=False, ignore=False,
               smooth=0.0, sw=False, seed=0):
    rng = np.random.default_rng(seed)
    pred = _pred(fn, shape, dtype, rng)
    axis = axis % len(shape)
    c = shape[axis]
    positions = shape[:axis] + shape[axis + 1:]
    options = {"axis": axis} if axis != len(shape) - 1 else {}
    if dense:
        target = rng.uniform(0.0, 1.0, shape)
    else:
        target = rng.integers(0, c, positions)
        if ignore:
            target.reshape(-1)[::5] = IGNORE
            options["ignore_index"] = IGNORE
    if weight:
        options["weight"] = rng.uniform(0.5, 2.0, c)
    if smooth:
        options["label_smoothing"] = smooth
    sliced = {"sample_weight": _sample_weight(positions, rng)} if sw else {}
    return Case(fn, pred, target, options, sliced, positions)


def mse_case(shape, dtype, *, axis=-1, sw=False, seed=0):
    rng = np.random.default_rng(seed)
    pred = _pred(fl.mean_squared_error, shape, dtype, rng)
    target = rng.normal(0.0, 1.0, shape)
    axis = axis % len(shape)
    positions = shape[:axis] + shape[axis + 1:]
    options = {"axis": axis} if axis != len(shape) - 1 else {}
    sliced = {"sample_weight": _sample_weight(positions, rng)} if sw else {}
    return Case(fl.mean_squared_error, pred, target, options, sliced, positions)


def binary_case(fn, shape, dtype, *, weight=None, pos_weight=None, smooth=0.0, sw=False,
                seed=0):
    """weight / pos_weight: None, "column" (shape[-1:]), "channel" ((C, 1)
    of an (N, C, L) pred), "lead" ((N, 1)) or "full" (pred's shape)."""
    rng = np.random.default_rng(seed)
    pred = _pred(fn, shape, dtype, rng)
    target = rng.uniform(0.0, 1.0, shape)
    target.reshape(-1)[::3] = np.round(target.reshape(-1)[::3])      # hard targets too
    options, sliced = {}, {}
    shapes = {"column": shape[-1:], "channel": shape[1:2] + (1,), "lead": (shape[0], 1),
              "full": shape}
    for name, kind in (("weight", weight), ("pos_weight", pos_weight)):
        if kind is None:
            continue
        w = rng.uniform(0.5, 2.0, shapes[kind])
        (sliced if kind in ("lead", "full") else options)[name] = w
    if smooth:
        options["label_smoothing"] = smooth
    if sw:
        sliced["sample_weight"] = _sample_weight(shape[:1], rng)
    return Case(fn, pred, target, options, sliced, shape)


def _class_cases(fn, name):
    return {
        f"{name}-index": lambda: class_case(fn, (700, 5), np.float64),
        f"{name}-index-weight-ignore-smooth-f32": lambda: class_case(
            fn, (650, 4), np.float32, weight=True, ignore=True, smooth=0.2, seed=1),
        f"{name}-index-sample_weight-weight": lambda: class_case(
            fn, (600, 6), np.float64, weight=True, sw=True, seed=2),
        f"{name}-dense-weight-smooth": lambda: class_case(
            fn, (620, 5), np.float64, dense=True, weight=True, smooth=0.1, seed=3),
        f"{name}-dense-sample_weight-f32": lambda: class_case(
            fn, (530, 3), np.float32, dense=True, sw=True, seed=4),
        f"{name}-nchw-axis1-ignore-sample_weight": lambda: class_case(
            fn, (75, 3, 4, 6), np.float64, axis=1, ignore=True, sw=True, weight=True, seed=5),
        f"{name}-nchw-axis1-dense-f32": lambda: class_case(
            fn, (29, 4, 4, 8), np.float32, axis=1, dense=True, seed=6),
        f"{name}-nhwc-index-f16": lambda: class_case(
            fn, (150, 3, 4, 4), np.float16, smooth=0.05, seed=7),
        f"{name}-index-weight-f16": lambda: class_case(
            fn, (700, 7), np.float16, weight=True, ignore=True, seed=8),
    }


def _binary_cases(fn, name):
    return {
        f"{name}-column-weight": lambda: binary_case(fn, (300, 7), np.float64, weight="column"),
        f"{name}-full-pos_weight-lead-weight-sw-smooth-f32": lambda: binary_case(
            fn, (290, 5), np.float32, weight="lead", pos_weight="full", smooth=0.1, sw=True,
            seed=1),
        f"{name}-1d-sample_weight-aligned": lambda: binary_case(
            fn, (1024,), np.float64, pos_weight="full", sw=True, seed=2),
        f"{name}-3d-channel-weight-full-pos_weight-f16": lambda: binary_case(
            fn, (40, 3, 8), np.float16, weight="channel", pos_weight="full", seed=3),
        f"{name}-column-pos_weight-f32": lambda: binary_case(
            fn, (130, 12), np.float32, pos_weight="column", weight="full", seed=4),
    }


CASES = {}
CASES.update(_class_cases(fl.cross_entropy, "ce"))
CASES.update(_class_cases(fl.softmax_cross_entropy, "sce"))
CASES.update({
    "mse-2d": lambda: mse_case((600, 5), np.float64),
    "mse-sample_weight-f32": lambda: mse_case((700, 3), np.float32, sw=True, seed=1),
    "mse-nchw-axis1-sample_weight-f16": lambda: mse_case(
        (41, 3, 4, 4), np.float16, axis=1, sw=True, seed=2),
})
CASES.update(_binary_cases(fl.binary_cross_entropy, "bce"))
CASES.update(_binary_cases(fl.sigmoid_binary_cross_entropy, "sbce"))
if bfloat16 is not None:
    CASES["sce-index-weight-bf16"] = lambda: class_case(
        fl.softmax_cross_entropy, (600, 5), bfloat16, weight=True, seed=9)
    CASES["sbce-full-pos_weight-bf16"] = lambda: binary_case(
        fl.sigmoid_binary_cross_entropy, (300, 6), bfloat16, pos_weight="full", sw=True, seed=5)


@functools.lru_cache(maxsize=None)
def case_of(case_id):
    return CASES[case_id]()


@functools.lru_cache(maxsize=None)
def whole_of(case_id, reduction):
    return case_of(case_id).whole(reduction)


def test_the_cases_have_several_blocks_and_units_other_than_256():
    """The cases exercise what they are meant to: several blocks, a unit
    below 256 first-axis indices, non-aligned and aligned lengths."""
    cases = [case_of(k) for k in CASES]
    assert all(math.prod(c.positions) > 2 * fl.BLOCK_ROWS for c in cases)
    assert {c.unit for c in cases} >= {256, 128, 32, 8}
    assert any(c.lead % c.unit for c in cases) and any(c.lead % c.unit == 0 for c in cases)


# ---------------------------------------------------------------------------
# block-aligned pieces combine to the whole call's bits
# ---------------------------------------------------------------------------

@st.composite
def splits(draw, n, unit):
    """Pieces [a, b) of range(n) cut on multiples of ``unit`` (repeated
    cuts: empty pieces), each with an n_threads."""
    cuts = sorted(unit * k for k in draw(st.lists(st.integers(0, n // unit), max_size=5)))
    bounds = [0] + cuts + [n]
    threads = draw(st.lists(st.sampled_from([None, 1, 2]), min_size=len(bounds) - 1,
                            max_size=len(bounds) - 1))
    return list(zip(bounds[:-1], bounds[1:])), threads


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case_id", list(CASES))
@SPLIT_SETTINGS
@given(data=st.data())
def test_aligned_pieces_combine_to_the_bits_of_the_whole_call(case_id, reduction, data):
    case = case_of(case_id)
    want = whole_of(case_id, reduction)
    pieces, threads = data.draw(splits(case.lead, case.unit), label="pieces, n_threads")
    parts = [case.piece(a, b, reduction, n) for (a, b), n in zip(pieces, threads)]
    for (a, b), p in zip(pieces, parts):
        rows = (b - a) * case.rows_per_index
        assert (p.function, p.reduction, p.rows) == (case.fn.__name__, reduction, rows)
        assert p.bad is None
        assert len(p.loss) == len(p.divisor) == -(-rows // fl.BLOCK_ROWS)
    assert_same(fl.combine_partial_sums(parts), want, f"{case_id} {reduction} {pieces}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case_id", ["sce-index-sample_weight-weight",
                                     "ce-nchw-axis1-ignore-sample_weight",
                                     "mse-sample_weight-f32",
                                     "sbce-full-pos_weight-lead-weight-sw-smooth-f32"])
def test_a_pieces_block_results_do_not_depend_on_n_threads(case_id, reduction):
    """Each piece computed on 1 and on 2 threads: the same block results,
    bit for bit, and either combination is the whole call (itself on 1, 2
    and the default number of threads)."""
    case = case_of(case_id)
    u = case.unit
    cut = (case.lead // u // 2) * u
    pieces = [(0, cut), (cut, case.lead)]
    one = [case.piece(a, b, reduction, 1) for a, b in pieces]
    two = [case.piece(a, b, reduction, 2) for a, b in pieces]
    for p, q in zip(one, two):
        assert_same(p.loss, q.loss, "block losses")
        assert_same(p.divisor, q.divisor, "block divisors")
    want = whole_of(case_id, reduction)
    for n in (1, 2):
        assert_same(case.whole(reduction, n_threads=n), want, f"whole, n_threads={n}")
    assert_same(fl.combine_partial_sums(one), want, "pieces on 1 thread")
    assert_same(fl.combine_partial_sums(two), want, "pieces on 2 threads")


def test_a_single_piece_and_an_iterator_of_parts():
    """The whole array as one piece; the parts given as a generator."""
    case = case_of("sce-index")
    for reduction in REDUCTIONS:
        want = whole_of("sce-index", reduction)
        assert_same(fl.combine_partial_sums([case.piece(0, case.lead, reduction)]), want)
        gen = (case.piece(a, b, reduction) for a, b in [(0, 256), (256, case.lead)])
        assert_same(fl.combine_partial_sums(gen), want)


def test_an_empty_array():
    """An empty pred as the only piece: the whole call's nan ("mean") and
    0.0 ("sum")."""
    pred, target = np.zeros((0, 4)), np.zeros(0, np.int64)
    for fn in (fl.cross_entropy, fl.softmax_cross_entropy):
        for reduction in REDUCTIONS:
            want = fn(pred, target, reduction=reduction)
            got = fl.combine_partial_sums([fl.partial_sums(fn, pred, target,
                                                           reduction=reduction)])
            assert_same(got, want, f"{fn.__name__} {reduction}")


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

def test_a_misaligned_piece_that_is_not_the_last_raises_valueerror():
    case = case_of("sce-index")
    for cut in (1, 255, 257, 300):
        parts = [case.piece(0, cut, "mean"), case.piece(cut, case.lead, "mean")]
        with pytest.raises(ValueError, match="multiple of 256"):
            fl.combine_partial_sums(parts)
    # the same misaligned piece last is fine
    parts = [case.piece(0, 256, "sum"), case.piece(256, 300, "sum")]
    assert_same(fl.combine_partial_sums(parts),
                case.fn(case.pred[:300], case.target[:300], reduction="sum"))


def test_a_misaligned_piece_with_several_rows_an_index_raises_valueerror():
    """(N, H, W, C) with 12 rows an index: 64 indices hold 768 rows, 32 do not
    end on a block boundary."""
    case = case_of("sce-nhwc-index-f16")
    assert case.rows_per_index == 12 and case.unit == 64
    fl.combine_partial_sums([case.piece(0, 64, "sum"), case.piece(64, case.lead, "sum")])
    with pytest.raises(ValueError, match="multiple of 256"):
        fl.combine_partial_sums([case.piece(0, 32, "sum"), case.piece(32, case.lead, "sum")])


def test_parts_of_different_losses_or_reductions_raise_valueerror():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 1.0, (300, 4))
    t = rng.integers(0, 4, 300)
    ce = fl.partial_sums(fl.cross_entropy, x[:256], t[:256])
    sce = fl.partial_sums(fl.softmax_cross_entropy, x[256:], t[256:])
    ce_sum = fl.partial_sums(fl.cross_entropy, x[256:], t[256:], reduction="sum")
    with pytest.raises(ValueError):
        fl.combine_partial_sums([ce, sce])
    with pytest.raises(ValueError):
        fl.combine_partial_sums([ce, ce_sum])


def test_parts_of_different_dtypes_or_positions_raise_valueerror():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    t = rng.integers(0, 4, 300)
    f64 = fl.partial_sums(fl.softmax_cross_entropy, x[:256], t[:256])
    f32 = fl.partial_sums(fl.softmax_cross_entropy, x[256:].astype(np.float32), t[256:])
    with pytest.raises(ValueError):
        fl.combine_partial_sums([f64, f32])
    x3 = rng.normal(size=(10, 3, 4))
    other = fl.partial_sums(fl.softmax_cross_entropy, x3, rng.integers(0, 4, (10, 3)))
    with pytest.raises(ValueError):
        fl.combine_partial_sums([f64, other])


def test_parts_of_different_class_counts_raise_valueerror():
    rng = np.random.default_rng(1)
    three = fl.partial_sums(fl.softmax_cross_entropy, rng.normal(size=(256, 3)),
                            rng.integers(0, 3, 256))
    four = fl.partial_sums(fl.softmax_cross_entropy, rng.normal(size=(10, 4)),
                           rng.integers(0, 4, 10))
    with pytest.raises(ValueError, match="classes"):
        fl.combine_partial_sums([three, four])


def test_reduction_none_or_unknown_raises_valueerror():
    x, t = np.zeros((3, 2)), np.zeros(3, np.int64)
    for reduction in ("none", "max"):
        with pytest.raises(ValueError):
            fl.partial_sums(fl.softmax_cross_entropy, x, t, reduction=reduction)
    # an unknown value is the loss's own error
    want = raised(lambda: fl.softmax_cross_entropy(x, t, reduction="max"))
    got = raised(lambda: fl.partial_sums(fl.softmax_cross_entropy, x, t, reduction="max"))
    assert type(got) is type(want) and str(got) == str(want)


@pytest.mark.parametrize("fn", [np.sum, fl.cross_entropy_and_grad,
                                fl.softmax_cross_entropy_and_grad, fastloss.reference.cross_entropy,
                                lambda p, t, **kw: 0.0, "cross_entropy"],
                         ids=["np.sum", "cross_entropy_and_grad",
                              "softmax_cross_entropy_and_grad", "reference.cross_entropy",
                              "lambda", "a name"])
def test_a_callable_other_than_the_five_losses_raises_typeerror(fn):
    with pytest.raises(TypeError):
        fl.partial_sums(fn, np.full((3, 2), 0.5), np.zeros(3, np.int64))


def test_no_parts_raises_valueerror_and_other_objects_typeerror():
    with pytest.raises(ValueError):
        fl.combine_partial_sums([])
    with pytest.raises(ValueError):
        fl.combine_partial_sums(iter(()))
    x, t = np.zeros((3, 2)), np.zeros(3, np.int64)
    part = fl.partial_sums(fl.softmax_cross_entropy, x, t)
    with pytest.raises(TypeError):
        fl.combine_partial_sums([part, np.float64(1.0)])


_X = np.random.default_rng(0).uniform(0.05, 1.0, (6, 3))
_T = np.array([0, 1, 2, 0, 1, 2])
_Y = np.random.default_rng(1).uniform(0.0, 1.0, (6, 3))
ARGUMENT_ERRORS = {
    "float class indices": (fl.cross_entropy, (_X, _T.astype(float)), {}),
    "bool class indices": (fl.softmax_cross_entropy, (_X, _T > 0), {}),
    "short target": (fl.softmax_cross_entropy, (_X, _T[:5]), {}),
    "integer dense target": (fl.softmax_cross_entropy, (_X, np.zeros((6, 3), int)), {}),
    "weight shape": (fl.cross_entropy, (_X, _T), {"weight": np.ones(4)}),
    "sample_weight shape": (fl.cross_entropy, (_X, _T), {"sample_weight": np.ones(5)}),
    "label_smoothing": (fl.cross_entropy, (_X, _T), {"label_smoothing": 1.5}),
    "eps": (fl.cross_entropy, (_X, _T), {"eps": -1.0}),
    "axis out of range": (fl.softmax_cross_entropy, (_X, _T), {"axis": 2}),
    "axis not an int": (fl.softmax_cross_entropy, (_X, _T), {"axis": 1.0}),
    "ignore_index dense": (fl.softmax_cross_entropy, (_X, _Y), {"ignore_index": 0}),
    "ignore_index type": (fl.softmax_cross_entropy, (_X, _T), {"ignore_index": "a"}),
    "n_threads": (fl.softmax_cross_entropy, (_X, _T), {"n_threads": 0}),
    "unknown keyword": (fl.softmax_cross_entropy, (_X, _T), {"eps": 1e-7}),
    "missing target": (fl.softmax_cross_entropy, (_X,), {}),
    "complex pred": (fl.softmax_cross_entropy, (_X.astype(complex), _T), {}),
    "0-d pred": (fl.softmax_cross_entropy, (np.float64(1.0), 0), {}),
    "mse target shape": (fl.mean_squared_error, (_X, _Y[:, :2]), {}),
    "bce pos_weight shape": (fl.binary_cross_entropy, (_X, _Y), {"pos_weight": np.ones(4)}),
    "bce weight dtype": (fl.binary_cross_entropy, (_X, _Y), {"weight": np.ones(3, complex)}),
    "sbce sample_weight shape": (fl.sigmoid_binary_cross_entropy, (_X, _Y),
                                 {"sample_weight": np.ones(3)}),
    "sbce target shape": (fl.sigmoid_binary_cross_entropy, (_X, _Y.T), {}),
    "sbce axis": (fl.sigmoid_binary_cross_entropy, (_X, _Y), {"axis": 0}),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("what", list(ARGUMENT_ERRORS))
def test_argument_errors_raise_from_partial_sums_as_the_loss_raises_them(what, reduction):
    fn, args, kw = ARGUMENT_ERRORS[what]
    want = raised(lambda: fn(*args, reduction=reduction, **kw))
    got = raised(lambda: fl.partial_sums(fn, *args, reduction=reduction, **kw))
    assert type(want) not in (IndexError, AssertionError), want
    assert type(got) is type(want), (got, want)
    if what not in ("unknown keyword", "missing target", "sbce axis"):
        # (the signature's own TypeErrors name the function differently)
        assert str(got) == str(want)


# ---------------------------------------------------------------------------
# bad labels: kept by partial_sums, raised by the combination
# ---------------------------------------------------------------------------

def _bad_label_case(case_id, places, values):
    """The case's target with ``values`` at the positions ``places`` (flat
    indices into the positions)."""
    case = case_of(case_id)
    target = case.target.copy()
    for place, value in zip(places, values):
        target.reshape(-1)[place] = value
    return Case(case.fn, case.pred, target, case.options, case.sliced, case.positions)


def _check_bad_label(case, pieces, reduction):
    want = raised(lambda: case.whole(reduction))
    assert type(want) is IndexError
    parts = [case.piece(a, b, reduction) for a, b in pieces]     # never raises
    assert any(p.bad is not None for p in parts)
    with pytest.raises(IndexError) as excinfo:
        fl.combine_partial_sums(parts)
    assert str(excinfo.value) == str(want)
    return str(want)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case_id", ["ce-index", "sce-index-weight-ignore-smooth-f32",
                                     "sce-index-sample_weight-weight"])
def test_a_bad_label_in_a_later_piece_raises_the_in_memory_message(case_id, reduction):
    """One position axis: the row in the whole array, for a label past the
    classes and a negative one, in the last piece and in a middle one."""
    n = case_of(case_id).lead
    for row, value in [(n - 3, 9), (300, -1)]:
        case = _bad_label_case(case_id, [row], [value])
        message = _check_bad_label(case, [(0, 256), (256, 512), (512, n)], reduction)
        assert f"(row {row})" in message


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case_id", ["sce-nhwc-index-f16", "ce-nchw-axis1-ignore-sample_weight"])
def test_a_bad_label_with_two_position_axes_names_its_position(case_id, reduction):
    """(N, H, W, C) and (N, C, H, W) with axis=1: the position tuple in the
    whole array."""
    case0 = case_of(case_id)
    u, n = case0.unit, case0.lead
    flat = math.prod(case0.positions) - 5
    case = _bad_label_case(case_id, [flat], [7])
    pieces = [(0, u), (u, 2 * u), (2 * u, n)]
    message = _check_bad_label(case, pieces, reduction)
    where = ", ".join(str(int(i)) for i in np.unravel_index(flat, case0.positions))
    assert f"(position ({where}))" in message


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_the_first_of_two_bad_labels_in_different_pieces_is_named(reduction):
    for case_id, places in [("sce-index", [290, 650]), ("sce-nhwc-index-f16", [1000, 1700])]:
        case = _bad_label_case(case_id, places, [11, 12])
        u, n = case.unit, case.lead
        message = _check_bad_label(case, [(0, u), (u, 2 * u), (2 * u, n)], reduction)
        assert "target 11 " in message


def test_a_piece_with_a_bad_label_says_so():
    case = _bad_label_case("sce-index", [600], [9])
    part = case.piece(512, case.lead, "mean")
    assert part.bad is not None
    assert part.bad[1] == 9 and part.bad[2] == 5 and 512 + part.bad[0] == 600


# ---------------------------------------------------------------------------
# pickling
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("case_id", ["sce-index-sample_weight-weight",
                                     "ce-index-weight-f16",
                                     "bce-full-pos_weight-lead-weight-sw-smooth-f32"])
def test_partial_sums_pickle(case_id):
    case = case_of(case_id)
    n = case.lead
    for reduction in REDUCTIONS:
        parts = [case.piece(a, b, reduction) for a, b in [(0, 256), (256, n)]]
        back = pickle.loads(pickle.dumps(parts))
        for p, q in zip(parts, back):
            assert type(q) is fl.PartialSums
            for attr in ("function", "reduction", "dtype", "rows", "positions", "bad"):
                assert getattr(q, attr) == getattr(p, attr), attr
            assert_same(q.loss, p.loss)
            assert_same(q.divisor, p.divisor)
        assert_same(fl.combine_partial_sums(back), whole_of(case_id, reduction))


def test_a_pickled_bad_label_still_raises_its_position():
    case = _bad_label_case("sce-index", [650], [9])
    parts = pickle.loads(pickle.dumps([case.piece(0, 512, "sum"),
                                       case.piece(512, case.lead, "sum")]))
    with pytest.raises(IndexError) as excinfo:
        fl.combine_partial_sums(parts)
    assert str(excinfo.value) == str(raised(lambda: case.whole("sum")))
