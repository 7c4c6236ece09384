"""The type stubs match the compiled code.

``fastloss/_core.pyi`` is the only hand-written stub (the Python modules are
their own stubs). mypy's stubtest imports the fastloss these tests import and
compares every name, signature and default it finds at run time with what
mypy reads from the stubs, so the stubs cannot drift from ``_core.pyx``.
Genuine artefacts are listed, with reasons, in ``stubtest_allowlist.txt``.
"""
import ast
import inspect
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import fastloss
import fastloss._core

STUB = Path(fastloss._core.__file__).with_name("_core.pyi")

try:
    import mypy.stubtest  # noqa: F401
except ImportError:
    HAVE_MYPY = False
else:
    HAVE_MYPY = True
needs_mypy = pytest.mark.skipif(
    not HAVE_MYPY, reason="mypy is not installed: `pip install '.[test]'` installs it")

HERE = Path(__file__).resolve().parent
ALLOWLIST = HERE / "stubtest_allowlist.txt"
# the optional dependencies of fastloss.bench (torch, sklearn, matplotlib,
# threadpoolctl) need not be installed, nor typed
MYPY_INI = "[mypy]\nignore_missing_imports = True\n"


def _stub_functions():
    """(name, ast.FunctionDef) for every def in _core.pyi, overloads included."""
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    return [(node.name, node) for node in tree.body if isinstance(node, ast.FunctionDef)]


def test_the_stub_ships_with_the_extension():
    assert STUB.is_file()
    assert STUB.with_name("py.typed").is_file()


@pytest.mark.parametrize("name,node", _stub_functions(),
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(_stub_functions())])
def test_stub_defaults_are_the_runtime_defaults(name, node):
    """stubtest compares default values, but not across @overload variants:
    check those here, parameter by parameter."""
    runtime = inspect.signature(getattr(fastloss._core, name)).parameters
    args = node.args
    positional = args.posonlyargs + args.args
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    for arg, default in pairs:
        assert arg.arg in runtime, f"{name}: the stub's {arg.arg!r} is not a parameter"
        want = runtime[arg.arg].default
        assert want is not inspect.Parameter.empty, f"{name}({arg.arg}) has no default"
        assert ast.literal_eval(default) == want and type(ast.literal_eval(default)) is type(want), \
            f"{name}({arg.arg}=...): stub {ast.unparse(default)}, runtime {want!r}"


def _mypy_env():
    """Run mypy on the fastloss that this test run imported.

    From site-packages (a wheel, ``pip install .``) mypy finds it by itself.
    From a source tree (``pip install -e .``, or ``python -m pytest`` at the
    repository root) mypy must be pointed at it: MYPYPATH for the stubs,
    PYTHONPATH for the run-time import.
    """
    env = dict(os.environ)
    env.pop("MYPYPATH", None)
    parent = Path(fastloss.__file__).resolve().parents[1]
    site = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    if parent not in site:
        env["MYPYPATH"] = str(parent)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(parent), env.get("PYTHONPATH")) if p)
    return env


def _run(tmp_path, args):
    (tmp_path / "mypy.ini").write_text(MYPY_INI)
    return subprocess.run([sys.executable, "-m", *args], cwd=tmp_path, env=_mypy_env(),
                          capture_output=True, text=True, timeout=600)


@needs_mypy
def test_stubtest_is_clean(tmp_path):
    proc = _run(tmp_path, ["mypy.stubtest", "fastloss", "--mypy-config-file", "mypy.ini",
                           "--allowlist", str(ALLOWLIST)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_mypy
def test_the_stubs_type_the_public_api(tmp_path):
    """Overloads on ``reduction``: a literal "mean"/"sum" gives a NumPy
    scalar, "none" an array; a gradient is always an array."""
    (tmp_path / "use.py").write_text(textwrap.dedent(
        """
        from typing import Any, Union

        import numpy as np
        import numpy.typing as npt
        from typing_extensions import assert_type

        import fastloss

        x = np.zeros((4, 3))
        t = np.array([0, 1, 2, 0])
        assert_type(fastloss.softmax_cross_entropy(x, t), np.floating[Any])
        assert_type(fastloss.cross_entropy(x, t, reduction="sum", eps=0.0,
                                           ignore_index=np.int64(-100)),
                    np.floating[Any])
        assert_type(fastloss.mean_squared_error(x, x, reduction="none"),
                    npt.NDArray[np.floating[Any]])
        loss, grad = fastloss.softmax_cross_entropy_and_grad(x, t, out=np.empty_like(x))
        assert_type(loss, np.floating[Any])
        assert_type(grad, npt.NDArray[np.floating[Any]])
        r: str = "none"
        assert_type(fastloss.cross_entropy(x, t, reduction=r),
                    Union[np.floating[Any], npt.NDArray[np.floating[Any]]])
        y = np.full((4, 3), 0.5)
        assert_type(fastloss.sigmoid_binary_cross_entropy(x, y, pos_weight=np.ones(3)),
                    np.floating[Any])
        assert_type(fastloss.binary_cross_entropy(y, y > 0, reduction="none", eps=0.0),
                    npt.NDArray[np.floating[Any]])
        bloss, bgrad = fastloss.binary_cross_entropy_and_grad(y, y, weight=2.0,
                                                              sample_weight=np.ones(4))
        assert_type(bloss, np.floating[Any])
        assert_type(bgrad, npt.NDArray[np.floating[Any]])
        sloss, _ = fastloss.sigmoid_binary_cross_entropy_and_grad(x, y, reduction=r,
                                                                  label_smoothing=0.1)
        assert_type(sloss, Union[np.floating[Any], npt.NDArray[np.floating[Any]]])
        assert isinstance(fastloss.__version__, str)
        fastloss.show_config(print_=False)
        """))
    proc = _run(tmp_path, ["mypy", "--config-file", "mypy.ini", "use.py"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
