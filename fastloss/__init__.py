"""fastloss: fast loss functions for NumPy neural networks.

Cross-entropy on probabilities (class indices or dense targets), softmax
cross-entropy on logits and squared error, each with its gradient, computed by
compiled Cython kernels.  ``fastloss.book`` has the names of *Deep Learning
from Scratch*; ``fastloss.reference`` the same functions in plain NumPy.
"""
import importlib.machinery as _machinery
import os as _os
import sys as _sys

from ._version import __version__


def _version_in(package_dir):
    """The ``__version__`` that ``package_dir/_version.py`` writes, or None."""
    import re
    try:
        with open(_os.path.join(package_dir, "_version.py")) as f:
            text = f.read()
    except OSError:
        return None
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.M)
    return match.group(1) if match else None


def _find_installed_extension():
    """Let ``python -m fastloss.bench`` run from a source checkout.

    Run from the repository root, ``import fastloss`` finds this source tree
    first, while ``pip install .`` put the compiled ``_core`` into
    site-packages.  Point the package at that installed extension, the first
    one on ``sys.path``, if it was built for the same version as these Python
    files (its package's ``_version.py`` says so); an extension of another
    version would run these files against kernels they were not written for,
    so that is an ImportError.  Never fall back to Python code.
    """
    here = _os.path.dirname(_os.path.abspath(__file__))
    suffixes = tuple(_machinery.EXTENSION_SUFFIXES)
    for entry in _sys.path:
        candidate = _os.path.join(_os.path.abspath(entry or _os.curdir), "fastloss")
        if candidate == here or not _os.path.isdir(candidate):
            continue
        if any(f.startswith("_core.") and f.endswith(suffixes) for f in _os.listdir(candidate)):
            theirs = _version_in(candidate)
            if theirs != __version__:
                raise ImportError(
                    f"fastloss {__version__} in {here} has no compiled extension of its "
                    f"own, and the one found in {candidate} belongs to fastloss "
                    f"{theirs or '(unknown version)'}: build this checkout "
                    f"(`python setup.py build_ext --inplace`) or install it (`pip install .`)")
            __path__.append(candidate)
            return
    raise ImportError(
        "fastloss's compiled extension (fastloss._core) is not built: "
        "install the package with `pip install .`")


try:
    from . import _core
except ImportError:
    _find_installed_extension()

from ._core import (
    binary_cross_entropy,
    binary_cross_entropy_and_grad,
    cross_entropy,
    cross_entropy_and_grad,
    mean_squared_error,
    mean_squared_error_and_grad,
    sigmoid_binary_cross_entropy,
    sigmoid_binary_cross_entropy_and_grad,
    softmax_cross_entropy,
    softmax_cross_entropy_and_grad,
)
from ._config import show_config
from ._partials import BLOCK_ROWS, PartialSums, combine_partial_sums, partial_sums
from . import book

__all__ = [
    "BLOCK_ROWS",
    "PartialSums",
    "__version__",
    "binary_cross_entropy",
    "binary_cross_entropy_and_grad",
    "book",
    "combine_partial_sums",
    "cross_entropy",
    "cross_entropy_and_grad",
    "mean_squared_error",
    "mean_squared_error_and_grad",
    "partial_sums",
    "show_config",
    "sigmoid_binary_cross_entropy",
    "sigmoid_binary_cross_entropy_and_grad",
    "softmax_cross_entropy",
    "softmax_cross_entropy_and_grad",
]
