"""Threads: n_threads, the same bits for every thread count, concurrent
Python threads and the GIL.

- n_threads: what it accepts, and the ValueError naming a bad value;
- bitwise identical results for every n_threads (1, 2, 3, 8, None, and a
  repeated 8-thread call), for every loss and gradient, on every kernel path
  (gathered, dense, general, softmax, wide rows, squared error), both
  dtypes, every reduction, non-contiguous layouts, up to a million rows;
  out= gets the same bits, and the first bad label is the one reported;
- the binary cross-entropies: the same bits for n_threads 1, 2, 3 and None
  on 144,124 elements (563 blocks), every reduction, loss and gradient,
  and for Fortran, strided and reversed inputs, broadcast weights (their
  own shapes and stride-0 views) and out= in another layout: the bits of
  the contiguous call with materialised weights;
- Python threads calling every function (the book's too) at the same time
  on shared read-only inputs get the serial results bit for bit, raise
  nothing and modify nothing;
- every function releases the GIL while its kernel runs: another Python
  thread keeps running during a long call.
"""
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastloss as fl
from fastloss import book
from support import (ALL_FUNCS, GRADS, LOSS_OF, assert_same, assert_same_result, is_mse,
                     make_problem, name_of, softmax_with_loss_step)

N, C = 1_000_000, 10
THREADS = (1, 2, 3, 8)


def problem(fn, kind, n, dtype=np.float64, seed=0):
    """(pred, target) of n rows and C classes, the labels int32."""
    return make_problem(fn, kind, n, C, dtype, seed, label_dtype=np.int32)


# ---------------------------------------------------------------------------
# n_threads validation
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", ALL_FUNCS, ids=name_of)
@pytest.mark.parametrize("value,text", [(0, "0"), (-1, "-1"), (-8, "-8"), (True, "True"),
                                        (False, "False"), (1.0, "1.0"), (2.5, "2.5"),
                                        ("2", "2"), ([2], "[2]")], ids=repr)
def test_bad_n_threads_is_a_value_error(fn, value, text):
    pred, target = problem(fn, "index", 4)
    with pytest.raises(ValueError) as info:
        fn(pred, target, n_threads=value)
    msg = str(info.value)
    assert "n_threads" in msg and text in msg, msg


@pytest.mark.parametrize("fn", ALL_FUNCS, ids=name_of)
def test_good_n_threads_values_are_accepted(fn):
    pred, target = problem(fn, "index", 4)
    want = fn(pred, target)
    for n_threads in (None, 1, 2, 64, 10**6):
        assert_same_result(fn(pred, target, n_threads=n_threads), want)


# ---------------------------------------------------------------------------
# bitwise identical for every n_threads
# ---------------------------------------------------------------------------

N_BIG = 200_003     # not a multiple of any chunk size


def bitwise_cases():
    for fn in ALL_FUNCS:
        for kind in ("index", "dense"):
            if is_mse(fn) and kind == "index":
                continue
            # float32 through the gradient functions, which run the loss kernels too
            for dtype in (np.float32, np.float64) if fn in GRADS else (np.float64,):
                yield pytest.param(fn, kind, dtype,
                                   id=f"{fn.__name__}-{kind}-{np.dtype(dtype).name}")


@pytest.mark.parametrize("fn,kind,dtype", list(bitwise_cases()))
def test_results_are_bitwise_identical_for_every_n_threads(fn, kind, dtype):
    pred, target = problem(fn, kind, N_BIG, dtype=dtype, seed=5)
    options = [{"reduction": r} for r in ("mean", "sum", "none")]
    if not is_mse(fn):
        options.append({"weight": np.linspace(0.5, 2.0, 10), "label_smoothing": 0.1,
                        **({"ignore_index": 3} if kind == "index" else {})})
    for kw in options:
        want = fn(pred, target, n_threads=1, **kw)
        for n_threads in (2, 3, 8, None):
            assert_same_result(fn(pred, target, n_threads=n_threads, **kw), want)


