"""Every case of fastloss.bench.cases as a pytest-benchmark, one group per case.

Within a group the implementations (fastloss, the seed's NumPy code, the
book's code, fastloss.reference, PyTorch where installed) time the very
same input arrays, so ``--benchmark-compare`` and the group tables compare
like with like. See conftest.py for how to run.
"""
import pytest

from fastloss.bench import cases


def pytest_generate_tests(metafunc):
    if {"case", "implementation"} <= set(metafunc.fixturenames):
        mode = "full" if metafunc.config.getoption("bench_full") else "default"
        torch = not metafunc.config.getoption("bench_no_torch")
        params = [pytest.param(case, name, id=f"{case.id}-{name}")
                  for case in cases.select(mode)
                  for name in case.implementations(torch=torch)]
        metafunc.parametrize(("case", "implementation"), params)


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """One thread on every side, as in ``python -m fastloss.bench``."""
    cases.torch_module()  # sets PyTorch to one thread where it is installed
    with cases.run_one_threaded():
        yield


@pytest.fixture(scope="session")
def calls_of():
    """case -> its calls, built once and kept only while its tests run
    (the tests of a case are consecutive; a 1000000 x 10 batch is 80 MB)."""
    cache = {}

    def get(case):
        if case.id not in cache:
            cache.clear()
            cache[case.id] = case.calls(case.inputs())
        return cache[case.id]

    return get


def test_loss(benchmark, case, implementation, calls_of):
    call = calls_of(case)[implementation]
    benchmark.group = case.id
    benchmark.extra_info.update(case=case.id, shape=case.shape_str, dtype=case.dtype,
                                implementation=implementation, code=call.code)
    benchmark(call.fn, *call.args, **call.kwargs)
