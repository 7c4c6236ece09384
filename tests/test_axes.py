"""The class axis: ``axis=`` of every class loss and its gradient.

- the same bits as the same data with the class axis moved last: ranks 1 to
  5, every axis (positive and negative), C order, Fortran order, strided
  and reversed views, class indices and dense targets, every reduction and
  option, with and without sample weights, for every thread count;
- the values of the contract's formulas on the moved data (hypothesis);
- PyTorch's layout ``(N, C, d1, ..., dK)`` with ``axis=1`` gives
  ``torch.nn.functional``'s numbers and gradients (torch is only needed by
  the tests with "torch" in their names);
- "none" has the positions' shape, a gradient ``pred``'s shape and dtype;
- gradients against central differences on 3-D and 4-D inputs;
- the errors: a bad axis, a target of the wrong shape, a bad label naming
  its position, and the order of the checks.

Both ``fastloss`` and ``fastloss.reference`` must pass every test.
"""
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastloss as fl
from support import (REDUCTIONS, assert_close, assert_same, assert_same_result,
                     cross_entropy_oracle, mean_squared_error_oracle,
                     softmax_cross_entropy_oracle)
from support import (ALL_NAMES, CLASS_NAMES, GRAD_NAMES, IMPLS, LOSS_NAMES,  # noqa: F401
                     NAMED_CASE_IDS as CASE_IDS, NAMED_CASES as CASES,
                     name_is_probs as is_probs, name_is_squared as is_squared,
                     named_problem, raised)


# one shape per rank; every axis of each is a class axis in turn
SHAPES = {1: (5,), 2: (4, 3), 3: (3, 4, 2), 4: (2, 3, 4, 2), 5: (2, 3, 2, 3, 2)}
LAYOUTS = ["C", "F", "strided", "reversed"]


def positions_of(shape, axis):
    """pred's shape without the class axis."""
    axis = axis % len(shape)
    return tuple(shape[:axis]) + tuple(shape[axis + 1:])


def make(name, kind, shape, axis, seed=0, dtype=np.float64):
    """(pred, target) of ``shape`` with class axis ``axis`` (named_problem)."""
    return named_problem(name, kind, shape, axis, seed, dtype)


def options_for(name, kind, c, which):
    """One of several option sets (cycled by ``which``): none, class weights,
    label smoothing, ignore_index (the class 1), eps."""
    if is_squared(name):
        return {}
    weight = np.linspace(0.5, 2.0, c)
    sets = [{}, {"weight": weight, "label_smoothing": 0.15}]
    if kind == "index":
        sets += [{"ignore_index": 1}, {"weight": weight, "ignore_index": 1, "label_smoothing": 0.3}]
    else:
        sets += [{"label_smoothing": 0.4}]
    if is_probs(name):
        sets += [{"eps": 0.0, "weight": weight}]
    return dict(sets[which % len(sets)])


def contiguous(a):
    """A C-contiguous copy (or view) of ``a`` that keeps 0-d arrays 0-d
    (np.ascontiguousarray makes them 1-d)."""
    a = np.asarray(a)
    return a if a.ndim == 0 else np.ascontiguousarray(a)


