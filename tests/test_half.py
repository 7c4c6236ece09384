"""Half precision: float16 (either byte order) and bfloat16 (ml_dtypes) pred.

- losses are float32 (scalars and "none" arrays), gradients native float16
  or bfloat16, and out= must have the gradient dtype;
- a byte-swapped float16 pred gives the bits of the native one;
- the values: losses within a relative 1e-6 of the float64 result of the
  same (rounded) inputs, gradient entries within one half-precision step of
  the float64 gradient; the contract's formulas (tests/support.py) agree;
- dense targets, class weights and sample weights are read in float32;
- a class axis elsewhere and every thread count give the same bits;
- float8 and other opaque dtypes are refused, naming the dtype;
- inputs are never modified.

Only the bfloat16 cases need ml_dtypes. Both ``fastloss`` and
``fastloss.reference`` must pass every test.
"""
import re

import numpy as np
import pytest

from support import (REDUCTIONS, assert_close, assert_same, assert_same_result,
                     cross_entropy_oracle, mean_squared_error_oracle,
                     softmax_cross_entropy_oracle)
from support import (ALL_NAMES, CLASS_NAMES, GRAD_NAMES, IMPLS, LOSS_NAMES,  # noqa: F401
                     NAMED_CASE_IDS as CASE_IDS, NAMED_CASES as CASES,
                     name_is_probs as is_probs, name_is_squared as is_squared,
                     named_problem, raised)

HALVES = ["float16", ">f2", "bfloat16"]
F32_RTOL = 1e-6        # float32 results against the float64 value of the same inputs


def half_dtype(name):
    """The dtype called ``name``; bfloat16 needs ml_dtypes (skipped without)."""
    if name == "bfloat16":
        ml_dtypes = pytest.importorskip("ml_dtypes")
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def gradient_dtype(dtype):
    """The gradient dtype of a half pred: the same half, native byte order."""
    return dtype.newbyteorder("=")


def base_name(name):
    return name[: -len("_and_grad")] if name.endswith("_and_grad") else name


def split(result):
    return result if isinstance(result, tuple) else (result, None)


def as32(a):
    """An argument as the kernels read it: rounded to float32, held as float64."""
    return None if a is None else np.asarray(a).astype(np.float32).astype(np.float64)


def make(name, kind, dtype, shape=(7, 5), axis=-1, seed=0):
    """(pred in ``dtype``, target) (named_problem): dense and squared-error
    targets stay float64."""
    return named_problem(name, kind, shape, axis, seed, dtype)


def half_spacing(x, dtype):
    """The distance between adjacent values of the half ``dtype`` at ``|x|``
    (its subnormal step near 0)."""
    if dtype == np.float16:
        nmant, minexp = 10, -14
    else:                                  # bfloat16: float32's exponent range
        nmant, minexp = 7, -126
    a = np.abs(np.asarray(x, np.float64))
    with np.errstate(divide="ignore"):
        e = np.floor(np.log2(np.where(a > 0, a, 1.0)))
    e = np.maximum(np.where(a > 0, e, minexp), minexp)
    return np.ldexp(1.0, (e - nmant).astype(int))


def assert_within_one_half_step(got, want64, dtype, what):
    """Each half-precision gradient entry within one step of its dtype of the
    float64 gradient (one rounding of the float32 value, itself within 1e-6)."""
    got = np.asarray(got)
    assert got.dtype == gradient_dtype(dtype), f"{what}: dtype {got.dtype}"
    g = got.astype(np.float64)
    w = np.asarray(want64, np.float64)
    bad = ~((np.abs(g - w) <= half_spacing(w, dtype)) | (np.isnan(g) & np.isnan(w)))
    assert not bad.any(), (f"{what}: {int(bad.sum())} entries off by more than one step, "
                           f"e.g. {g[bad][:3]} vs {w[bad][:3]}")


def assert_float32_close(got, want64, what):
    """A float32 loss within a relative 1e-6 of the float64 value."""
    got = np.asarray(got)
    assert got.dtype == np.float32, f"{what}: dtype {got.dtype}"
    np.testing.assert_allclose(got.astype(np.float64), np.asarray(want64, np.float64),
                               rtol=F32_RTOL, atol=0, equal_nan=True, err_msg=what)


def options_for(name, kind, c):
    if is_squared(name):
        return [{}]
    weight = np.linspace(0.3, 2.1, c)          # not all exact in float32
    sets = [{}, {"weight": weight, "label_smoothing": 0.1}]
    if kind == "index":
        sets.append({"weight": weight, "ignore_index": 1, "label_smoothing": 0.3})
    if is_probs(name):
        sets.append({"eps": 0.0})
    return sets


