#!/usr/bin/env bash
# Run fastloss's test suite against a build of the extension instrumented with
# AddressSanitizer and UndefinedBehaviorSanitizer (FASTLOSS_SANITIZE=1).
#
#   .ci/sanitize.sh                 # the whole suite (tests/)
#   .ci/sanitize.sh -k fuzz -x      # extra arguments go to pytest
#
# What it does:
#   1. copies the source tree (git-ignored build outputs left out) to a
#      scratch directory, so the checkout's own in-place build is untouched;
#   2. makes a scratch virtualenv there with NumPy, Cython, setuptools, pytest
#      and hypothesis (reused on the next run);
#   3. builds fastloss._core in place with FASTLOSS_SANITIZE=1
#      (-fsanitize=address,undefined -fno-sanitize-recover=undefined);
#   4. runs pytest with the sanitizer runtimes preloaded (Python itself is not
#      instrumented, so libasan must be the first library loaded):
#        LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
#        ASAN_OPTIONS=detect_leaks=0 (CPython leaks by design at exit)
#        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
#        PYTHONMALLOC=malloc (Python objects get red zones too)
#        exitcode=86 in both (a sanitizer stop is told apart from a failure)
#      pytest runs with --capture=sys, so a report the runtime writes to file
#      descriptor 2 is not swallowed by pytest's capture when the process
#      dies. (GCC 12's UBSan ignores log_path, so reports are also looked
#      for in a copy of pytest's output, $WORK/pytest.log, which includes
#      what a fuzz child printed.) The
#      script fails if pytest fails or if any sanitizer reported anything.
#
# Environment:
#   SANITIZE_WORKDIR  scratch directory (default: ${TMPDIR:-/tmp}/fastloss-sanitize)
#   PYTHON            interpreter for the scratch venv (default: python3)
#   CC                the gcc to build with (default: gcc); its libasan.so and
#                     libubsan.so are the runtimes preloaded
#   SANITIZE_VENV     use this existing venv instead of making one (it needs
#                     numpy>=2, Cython>=3.0.10, setuptools, pytest, hypothesis)
#
# Linux only (LD_PRELOAD). About 5 to 10 times slower than a normal run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=${SANITIZE_WORKDIR:-${TMPDIR:-/tmp}/fastloss-sanitize}
python=${PYTHON:-python3}
export CC=${CC:-gcc}
export PIP_DISABLE_PIP_VERSION_CHECK=1
unset PYTHONPATH
start=$SECONDS
stage() { printf '\n== [%ss] %s\n' "$((SECONDS - start))" "$*"; }

runtime() {   # the compiler's shared sanitizer runtime, or fail
    local lib
    lib=$("$CC" -print-file-name="$1")
    if [[ "$lib" != /* || ! -f "$lib" ]]; then
        echo "sanitize.sh: $CC has no $1 (install its sanitizer runtime, e.g. libasan/libubsan)" >&2
        exit 2
    fi
    printf '%s' "$lib"
}
asan=$(runtime libasan.so)
ubsan=$(runtime libubsan.so)

stage "a copy of the source tree in $work/src"
mkdir -p "$work"
rm -rf "$work/src" "$work/logs"
mkdir -p "$work/src" "$work/logs"
tar -C "$root" -cf - \
    --exclude=./.git --exclude=./build --exclude=./dist --exclude='*.egg-info' \
    --exclude='*.so' --exclude='*.o' --exclude=__pycache__ --exclude=.hypothesis \
    --exclude=.pytest_cache --exclude=.benchmarks --exclude='./fastloss/_core.c' . \
    | tar -C "$work/src" -xf -

if [[ -n "${SANITIZE_VENV:-}" ]]; then
    venv=$SANITIZE_VENV
    stage "using the venv $venv"
else
    venv=$work/venv
    if [[ ! -x "$venv/bin/python" ]]; then
        stage "a scratch venv in $venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip
    fi
    "$venv/bin/python" -m pip install --quiet "numpy>=2" "cython>=3.0.10" "setuptools>=69" \
        "pytest>=7" "hypothesis>=6" "ml_dtypes>=0.4"
fi
py=$venv/bin/python

stage "building fastloss._core with FASTLOSS_SANITIZE=1 ($CC)"
(cd "$work/src" && FASTLOSS_SANITIZE=1 "$py" setup.py -q build_ext --inplace --force) \
    > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
so=$(ls "$work"/src/fastloss/_core*.so)
if command -v ldd > /dev/null; then
    libs=$(ldd "$so")          # (not piped into grep -q: SIGPIPE under pipefail)
    if [[ "$libs" != *libasan* ]]; then
        echo "sanitize.sh: $so is not linked against libasan; the build did not sanitize" >&2
        exit 1
    fi
fi
echo "built $so"

stage "pytest under AddressSanitizer + UndefinedBehaviorSanitizer"
export LD_PRELOAD="$asan $ubsan"
export ASAN_OPTIONS="detect_leaks=0:exitcode=86:log_path=$work/logs/asan:allocator_may_return_null=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=86:print_stacktrace=1:log_path=$work/logs/ubsan"
export PYTHONMALLOC=malloc
export PYTHONFAULTHANDLER=1
set +e
(cd "$work/src" && "$py" -m pytest tests -q -ra -p no:cacheprovider --capture=sys "$@") 2>&1 \
    | tee "$work/pytest.log"
status=${PIPESTATUS[0]}
set -e
unset LD_PRELOAD

stage "sanitizer reports"
pattern='runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY: (Address|UndefinedBehavior)Sanitizer'
found=0
for f in "$work"/logs/*; do
    [[ -e "$f" ]] || continue
    printf '\n---- %s\n' "$f"
    cat "$f"
    found=1
done
if grep -Eq "$pattern" "$work/pytest.log"; then
    printf '\n---- from %s\n' "$work/pytest.log"
    grep -En -A 12 "$pattern" "$work/pytest.log" | head -200 || true
    found=1
fi
if [[ $found -ne 0 || $status -eq 86 ]]; then
    echo "sanitize.sh: the sanitizers reported errors (above; pytest exit code $status)" >&2
    exit 1
fi
echo "none"
if [[ $status -ne 0 ]]; then
    echo "sanitize.sh: pytest failed (exit code $status) under the sanitizers" >&2
    exit "$status"
fi
echo "sanitize.sh: clean"
