"""Smoke test of ``python -m fastloss.bench --dask`` at a tiny size: it runs,
its bitwise checks pass and its report has the expected rows.  No speed is
asserted."""
import json
import os

import pytest

if os.environ.get("FASTLOSS_REQUIRE_DASK"):
    # CI's dask stage: missing packages are a failure there, not a skip
    import dask.array  # noqa: F401
    import dask.distributed  # noqa: F401
    import zarr  # noqa: F401
else:
    pytest.importorskip("dask.array")
    pytest.importorskip("dask.distributed")
    pytest.importorskip("zarr")

from fastloss.bench import dask_bench  # noqa: E402
from fastloss.bench.__main__ import main as bench_main  # noqa: E402

ROWS = 20_000
CHUNK = 3_000       # not a multiple of 256: the chunks' boundaries cut blocks (seams)


def test_dask_bench_tiny(tmp_path, capsys):
    store = tmp_path / "bench.zarr"
    out = tmp_path / "dask.json"
    code = bench_main(["--dask", "--mem-rows", str(ROWS), "--mem-chunk-rows", str(CHUNK),
                       "--rows", str(ROWS), "--chunk-rows", str(CHUNK), "--repeats", "1",
                       "--store", str(store), "--json", str(out)])
    assert code == 0
    report = capsys.readouterr().out
    for row in ("machine: ", "fastloss.dask.softmax_cross_entropy(X, T).compute()",
                "dask.array expression (stable log-softmax, one-hot pick)",
                "fastloss.softmax_cross_entropy(x, t), in memory",
                "fastloss.dask.cross_entropy(probs, labels)",
                "fastloss.dask.softmax_cross_entropy(logits, labels)",
                "w1 peak memory", "w2 peak memory", "Targets"):
        assert row in report
    for target in dask_bench.TARGETS:
        assert target.title in report
    assert "bit for bit: NO" not in report and "FAILED" not in report

    payload = json.loads(out.read_text())
    memory, zarr_run = payload["memory"], payload["zarr"]
    assert memory["bitwise"] and memory["expression_close"]
    assert memory["rows"] == ROWS and memory["chunks"] == -(-ROWS // CHUNK)
    assert zarr_run["written"] and zarr_run["chunks"] == -(-ROWS // CHUNK)
    assert set(zarr_run["losses"]) == {"cross_entropy", "softmax_cross_entropy"}
    for loss in zarr_run["losses"].values():
        assert loss["bitwise"] and loss["expression_close"]
        for impl in ("fastloss.dask", "expression"):
            assert set(loss["peak_bytes"][impl]) == {"w1", "w2"}
    assert [t["title"] for t in payload["targets"]] == [t.title for t in dask_bench.TARGETS]

    # the store is reused as it is
    assert dask_bench.ensure_store(store, ROWS, CHUNK) == (False, None)


def test_store_sizes_and_foreign_paths(tmp_path):
    store = tmp_path / "s.zarr"
    assert dask_bench.ensure_store(store, 1000, 300)[0]
    assert dask_bench.ensure_store(store, 1000, 300) == (False, None)
    # other sizes: rewritten
    assert dask_bench.ensure_store(store, 1200, 300)[0]
    import zarr
    group = zarr.open_group(str(store), mode="r")
    assert group["probs"].shape == (1200, dask_bench.N_CLASSES)
    assert group["labels"].chunks == (300,)
    # anything else is never overwritten
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        dask_bench.ensure_store(other, 1000, 300)
    assert (other / "keep.txt").read_text() == "mine"
