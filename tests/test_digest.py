"""A fingerprint of every public result, to keep a refactoring honest.

Moving code between files, renaming and splitting functions must not change
a single bit of what the library computes. This file calls every public
function of ``fastloss`` and ``fastloss.book`` on a fixed corpus and hashes
each outcome: the result's type, dtype, shape and bytes, or the exception's
type and message. The hashes recorded in ``tests/data/digest/<level>.json``
must be reproduced exactly, at each SIMD dispatch level this CPU has.

The corpus:
  fuzz/...   the fixed examples of tests/test_fuzz.py (found bugs, pitfalls)
  bench/...  the benchmark's cases up to 100,000 rows (fastloss calls only)
  grid/...   seeded random problems: every loss, float32/float64, class
             indices of several integer dtypes, one-hot, soft and mixed-dtype
             targets, weights, ignore_index, label smoothing, eps, the three
             reductions, out=, C/Fortran/strided layouts, 1 and 2 threads,
             rows past +-350 and NaN/inf, more than 2048 classes
  book/...   fastloss.book's functions and layer on the same kind of inputs
  error/...  calls that must raise, with their messages
  digits/... mini-batches of scikit-learn's handwritten digits (the data of
             python -m fastloss.bench.digits) through the book's layer and
             the losses, with logits from an integer linear map (exact, so
             no BLAS rounding enters); only where scikit-learn is installed

The levels run in child processes with FASTLOSS_SIMD set, as in
tests/test_simd_levels.py. Levels may differ from each other in the last
bit (FMA, the exp's table); each has its own file, and a CPU without a
level skips it.

NumPy builds part of the corpus (probabilities are np.exp of logits), and
on an AVX-512 CPU its exp rounds differently from the libm exp it calls
on the AVX2 CPUs the files were first recorded on. The children therefore
run with NumPy's AVX-512 targets disabled (NPY_DISABLE_CPU_FEATURES): the
corpus is the same on AVX2 and AVX-512 CPUs, and only fastloss's own level
changes what is computed. (A CPU without AVX2 may still build another
corpus; a NumPy target of AVX-512's class under a new name would show up
as changed results, not pass unnoticed.)

A change that is meant to change results (a new, more accurate path) updates
the files deliberately:

    python tests/test_digest.py --record

and says in its commit which entries changed and why
(``python tests/test_digest.py --diff`` lists them).
"""
import hashlib
import json
import os
import platform
import re
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DIGEST_DIR = os.path.join(HERE, "data", "digest")
LEVELS = ["baseline", "avx2", "avx512"]

LOSSES = ["cross_entropy", "softmax_cross_entropy", "mean_squared_error",
          "cross_entropy_and_grad", "softmax_cross_entropy_and_grad",
          "mean_squared_error_and_grad"]


# ---------------------------------------------------------------------------
# Hashing outcomes

def _feed(h, value):
    if isinstance(value, tuple):
        h.update(b"tuple%d" % len(value))
        for v in value:
            _feed(h, v)
    elif isinstance(value, (np.ndarray, np.generic)):
        a = np.asarray(value)
        if a.dtype.kind == "f":
            # one NaN: a NaN's sign and payload follow the compiler's operand
            # order in a commutative operation, which C leaves unspecified
            # (a sanitizer build's loss of NaN rows came out -NaN, +NaN here)
            a = np.where(np.isnan(a), np.array(np.nan, a.dtype), a)
        h.update(f"{type(value).__name__}|{a.dtype.str}|{a.shape}|".encode())
        if a.dtype.hasobject:               # (its bytes are addresses)
            h.update(repr(a.tolist()).encode())
        else:
            h.update(np.ascontiguousarray(a).tobytes())
    elif isinstance(value, (float, int, bool)) or value is None:
        h.update(f"{type(value).__name__}|{value!r}|".encode())
    else:
        raise TypeError(f"cannot hash a {type(value).__name__}")


def _portable(message):
    """A message as every NumPy version words it: NumPy 2 writes a scalar as
    ``np.float64(0.5)`` or ``np.True_`` where NumPy 1.26 writes ``0.5`` or
    ``True``; the type names and parentheses are dropped."""
    message = re.sub(r"\b(?:np|numpy)\.(?:True_|False_)",
                     lambda m: m.group(0).split(".")[1][:-1], message)
    message = re.sub(r"\b(?:np|numpy)\.[A-Za-z_]+[0-9]*(?=\()", "", message)
    return message.replace("(", "").replace(")", "")


