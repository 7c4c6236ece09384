"""Configuration of the pytest-benchmark suites in this folder.

The suites time the cases of :mod:`fastloss.bench.cases`, the same module
that ``python -m fastloss.bench`` reads. Run them by naming this folder::

    pytest bench --benchmark-only                    # the CLI's default cases
    pytest bench --benchmark-only --bench-full       # every case (the CLI's --full)
    pytest bench --benchmark-only -k "100x10 and float64"
    pytest bench --benchmark-only --benchmark-autosave
    pytest bench --benchmark-only --benchmark-compare

A plain ``pytest`` never runs them: the project's ``testpaths`` is
``["tests"]``, and this folder is ignored unless it is named on the command
line, should ``pytest`` ever be pointed at the repository root.
"""
from pathlib import Path

HERE = Path(__file__).resolve().parent


def pytest_addoption(parser):
    group = parser.getgroup("fastloss bench")
    group.addoption("--bench-full", action="store_true", default=False,
                    help="every case of fastloss.bench.cases (as python -m fastloss.bench --full)")
    group.addoption("--bench-no-torch", action="store_true", default=False,
                    help="leave PyTorch out even where it is installed")


def _named_on_command_line(config):
    for arg in config.args:
        path = Path(config.invocation_params.dir, str(arg).split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    if not _named_on_command_line(config):
        return True
    return None