def in_layout(a, layout):
    """The values of ``a`` in a C-ordered, Fortran-ordered, strided (every
    other element of a larger array, along every axis) or reversed (negative
    strides along every axis) array."""
    a = contiguous(a)
    if layout == "C" or a.ndim == 0:
        return a
    if layout == "F":
        return np.asfortranarray(a)
    if layout == "strided":
        big = np.full(tuple(2 * s + 1 for s in a.shape), -3, a.dtype)
        view = big[tuple(slice(1, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    rev = tuple(slice(None, None, -1) for _ in a.shape)
    return np.ascontiguousarray(a[rev])[rev]


def moved_call(fn, pred, target, axis, kind, **kw):
    """``fn`` on the same data with the class axis moved last (contiguous
    copies, the default axis); a gradient is moved back to pred's axes."""
    moved_pred = np.ascontiguousarray(np.moveaxis(np.asarray(pred), axis, -1))
    if kind == "dense":
        moved_target = np.ascontiguousarray(np.moveaxis(np.asarray(target), axis, -1))
    else:
        moved_target = contiguous(target)
    result = fn(moved_pred, moved_target, **kw)
    if isinstance(result, tuple):
        return result[0], np.moveaxis(result[1], -1, axis)
    return result


def check_same_as_moved(fn, pred, target, axis, kind, what, **kw):
    """fn(pred, target, axis=axis) has bitwise the results of the data with the
    class axis moved last; the gradient has pred's shape and is native."""
    got = fn(pred, target, axis=axis, **kw)
    want = moved_call(fn, pred, target, axis, kind, **kw)
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == 2, what
        assert got[1].shape == np.shape(pred) and got[1].dtype.isnative, what
        assert_same(got[0], want[0], f"{what}, loss")
        assert_same(got[1], np.ascontiguousarray(want[1]), f"{what}, gradient")
    else:
        assert_same(got, want, what)


# ---------------------------------------------------------------------------
# bitwise: the class axis anywhere == the class axis last
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("rank", sorted(SHAPES))
def test_every_axis_and_layout_gives_the_bits_of_the_class_axis_last(impl, name, kind, rank):
    """For each axis (positive and negative) of a rank-1..5 pred, in C order,
    Fortran order, strided and reversed (pred, dense target, labels and sample
    weights alike), each reduction and a cycle of options (one case holds a
    NaN): the loss, the "none" array (positions' shape) and the gradient
    (moved back) are bitwise those of the contiguous data with the class axis
    last."""
    fn = getattr(impl, name)
    shape = SHAPES[rank]
    step = 0
    for axis in list(range(rank)) + list(range(-rank, 0)):
        pred, target = make(name, kind, shape, axis, seed=rank * 10 + axis % rank)
        if axis == 0:
            pred.reshape(-1)[1] = np.nan          # a NaN: the comparison is of bits
        positions = positions_of(shape, axis)
        rng = np.random.default_rng(step)
        weights = rng.uniform(0.0, 2.0, positions)
        weights.reshape(-1)[:1] = 0.0
        for li, layout in enumerate(LAYOUTS):
            kw = options_for(name, kind, shape[axis], step)
            step += 1
            p = in_layout(pred, layout)
            t = in_layout(target, layout)
            sw = in_layout(weights, LAYOUTS[(li + 1) % len(LAYOUTS)]) if li % 2 else None
            for reduction in REDUCTIONS:
                what = (f"{name} rank {rank} axis {axis} {layout} {reduction} "
                        f"{sorted(kw)} sample_weight={sw is not None}")
                check_same_as_moved(fn, p, t, axis, kind, what, reduction=reduction,
                                    sample_weight=sw, **kw)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_thread_counts_give_the_same_bits_with_a_middle_class_axis(impl, name, kind):
    """3000 positions (several 256-row blocks) with the class axis in the
    middle, read in place: n_threads 1, 2, 3 and None give bitwise the same
    results, which are those of the class axis moved last."""
    fn = getattr(impl, name)
    shape, axis = (6, 5, 500), 1
    pred, target = make(name, kind, shape, axis, seed=11)
    kw = options_for(name, kind, 5, 3)
    sw = np.random.default_rng(2).uniform(0.0, 2.0, positions_of(shape, axis))
    for reduction in REDUCTIONS:
        want = moved_call(fn, pred, target, axis, kind, reduction=reduction, sample_weight=sw,
                          **kw)
        for n_threads in (1, 2, 3, None):
            got = fn(pred, target, axis=axis, reduction=reduction, sample_weight=sw,
                     n_threads=n_threads, **kw)
            what = f"{name} {reduction} n_threads={n_threads}"
            if isinstance(want, tuple):
                assert_same(got[0], want[0], f"{what}, loss")
                assert_same(got[1], np.ascontiguousarray(want[1]), f"{what}, gradient")
            else:
                assert_same(got, want, what)


@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("shape", [(3, 4, 16, 16), (2, 3, 8, 32, 2), (2, 5, 24, 32),
                                   (3, 4, 28, 28), (5, 3, 10, 10), (2, 3, 7, 9, 5)],
                         ids=str)
@pytest.mark.parametrize("layout", ["C", "F", "strided", "reversed"])
def test_channels_first_batches_read_in_place_give_the_bits_of_the_class_axis_last(
        name, kind, shape, layout):
    """A channels-first batch of several images, read in place in every
    layout (C order and reversed: each image's pixels one strided run of
    rows; Fortran order and every other element: slabs found axis by axis),
    whose pixels are a multiple of 256 or not (28 x 28, 10 x 10, 7 x 9 x 5:
    blocks of 256 rows that run across images): every reduction, with
    sample weights, 1 and 3 threads and out= in the input's layout, gives
    the bits of the class axis moved last; nothing of the input's size is
    allocated for the forward loss, nor for the gradient into out=."""
    fn = getattr(fl, name)
    axis = 1
    pred, target = make(name, kind, shape, axis, seed=5)
    pred = in_layout(pred, layout)
    target = in_layout(target, layout) if kind == "dense" else target
    kw = options_for(name, kind, shape[axis], 1)
    sw = np.random.default_rng(3).uniform(0.0, 2.0, positions_of(shape, axis))
    sw[0, 0, 0] = 0.0
    for reduction in REDUCTIONS:
        want = moved_call(fn, pred, target, axis, kind, reduction=reduction, sample_weight=sw,
                          **kw)
        for n_threads in (1, 3):
            extra = {}
            if isinstance(want, tuple):
                extra["out"] = in_layout(np.zeros(shape), layout)
            got = fn(pred, target, axis=axis, reduction=reduction, sample_weight=sw,
                     n_threads=n_threads, **kw, **extra)
            what = f"{name} {layout} {reduction} n_threads={n_threads}"
            if isinstance(want, tuple):
                assert got[1] is extra["out"], what
                assert_same(got[0], want[0], f"{what}, loss")
                assert_same(got[1], np.ascontiguousarray(want[1]), f"{what}, gradient")
            else:
                assert_same(got, want, what)
    import tracemalloc
    extra = {"out": in_layout(np.zeros(shape), layout)} if name.endswith("_and_grad") else {}
    tracemalloc.start()
    try:
        fn(pred, target, axis=axis, **kw, **extra)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # (a copy would be pred.nbytes; 4 kB for the call's small objects)
    assert peak < pred.nbytes / 4 + 4096, (name, peak)


def columns_problem(dtype, seed):
    """A channels-first softmax batch (2, 5, 16, 32) whose rows the plain
    softmax cross-entropy reads in columns, with far rows: logits beyond
    +-80 (float32's direct range), beyond +-350 (float64's), a NaN and an
    inf, in rows of both images."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 3.0, (2, 5, 16, 32))
    x[0, 2, 0, 3] = 95.0
    x[1, 0, 5, 7] = -120.0
    x[1, 4, 9, 9] = 400.0
    x[0, 1, 15, 31] = np.nan
    x[1, 3, 2, 2] = np.inf
    x[0, :, 4, 4] = [30.0, 0.0, 0.0, 0.0, 0.0]          # a confident row
    t = rng.integers(0, 5, (2, 16, 32))
    t[0, 4, 4] = 0
    return x.astype(dtype), t


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt", ["plain", "ignore", "weighted", "ignore_weighted"])
@pytest.mark.parametrize("name", ["softmax_cross_entropy", "softmax_cross_entropy_and_grad"])
def test_softmax_rows_read_in_columns_give_the_bits_of_the_class_axis_last(name, opt, dtype):
    """Class indices without class weight or smoothing: a channels-first
    batch (and a Fortran-ordered (N, C) one) is read in columns, a class at
    a time over contiguous positions. Every reduction, ignored rows, sample
    weights with zeros, far and non-finite rows, 1 and 3 threads: the bits
    of the class axis moved last."""
    fn = getattr(fl, name)
    x, t = columns_problem(dtype, 11)
    kw = {}
    if "ignore" in opt:
        kw["ignore_index"] = 2
    if "weighted" in opt:
        sw = np.random.default_rng(2).uniform(0.0, 2.0, t.shape)
        sw[0, 0, :5] = 0.0
        sw[1, 3, 2] = 0.0                               # the inf row
        kw["sample_weight"] = sw
    moved = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    flat_x, flat_t = moved.reshape(-1, 5), t.reshape(-1)
    fortran = np.asfortranarray(flat_x)
    flat_kw = dict(kw)
    if "sample_weight" in kw:
        flat_kw["sample_weight"] = kw["sample_weight"].reshape(-1)
    with np.errstate(all="ignore"):
        for reduction in REDUCTIONS:
            want = fn(moved, t, reduction=reduction, **kw)
            want_flat = fn(flat_x, flat_t, reduction=reduction, **flat_kw)
            for n_threads in (1, 3):
                what = f"{name} {opt} {reduction} n_threads={n_threads}"
                got = fn(x, t, axis=1, reduction=reduction, n_threads=n_threads, **kw)
                got_f = fn(fortran, flat_t, reduction=reduction, n_threads=n_threads, **flat_kw)
                if isinstance(want, tuple):
                    assert_same(got[0], want[0], f"{what}, loss")
                    assert_same(got[1], np.ascontiguousarray(np.moveaxis(want[1], -1, 1)),
                                f"{what}, gradient")
                    assert_same(got_f[0], want_flat[0], f"{what}, Fortran loss")
                    assert_same(got_f[1], want_flat[1], f"{what}, Fortran gradient")
                else:
                    assert_same(got, want, what)
                    assert_same(got_f, want_flat, f"{what}, Fortran")
    # and the values: each row against the formula written out, in float64
    # (rows of finite logits; the float32 ones within float32's accuracy)
    if name == "softmax_cross_entropy" and opt == "plain":
        rows = fn(x, t, axis=1, reduction="none").astype(np.float64)
        x64 = np.moveaxis(x.astype(np.float64), 1, -1)
        with np.errstate(all="ignore"):
            # log(sum_j exp(x_j - x_t)) = log1p(sum_{j != t} exp(x_j - x_t)):
            # no cancellation for a confident row
            d = np.exp(x64 - np.take_along_axis(x64, t[..., None], -1))
            np.put_along_axis(d, t[..., None], 0.0, -1)
            want = np.log1p(d.sum(axis=-1))
        finite = np.isfinite(x64).all(axis=-1)
        rtol = 1e-6 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(rows[finite], want[finite], rtol=rtol)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", CLASS_NAMES)
@pytest.mark.parametrize("axis", [0, -1], ids=["axis0", "axis-1"])
def test_one_sample_takes_a_python_int_or_0d_label(impl, name, axis):
    """A 1-D pred has no position axis: its label is a Python int, a NumPy
    integer or a 0-d array, "none" is 0-d, and axis=0 is axis=-1."""
    fn = getattr(impl, name)
    pred = make(name, "index", (5,), 0)[0]
    want = fn(pred, 3, reduction="none")
    for label in (3, np.int16(3), np.array(3, np.uint8)):
        got = fn(pred, label, axis=axis, reduction="none")
        assert_same_result(got, want, f"label {label!r}")
        loss = got[0] if isinstance(got, tuple) else got
        assert type(loss) is np.ndarray and loss.shape == ()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_numpy_integer_axes_are_python_int_axes(impl, name):
    """axis may be any NumPy integer; it means the same as the Python int."""
    fn = getattr(impl, name)
    kind = "dense" if is_squared(name) else "index"
    pred, target = make(name, kind, (3, 4, 2), 1)
    want = fn(pred, target, axis=1, reduction="none")
    for axis in (np.int64(1), np.int8(-2), np.uint8(1), np.intp(-2)):
        assert_same_result(fn(pred, target, axis=axis, reduction="none"), want, f"axis {axis!r}")


# ---------------------------------------------------------------------------
# values: the contract's formulas on the moved data
# ---------------------------------------------------------------------------

ORACLES = {"cross_entropy": cross_entropy_oracle,
           "softmax_cross_entropy": softmax_cross_entropy_oracle,
           "mean_squared_error": mean_squared_error_oracle}


@st.composite
def axis_problems(draw):
    """A float32 or float64 pred of rank 1..4 (dims 1..4), an axis, a
    function, a target kind and its options."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))
    axis = draw(st.integers(-rank, rank - 1))
    name = draw(st.sampled_from(LOSS_NAMES))
    kind = "dense" if is_squared(name) else draw(st.sampled_from(["index", "dense"]))
    pred, target = make(name, kind, shape, axis, seed=draw(st.integers(0, 2**16)), dtype=dtype)
    kw = options_for(name, kind, shape[axis], draw(st.integers(0, 4)))
    kw["reduction"] = draw(st.sampled_from(REDUCTIONS))
    return name, kind, pred, target, axis, kw


@pytest.mark.parametrize("impl", IMPLS)
@settings(max_examples=min(40, settings.default.max_examples), deadline=None)
@given(problem=axis_problems())
def test_any_axis_matches_the_formulas(impl, problem):
    """Loss and gradient of any axis of any rank equal the contract's formulas
    evaluated on the rows of the moved data (rows in the C order of the
    positions), within the accuracy of the computation dtype."""
    name, kind, pred, target, axis, kw = problem
    positions = positions_of(pred.shape, axis)
    c = pred.shape[axis]
    rows = np.moveaxis(pred, axis, -1).reshape(-1, c)
    rows_target = (np.moveaxis(target, axis, -1).reshape(-1, c) if kind == "dense"
                   else target.reshape(-1))
    want_loss, want_grad = ORACLES[name](rows, rows_target, grad=True, **kw)
    if kw["reduction"] == "none":
        want_loss = np.asarray(want_loss).reshape(positions)
    want_grad = np.moveaxis(want_grad.reshape(positions + (c,)), -1, axis)
    got_loss = getattr(impl, name)(pred, target, axis=axis, **kw)
    loss, grad = getattr(impl, name + "_and_grad")(pred, target, axis=axis, **kw)
    assert_same(loss, got_loss, "the gradient function's loss")
    assert np.shape(got_loss) == (positions if kw["reduction"] == "none" else ())
    scale = 1.0 if is_probs(name) else 8.0
    with np.errstate(all="ignore"):
        assert_close(got_loss, want_loss, pred.dtype, scale)
        assert_close(grad, want_grad, pred.dtype, 1.0)


# ---------------------------------------------------------------------------
# shapes and dtypes of the results
# ---------------------------------------------------------------------------

RESULT_SHAPES = [((5,), 0), ((4, 3), 0), ((2, 4, 3), 1), ((2, 4, 3, 2), 1), ((2, 3, 2, 4), -1),
                 ((3, 2, 2, 2, 2), -5)]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, ">f4", np.int32],
                         ids=lambda d: np.dtype(d).str)
def test_none_has_the_positions_shape_and_grad_has_preds(impl, name, kind, dtype):
    """For ranks 1 to 5 and several axes: "none" is a native ndarray of the
    positions' shape (0-d for one sample), "mean"/"sum" a scalar of the
    computation dtype, a gradient a native ndarray of pred's shape, float32
    for float32 (either byte order), float64 otherwise."""
    fn = getattr(impl, name)
    cdt = np.dtype(np.float32 if np.dtype(dtype).kind == "f" and np.dtype(dtype).itemsize == 4
                   else np.float64)
    for shape, axis in RESULT_SHAPES:
        pred, target = make(name, kind, shape, axis)
        pred = (pred * 3).astype(dtype) if dtype is np.int32 else pred.astype(dtype)
        positions = positions_of(shape, axis)
        for reduction in REDUCTIONS:
            what = f"{shape} axis {axis} {reduction}"
            result = fn(pred, target, axis=axis, reduction=reduction)
            loss = result[0] if isinstance(result, tuple) else result
            if reduction == "none":
                assert type(loss) is np.ndarray and loss.shape == positions, what
                assert loss.dtype == cdt and loss.dtype.isnative, what
            else:
                assert type(loss) is cdt.type, what
            if isinstance(result, tuple):
                grad = result[1]
                assert type(grad) is np.ndarray and grad.shape == shape, what
                assert grad.dtype == cdt and grad.dtype.isnative, what


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_empty_positions_with_a_middle_class_axis(impl, name, kind):
    """Zero positions ((2, 3, 0) with axis=1): "mean" is nan, "sum" 0, "none"
    an empty (2, 0) array, a gradient an empty (2, 3, 0) array; no warning."""
    fn = getattr(impl, name)
    pred = np.zeros((2, 3, 0))
    target = np.zeros((2, 3, 0)) if kind == "dense" else np.zeros((2, 0), np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = {r: fn(pred, target, axis=1, reduction=r) for r in REDUCTIONS}
    loss = {r: (v[0] if isinstance(v, tuple) else v) for r, v in results.items()}
    assert np.isnan(loss["mean"]) and loss["sum"] == 0.0
    assert loss["none"].shape == (2, 0)
    for v in results.values():
        if isinstance(v, tuple):
            assert v[1].shape == (2, 3, 0)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_zero_classes_along_the_axis_is_a_value_error(impl, name, kind):
    """C == 0 is the size of the class axis, wherever it is: (2, 0, 3) with
    axis=1 is refused (ValueError, not an AxisError); with axis=-1 it has
    3 classes and zero positions."""
    fn = getattr(impl, name)
    pred = np.zeros((2, 0, 3))
    target = np.zeros((2, 0, 3)) if kind == "dense" else np.zeros((2, 3), np.int64)
    with pytest.raises(ValueError) as info:
        fn(pred, target, axis=1)
    assert not isinstance(info.value, np.exceptions.AxisError)
    empty = np.zeros((2, 0), np.int64) if kind == "index" else target
    result = fn(pred, empty, reduction="none")
    loss = result[0] if isinstance(result, tuple) else result
    assert loss.shape == (2, 0)


# ---------------------------------------------------------------------------
# PyTorch's layout and numbers (torch is needed by these tests only)
# ---------------------------------------------------------------------------

TORCH_OPTIONS = {
    "plain": {},
    "weight": {"weight": np.array([0.5, 2.0, 1.0, 3.0])},
    "smoothing": {"label_smoothing": 0.2},
    "ignore": {"ignore_index": -100},
    "all": {"weight": np.array([0.5, 2.0, 1.0, 3.0]), "label_smoothing": 0.35,
            "ignore_index": -100},
}
TORCH_SPATIAL = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}


def torch_layout_problem(k, kind, seed=0):
    """Logits (2, 4, d1..dK), and class indices (2, d1..dK) with a few -100
    (not the first position) or probability targets of the logits' shape."""
    rng = np.random.default_rng(seed + k)
    shape = (2, 4) + TORCH_SPATIAL[k]
    logits = rng.normal(0.0, 2.0, shape)
    if kind == "index":
        target = rng.integers(0, 4, (2,) + TORCH_SPATIAL[k])
        flat = target.reshape(-1)
        flat[rng.choice(np.arange(1, flat.size), 2, replace=False)] = -100
    else:
        target = np.moveaxis(rng.dirichlet(np.ones(4), (2,) + TORCH_SPATIAL[k]), -1, 1)
    return logits, target


def torch_cases():
    for k in TORCH_SPATIAL:
        for kind in ("index", "probs"):
            for opt_name, opt in TORCH_OPTIONS.items():
                if kind == "probs" and "ignore_index" in opt:
                    continue
                yield pytest.param(k, kind, opt, id=f"K{k}-{kind}-{opt_name}")


def torch_reduced(torch, value, reduction):
    """What is differentiated: the reduced loss, or the sum of "none"."""
    return value.sum() if reduction == "none" else value


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("k,kind,options", list(torch_cases()))
def test_softmax_cross_entropy_axis1_matches_torch_cross_entropy(impl, k, kind, options):
    """axis=1 of (N, C, d1..dK) logits is torch.nn.functional.cross_entropy
    (same weight, ignore_index, label_smoothing, each reduction), for class
    indices and probability targets: the loss, "none" of shape (N, d1..dK),
    and the gradient against autograd's (of the sum for "none"), float64."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    logits, target = torch_layout_problem(k, kind)
    if kind == "index" and "ignore_index" not in options:
        target = np.where(target == -100, 2, target)
    torch_target = torch.tensor(target)
    kw = {key: val for key, val in options.items() if key != "weight"}
    torch_weight = torch.tensor(options["weight"]) if "weight" in options else None
    for reduction in REDUCTIONS:
        x = torch.tensor(logits, requires_grad=True)
        value = F.cross_entropy(x, torch_target, weight=torch_weight, reduction=reduction,
                                ignore_index=kw.get("ignore_index", -100),
                                label_smoothing=kw.get("label_smoothing", 0.0))
        torch_reduced(torch, value, reduction).backward()
        want_loss = value.detach().numpy()
        want_grad = x.grad.numpy()
        fl_kw = dict(options, reduction=reduction)
        loss = impl.softmax_cross_entropy(logits, target, axis=1, **fl_kw)
        loss2, grad = impl.softmax_cross_entropy_and_grad(logits, target, axis=1, **fl_kw)
        assert_same(loss2, loss)
        assert np.shape(loss) == np.shape(want_loss)
        assert grad.shape == logits.shape
        assert_close(loss, want_loss, np.float64, 8.0)
        assert_close(grad, want_grad, np.float64, 1.0)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("k", sorted(TORCH_SPATIAL), ids=lambda k: f"K{k}")
@pytest.mark.parametrize("opt_name", ["plain", "weight", "ignore", "weight_ignore"])
def test_cross_entropy_axis1_matches_torch_nll_loss_of_log(impl, k, opt_name):
    """cross_entropy with eps=0 and axis=1 of (N, C, d1..dK) probabilities is
    torch's nll_loss of their log (weight, ignore_index, each reduction), and
    its gradient autograd's with respect to the probabilities."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    logits, target = torch_layout_problem(k, "index", seed=5)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    options = {"plain": {}, "weight": {"weight": np.array([0.5, 2.0, 1.0, 3.0])},
               "ignore": {"ignore_index": -100},
               "weight_ignore": {"weight": np.array([0.5, 2.0, 1.0, 3.0]),
                                 "ignore_index": -100}}[opt_name]
    if "ignore_index" not in options:
        target = np.where(target == -100, 2, target)
    torch_weight = torch.tensor(options["weight"]) if "weight" in options else None
    for reduction in REDUCTIONS:
        p = torch.tensor(probs, requires_grad=True)
        value = F.nll_loss(torch.log(p), torch.tensor(target), weight=torch_weight,
                           ignore_index=-100, reduction=reduction)
        torch_reduced(torch, value, reduction).backward()
        loss, grad = impl.cross_entropy_and_grad(probs, target, axis=1, eps=0.0,
                                                 reduction=reduction, **options)
        assert_same(loss, impl.cross_entropy(probs, target, axis=1, eps=0.0,
                                             reduction=reduction, **options))
        assert_close(loss, value.detach().numpy(), np.float64, 1.0)
        assert_close(grad, p.grad.numpy(), np.float64, 1.0)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("k", sorted(TORCH_SPATIAL), ids=lambda k: f"K{k}")
