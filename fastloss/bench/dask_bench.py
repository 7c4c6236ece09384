"""``python -m fastloss.bench --dask``: fastloss.dask against dask.array expressions.

Two parts, each on the same inputs for every implementation:

1. *In-memory dask arrays.*  2 x 10^6 x 10 float32 logits and int32 labels,
   ``da.from_array`` in chunks of 2 x 10^5 rows, dask's threaded scheduler
   (the default: one thread a core).  ``fastloss.dask.softmax_cross_entropy``
   against the same loss written as a dask.array expression (a stable
   log-softmax, the labelled logit picked by a one-hot comparison: dask has
   no ``take_along_axis``) and against in-memory ``fastloss`` on the NumPy
   arrays.
2. *A Zarr store on a LocalCluster.*  2 x 10^7 x 10 float32 logits, their
   softmax (float32 probabilities) and int32 labels, uncompressed, in chunks
   of 10^6 rows; written once, chunk by chunk, into a cache directory and
   reused.  ``fastloss.dask.cross_entropy`` (on the probabilities) and
   ``fastloss.dask.softmax_cross_entropy`` (on the logits) against the
   dask.array expressions of the same losses, on a
   ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``,
   with each worker's peak memory during each computation.

Method: every timed call builds its graph and computes it, as a user's
``fastloss.dask.softmax_cross_entropy(X, T).compute()`` does; the
implementations are timed in turn within each repeat, so a slow spell of the
machine hits all of them, and each one's time is the minimum over the
repeats.  Before timing, one untimed call of each implementation warms up
(and, on the cluster, measures the workers' peak memory).  Finally the
fastloss.dask results must equal the in-memory fastloss call on the whole
arrays bit for bit (the exit code is 1 if one does not), and the
expressions must agree with them to a relative 1e-5.  Progress goes to
stderr, the report to stdout.

    python -m fastloss.bench --dask                # a minute or two; the first run writes the store
    python -m fastloss.bench --dask --quick        # small sizes, seconds
    python -m fastloss.bench.dask_bench --rows 4000000 --store /tmp/bench.zarr
"""
from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import shutil
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import fastloss

N_CLASSES = 10
SEED = 20240601
MARGIN = 2.0            # added to the labelled logit, as fastloss.bench.cases does
EPS = 1e-7              # fastloss.cross_entropy's default eps
RTOL = 1e-5             # how close an expression must come to fastloss
STORE_FORMAT = 1        # bump when the store's contents change

SIZES = {   # memory rows, memory chunk rows, Zarr rows, Zarr chunk rows, repeats (memory, Zarr)
    "default": dict(mem_rows=2_000_000, mem_chunk_rows=200_000, rows=20_000_000,
                    chunk_rows=1_000_000, mem_repeats=7, zarr_repeats=3),
    "quick": dict(mem_rows=200_000, mem_chunk_rows=20_000, rows=1_000_000,
                  chunk_rows=50_000, mem_repeats=3, zarr_repeats=2),
}


@dataclass(frozen=True)
class Target:
    title: str
    key: str            # into the ratios of a run
    op: str             # ">=" or "<="
    bound: float


TARGETS = (
    Target("in-memory dask arrays: expression / fastloss.dask (softmax_cross_entropy)",
           "memory.expression_over_dask", ">=", 5.0),
    Target("in-memory dask arrays: fastloss.dask / in-memory fastloss",
           "memory.dask_over_memory", "<=", 2.0),
    Target("Zarr on LocalCluster: expression / fastloss.dask, softmax_cross_entropy",
           "zarr.softmax_cross_entropy", ">=", 3.0),
    Target("Zarr on LocalCluster: expression / fastloss.dask, cross_entropy (class indices)",
           "zarr.cross_entropy", ">=", 1.5),
)


def _dask():
    import dask
    import dask.array as da
    import fastloss.dask as fdask
    return dask, da, fdask


# ---------------------------------------------------------------------------
# Inputs