# ---------------------------------------------------------------------------
# result types, out=
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("half", HALVES)
def test_losses_are_float32_and_gradients_the_native_half(impl, name, kind, half):
    """"mean"/"sum" give an np.float32 scalar, "none" a native float32 array of
    the positions' shape; a gradient is a native float16 (bfloat16) array of
    pred's shape (a byte-swapped float16 pred included), with a class axis
    elsewhere too."""
    dtype = half_dtype(half)
    fn = getattr(impl, name)
    for shape, axis in (((7, 5), -1), ((5,), 0), ((2, 5, 3), 1)):
        pred, target = make(name, kind, dtype, shape, axis)
        positions = np.moveaxis(pred, axis, -1).shape[:-1]
        for reduction in REDUCTIONS:
            loss, grad = split(fn(pred, target, axis=axis, reduction=reduction))
            if reduction == "none":
                assert type(loss) is np.ndarray and loss.shape == positions
                assert loss.dtype == np.float32 and loss.dtype.isnative
            else:
                assert type(loss) is np.float32, type(loss)
            if grad is not None:
                assert type(grad) is np.ndarray and grad.shape == shape
                assert grad.dtype == gradient_dtype(dtype) and grad.dtype.isnative


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", GRAD_NAMES)
@pytest.mark.parametrize("half", HALVES)
def test_out_must_have_the_gradient_dtype(impl, name, half):
    """out= of the native half dtype is filled and returned (the bits of the
    gradient without out); a float32, float64, byte-swapped or other-half out
    is a TypeError raised before any write."""
    dtype = half_dtype(half)
    fn = getattr(impl, name)
    kind = "dense" if is_squared(name) else "index"
    pred, target = make(name, kind, dtype)
    want = fn(pred, target, reduction="sum")
    out = np.full(pred.shape, 7, gradient_dtype(dtype))
    got = fn(pred, target, reduction="sum", out=out)
    assert got[1] is out
    assert_same_result(got, want)
    wrong = [np.float32, np.float64, gradient_dtype(dtype).newbyteorder("S")]
    if dtype.kind != "f":
        wrong.append(np.float16)
    else:
        try:
            import ml_dtypes
            wrong.append(ml_dtypes.bfloat16)
        except ImportError:
            pass
    for wrong_dtype in wrong:
        bad = np.full(pred.shape, 7, wrong_dtype)
        with pytest.raises(TypeError):
            fn(pred, target, out=bad)
        assert (bad.astype(np.float64) == 7).all()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
def test_byte_swapped_float16_gives_the_native_bits(impl, name, kind):
    """A big-endian (non-native) float16 pred, and a byte-swapped float16
    dense target, give bitwise the results of the native arrays."""
    fn = getattr(impl, name)
    pred, target = make(name, kind, np.float16, seed=3)
    swapped = pred.astype(pred.dtype.newbyteorder("S"))
    if kind == "dense":
        target = target.astype(np.float16)
        swapped_target = target.astype(target.dtype.newbyteorder("S"))
    else:
        swapped_target = target
    for reduction in REDUCTIONS:
        assert_same_result(fn(swapped, swapped_target, reduction=reduction),
                           fn(pred, target, reduction=reduction), reduction)


# ---------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------

ORACLES = {"cross_entropy": cross_entropy_oracle,
           "softmax_cross_entropy": softmax_cross_entropy_oracle,
           "mean_squared_error": mean_squared_error_oracle}


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("half", HALVES)
def test_values_are_the_float64_values_of_the_same_inputs(impl, name, kind, half):
    """Each loss (every reduction, "none" entry by entry) is within a relative
    1e-6 of the float64 result on the same values (pred widened exactly,
    dense target and class weights rounded to float32 as the half call reads
    them), and of the contract's formulas; each gradient entry is within one
    half-precision step of the float64 gradient."""
    dtype = half_dtype(half)
    pred, target = make(name, kind, dtype, seed=4)
    wide = pred.astype(np.float64)
    wide_target = target if kind == "index" else as32(target)
    scale = 1.0 if is_probs(name) else 8.0
    for options in options_for(name, kind, pred.shape[-1]):
        wide_options = {k: (as32(v) if k == "weight" else v) for k, v in options.items()}
        for reduction in REDUCTIONS:
            what = f"{name} {half} {reduction} {sorted(options)}"
            loss, grad = split(getattr(impl, name)(pred, target, reduction=reduction, **options))
            want_loss, want_grad = split(getattr(impl, name)(wide, wide_target,
                                                             reduction=reduction, **wide_options))
            assert_float32_close(loss, want_loss, what)
            formula = ORACLES[base_name(name)](wide, wide_target, reduction=reduction, grad=True,
                                               **wide_options)
            assert_close(loss, formula[0], np.float32, scale)
            if grad is not None:
                assert_within_one_half_step(grad, want_grad, dtype, what)
                assert_within_one_half_step(grad, formula[1], dtype, what + " (formula)")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("half", HALVES)
