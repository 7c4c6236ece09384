"""fastloss.dask: the ten functions of fastloss on dask arrays.

- bitwise the in-memory call, whatever the chunking: for every loss, 12
  chunkings drawn from a seeded generator (one chunk, chunks of fewer than
  256 rows, unaligned and block-aligned chunks along the first axis, chunks
  along the class axis and along a position axis other than the first),
  class indices and dense targets, class weights, ignore_index, label
  smoothing, sample weights and targets chunked otherwise than pred,
  ``axis=1`` on ``(N, C, H, W)``, ``axis=0`` on ``(C, N)``, binary
  per-column, per-channel, per-sample and full-shape weights, float64,
  float32, float16 and n_threads None, 1 and 2: "mean" and "sum" (lazy 0-d
  arrays of the loss's dtype), "none" (chunked like pred along its first
  position axis), and the ``*_and_grad`` twins (loss and gradient bitwise,
  the "mean" gradient included, the gradient chunked like pred);
- NumPy inputs; an empty batch, a single chunk, one sample with a Python
  int target;
- the processes scheduler and a dask.distributed LocalCluster of two
  worker processes (one thread each), n_threads 1 and 2;
- argument errors at call time, before anything is computed (the inputs
  are arrays whose computation raises); unknown chunk sizes; ``out=``;
- a bad label raises at compute time the in-memory IndexError, naming the
  row (or the position tuple) in the whole array; of two, the first (for
  the reductions).

The oracle is always the in-memory fastloss call on the same NumPy data.
"""
import math
import os
import warnings

import numpy as np
import pytest

if os.environ.get("FASTLOSS_REQUIRE_DASK"):
    # CI's dask stage: a missing dask is a failure there, not a skip
    import dask
    import dask.array as da
else:
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")

import fastloss as fl                                  # noqa: E402
import fastloss.dask as fld                            # noqa: E402
from support import assert_same, assert_same_result, raised   # noqa: E402

REDUCTIONS = ["mean", "sum", "none"]
IGNORE = -100
LOSS_NAMES = ["cross_entropy", "softmax_cross_entropy", "mean_squared_error",
              "binary_cross_entropy", "sigmoid_binary_cross_entropy"]
BINARY_NAMES = LOSS_NAMES[3:]
N_CHUNKINGS = 12


# ---------------------------------------------------------------------------
# problems: NumPy data, its options and a chunking of each operand
# ---------------------------------------------------------------------------

class Problem:
    """One loss on NumPy data and on the same data as dask arrays.

    ``kw`` holds the options (NumPy), ``dask_kw`` the same with the
    sample weights and full-shape binary weights as dask arrays;
    ``lead`` is pred's first position axis."""

    def __init__(self, name, pred, target, kw, lead, dpred, dtarget, dask_kw):
        self.name = name
        self.pred, self.target, self.kw = pred, target, kw
        self.lead = lead
        self.dpred, self.dtarget, self.dask_kw = dpred, dtarget, dask_kw

    @property
    def rows_per_index(self):
        """Rows a lead index holds (elements, for the binary losses)."""
        shape = np.shape(self.pred)
        if self.name not in BINARY_NAMES:
            axis = self.kw.get("axis", -1) % len(shape)
            shape = shape[:axis] + shape[axis + 1:]
        return math.prod(shape[1:])

    def memory(self, grad, reduction):
        fn = getattr(fl, self.name + ("_and_grad" if grad else ""))
        return fn(self.pred, self.target, reduction=reduction, **self.kw)

    def lazy(self, grad, reduction, **extra):
        fn = getattr(fld, self.name + ("_and_grad" if grad else ""))
        return fn(self.dpred, self.dtarget, reduction=reduction, **self.dask_kw, **extra)


