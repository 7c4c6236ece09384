"""Memory (issue 7), beyond tests/test_memory.py:

- no leak: a million calls of every function on a 1 x 10 problem, the error
  paths that raise and the paths that convert their inputs keep the
  process's RSS flat after a warm-up; malloc's bytes in use (glibc) do not
  grow over 4,000 calls of any one of them; no reference to an input is
  leaked; Python-level allocations (tracemalloc) do not grow;
- forward losses allocate no temporary of the input's size for the layouts
  SPEC section 1 lists as native (Fortran order, strided and reversed views,
  read-only arrays, memmaps), for "sum", for the paths test_memory.py leaves
  out (eps=0, smoothing only, rows wider than the scratch buffers, float64
  targets of float32 predictions, strided labels), and a gradient with out=
  allocates nothing of that size in those layouts either.

RSS is read from /proc/self/statm (Linux only).
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
from support import peak_bytes

C = 10


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
        lambda: softmax_with_loss(p, t),
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


def softmax_with_loss(x, t):
    layer = book.SoftmaxWithLoss()
    layer.forward(x, t)
    return layer.backward()


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
    run_calls(calls, 1_000_000)             # the million (about 2 s)
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


# ---------------------------------------------------------------------------
# no temporary of the input's size
# ---------------------------------------------------------------------------

N = 1_000_000


@pytest.fixture(scope="module")
def arrays(tmp_path_factory):
    """Module-wide inputs of a million rows (float64), made once."""
    rng = np.random.default_rng(2)
    probs = rng.uniform(0.01, 1.0, (N, C))
    dense = rng.dirichlet(np.ones(C), N)
    labels = rng.integers(0, C, N)
    path = tmp_path_factory.mktemp("mm") / "probs.f8"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=(N, C))
    mm[...] = probs
    mm.flush()
    del mm
    return {"probs": probs, "dense": dense, "labels": labels, "memmap_path": path}


def native_layout(a, layout, arrays):
    """``a`` in a layout that SPEC 1 counts as native (read in place)."""
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
        return np.memmap(arrays["memmap_path"], dtype=np.float64, mode="r", shape=(N, C))
    raise ValueError(layout)


LAYOUTS = ["contiguous", "fortran", "strided", "reversed", "readonly", "memmap"]

FORWARD = [
    ("cross_entropy-index", fl.cross_entropy, "labels", {}),
    ("cross_entropy-index-eps0", fl.cross_entropy, "labels", {"eps": 0.0}),
    ("cross_entropy-index-smoothing", fl.cross_entropy, "labels", {"label_smoothing": 0.1}),
    ("cross_entropy-dense", fl.cross_entropy, "dense", {}),
    ("softmax_cross_entropy-index-weight", fl.softmax_cross_entropy, "labels",
     {"weight": np.ones(C), "ignore_index": 0}),
    ("softmax_cross_entropy-dense-weight", fl.softmax_cross_entropy, "dense",
     {"weight": np.linspace(1, 2, C)}),
    ("mean_squared_error", fl.mean_squared_error, "dense", {}),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name,fn,target_key,options", FORWARD, ids=[f[0] for f in FORWARD])
@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_forward_loss_of_a_native_layout_allocates_no_temporary(arrays, layout, name, fn,
                                                                target_key, options, reduction):
    pred = native_layout(arrays["probs"], layout, arrays)
    target = arrays[target_key]
    budget = pred.nbytes // 16
    if reduction == "none":
        budget += N * 8                       # the per-sample result
    peak = peak_bytes(lambda: fn(pred, target, reduction=reduction, **options))
    assert peak < budget, (f"{name} ({layout}, {reduction}): {peak / 1e6:.1f} MB allocated for a "
                           f"{pred.nbytes / 1e6:.0f} MB input")


@pytest.mark.parametrize("layout", ["fortran", "strided", "reversed"])
@pytest.mark.parametrize("fn,target_key", [(fl.cross_entropy, "dense"),
                                           (fl.softmax_cross_entropy, "dense"),
                                           (fl.mean_squared_error, "dense")],
                         ids=lambda v: getattr(v, "__name__", v))
def test_target_of_a_native_layout_is_not_copied(arrays, layout, fn, target_key):
    target = native_layout(arrays[target_key], layout, arrays)
    pred = arrays["probs"]
    peak = peak_bytes(lambda: fn(pred, target))
    assert peak < pred.nbytes // 16, f"{peak / 1e6:.1f} MB for a {layout} target"


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy],
                         ids=lambda f: f.__name__)
def test_strided_labels_are_not_copied(arrays, fn):
    big = np.repeat(arrays["labels"], 2).astype(np.int64)      # 16 MB
    labels = big[::2]
    pred = arrays["probs"]
    peak = peak_bytes(lambda: fn(pred, labels))
    assert peak < labels.nbytes // 4, f"{peak / 1e6:.1f} MB for strided labels"


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy, fl.mean_squared_error],
                         ids=lambda f: f.__name__)
def test_float64_target_of_a_float32_pred_is_not_copied(arrays, fn):
    # "native float targets" are read in place and rounded element by element
    pred = arrays["probs"][: N // 4].astype(np.float32)
    target = arrays["dense"][: N // 4]
    peak = peak_bytes(lambda: fn(pred, target))
    assert peak < pred.nbytes // 16, f"{peak / 1e6:.1f} MB for a float64 target"


@pytest.mark.parametrize("fn", [fl.cross_entropy, fl.softmax_cross_entropy],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("target_kind", ["labels", "dense"])
def test_rows_wider_than_the_scratch_buffers_allocate_no_temporary(fn, target_kind):
    rng = np.random.default_rng(3)
    n, c = 400, 5000
    pred = rng.uniform(0.01, 1.0, (n, c))
    target = rng.integers(0, c, n) if target_kind == "labels" else rng.dirichlet(np.ones(c), n)
    peak = peak_bytes(lambda: fn(pred, target, weight=np.ones(c)))
    assert peak < pred.nbytes // 16 + c * 8 * 2, f"{peak / 1e6:.1f} MB"


@pytest.mark.parametrize("layout", ["fortran", "strided", "reversed"])
@pytest.mark.parametrize("fn,target_key", [(fl.cross_entropy_and_grad, "labels"),
                                           (fl.softmax_cross_entropy_and_grad, "dense"),
                                           (fl.mean_squared_error_and_grad, "dense")],
                         ids=lambda v: getattr(v, "__name__", v))
def test_gradient_into_out_of_any_layout_allocates_nothing(arrays, layout, fn, target_key):
    pred = native_layout(arrays["probs"], layout, arrays)
    out = native_layout(np.empty((N, C)), layout, arrays)
    peak = peak_bytes(lambda: fn(pred, arrays[target_key], out=out))
    assert peak < pred.nbytes // 16, f"{peak / 1e6:.1f} MB with out= ({layout})"


def test_book_softmax_allocates_only_its_output(arrays):
    x = arrays["probs"]
    assert peak_bytes(lambda: book.softmax(x)) < x.nbytes + x.nbytes // 16


def test_book_layer_forward_allocates_only_y(arrays):
    x, t = arrays["probs"], arrays["labels"]
    layer = book.SoftmaxWithLoss()
    assert peak_bytes(lambda: layer.forward(x, t)) < x.nbytes + x.nbytes // 16


def test_book_cross_entropy_error_of_one_hot_rows_allocates_only_the_indices(arrays):
    # t.argmax(axis=1) of the book's rule: N indices, not an (N, C) temporary
    y, t = arrays["probs"], arrays["dense"]
    assert peak_bytes(lambda: book.cross_entropy_error(y, t)) < N * 8 + y.nbytes // 16
