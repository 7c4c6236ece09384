# cython: language_level=3
"""Compiled kernels and argument handling of fastloss (the one extension)."""

# Design
# ------
# A call goes through three layers:
#
# 1. Argument handling (_kernels/arguments.pxi, _kernels/call.pxi).  Each
#    public function validates its arguments once, in the reference's order,
#    and reduces them to a plain C struct, the Job (_core.pxd): raw data
#    pointers, element strides, sizes and options.  Every argument, dtype and
#    shape error is raised there, before any kernel runs.
#
# 2. The block engine (_kernels/engine.pxi, _kernels/families.pxi).  Rows are
#    processed in fixed blocks of BLOCK rows; each block yields a BlockResult
#    (its loss sum in float64, its divisor, its first bad label).  Block sums
#    are added in block order with a compensated (Neumaier) sum, whether the
#    blocks ran on one thread or many, and every sum inside a block goes to
#    lanes fixed by the row or element index: the result never depends on
#    n_threads, the memory layout or the SIMD width.  Why one engine: the
#    summation order, the threading, the label checks and the GIL policy are
#    written once, and a kernel only fills one block's BlockResult.
#
# 3. Block kernels, one file per loss family (_kernels/cross_entropy.pxi,
#    softmax_cross_entropy.pxi, squared_error.pxi, softmax.pxi for the book's
#    softmax, label_check.pxi for the labels-only first pass).  A kernel
#    computes a block's row losses (and gradient rows) in double precision
#    whatever the storage dtype, fused over the pred and target dtypes
#    (pfloat, tfloat).  Why block kernels rather than point functions (one
#    call per element, as scikit-learn's _loss does): exp and log run as SIMD
#    loops over a group of rows on stack buffers (_kernels/simd_loops.pxi declares
#    them, _kernels/typed_loops.pxi picks the one for the dtypes), and the
#    common cases take short paths (one gathered element per row for class
#    indices; one product and one log per group for 0/1 targets), which a
#    per-element function could not express.  Long kernels are loops over
#    named inline steps.
#
# Labels (_kernels/labels.pxi) of any integer dtype are read in place and
# checked before the row that uses them is touched.  Helpers shared by the
# kernels (coefficients, row shifts, the four-lane sums) are in
# _kernels/rows.pxi and _kernels/engine.pxi; the book's functions in
# _kernels/book.pxi, the tests' hooks in _kernels/test_hooks.pxi.
# Everything is `include`d into this one module, so every call between files
# is a direct (usually inlined) C call.  docs/design.md
# has the accuracy bounds and the reasoning behind the fast paths.
#
# Adding a loss
# -------------
# 1. A kernel file _kernels/<loss>.pxi with a block function
#    `cdef void _<loss>_block(const Job* J, Py_ssize_t r0, Py_ssize_t r1, ...,
#    BlockResult* res) noexcept nogil` that fills res for rows [r0, r1),
#    summing in the lanes of engine.pxi; include it below.
# 2. A Family value in _core.pxd and its entry in _block_typed
#    (_kernels/families.pxi), the one table of families.
# 3. The public function here, calling _run (add its argument set-up there
#    if it needs new options), and its stub in _core.pyi.
# 4. The reference in fastloss/reference, tests (tests/support.py holds the
#    shared cases), and a bench case in fastloss/bench.

cimport cython
cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport log, log1p, exp, fabs, INFINITY
from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t,
                          uint8_t, uint16_t, uint32_t, uint64_t)
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset

import numbers

import numpy as np

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void* data, cnp.dtype descr, object base)
    cnp.dtype PyArray_PromoteTypes(cnp.dtype a, cnp.dtype b)

cdef extern from "_config.h":
    int fl_max_threads() noexcept nogil
    const int fl_openmp_enabled


# the C loops, and the SIMD level they use, chosen once at import
include "_kernels/simd_loops.pxi"
include "_kernels/simd_level.pxi"

fl_simd_init(_simd_level())