@pytest.fixture(scope="module")
def big():
    """big(key, dtype): inputs of a million rows shared by the tests below,
    converted once per dtype (about 360 MB in all)."""
    rng = np.random.default_rng(11)
    base = {
        "probs": rng.uniform(0.001, 1.0, (N, C)),
        "dense": rng.dirichlet(np.ones(C), N),
        "labels": rng.integers(0, C, N).astype(np.int32),
    }
    base["probs"][::9973, 2] = 0.0            # log(0) with eps=0 paths
    base["labels"][::101] = 3                 # rows for ignore_index=3
    cache = {}

    def get(key, dtype=np.float64):
        a = base[key]
        if a.dtype.kind != "f" or dtype == np.float64:
            return a
        if key not in cache:
            cache[key] = a.astype(dtype)
        return cache[key]

    return get


W = np.linspace(0.5, 2.0, C)

PATHS = {
    # name: (functions, target key, options, pred layout)
    "ce-gathered": ("ce", "labels", {}, None),
    "ce-gathered-eps0": ("ce", "labels", {"eps": 0.0}, None),
    "ce-general": ("ce", "labels", {"weight": W, "label_smoothing": 0.1, "ignore_index": 3}, None),
    "ce-dense": ("ce", "dense", {}, None),
    "ce-dense-general": ("ce", "dense", {"weight": W, "label_smoothing": 0.05}, None),
    "ce-fortran": ("ce", "dense", {}, "fortran"),
    "sce-plain": ("sce", "labels", {}, None),
    "sce-options": ("sce", "labels", {"weight": W, "label_smoothing": 0.1, "ignore_index": 3},
                    None),
    "sce-dense": ("sce", "dense", {"label_smoothing": 0.1}, None),
    "sce-strided": ("sce", "labels", {}, "columns"),
    "mse": ("mse", "dense", {}, None),
    "mse-fortran": ("mse", "dense", {}, "fortran"),
}

FUNCS = {"ce": (fl.cross_entropy, fl.cross_entropy_and_grad),
         "sce": (fl.softmax_cross_entropy, fl.softmax_cross_entropy_and_grad),
         "mse": (fl.mean_squared_error, fl.mean_squared_error_and_grad)}


def with_layout(a, layout):
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "columns":       # every other column of a wider array
        wide = np.empty((a.shape[0], 2 * a.shape[1]), a.dtype)
        wide[:, ::2] = a
        return wide[:, ::2]
    return a


@pytest.fixture(scope="module")
def laid_out(big):
    cache = {}

    def get(key, dtype, layout):
        if layout is None:
            return big(key, dtype)
        if (key, dtype, layout) not in cache:
            cache.clear()                     # one converted copy alive at a time
            cache[key, dtype, layout] = with_layout(big(key, dtype), layout)
        return cache[key, dtype, layout]

    return get