def outcome(fn, *args, **kwargs):
    """The hash of ``fn(*args, **kwargs)``: the result and every array the
    call was given (inputs must stay untouched, ``out=`` holds the gradient),
    or the exception's type and message."""
    h = hashlib.sha256()
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:                      # noqa: BLE001 - the outcome
        h.update(f"raise {type(exc).__name__}: {_portable(str(exc))}".encode())
    else:
        _feed(h, result)
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, np.ndarray):
            _feed(h, a)
    return h.hexdigest()[:24]


# ---------------------------------------------------------------------------
# The corpus: (id, thunk) pairs; a thunk returns the outcome's hash

def _fuzz_corpus():
    sys.path.insert(0, HERE)
    import test_fuzz
    for cid, name, args, kwargs in test_fuzz.corpus():
        def thunk(name=name, args=args, kwargs=kwargs):
            import fastloss
            a, kw = test_fuzz.materialize_call(args, kwargs)
            return outcome(getattr(fastloss, name), *a, **kw)
        yield f"fuzz/{cid}", thunk


def _bench_corpus():
    from fastloss.bench import cases as bc
    shapes = [s for s in bc.SHAPES if s[0] * s[1] <= 1_000_000]
    for case in bc.all_cases(shapes=shapes):
        if "fastloss" not in case.op.builders or case.dtype == "bfloat16":
            continue                # (bfloat16 cases exist only with ml_dtypes)

        def thunk(case=case):
            call = case.calls(torch=False, implementations=("fastloss",))["fastloss"]
            return outcome(call.fn, *call.args, **call.kwargs)
        yield f"bench/{case.id}", thunk


def _layout(a, kind):
    if kind == "C" or a.ndim != 2:
        return np.ascontiguousarray(a)
    if kind == "F":
        return np.asfortranarray(a)
    # every other row and column of a bigger array
    big = np.zeros((2 * a.shape[0] + 1, 2 * a.shape[1] + 1), a.dtype)
    big[1::2, 1::2] = a
    return big[1::2, 1::2]


def _problem(rng, fam, n, c, dtype, extreme):
    """(pred, labels, dense) for one loss family."""
    if fam == "softmax_cross_entropy":
        scale = rng.choice([1.0, 10.0, 400.0]) if extreme else 3.0
        pred = rng.standard_normal((n, c)) * scale
        if extreme and n > 0:
            pred[rng.integers(0, n)] = np.nan
            pred[rng.integers(0, n), 0] = np.inf
            pred[rng.integers(0, n)] += 1000.0
    else:
        logits = rng.standard_normal((n, c)) * 2.0
        pred = np.exp(logits - logits.max(axis=1, keepdims=True)) if c else logits
        if c:
            pred /= pred.sum(axis=1, keepdims=True)
        if extreme and n > 0:
            pred[rng.integers(0, n), :] = 0.0
            pred[rng.integers(0, n), 0] = 1.0
            pred[rng.integers(0, n), -1] = np.nan
    labels = rng.integers(0, max(c, 1), n)
    onehot = np.zeros((n, c))
    if c:
        onehot[np.arange(n), labels] = 1.0
    return pred.astype(dtype), labels, onehot


GRID_SHAPES = [(0, 3), (1, 1), (1, 10), (3, 2), (7, 3), (64, 7), (100, 10),
               (257, 5), (513, 4), (1000, 10), (5, 2049), (3, 4100), (20000, 10)]


