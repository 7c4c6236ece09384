"""SPEC section 7: n_threads, bitwise reproducibility across thread counts,
the GIL released while a kernel runs, concurrent calls on shared inputs."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import fastloss as fl
from support import assert_same

ALL = [fl.cross_entropy, fl.softmax_cross_entropy, fl.mean_squared_error,
       fl.cross_entropy_and_grad, fl.softmax_cross_entropy_and_grad,
       fl.mean_squared_error_and_grad]


GRADS = ALL[3:]


def name_of(f):
    return f.__name__


def is_mse(fn):
    return fn in (fl.mean_squared_error, fl.mean_squared_error_and_grad)


def is_probs(fn):
    return fn in (fl.cross_entropy, fl.cross_entropy_and_grad)


def problem(fn, kind, n, c=10, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    pred = rng.uniform(0.01, 1.0, (n, c)) if is_probs(fn) else rng.normal(0.0, 3.0, (n, c))
    if is_mse(fn) or kind == "dense":
        target = rng.uniform(0.0, 1.0, (n, c))
    else:
        target = rng.integers(0, c, n).astype(np.int32)
    return pred.astype(dtype), target


def assert_same_result(got, want):
    if isinstance(want, tuple):
        for g, w in zip(got, want):
            assert_same(g, w)
    else:
        assert_same(got, want)


# ---------------------------------------------------------------------------
# n_threads validation
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", ALL, ids=name_of)
@pytest.mark.parametrize("value,text", [(0, "0"), (-1, "-1"), (-8, "-8"), (True, "True"),
                                        (False, "False"), (1.0, "1.0"), (2.5, "2.5"),
                                        ("2", "2"), ([2], "[2]")], ids=repr)
def test_bad_n_threads_is_a_value_error(fn, value, text):
    pred, target = problem(fn, "index", 4)
    with pytest.raises(ValueError) as info:
        fn(pred, target, n_threads=value)
    msg = str(info.value)
    assert "n_threads" in msg and text in msg, msg


@pytest.mark.parametrize("fn", ALL, ids=name_of)
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
    for fn in ALL:
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


# ---------------------------------------------------------------------------
# concurrent calls on shared inputs
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fn", ALL, ids=name_of)
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
