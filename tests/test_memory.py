"""Memory: what a call allocates and that nothing leaks.

- no temporary of the input's size: a forward loss allocates nothing of the
  input's size for native inputs (float64 or float32 in any layout that is
  read in place: C or Fortran order, strided and reversed views, read-only
  arrays, memmaps; float64 targets of float32 predictions; strided labels;
  rows wider than the scratch buffers), integer labels are not copied, a
  gradient allocates only its output (nothing with out=, in any layout),
  and a converted input is copied at most once;
- no leak: a million calls of every function on a 1 x 10 problem, the error
  paths that raise and the paths that convert their inputs keep the
  process's RSS flat after a warm-up; malloc's bytes in use (glibc) do not
  grow over 4,000 calls of any one of them; no reference to an input is
  leaked; Python-level allocations (tracemalloc) do not grow.

tracemalloc sees NumPy's array buffers (NumPy reports them to it), so a
hidden ``np.asarray(..., float64)``, ``p[np.arange(n), t]`` or
``t.astype(np.intp)`` shows up in the peak. RSS is read from
/proc/self/statm (Linux only).
"""
import ctypes
import gc
import os
import sys
import tracemalloc

import numpy as np
import pytest

import fastloss as fl
from fastloss import book
from support import INT_DTYPES, LOSS_OF, name_of, peak_bytes, softmax_with_loss_step

N, C = 1_000_000, 10


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """data(key, dtype=None): module-wide inputs of a million rows, converted
    once per dtype; data("memmap") is the probabilities as a read-only memmap."""
    rng = np.random.default_rng(0)
    base = {
        "probs": rng.uniform(0.01, 1.0, (N, C)),
        "logits": rng.normal(0.0, 3.0, (N, C)),
        "dense": rng.uniform(0.0, 1.0, (N, C)),
        "soft": rng.dirichlet(np.ones(C), N),         # rows that sum to 1
        "labels": rng.integers(0, C, N),
    }
    path = tmp_path_factory.mktemp("mm") / "probs.f8"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=(N, C))
    mm[...] = base["probs"]
    mm.flush()
    del mm
    cache = {}

    def get(key, dtype=None):
        if key == "memmap":
            return np.memmap(path, dtype=np.float64, mode="r", shape=(N, C))
        a = base[key]
        if dtype is None or a.dtype.kind != "f":
            return a
        if (key, dtype) not in cache:
            cache[key, dtype] = a.astype(dtype)
        return cache[key, dtype]

    return get


def assert_small_peak(call, budget, what):
    peak = peak_bytes(call)
    assert peak < budget, f"{what}: {peak / 1e6:.1f} MB allocated (budget {budget / 1e6:.1f} MB)"


# ---------------------------------------------------------------------------
# forward losses: no temporary of the input's size
# ---------------------------------------------------------------------------

def forward_cases():
    ce, sce, mse = fl.cross_entropy, fl.softmax_cross_entropy, fl.mean_squared_error
    yield "cross_entropy-index", ce, "probs", "labels", {}
    yield "cross_entropy-index-options", ce, "probs", "labels", {
        "weight": np.ones(C), "ignore_index": 3, "label_smoothing": 0.1}
    yield "cross_entropy-dense", ce, "probs", "dense", {"weight": np.ones(C)}
    yield "softmax_cross_entropy-index", sce, "logits", "labels", {}
    yield "softmax_cross_entropy-index-options", sce, "logits", "labels", {
        "weight": np.ones(C), "ignore_index": 3, "label_smoothing": 0.1}
    yield "softmax_cross_entropy-dense", sce, "logits", "dense", {"label_smoothing": 0.1}
    yield "mean_squared_error", mse, "logits", "dense", {}


FORWARD = [pytest.param(*c[1:], id=c[0]) for c in forward_cases()]


def forward_budget(pred, reduction):
    """A sixteenth of the input, and the per-sample result for "none"."""
    budget = pred.nbytes // 16
    if reduction == "none":
        budget += N * pred.itemsize
    return budget