def draw(rows, key, classes=N_CLASSES):
    """``(logits, probs, labels)``: float32 logits ~ N(0, 1) plus MARGIN on
    the labelled class, their softmax as float32 (computed in float64) and
    int32 labels; the same for the same ``key``."""
    rng = np.random.default_rng([SEED, *key])
    labels = rng.integers(0, classes, rows, dtype=np.int32)
    logits = rng.standard_normal((rows, classes), dtype=np.float32)
    logits[np.arange(rows), labels] += np.float32(MARGIN)
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return logits, z.astype(np.float32), labels


def softmax_cross_entropy_expression(X, T):
    """softmax_cross_entropy (class indices, mean) as a dask.array expression."""
    _, da, _ = _dask()
    m = X.max(axis=1, keepdims=True)
    lse = m[:, 0] + da.log(da.exp(X - m).sum(axis=1))
    picked = da.where(da.arange(X.shape[1]) == T[:, None], X, 0).sum(axis=1)
    return (lse - picked).mean()


def cross_entropy_expression(P, T):
    """cross_entropy (class indices, mean, eps 1e-7) as a dask.array expression."""
    _, da, _ = _dask()
    picked = da.where(da.arange(P.shape[1]) == T[:, None], P, 0).sum(axis=1)
    return -da.log(picked + EPS).mean()


EXPRESSION_CODE = {
    "softmax_cross_entropy": "m = X.max(axis=1, keepdims=True); "
                             "lse = m[:, 0] + da.log(da.exp(X - m).sum(axis=1)); "
                             "picked = da.where(da.arange(C) == T[:, None], X, 0).sum(axis=1); "
                             "(lse - picked).mean()",
    "cross_entropy": "-da.log(da.where(da.arange(C) == T[:, None], P, 0).sum(axis=1)"
                     " + 1e-7).mean()",
}


# ---------------------------------------------------------------------------
# Timing and checks


def time_in_turn(calls, repeats):
    """``{name: (best seconds, samples)}``: each call once per repeat, in
    turn, the garbage collector off while a call runs (as timeit does)."""
    samples = {name: [] for name in calls}
    for _ in range(max(1, repeats)):
        for name, call in calls.items():
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter()
                call()
                samples[name].append(time.perf_counter() - t0)
            finally:
                gc.enable()
    return {name: (min(s), s) for name, s in samples.items()}


def bitwise_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def rel_diff(a, b):
    a, b = float(a), float(b)
    return abs(a - b) / abs(b) if b else abs(a - b)