def test_values_with_an_axis_and_sample_weights(impl, name, kind, half):
    """(N, C, H) half pred with axis=1 and sample weights (rounded to float32
    as the half call reads them): losses within 1e-6 of the float64 result of
    the same values, gradient entries within one half-precision step."""
    dtype = half_dtype(half)
    shape = (3, 4, 5)
    pred, target = make(name, kind, dtype, shape, axis=1, seed=5)
    sw = np.random.default_rng(1).uniform(0.0, 2.0, (3, 5))
    sw[1, 2] = 0.0
    wide_target = target if kind == "index" else as32(target)
    for reduction in REDUCTIONS:
        what = f"{name} {half} {reduction}"
        loss, grad = split(getattr(impl, name)(pred, target, axis=1, reduction=reduction,
                                               sample_weight=sw))
        want_loss, want_grad = split(getattr(impl, name)(pred.astype(np.float64), wide_target,
                                                         axis=1, reduction=reduction,
                                                         sample_weight=as32(sw)))
        assert_float32_close(loss, want_loss, what)
        if grad is not None:
            assert_within_one_half_step(grad, want_grad, dtype, what)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("half", HALVES)
def test_arguments_are_read_in_float32(impl, name, kind, half):
    """With a half pred, a float64 dense target, float64 class weights and
    float64 sample weights give the bits of the same arguments rounded to
    float32, and a float16 dense target the bits of its float32 values."""
    dtype = half_dtype(half)
    fn = getattr(impl, name)
    pred, target = make(name, kind, dtype, seed=6)
    sw = np.random.default_rng(2).uniform(0.0, 2.0, 7) / 3.0
    options = {} if is_squared(name) else {"weight": np.linspace(0.3, 2.1, 5) / 3.0}
    options32 = {k: v.astype(np.float32) for k, v in options.items()}
    target32 = target if kind == "index" else target.astype(np.float32)
    for reduction in REDUCTIONS:
        want = fn(pred, target32, reduction=reduction, sample_weight=sw.astype(np.float32),
                  **options32)
        assert_same_result(fn(pred, target, reduction=reduction, sample_weight=sw, **options),
                           want, f"float64 arguments, {reduction}")
        if kind == "dense":
            t16 = target.astype(np.float16)
            assert_same_result(fn(pred, t16, reduction=reduction),
                               fn(pred, t16.astype(np.float32), reduction=reduction),
                               f"float16 target, {reduction}")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", [c for c in CASES if c[1] == "dense"],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if c[1] == "dense"])
def test_bfloat16_target_with_a_bfloat16_pred(impl, name, kind):
    """A bfloat16 target (dense, or the squared error's) with a bfloat16 pred
    is read as its float32 values: the bits of target.astype(float32)."""
    dtype = half_dtype("bfloat16")
    fn = getattr(impl, name)
    pred, target = make(name, kind, dtype, seed=7)
    target = target.astype(dtype)
    for reduction in REDUCTIONS:
        assert_same_result(fn(pred, target, reduction=reduction),
                           fn(pred, target.astype(np.float32), reduction=reduction), reduction)


# ---------------------------------------------------------------------------
# the class axis and threads read halves in place with the same bits
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("half", HALVES)
def test_half_axis_and_threads_give_the_bits_of_the_class_axis_last(impl, name, kind, half):
    """A (6, 5, 500) half pred with axis=1 (3000 positions, several blocks),
    also as a strided view: every n_threads gives bitwise the results of the
    contiguous data with the class axis moved last."""
    dtype = half_dtype(half)
    fn = getattr(impl, name)
    pred, target = make(name, kind, dtype, (6, 5, 500), axis=1, seed=8)
    if kind == "dense":
        target = target.astype(np.float32)
    moved_pred = np.ascontiguousarray(np.moveaxis(pred, 1, -1))
    moved_target = np.ascontiguousarray(np.moveaxis(target, 1, -1)) if kind == "dense" else target
    big = np.zeros((6, 10, 500), dtype)
    big[:, ::2] = pred
    for reduction in REDUCTIONS:
        loss, grad = split(fn(moved_pred, moved_target, reduction=reduction))
        for p in (pred, big[:, ::2]):
            for n_threads in (1, 2, 3):
                got_loss, got_grad = split(fn(p, target, axis=1, reduction=reduction,
                                              n_threads=n_threads))
                what = f"{reduction} n_threads={n_threads} contiguous={p.flags.c_contiguous}"
                assert_same(got_loss, loss, what)
                if grad is not None:
                    assert_same(got_grad, np.ascontiguousarray(np.moveaxis(grad, -1, 1)), what)


