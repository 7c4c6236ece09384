"""``python -m fastloss.bench``: every loss and gradient against NumPy (and PyTorch).

Method: one process; the same input arrays for every implementation of a
case (see :mod:`fastloss.bench.cases`); one thread on each side (fastloss
with ``n_threads=1`` on large batches and its automatic choice, one thread,
on small ones; PyTorch with ``torch.set_num_threads(1)``); and for each
implementation the minimum over repeats of a timeit loop whose length is
chosen so that one repeat lasts at least ``--min-time`` seconds. The
implementations of a case are timed in turn within each repeat, so a slow
spell on the machine hits all of them. Speedup = baseline time / fastloss
time. Before timing, one call of each implementation measures its peak
memory (tracemalloc) and checks that all of them agree. Progress goes to
stderr, the report to stdout.

    python -m fastloss.bench                 # about a minute on two cores
    python -m fastloss.bench --full          # every case, more repeats
    python -m fastloss.bench --json out.json --plot speedup.png
    python -m fastloss.bench --cases 'softmax*-100x10-*'
    python -m fastloss.bench --targets       # also check bench/targets.json
    python -m fastloss.bench --dask          # fastloss.dask (see fastloss.bench.dask_bench)
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import fnmatch
import gc
import io
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import time
import timeit
import tracemalloc
from dataclasses import dataclass

import numpy as np

import fastloss
from fastloss.bench import cases as bench_cases
from fastloss.bench import targets as bench_targets


@dataclass(frozen=True)
class Settings:
    min_time: float      # seconds one repeat lasts at least
    repeats: int         # most repeats per implementation
    budget: float        # seconds of repeats per implementation before cutting them short


MODES = {
    "quick": Settings(min_time=0.0005, repeats=2, budget=0.01),
    "default": Settings(min_time=0.002, repeats=10, budget=0.15),
    "full": Settings(min_time=0.02, repeats=10, budget=2.0),
}
MIN_REPEATS = 3
THREADS = 2  # the thread count of the multi-threading section


# ---------------------------------------------------------------------------
# Timing and memory


class _Timer:
    """A timeit loop over one Call, compiled so that the loop adds next to nothing.

    The statement is ``fn(a0, a1, n_threads=k0)`` with the arguments bound
    as names, as ``timeit`` would time it typed by hand: no lambda or
    ``*args`` unpacking is timed along with the call.
    """

    def __init__(self, call):
        namespace = {"_fn": call.fn}
        parts = []
        for i, arg in enumerate(call.args):
            namespace[f"_a{i}"] = arg
            parts.append(f"_a{i}")
        for i, (key, value) in enumerate(call.kwargs.items()):
            namespace[f"_k{i}"] = value
            parts.append(f"{key}=_k{i}")
        self.timer = timeit.Timer(f"_fn({', '.join(parts)})", globals=namespace)
        self.number = 1
        self.samples = []

    def calibrate(self, min_time):
        """Pick the loop count like ``timeit.Timer.autorange``: 1, 2, 5, 10, 20, ..."""
        number = 1
        while True:
            for multiple in (1, 2, 5):
                n = number * multiple
                elapsed = self.timer.timeit(n)
                if elapsed >= min_time:
                    self.number = n
                    self.samples.append(elapsed / n)
                    return
            number *= 10

    def sample(self):
        self.samples.append(self.timer.timeit(self.number) / self.number)

    @property
    def best(self):
        return min(self.samples)


def _time_all(timers, settings):
    """Calibrate each timer, then take the repeats round-robin.

    Each timer gets as many repeats (MIN_REPEATS to ``settings.repeats``) as
    fit in the same time budget, so a slow baseline does not cut short the
    repeats of a fast call, nor a fast one stretch those of a slow call.
    """
    for timer in timers:
        timer.calibrate(settings.min_time)
    def repeats(timer):
        if math.isinf(settings.budget):         # --repeats N: exactly N, no budget
            return max(MIN_REPEATS, settings.repeats)
        return max(MIN_REPEATS, min(settings.repeats,
                                    int(settings.budget / (timer.best * timer.number))))
    wanted = {timer: repeats(timer) for timer in timers}
    for round_ in range(1, max(wanted.values())):
        for timer in timers:
            if round_ < wanted[timer]:
                timer.sample()


def call_traced(call):
    """``(result, peak bytes allocated while call() ran, its result included)``.

    tracemalloc sees NumPy's array buffers and Python's allocations; memory a
    C extension takes with plain malloc is invisible to it.
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, max(0, peak - before)