def _progress(message, start=None):
    stamp = f" {time.perf_counter() - start:7.1f} s" if start is not None else ""
    print(f"[dask bench{stamp}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# 1. In-memory dask arrays, threaded scheduler


def run_memory(rows, chunk_rows, repeats, start=None):
    """Part 1: a JSON-ready dict."""
    dask, da, fdask = _dask()
    import dask.system
    _progress(f"in-memory: drawing {rows:,} x {N_CLASSES} float32 logits", start)
    x, _, t = draw(rows, (0,))
    X = da.from_array(x, chunks=(chunk_rows, N_CLASSES))
    T = da.from_array(t, chunks=(chunk_rows,))
    threads = dask.system.CPU_COUNT
    calls = {
        "fastloss.dask": lambda: fdask.softmax_cross_entropy(X, T).compute(),
        "expression": lambda: softmax_cross_entropy_expression(X, T).compute(),
        "in-memory": lambda: fastloss.softmax_cross_entropy(x, t),
        # diagnostics, no target: each chunk's call on one thread, and the
        # graph alone (no compute)
        "fastloss.dask n_threads=1": lambda: fdask.softmax_cross_entropy(
            X, T, n_threads=1).compute(),
        "fastloss.dask graph only": lambda: fdask.softmax_cross_entropy(X, T),
    }
    with dask.config.set(scheduler="threads"):
        _progress("in-memory: one untimed call each", start)
        values = {name: call() for name, call in calls.items() if "graph" not in name}
        _progress(f"in-memory: timing, {repeats} repeats", start)
        timed = time_in_turn(calls, repeats)
    best = {name: b for name, (b, _) in timed.items()}
    return {
        "rows": rows, "classes": N_CLASSES, "chunk_rows": chunk_rows,
        "chunks": len(X.chunks[0]), "dtype": "float32", "labels": "int32",
        "scheduler": "threads", "threads": threads,
        "seconds": best, "samples": {name: s for name, (_, s) in timed.items()},
        "values": {name: float(v) for name, v in values.items()},
        "bitwise": bitwise_equal(values["fastloss.dask"], values["in-memory"])
        and bitwise_equal(values["fastloss.dask n_threads=1"], values["in-memory"]),
        "expression_rel_diff": rel_diff(values["expression"], values["in-memory"]),
        "expression_close": rel_diff(values["expression"], values["in-memory"]) <= RTOL,
        "ratios": {
            "expression_over_dask": best["expression"] / best["fastloss.dask"],
            "dask_over_memory": best["fastloss.dask"] / best["in-memory"],
        },
    }


# ---------------------------------------------------------------------------
# 2. The Zarr store


def default_store(rows, chunk_rows):
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "fastloss" / "bench-zarr" / f"rows{rows}-chunk{chunk_rows}.zarr"


def _store_spec(rows, chunk_rows):
    return {"format": STORE_FORMAT, "rows": rows, "classes": N_CLASSES,
            "chunk_rows": chunk_rows, "seed": SEED, "margin": MARGIN}


ARRAYS = {  # name: (dtype, trailing shape)
    "logits": ("float32", (N_CLASSES,)),
    "probs": ("float32", (N_CLASSES,)),
    "labels": ("int32", ()),
}


def _store_state(path, rows, chunk_rows):
    """"ok" (a complete store of these sizes), "ours" (a bench store of other
    sizes or unfinished), "absent" (no such path, or an empty directory) or
    "foreign" (anything else: never overwritten)."""
    import zarr
    path = Path(path)
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        return "absent"
    try:
        group = zarr.open_group(str(path), mode="r")
        attrs = dict(group.attrs).get("fastloss_bench")
    except Exception:
        return "foreign"
    if not isinstance(attrs, dict):
        return "foreign"
    if attrs.get("spec") != _store_spec(rows, chunk_rows) or not attrs.get("complete"):
        return "ours"
    try:
        for name, (dtype, tail) in ARRAYS.items():
            a = group[name]
            if (a.shape != (rows,) + tail or a.chunks != (chunk_rows,) + tail
                    or a.dtype != np.dtype(dtype)):
                return "ours"
    except KeyError:
        return "ours"
    return "ok"


def ensure_store(path, rows, chunk_rows, start=None):
    """Write the store at ``path`` unless a complete one of these sizes is
    there: ``(written, seconds)``.  Chunk by chunk: one chunk of each array
    in memory at a time.  A path that holds something other than a bench
    store raises FileExistsError."""
    import zarr
    path = Path(path)
    state = _store_state(path, rows, chunk_rows)
    if state == "ok":
        return False, None
    if state == "foreign":
        raise FileExistsError(f"{path} exists and is not a fastloss bench store: "
                              f"not overwriting it (pick another --store)")
    if state == "ours":
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    group = zarr.open_group(str(path), mode="w")
    group.attrs["fastloss_bench"] = {"spec": _store_spec(rows, chunk_rows), "complete": False}
    arrays = {name: group.create_array(name, shape=(rows,) + tail,
                                       chunks=(chunk_rows,) + tail, dtype=dtype,
                                       compressors=None)
              for name, (dtype, tail) in ARRAYS.items()}
    n_chunks = -(-rows // chunk_rows)
    for k in range(n_chunks):
        lo, hi = k * chunk_rows, min(rows, (k + 1) * chunk_rows)
        if k % max(1, n_chunks // 10) == 0:
            _progress(f"writing {path}: chunk {k + 1}/{n_chunks}", start)
        logits, probs, labels = draw(hi - lo, (1, k))
        arrays["logits"][lo:hi] = logits
        arrays["probs"][lo:hi] = probs
        arrays["labels"][lo:hi] = labels
        del logits, probs, labels
    group.attrs["fastloss_bench"] = {"spec": _store_spec(rows, chunk_rows), "complete": True}
    return True, time.perf_counter() - t0


# ---------------------------------------------------------------------------
# Worker memory: peak RSS during a computation, above the RSS before it


class _Sampler(threading.Thread):
    """Polls the process's RSS (where /proc/self/clear_refs cannot reset
    the kernel's peak)."""

    def __init__(self):
        super().__init__(daemon=True)
        import psutil
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.002):
            self.peak = max(self.peak, self.process.memory_info().rss)


def worker_reset_peak(dask_worker=None):
    """On a worker: start a peak window; its RSS now (bytes)."""
    import psutil
    rss = psutil.Process().memory_info().rss
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")            # the kernel's peak RSS (VmHWM) := RSS now
        state = "VmHWM"
    except OSError:
        state = _Sampler()
        state.start()
    dask_worker._fastloss_bench_peak = state
    return rss


def worker_peak(dask_worker=None):
    """On a worker: ``(peak RSS in bytes since worker_reset_peak, method)``."""
    state = getattr(dask_worker, "_fastloss_bench_peak", None)
    if state == "VmHWM":
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024, "VmHWM"
    if isinstance(state, _Sampler):
        state.stop.set()
        state.join()
        return state.peak, "sampled every 2 ms"
    return None, None


def worker_info():
    """On a worker: where its fastloss comes from and how it runs."""
    config = fastloss.show_config(print_=False)
    return {"fastloss": os.path.dirname(os.path.abspath(fastloss.__file__)),
            "extension": config["extension"], "simd": config["simd"],
            "max_threads": config["max_threads"], "pid": os.getpid()}


def _measured(client, call):
    """``(result, {worker: extra peak bytes}, method)``: one call, the
    workers' peak RSS during it above their RSS before it."""
    before = client.run(worker_reset_peak)
    result = call()
    peaks = client.run(worker_peak)
    extra = {w: max(0, peaks[w][0] - before[w]) for w in sorted(before)
             if peaks[w][0] is not None}
    method = next((m for _, m in peaks.values() if m), None)
    return result, extra, method


# ---------------------------------------------------------------------------
# 2. The Zarr store on a LocalCluster


LOSSES = {  # name: (fastloss.dask function name, store array, expression)
    "cross_entropy": ("cross_entropy", "probs", cross_entropy_expression),
    "softmax_cross_entropy": ("softmax_cross_entropy", "logits",
                              softmax_cross_entropy_expression),
}


def run_zarr(store, rows, chunk_rows, repeats, start=None):
    """Part 2: a JSON-ready dict (the store written first if need be)."""
    dask, da, fdask = _dask()
    from dask.distributed import Client, LocalCluster
    import zarr

    store = Path(store)
    written, write_s = ensure_store(store, rows, chunk_rows, start)
    _progress(("wrote" if written else "reusing") + f" {store}", start)
    arrays = {name: da.from_zarr(str(store), component=name) for name in ARRAYS}
    T = arrays["labels"]
    chunk_bytes = chunk_rows * N_CLASSES * np.dtype(np.float32).itemsize

    _progress("starting LocalCluster(n_workers=2, threads_per_worker=1, processes=True)", start)
    # no dashboard; the scheduler's HTTP server (health, metrics), which it
    # starts anyway, on a free port rather than on 8787, which another
    # cluster may hold
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    losses = {}
    try:
        with Client(cluster) as client:
            client.wait_for_workers(2)
            workers = client.run(worker_info)
            here = worker_info()
            for w, info in workers.items():
                if info["extension"] != here["extension"] or info["simd"] != here["simd"]:
                    raise RuntimeError(f"worker {w} runs fastloss from {info['extension']} "
                                       f"({info['simd']}), this process from "
                                       f"{here['extension']} ({here['simd']})")
            names = {w: f"w{i}" for i, w in enumerate(sorted(workers), 1)}

            def compute(x):
                return client.compute(x, sync=True)

            calls = {}
            for loss, (fn_name, pred_name, expression) in LOSSES.items():
                P = arrays[pred_name]
                fn = getattr(fdask, fn_name)
                calls[(loss, "fastloss.dask")] = (
                    lambda fn=fn, P=P: compute(fn(P, T)))
                calls[(loss, "expression")] = (
                    lambda expression=expression, P=P: compute(expression(P, T)))

            # warm-up on a slice (imports on the workers), then one call each
            # measuring the workers' memory
            n = min(rows, 4096)
            for loss, (fn_name, pred_name, expression) in LOSSES.items():
                P = arrays[pred_name][:n]
                compute(getattr(fdask, fn_name)(P, T[:n]))
                compute(expression(P, T[:n]))
            values, memory, method = {}, {}, None
            for key, call in calls.items():
                _progress(f"zarr: {key[0]}, {key[1]}: one untimed call (worker memory)",
                          start)
                values[key], memory[key], method = _measured(client, call)
            _progress(f"zarr: timing, {repeats} repeats", start)
            timed = time_in_turn(calls, repeats)
    finally:
        cluster.close()

    _progress("zarr: loading the whole arrays for the in-memory check", start)
    group = zarr.open_group(str(store), mode="r")
    labels = np.asarray(group["labels"])
    for loss, (fn_name, pred_name, _) in LOSSES.items():
        pred = np.asarray(group[pred_name])
        in_memory = getattr(fastloss, fn_name)(pred, labels)
        del pred
        d, e = values[(loss, "fastloss.dask")], values[(loss, "expression")]
        sd, se = timed[(loss, "fastloss.dask")][0], timed[(loss, "expression")][0]
        losses[loss] = {
            "array": pred_name,
            "seconds": {"fastloss.dask": sd, "expression": se},
            "samples": {"fastloss.dask": timed[(loss, "fastloss.dask")][1],
                        "expression": timed[(loss, "expression")][1]},
            "speedup": se / sd,
            "peak_bytes": {impl: {names[w]: b for w, b in memory[(loss, impl)].items()}
                           for impl in ("fastloss.dask", "expression")},
            "values": {"fastloss.dask": float(d), "expression": float(e),
                       "in-memory": float(in_memory)},
            "bitwise": bitwise_equal(d, in_memory),
            "expression_rel_diff": rel_diff(e, in_memory),
            "expression_close": rel_diff(e, in_memory) <= RTOL,
        }
    del labels
    return {
        "store": str(store), "written": written, "write_s": write_s,
        "rows": rows, "classes": N_CLASSES, "chunk_rows": chunk_rows,
        "chunks": len(T.chunks[0]), "chunk_bytes": chunk_bytes,
        "store_bytes": sum(int(np.prod(arrays[n].shape)) * arrays[n].dtype.itemsize
                           for n in ARRAYS),
        "cluster": "LocalCluster(n_workers=2, threads_per_worker=1, processes=True)",
        "workers": {names[w]: info for w, info in workers.items()},
        "memory_method": method,
        "losses": losses,
    }


# ---------------------------------------------------------------------------
# Targets and report


def evaluate_targets(memory, zarr_run):
    ratios = {}
    if memory is not None:
        for k, v in memory["ratios"].items():
            ratios[f"memory.{k}"] = v
    if zarr_run is not None:
        for loss, r in zarr_run["losses"].items():
            ratios[f"zarr.{loss}"] = r["speedup"]
    out = []
    for t in TARGETS:
        if t.key not in ratios:
            continue
        value = ratios[t.key]
        met = value >= t.bound if t.op == ">=" else value <= t.bound
        out.append({"title": t.title, "measured": value, "op": t.op, "bound": t.bound,
                    "met": met})
    return out


def bitwise_ok(memory, zarr_run):
    ok = memory is None or memory["bitwise"]
    if zarr_run is not None:
        ok = ok and all(r["bitwise"] for r in zarr_run["losses"].values())
    return ok


def describe_machine():
    from fastloss.bench.__main__ import _cpu_model
    import dask
    import distributed
    import zarr
    config = fastloss.show_config(print_=False)
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__, "dask": dask.__version__,
        "distributed": distributed.__version__, "zarr": zarr.__version__,
        "fastloss": fastloss.__version__, "simd": config["simd"],
        "openmp": config["openmp"], "max_threads": config["max_threads"],
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def _ms(seconds):
    ms = seconds * 1e3
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.1f}"


def _bytes(nbytes):
    if nbytes < 100_000:
        return f"{nbytes / 1e3:.1f} kB"
    if nbytes < 100_000_000:
        return f"{nbytes / 1e6:.1f} MB"
    return f"{nbytes / 1e6:,.0f} MB"


def _mb(nbytes, chunk_bytes):
    return f"{_bytes(nbytes)} ({nbytes / chunk_bytes:.1f} chunks)"


def format_header(machine):
    load = machine["load_average"]
    busy = ""
    if load and load[0] >= 0.5:
        busy = (f"; WARNING: load average {load[0]:.2f} at the start: other work shares the"
                " cores, timings are noisy")
    return "\n".join([
        f"fastloss {machine['fastloss']} dask benchmark, {machine['date']}",
        f"machine: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']}"
        f" usable), {machine['platform']}" + busy,
        f"Python {machine['python']}, NumPy {machine['numpy']}, dask {machine['dask']},"
        f" distributed {machine['distributed']}, zarr {machine['zarr']}; fastloss"
        f" {machine['simd']}, OpenMP {'on' if machine['openmp'] else 'off'}"
        f" (n_threads=None: up to {machine['max_threads']} threads)",
        "timing: each call builds its graph and computes it; minimum over the repeats, the"
        " implementations timed in turn within each repeat",
    ])


def format_memory(m, table):
    best = m["seconds"]
    d = best["fastloss.dask"]
    rows = [
        ["fastloss.dask.softmax_cross_entropy(X, T).compute()", _ms(best["fastloss.dask"]),
         "1.00x"],
        ["dask.array expression (stable log-softmax, one-hot pick)", _ms(best["expression"]),
         f"{best['expression'] / d:.2f}x"],
        ["fastloss.softmax_cross_entropy(x, t), in memory", _ms(best["in-memory"]),
         f"{best['in-memory'] / d:.2f}x"],
        None,
        ["diagnostic: fastloss.dask, n_threads=1 in each chunk",
         _ms(best["fastloss.dask n_threads=1"]),
         f"{best['fastloss.dask n_threads=1'] / d:.2f}x"],
        ["diagnostic: fastloss.dask graph building alone (no compute)",
         _ms(best["fastloss.dask graph only"]), f"{best['fastloss.dask graph only'] / d:.2f}x"],
    ]
    head = (f"1. In-memory dask arrays: softmax_cross_entropy on {m['rows']:,} x {m['classes']}"
            f" float32 logits, int32 labels; da.from_array in chunks of {m['chunk_rows']:,}"
            f" rows ({m['chunks']} chunks); threaded scheduler, {m['threads']} threads"
            f" (in-memory fastloss: n_threads=None)")
    checks = (f"checks: fastloss.dask == in-memory fastloss bit for bit:"
              f" {'yes' if m['bitwise'] else 'NO'} (loss {m['values']['in-memory']!r});"
              f" expression within rtol {RTOL:g}: {'yes' if m['expression_close'] else 'NO'}"
              f" (relative difference {m['expression_rel_diff']:.1e})")
    return "\n".join([head, table(["implementation", "ms", "time / fastloss.dask"], rows,
                                  list("<>>")), checks])


def format_zarr(z, table):
    cb = z["chunk_bytes"]
    rows = []
    for loss, r in z["losses"].items():
        for impl in ("fastloss.dask", "expression"):
            peaks = r["peak_bytes"][impl]
            name = (f"fastloss.dask.{loss}({'probs' if r['array'] == 'probs' else 'logits'},"
                    " labels)" if impl == "fastloss.dask" else "dask.array expression")
            rows.append([loss if impl == "fastloss.dask" else "", name,
                         _ms(r["seconds"][impl]),
                         f"{r['speedup']:.2f}x" if impl == "expression" else "1.00x",
                         *[_mb(peaks[w], cb) if w in peaks else "-"
                           for w in sorted(z["workers"])]])
    workers = sorted(z["workers"])
    write = (f"written in {z['write_s']:.1f} s" if z["written"]
             else "reused (written by an earlier run)")
    info = next(iter(z["workers"].values()))
    head = (f"2. Zarr store on a LocalCluster: {z['rows']:,} x {z['classes']} float32 logits,"
            f" their softmax as float32 probabilities and int32 labels, uncompressed, chunks"
            f" of {z['chunk_rows']:,} rows ({z['chunks']} chunks,"
            f" {_bytes(cb)} a float chunk, {_bytes(z['store_bytes'])} in all)\n"
            f"store: {z['store']}, {write}\n"
            f"cluster: {z['cluster']}, workers {', '.join(workers)} (fastloss"
            f" n_threads=None: up to {info['max_threads']} thread(s) on a worker)\n"
            f"cross_entropy runs on the probabilities, softmax_cross_entropy on the logits;"
            f" worker memory: peak RSS during one call above the RSS before it"
            f" ({z['memory_method']}), and in float chunks of {_bytes(cb)}")
    table_text = table(["loss", "implementation", "ms", "expression / fastloss.dask",
                        *[f"{w} peak memory" for w in workers]], rows,
                       list("<<>>") + [">"] * len(workers))
    checks = []
    for loss, r in z["losses"].items():
        checks.append(f"checks, {loss}: fastloss.dask == in-memory fastloss on the whole"
                      f" arrays bit for bit: {'yes' if r['bitwise'] else 'NO'}"
                      f" (loss {r['values']['in-memory']!r}); expression within rtol"
                      f" {RTOL:g}: {'yes' if r['expression_close'] else 'NO'} (relative"
                      f" difference {r['expression_rel_diff']:.1e})")
    return "\n".join([head, table_text] + checks)


def format_targets(evaluated, table, default_sizes=True):
    rows = [[t["title"], f"{t['measured']:.2f}x", f"{t['op']} {t['bound']:g}x",
             "met" if t["met"] else "missed"] for t in evaluated]
    head = "Targets" + ("" if default_sizes else
                        " (set for the default sizes; this run used others: indicative only)")
    return head + "\n" + table(["target", "measured", "goal", "verdict"], rows, list("<>><"))


NOTES = """\
Expressions: softmax_cross_entropy: {sce}
             cross_entropy: {ce}
(dask has no take_along_axis: the labelled entry is picked by a one-hot comparison.)""".format(
    sce=EXPRESSION_CODE["softmax_cross_entropy"], ce=EXPRESSION_CODE["cross_entropy"])


def format_report(machine, memory, zarr_run, evaluated, default_sizes=True):
    from fastloss.bench.__main__ import _table
    sections = [format_header(machine)]
    if memory is not None:
        sections.append(format_memory(memory, _table))
    if zarr_run is not None:
        sections.append(format_zarr(zarr_run, _table))
    sections.append(NOTES)
    sections.append(format_targets(evaluated, _table, default_sizes))
    if not bitwise_ok(memory, zarr_run):
        sections.append("A BITWISE CHECK FAILED: fastloss.dask differs from in-memory fastloss")
    return "\n\n".join(sections)


# ---------------------------------------------------------------------------
# Command line


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m fastloss.bench --dask",
        description="Time fastloss.dask against the same losses as dask.array expressions:"
                    " on in-memory dask arrays (threaded scheduler) and on a Zarr store on a"
                    " LocalCluster of two one-thread worker processes.")
    p.add_argument("--quick", action="store_true",
                   help="small sizes (a smoke run): 200,000 rows in memory, 1,000,000 in Zarr")
    p.add_argument("--rows", type=int, help="rows of the Zarr store (default 20,000,000)")
    p.add_argument("--chunk-rows", type=int, help="rows of a Zarr chunk (default 1,000,000)")
    p.add_argument("--mem-rows", type=int, help="rows of the in-memory part (default 2,000,000)")
    p.add_argument("--mem-chunk-rows", type=int,
                   help="rows of an in-memory dask chunk (default 200,000)")
    p.add_argument("--store", metavar="PATH",
                   help="the Zarr store (default: ~/.cache/fastloss/bench-zarr/"
                        "rows<N>-chunk<M>.zarr); written if missing or of other sizes, never"
                        " over anything that is not a bench store")
    p.add_argument("--repeats", type=int,
                   help="timed repeats of each implementation (default 7 in memory, 3 on Zarr)")
    p.add_argument("--no-memory", action="store_true", help="skip part 1 (in-memory dask arrays)")
    p.add_argument("--no-zarr", action="store_true", help="skip part 2 (Zarr, LocalCluster)")
    p.add_argument("--json", metavar="FILE", help="write every number and the machine to FILE")
    args = p.parse_args(argv)
    sizes = dict(SIZES["quick" if args.quick else "default"])
    for key in ("rows", "chunk_rows", "mem_rows", "mem_chunk_rows"):
        value = getattr(args, key)
        if value is not None:
            if value < 1:
                p.error(f"--{key.replace('_', '-')} must be positive")
            sizes[key] = value
    if args.repeats is not None:
        if args.repeats < 1:
            p.error("--repeats must be positive")
        sizes["mem_repeats"] = sizes["zarr_repeats"] = args.repeats
    return args, sizes


