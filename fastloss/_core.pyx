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
#    loops over a group of rows on stack buffers (_kernels/vmath.pxi declares
#    them, _kernels/typed_loops.pxi picks the one for the dtypes), and the
#    common cases take short paths (one gathered element per row for class
#    indices; one product and one log per group for 0/1 targets), which a
#    per-element function could not express.  Long kernels are loops over
#    named inline steps.
#
# Labels (_kernels/labels.pxi) of any integer dtype are read in place and
# checked before the row that uses them is touched.  Helpers shared by the
# kernels (coefficients, row shifts, the four-lane sums) are in
# _kernels/rows.pxi and _kernels/engine.pxi; the book's helpers in
# _kernels/book.pxi.  Everything is `include`d into this one module, so every
# call between files is a direct (usually inlined) C call.  docs/design.md
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

cimport numpy as cnp
from cython.parallel cimport prange
from libc.math cimport log, log1p, exp, fabs, INFINITY
from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t,
                          uint8_t, uint16_t, uint32_t, uint64_t)
from libc.stdlib cimport malloc, free
from libc.string cimport memset

import numbers

import numpy as np

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void* data, cnp.dtype descr, object base)

cdef extern from "_config.h":
    int fl_max_threads() noexcept nogil
    const int fl_openmp_enabled


# the C loops, and the SIMD level they use, chosen once at import
include "_kernels/vmath.pxi"
include "_kernels/simd.pxi"

fl_vmath_init(_simd_level())

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
include "_kernels/label_check.pxi"
include "_kernels/families.pxi"
# from Python arguments to a Job and back
include "_kernels/arguments.pxi"
include "_kernels/call.pxi"
include "_kernels/book.pxi"


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------

def cross_entropy(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                  ignore_index=None, label_smoothing=0.0, n_threads=None):
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
                label_smoothing, n_threads, False, None, "probs")


def softmax_cross_entropy(logits, target, *, reduction="mean", weight=None,
                          ignore_index=None, label_smoothing=0.0, n_threads=None):
    """Cross-entropy of ``softmax(logits)``, computed stably from the logits.

    Per sample, with ``LSE_i = m_i + log sum_c exp(x_ic - m_i)`` and ``m_i``
    the row maximum::

        l_i = sum_c w_c q'_ic (LSE_i - x_ic)

    Reductions, weights, ``ignore_index`` and smoothing as in
    :func:`cross_entropy` (PyTorch's ``F.cross_entropy`` semantics).
    """
    return _run(FAM_SCE, logits, target, reduction, None, weight, ignore_index,
                label_smoothing, n_threads, False, None, "logits")


def mean_squared_error(pred, target, *, reduction="mean", n_threads=None):
    """Squared error ``(p - t)**2``: mean over all ``N*C`` elements, sum, or
    (``"none"``) the mean over the last axis per sample."""
    return _run(FAM_MSE, pred, target, reduction, None, None, None, None,
                n_threads, False, None, "pred")


def cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                           ignore_index=None, label_smoothing=0.0, n_threads=None,
                           out=None):
    """``(cross_entropy(...), gradient)`` in one pass.

    The gradient with respect to ``probs`` is ``-w_c q'_ic / (p_ic + eps) / D``
    (``D`` the divisor of ``"mean"``, 1 otherwise), exactly 0 for a zero
    target term; ignored rows get 0.  ``out`` receives it if given.
    """
    return _run(FAM_CE, probs, target, reduction, eps, weight, ignore_index,
                label_smoothing, n_threads, True, out, "probs")


def softmax_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                   ignore_index=None, label_smoothing=0.0,
                                   n_threads=None, out=None):
    """``(softmax_cross_entropy(...), gradient)`` in one pass.

    The gradient with respect to the logits is
    ``(p_ic * sum_k w_k q'_ik - w_c q'_ic) / D`` with ``p = softmax(x)``;
    unweighted with one-hot targets, ``(p - onehot(t)) / D``.
    """
    return _run(FAM_SCE, logits, target, reduction, None, weight, ignore_index,
                label_smoothing, n_threads, True, out, "logits")


def mean_squared_error_and_grad(pred, target, *, reduction="mean", n_threads=None,
                                out=None):
    """``(mean_squared_error(...), gradient)``: the gradient is ``2 (p - t)``
    divided by ``N*C`` (mean), 1 (sum) or ``C`` (none)."""
    return _run(FAM_MSE, pred, target, reduction, None, None, None, None,
                n_threads, True, out, "pred")