# the engine and its inputs
include "_kernels/typed_loops.pxi"
include "_kernels/labels.pxi"
include "_kernels/engine.pxi"
include "_kernels/rows.pxi"
# one file per loss family, then the table of families
include "_kernels/cross_entropy.pxi"
include "_kernels/softmax_cross_entropy.pxi"
include "_kernels/squared_error.pxi"
include "_kernels/softmax.pxi"
include "_kernels/binary_cross_entropy.pxi"
include "_kernels/label_check.pxi"
include "_kernels/families.pxi"
# from Python arguments to a Job and back
include "_kernels/arguments.pxi"
include "_kernels/partials.pxi"
include "_kernels/call.pxi"
include "_kernels/elementwise_call.pxi"
# the book's functions (fastloss.book), and C routines exposed to the tests
include "_kernels/book.pxi"
include "_kernels/test_hooks.pxi"


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def cross_entropy(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                  ignore_index=None, label_smoothing=0.0, sample_weight=None, axis=-1,
                  n_threads=None):
    """Cross-entropy of probabilities against class indices or dense targets.

    Per sample, with ``q' = (1 - s) q + s / C`` the (smoothed) target row and
    ``w`` the class weights::

        l_i = -sum_c w_c q'_ic log(p_ic + eps)

    A zero target term contributes exactly 0.  ``reduction="mean"`` divides
    the sum by ``sum_i w[t_i]`` over rows that are not ignored (class indices)
    or by ``N`` (dense targets).  Class indices without weight or smoothing
    read one element per row.
    """
    return _run(FAM_CE, probs, target, reduction, eps, weight, ignore_index,
                label_smoothing, sample_weight, axis, n_threads, False, None, "probs")


def softmax_cross_entropy(logits, target, *, reduction="mean", weight=None,
                          ignore_index=None, label_smoothing=0.0, sample_weight=None,
                          axis=-1, n_threads=None):
    """Cross-entropy of ``softmax(logits)``, computed stably from the logits.

    Per sample, with ``LSE_i = m_i + log sum_c exp(x_ic - m_i)`` and ``m_i``
    the row maximum::

        l_i = sum_c w_c q'_ic (LSE_i - x_ic)

    Reductions, weights, ``ignore_index`` and smoothing as in
    :func:`cross_entropy` (PyTorch's ``F.cross_entropy`` semantics).
    """
    return _run(FAM_SCE, logits, target, reduction, None, weight, ignore_index,
                label_smoothing, sample_weight, axis, n_threads, False, None, "logits")


def mean_squared_error(pred, target, *, reduction="mean", sample_weight=None, axis=-1,
                       n_threads=None):
    """Squared error ``(p - t)**2``: mean over all ``N*C`` elements, sum, or
    (``"none"``) the mean over the last axis per sample."""
    return _run(FAM_MSE, pred, target, reduction, None, None, None, None,
                sample_weight, axis, n_threads, False, None, "pred")


def cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                           ignore_index=None, label_smoothing=0.0, sample_weight=None,
                           axis=-1, n_threads=None, out=None):
    """``(cross_entropy(...), gradient)`` in one pass.

    The gradient with respect to ``probs`` is ``-w_c q'_ic / (p_ic + eps) / D``
    (``D`` the divisor of ``"mean"``, 1 otherwise), exactly 0 for a zero
    target term; ignored rows get 0.  ``out`` receives it if given.
    """
    return _run(FAM_CE, probs, target, reduction, eps, weight, ignore_index,
                label_smoothing, sample_weight, axis, n_threads, True, out, "probs")


def softmax_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                   ignore_index=None, label_smoothing=0.0,
                                   sample_weight=None, axis=-1, n_threads=None, out=None):
    """``(softmax_cross_entropy(...), gradient)`` in one pass.

    The gradient with respect to the logits is
    ``(p_ic * sum_k w_k q'_ik - w_c q'_ic) / D`` with ``p = softmax(x)``;
    unweighted with one-hot targets, ``(p - onehot(t)) / D``.
    """
    return _run(FAM_SCE, logits, target, reduction, None, weight, ignore_index,
                label_smoothing, sample_weight, axis, n_threads, True, out, "logits")


def mean_squared_error_and_grad(pred, target, *, reduction="mean", sample_weight=None,
                                axis=-1, n_threads=None, out=None):
    """``(mean_squared_error(...), gradient)``: the gradient is ``2 (p - t)``
    divided by ``N*C`` (mean), 1 (sum) or ``C`` (none)."""
    return _run(FAM_MSE, pred, target, reduction, None, None, None, None,
                sample_weight, axis, n_threads, True, out, "pred")


