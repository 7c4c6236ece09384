"""Importing fastloss from a source checkout whose extension is not built.

There ``import fastloss`` finds the checkout's Python files first and takes
the compiled ``_core`` of a fastloss installed elsewhere on ``sys.path``, but
only one built for the same version as those files; any other is an
ImportError naming both versions and both places.  Each case runs in a child
Python, in a temporary directory laid out as a checkout (cwd) and an
installation (on PYTHONPATH).
"""
import importlib.machinery
import math
import os
import shutil
import subprocess
import sys

import pytest

import fastloss

PACKAGE = os.path.dirname(os.path.abspath(fastloss.__file__))
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _package(root, version, core=None):
    """root/fastloss: this package's Python files without the extension,
    with ``version`` in _version.py and ``core`` (a file to copy, or "" for
    an empty file) as its _core extension."""
    pkg = root / "fastloss"
    shutil.copytree(PACKAGE, pkg, ignore=shutil.ignore_patterns(
        "_core.*", "*.so", "*.pyd", "__pycache__", "*.c", "*.pyx", "*.pxd", "*.pxi", "*.h"))
    (pkg / "_version.py").write_text(f'__version__ = "{version}"\n')
    if core is not None:
        dest = pkg / ("_core" + SUFFIX)
        if core:
            shutil.copy(core, dest)
        else:
            dest.write_bytes(b"")
    return pkg


def _import_in_checkout(tmp_path, code):
    checkout, installed = tmp_path / "checkout", tmp_path / "installed"
    env = dict(os.environ, PYTHONPATH=str(installed))
    return subprocess.run([sys.executable, "-c", code], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=120)


def test_an_installed_extension_of_another_version_is_an_import_error(tmp_path):
    ours = fastloss.__version__
    mine = _package(tmp_path / "checkout", ours)
    other = _package(tmp_path / "installed", ours + ".other", core="")
    proc = _import_in_checkout(tmp_path, "import fastloss")
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: "), proc.stderr
    assert f"fastloss {ours} in {mine}" in last
    assert f"found in {other} belongs to fastloss {ours}.other" in last


def test_an_installed_extension_without_a_version_is_an_import_error(tmp_path):
    _package(tmp_path / "checkout", fastloss.__version__)
    other = _package(tmp_path / "installed", fastloss.__version__, core="")
    (other / "_version.py").unlink()
    proc = _import_in_checkout(tmp_path, "import fastloss")
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert "ImportError: " in last and "(unknown version)" in last, proc.stderr


def test_an_installed_extension_of_the_same_version_is_used(tmp_path):
    _package(tmp_path / "checkout", fastloss.__version__)
    other = _package(tmp_path / "installed", fastloss.__version__,
                     core=fastloss._core.__file__)
    proc = _import_in_checkout(
        tmp_path,
        "import fastloss; print(fastloss.__file__); print(fastloss._core.__file__); "
        "print(float(fastloss.cross_entropy([[0.25, 0.75]], [1], eps=0)))")
    assert proc.returncode == 0, proc.stderr
    init, core, loss = proc.stdout.split()
    assert os.path.dirname(init) == str(tmp_path / "checkout" / "fastloss")
    assert os.path.dirname(core) == str(other)
    assert float(loss) == pytest.approx(-math.log(0.75), rel=1e-15)