# ---------------------------------------------------------------------------
# The book's functions (fastloss.book)
# ---------------------------------------------------------------------------

def sum_squared_error(y, t):
    """The book's ``0.5 * np.sum((y - t)**2)``, for ``t`` of exactly ``y``'s
    shape."""
    cdef Job J
    cdef BlockResult total
    P = _start_job(&J, FAM_MSE, y, "y")
    T = _dense_target(&J, t, P, "y")     # (T: the array the job reads, kept alive)
    cdef int nt = _pick_threads(&J, 0)
    _run_job(&J, nt, &total)
    return _scalar(0.5 * total.loss, J.pred_f32)


def _softmax(x, t=None, double eps=1e-7):
    """Row-wise softmax of ``x`` (1-D or 2-D) as a new array; with class
    indices ``t`` also the book's loss ``-mean(log(y[i, t_i] + eps))``.
    Returns ``y`` or ``(y, loss)``."""
    cdef Job J
    cdef BlockResult total
    cdef cnp.ndarray P, Y
    P = _start_job(&J, FAM_SOFTMAX, x, "x")
    J.eps = eps
    T = None
    if t is not None:
        T = _label_target(&J, t, P, "x")  # (T: the array the job reads, kept alive)
        if J.dense_target:
            raise ValueError("_softmax takes class indices")
    Y = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(P), cnp.PyArray_DIMS(P), cnp.PyArray_TYPE(P), 0)
    _set_grad(&J, Y)
    cdef int64_t scalar_label = 0
    if t is not None and J.labels == NULL:
        scalar_label = t
        _set_scalar_label(&J, &scalar_label)
    cdef int nt = _pick_threads(&J, 0)
    _run_job(&J, nt, &total)
    if total.bad >= 0:
        _raise_bad_label(t, total.bad, J.n_classes)
    if t is None:
        return Y
    return Y, _scalar(total.loss / total.div, J.pred_f32)


def _binary_product(p, t, double eps=1e-7, bint sparse=False):
    """For tests: fl_binprod over p and t as float64 (same size, read
    flattened, at most 2048 elements), the product form of a binary group's
    loss, or with sparse=True fl_binprod_sparse over the factors at t != 0
    (which must then all be 1).  None where it does not apply, else
    (M, E, loss) with the product of p + eps over t == 1 equal to M * 2**E
    and loss = -log of it."""
    cdef cnp.ndarray P = np.ascontiguousarray(p, dtype=np.float64).ravel()
    cdef cnp.ndarray T = np.ascontiguousarray(t, dtype=np.float64).ravel()
    cdef cnp.ndarray U, F
    cdef double M, E
    cdef int ok
    cdef Py_ssize_t n = cnp.PyArray_DIMS(P)[0]
    if cnp.PyArray_DIMS(T)[0] != n or n > CAP:
        raise ValueError(f"p and t must have the same size, at most {CAP}")
    if sparse:
        U = np.flatnonzero(T).astype(np.int32)
        F = np.ascontiguousarray(P[U] + eps)
        ok = fl_binprod_sparse(<const int32_t*>cnp.PyArray_DATA(U),
                               <const double*>cnp.PyArray_DATA(F), U.shape[0], &M, &E)
    else:
        ok = fl_binprod_dd(<const double*>cnp.PyArray_DATA(P),
                           <const double*>cnp.PyArray_DATA(T), n, eps, &M, &E)
    if not ok:
        return None
    return M, E, _bin_loss(M, E)


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


