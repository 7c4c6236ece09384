"""Build and runtime facts: ``fastloss.show_config()``."""
import platform
import sys

import numpy as np

from . import _core
from ._version import __version__


def show_config(print_=True):
    """Print (and return as a dict) how this fastloss was built and runs:
    version, whether OpenMP is on, the threads ``n_threads=None`` may use,
    and the Python, NumPy and machine it runs on."""
    info = {
        "fastloss": __version__,
        "extension": _core.__file__,
        "openmp": _core.openmp_enabled(),
        "max_threads": _core.max_threads(),
        "simd": _core.simd(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
        "platform": platform.platform(),
    }
    if print_:
        for key, value in info.items():
            print(f"{key + ':':<13}{value}")
    return info