@pytest.mark.parametrize("fn,pred_key,target_key,options", FORWARD)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_forward_loss_allocates_far_less_than_its_input(data, fn, pred_key, target_key, options,
                                                        dtype, reduction):
    pred, target = data(pred_key, dtype), data(target_key, dtype)
    assert_small_peak(lambda: fn(pred, target, reduction=reduction, **options),
                      forward_budget(pred, reduction), f"a {pred.nbytes / 1e6:.0f} MB input")


def native_layout(a, layout, data):
    """``a`` in a layout that is read in place, without a copy."""
    if layout == "contiguous":
        return a
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "strided":          # every other row of a twice taller array
        big = np.empty((2 * a.shape[0],) + a.shape[1:], a.dtype)
        big[::2] = a
        return big[::2]
    if layout == "reversed":
        return a[::-1]
    if layout == "readonly":
        v = a.view()
        v.flags.writeable = False
        return v
    if layout == "memmap":
        return data("memmap")
    raise ValueError(layout)


NATIVE_LAYOUTS = ["contiguous", "fortran", "strided", "reversed", "readonly", "memmap"]

FORWARD_PATHS = [
    ("cross_entropy-index", fl.cross_entropy, "labels", {}),
    ("cross_entropy-index-eps0", fl.cross_entropy, "labels", {"eps": 0.0}),
    ("cross_entropy-index-smoothing", fl.cross_entropy, "labels", {"label_smoothing": 0.1}),
    ("cross_entropy-dense", fl.cross_entropy, "soft", {}),
    ("softmax_cross_entropy-index-weight", fl.softmax_cross_entropy, "labels",
     {"weight": np.ones(C), "ignore_index": 0}),
    ("softmax_cross_entropy-dense-weight", fl.softmax_cross_entropy, "soft",
     {"weight": np.linspace(1, 2, C)}),
    ("mean_squared_error", fl.mean_squared_error, "soft", {}),
]


@pytest.mark.parametrize("layout", NATIVE_LAYOUTS)
@pytest.mark.parametrize("name,fn,target_key,options", FORWARD_PATHS,
                         ids=[f[0] for f in FORWARD_PATHS])
@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_forward_loss_of_a_native_layout_allocates_no_temporary(data, layout, name, fn,
                                                                target_key, options, reduction):
    pred = native_layout(data("probs"), layout, data)
    assert_small_peak(lambda: fn(pred, data(target_key), reduction=reduction, **options),
                      forward_budget(pred, reduction),
                      f"{name} ({layout}, {reduction}), a {pred.nbytes / 1e6:.0f} MB input")


@pytest.mark.parametrize("layout", ["fortran", "strided", "reversed"])
@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy,
                                fl.mean_squared_error], ids=name_of)
def test_target_of_a_native_layout_is_not_copied(data, layout, fn):
    target = native_layout(data("soft"), layout, data)
    pred = data("probs")
    assert_small_peak(lambda: fn(pred, target), pred.nbytes // 16, f"a {layout} target")


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy_and_grad],
                         ids=name_of)
@pytest.mark.parametrize("label_dtype", INT_DTYPES)
def test_native_integer_labels_are_not_copied(fn, label_dtype):
    # one class: the labels are as large as the probabilities, so a copy of
    # them into int64 / intp would be as large as the input
    pred = np.full((N, 1), 0.5)
    labels = np.zeros(N, label_dtype)
    out = np.empty_like(pred)
    kw = {"out": out} if fn is fl.softmax_cross_entropy_and_grad else {}
    assert_small_peak(lambda: fn(pred, labels, **kw), pred.nbytes // 8,
                      f"{labels.nbytes / 1e6:.0f} MB of labels")


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy], ids=name_of)
def test_strided_labels_are_not_copied(data, fn):
    big = np.repeat(data("labels"), 2).astype(np.int64)      # 16 MB
    labels = big[::2]
    assert_small_peak(lambda: fn(data("probs"), labels), labels.nbytes // 4, "strided labels")


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy, fl.mean_squared_error],
                         ids=name_of)
