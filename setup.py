"""Build script for fastloss's one compiled extension, ``fastloss._core``.

Environment switches
--------------------
FASTLOSS_NO_OPENMP=1   build without OpenMP (single-threaded kernels).
FASTLOSS_SANITIZE=1    build with AddressSanitizer and UndefinedBehaviorSanitizer.
FASTLOSS_DEBUG=1       build with -O0 -g and Cython's bounds checks.
"""
import os
import sys
import tempfile
import textwrap

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def _compiler_accepts(compiler, code, extra_compile_args, extra_link_args=()):
    """Compile and link ``code`` with ``compiler``; True if it worked."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(code)
        try:
            objects = compiler.compile([src], output_dir=tmp, extra_postargs=list(extra_compile_args))
            compiler.link_executable(
                objects, "probe", output_dir=tmp, extra_postargs=list(extra_link_args)
            )
        except Exception:
            return False
    return True


_OPENMP_PROBE = textwrap.dedent(
    """
    #include <omp.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        return n > 0 ? 0 : 1;
    }
    """
)


class BuildExt(build_ext):
    """Adds OpenMP and optimisation flags that fit the compiler at hand."""

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        msvc = ctype == "msvc"
        compile_args, link_args = [], []
        macros = []
        if _env_flag("FASTLOSS_DEBUG"):
            compile_args += [] if msvc else ["-O0", "-g"]
        else:
            compile_args += ["/O2"] if msvc else ["-O3"]
        if _env_flag("FASTLOSS_SANITIZE") and not msvc:
            san = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                   "-fno-omit-frame-pointer", "-g"]
            compile_args += san
            link_args += san
        openmp = False
        if not _env_flag("FASTLOSS_NO_OPENMP"):
            if msvc:
                cand = (["/openmp"], [])
            elif sys.platform == "darwin":
                cand = (["-Xpreprocessor", "-fopenmp"], ["-lomp"])
            else:
                cand = (["-fopenmp"], ["-fopenmp"])
            if _compiler_accepts(self.compiler, _OPENMP_PROBE, *cand):
                compile_args += cand[0]
                link_args += cand[1]
                openmp = True
            else:
                print("fastloss: the compiler has no usable OpenMP; building single-threaded")
        macros.append(("FASTLOSS_OPENMP", "1" if openmp else "0"))
        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args or []) + compile_args
            ext.extra_link_args = list(ext.extra_link_args or []) + link_args
            ext.define_macros = list(ext.define_macros or []) + macros
        super().build_extensions()


extensions = [
    Extension(
        "fastloss._core",
        sources=["fastloss/_core.pyx"],
        include_dirs=[np.get_include(), "fastloss"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION")],
    )
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={
            "language_level": 3,
            "boundscheck": _env_flag("FASTLOSS_DEBUG"),
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
        },
        # the OpenMP decision is made at build time; cythonize only needs to
        # know that prange may be used
    ),
    cmdclass={"build_ext": BuildExt},
)