@pytest.mark.parametrize("grad", [False, True], ids=["loss", "grad"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("path", list(PATHS))
def test_a_million_rows_give_the_same_bits_for_every_n_threads(laid_out, big, path, dtype, grad):
    family, target_key, options, layout = PATHS[path]
    fn = FUNCS[family][grad]
    pred = laid_out("probs", dtype, layout)
    target = big(target_key, dtype)
    # gradients go to two reused buffers: no 80 MB allocation per call
    out = {"out": np.empty(pred.shape, dtype)} if grad else {}
    want_out = np.empty(pred.shape, dtype) if grad else None
    for reduction in ("mean", "sum", "none"):
        want = fn(pred, target, reduction=reduction, n_threads=1, **options, **out)
        if grad:
            want_out[...] = want[1]
            want = (want[0], want_out)
        for n_threads in THREADS[1:] + (8,):         # 8 twice: races would show
            got = fn(pred, target, reduction=reduction, n_threads=n_threads, **options, **out)
            assert_same_result(got, want, f"{path} {reduction} n_threads={n_threads} vs 1")
        if grad:
            # the loss of the gradient function is the loss function's
            assert_same(want[0], LOSS_OF[fn](pred, target, reduction=reduction,
                                             n_threads=8, **options), "loss vs loss function")


@pytest.mark.parametrize("grad", [False, True], ids=["loss", "grad"])
@pytest.mark.parametrize("family", ["ce", "sce"])
def test_wide_rows_give_the_same_bits_for_every_n_threads(family, grad):
    # rows wider than the kernels' 2048-element scratch buffers, over 8 blocks
    rng = np.random.default_rng(12)
    n, c = 2000, 2100
    pred = rng.uniform(0.001, 1.0, (n, c))
    labels = rng.integers(0, c, n).astype(np.uint16)
    dense = rng.dirichlet(np.ones(c), n)
    fn = FUNCS[family][grad]
    for target, options in ((labels, {}), (labels, {"weight": rng.uniform(0, 2, c),
                                                    "ignore_index": 7}), (dense, {})):
        for reduction in ("mean", "none"):
            want = fn(pred, target, reduction=reduction, n_threads=1, **options)
            for n_threads in THREADS[1:]:
                got = fn(pred, target, reduction=reduction, n_threads=n_threads, **options)
                assert_same_result(got, want, f"C={c} {reduction} n_threads={n_threads}")


@pytest.mark.parametrize("fn", GRADS, ids=name_of)
def test_out_gets_the_same_bits_for_every_n_threads(big, fn):
    pred = big("probs")
    target = big("dense")
    want = fn(pred, target, n_threads=1)
    out = np.full((N, C), np.nan)
    for n_threads in THREADS[1:]:
        loss, grad = fn(pred, target, n_threads=n_threads, out=out)
        assert grad is out
        assert_same_result((loss, grad), want, f"out= n_threads={n_threads}")
        out[...] = np.nan


def test_the_first_bad_label_is_reported_for_every_n_threads(big):
    labels = big("labels").copy()
    labels[[700_001, 512_345, 999_999]] = [C, -1, 99]        # the first bad row is 512345
    for n_threads in THREADS:
        for fn in (fl.cross_entropy, fl.softmax_cross_entropy_and_grad):
            with pytest.raises(IndexError, match=r"target -1 is out of range for 10 classes "
                                                 r"\(row 512345\)"):
                fn(big("probs"), labels, n_threads=n_threads)


# ---------------------------------------------------------------------------
# the binary cross-entropies: the same bits for every n_threads, layout and
# broadcasting of the weights
# ---------------------------------------------------------------------------

BINARY_FUNCS = {"bce": (fl.binary_cross_entropy, fl.binary_cross_entropy_and_grad),
                "sbce": (fl.sigmoid_binary_cross_entropy,
                         fl.sigmoid_binary_cross_entropy_and_grad)}
# 144,124 elements: above the 131,072 from which n_threads=None splits too;
# 563 blocks of 256 (the last one partial), a sample's 36,031 elements
# ending inside a block
BINARY_SHAPE = (4, 137, 263)
BINARY_THREADS = (1, 2, 3, None)


@pytest.fixture(scope="module")
def binary_inputs():
    """binary_inputs(family, dtype): (pred, target, weights) of BINARY_SHAPE.
    Probabilities with exact 0s and 1s, logits beyond +-700 and infinite,
    each where its target makes the term's coefficient 0 (a finite loss,
    the special-value paths taken in many blocks); hard targets, soft ones
    in one sample; weights: weight per column (263,), pos_weight per row
    of a sample (137, 1), sample weights with a zero."""
    rng = np.random.default_rng(15)
    target = rng.integers(0, 2, BINARY_SHAPE).astype(np.float64)
    target[2] = rng.uniform(0.0, 1.0, BINARY_SHAPE[1:])
    hard = target.reshape(-1) != target.reshape(-1).round()
    flat_t = target.reshape(-1)
    spots = np.flatnonzero(~hard)[::997]                 # hard targets, every few blocks
    probs = rng.uniform(0.001, 1.0, BINARY_SHAPE)
    probs.reshape(-1)[spots] = flat_t[spots]             # p = t: log(0) only in zero terms
    logits = rng.normal(0.0, 4.0, BINARY_SHAPE)
    big = np.where(flat_t[spots] == 1.0, 1.0, -1.0)      # the far side of the target
    logits.reshape(-1)[spots] = big * np.where(np.arange(spots.size) % 3 == 0, np.inf, 800.0)
    weights = {"weight": rng.uniform(0.5, 2.0, BINARY_SHAPE[-1]),
               "pos_weight": rng.uniform(0.25, 4.0, (BINARY_SHAPE[1], 1)),
               "sample_weight": np.array([1.5, 0.0, 0.75, 2.0])}
    cache = {}

    def get(family, dtype):
        if (family, dtype) not in cache:
            pred = probs if family == "bce" else logits
            cache[family, dtype] = (pred.astype(dtype), target, weights)
        return cache[family, dtype]

    return get


def binary_options(family, weights, kind="all"):
    """The options of the calls: plain; label smoothing with weights and
    (probabilities) eps = 0."""
    extra = {"eps": 0.0} if family == "bce" else {}
    plain = [{"reduction": r, **extra} for r in ("mean", "sum", "none")]
    full = [{"reduction": r, "label_smoothing": 0.05, **weights, **extra}
            for r in ("mean", "sum", "none")]
    return {"plain": plain, "weighted": full, "all": plain + full}[kind]


def binary_layout(a, layout):
    """``a``'s values in another memory layout."""
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "strided":                  # every other element of the last axis
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        wide[..., ::2] = a
        return wide[..., ::2]
    if layout == "reversed":                 # negative strides
        rev = (slice(None, None, -1),) * a.ndim
        return np.ascontiguousarray(a[rev])[rev]
    assert layout == "contiguous"
    return a


@pytest.mark.parametrize("grad", [False, True], ids=["loss", "grad"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("layout", ["contiguous", "fortran"])
@pytest.mark.parametrize("family", ["bce", "sbce"])
def test_binary_results_are_bitwise_identical_for_every_n_threads(binary_inputs, family,
                                                                  layout, dtype, grad):
    pred, target, weights = binary_inputs(family, dtype)
    pred, target = binary_layout(pred, layout), binary_layout(target, layout)
    fn = BINARY_FUNCS[family][grad]
    for kw in binary_options(family, weights):
        want = fn(pred, target, n_threads=1, **kw)
        for n_threads in BINARY_THREADS[1:]:
            got = fn(pred, target, n_threads=n_threads, **kw)
            assert_same_result(got, want, f"{family} {layout} {kw['reduction']} "
                                          f"n_threads={n_threads} vs 1")
        if grad:
            # the loss of the gradient function is the loss function's
            assert_same(want[0], BINARY_FUNCS[family][0](pred, target, n_threads=3, **kw),
                        "loss vs loss function")


@pytest.mark.parametrize("grad", [False, True], ids=["loss", "grad"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("family", ["bce", "sbce"])
def test_binary_layouts_and_broadcast_weights_give_the_contiguous_bits(binary_inputs, family,
                                                                       dtype, grad):
    """Fortran, strided and reversed pred and target, broadcast weights
    (their own shapes, and stride-0 views of pred's shape), strided sample
    weights and out= in another layout: the bits of the contiguous call
    with materialised weights, for every n_threads."""
    pred, target, weights = binary_inputs(family, dtype)
    fn = BINARY_FUNCS[family][grad]
    full = {"weight": np.ascontiguousarray(np.broadcast_to(weights["weight"], BINARY_SHAPE)),
            "pos_weight": np.ascontiguousarray(np.broadcast_to(weights["pos_weight"],
                                                               BINARY_SHAPE)),
            "sample_weight": weights["sample_weight"].copy()}
    views = {"weight": np.broadcast_to(weights["weight"], BINARY_SHAPE),
             "pos_weight": np.broadcast_to(weights["pos_weight"], BINARY_SHAPE),
             "sample_weight": binary_layout(weights["sample_weight"], "strided")}
    variants = [("fortran", weights, None), ("strided", views, "fortran"),
                ("reversed", weights, "strided")]
    for kw in binary_options(family, {}, "weighted"):
        want = fn(pred, target, n_threads=1, **kw, **full)
        for layout, w, out_layout in variants:
            p, t = binary_layout(pred, layout), binary_layout(target, layout)
            for n_threads in BINARY_THREADS:
                extra = {}
                if grad and out_layout is not None:
                    extra["out"] = binary_layout(np.full(BINARY_SHAPE, np.nan, dtype),
                                                 out_layout)
                got = fn(p, t, n_threads=n_threads, **kw, **w, **extra)
                what = (f"{family} {layout} pred and target, weights "
                        f"{'stride-0 views' if w is views else 'broadcast'}, "
                        f"{kw['reduction']}, n_threads={n_threads}")
                if extra:
                    assert got[1] is extra["out"], what
                    got = (got[0], np.ascontiguousarray(got[1]))
                assert_same_result(got, want, what)


# ---------------------------------------------------------------------------
# Python threads on shared read-only inputs
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", ALL_FUNCS, ids=name_of)
def test_concurrent_calls_on_shared_inputs(fn):
    pred, target = problem(fn, "dense", 20_000, seed=4)
    pred.flags.writeable = False
    want = [fn(pred, target, reduction=r) for r in ("mean", "sum", "none")]
    saved = pred.copy(), target.copy()

    def work(i):
        r = ("mean", "sum", "none")[i % 3]
        return i % 3, fn(pred, target, reduction=r, n_threads=1 + i % 3)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(48)))
    for k, got in results:
        assert_same_result(got, want[k])
    np.testing.assert_array_equal(pred, saved[0])
    np.testing.assert_array_equal(target, saved[1])


def shared_inputs():
    rng = np.random.default_rng(13)
    inputs = {}
    for n in (20_000, 50):                    # GIL released / kept (4096 elements)
        probs = rng.uniform(0.001, 1.0, (n, C))
        dense = rng.dirichlet(np.ones(C), n)
        labels = rng.integers(0, C, n).astype(np.int64)
        for a in (probs, dense, labels):
            a.flags.writeable = False
        inputs[n] = (probs, dense, labels)
    w = np.linspace(0.5, 2.0, C)
    w.flags.writeable = False
    return inputs, w


CALLS = [  # (label, function, target, with weight, ignore_index and label_smoothing)
    ("ce", fl.cross_entropy, "labels", False),
    ("ce opt", fl.cross_entropy, "labels", True),
    ("ce dense", fl.cross_entropy, "dense", False),
    ("sce", fl.softmax_cross_entropy, "labels", True),
    ("sce dense", fl.softmax_cross_entropy, "dense", False),
    ("mse", fl.mean_squared_error, "dense", False),
    ("ce grad", fl.cross_entropy_and_grad, "labels", True),
    ("sce grad", fl.softmax_cross_entropy_and_grad, "labels", False),
    ("sce grad dense", fl.softmax_cross_entropy_and_grad, "dense", False),
    ("mse grad", fl.mean_squared_error_and_grad, "dense", False),
]


def every_call(inputs, w):
    """(name, thunk) for every public function on the shared inputs."""
    calls = []
    for n, (probs, dense, labels) in inputs.items():
        targets = {"labels": labels, "dense": dense}
        for red in ("mean", "sum", "none"):
            for nt in (None, 1, 2, 3):
                kw = {"reduction": red, "n_threads": nt}
                opt = dict(kw, weight=w, ignore_index=3, label_smoothing=0.1)
                for label, fn, target_key, with_options in CALLS:
                    calls.append((f"{label} {n} {kw}",
                                  lambda f=fn, p=probs, t=targets[target_key],
                                  k=opt if with_options else kw: f(p, t, **k)))
        calls += [
            (f"book softmax {n}", lambda p=probs: book.softmax(p)),
            (f"book cross_entropy_error {n}", lambda p=probs, t=labels: book.cross_entropy_error(p, t)),
            (f"book cross_entropy_error one-hot {n}",
             lambda p=probs, t=dense: book.cross_entropy_error(p, t)),
            (f"book sum_squared_error {n}", lambda p=probs, t=dense: book.sum_squared_error(p, t)),
            (f"book SoftmaxWithLoss {n}",
             lambda p=probs, t=labels: softmax_with_loss_step(p, t, 2.0)),
            (f"bad label {n}", lambda p=probs, t=labels: bad_label(p, t)),
        ]
    return calls


def bad_label(p, t):
    t = t.copy()
    t[-1] = C
    try:
        fl.cross_entropy(p, t)
    except IndexError as exc:
        return str(exc)
    return "no error"


def flatten(result):
    if isinstance(result, tuple):
        return tuple(flatten(r) for r in result)
    if isinstance(result, str):
        return result
    a = np.asarray(result)
    return (a.dtype.str, a.shape, a.tobytes())


def test_eight_python_threads_calling_every_function_on_shared_inputs():
    inputs, w = shared_inputs()
    saved = {n: tuple(a.copy() for a in arrays) for n, arrays in inputs.items()}
    calls = every_call(inputs, w)
    want = [flatten(f()) for _, f in calls]
    n_workers, rounds = 8, 2
    barrier = threading.Barrier(n_workers)
    errors, mismatches = [], []

    def worker(k):
        barrier.wait()
        order = list(range(len(calls)))
        # each thread walks the calls from its own starting point, so that
        # different functions run at the same moment
        order = order[k * len(order) // n_workers:] + order[: k * len(order) // n_workers]
        for _ in range(rounds):
            for i in order:
                try:
                    got = flatten(calls[i][1]())
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append((calls[i][0], repr(exc)))
                    continue
                if got != want[i]:
                    mismatches.append(calls[i][0])

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a thread hangs"
    assert not errors, errors[:5]
    assert not mismatches, f"{len(mismatches)} results differ from the serial ones: {mismatches[:5]}"
    for n, arrays in inputs.items():
        for a, b in zip(arrays, saved[n]):
            np.testing.assert_array_equal(a, b)


def test_threads_writing_to_their_own_out_while_sharing_inputs():
    inputs, _ = shared_inputs()
    probs, dense, labels = inputs[20_000]
    want = fl.softmax_cross_entropy_and_grad(probs, labels, n_threads=1)
    outs = [np.empty_like(probs) for _ in range(8)]
    errors = []
    barrier = threading.Barrier(8)

    def worker(k):
        barrier.wait()
        for i in range(20):
            try:
                got = fl.softmax_cross_entropy_and_grad(probs, labels, out=outs[k],
                                                        n_threads=1 + (k + i) % 3)
                assert_same_result(got, want, f"thread {k} call {i}")
            except Exception as exc:  # noqa: BLE001 - an AssertionError too, reported below
                errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors[:5]


# ---------------------------------------------------------------------------
# the GIL is released while a kernel runs
# ---------------------------------------------------------------------------

def _long_call_input(seconds=0.25):
    """A softmax cross-entropy gradient that takes about ``seconds`` on one thread."""
    block = np.random.default_rng(0).standard_normal((1 << 12, 32), dtype=np.float32)

    def build(n):
        x = np.resize(block, (n, 32))
        return x, (np.arange(n) % 32).astype(np.int32), np.empty_like(x)

    n = 1 << 16
    x, t, out = build(n)
    fl.softmax_cross_entropy_and_grad(x, t, n_threads=1, out=out)     # warm up
    start = time.perf_counter()
    fl.softmax_cross_entropy_and_grad(x, t, n_threads=1, out=out)
    per_row = max(time.perf_counter() - start, 1e-6) / n
    return build(min(max(int(seconds / per_row), n), 1 << 23))


def test_another_python_thread_runs_during_a_long_call():
    x, t, out = _long_call_input()
    stamps, stop = [], threading.Event()

    def ticker():
        while not stop.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        time.sleep(0.05)                  # the ticker is running
        start = time.perf_counter()
        fl.softmax_cross_entropy_and_grad(x, t, n_threads=1, out=out)
        end = time.perf_counter()
    finally:
        stop.set()
        thread.join()
    assert end - start > 0.1, "the call is too short to tell"
    # Holding the GIL, the kernel would keep the ticker from running between
    # start and end; the margins exceed Python's 5 ms switch interval.
    inside = [s for s in stamps if start + 0.02 < s < end - 0.02]
    assert len(inside) >= 5, (len(inside), end - start)


def repeated(row, n):
    """n copies of ``row`` as a read-only stride-0 view: as long as wanted,
    without memory."""
    return np.broadcast_to(row, (n,) + np.shape(row))


def long_calls():
    """(name, build(n) -> thunk): calls whose kernels run on n rows."""
    rng = np.random.default_rng(14)
    p = rng.uniform(0.05, 1.0, C)
    onehot = np.eye(C)[3]
    label = np.int64(3)

    def loss(fn, dense=False, **kw):
        def build(n):
            pred, target = repeated(p, n), repeated(onehot if dense else label, n)
            return lambda: fn(pred, target, n_threads=1, **kw)
        return build

    def grad(fn, dense=False, **kw):
        def build(n):
            pred, target = repeated(p, n), repeated(onehot if dense else label, n)
            out = np.empty((n, C))
            return lambda: fn(pred, target, n_threads=1, out=out, **kw)
        return build

    def book_call(f, target=None):
        def build(n):
            pred = repeated(p, n)
            args = (pred,) if target is None else (pred, repeated(target, n))
            return lambda: f(*args)
        return build

    def layer(n):
        x, t = repeated(p, n), repeated(label, n)
        return lambda: book.SoftmaxWithLoss().forward(x, t)

    # (name, build, the most rows to use): stride-0 inputs cost no memory, so
    # a loss that returns a scalar may run on 2**28 rows; "none" returns N
    # floats and a gradient N x C
    scalar, per_row, per_element = 1 << 28, 1 << 24, 1 << 21
    return [
        ("cross_entropy", loss(fl.cross_entropy), scalar),
        ("cross_entropy dense", loss(fl.cross_entropy, dense=True), scalar),
        ("cross_entropy weighted", loss(fl.cross_entropy, weight=np.ones(C)), scalar),
        ("softmax_cross_entropy", loss(fl.softmax_cross_entropy), scalar),
        ("softmax_cross_entropy dense", loss(fl.softmax_cross_entropy, dense=True), scalar),
        ("mean_squared_error", loss(fl.mean_squared_error, dense=True), scalar),
        ("mean_squared_error none", loss(fl.mean_squared_error, dense=True, reduction="none"),
         per_row),
        ("cross_entropy_and_grad", grad(fl.cross_entropy_and_grad), per_element),
        ("cross_entropy_and_grad weighted mean",
         grad(fl.cross_entropy_and_grad, weight=np.ones(C), ignore_index=0), per_element),
        ("mean_squared_error_and_grad", grad(fl.mean_squared_error_and_grad, dense=True),
         per_element),
        ("book.softmax", book_call(book.softmax), per_element),
        ("book.cross_entropy_error", book_call(book.cross_entropy_error, label), scalar),
        ("book.sum_squared_error", book_call(book.sum_squared_error, onehot), scalar),
        ("book.SoftmaxWithLoss.forward", layer, per_element),
    ]


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    yield
    sys.setswitchinterval(old)


@pytest.mark.parametrize("name,build,max_rows", long_calls(), ids=[c[0] for c in long_calls()])
def test_another_python_thread_runs_during_the_call(fast_switching, name, build, max_rows):
    # size the call to last at least 30 ms
    n = 1 << 18
    while True:
        call = build(n)
        call()
        start = time.perf_counter()
        call()
        took = time.perf_counter() - start
        if took >= 0.03 or n >= max_rows:
            break
        n = min(max_rows, n * max(2, int(0.06 / max(took, 1e-4))))
    stamps, running, stop = [], threading.Event(), threading.Event()

    def ticker():
        running.set()
        while not stop.is_set():
            stamps.append(time.perf_counter())

    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        running.wait()
        time.sleep(0.005)
        start = time.perf_counter()
        call()
        end = time.perf_counter()
    finally:
        stop.set()
        thread.join()
    assert end - start > 0.01, f"the call ({n} rows) is too short to tell: {end - start:.4f} s"
    # holding the GIL, the kernel would keep the ticker out from start to end;
    # the margins are twenty switch intervals
    inside = [s for s in stamps if start + 0.002 < s < end - 0.002]
    assert len(inside) >= 10, (f"{name}: the other thread ran {len(inside)} times during a "
                               f"{1000 * (end - start):.0f} ms call on {n} rows")