def test_mean_squared_error_axis1_matches_torch_mse_loss(impl, k):
    """axis=1 squared error of (N, C, d1..dK): "mean" and "sum" are torch's
    mse_loss and its gradient; "none" is torch's element-wise "none"
    averaged over the class axis 1 (the gradient of its sum, autograd's)."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(k)
    shape = (2, 4) + TORCH_SPATIAL[k]
    pred, target = rng.normal(0.0, 2.0, (2,) + shape)
    for reduction in REDUCTIONS:
        p = torch.tensor(pred, requires_grad=True)
        if reduction == "none":
            value = F.mse_loss(p, torch.tensor(target), reduction="none").mean(dim=1)
        else:
            value = F.mse_loss(p, torch.tensor(target), reduction=reduction)
        torch_reduced(torch, value, reduction).backward()
        loss, grad = impl.mean_squared_error_and_grad(pred, target, axis=1, reduction=reduction)
        assert np.shape(loss) == tuple(value.shape)
        assert_close(loss, value.detach().numpy(), np.float64, 16.0)
        assert_close(grad, p.grad.numpy(), np.float64, 4.0)


# ---------------------------------------------------------------------------
# central differences on 3-D and 4-D inputs, axis=1
# ---------------------------------------------------------------------------

def central_difference(loss, x, h=1e-6):
    """d(sum of the loss)/dx by central differences, one element at a time."""
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        g[idx] = (np.sum(loss(xp)) - np.sum(loss(xm))) / (2 * h)
    return g


def fd_cases():
    for name in LOSS_NAMES:
        kinds = ["dense"] if is_squared(name) else ["index", "dense"]
        for kind in kinds:
            for shape in [(2, 3, 2), (2, 3, 2, 2)]:
                yield pytest.param(name, kind, shape, id=f"{name}-{kind}-{len(shape)}d")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind,shape", list(fd_cases()))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_axis1_gradient_matches_central_differences(impl, name, kind, shape, reduction):
    """The gradient of each loss with axis=1 of a 3-D or 4-D pred (with class
    weights, smoothing and an ignored class for the cross-entropies) is the
    central difference of the loss (of its sum for "none")."""
    pred, target = make(name, kind, shape, 1, seed=4)
    if is_probs(name):
        pred = 0.2 + 0.8 * (pred - 0.05) / 0.95      # away from the log's pole
    kw = {} if is_squared(name) else {"weight": [0.5, 2.0, 1.5], "label_smoothing": 0.2}
    if kind == "index":
        kw["ignore_index"] = 0
        target.reshape(-1)[:2] = [0, 2]   # one ignored position, one counted
    loss_fn = getattr(impl, name)
    _, grad = getattr(impl, name + "_and_grad")(pred, target, axis=1, reduction=reduction, **kw)
    fd = central_difference(lambda x: loss_fn(x, target, axis=1, reduction=reduction, **kw),
                            pred)
    assert grad.shape == pred.shape
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

def sample_args(name, shape, axis):
    kind = "dense" if is_squared(name) else "index"
    return make(name, kind, shape, axis if -len(shape) <= axis < len(shape) else -1)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_axis_out_of_range_is_an_axis_error(impl, name):
    """An axis outside [-ndim, ndim) raises numpy.exceptions.AxisError with
    NumPy's own message ("axis 2 is out of bounds for array of dimension 2"),
    also for a NumPy integer axis."""
    for shape, axis in [((3, 4), 2), ((3, 4), -3), ((3, 4), 100), ((5,), 1), ((5,), -2),
                        ((2, 3, 4), 3), ((2, 3, 4), -4), ((2, 3, 4), np.int64(3))]:
        pred, target = sample_args(name, shape, axis)
        message = str(np.exceptions.AxisError(int(axis), len(shape)))
        with pytest.raises(np.exceptions.AxisError, match=re.escape(message)):
            getattr(impl, name)(pred, target, axis=axis)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_axis_that_is_not_an_integer_is_a_type_error(impl, name):
    """A bool, a float, a string, None or a sequence is not an axis:
    TypeError naming the argument and the value."""
    pred, target = sample_args(name, (3, 4), -1)
    for axis in [True, False, 1.0, np.float64(0.0), "1", None, [1], (0,), np.bool_(True)]:
        with pytest.raises(TypeError) as info:
            getattr(impl, name)(pred, target, axis=axis)
        msg = str(info.value)
        assert "axis" in msg and repr(axis) in msg, msg


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", CLASS_NAMES)
def test_axis_is_checked_after_pred_and_before_everything_else(impl, name):
    """The order of the checks: pred's dtype and rank before the axis; the
    axis before the scalar arguments, the target's shape and the labels."""
    fn = getattr(impl, name)
    pred, target = sample_args(name, (3, 4), -1)
    bad_labels = np.array([0, 99, -1])
    # pred first: its dtype, then its rank
    err = raised(lambda: fn(pred.astype(np.complex128), target, axis=7))
    assert type(err) is TypeError, repr(err)
    err = raised(lambda: fn(np.float64(1.0), 0, axis=3))
    assert type(err) is ValueError, repr(err)
    # then the axis, before the scalar arguments, the target and the labels
    for kw in ({"reduction": "avg"}, {"n_threads": 0}, {"label_smoothing": 2.0},
               {"ignore_index": 1.5}):
        err = raised(lambda: fn(pred, target, axis=2, **kw))
        assert type(err) is np.exceptions.AxisError, (kw, repr(err))
        err = raised(lambda: fn(pred, target, axis=1.5, **kw))
        assert type(err) is TypeError and "axis" in str(err), (kw, repr(err))
    err = raised(lambda: fn(pred, np.zeros(7, np.int64), axis=2))
    assert type(err) is np.exceptions.AxisError, repr(err)
    err = raised(lambda: fn(pred, bad_labels, axis=-3))
    assert type(err) is np.exceptions.AxisError, repr(err)
    # with a valid axis, the labels come last
    err = raised(lambda: fn(pred, bad_labels, axis=-1, reduction="avg"))
    assert type(err) is ValueError and "reduction" in str(err), repr(err)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", CLASS_NAMES)