# ---------------------------------------------------------------------------
# Running the cases


def run_case(case, settings, use_torch, floor_case_ids=frozenset()):
    """Check, measure and time one case; a JSON-ready dict. A case named in
    ``floor_case_ids`` also times np.sum of each input (a target's floor)."""
    inputs = case.inputs()
    calls = case.calls(inputs, torch=use_torch)

    # one call each, before any timing: it warms up, measures the memory (PyTorch's
    # allocator is invisible to tracemalloc), and proves that all compute the same thing
    results, memory = {}, {}
    for name, call in calls.items():
        if name == "torch":
            results[name] = call()
        else:
            results[name], memory[name] = call_traced(call)
    disagree = bench_cases.disagreements(case, results)
    del results

    timers = {name: _Timer(call) for name, call in calls.items()}
    extra = {}
    if case.large and case.op.threaded:
        threaded = case.op.builders["fastloss"](inputs.pred, inputs.target, THREADS)
        extra["threads"] = _Timer(threaded)
        same = _bitwise_equal(calls["fastloss"](), threaded())
    if case.id in floor_case_ids:
        extra["sum_pred"] = _Timer(bench_cases.Call(np.sum, (inputs.pred,)))
        extra["sum_target"] = _Timer(bench_cases.Call(np.sum, (inputs.target,)))
    _time_all(list(timers.values()) + list(extra.values()), settings)

    us = {name: timer.best * 1e6 for name, timer in timers.items()}
    record = {
        "id": case.id,
        "op": case.op.key,
        "label": case.op.label,
        "api": case.op.api,
        "family": case.op.family,
        "grad": case.op.grad,
        "n": case.n,
        "c": case.c,
        "shape": case.shape_str,
        "dtype": case.dtype,
        "pred_bytes": int(inputs.pred.nbytes),
        "baseline": case.op.baseline,
        "baseline_name": _baseline_name(case, calls),
        "impls": {
            name: {
                "code": call.code,
                "us": us[name],
                "loops": timers[name].number,
                "samples_us": [s * 1e6 for s in timers[name].samples],
                "peak_bytes": memory.get(name),
            }
            for name, call in calls.items()
        },
        "speedup": us[case.op.baseline] / us["fastloss"],
        "speedup_vs": {name: us[name] / us["fastloss"] for name in us if name != "fastloss"},
        "disagree": disagree,
        "threads": None,
        "floor_us": None,
    }
    if "threads" in extra:
        t2 = extra["threads"].best * 1e6
        record["threads"] = {"n_threads": THREADS, "us_1": us["fastloss"], "us_n": t2,
                             "speedup": us["fastloss"] / t2, "bitwise_identical": same}
    if "sum_pred" in extra:
        record["floor_us"] = (extra["sum_pred"].best + extra["sum_target"].best) * 1e6
    return record


def _baseline_name(case, calls):
    if case.op.baseline == "numpy":
        return calls["numpy"].fn.__name__
    return case.op.baseline


def _bitwise_equal(a, b):
    a = a if isinstance(a, tuple) else (a,)
    b = b if isinstance(b, tuple) else (b,)
    return all(np.asarray(x).tobytes() == np.asarray(y).tobytes() for x, y in zip(a, b))


def harness_floor_us(settings):
    """The time the timing loop itself gives a two-argument C builtin call."""
    import operator
    timer = _Timer(bench_cases.Call(operator.is_, (None, None)))
    _time_all([timer], settings)
    return timer.best * 1e6


# ---------------------------------------------------------------------------
# The machine


def describe_machine():
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cpu_flags": _cpu_flags(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cython": _version_of("Cython"),
        "compiler": _compiler(),
        "fastloss": fastloss.__version__,
        "openmp": None,
        "fastloss_config": None,
        "torch": None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "env": {k: os.environ[k] for k in sorted(os.environ)
                if k.startswith(("OMP_", "OPENBLAS_", "MKL_"))},
    }
    config = _fastloss_config()
    if config is not None:
        info["fastloss_config"] = config
        info["openmp"] = config.get("openmp")
    torch = bench_cases.torch_module()
    if torch is not None:
        info["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
    return info


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "Hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f") if f in flags]
    except OSError:
        pass
    return None


def _version_of(module):
    try:
        return __import__(module).__version__
    except Exception:
        return None