def split(rng, n, style, rows_per_index):
    """Chunk lengths summing to n: "single", "tiny" (every chunk under 256
    rows, a first chunk of 1), "unaligned" (cuts anywhere) or "aligned" (cuts
    on block boundaries)."""
    if style == "single" or n <= 1:
        return (n,)
    if style == "tiny":
        most = max(1, 255 // max(rows_per_index, 1))
        out = [1]
        while sum(out) < n:
            out.append(int(min(rng.integers(1, most + 1), n - sum(out))))
        return tuple(out)
    if style == "aligned":
        unit = 256 // math.gcd(256, rows_per_index)
        cuts = sorted(set(unit * rng.integers(1, max(n // unit, 1) + 1, 3)) - {0, n})
        cuts = [c for c in cuts if c < n]
    else:
        cuts = sorted(set(rng.integers(1, n, int(rng.integers(1, 5))).tolist()))
    bounds = [0] + [int(c) for c in cuts] + [n]
    return tuple(b - a for a, b in zip(bounds[:-1], bounds[1:]))


def any_split(rng, n):
    """A chunking of an axis of length n into 1 to 3 chunks."""
    if n <= 1:
        return (n,)
    cuts = sorted(set(rng.integers(1, n, int(rng.integers(0, 3))).tolist()))
    bounds = [0] + cuts + [n]
    return tuple(b - a for a, b in zip(bounds[:-1], bounds[1:]))


def to_dask(rng, a, chunks_of_axis):
    """``a`` as a dask array, chunked as given (a dict axis -> chunks), every
    other axis in 1 to 3 random chunks."""
    chunks = tuple(chunks_of_axis.get(i, any_split(rng, s)) for i, s in enumerate(a.shape))
    return da.from_array(a, chunks=chunks)


def _sample_weight(rng, shape):
    sw = rng.uniform(0.0, 2.0, shape)
    sw.reshape(-1)[::7] = 0.0
    return sw


# layouts: (pred's shape, class axis)
CLASS_LAYOUTS = {"2d": ((700, 5), 1), "nhwc": ((40, 4, 5, 3), 3),
                 "nchw": ((40, 3, 4, 6), 1), "cn": ((4, 600), 0)}
CLASS_CONFIGS = [
    # (layout, target, options, dtype, lead style, split the class axis, split a position axis)
    ("2d", "index", (), np.float64, "single", False, False),
    ("2d", "index", ("weight",), np.float64, "unaligned", True, False),
    ("2d", "index", ("ignore", "smooth"), np.float32, "tiny", False, False),
    ("2d", "index", ("sw", "weight"), np.float64, "unaligned", False, False),
    ("2d", "dense", ("smooth", "weight"), np.float64, "unaligned", True, False),
    ("2d", "dense", ("sw",), np.float32, "aligned", False, False),
    ("nhwc", "index", ("ignore", "sw"), np.float64, "unaligned", False, True),
    ("nhwc", "dense", (), np.float64, "tiny", True, True),
    ("nchw", "index", ("weight", "ignore", "smooth"), np.float64, "unaligned", False, True),
    ("nchw", "index", ("sw",), np.float32, "tiny", True, False),
    ("nchw", "dense", ("sw", "smooth"), np.float64, "aligned", True, True),
    ("2d", "index", ("weight", "ignore"), np.float16, "unaligned", True, False),
    ("cn", "index", ("sw", "weight"), np.float64, "unaligned", True, False),
]
MSE_CONFIGS = [
    ("2d", (), np.float64, "single", False, False),
    ("2d", ("sw",), np.float64, "unaligned", True, False),
    ("2d", (), np.float32, "tiny", False, False),
    ("2d", ("sw",), np.float16, "aligned", False, False),
    ("nhwc", (), np.float64, "unaligned", True, True),
    ("nhwc", ("sw",), np.float32, "tiny", False, True),
    ("nchw", (), np.float64, "aligned", True, False),
    ("nchw", ("sw",), np.float64, "unaligned", False, True),
    ("cn", ("sw",), np.float64, "unaligned", True, False),
]
BINARY_LAYOUTS = {"2d": (150, 6), "1d": (900,), "3d": (40, 3, 8)}
BINARY_CONFIGS = [
    # (layout, options, dtype, lead style): weight / pos_weight "column" (last
    # axis), "channel" ((C, 1) of 3-d), "lead" ((N, 1)), "full" (pred's shape)
    ("2d", (), np.float64, "single"),
    ("2d", ("weight=column",), np.float64, "unaligned"),
    ("2d", ("pos_weight=full", "sw"), np.float64, "tiny"),
    ("2d", ("weight=column", "pos_weight=full", "smooth"), np.float32, "unaligned"),
    ("2d", ("weight=lead", "sw"), np.float64, "aligned"),
    ("1d", ("sw", "smooth"), np.float64, "unaligned"),
    ("1d", ("pos_weight=full",), np.float32, "tiny"),
    ("3d", ("weight=channel", "pos_weight=full"), np.float64, "unaligned"),
    ("3d", ("weight=full", "sw"), np.float64, "tiny"),
    ("3d", ("pos_weight=column", "smooth"), np.float16, "aligned"),
    ("2d", ("pos_weight=full", "weight=column", "sw", "eps"), np.float64, "unaligned"),
    ("1d", ("weight=full", "sw"), np.float64, "single"),
]


def _pred(name, shape, dtype, rng):
    if name == "cross_entropy":
        x = rng.uniform(0.05, 1.0, shape)
    elif name == "binary_cross_entropy":
        x = rng.uniform(0.01, 0.99, shape)
    else:
        x = rng.normal(0.0, 2.0, shape)
    return x.astype(dtype)


def class_problem(name, seed, lead_style=None):
    """Problem ``seed`` of cross_entropy, softmax_cross_entropy or
    mean_squared_error (``lead_style`` overrides the config's chunking of
    the lead axis)."""
    rng = np.random.default_rng(seed)
    if name == "mean_squared_error":
        layout, opts, dtype, style, split_class, split_pos = MSE_CONFIGS[seed % len(MSE_CONFIGS)]
        kind = "values"
    else:
        layout, kind, opts, dtype, style, split_class, split_pos = CLASS_CONFIGS[
            seed % len(CLASS_CONFIGS)]
    shape, axis = CLASS_LAYOUTS[layout]
    c = shape[axis]
    positions = shape[:axis] + shape[axis + 1:]
    lead = 0 if axis != 0 else 1
    rows_per_index = math.prod(positions[1:])
    pred = _pred(name, shape, dtype, rng)
    kw = {"axis": axis} if axis != len(shape) - 1 else {}
    kw["n_threads"] = [None, 1, 2][seed % 3]
    if kind == "index":
        target = rng.integers(0, c, positions)
        if "ignore" in opts:
            target.reshape(-1)[::5] = IGNORE
            kw["ignore_index"] = IGNORE
    elif kind == "dense":
        target = rng.uniform(0.0, 1.0, shape)
    else:
        target = rng.normal(0.0, 1.0, shape)
    if "weight" in opts:
        kw["weight"] = rng.uniform(0.5, 2.0, c)
    if "smooth" in opts:
        kw["label_smoothing"] = 0.15
    dask_kw = dict(kw)
    if "sw" in opts:
        kw["sample_weight"] = _sample_weight(rng, positions)
        dask_kw["sample_weight"] = to_dask(rng, kw["sample_weight"], {
            0: split(rng, positions[0], "unaligned", rows_per_index)})
    lead_chunks = split(rng, shape[lead], lead_style or style, rows_per_index)
    pred_chunks = {lead: lead_chunks, axis: any_split(rng, c) if split_class else (c,)}
    for i in range(len(shape)):
        if i not in pred_chunks:
            pred_chunks[i] = any_split(rng, shape[i]) if split_pos else (shape[i],)
    dpred = da.from_array(pred, chunks=tuple(pred_chunks[i] for i in range(len(shape))))
    # the target chunked its own way
    dtarget = to_dask(rng, target, {(0 if kind == "index" else lead): split(
        rng, target.shape[0 if kind == "index" else lead], "unaligned", rows_per_index)})
    return Problem(name, pred, target, kw, lead, dpred, dtarget, dask_kw)


def binary_problem(name, seed, lead_style=None):
    rng = np.random.default_rng(seed)
    layout, opts, dtype, style = BINARY_CONFIGS[seed % len(BINARY_CONFIGS)]
    shape = BINARY_LAYOUTS[layout]
    rows_per_index = math.prod(shape[1:])
    pred = _pred(name, shape, dtype, rng)
    target = rng.uniform(0.0, 1.0, shape)
    target.reshape(-1)[::3] = np.round(target.reshape(-1)[::3])
    kw = {"n_threads": [None, 1, 2][seed % 3]}
    chunked = {}
    shapes = {"column": shape[-1:], "channel": shape[1:2] + (1,), "lead": (shape[0], 1),
              "full": shape}
    for opt in opts:
        if "=" in opt:
            key, kind = opt.split("=")
            kw[key] = rng.uniform(0.5, 2.0, shapes[kind])
            if kind in ("lead", "full"):
                chunked[key] = kw[key]
    if "smooth" in opts:
        kw["label_smoothing"] = 0.2
    if "eps" in opts and name == "binary_cross_entropy":
        kw["eps"] = 1e-3
    if "sw" in opts:
        kw["sample_weight"] = chunked["sample_weight"] = _sample_weight(rng, shape[:1])
    dask_kw = dict(kw)
    for key, v in chunked.items():
        # full-shape weights and sample weights: dask arrays chunked their own way
        dask_kw[key] = to_dask(rng, v, {0: split(rng, shape[0], "unaligned", rows_per_index)})
    lead_chunks = split(rng, shape[0], lead_style or style, rows_per_index)
    dpred = to_dask(rng, pred, {0: lead_chunks})
    dtarget = to_dask(rng, target, {0: split(rng, shape[0], "unaligned", rows_per_index)})
    return Problem(name, pred, target, kw, 0, dpred, dtarget, dask_kw)


def problem(name, seed, lead_style=None):
    return (binary_problem if name in BINARY_NAMES else class_problem)(name, seed, lead_style)


def _check_against_memory(prob, scheduler=None, grads=True, reductions=REDUCTIONS):
    """Every reduction of the loss (and of its *_and_grad twin), computed in
    one dask.compute, bitwise the in-memory call; the lazy results' types,
    dtypes and chunks."""
    lazy, want = {}, {}
    for grad in ((False, True) if grads else (False,)):
        for r in reductions:
            lazy[grad, r] = prob.lazy(grad, r)
            want[grad, r] = prob.memory(grad, r)
    # (NumPy inputs: one chunk each, of whatever length dask picks)
    lead_chunks = (prob.dpred.chunks[prob.lead] if isinstance(prob.dpred, da.Array)
                   else lazy[True, "none"][1].chunks[prob.lead])
    for (grad, r), res in lazy.items():
        what = f"{prob.name}{'_and_grad' if grad else ''} {r}"
        loss = res[0] if grad else res
        wloss = want[grad, r][0] if grad else want[grad, r]
        assert isinstance(loss, da.Array), what
        assert loss.shape == np.shape(wloss) and loss.dtype == np.asarray(wloss).dtype, what
        if r == "none":
            assert loss.chunks[0] == lead_chunks, f"{what}: {loss.chunks} vs {lead_chunks}"
        if grad:
            g, wg = res[1], want[grad, r][1]
            assert isinstance(g, da.Array) and g.shape == wg.shape and g.dtype == wg.dtype, what
            assert g.chunks[prob.lead] == lead_chunks, f"{what}: {g.chunks} vs {lead_chunks}"
    keys = list(lazy)
    got = dask.compute(*[lazy[k] for k in keys], scheduler=scheduler)
    for k, g in zip(keys, got):
        assert_same_result(g, want[k], f"{prob.name}{'_and_grad' if k[0] else ''} {k[1]}")


# ---------------------------------------------------------------------------
# bitwise the in-memory call
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(N_CHUNKINGS))
@pytest.mark.parametrize("name", LOSS_NAMES)
def test_every_chunking_gives_the_bits_of_the_in_memory_call(name, seed):
    _check_against_memory(problem(name, seed))


def test_the_chunkings_cover_what_they_are_meant_to():
    """Single chunks, chunks under 256 rows, unaligned chunks, chunks along
    the class axis and along a second position axis, dask sample weights
    chunked otherwise than pred, every n_threads and dtype."""
    seen = set()
    for name in LOSS_NAMES:
        for seed in range(N_CHUNKINGS):
            p = problem(name, seed)
            lead = p.dpred.chunks[p.lead]
            rpi = p.rows_per_index
            seen.add(("chunks", min(3, len(lead))))
            if max(lead) * rpi < 256:
                seen.add("tiny")
            if any((s * rpi) % 256 for s in np.cumsum(lead)[:-1]):
                seen.add("unaligned")
            if name not in BINARY_NAMES:
                axis = p.kw.get("axis", -1) % p.pred.ndim
                if len(p.dpred.chunks[axis]) > 1:
                    seen.add("class split")
                if any(len(c) > 1 for i, c in enumerate(p.dpred.chunks)
                       if i not in (axis, p.lead)):
                    seen.add("position split")
            sw = p.dask_kw.get("sample_weight")
            if sw is not None and sw.chunks[0] != lead:
                seen.add("sample weights chunked otherwise")
            seen.add(("n_threads", p.kw["n_threads"]))
            seen.add(("dtype", p.pred.dtype.name))
    assert seen >= {("chunks", 1), ("chunks", 3), "tiny", "unaligned", "class split",
                    "position split", "sample weights chunked otherwise",
                    ("n_threads", None), ("n_threads", 1), ("n_threads", 2),
                    ("dtype", "float64"), ("dtype", "float32"), ("dtype", "float16")}, seen


def test_numpy_inputs_are_accepted():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(600, 4))
    t = rng.integers(0, 4, 600)
    sw = rng.uniform(size=600)
    y = rng.uniform(size=(600, 4))
    for name, target, kw in [("softmax_cross_entropy", t, {"sample_weight": sw}),
                             ("cross_entropy", y, {"weight": np.arange(1.0, 5.0)}),
                             ("mean_squared_error", y, {}),
                             ("sigmoid_binary_cross_entropy", y,
                              {"pos_weight": y + 0.5, "sample_weight": sw})]:
        pred = np.abs(x) / 4 + 0.01 if name == "cross_entropy" else x
        prob = Problem(name, pred, target, kw, 0, pred, target, kw)
        _check_against_memory(prob)


def test_an_empty_batch():
    x = np.zeros((0, 5))
    t = np.zeros(0, np.int64)
    for name, target in [("softmax_cross_entropy", t), ("cross_entropy", t),
                         ("mean_squared_error", x), ("binary_cross_entropy", x)]:
        prob = Problem(name, x, target, {}, 0, da.from_array(x), da.from_array(target), {})
        _check_against_memory(prob)


def test_one_sample_with_a_python_int_target():
    """A 1-D pred (the class axis alone), in 3 chunks, and an int label."""
    rng = np.random.default_rng(3)
    for name in ("cross_entropy", "softmax_cross_entropy"):
        x = rng.uniform(0.05, 1.0, 7) if name == "cross_entropy" else rng.normal(size=7)
        kw = {"weight": rng.uniform(0.5, 2.0, 7), "label_smoothing": 0.1}
        prob = Problem(name, x, 4, kw, 0, da.from_array(x, chunks=3), 4, kw)
        for grad in (False, True):
            for r in REDUCTIONS:
                assert_same_result(dask.compute(prob.lazy(grad, r))[0], prob.memory(grad, r),
                                   f"{name} {grad} {r}")


def test_a_single_chunk_of_a_large_batch():
    """One chunk holding several blocks: no seam, the same bits."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1500, 4))
    t = rng.integers(0, 4, 1500)
    prob = Problem("softmax_cross_entropy", x, t, {}, 0, da.from_array(x, chunks=-1),
                   da.from_array(t, chunks=-1), {})
    assert prob.dpred.numblocks == (1, 1)
    _check_against_memory(prob)


def test_calls_that_differ_only_in_an_option_are_computed_apart():
    """The same dask inputs under options that differ in one value each,
    computed together: every result is its own call's (no two calls share
    a task)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(600, 4))
    t = rng.integers(0, 4, 600)
    dx, dt = da.from_array(x, chunks=(250, 4)), da.from_array(t, chunks=300)
    variants = [{}, {"label_smoothing": 0.1}, {"label_smoothing": 0.2},
                {"weight": np.array([1.0, 2.0, 3.0, 4.0])},
                {"weight": np.array([1.0, 2.0, 3.0, 5.0])}, {"ignore_index": 0},
                {"ignore_index": 1}, {"n_threads": 2}]
    lazy, want = [], []
    for kw in variants:
        for grad in (False, True):
            suffix = "_and_grad" if grad else ""
            lazy.append(getattr(fld, "softmax_cross_entropy" + suffix)(dx, dt, **kw))
            want.append(getattr(fl, "softmax_cross_entropy" + suffix)(x, t, **kw))
    got = dask.compute(*lazy)
    for kw, g, w in zip([v for v in variants for _ in (0, 1)], got, want):
        assert_same_result(g, w, str(kw))


# ---------------------------------------------------------------------------
# schedulers
# ---------------------------------------------------------------------------

def test_the_processes_scheduler():
    """Small problems of three families computed in worker processes (one
    dask.compute: the pool starts once)."""
    probs = [problem("softmax_cross_entropy", 3, "unaligned"),
             problem("mean_squared_error", 7, "unaligned"),
             problem("sigmoid_binary_cross_entropy", 2, "unaligned")]
    lazy, want = [], []
    for p in probs:
        for grad, r in [(False, "mean"), (False, "sum"), (True, "mean")]:
            lazy.append(p.lazy(grad, r))
            want.append(p.memory(grad, r))
    got = dask.compute(*lazy, scheduler="processes")
    for g, w in zip(got, want):
        assert_same_result(g, w)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        # (the scheduler's HTTP server falls back to another port when
        # another program holds 8787)
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
    try:
        c = distributed.Client(cluster, set_as_default=False)
        try:
            yield c
        finally:
            c.close()
    finally:
        cluster.close()


@pytest.mark.parametrize("name,seed", [("softmax_cross_entropy", 3), ("cross_entropy", 8),
                                       ("mean_squared_error", 7),
                                       ("binary_cross_entropy", 2),
                                       ("sigmoid_binary_cross_entropy", 10)])
def test_a_distributed_cluster(client, name, seed):
    """Two worker processes of one thread each, the kernels on 1 and on 2
    threads: "mean", "sum" and the "mean" gradient (one compute)."""
    prob = problem(name, seed, "unaligned")
    assert prob.dpred.numblocks[prob.lead] > 1
    lazy, want = [], []
    for n_threads in (1, 2):
        prob.kw["n_threads"] = prob.dask_kw["n_threads"] = n_threads
        for grad, r in [(False, "mean"), (False, "sum"), (True, "mean")]:
            lazy.append(prob.lazy(grad, r))
            want.append(prob.memory(grad, r))
    got = dask.compute(*lazy, scheduler=client)
    for g, w in zip(got, want):
        assert_same_result(g, w, name)


def test_a_bad_label_on_a_distributed_cluster(client):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(700, 5))
    t = rng.integers(0, 5, 700)
    t[650] = 5
    want = raised(lambda: fl.softmax_cross_entropy(x, t))
    lazy = fld.softmax_cross_entropy(da.from_array(x, chunks=(300, 5)), da.from_array(t))
    with pytest.raises(IndexError) as excinfo:
        dask.compute(lazy, scheduler=client)
    assert str(excinfo.value) == str(want)


