"""The benchmark compares like with like, and its two front ends agree.

``python -m fastloss.bench`` and the pytest-benchmark suites in ``bench/``
must enumerate the same cases (both read fastloss.bench.cases); every public
loss and gradient must have a case; every implementation of a case must get
the same arrays and compute the same numbers; the CLI must produce a
table and a JSON file that parse, and check the speed targets of
bench/targets.json (or another file) only when asked. No timing is asserted
here.
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastloss
from fastloss.bench import cases, targets
from fastloss.bench.__main__ import main as bench_main

REPO = Path(__file__).resolve().parents[1]
TARGETS_FILE = REPO / "bench" / "targets.json"
needs_bench_folder = pytest.mark.skipif(not TARGETS_FILE.exists(),
                                        reason="needs the repository's bench/ folder")


def _run(*args, ok=(0,)):
    proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode in ok, proc.stdout + proc.stderr
    return proc.stdout


def test_a_reader_that_stops_early_gets_no_traceback():
    # `python -m fastloss.bench --list | head -1`: the pipe is closed before
    # the CLI writes its first byte (it is still importing NumPy then)
    proc = subprocess.Popen([sys.executable, "-m", "fastloss.bench", "--list"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=300)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 1


# ---------------------------------------------------------------------------
# One list of cases


@pytest.mark.skipif(not (REPO / "bench" / "test_bench_losses.py").exists(),
                    reason="needs the repository's bench/ folder")
@pytest.mark.parametrize("mode", ["default", "full"])
def test_cli_and_pytest_suites_enumerate_the_same_cases(mode):
    cli_flags = ["--full"] if mode == "full" else []
    cli_ids = _run("-m", "fastloss.bench", "--list", *cli_flags).split()

    suite_flags = ["--bench-full"] if mode == "full" else []
    out = _run("-m", "pytest", "bench", "--collect-only", "-q", "-p", "no:cacheprovider",
               *suite_flags)
    collected = re.findall(r"::test_loss\[(.+)\]", out)
    suite = {}
    for item in collected:
        case_id, implementation = item.rsplit("-", 1)
        suite.setdefault(case_id, []).append(implementation)

    expected = [case.id for case in cases.select(mode)]
    assert cli_ids == expected
    assert list(suite) == expected
    for case in cases.select(mode):
        assert tuple(suite[case.id]) == case.implementations()


def test_a_plain_pytest_run_does_not_collect_the_suites():
    # even pointed at the repository root without testpaths, pytest leaves bench/ alone
    out = _run("-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
               "-o", "testpaths=", "--ignore=tests", ok=(0, 5))
    assert "test_bench_losses" not in out


def test_every_public_loss_and_gradient_has_cases():
    # (the partial-sum API computes the losses in pieces: fastloss.dask's
    # benchmark times it)
    public = [name for name in fastloss.__all__
              if name not in ("show_config", "book", "__version__", "partial_sums",
                              "combine_partial_sums", "PartialSums", "BLOCK_ROWS")
              and callable(getattr(fastloss, name))]
    assert len(public) == 10
    covered = {op.api for op in cases.OPS}
    assert set(public) <= covered
    assert set(cases.PUBLIC_APIS) <= covered
    assert {"book.sum_squared_error", "book.cross_entropy_error",
            "book.SoftmaxWithLoss"} <= covered


@pytest.mark.parametrize("op", cases.OPS, ids=lambda op: op.key)
def test_each_op_times_the_fastloss_function_it_names(op):
    case = cases.Case(op, 4, cases.N_CLASSES, "float64")
    fn = case.calls(torch=False)["fastloss"].fn
    owner = fastloss
    for part in op.api.split("."):
        owner = getattr(owner, part)
    if isinstance(owner, type):  # a layer, timed as forward then backward
        assert isinstance(fn.layer, owner)
    else:
        assert fn is owner


def test_the_full_run_has_every_size_dtype_and_target_kind():
    full = cases.all_cases()
    for op in cases.OPS:
        if op.shapes:                       # ops with shapes (and dtypes) of their own
            dtypes = [d for d in (op.dtypes or ("float64",)) if cases._has_dtype(d)]
            assert {(c.n, c.c, c.dtype) for c in full if c.op is op} == {
                (n, c, d) for n, c in op.shapes for d in dtypes}
            continue
        shapes = {(c.n, c.c, c.dtype) for c in full if c.op is op}
        for dtype in ("float32", "float64"):
            for n in (1, 10, 100, 1000, 100_000, 1_000_000):
                assert (n, 10, dtype) in shapes
            assert (1000, 1000, dtype) in shapes
    targets = {(op.api, op.target) for op in cases.OPS}
    for api in ("cross_entropy", "cross_entropy_and_grad", "book.cross_entropy_error",
                "book.SoftmaxWithLoss"):
        assert {(api, "index"), (api, "onehot")} <= targets
    for api in ("binary_cross_entropy", "binary_cross_entropy_and_grad",
                "sigmoid_binary_cross_entropy", "sigmoid_binary_cross_entropy_and_grad"):
        assert (api, "binary") in targets
    assert len({c.id for c in full}) == len(full)


def test_fastloss_is_timed_on_one_thread_as_users_call_it():
    dummy = cases.Inputs(None, None)
    for op in cases.OPS:
        small = cases.Case(op, 100, 10, "float64").calls(dummy, torch=False)["fastloss"]
        large = cases.Case(op, 1_000_000, 10, "float64").calls(dummy, torch=False)["fastloss"]
        # (an op's own keywords, axis=1 or sample_weight=, stay as they are)
        assert "n_threads" not in small.kwargs
        assert large.kwargs.get("n_threads") == (1 if op.threaded else None)
    with cases.run_one_threaded() as how:
        assert how


@needs_bench_folder
def test_every_target_of_the_targets_file_is_measured_by_the_default_run():
    """Each target's case (and the case it is compared with) is a case of
    the bench: the default run with --targets adds those it leaves out."""
    loaded = targets.load(TARGETS_FILE)
    assert len(loaded) == 45
    for target in loaded:
        case = cases.CASES_BY_ID[target.case_id]
        if target.kind == "speedup":
            assert target.baseline in case.op.builders
        if target.kind in ("relative", "added"):
            assert target.against in cases.CASES_BY_ID
    default = {c.id for c in cases.default_cases()}
    assert set(targets.case_ids(loaded)) - default <= set(cases.CASES_BY_ID)
    # the hand-written NumPy code is what the 100 x 10 targets compare against
    assert cases.CASES_BY_ID["cross_entropy_index-100x10-float64"].op.baseline == "numpy"


def test_a_malformed_targets_file_is_refused(tmp_path):
    bad = tmp_path / "targets.json"
    for text in ('{"targets": []}', '{"targets": [{"title": "t", "case": "c"}]}',
                 '{"targets": [{"title": "t", "case": "c", "kind": "fast", "bound": 1}]}',
                 '{"targets": [{"title": "t", "case": "c", "kind": "relative", "bound": 1}]}',
                 '{"targets": [{"title": "t", "case": "c", "kind": "time", "bound": 1, '
                 '"against": "d"}]}'):
        bad.write_text(text)
        with pytest.raises(ValueError, match="targets.json"):
            targets.load(bad)


# ---------------------------------------------------------------------------
# Inputs: drawn the book's way, the same for everyone


def test_batches_are_drawn_the_books_way():
    logits, probs, labels = cases.pool()
    assert probs.shape == (60000, 10) and labels.dtype == np.int64
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    mask = np.random.RandomState(cases.BATCH_SEED).choice(60000, 100)
    inputs = cases.make_inputs(100, 10, "float64", "probs", "index")
    np.testing.assert_array_equal(inputs.pred, probs[mask])
    np.testing.assert_array_equal(inputs.target, labels[mask])
    assert inputs.target.dtype == np.int64

    # float32 cases get the same rows, cast; one-hot rows name the same labels
    f32 = cases.make_inputs(100, 10, "float32", "logits", "onehot")
    assert f32.pred.dtype == np.float32 and f32.target.dtype == np.float32
    np.testing.assert_array_equal(f32.pred, logits[mask].astype(np.float32))
    np.testing.assert_array_equal(f32.target.argmax(axis=1), labels[mask])
    np.testing.assert_array_equal(f32.target.sum(axis=1), 1)


def test_binary_batches_are_pooled_rows_of_0_1_targets():
    logits, targets01 = cases.binary_pool()
    assert logits.shape == targets01.shape == (60000, 10)
    assert set(np.unique(targets01)) == {0.0, 1.0}
    assert 2.9 < logits.std() < 3.1
    mask = np.random.RandomState(cases.BATCH_SEED).choice(60000, 100)
    x = cases.make_inputs(100, 10, "float64", "logits", "binary")
    np.testing.assert_array_equal(x.pred, logits[mask])
    np.testing.assert_array_equal(x.target, targets01[mask])
    # probabilities: the sigmoid of the same logits, strictly inside (0, 1), in
    # float32 too; the targets have the pred's shape and dtype
    for dtype in ("float64", "float32"):
        y = cases.make_inputs(1000, 10, dtype, "probs", "binary")
        assert y.pred.dtype == y.target.dtype == np.dtype(dtype)
        assert y.pred.shape == y.target.shape == (1000, 10)
        assert np.all((y.pred > 0) & (y.pred < 1))
    y = cases.make_inputs(100, 10, "float64", "probs", "binary")
    np.testing.assert_allclose(y.pred, 1 / (1 + np.exp(-logits[mask])), rtol=1e-15)
    wide = cases.make_inputs(50, 1000, "float32", "logits", "binary")
    assert wide.pred.shape == wide.target.shape == (50, 1000)
    assert wide.target.dtype == np.float32


def test_pytorchs_binary_cross_entropy_gradient_is_compared_away_from_0_and_1():
    """PyTorch's F.binary_cross_entropy has no eps: its gradient is compared
    where the eps cannot matter, and a wrong one is still caught."""
    case = cases.CASES_BY_ID["binary_cross_entropy_and_grad-100x10-float64"]
    assert "torch" in case.op.approx_grad and "numpy" not in case.op.approx_grad
    calls = case.calls(torch=False)
    results = {name: call() for name, call in calls.items()}
    loss, grad = results["numpy"]
    near = np.abs(grad) > cases.APPROX_GRAD_LIMIT / grad.size
    assert near.any()                          # this batch has probabilities near 0 or 1
    results["torch"] = (loss, grad * np.where(near, 1.5, 1.0))  # only there: not compared
    assert cases.disagreements(case, results) == []
    results["torch"] = (loss, grad * 100 / 99)
    assert cases.disagreements(case, results) == ["torch"]


SMALL_CASES = [cases.Case(op, n, c, dtype) for op in cases.OPS for dtype in cases.DTYPES
               for (n, c) in ((1, 10), (100, 10), (50, 1000))]


@pytest.mark.parametrize("case", SMALL_CASES, ids=lambda c: c.id)
def test_every_implementation_gets_the_same_input_and_agrees(case):
    inputs = case.inputs()
    pred, target = inputs.pred.copy(), np.copy(inputs.target)
    calls = case.calls(inputs)
    assert set(calls) == set(case.implementations())
    assert case.op.baseline in calls and "fastloss" in calls
    results = {}
    for name, call in calls.items():
        assert call.args[0] is inputs.pred, name
        assert call.args[1:] == () if case.op.target == "none" else call.args[1] is inputs.target
        results[name] = call()
        # nobody writes into the shared inputs
        np.testing.assert_array_equal(inputs.pred, pred)
        np.testing.assert_array_equal(np.asarray(inputs.target), target)
    loss, grad = cases.as_loss_and_grad(results["fastloss"])
    assert np.isfinite(loss)
    assert (grad is not None) == (case.op.grad or case.op.output == "array")
    if grad is not None:
        assert grad.shape == case.pred_shape and grad.dtype == cases.dtype_of(case.dtype)
    assert cases.disagreements(case, results) == []


def test_a_wrong_implementation_is_caught():
    case = cases.CASES_BY_ID["cross_entropy_index-100x10-float64"]
    calls = case.calls(torch=False)
    results = {name: call() for name, call in calls.items()}
    results["numpy"] = results["numpy"] * 100 / 99  # a mean over 99 rows, say
    assert cases.disagreements(case, results) == ["numpy"]


# ---------------------------------------------------------------------------
# The CLI, on a tiny configuration


def test_cli_quick_run_prints_a_table_and_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert bench_main(["--quick", "--json", str(path)]) == 0
    out, err = capsys.readouterr()
    quick = cases.quick_cases()
    assert "[  1/" in err  # progress on stderr

    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("case "))
    assert re.split(r"\s{2,}", lines[header])[:8] == [
        "case", "shape", "dtype", "NumPy us", "NumPy is", "fastloss us", "speedup",
        "reference us"]
    rows = []
    for line in lines[header + 2:]:
        if line.startswith("NumPy is:"):
            break
        if line.strip():
            rows.append(re.split(r"\s{2,}", line.strip()))
    assert len(rows) == len(quick)
    for row, case in zip(rows, quick):
        assert row[:3] == [case.op.label, case.shape_str, case.dtype]
        assert float(row[3].replace(",", "")) > 0 and float(row[5].replace(",", "")) > 0
        assert re.fullmatch(r"[\d.]+x", row[6])
    assert "Per-call overhead (N=1" in out
    assert "Targets of" not in out          # only with --targets
    assert "IMPLEMENTATIONS DISAGREE" not in out

    data = json.loads(path.read_text())
    machine = data["machine"]
    for key in ("cpu", "cores", "numpy", "cython", "compiler", "openmp", "date"):
        assert key in machine
    assert isinstance(machine["openmp"], bool)
    assert [r["id"] for r in data["results"]] == [c.id for c in quick]
    for r in data["results"]:
        impls = r["impls"]
        assert set(impls) == set(cases.CASES_BY_ID[r["id"]].implementations())
        assert all(v["us"] > 0 and v["loops"] >= 1 for v in impls.values())
        assert r["speedup"] == pytest.approx(impls[r["baseline"]]["us"] / impls["fastloss"]["us"])
        assert r["disagree"] == []
    assert data["targets"] is None and data["targets_file"] is None


@needs_bench_folder
def test_cli_targets_reads_the_checkouts_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    path = tmp_path / "bench.json"
    assert bench_main(["--quick", "--cases", "*-1x10-float64", "--json", str(path),
                       "--targets"]) == 0
    out, _ = capsys.readouterr()
    assert re.search(r"Targets of .*targets\.json \(.*\): \d+ met, \d+ missed, "
                     r"\d+ not measured", out)
    data = json.loads(path.read_text())
    assert Path(data["targets_file"]).resolve() == TARGETS_FILE
    assert len(data["targets"]) == len(targets.load(TARGETS_FILE))
    statuses = {t["status"] for t in data["targets"]}
    assert statuses <= {"met", "MISSED", "not measured", "n/a (torch not installed)"}
    # the 1 x 10 whole-call targets are measured by this run
    assert {t["status"] for t in data["targets"] if t["kind"] == "time"} <= {"met", "MISSED"}


def test_cli_targets_reads_another_file(tmp_path, capsys):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"targets": [
        {"title": "anything goes", "case": "mean_squared_error-1x10-float64", "kind": "time",
         "bound": 1e9},
        {"title": "never run", "case": "mean_squared_error-1000000x10-float64",
         "kind": "floor", "bound": 1.3}]}))
    assert bench_main(["--quick", "--cases", "mean_squared_error-1x10-float64",
                       "--targets", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert f"Targets of {path} " in out and ": 1 met, 0 missed, 1 not measured" in out
    assert re.search(r"anything goes\s+[\d.]+ us\s+<= 1e\+09 us\s+met", out)
    path.write_text("{}")
    assert bench_main(["--quick", "--targets", str(path)]) == 2
    assert "no targets" in capsys.readouterr().err


def test_cli_plot_and_case_filter(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "speedup.png"
    assert bench_main(["--quick", "--cases", "mean_squared_error-*", "--plot", str(png)]) == 0
    out, _ = capsys.readouterr()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "cross_entropy" not in out.split("NumPy is:")[0]


# ---------------------------------------------------------------------------
# The end-to-end digits benchmark


def test_digits_training_reaches_the_accuracy_with_both_layers(tmp_path, capsys):
    pytest.importorskip("sklearn")
    from fastloss.bench import digits

    path = tmp_path / "digits.json"
    assert digits.main(["--iters", "1500", "--json", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert "book NumPy SoftmaxWithLoss" in out and "fastloss.book.SoftmaxWithLoss" in out
    data = json.loads(path.read_text())
    assert len(data["results"]) == 2
    for r in data["results"].values():
        assert r["test_accuracy"] >= 0.9
        assert 0 < r["loss_share"] < 1
    # the same seed and the same gradients: the two trainings end in the same place
    assert data["max_weight_difference"] < 1e-8


def test_digits_fails_loudly_below_the_accuracy(capsys):
    pytest.importorskip("sklearn")
    from fastloss.bench import digits

    assert digits.main(["--iters", "2"]) == 1
    assert "FAILED" in capsys.readouterr().err


def test_cli_repeats_takes_exactly_that_many_repeats(tmp_path, capsys):
    """--repeats N lifts the time budget: each implementation is timed N times
    (it once overflowed converting an infinite budget to a repeat count)."""
    path = tmp_path / "bench.json"
    assert bench_main(["--quick", "--repeats", "3", "--cases", "mean_squared_error-1x10-float64",
                       "--json", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["settings"]["repeats"] == 3
    assert data["settings"]["budget"] is None


def test_relative_and_added_targets_compare_two_cases_of_the_run():
    records = [{"id": "a", "impls": {"fastloss": {"us": 8.0}}, "floor_us": None},
               {"id": "b", "impls": {"fastloss": {"us": 10.0}}, "floor_us": None}]
    wanted = (targets.Target("a / b", "a", "relative", 0.8, against="b"),
              targets.Target("a - b", "a", "added", 0.1, against="b"),
              targets.Target("a / b, tight", "a", "relative", 0.5, against="b"),
              targets.Target("b - a", "b", "added", 1.0, against="a"),
              targets.Target("against a case not run", "a", "relative", 2.0, against="c"))
    got = targets.evaluate(wanted, records)
    assert [t["status"] for t in got] == ["met", "met", "MISSED", "MISSED", "not measured"]
    assert [t["value"] for t in got] == [0.8, -2.0, 0.8, 2.0, None]