def _compiler():
    """The C compiler Python's build tools use, as it introduces itself."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    path = shutil.which(cc)
    if path is None:
        return f"{cc} (not found); Python built with {platform.python_compiler()}"
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        return out.stdout.splitlines()[0].strip()
    except Exception:
        return cc


def _fastloss_config():
    show = getattr(fastloss, "show_config", None)
    if show is None:
        return None
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            result = show()
    except Exception:
        return None
    if isinstance(result, dict):
        return {k: v if isinstance(v, (bool, int, float, str, type(None))) else str(v)
                for k, v in result.items()}
    text = printed.getvalue()
    for line in text.splitlines():
        if "openmp" in line.lower():
            value = line.split(":", 1)[-1].strip().lower()
            return {"openmp": value in ("true", "on", "yes", "1"), "text": text}
    return {"text": text}


# ---------------------------------------------------------------------------
# Report


def _us(value):
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.2f}"
    if value < 1000:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def _mb(nbytes):
    if nbytes is None:
        return "-"
    if nbytes < 100_000:
        return f"{nbytes / 1e3:.1f} kB"
    return f"{nbytes / 1e6:.1f} MB"


def _table(headers, rows, align):
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *[r for r in rows if r])]
    def line(cells):
        return "  ".join(str(c).ljust(w) if a == "<" else str(c).rjust(w)
                         for c, w, a in zip(cells, widths, align)).rstrip()
    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) if r else "" for r in rows]
    return "\n".join(out)


def format_main_table(records, with_torch):
    headers = ["case", "shape", "dtype", "NumPy us", "NumPy is", "fastloss us", "speedup",
               "reference us"]
    align = list("<<<><>>>")
    if with_torch:
        headers.append("PyTorch us")
        align.append(">")
    rows, last_op = [], None
    for r in records:
        if last_op is not None and r["op"] != last_op:
            rows.append(None)
        last_op = r["op"]
        impls = r["impls"]
        flag = " !" if r["disagree"] else ""
        row = [r["label"], r["shape"], r["dtype"], _us(impls[r["baseline"]]["us"]),
               r["baseline_name"], _us(impls["fastloss"]["us"]), f"{r['speedup']:.1f}x{flag}",
               _us(impls.get("reference", {}).get("us"))]
        if with_torch:
            row.append(_us(impls.get("torch", {}).get("us")))
        rows.append(row)
    return _table(headers, rows, align)


def format_overhead(records, floor_us):
    picks = [("cross_entropy_index", "cross_entropy (index)"),
             ("cross_entropy_onehot", "cross_entropy (one-hot)"),
             ("mean_squared_error", "mean_squared_error"),
             ("softmax_cross_entropy_index", "softmax_cross_entropy"),
             ("softmax_cross_entropy_and_grad_index", "softmax_cross_entropy_and_grad"),
             ("sigmoid_binary_cross_entropy", "sigmoid_binary_cross_entropy")]
    by_id = {r["id"]: r for r in records}
    parts = []
    for key, name in picks:
        r = by_id.get(f"{key}-1x10-float64")
        if r is not None:
            parts.append(f"{name} {_us(r['impls']['fastloss']['us'])} us")
    if not parts:
        return "Per-call overhead (N=1): not measured in this run."
    return ("Per-call overhead (N=1, 1x10 float64, whole call): " + ", ".join(parts)
            + f"; the timing loop alone gives a two-argument C builtin {_us(floor_us)} us.")


def format_memory(records):
    """The large cases (or, in a run without any, the largest): a forward loss
    allocates nothing of the input's size and a gradient only its output."""
    rows = []
    largest = max((r["n"] * r["c"] for r in records), default=0)
    for r in records:
        if r["n"] * r["c"] < min(1_000_000, largest):
            continue
        impls = r["impls"]
        size = r["pred_bytes"]
        base = impls[r["baseline"]]["peak_bytes"]
        fast = impls["fastloss"]["peak_bytes"]
        allowed = 1.0 if r["grad"] else 0.0
        if r["api"] == "book.SoftmaxWithLoss":
            verdict = "- (layer)"  # keeps y and returns dx, as the book's layer does
        elif size < 1_000_000:
            verdict = "- (small)"  # Python objects and index arrays dominate
        else:
            verdict = "ok" if fast <= (allowed + 0.05) * size else "ALLOCATES"
        rows.append([r["label"], r["shape"], r["dtype"], _mb(size),
                     "-" if base is None else f"{_mb(base)} ({base / size:.2f}x)",
                     f"{_mb(fast)} ({fast / size:.2f}x)", verdict])
    if not rows:
        return ""
    head = ("Peak extra memory per call (tracemalloc; x = multiples of the input array; a"
            " forward loss may allocate 0x, a gradient its own output, 1x)")
    return head + "\n" + _table(["case", "shape", "dtype", "input", "NumPy peak",
                                 "fastloss peak", "fastloss"], rows, list("<<<>>><"))