# ---------------------------------------------------------------------------
# errors at call time
# ---------------------------------------------------------------------------

class Computed(Exception):
    pass


def _refuse(block):
    raise Computed("a chunk was computed")


def untouchable(a, chunks):
    """A dask array of ``a``'s shape and dtype whose computation raises."""
    base = da.from_array(a, chunks=chunks)
    return base.map_blocks(_refuse, dtype=base.dtype)


_rng = np.random.default_rng(11)
_X = _rng.uniform(0.05, 1.0, (300, 5))
_T = _rng.integers(0, 5, 300)
_Y = _rng.uniform(0.0, 1.0, (300, 5))
_X4 = _rng.normal(size=(10, 4, 3, 5))

CALL_ERRORS = {
    # what: (function name, pred, target, options); the in-memory call raises
    "float class indices": ("softmax_cross_entropy", _X, _T.astype(float), {}),
    "bool class indices": ("cross_entropy", _X, _T > 2, {}),
    "target too short": ("softmax_cross_entropy", _X, _T[:299], {}),
    "dense target of other classes": ("softmax_cross_entropy", _X, _Y[:, :4], {}),
    "integer dense target": ("cross_entropy", _X, np.zeros((300, 5), np.int64), {}),
    "4-d target of another height": ("softmax_cross_entropy", _X4,
                                     np.zeros((10, 3, 3), np.int64), {}),
    "sample_weight too long": ("cross_entropy", _X, _T, {"sample_weight": np.ones(301)}),
    "weight shape": ("cross_entropy", _X, _T, {"weight": np.ones(4)}),
    "axis out of range": ("softmax_cross_entropy", _X, _T, {"axis": 2}),
    "axis negative out of range": ("softmax_cross_entropy", _X4, _T, {"axis": -5}),
    "axis not an int": ("softmax_cross_entropy", _X, _T, {"axis": 1.0}),
    "reduction": ("softmax_cross_entropy", _X, _T, {"reduction": "max"}),
    "reduction None": ("mean_squared_error", _X, _Y, {"reduction": None}),
    "label_smoothing": ("softmax_cross_entropy", _X, _T, {"label_smoothing": 1.5}),
    "eps": ("cross_entropy", _X, _T, {"eps": -1.0}),
    "n_threads": ("softmax_cross_entropy", _X, _T, {"n_threads": 0}),
    "ignore_index with dense": ("softmax_cross_entropy", _X, _Y, {"ignore_index": 0}),
    "mse target shape": ("mean_squared_error", _X, _Y[:-1], {}),
    "binary target shape": ("sigmoid_binary_cross_entropy", _X, _Y[:-1], {}),
    "binary pos_weight shape": ("binary_cross_entropy", _X, _Y, {"pos_weight": np.ones(4)}),
    "binary full weight shape": ("sigmoid_binary_cross_entropy", _X, _Y,
                                 {"weight": np.ones((300, 4))}),
    "binary sample_weight shape": ("binary_cross_entropy", _X, _Y,
                                   {"sample_weight": np.ones(5)}),
    "complex pred": ("softmax_cross_entropy", _X.astype(complex), _T, {}),
    "object target": ("cross_entropy", _X, _T.astype(object), {}),
    "zero classes": ("softmax_cross_entropy", _X[:, :0], _T, {}),
    "zero classes, axis 1 of 4-d": ("cross_entropy", _X4[:, :0], np.zeros((10, 3, 5), np.int64),
                                    {"axis": 1}),
}
# errors whose message is the in-memory one, word for word (a first axis
# whose length differs between operands gets a message of its own)
SAME_MESSAGE = {"float class indices", "bool class indices", "weight shape",
                "axis out of range", "axis not an int", "reduction", "label_smoothing", "eps",
                "n_threads", "ignore_index with dense", "complex pred",
                "dense target of other classes", "integer dense target",
                "4-d target of another height", "binary pos_weight shape",
                "binary full weight shape", "binary sample_weight shape", "target too short",
                "sample_weight too long", "mse target shape", "binary target shape",
                "object target", "zero classes", "zero classes, axis 1 of 4-d"}