def test_float64_target_of_a_float32_pred_is_not_copied(data, fn):
    # "native float targets" are read in place and rounded element by element
    pred = data("probs")[: N // 4].astype(np.float32)
    target = data("soft")[: N // 4]
    assert_small_peak(lambda: fn(pred, target), pred.nbytes // 16, "a float64 target")


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy], ids=name_of)
@pytest.mark.parametrize("target_kind", ["labels", "dense"])
def test_rows_wider_than_the_scratch_buffers_allocate_no_temporary(fn, target_kind):
    rng = np.random.default_rng(3)
    n, c = 400, 5000
    pred = rng.uniform(0.01, 1.0, (n, c))
    target = rng.integers(0, c, n) if target_kind == "labels" else rng.dirichlet(np.ones(c), n)
    assert_small_peak(lambda: fn(pred, target, weight=np.ones(c)),
                      pred.nbytes // 16 + c * 8 * 2, f"{n} rows of {c} classes")


# ---------------------------------------------------------------------------
# gradients: only their output
# ---------------------------------------------------------------------------

GRAD_CASES = [
    pytest.param(fl.cross_entropy_and_grad, "probs", "labels", id="cross_entropy-index"),
    pytest.param(fl.cross_entropy_and_grad, "probs", "dense", id="cross_entropy-dense"),
    pytest.param(fl.softmax_cross_entropy_and_grad, "logits", "labels",
                 id="softmax_cross_entropy-index"),
    pytest.param(fl.softmax_cross_entropy_and_grad, "logits", "dense",
                 id="softmax_cross_entropy-dense"),
    pytest.param(fl.mean_squared_error_and_grad, "logits", "dense", id="mean_squared_error"),
]


@pytest.mark.parametrize("fn,pred_key,target_key", GRAD_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradient_allocates_only_its_output(data, fn, pred_key, target_key, dtype):
    pred, target = data(pred_key, dtype), data(target_key, dtype)
    assert_small_peak(lambda: fn(pred, target), pred.nbytes + pred.nbytes // 16, "a gradient")
    out = np.empty_like(pred)
    assert_small_peak(lambda: fn(pred, target, out=out), pred.nbytes // 16,
                      "a gradient with out=")


@pytest.mark.parametrize("fn,pred_key,target_key", GRAD_CASES)
def test_converted_inputs_are_copied_at_most_once(data, fn, pred_key, target_key):
    pred, target = data(pred_key, ">f8"), data(target_key)
    budget = pred.nbytes + pred.nbytes // 16
    assert_small_peak(lambda: LOSS_OF[fn](pred, target), budget, "a byte-swapped input")
    out = np.empty(pred.shape)
    assert_small_peak(lambda: fn(pred, target, out=out), budget,
                      "a byte-swapped input with out=")


@pytest.mark.parametrize("layout", ["fortran", "strided", "reversed"])
@pytest.mark.parametrize("fn,target_key", [(fl.cross_entropy_and_grad, "labels"),
                                           (fl.softmax_cross_entropy_and_grad, "soft"),
                                           (fl.mean_squared_error_and_grad, "soft")],
                         ids=name_of)
def test_gradient_into_out_of_any_layout_allocates_nothing(data, layout, fn, target_key):
    pred = native_layout(data("probs"), layout, data)
    out = native_layout(np.empty((N, C)), layout, data)
    assert_small_peak(lambda: fn(pred, data(target_key), out=out), pred.nbytes // 16,
                      f"out= ({layout})")


# ---------------------------------------------------------------------------
# fastloss.book: the book's functions run on the kernels
# ---------------------------------------------------------------------------

def test_book_losses_run_on_the_kernels(data):
    # the book's NumPy code allocates y[np.arange(N), t], its + 1e-7 and its
    # log: several arrays of N floats; the kernels allocate none
    y, t = data("probs"), data("labels")
    assert_small_peak(lambda: book.cross_entropy_error(y, t), y.nbytes // 16,
                      "book.cross_entropy_error")
    assert_small_peak(lambda: book.sum_squared_error(y, data("dense")), y.nbytes // 16,
                      "book.sum_squared_error")


def test_book_softmax_allocates_only_its_output(data):
    x = data("probs")
    assert_small_peak(lambda: book.softmax(x), x.nbytes + x.nbytes // 16, "book.softmax")


def test_book_layer_forward_allocates_only_y(data):
    x, t = data("probs"), data("labels")
    layer = book.SoftmaxWithLoss()
    assert_small_peak(lambda: layer.forward(x, t), x.nbytes + x.nbytes // 16,
                      "SoftmaxWithLoss.forward")


def test_book_cross_entropy_error_of_one_hot_rows_allocates_only_the_indices(data):
    # t.argmax(axis=1) of the book's rule: N indices, not an (N, C) temporary
    y, t = data("probs"), data("soft")
    assert_small_peak(lambda: book.cross_entropy_error(y, t), N * 8 + y.nbytes // 16,
                      "book.cross_entropy_error of one-hot rows")


# ---------------------------------------------------------------------------
# no leak
# ---------------------------------------------------------------------------

def small_calls():
    """Thunks covering every function, reduction, option, conversion and
    error path on a 1 x 10 problem (and one 100 x 10 batch)."""
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 1.0, (1, C))
    p /= p.sum()
    t = np.array([3])
    dense = np.eye(C)[[3]]
    w = np.linspace(0.5, 2.0, C)
    out = np.empty((1, C))
    batch = rng.uniform(0.05, 1.0, (100, C))
    labels = rng.integers(0, C, 100)
    f16 = p.astype(np.float16)
    swapped = p.astype(">f8")
    bad_t = np.array([C])
    p3 = np.zeros((1, 1, C))
    cplx = p.astype(np.complex128)
    ok = [
        lambda: fl.cross_entropy(p, t),
        lambda: fl.cross_entropy(p, t, reduction="none"),
        lambda: fl.cross_entropy(p, dense, reduction="sum"),
        lambda: fl.cross_entropy(p, t, weight=w, ignore_index=0, label_smoothing=0.1),
        lambda: fl.softmax_cross_entropy(p, t),
        lambda: fl.softmax_cross_entropy(p, dense, reduction="none", label_smoothing=0.2),
        lambda: fl.mean_squared_error(p, dense),
        lambda: fl.mean_squared_error(p, dense, reduction="none"),
        lambda: fl.cross_entropy_and_grad(p, t),
        lambda: fl.cross_entropy_and_grad(p, t, weight=w, out=out),
        lambda: fl.softmax_cross_entropy_and_grad(p, t),
        lambda: fl.softmax_cross_entropy_and_grad(p, dense, out=out, reduction="none"),
        lambda: fl.mean_squared_error_and_grad(p, dense),
        lambda: fl.mean_squared_error_and_grad(p, dense, out=out, reduction="sum"),
        lambda: fl.cross_entropy(p[0], 3),                       # a Python int label
        lambda: fl.cross_entropy(batch, labels, n_threads=2),
        lambda: fl.softmax_cross_entropy_and_grad(batch, labels),
        lambda: fl.cross_entropy(f16, t),                       # converted inputs
        lambda: fl.softmax_cross_entropy(swapped, t),
        lambda: fl.mean_squared_error([[0.5] * C], [[0.0] * C]),
        lambda: fl.cross_entropy(p, [3]),
        lambda: book.softmax(p),
        lambda: book.cross_entropy_error(p, t),
        lambda: book.cross_entropy_error(p[0], dense[0]),
        lambda: book.sum_squared_error(p, dense),
        lambda: softmax_with_loss_step(p, t),
    ]
    raising = [
        lambda: fl.cross_entropy(p, bad_t),                      # IndexError
        lambda: fl.softmax_cross_entropy_and_grad(p, bad_t, out=out),
        lambda: fl.cross_entropy(p, t, weight=w, ignore_index=1, reduction="mean") and
        fl.cross_entropy_and_grad(p, bad_t, weight=w),
        lambda: fl.cross_entropy(p[0], 2 ** 70),
        lambda: fl.cross_entropy(cplx, t),                      # TypeError, dtype
        lambda: fl.cross_entropy(p, t.astype(float)),           # class indices must be integers
        lambda: fl.softmax_cross_entropy(p3, t),                # ValueError, shape
        lambda: fl.mean_squared_error(p, p[:, :3]),
        lambda: fl.cross_entropy(p, t, reduction="avg"),
        lambda: fl.cross_entropy(p, t, eps=-1.0),
        lambda: fl.cross_entropy(p, t, eps="x"),
        lambda: fl.cross_entropy(p, t, weight=w[:3]),
        lambda: fl.cross_entropy(p, t, ignore_index=1.5),
        lambda: fl.cross_entropy(p, dense, ignore_index=1),
        lambda: fl.softmax_cross_entropy(p, t, label_smoothing=2.0),
        lambda: fl.mean_squared_error(p, dense, n_threads=0),
        lambda: fl.cross_entropy_and_grad(p, t, out=np.empty((1, C), np.float32)),
        lambda: fl.cross_entropy_and_grad(p, t, out=[0.0] * C),
        lambda: fl.cross_entropy(object(), t),
        lambda: book.softmax("abc"),
    ]
    return ok, raising


def run_calls(calls, n_calls):
    k = len(calls)
    for i in range(n_calls):
        try:
            calls[i % k]()
        except (TypeError, ValueError, IndexError):
            pass


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer's quarantine holds freed memory: RSS grows")
def test_rss_stays_flat_over_a_million_calls():
    ok, raising = small_calls()
    calls = ok + raising
    for f in raising:                       # every error path does raise
        with pytest.raises((TypeError, ValueError, IndexError)):
            f()
    run_calls(calls, 30_000)                # warm-up: caches, arenas, interned strings
    gc.collect()
    before = rss_bytes()
    run_calls(calls, 1_000_000)             # a million calls (about 2 s)
    gc.collect()
    grown = rss_bytes() - before
    # a leak of 16 bytes a call would add 16 MB
    assert grown < 2 * 2 ** 20, f"RSS grew by {grown / 2 ** 20:.2f} MB over 1,000,000 calls"


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _malloc_in_use():
    """Bytes malloc has handed out and not had back (glibc's mallinfo2), or
    None where that is not available."""
    try:
        libc = ctypes.CDLL(None)
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return info.uordblks + info.hblkhd


@pytest.mark.skipif(_malloc_in_use() is None, reason="needs glibc's mallinfo2")
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer replaces malloc")
def test_malloc_in_use_does_not_grow_for_any_call():
    # RSS hides small leaks (freed memory is reused first); malloc's count of
    # bytes in use does not: a leak of 1 byte a call shows as 128 kB here
    ok, raising = small_calls()
    calls = ok + raising
    run_calls(calls, 30_000)
    grown = {}
    for i, f in enumerate(calls):
        run_calls([f], 500)
        gc.collect()
        before = _malloc_in_use()
        run_calls([f], 4_000)
        gc.collect()
        delta = _malloc_in_use() - before
        if delta > 4_000:
            grown[i] = delta
    assert not grown, f"malloc'd bytes grew over 4,000 calls of call #: bytes {grown}"


def test_no_reference_to_an_input_is_leaked():
    ok, raising = small_calls()
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 1.0, (4, C))
    t = np.array([0, 1, 2, 3])
    bad = np.array([0, 1, C, 3])
    dense = np.eye(C)[t]
    w = np.ones(C)
    out = np.empty((4, C))
    objects = [p, t, bad, dense, w, out]
    calls = [
        lambda: fl.cross_entropy(p, t, weight=w, ignore_index=0),
        lambda: fl.cross_entropy(p, dense, reduction="none"),
        lambda: fl.softmax_cross_entropy_and_grad(p, t, out=out, weight=w),
        lambda: fl.mean_squared_error_and_grad(p, dense, out=out),
        lambda: fl.cross_entropy(p, bad),
        lambda: fl.softmax_cross_entropy_and_grad(p, bad, weight=w, out=out),
        lambda: fl.cross_entropy(p, t, weight=w[:3]),
        lambda: fl.cross_entropy_and_grad(p, t, out=out[:2]),
        lambda: fl.mean_squared_error(p, dense, reduction=None),
        lambda: book.cross_entropy_error(p, t),
        lambda: book.softmax(p),
    ]
    run_calls(calls, 100)
    before = [sys.getrefcount(o) for o in objects]
    run_calls(calls, 10_000)
    after = [sys.getrefcount(o) for o in objects]
    assert after == before, f"reference counts of the inputs went from {before} to {after}"


def test_python_allocations_do_not_grow():
    ok, raising = small_calls()
    calls = ok + raising
    run_calls(calls, 5_000)
    gc.collect()
    tracemalloc.start()
    try:
        run_calls(calls, 5_000)
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        run_calls(calls, 20_000)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, f"traced Python memory grew by {grown} bytes over 20,000 calls"
