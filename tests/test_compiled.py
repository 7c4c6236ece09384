"""The compiled extension is what runs: fastloss._core is an extension
module file, the public functions are its functions, and there is no
pure-Python fallback when it is missing."""
import importlib.machinery
import os
import subprocess
import sys
import types

import pytest

import fastloss
import fastloss.reference
from support import ALL_FUNCS

PUBLIC = [f.__name__ for f in ALL_FUNCS]


def test_core_is_an_extension_module_file():
    core = fastloss._core
    assert isinstance(core.__spec__.loader, importlib.machinery.ExtensionFileLoader)
    assert core.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    assert os.path.isfile(core.__file__)


@pytest.mark.parametrize("name", PUBLIC)
def test_public_functions_are_the_compiled_ones(name):
    f = getattr(fastloss, name)
    assert f is getattr(fastloss._core, name)
    assert not isinstance(f, types.FunctionType)    # not a def in a .py file
    assert f is not getattr(fastloss.reference, name)
    assert f.__module__ == "fastloss._core"


def test_there_is_no_pure_python_fallback(tmp_path):
    """With fastloss._core unimportable, using fastloss must fail."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(fastloss.__file__)))
    code = r"""
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "fastloss._core":
            raise ImportError("blocked by the test")
        return None

sys.meta_path.insert(0, Block())
try:
    import fastloss
    fastloss.cross_entropy([[0.5, 0.5]], [0])
except (ImportError, AttributeError):
    sys.exit(0)
sys.exit(1)
"""
    env = dict(os.environ, PYTHONPATH=package_parent)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_show_config_reports_the_build(capsys):
    info = fastloss.show_config()
    printed = capsys.readouterr().out
    assert info is not None or printed
    assert isinstance(fastloss.__version__, str) and fastloss.__version__