def format_threads(records, cores):
    rows = []
    for r in records:
        t = r["threads"]
        if t:
            rows.append([r["label"], r["shape"], r["dtype"], _us(t["us_1"]), _us(t["us_n"]),
                         f"{t['speedup']:.2f}x", "yes" if t["bitwise_identical"] else "NO"])
    if not rows:
        return ""
    head = f"{THREADS} threads on the large cases (fastloss n_threads={THREADS} vs n_threads=1)"
    if (cores or 1) < THREADS:
        head += f" -- this machine has {cores} core(s): expect no gain"
    return head + "\n" + _table(["case", "shape", "dtype", "1 thread us",
                                 f"{THREADS} threads us", "speedup", "bitwise same"],
                                rows, list("<<<>>><"))


def format_header(machine, settings, mode, auto_threads):
    torch = machine["torch"]
    load = machine["load_average"]
    busy = ""
    if load and load[0] >= 0.5:
        busy = (f"; WARNING: load average {load[0]:.2f} at the start: other work shares the"
                " cores, timings are noisy, the two-thread ones most")
    return "\n".join([
        f"fastloss {machine['fastloss']} benchmark, {machine['date']}",
        f"machine: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable),"
        f" {machine['platform']}" + busy,
        f"Python {machine['python']}, NumPy {machine['numpy']}, Cython {machine['cython']},"
        f" {machine['compiler']}, OpenMP {_on_off(machine['openmp'])}"
        + (f", PyTorch {torch['version']} ({torch['threads']} thread)" if torch else
           ", PyTorch not installed"),
        f"mode {mode}: one thread each side: fastloss n_threads=1 from 1e6 elements, below"
        f" that the call without n_threads; automatic and fastloss.book threads: {auto_threads}",
        f"timing: minimum of <= {settings.repeats} repeats of >= {settings.min_time * 1e3:g} ms"
        f" timeit loops; speedup = NumPy us / fastloss us",
    ])


def _on_off(value):
    return {True: "on", False: "off"}.get(value, "unknown")


NOTES = """\
NumPy is: np_ce_index, np_ce_onehot, np_sse, np_softmax_with_loss, np_sigmoid_bce(_and_grad) and
np_bce(_and_grad) are the losses as NumPy networks write them by hand (fastloss.bench.cases);
"book" is fastloss.reference.book (the book's code); "reference" is fastloss.reference;
"float64_copy" runs fastloss on a float64 copy of a half-precision input (what half precision
cost before it had kernels of its own).
A "!" after a speedup marks a case whose implementations disagree (see the JSON "disagree")."""


# ---------------------------------------------------------------------------
# Plot