def _grid_corpus(n_configs=900):
    rng = np.random.default_rng(20261205)
    for i in range(n_configs):
        fn = LOSSES[i % len(LOSSES)]
        fam = fn.replace("_and_grad", "")
        n, c = GRID_SHAPES[rng.integers(len(GRID_SHAPES))]
        dtype = [np.float32, np.float64][rng.integers(2)]
        extreme = rng.random() < 0.25
        pred, labels, onehot = _problem(rng, fam, n, c, dtype, extreme)
        kwargs = {"reduction": ["mean", "sum", "none"][rng.integers(3)]}
        if fam == "mean_squared_error":
            kind = ["same", "f32", "f64", "int"][rng.integers(4)]
            target = {"same": onehot.astype(dtype), "f32": onehot.astype(np.float32),
                      "f64": rng.random((n, c)), "int": onehot.astype(np.int8)}[kind]
        else:
            kind = ["int64", "uint8", "int32", "int16", "uint64", "onehot", "onehot32",
                    "soft", "bool"][rng.integers(9)]
            if kind in ("uint8", "int32", "int16", "uint64", "int64"):
                target = labels.astype(kind)
            elif kind == "onehot":
                target = onehot.astype(dtype)
            elif kind == "onehot32":
                target = onehot.astype(np.float32)
            elif kind == "bool":
                target = onehot.astype(bool)
            else:
                target = rng.random((n, c)).astype(dtype)
                target /= np.maximum(target.sum(axis=1, keepdims=True), 1e-30)
            if rng.random() < 0.4:
                kwargs["weight"] = rng.random(c) + 0.25
            if kind in ("int64", "int32", "int16") and rng.random() < 0.4 and n > 0:
                target = target.copy()
                target[rng.integers(0, n, max(1, n // 5))] = -100
                kwargs["ignore_index"] = -100
            if rng.random() < 0.3:
                kwargs["label_smoothing"] = float(rng.choice([0.05, 0.1, 0.5]))
            if fam == "cross_entropy" and rng.random() < 0.3:
                kwargs["eps"] = float(rng.choice([0.0, 1e-12, 1e-3]))
        layout = ["C", "C", "F", "strided"][rng.integers(4)]
        pred = _layout(pred, layout)
        if target.ndim == 2:
            target = _layout(target, ["C", "F", "strided"][rng.integers(3)])
        if rng.random() < 0.3:
            kwargs["n_threads"] = int(rng.integers(1, 4))
        if fn.endswith("_and_grad") and rng.random() < 0.3:
            out_dtype = pred.dtype
            kwargs["out"] = _layout(np.full(pred.shape, 7.0, out_dtype),
                                    ["C", "F", "strided"][rng.integers(3)])

        def thunk(fn=fn, pred=pred, target=target, kwargs=kwargs):
            import fastloss
            kw = {k: (v.copy() if isinstance(v, np.ndarray) and k == "out" else v)
                  for k, v in kwargs.items()}
            return outcome(getattr(fastloss, fn), pred, target, **kw)
        yield f"grid/{i:04d}-{fn}-{n}x{c}-{np.dtype(dtype).name}-{kind}", thunk


def _book_corpus():
    rng = np.random.default_rng(7)
    for i in range(120):
        n, c = [(1, 10), (3, 10), (100, 10), (7, 3), (0, 4), (300, 5)][i % 6]
        dtype = [np.float64, np.float32][(i // 6) % 2]
        x = (rng.standard_normal((n, c)) * 3).astype(dtype)
        y = np.exp(x - x.max(axis=1, keepdims=True)) if n else x
        if n:
            y /= y.sum(axis=1, keepdims=True)
        labels = rng.integers(0, c, n)
        onehot = np.zeros((n, c), dtype)
        onehot[np.arange(n), labels] = 1
        kind = ["labels", "labels8", "onehot", "1d"][(i // 12) % 4]
        t = {"labels": labels, "labels8": labels.astype(np.uint8), "onehot": onehot,
             "1d": onehot}[kind]
        if kind == "1d" and n:
            x, y, t = x[0], y[0], t[0]

        def softmax(x=x):
            from fastloss import book
            return outcome(book.softmax, x)

        def cee(y=y, t=t):
            from fastloss import book
            return outcome(book.cross_entropy_error, y, t)

        def sse(y=y, t=onehot if kind != "1d" else t):
            from fastloss import book
            return outcome(book.sum_squared_error, y, t)

        def layer(x=x, t=t):
            from fastloss import book
            lay = book.SoftmaxWithLoss()

            def step():
                loss = lay.forward(x, t)
                return loss, lay.backward(), lay.backward(0.5)
            return outcome(step)
        tag = f"{i:03d}-{n}x{c}-{np.dtype(dtype).name}-{kind}"
        yield f"book/softmax-{tag}", softmax
        yield f"book/cross_entropy_error-{tag}", cee
        yield f"book/sum_squared_error-{tag}", sse
        yield f"book/SoftmaxWithLoss-{tag}", layer


def _book_forms_corpus():
    """The book's other target forms and dtypes: (N, 1) and single labels,
    rows of integer and bool dtypes, softmax of any rank, float16."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((6, 10)) * 3
    y = np.exp(x - x.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    labels = rng.integers(0, 10, 6)
    forms = {
        "column-int32": labels.astype(np.int32).reshape(-1, 1),
        "single-int": 4,
        "single-11": np.array([[4]], np.uint8),
        "rows-uint8": np.eye(10, dtype=np.uint8)[labels],
        "rows-bool": np.eye(10, dtype=bool)[labels],
        "rows-float16": np.eye(10, dtype=np.float16)[labels],
        "rows-soft": rng.uniform(size=(6, 10)),
    }
    for name, t in forms.items():
        def cee(t=t):
            from fastloss import book
            return outcome(book.cross_entropy_error, y, t)

        def layer(t=t):
            from fastloss import book
            lay = book.SoftmaxWithLoss()

            def step():
                return lay.forward(x, t), lay.backward(), lay.backward(np.float32(0.5))
            return outcome(step)
        yield f"book/forms/cross_entropy_error-{name}", cee
        yield f"book/forms/SoftmaxWithLoss-{name}", layer
    for name, arg in {"3d": x.reshape(2, 3, 10), "0d": np.array(1.5),
                      "float16": x.astype(np.float16), "uint8": (x * 3 + 9).astype(np.uint8),
                      "int32": (x * 3).astype(np.int32)}.items():
        def softmax(arg=arg):
            from fastloss import book
            return outcome(book.softmax, arg)
        yield f"book/forms/softmax-{name}", softmax
    for name, (a, b) in {"f32-f64": (y.astype(np.float32), y), "f32-uint8": (
            y.astype(np.float32), forms["rows-uint8"]), "f16-f16": (
            y.astype(np.float16), y.astype(np.float16))}.items():
        def sse(a=a, b=b):
            from fastloss import book
            return outcome(book.sum_squared_error, a, b)
        yield f"book/forms/sum_squared_error-{name}", sse


def _error_corpus():
    p = np.full((4, 3), 1 / 3)
    t = np.array([0, 1, 2, 1])
    bad = [
        ("label-too-big", (p, np.array([0, 1, 3, 1])), {}),
        ("label-negative", (p, np.array([0, -1, 2, 1])), {}),
        ("label-float", (p, np.array([0.0, 1.0, 2.0, 1.0])), {}),
        ("target-shape", (p, np.zeros((4, 2))), {}),
        ("pred-1d-labels-2d", (p[0], np.zeros((2, 2), int)), {}),
        ("pred-3d", (np.zeros((2, 2, 2)), np.zeros((2, 2), int)), {}),
        ("pred-complex", (p.astype(complex), t), {}),
        ("pred-str", ("abc", t), {}),
        ("reduction", (p, t), {"reduction": "avg"}),
        ("weight-shape", (p, t), {"weight": np.ones(4)}),
        ("weight-complex", (p, t), {"weight": np.ones(3, complex)}),
        ("n-threads-0", (p, t), {"n_threads": 0}),
        ("n-threads-float", (p, t), {"n_threads": 1.5}),
        ("ignore-float", (p, t), {"ignore_index": 0.5}),
        ("smoothing-2", (p, t), {"label_smoothing": 2.0}),
        ("smoothing-nan", (p, t), {"label_smoothing": float("nan")}),
        ("eps-negative", (p, t), {"eps": -1.0}),
        ("eps-str", (p, t), {"eps": "x"}),
        ("out-shape", (p, t), {"out": np.zeros((3, 3))}),
        ("out-dtype", (p, t), {"out": np.zeros((4, 3), np.float32)}),
        ("out-readonly", (p, t), {"out": np.zeros((4, 3))[:, :]}),
        ("unknown-keyword", (p, t), {"colour": 1}),
    ]
    dict((n, kw) for n, _, kw in bad)["out-readonly"]["out"].setflags(write=False)
    for fn in LOSSES:
        for name, args, kwargs in bad:
            def thunk(fn=fn, args=args, kwargs=kwargs):
                import fastloss
                return outcome(getattr(fastloss, fn), *args, **kwargs)
            yield f"error/{fn}-{name}", thunk


def _digits_corpus():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return
    pixels, labels = load_digits(return_X_y=True)        # integers 0..16
    rng = np.random.RandomState(0)
    w = rng.randint(-3, 4, (pixels.shape[1], 10))
    logits = (pixels.astype(np.int64) @ w) / 64.0          # exact in float64
    labels = labels.astype(np.uint8)
    for step in range(40):
        mask = rng.choice(len(pixels), 100)
        x, t = logits[mask], labels[mask]
        if step % 2:
            x = x.astype(np.float32)

        def thunk(x=x, t=t):
            import fastloss
            from fastloss import book
            lay = book.SoftmaxWithLoss()
            y = book.softmax(x)
            onehot = np.eye(10, dtype=x.dtype)[t]
            return outcome(lambda: (lay.forward(x, t), lay.backward(),
                                    book.cross_entropy_error(y, onehot),
                                    fastloss.softmax_cross_entropy_and_grad(x, t),
                                    fastloss.cross_entropy_and_grad(y, t),
                                    fastloss.mean_squared_error_and_grad(y, onehot)))
        yield f"digits/step-{step:02d}", thunk


def corpus():
    yield from _fuzz_corpus()
    yield from _bench_corpus()
    yield from _grid_corpus()
    yield from _book_corpus()
    yield from _book_forms_corpus()
    yield from _error_corpus()
    yield from _digits_corpus()


def compute():
    import fastloss
    import warnings
    digests = {}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for cid, thunk in corpus():
            assert cid not in digests, cid
            digests[cid] = thunk()
    return {"simd": fastloss._core.simd(), "digests": digests}


# ---------------------------------------------------------------------------
# The test: each level in a child process

def _numpy_avx512_targets():
    """NumPy's AVX-512 dispatch targets, as NPY_DISABLE_CPU_FEATURES names
    them (see the module's docstring)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__
    except ImportError:                     # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_dispatch__
    return " ".join(f for f in __cpu_dispatch__ if "512" in f or f == "X86_V4")


def run_level(level):
    """The digests computed in a child process capped at ``level``; the
    child imports the very fastloss this process imported."""
    import fastloss
    where = os.path.dirname(os.path.dirname(os.path.abspath(fastloss.__file__)))
    path = os.pathsep.join(p for p in (where, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, FASTLOSS_SIMD=level, PYTHONPATH=path)
    env.pop("NPY_ENABLE_CPU_FEATURES", None)    # (NumPy refuses both at once)
    disabled = " ".join(filter(None, [env.get("NPY_DISABLE_CPU_FEATURES"),
                                      _numpy_avx512_targets()]))
    if disabled:
        env["NPY_DISABLE_CPU_FEATURES"] = disabled
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--compute"],
                          env=env, capture_output=True, text=True, timeout=600,
                          cwd=os.getcwd())
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout)


def _path(level):
    return os.path.join(DIGEST_DIR, f"{level}.json")


def _load(level):
    with open(_path(level)) as f:
        return json.load(f)


_RUNS = {}


def _compare(level, digits):
    """Compare this level's digests with the recorded ones: the digits part
    (``digits=True``) or all the rest."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("the digests were recorded on x86-64; another architecture's "
                    "compiler may round the baseline loops differently")
    if level not in _RUNS:
        _RUNS[level] = run_level(level)
    got = _RUNS[level]
    if got["simd"].split("+")[0] != level:
        pytest.skip(f"this CPU has no {level} level (it runs {got['simd']})")

    def part(d):
        return {k: v for k, v in d.items() if k.startswith("digits/") == digits}
    got, want = part(got["digests"]), part(_load(level)["digests"])
    assert set(got) == set(want), (
        "the corpus changed: re-record with python tests/test_digest.py --record")
    changed = sorted(k for k in want if got[k] != want[k] and not _follows_numpy_1(k))
    assert not changed, (f"{len(changed)} of {len(want)} results changed at "
                         f"{level}: {changed[:40]}")


def _follows_numpy_1(key):
    """The recorded digest is NumPy 2's. fastloss.book returns the dtype the
    book's formula has under the installed NumPy, and NumPy 1.x promotes its
    float32 and float16 losses to float64: those book entries are not
    compared under NumPy 1.x (tests/test_book.py checks their dtypes)."""
    return np.lib.NumpyVersion(np.__version__) < "2.0.0" and "book" in key


@pytest.mark.parametrize("level", LEVELS)
def test_results_are_unchanged(level):
    _compare(level, digits=False)


@pytest.mark.parametrize("level", LEVELS)
def test_digits_results_are_unchanged(level):
    pytest.importorskip("sklearn", reason="the digits part of the corpus needs "
                        "scikit-learn's bundled data: pip install '.[bench]'")
    _compare(level, digits=True)


def main(argv):
    sys.path.insert(0, os.path.dirname(HERE))     # run as a script from a checkout
    if "--compute" in argv:
        json.dump(compute(), sys.stdout)
        return 0
    if "--record" in argv or "--diff" in argv:
        for level in LEVELS:
            got = run_level(level)
            if got["simd"].split("+")[0] != level:
                print(f"{level}: not on this CPU ({got['simd']}); left as it is")
                continue
            if "--diff" in argv:
                want = _load(level)["digests"]
                changed = sorted(k for k in set(want) | set(got["digests"])
                                 if want.get(k) != got["digests"].get(k))
                print(f"{level}: {len(changed)} changed")
                for k in changed:
                    print("  ", k)
                continue
            os.makedirs(DIGEST_DIR, exist_ok=True)
            with open(_path(level), "w") as f:
                json.dump({"simd": got["simd"], "digests": got["digests"]}, f,
                          indent=0, sort_keys=True)
                f.write("\n")
            print(f"{level}: {len(got['digests'])} results recorded in {_path(level)}")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
