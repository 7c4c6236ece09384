"""Build script for fastloss's one compiled extension, ``fastloss._core``.

Environment switches
--------------------
FASTLOSS_NO_OPENMP=1       build without OpenMP (single-threaded kernels).
FASTLOSS_REQUIRE_OPENMP=1  fail instead of building single-threaded when the
                           compiler has no usable OpenMP (the wheel builds set it).
FASTLOSS_SANITIZE=1        build with AddressSanitizer and UndefinedBehaviorSanitizer.
FASTLOSS_DEBUG=1           build with -O0 -g and Cython's bounds checks.

Any other build is -O3 -g0 (/O2 with MSVC): without debug information, even
where Python's own CFLAGS ask for it (-g).

C macro (through CFLAGS, e.g. CFLAGS=-DFASTLOSS_NO_SIMD_DISPATCH)
-------
FASTLOSS_NO_SIMD_DISPATCH  compile only the baseline (portable C) variants of
                           the SIMD kernels, as MSVC and non-x86 builds do:
                           to build and test that code on x86-64 with GCC or
                           clang (fastloss/_simd/common.h).

OpenMP is optional: the build probes the compiler (compile *and* link a small
OpenMP program, honouring CC, CFLAGS, CPPFLAGS and LDFLAGS) and builds
single-threaded when no candidate works. On macOS, Apple's clang has no
``-fopenmp`` and no OpenMP runtime; the probe tries ``-fopenmp`` (GCC, LLVM
clang), then ``-Xpreprocessor -fopenmp -lomp`` with libomp found through
CPPFLAGS/LDFLAGS or the compiler's default paths (conda's llvm-openmp), then
with Homebrew's keg-only libomp (``brew install libomp``).
"""
import glob
import os
import shlex
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
    """Compile and link ``code`` into an executable with ``compiler``; True if
    it worked.

    An executable, not a shared object: a shared object links even with
    unresolved OpenMP symbols (``-undefined dynamic_lookup`` on macOS), an
    executable does not. distutils leaves LDFLAGS out of the executable link
    line (it adds it to the extension's), so it is added here.
    """
    env_ldflags = shlex.split(os.environ.get("LDFLAGS", ""))
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write(code)
        try:
            objects = compiler.compile([src], output_dir=tmp, extra_postargs=list(extra_compile_args))
            compiler.link_executable(
                objects, "probe", output_dir=tmp,
                extra_postargs=list(extra_link_args) + env_ldflags,
            )
        except Exception:
            return False
    return True


def _libomp_prefixes():
    """Where macOS package managers put libomp outside the compiler's paths:
    Homebrew's libomp is keg-only (not linked into /opt/homebrew or /usr/local)."""
    candidates = []
    if os.environ.get("HOMEBREW_PREFIX"):
        candidates.append(os.path.join(os.environ["HOMEBREW_PREFIX"], "opt", "libomp"))
    candidates += ["/opt/homebrew/opt/libomp", "/usr/local/opt/libomp"]
    found = []
    for prefix in candidates:
        if os.path.isfile(os.path.join(prefix, "include", "omp.h")) and prefix not in found:
            found.append(prefix)
    return found


def _openmp_candidates(compiler_type):
    """(compile args, link args) pairs to probe, in order of preference."""
    if compiler_type == "msvc":
        return [(["/openmp"], [])]
    gnu = (["-fopenmp"], ["-fopenmp"])          # GCC, LLVM clang, Apple clang never
    if sys.platform != "darwin":
        return [gnu]
    apple = ["-Xpreprocessor", "-fopenmp"]      # Apple clang: the front end only
    cands = [gnu, (apple, ["-lomp"])]
    for prefix in _libomp_prefixes():
        cands.append((apple + ["-I" + os.path.join(prefix, "include")],
                      ["-L" + os.path.join(prefix, "lib"), "-lomp"]))
    return cands


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
        sanitize = _env_flag("FASTLOSS_SANITIZE") and not msvc
        if _env_flag("FASTLOSS_DEBUG"):
            compile_args += [] if msvc else ["-O0", "-g"]
        else:
            compile_args += ["/O2"] if msvc else ["-O3"]
            if not msvc and not sanitize:
                # no debug information: Python's own CFLAGS usually carry -g,
                # which makes the extension about 2.7 MB instead of 0.4 MB
                compile_args += ["-g0"]
        if sanitize:
            san = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                   "-fno-omit-frame-pointer", "-g"]
            compile_args += san
            link_args += san
        openmp = False
        if not _env_flag("FASTLOSS_NO_OPENMP"):
            for cand in _openmp_candidates(ctype):
                if _compiler_accepts(self.compiler, _OPENMP_PROBE, *cand):
                    compile_args += cand[0]
                    link_args += cand[1]
                    openmp = True
                    print("fastloss: building with OpenMP (compile: {}; link: {})".format(
                        " ".join(cand[0]), " ".join(cand[1]) or "-"))
                    break
            else:
                hint = (" (on macOS: `brew install libomp`, or conda's llvm-openmp)"
                        if sys.platform == "darwin" else "")
                if _env_flag("FASTLOSS_REQUIRE_OPENMP"):
                    raise RuntimeError(
                        "fastloss: FASTLOSS_REQUIRE_OPENMP is set but the compiler has no "
                        "usable OpenMP" + hint)
                print("fastloss: the compiler has no usable OpenMP; building single-threaded"
                      + hint, file=sys.stderr)
        macros.append(("FASTLOSS_OPENMP", "1" if openmp else "0"))
        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args or []) + compile_args
            ext.extra_link_args = list(ext.extra_link_args or []) + link_args
            ext.define_macros = list(ext.define_macros or []) + macros
        super().build_extensions()


extensions = [
    Extension(
        "fastloss._core",
        # the Cython module, then the SIMD kernels (fastloss/_simd: the
        # dispatch table, one translation unit per instruction set)
        sources=["fastloss/_core.pyx", "fastloss/_simd/dispatch.c",
                 "fastloss/_simd/baseline.c", "fastloss/_simd/avx2.c",
                 "fastloss/_simd/avx512.c"],
        # the headers the C sources include: an edit to one rebuilds them
        # (setuptools compares only the sources' own times otherwise)
        depends=sorted(glob.glob("fastloss/_simd/*.h")),
        include_dirs=[np.get_include(), "fastloss"],
        define_macros=[
            ("NPY_NO_DEPRECATED_API", "NPY_1_9_API_VERSION"),
            # built against NumPy 2, runs on NumPy >= 1.25 (pyproject: numpy>=1.26)
            ("NPY_TARGET_VERSION", "NPY_1_25_API_VERSION"),
        ],
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