@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("half", ["float16", "bfloat16"])
@pytest.mark.parametrize("shape", [(3, 5, 28, 28), (40, 4, 10, 10), (12, 70, 5, 5), (600, 90)],
                         ids=str)
@pytest.mark.parametrize("order", ["C", "F"])
def test_half_is_read_in_place_in_any_layout_and_class_count(name, kind, half, shape, order):
    """Half-precision batches that are neither rows nor images of a multiple
    of 256 pixels (28 x 28 and 10 x 10 channels-first, whose 256-row blocks
    run across images) nor of at most 64 classes (70 channels-first, 90 as
    rows), in C and Fortran order: the bits of the float32 copy with the
    class axis moved last, from the input in place, with nothing of the
    input's size allocated for the loss, nor for the gradient into out=."""
    import tracemalloc

    import fastloss
    dtype = half_dtype(half)
    fn = getattr(fastloss, name)
    axis = 1
    pred, target = make(name, kind, dtype, shape, axis=axis, seed=4)
    if kind == "dense":
        target = target.astype(np.float32)
    if order == "F":
        pred = np.asfortranarray(pred)
        target = np.asfortranarray(target) if kind == "dense" else target
    moved = np.ascontiguousarray(np.moveaxis(pred, axis, -1)).astype(np.float32)
    moved_target = np.ascontiguousarray(np.moveaxis(target, axis, -1)) if kind == "dense" \
        else target
    for reduction in REDUCTIONS:
        want_loss, want_grad = split(fn(moved, moved_target, reduction=reduction))
        for n_threads in (1, 3):
            got_loss, got_grad = split(fn(pred, target, axis=axis, reduction=reduction,
                                          n_threads=n_threads))
            what = f"{reduction} n_threads={n_threads}"
            assert_same(got_loss, want_loss, what)
            if want_grad is not None:
                want = np.moveaxis(want_grad, -1, axis).astype(gradient_dtype(dtype))
                assert_same(got_grad, np.ascontiguousarray(want), what)
    extra = ({"out": np.empty(shape, gradient_dtype(dtype), order=order)}
             if want_grad is not None else {})
    tracemalloc.start()
    try:
        fn(pred, target, axis=axis, **extra)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # (a copy would be pred.nbytes at least; 4 kB for the call's small objects)
    assert peak < pred.nbytes / 4 + 4096, (name, peak, pred.nbytes)


# ---------------------------------------------------------------------------
# refused dtypes; inputs untouched
# ---------------------------------------------------------------------------

def opaque_dtypes():
    yield pytest.param("V2", id="void2")
    for name in ("float8_e4m3fn", "float8_e5m2"):
        yield pytest.param(name, id=name)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("dtype_name", list(opaque_dtypes()))
def test_float8_and_opaque_pred_is_a_type_error_naming_the_dtype(impl, name, dtype_name):
    """float8 (ml_dtypes) and other opaque dtypes are not read as numbers:
    TypeError naming the dtype."""
    if dtype_name.startswith("float8"):
        ml_dtypes = pytest.importorskip("ml_dtypes")
        dtype = np.dtype(getattr(ml_dtypes, dtype_name))
        pred = np.full((3, 4), 0.25).astype(dtype)
    else:
        dtype = np.dtype(dtype_name)
        pred = np.zeros((3, 4), dtype)
    target = np.zeros((3, 4)) if is_squared(name) else np.array([0, 1, 2])
    with pytest.raises(TypeError, match=re.escape(str(dtype))):
        getattr(impl, name)(pred, target)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name,kind", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("half", HALVES)
def test_half_inputs_are_not_modified(impl, name, kind, half):
    """pred, and a float16 dense target, class weights and sample weights keep
    their bits."""
    dtype = half_dtype(half)
    pred, target = make(name, kind, dtype, (3, 5, 2), axis=1, seed=9)
    if kind == "dense":
        target = target.astype(np.float16)
    sw = np.array([[1.0, 0.0], [2.0, 0.5], [0.25, 3.0]]).astype(np.float16)
    options = {} if is_squared(name) else {"weight": np.linspace(1.0, 2.0, 5).astype(np.float16)}
    arrays = [pred, target, sw] + list(options.values())
    before = [a.tobytes() for a in arrays]
    getattr(impl, name)(pred, target, axis=1, sample_weight=sw, reduction="none", **options)
    assert [a.tobytes() for a in arrays] == before