def write_plot(records, path):
    """Speedup against batch size, one line per loss, a panel per dtype."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dtypes = [d for d in bench_cases.DTYPES if any(r["dtype"] == d for r in records)]
    fig, axes = plt.subplots(1, len(dtypes), figsize=(6.5 * len(dtypes), 6), squeeze=False,
                             sharey=True)
    colors = plt.get_cmap("tab20").colors
    for ax, dtype in zip(axes[0], dtypes):
        for i, op in enumerate(bench_cases.OPS):
            points = sorted((r["n"], r["speedup"]) for r in records
                            if r["op"] == op.key and r["dtype"] == dtype
                            and r["c"] == bench_cases.N_CLASSES)
            if points:
                style = ":" if op.api.startswith("book.") else "--" if op.grad else "-"
                ax.plot(*zip(*points), style, marker="o", markersize=4, color=colors[i % 20],
                        label=op.label)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("batch size N (10 classes)")
        ax.set_title(f"{dtype}, one thread each")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("speedup = NumPy time / fastloss time")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(f"fastloss {fastloss.__version__}: speedup over NumPy against batch size")
    fig.tight_layout(rect=(0, 0.17, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------
# Command line


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m fastloss.bench",
        description="Time every fastloss loss and gradient against NumPy (and PyTorch, where"
                    " installed) on the same inputs, one thread each, and print a table.")
    p.add_argument("--full", action="store_true",
                   help="every case (batch sizes 1 to 1000000 and 1000x1000), more repeats")
    p.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", metavar="FILE", help="write every number and the machine to FILE")
    p.add_argument("--plot", metavar="FILE.png",
                   help="plot speedup vs batch size (needs matplotlib)")
    p.add_argument("--cases", metavar="GLOB", action="append",
                   help="only case ids matching GLOB, e.g. 'cross_entropy_index-*' (repeatable)")
    p.add_argument("--list", action="store_true", help="list the case ids and exit")
    p.add_argument("--targets", metavar="FILE", nargs="?", const="",
                   help="also check the speed targets of FILE (default: bench/targets.json of"
                        " the source checkout) and print whether each is met")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    p.add_argument("--min-time", type=float, help="seconds one timed repeat lasts at least")
    p.add_argument("--repeats", type=int, help="most repeats per implementation")
    p.add_argument("--dask", action="store_true",
                   help="instead, fastloss.dask against dask.array expressions, in memory and on"
                        " a Zarr store on a LocalCluster; the other options are then"
                        " fastloss.bench.dask_bench's (python -m fastloss.bench --dask --help)")
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--dask" in argv:
        from fastloss.bench import dask_bench
        argv.remove("--dask")
        return dask_bench.main(argv)
    args = parse_args(argv)
    mode = "full" if args.full else "quick" if args.quick else "default"
    selected = bench_cases.select(mode)
    if args.cases:
        selected = [c for c in selected if any(fnmatch.fnmatchcase(c.id, g) for g in args.cases)]
    if args.list:
        for case in selected:
            print(case.id)
        return 0
    if not selected:
        print("no case matches --cases", file=sys.stderr)
        return 2
    # fail now rather than after the run
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("--plot needs matplotlib: pip install 'fastloss[bench]'", file=sys.stderr)
            return 2
    for path in (args.json, args.plot):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            print(f"no such directory for {path}", file=sys.stderr)
            return 2
    settings = MODES[mode]
    if args.min_time is not None or args.repeats is not None:
        settings = Settings(args.min_time or settings.min_time, args.repeats or settings.repeats,
                            settings.budget if args.repeats is None else math.inf)
    targets, targets_source = (), None
    if args.targets is not None:
        path = args.targets or bench_targets.default_path()
        try:
            targets = bench_targets.load(path)
        except (OSError, ValueError) as exc:
            print(f"--targets: {exc}", file=sys.stderr)
            return 2
        targets_source = str(path)
        if not args.cases:
            # the cases the targets name run even where the mode leaves them out
            have = {c.id for c in selected}
            selected = selected + [bench_cases.CASES_BY_ID[cid]
                                   for cid in bench_targets.case_ids(targets)
                                   if cid not in have and cid in bench_cases.CASES_BY_ID]
    floor_case_ids = bench_targets.floor_case_ids(targets)
    use_torch = not args.no_torch and bench_cases.torch_module() is not None
    machine = describe_machine()

    records = []
    start = time.perf_counter()
    with bench_cases.run_one_threaded() as auto_threads:
        for i, case in enumerate(selected, 1):
            print(f"[{i:3d}/{len(selected)}] {case.id:<55} {time.perf_counter() - start:6.1f} s",
                  file=sys.stderr, flush=True)
            records.append(run_case(case, settings, use_torch, floor_case_ids))
            if case.large:
                gc.collect()
    floor_us = harness_floor_us(settings)
    elapsed = time.perf_counter() - start
    print(f"done in {elapsed:.1f} s", file=sys.stderr, flush=True)

    sections = [format_header(machine, settings, mode, auto_threads),
                format_main_table(records, use_torch), NOTES,
                format_overhead(records, floor_us), format_memory(records),
                format_threads(records, machine["usable_cores"])]
    evaluated = None
    if targets_source is not None:
        evaluated = bench_targets.evaluate(targets, records)
        sections.append(bench_targets.format_table(evaluated, targets_source, _table))
    disagree = [r["id"] for r in records if r["disagree"]]
    if disagree:
        sections.append("IMPLEMENTATIONS DISAGREE on: " + ", ".join(disagree))
    print("\n\n".join(section for section in sections if section))

    if args.json:
        payload = {"machine": machine, "mode": mode,
                   "settings": {"min_time": settings.min_time, "repeats": settings.repeats,
                                "budget": None if math.isinf(settings.budget)
                                else settings.budget},
                   "automatic_threads": auto_threads, "elapsed_s": elapsed,
                   "harness_floor_us": floor_us, "results": records,
                   "targets_file": targets_source, "targets": evaluated}
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=1, default=_json_default)
        print(f"wrote {args.json}", file=sys.stderr)
    if args.plot:
        write_plot(records, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 1 if disagree else 0


def _json_default(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


if __name__ == "__main__":
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader stopped early (``--list | head``): end quietly, as a
        # filter does, with stdout pointed where the exit flush cannot fail
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    sys.exit(code)