def _argmax_rows(t):
    """``t.argmax(axis=1)`` for a 2-D native float32/float64 ``t`` with a unit
    column stride and at most 64 columns (the book's one-hot targets to class
    indices); None for any other ``t``.  A row whose only nonzero is positive
    or NaN is that column, found by one SIMD test per row; a block of 256
    rows with any other row goes through NumPy's argmax (into the result, no
    copy), so each row gets NumPy's answer.  NumPy's
    argmax costs about 17 ns a row of 10, more than the loss it feeds."""
    cdef cnp.ndarray T, L
    cdef Py_ssize_t n, c, rs, isz, i, i0, m, nbad = 0
    cdef int32_t col[256]
    cdef int32_t k
    cdef cnp.npy_intp* lab
    cdef const float* tf
    cdef const double* td
    cdef double v
    cdef bint f32
    cdef cnp.npy_intp dims[1]
    if not (_is_native_float(t) and cnp.PyArray_NDIM(<cnp.ndarray>t) == 2):
        return None
    T = <cnp.ndarray>t
    n = cnp.PyArray_DIMS(T)[0]
    c = cnp.PyArray_DIMS(T)[1]
    isz = cnp.PyArray_ITEMSIZE(T)
    if c < 1 or c > 64:
        return None
    if n == 0:                          # (NumPy gives such arrays zero strides)
        return np.empty(0, np.intp)
    if (c > 1 and cnp.PyArray_STRIDES(T)[1] != isz) or cnp.PyArray_STRIDES(T)[0] % isz != 0:
        return None
    rs = cnp.PyArray_STRIDES(T)[0] // isz
    f32 = cnp.PyArray_TYPE(T) == cnp.NPY_FLOAT
    tf = <const float*>cnp.PyArray_DATA(T)
    td = <const double*>cnp.PyArray_DATA(T)
    dims[0] = n
    L = cnp.PyArray_EMPTY(1, dims, cnp.NPY_INTP, 0)   # argmax's dtype
    lab = <cnp.npy_intp*>cnp.PyArray_DATA(L)
    i0 = 0
    while i0 < n:
        m = n - i0 if n - i0 < 256 else 256
        nbad = 0
        with nogil:
            if f32:
                fl_onehot_cols_f(tf + i0 * rs, m, c, rs, col)
            else:
                fl_onehot_cols_d(td + i0 * rs, m, c, rs, col)
            for i in range(m):
                k = col[i]
                if k >= 0:
                    v = tf[(i0 + i) * rs + k] if f32 else td[(i0 + i) * rs + k]
                    if v > 0.0 or v != v:
                        lab[i0 + i] = k
                        continue
                nbad += 1
        if nbad:                        # NumPy, on views: no temporary copy
            T[i0:i0 + m].argmax(axis=1, out=L[i0:i0 + m])
        i0 += m
    return L


def _softmax_backward(y, t, dout):
    """The book's SoftmaxWithLoss.backward for a C-contiguous 2-D ``y`` (the
    layer's own softmax output), int64 class indices or a dense ``t`` of y's
    shape and dtype, and a Python/NumPy scalar ``dout``; returns ``dx`` or
    None when the arguments need the general (NumPy) path."""
    cdef cnp.ndarray Y, T, DX
    cdef Py_ssize_t n, c, i
    cdef int64_t v
    if not (cnp.PyArray_Check(y) and cnp.PyArray_NDIM(<cnp.ndarray>y) == 2
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>y) and _is_native_float(y)):
        return None
    if not isinstance(dout, (int, float, np.floating, np.integer)) or isinstance(dout, bool):
        return None
    Y = <cnp.ndarray>y
    n = cnp.PyArray_DIMS(Y)[0]
    c = cnp.PyArray_DIMS(Y)[1]
    if not (cnp.PyArray_Check(t) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>t)):
        return None
    T = <cnp.ndarray>t
    if cnp.PyArray_TYPE(T) == cnp.NPY_INT64 and cnp.PyArray_ISNOTSWAPPED(T) \
            and cnp.PyArray_NDIM(T) == 1 and cnp.PyArray_DIMS(T)[0] == n:
        for i in range(n):                    # the same check as every kernel
            v = (<const int64_t*>cnp.PyArray_DATA(T))[i]
            if v < 0 or v >= c:
                raise IndexError(f"target {v} is out of range for {c} classes (row {i})")
        dense = False
    elif cnp.PyArray_TYPE(T) == cnp.PyArray_TYPE(Y) and _is_native_float(T) \
            and _same_shape(T, Y):
        dense = True
    else:
        return None
    DX = cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(Y), cnp.PyArray_TYPE(Y), 0)
    if cnp.PyArray_TYPE(Y) == cnp.NPY_FLOAT:
        _softmax_backward_typed(<const float*>cnp.PyArray_DATA(Y), <const int64_t*>cnp.PyArray_DATA(T),
                                <const float*>cnp.PyArray_DATA(T) if dense else NULL,
                                n, c, <float>dout, <float>n, <float*>cnp.PyArray_DATA(DX))
    else:
        _softmax_backward_typed(<const double*>cnp.PyArray_DATA(Y), <const int64_t*>cnp.PyArray_DATA(T),
                                <const double*>cnp.PyArray_DATA(T) if dense else NULL,
                                n, c, <double>dout, <double>n, <double*>cnp.PyArray_DATA(DX))
    return DX