def main(argv=None):
    args, sizes = parse_args(argv)
    try:
        import dask  # noqa: F401
        import dask.array  # noqa: F401
        import distributed  # noqa: F401
        import zarr  # noqa: F401
    except ImportError as exc:
        print(f"--dask needs dask[array,distributed] and zarr ({exc}):"
              f" pip install 'fastloss[dask]' zarr", file=sys.stderr)
        return 2
    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        print(f"no such directory for {args.json}", file=sys.stderr)
        return 2
    store = Path(args.store) if args.store else default_store(sizes["rows"], sizes["chunk_rows"])
    if not args.no_zarr and _store_state(store, sizes["rows"], sizes["chunk_rows"]) == "foreign":
        print(f"--store: {store} exists and is not a fastloss bench store: not overwriting it",
              file=sys.stderr)
        return 2

    machine = describe_machine()
    start = time.perf_counter()
    memory = zarr_run = None
    if not args.no_memory:
        memory = run_memory(sizes["mem_rows"], sizes["mem_chunk_rows"], sizes["mem_repeats"],
                            start)
        gc.collect()
    if not args.no_zarr:
        zarr_run = run_zarr(store, sizes["rows"], sizes["chunk_rows"], sizes["zarr_repeats"],
                            start)
    elapsed = time.perf_counter() - start
    _progress(f"done in {elapsed:.1f} s")
    evaluated = evaluate_targets(memory, zarr_run)
    default = SIZES["default"]
    default_sizes = all(sizes[k] == default[k]
                        for k in ("mem_rows", "mem_chunk_rows", "rows", "chunk_rows"))
    print(format_report(machine, memory, zarr_run, evaluated, default_sizes))
    if args.json:
        payload = {"machine": machine, "sizes": sizes, "elapsed_s": elapsed,
                   "memory": memory, "zarr": zarr_run, "targets": evaluated,
                   "expressions": EXPRESSION_CODE}
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=1, default=_json_default)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0 if bitwise_ok(memory, zarr_run) else 1


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


if __name__ == "__main__":
    # run the importable module's main, so that the functions the workers
    # run are pickled by reference to fastloss.bench.dask_bench
    from fastloss.bench import dask_bench
    sys.exit(dask_bench.main())