@pytest.mark.parametrize("grad", [False, True], ids=["loss", "and_grad"])
@pytest.mark.parametrize("what", list(CALL_ERRORS))
def test_argument_errors_raise_at_call_time(what, grad):
    name, pred, target, kw = CALL_ERRORS[what]
    name += "_and_grad" if grad else ""
    want = raised(lambda: getattr(fl, name)(pred, target, **kw))
    assert type(want) in (TypeError, ValueError, np.exceptions.AxisError), want
    dkw = dict(kw)
    if "sample_weight" in dkw:
        dkw["sample_weight"] = untouchable(dkw["sample_weight"], 2)
    for key in ("weight", "pos_weight"):
        if key in dkw and np.ndim(dkw[key]) == pred.ndim and np.shape(dkw[key])[0] == len(pred):
            dkw[key] = untouchable(dkw[key], 100)
    dpred = untouchable(pred, tuple(max(1, s // 2) for s in pred.shape))
    dtarget = untouchable(target, 64)
    got = raised(lambda: getattr(fld, name)(dpred, dtarget, **dkw))
    assert type(got) is type(want), (got, want)
    if what in SAME_MESSAGE:
        assert str(got) == str(want)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_out_raises_typeerror(name):
    x = untouchable(_X, 100)
    t = untouchable(_T if name.endswith("softmax_cross_entropy") else _Y, 100)
    fn = getattr(fld, name + "_and_grad")
    with pytest.raises(TypeError, match="out"):
        fn(x, t, out=np.empty(_X.shape))
    with pytest.raises(TypeError, match="out"):
        fn(x, t, out=da.zeros(_X.shape))
    with pytest.raises(TypeError):
        getattr(fld, name)(x, t, out=np.empty(_X.shape))       # no such keyword


@pytest.mark.parametrize("operand", ["pred", "target", "sample_weight"])
def test_unknown_chunk_sizes_raise_valueerror(operand):
    x = untouchable(_X, 100)
    t = untouchable(_T, 100)
    sw = untouchable(np.ones(300), 100)
    unknown = {"pred": x[x[:, 0] > 0.5], "target": t[t > 0], "sample_weight": sw[sw > 0]}[operand]
    assert any(math.isnan(c) for cs in unknown.chunks for c in cs)
    args = {"pred": x, "target": t, "sample_weight": sw}
    args[operand] = unknown
    for fn in (fld.softmax_cross_entropy, fld.softmax_cross_entropy_and_grad):
        with pytest.raises(ValueError, match="compute_chunk_sizes"):
            fn(args["pred"], args["target"], sample_weight=args["sample_weight"])


def test_unknown_chunk_sizes_of_a_binary_loss():
    x = untouchable(_Y, 100)
    unknown = x[x[:, 0] > 0.5]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        fld.binary_cross_entropy(unknown, unknown)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        fld.sigmoid_binary_cross_entropy_and_grad(x, unknown)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        fld.binary_cross_entropy(x, x, sample_weight=unknown[:, 0])


# ---------------------------------------------------------------------------
# bad labels at compute time
# ---------------------------------------------------------------------------

def _bad_label_problem(places, values, shape=(700, 5), chunks=(300, 5), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    t = rng.integers(0, shape[-1], shape[:-1])
    for place, value in zip(places, values):
        t.reshape(-1)[place] = value
    return x, t, da.from_array(x, chunks=chunks), da.from_array(t, chunks=chunks[:-1])


def _check_raises_as_in_memory(x, t, dx, dt, grad, reduction, **kw):
    name = "softmax_cross_entropy" + ("_and_grad" if grad else "")
    want = raised(lambda: getattr(fl, name)(x, t, reduction=reduction, **kw))
    assert type(want) is IndexError
    lazy = getattr(fld, name)(dx, dt, reduction=reduction, **kw)     # no error yet
    outputs = [lazy] if not grad else [lazy, lazy[0], lazy[1]]
    for out in outputs:
        with pytest.raises(IndexError) as excinfo:
            dask.compute(out)
        assert str(excinfo.value) == str(want)
    return str(want)


LOSS_OR_MEAN_GRAD = [(False, "mean"), (False, "sum"), (False, "none"), (True, "mean")]


@pytest.mark.parametrize("grad,reduction", LOSS_OR_MEAN_GRAD)
def test_a_bad_label_in_the_last_chunk_names_its_row(grad, reduction):
    x, t, dx, dt = _bad_label_problem([690], [7])
    message = _check_raises_as_in_memory(x, t, dx, dt, grad, reduction,
                                         sample_weight=np.linspace(0, 1, 700))
    assert "(row 690)" in message


@pytest.mark.parametrize("grad,reduction", LOSS_OR_MEAN_GRAD)
def test_a_bad_label_with_two_position_axes_names_its_position(grad, reduction):
    shape = (30, 4, 5, 3)
    flat = 28 * 20 + 2 * 5 + 3                   # position (28, 2, 3), in the last chunk
    x, t, dx, dt = _bad_label_problem([flat], [-1], shape, (7, 3, 2, 3), seed=1)
    message = _check_raises_as_in_memory(x, t, dx, dt, grad, reduction, ignore_index=IGNORE)
    assert "(position (28, 2, 3))" in message


@pytest.mark.parametrize("grad,reduction", [(False, "mean"), (False, "sum"), (False, "none"),
                                            (True, "mean"), (True, "sum"), (True, "none")])
def test_the_first_of_two_bad_labels_in_different_chunks_is_named(grad, reduction):
    """The first bad label is in the first chunk, the second in the last
    (a small chunk, computed sooner)."""
    x, t, dx, dt = _bad_label_problem([20, 690], [8, 9], chunks=((500, 100, 100), 5))
    message = _check_raises_as_in_memory(x, t, dx, dt, grad, reduction)
    assert "target 8 " in message and "(row 20)" in message
    # and with two position axes
    shape = (30, 4, 5, 3)
    x, t, dx, dt = _bad_label_problem([45, 27 * 20 + 7], [8, 9], shape, ((20, 5, 5), 4, 5, 3))
    message = _check_raises_as_in_memory(x, t, dx, dt, grad, reduction)
    assert "target 8 " in message


def test_empty_chunks_at_either_end_change_nothing():
    """An empty last (or first) chunk, as filtering and compute_chunk_sizes()
    leave: its boundary cuts no block."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(700, 5))
    t = rng.integers(0, 5, 700)
    for chunks in [((700, 0), 5), ((0, 700), 5), ((300, 400, 0), 5), ((0, 300, 0, 400, 0), 5)]:
        dx = da.from_array(x, chunks=chunks)
        for reduction in ("mean", "sum"):
            got = dask.compute(fld.softmax_cross_entropy_and_grad(dx, t, reduction=reduction))[0]
            want = fl.softmax_cross_entropy_and_grad(x, t, reduction=reduction)
            assert_same(got[0], want[0])
            assert_same(got[1], want[1])
            got = fld.sigmoid_binary_cross_entropy(dx, x > 0, reduction=reduction).compute()
            assert_same(got, fl.sigmoid_binary_cross_entropy(x, x > 0, reduction=reduction))


def test_a_python_int_label_is_checked_at_compute_time():
    lazy = fld.softmax_cross_entropy(np.zeros(5), 7)           # no error yet
    want = raised(lambda: fl.softmax_cross_entropy(np.zeros(5), 7))
    with pytest.raises(IndexError) as excinfo:
        lazy.compute()
    assert str(excinfo.value) == str(want)
    with pytest.raises(TypeError):                              # not a label at all
        fld.softmax_cross_entropy(np.zeros(5), 1.5)


# ---------------------------------------------------------------------------
# what travels: the graph's structure
# ---------------------------------------------------------------------------

def _dependencies(array, role):
    """{task key: its dependencies} of the tasks of ``array``'s graph whose
    key names end with ``role`` ("-loss", "-divisor-share", ...)."""
    from dask.core import get_dependencies
    graph = dict(array.__dask_graph__())
    return {key: get_dependencies(graph, key) for key in graph
            if isinstance(key, tuple) and isinstance(key[0], str) and key[0].endswith(role)}


def test_the_loss_of_a_gradient_call_fetches_partial_sums_only():
    """The combine task reads the pieces' partial sums, never a chunk task's
    result, which holds the chunk's gradient: the loss of a *_and_grad
    call must not gather the gradient on one worker."""
    rng = np.random.default_rng(21)
    x, t = rng.normal(size=(3000, 4)), rng.integers(0, 4, 3000)
    dx, dt = da.from_array(x, chunks=(700, 4)), da.from_array(t, chunks=700)
    for reduction in ("mean", "sum"):
        loss, _ = fld.softmax_cross_entropy_and_grad(dx, dt, reduction=reduction)
        (deps,) = _dependencies(loss, "-loss").values()
        assert deps and all(k[0].endswith(("-parts", "-seam")) for k in deps), deps
        for key, inner in _dependencies(loss, "-parts").items():
            assert len(inner) == 1 and next(iter(inner))[0].endswith("-chunk")


def test_the_divisor_pass_reads_labels_and_sample_weights_only():
    """pred, a dense target and full-shape weights are stand-ins there:
    the pass never makes a worker hold (or fetch) their chunks."""
    rng = np.random.default_rng(22)
    x, y = rng.normal(size=(3000, 4)), rng.uniform(size=(3000, 4))
    t, s = rng.integers(0, 4, 3000), rng.uniform(size=3000)
    dx, dy = da.from_array(x, chunks=(700, 4)), da.from_array(y, chunks=(700, 4))
    dt, ds = da.from_array(t, chunks=700), da.from_array(s, chunks=700)
    calls = [(fld.softmax_cross_entropy_and_grad, dx, dt, {"sample_weight": ds}, {dt.name, ds.name}),
             (fld.mean_squared_error_and_grad, dx, dy, {"sample_weight": ds}, {ds.name}),
             (fld.sigmoid_binary_cross_entropy_and_grad, dx, dy,
              {"sample_weight": ds, "pos_weight": dy}, {ds.name})]
    for fn, p, target, kw, allowed in calls:
        _, grad = fn(p, target, **kw)
        shares = _dependencies(grad, "-divisor-share")
        assert shares
        read = set()
        for deps in shares.values():
            for k in deps:
                name = k[0]
                if "-edge-" in name:                  # a seam's edge task: what it cuts
                    name = name.split("-edge-", 1)[1]
                read.add(name)
        assert read and read <= allowed, (fn.__name__, read, allowed)


def test_a_numpy_object_array_gets_the_in_memory_typeerror():
    """dask cannot chunk an object array by size: it is one chunk, and the
    in-memory call rejects it at call time."""
    for kw, target in [({}, _T.astype(object)), ({"sample_weight": np.ones(300, object)}, _T)]:
        want = raised(lambda: fl.cross_entropy(_X, target, **kw))
        got = raised(lambda: fld.cross_entropy(_X, target, **kw))
        assert type(got) is type(want) is TypeError and str(got) == str(want)