def binary_cross_entropy(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                         pos_weight=None, label_smoothing=0.0, sample_weight=None,
                         n_threads=None):
    """Binary cross-entropy of probabilities, element by element.

    Every element of ``probs`` (any shape) is its own binary prediction.
    With ``t' = t (1 - s) + s / 2`` (``s = label_smoothing``)::

        l_e = -w_e (pw_e t'_e log(p_e + eps) + (1 - t'_e) log(1 - p_e + eps))

    ``weight`` and ``pos_weight`` broadcast to ``probs``'s shape; a term with
    a zero coefficient is exactly 0.  ``sample_weight`` (shape ``(N,)``)
    weighs every element of sample i.  ``"none"`` returns ``s_i l_e`` in
    ``probs``'s shape, ``"sum"`` their sum, ``"mean"`` that sum divided by
    ``M sum_i s_i`` (``M`` elements a sample; the element count without
    sample weights).
    """
    return _run_binary(FAM_BCE, probs, target, reduction, eps, weight, pos_weight,
                       label_smoothing, sample_weight, n_threads, False, None, "probs")


def binary_cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                                  pos_weight=None, label_smoothing=0.0, sample_weight=None,
                                  n_threads=None, out=None):
    """``(binary_cross_entropy(...), gradient)`` in one pass: the gradient
    with respect to ``probs`` is
    ``-s_i w_e (pw_e t'_e / (p_e + eps) - (1 - t'_e) / (1 - p_e + eps)) / D``
    (``D`` the divisor of ``"mean"``, 1 otherwise).  ``out`` receives it if
    given."""
    return _run_binary(FAM_BCE, probs, target, reduction, eps, weight, pos_weight,
                       label_smoothing, sample_weight, n_threads, True, out, "probs")


def sigmoid_binary_cross_entropy(logits, target, *, reduction="mean", weight=None,
                                 pos_weight=None, label_smoothing=0.0, sample_weight=None,
                                 n_threads=None):
    """Binary cross-entropy of ``sigmoid(logits)``, computed from the logits.

    Per element (PyTorch's ``binary_cross_entropy_with_logits``)::

        l_e = -w_e (pw_e t'_e log sigmoid(x_e) + (1 - t'_e) log sigmoid(-x_e))

    with ``-log sigmoid(+-x) = max(-+x, 0) + log1p(exp(-|x|))``: finite for
    every finite logit.  Weights, reductions and smoothing as in
    :func:`binary_cross_entropy`.
    """
    return _run_binary(FAM_SBCE, logits, target, reduction, None, weight, pos_weight,
                       label_smoothing, sample_weight, n_threads, False, None, "logits")


def sigmoid_binary_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                          pos_weight=None, label_smoothing=0.0,
                                          sample_weight=None, n_threads=None, out=None):
    """``(sigmoid_binary_cross_entropy(...), gradient)`` in one pass: the
    gradient with respect to the logits is
    ``s_i w_e ((1 - t'_e) sigmoid(x_e) - pw_e t'_e sigmoid(-x_e)) / D``, which is
    ``s_i w_e (sigmoid(x_e) - t'_e) / D`` without ``pos_weight``."""
    return _run_binary(FAM_SBCE, logits, target, reduction, None, weight, pos_weight,
                       label_smoothing, sample_weight, n_threads, True, out, "logits")


# the functions whose block results _partial_run keeps: (family, gradient,
# element-wise)
_PARTIAL_FUNCTIONS = {
    cross_entropy: (FAM_CE, False, False),
    softmax_cross_entropy: (FAM_SCE, False, False),
    mean_squared_error: (FAM_MSE, False, False),
    binary_cross_entropy: (FAM_BCE, False, True),
    sigmoid_binary_cross_entropy: (FAM_SBCE, False, True),
    cross_entropy_and_grad: (FAM_CE, True, False),
    softmax_cross_entropy_and_grad: (FAM_SCE, True, False),
    mean_squared_error_and_grad: (FAM_MSE, True, False),
    binary_cross_entropy_and_grad: (FAM_BCE, True, True),
    sigmoid_binary_cross_entropy_and_grad: (FAM_SBCE, True, True),
}


def openmp_enabled():
    """True if the extension was compiled with OpenMP."""
    return bool(fl_openmp_enabled)


def simd():
    """Which exp/log loops this CPU runs: "avx512", "avx2+fma" or "baseline"
    (the best the CPU has, or the cap set by the environment variable
    FASTLOSS_SIMD at import)."""
    return fl_simd_name.decode()


def max_threads():
    """The number of threads ``n_threads=None`` may use for large inputs."""
    return fl_max_threads()