@pytest.mark.parametrize("target_shape", [(2, 3), (2, 3, 4), (4, 2), (8,), (2, 4, 1), ()],
                         ids=str)
def test_class_indices_of_another_shape_name_both_shapes(impl, name, target_shape):
    """With pred (2, 3, 4) and axis=1 the class indices have shape (2, 4):
    another shape (the positions of axis=-1, pred's shape, the transpose, the
    flattened positions, an extra axis, a scalar) is a ValueError naming the
    target's shape and pred's (or the positions') shape."""
    pred = make(name, "index", (2, 3, 4), 1)[0]
    target = np.zeros(target_shape, np.int64)
    with pytest.raises(ValueError) as info:
        getattr(impl, name)(pred, target, axis=1)
    assert not isinstance(info.value, np.exceptions.AxisError)
    msg = str(info.value)
    assert str(target_shape) in msg, msg
    assert str((2, 3, 4)) in msg or str((2, 4)) in msg, msg


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", CLASS_NAMES)
def test_torch_layout_with_the_default_axis_is_refused(impl, name):
    """PyTorch's (N, C, d) logits with (N, d) class indices but the default
    axis=-1 are not silently read as d classes: ValueError naming the shapes."""
    pred = make(name, "index", (2, 3, 4), 1)[0]
    target = np.zeros((2, 4), np.int64)
    with pytest.raises(ValueError) as info:
        getattr(impl, name)(pred, target)
    msg = str(info.value)
    assert str((2, 4)) in msg and str((2, 3, 4)) in msg, msg


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
def test_dense_target_with_the_class_axis_moved_is_refused(impl, name):
    """A dense target must have exactly pred's shape: pred (2, 3, 4) with
    axis=1 and a (2, 4, 3) target (the class axis moved last) is a
    ValueError naming both shapes; nothing is transposed or broadcast."""
    pred = make(name, "dense", (2, 3, 4), 1)[0]
    target = np.full((2, 4, 3), 0.25)
    with pytest.raises(ValueError) as info:
        getattr(impl, name)(pred, target, axis=1)
    msg = str(info.value)
    assert str((2, 4, 3)) in msg and str((2, 3, 4)) in msg, msg


