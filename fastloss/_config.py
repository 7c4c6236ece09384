"""Build and runtime facts: ``fastloss.show_config()``."""
import platform
import sys

import numpy as np

from . import _core
from ._version import __version__


def show_config(print_=True):
    """Print, and return as a dict, how this fastloss was built and runs.

    Parameters
    ----------
    print_ : bool, default True
        Print the facts, one ``key: value`` line each. False only returns them.

    Returns
    -------
    dict
        ``"fastloss"`` (the version), ``"extension"`` (the compiled
        extension's path), ``"openmp"`` (whether it was built with OpenMP),
        ``"max_threads"`` (the thread count ``n_threads=None`` may use),
        ``"simd"`` (the exp/log loops this CPU runs: ``"avx512"``,
        ``"avx2+fma"`` or ``"baseline"``, capped by the environment variable
        ``FASTLOSS_SIMD`` read at import), and ``"python"``, ``"numpy"``,
        ``"machine"`` and ``"platform"``.

    See Also
    --------
    fastloss.dask : Bitwise equal results need the same build and SIMD level
        on every worker; this names both.

    Examples
    --------
    >>> import fastloss
    >>> info = fastloss.show_config()
    fastloss:    ...
    extension:   ...
    openmp:      ...
    max_threads: ...
    simd:        ...
    python:      ...
    numpy:       ...
    machine:     ...
    platform:    ...
    >>> info["simd"] in ("avx512", "avx2+fma", "baseline")
    True
    >>> info = fastloss.show_config(print_=False)      # prints nothing
    >>> sorted(info)
    ['extension', 'fastloss', 'machine', 'max_threads', 'numpy', 'openmp',
     'platform', 'python', 'simd']
    """
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