def bad_label_cases():
    # (pred shape, axis, [(position, value)], expected suffix of the message)
    yield (7,), 0, [((), 7)], "(row 0)"
    yield (7,), -1, [((), -1)], "(row 0)"
    yield (4, 7), 0, [((3,), 10), ((5,), 11)], "(row 3)"
    yield (4, 7), -2, [((6,), -2)], "(row 6)"
    yield (7, 4), -1, [((5,), 4)], "(row 5)"
    yield (2, 4, 3, 5), 1, [((1, 0, 0), 10), ((0, 2, 4), 4)], "(position (0, 2, 4))"
    yield (2, 4, 3, 5), 1, [((1, 2, 0), -1), ((1, 0, 3), 9)], "(position (1, 0, 3))"
    yield (3, 5, 4), 2, [((2, 1), 4), ((1, 4), 99)], "(position (1, 4))"
    yield (3, 5, 4), 0, [((4, 3), -7)], "(position (4, 3))"


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", CLASS_NAMES)
@pytest.mark.parametrize("shape,axis,bad,suffix", list(bad_label_cases()),
                         ids=lambda v: str(v) if not isinstance(v, list) else "bad")
def test_bad_label_names_its_value_and_position(impl, name, shape, axis, bad, suffix):
    """A label outside [0, C) raises IndexError naming the value, the class
    count and where it is: "(row r)" with at most one position axis, "(position
    (i, j, k))" with two or more, for the first bad position in the C order of
    the positions' shape, whatever the labels' memory order; a label equal to
    ignore_index elsewhere is no error."""
    c = shape[axis]
    pred = make(name, "index", shape, axis)[0]
    labels = np.zeros(positions_of(shape, axis), np.int64)
    for pos, value in bad:
        labels[pos] = value
    # the first bad position in C order holds the value named in the message
    flat = labels.reshape(-1)
    first = int(flat[np.flatnonzero((flat < 0) | (flat >= c))[0]])
    message = f"target {first} is out of range for {c} classes {suffix}"
    fn = getattr(impl, name)
    for layout in ("C", "F", "reversed"):
        with pytest.raises(IndexError, match=re.escape(message)):
            fn(pred, in_layout(labels, layout), axis=axis)
    if labels.ndim:
        ignored = labels.copy()
        ignored[ignored >= c] = 77
        ignored[ignored < 0] = 77
        fn(pred, ignored, axis=axis, ignore_index=77)   # no error
