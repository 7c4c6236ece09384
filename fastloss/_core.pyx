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
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF

import numbers

import numpy as np

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void* data, cnp.dtype descr, object base)
    cnp.dtype PyArray_PromoteTypes(cnp.dtype a, cnp.dtype b)
    # (steals a reference to descr; returns a new array)
    object PyArray_NewFromDescr(PyTypeObject* subtype, cnp.dtype descr, int nd,
                                cnp.npy_intp* dims, cnp.npy_intp* strides, void* data,
                                int flags, PyObject* obj)

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
    r"""Cross-entropy of probabilities against class indices or dense targets.

    Parameters
    ----------
    probs : array_like, shape (N, C), (C,) or with the classes on `axis`
        Probabilities, of any real dtype (bool, integer, float16,
        ``ml_dtypes.bfloat16``, float32, float64, ...) and any memory layout.
        The classes are on `axis` (``C >= 1``); every other index is a
        position (a row). ``N = 0`` is allowed.
    target : array_like or int
        Its dtype decides its meaning. **Class indices**: an integer array of
        the positions' shape (``(N,)`` for a batch, 0-d or a Python int for
        one sample), of any integer dtype, each in ``[0, C)`` or equal to
        `ignore_index` (negative labels never wrap around). **Dense
        targets** (one-hot, multi-hot or soft): a float or bool array of
        exactly `probs`'s shape, rounded to the computation dtype; rows are
        not checked to sum to 1. Nothing is broadcast.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: ``sum_i s_i l_i / D`` (see Notes); ``"sum"``:
        ``sum_i s_i l_i``; ``"none"``: ``s_i l_i`` for each position.
    eps : float, default 1e-7
        Added to every probability before its log (the book's guard), a real
        number ``>= 0``; ``eps=0`` is the exact log.
    weight : array_like of shape (C,), optional
        Class weights ``w_c`` (1 without), rounded to the computation dtype.
        With class indices they also weight the divisor of ``"mean"``.
    ignore_index : int, optional
        Class-index targets only. Rows whose label equals it add 0 to the
        loss, the divisor and the gradient, and their ``"none"`` entry is 0.
        It may lie outside ``[0, C)`` (PyTorch's -100).
    label_smoothing : float, default 0.0
        ``s`` in ``[0, 1]``: every target row ``q`` becomes
        ``(1 - s) q + s / C``, for class indices and dense targets alike.
    sample_weight : array_like, optional
        Per-position weights ``s_i``, of exactly the positions' shape (no
        broadcasting), rounded to the computation dtype. They multiply each
        row's loss and enter the divisor; negative weights are allowed.
    axis : int, default -1
        The class axis of `probs`, in ``[-probs.ndim, probs.ndim)``. Use
        ``axis=1`` for PyTorch's ``(N, C, d1, ..., dK)`` layout, with class
        indices of shape ``(N, d1, ..., dK)``.
    n_threads : int, optional
        The number of threads, ``>= 1``. None runs on one thread below
        131,072 elements and on the OpenMP thread count above. The result is
        bitwise the same for every value.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        For ``"mean"`` and ``"sum"``, a NumPy scalar of the computation
        dtype: float32 for float32, float16 and bfloat16 `probs`, float64
        for every other dtype. For ``"none"``, a new array of that dtype and
        of the positions' shape (``(N,)`` for a batch, 0-d for one sample).

    Raises
    ------
    TypeError
        `probs`, `target`, `weight` or `sample_weight` of a non-real dtype
        (complex, object, str, a two-byte dtype other than float16 and
        bfloat16, ...); float or bool class indices (an array of the
        positions' shape); `axis` not an int; `eps` or `label_smoothing` not
        a real number; `ignore_index` neither None nor an int.
    ValueError
        `probs` 0-d or with 0 classes; a target of any other shape (an
        integer array of `probs`'s shape included); `weight` not of shape
        ``(C,)``; `sample_weight` not of the positions' shape;
        `ignore_index` with a dense target; `eps` negative or NaN;
        `label_smoothing` outside ``[0, 1]`` or NaN; `reduction` not one of
        the three; `n_threads` not None or an int ``>= 1``.
    numpy.exceptions.AxisError
        `axis` out of range.
    IndexError
        A label outside ``[0, C)`` that is not `ignore_index`, once every
        argument has passed its checks: ``target 10 is out of range for 10
        classes (row 3)``, naming the first such row.

    See Also
    --------
    fastloss.cross_entropy_and_grad : The loss and its gradient in one pass.
    fastloss.softmax_cross_entropy : The same loss computed from logits.
    fastloss.binary_cross_entropy : Element-wise, for binary predictions.
    fastloss.book.cross_entropy_error : The book's version.
    fastloss.reference.cross_entropy : The same contract in plain NumPy.

    Notes
    -----
    With ``q_i`` the target row of position ``i`` (the one-hot row of its
    label ``t_i``, or the dense row), ``s`` the label smoothing, ``w`` the
    class weights and ``s_i`` the sample weights, the loss of position ``i``
    is

    .. math::

        l_i = -\sum_c w_c \, q'_{ic} \log(p_{ic} + \epsilon),
        \qquad q'_{ic} = (1 - s)\, q_{ic} + s / C,

    and ``"mean"`` returns :math:`\sum_i s_i l_i / D` with
    :math:`D = \sum_i s_i w_{t_i}` over the rows that are not ignored (class
    indices) or :math:`D = \sum_i s_i` (dense targets): PyTorch's divisors
    (``F.cross_entropy``, ``F.nll_loss``), and scikit-learn's with sample
    weights.

    A term whose coefficient ``w_c q'_ic`` is 0 contributes exactly 0, even
    where ``log(p_ic + eps)`` is ``-inf`` or NaN; so does a row with
    ``s_i = 0`` or an ignored one. Sums are accumulated in float64 whatever
    the dtype and rounded once. An empty batch, or a zero divisor (every
    row ignored), gives ``nan`` for ``"mean"`` and 0.0 for ``"sum"``,
    without a warning. Class indices without `weight` and
    `label_smoothing` read one element of `probs` per row.

    Examples
    --------
    The book's example: the right class (2) has probability 0.6.

    >>> import numpy as np
    >>> import fastloss
    >>> t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    >>> y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    >>> float(fastloss.cross_entropy(y, t))
    0.510825457099338
    >>> float(fastloss.cross_entropy(y, 2))      # the same, as a class index
    0.510825457099338

    A batch of three rows with class indices:

    >>> probs = np.array([[0.7, 0.2, 0.1],
    ...                   [0.1, 0.8, 0.1],
    ...                   [0.3, 0.3, 0.4]])
    >>> labels = np.array([0, 1, 2])
    >>> print(f"{fastloss.cross_entropy(probs, labels):.6f}")
    0.498703
    >>> print(fastloss.cross_entropy(probs, labels, reduction="none").round(6))
    [0.356675 0.223143 0.91629 ]
    >>> print(f"{fastloss.cross_entropy(probs, [0, 1, -100], ignore_index=-100):.6f}")
    0.289909
    >>> print(f"{fastloss.cross_entropy(probs, labels, weight=[1.0, 2.0, 1.0]):.6f}")
    0.429813

    Float32 (and float16) probabilities give a float32 loss:

    >>> fastloss.cross_entropy(probs.astype(np.float32), labels).dtype
    dtype('float32')
    """
    return _run(FAM_CE, probs, target, reduction, eps, weight, ignore_index,
                label_smoothing, sample_weight, axis, n_threads, False, None, "probs")


def softmax_cross_entropy(logits, target, *, reduction="mean", weight=None,
                          ignore_index=None, label_smoothing=0.0, sample_weight=None,
                          axis=-1, n_threads=None):
    r"""Cross-entropy of ``softmax(logits)``, computed stably from the logits.

    Parameters
    ----------
    logits : array_like, shape (N, C), (C,) or with the classes on `axis`
        Unnormalised log-probabilities, of any real dtype (bool, integer,
        float16, ``ml_dtypes.bfloat16``, float32, float64, ...) and any
        memory layout; at least one class.
    target : array_like or int
        Class indices (an integer array of the positions' shape, or a Python
        int for one sample) or a dense target (a float or bool array of
        `logits`'s shape), as in :func:`fastloss.cross_entropy`.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: ``sum_i s_i l_i / D``; ``"sum"``: ``sum_i s_i l_i``;
        ``"none"``: ``s_i l_i`` for each position.
    weight : array_like of shape (C,), optional
        Class weights ``w_c``; with class indices they also weight the
        divisor of ``"mean"``.
    ignore_index : int, optional
        Class-index targets only: the label of rows to leave out of the
        loss, the divisor and the gradient.
    label_smoothing : float, default 0.0
        ``s`` in ``[0, 1]``: the target row ``q`` becomes
        ``(1 - s) q + s / C``.
    sample_weight : array_like, optional
        Per-position weights ``s_i``, of exactly the positions' shape.
    axis : int, default -1
        The class axis of `logits` (``axis=1`` for PyTorch's
        ``(N, C, d1, ..., dK)`` layout).
    n_threads : int, optional
        The number of threads, ``>= 1``; None picks one thread for small
        inputs and the OpenMP thread count for large ones. The result does
        not depend on it.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        A NumPy scalar of the computation dtype (float32 for float32,
        float16 and bfloat16 `logits`, float64 otherwise) for ``"mean"`` and
        ``"sum"``; for ``"none"``, a new array of that dtype and of the
        positions' shape.

    Raises
    ------
    TypeError
        A non-real dtype of `logits`, `target`, `weight` or `sample_weight`;
        float or bool class indices; `axis` not an int; `label_smoothing`
        not a real number; `ignore_index` neither None nor an int.
    ValueError
        `logits` 0-d or with 0 classes; a target, `weight` or
        `sample_weight` of the wrong shape; `ignore_index` with a dense
        target; `label_smoothing` outside ``[0, 1]``; an unknown
        `reduction`; `n_threads` not None or an int ``>= 1``.
    numpy.exceptions.AxisError
        `axis` out of range.
    IndexError
        A label outside ``[0, C)`` that is not `ignore_index`, naming the
        first such row.

    See Also
    --------
    fastloss.softmax_cross_entropy_and_grad : The loss and its gradient.
    fastloss.cross_entropy : The same loss on probabilities.
    fastloss.book.SoftmaxWithLoss : The book's layer.
    fastloss.reference.softmax_cross_entropy : Plain NumPy.

    Notes
    -----
    With :math:`m_i = \max_c x_{ic}` and the log-sum-exp
    :math:`\mathrm{LSE}_i = m_i + \log \sum_c e^{x_{ic} - m_i}`,

    .. math::

        l_i = \sum_c w_c \, q'_{ic} \, (\mathrm{LSE}_i - x_{ic}),
        \qquad q'_{ic} = (1 - s)\, q_{ic} + s / C,

    reduced as in :func:`fastloss.cross_entropy` (PyTorch's
    ``F.cross_entropy``, the same numbers for the same `weight`,
    `ignore_index`, `label_smoothing` and `reduction`). ``LSE_i`` is exact
    to well under an ulp for every finite row: no row overflows, and a
    confident row (loss near 0) keeps its digits. A NaN logit makes its row
    NaN; a ``-inf`` logit whose coefficient ``w_c q'_ic`` is 0 contributes 0.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> logits = np.array([[2.0, 1.0, 0.1],
    ...                    [0.5, 2.5, 0.3]])
    >>> labels = np.array([0, 1])
    >>> print(f"{fastloss.softmax_cross_entropy(logits, labels):.6f}")
    0.318540
    >>> print(fastloss.softmax_cross_entropy(logits, labels, reduction="none").round(6))
    [0.41703 0.22005]

    No overflow, and no loss of digits for a confident row:

    >>> float(fastloss.softmax_cross_entropy(np.array([[-1000.0, 0.0]]), [0]))
    1000.0
    >>> loss = fastloss.softmax_cross_entropy(np.array([[1e8, 1e8]], np.float32), [1])
    >>> print(loss.dtype, f"{loss:.6f}")
    float32 0.693147
    >>> print(f"{fastloss.softmax_cross_entropy(np.array([30.0, 0.0, 0.0]), 0):.6e}")
    1.871525e-13

    PyTorch's channels-first layout ``(N, C, L)`` with ``axis=1``:

    >>> x = np.random.default_rng(0).standard_normal((2, 3, 4))
    >>> t = np.array([[0, 1, 2, 0], [2, 2, 1, 0]])
    >>> print(f"{fastloss.softmax_cross_entropy(x, t, axis=1):.6f}")
    1.094976
    >>> fastloss.softmax_cross_entropy(x, t, axis=1, reduction="none").shape
    (2, 4)
    """
    return _run(FAM_SCE, logits, target, reduction, None, weight, ignore_index,
                label_smoothing, sample_weight, axis, n_threads, False, None, "logits")


def mean_squared_error(pred, target, *, reduction="mean", sample_weight=None, axis=-1,
                       n_threads=None):
    r"""Squared error between predictions and targets of the same shape.

    Parameters
    ----------
    pred : array_like, shape (N, C), (C,) or with the classes on `axis`
        Predictions, of any real dtype and memory layout, at least one axis
        and ``C >= 1``.
    target : array_like
        Any real array-like of exactly `pred`'s shape (no broadcasting),
        rounded to the computation dtype.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the mean over all ``N C`` elements (weighted by
        `sample_weight`); ``"sum"``: the sum of the squares; ``"none"``: the
        mean over `axis` for each position (unlike PyTorch's element-wise
        ``"none"``).
    sample_weight : array_like, optional
        Per-position weights ``s_i``, of exactly the positions' shape
        (`pred`'s without `axis`).
    axis : int, default -1
        The axis that ``"none"`` averages over (the "classes").
    n_threads : int, optional
        The number of threads, ``>= 1``; None picks one for small inputs.
        The result does not depend on it.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        A NumPy scalar of the computation dtype (float32 for float32,
        float16 and bfloat16 `pred`, float64 otherwise) for ``"mean"`` and
        ``"sum"``; for ``"none"``, a new array of that dtype and of the
        positions' shape.

    Raises
    ------
    TypeError
        `pred`, `target` or `sample_weight` of a non-real dtype; `axis` not
        an int.
    ValueError
        `pred` 0-d or with 0 elements along `axis`; `target` not of
        `pred`'s shape; `sample_weight` not of the positions' shape; an
        unknown `reduction`; `n_threads` not None or an int ``>= 1``.
    numpy.exceptions.AxisError
        `axis` out of range.

    See Also
    --------
    fastloss.mean_squared_error_and_grad : The loss and its gradient.
    fastloss.book.sum_squared_error : The book's ``0.5 * sum((y - t)**2)``.
    fastloss.reference.mean_squared_error : Plain NumPy.

    Notes
    -----
    With :math:`l_i = \sum_c (p_{ic} - t_{ic})^2` the sum over `axis` of
    position ``i`` and ``s_i`` its sample weight (1 without),

    .. math::

        \text{mean} = \frac{\sum_i s_i l_i}{C \sum_i s_i}, \qquad
        \text{sum} = \sum_i s_i l_i, \qquad
        \text{none}_i = \frac{s_i l_i}{C}.

    Sums are accumulated in float64 whatever the input dtype, and rounded
    once: the mean of 2**25 float32 ones against zeros is exactly 1.0. An
    empty batch gives ``nan`` for ``"mean"`` and 0.0 for ``"sum"``.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> pred = np.array([[0.5, 1.0], [2.0, 0.0]])
    >>> target = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> float(fastloss.mean_squared_error(pred, target))
    0.5625
    >>> float(fastloss.mean_squared_error(pred, target, reduction="sum"))
    2.25
    >>> fastloss.mean_squared_error(pred, target, reduction="none")
    array([0.125, 1.   ])
    >>> float(fastloss.mean_squared_error(pred, target, sample_weight=[1.0, 3.0]))
    0.78125

    The book's vectors: half the sum of squares is the book's
    ``sum_squared_error``.

    >>> t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    >>> y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    >>> print(f"{fastloss.mean_squared_error(y, t):.4f}")
    0.0195
    >>> print(f"{fastloss.mean_squared_error(y, t, reduction='sum') / 2:.4f}")
    0.0975
    """
    return _run(FAM_MSE, pred, target, reduction, None, None, None, None,
                sample_weight, axis, n_threads, False, None, "pred")


def cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                           ignore_index=None, label_smoothing=0.0, sample_weight=None,
                           axis=-1, n_threads=None, out=None):
    r"""Cross-entropy of probabilities and its gradient, in one pass.

    Parameters
    ----------
    probs : array_like, shape (N, C), (C,) or with the classes on `axis`
        Probabilities, as in :func:`fastloss.cross_entropy`.
    target : array_like or int
        Class indices or a dense target, as in :func:`fastloss.cross_entropy`.
    reduction : {"mean", "sum", "none"}, default "mean"
        The reduction of the loss; the gradient is that of the reduced loss.
    eps : float, default 1e-7
        Added to every probability before its log and in the gradient's
        denominator.
    weight : array_like of shape (C,), optional
        Class weights.
    ignore_index : int, optional
        The label of rows to leave out (class indices only).
    label_smoothing : float, default 0.0
        In ``[0, 1]``.
    sample_weight : array_like, optional
        Per-position weights, of the positions' shape.
    axis : int, default -1
        The class axis of `probs`.
    n_threads : int, optional
        The number of threads, ``>= 1``; the result does not depend on it.
    out : numpy.ndarray, optional
        Receives the gradient: an ndarray of `probs`'s shape, of the
        gradient dtype in native byte order, writable, of any layout. None
        allocates a new C-ordered array.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        Bit for bit what :func:`fastloss.cross_entropy` returns for the
        same arguments.
    grad : numpy.ndarray
        The derivative of the reduced loss with respect to `probs` (for
        ``"none"``, row ``i`` holds that of ``s_i l_i``), of `probs`'s shape
        and of the gradient dtype: float16, bfloat16 or float32 for those
        inputs, float64 for every other. `out` itself if given.

    Raises
    ------
    TypeError
        As :func:`fastloss.cross_entropy`; also `out` not an ndarray, or of
        another dtype or byte order than the gradient's.
    ValueError
        As :func:`fastloss.cross_entropy`; also `out` of another shape, or
        read-only.
    numpy.exceptions.AxisError
        `axis` out of range.
    IndexError
        A label outside ``[0, C)`` that is not `ignore_index`. Any error
        leaves `out` untouched.

    See Also
    --------
    fastloss.cross_entropy : The loss alone, and the meaning of each argument.
    fastloss.softmax_cross_entropy_and_grad : From logits.
    fastloss.reference.cross_entropy_and_grad : Plain NumPy.

    Notes
    -----
    With ``D`` the divisor of ``"mean"`` (1 for ``"sum"`` and ``"none"``),

    .. math::

        \frac{\partial L}{\partial p_{ic}} =
        -\frac{s_i \, w_c \, q'_{ic}}{(p_{ic} + \epsilon)\, D},

    exactly 0 where ``w_c q'_ic = 0``, in ignored rows and in rows with
    ``s_i = 0``. Where ``D`` is 0 (every counted row's class weight 0) the
    entries of the counted rows follow IEEE arithmetic (NaN or inf), as in
    PyTorch.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> probs = np.array([[0.7, 0.2, 0.1],
    ...                   [0.1, 0.8, 0.1],
    ...                   [0.3, 0.3, 0.4]])
    >>> labels = np.array([0, 1, 2])
    >>> loss, grad = fastloss.cross_entropy_and_grad(probs, labels)
    >>> print(f"{loss:.6f}")
    0.498703
    >>> print(grad.round(4))
    [[-0.4762  0.      0.    ]
     [ 0.     -0.4167  0.    ]
     [ 0.      0.     -0.8333]]

    Half-precision probabilities get a float32 loss and a float16
    gradient; `out` is filled in place:

    >>> out = np.empty((3, 3), dtype=np.float16)
    >>> loss, grad = fastloss.cross_entropy_and_grad(probs.astype(np.float16), labels, out=out)
    >>> print(loss.dtype, grad.dtype, grad is out)
    float32 float16 True
    """
    return _run(FAM_CE, probs, target, reduction, eps, weight, ignore_index,
                label_smoothing, sample_weight, axis, n_threads, True, out, "probs")


def softmax_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                   ignore_index=None, label_smoothing=0.0,
                                   sample_weight=None, axis=-1, n_threads=None, out=None):
    r"""Softmax cross-entropy and its gradient with respect to the logits.

    Parameters
    ----------
    logits : array_like, shape (N, C), (C,) or with the classes on `axis`
        Logits, as in :func:`fastloss.softmax_cross_entropy`.
    target : array_like or int
        Class indices or a dense target, as in
        :func:`fastloss.cross_entropy`.
    reduction : {"mean", "sum", "none"}, default "mean"
        The reduction of the loss; the gradient is that of the reduced loss.
    weight : array_like of shape (C,), optional
        Class weights.
    ignore_index : int, optional
        The label of rows to leave out (class indices only).
    label_smoothing : float, default 0.0
        In ``[0, 1]``.
    sample_weight : array_like, optional
        Per-position weights, of the positions' shape.
    axis : int, default -1
        The class axis of `logits`.
    n_threads : int, optional
        The number of threads, ``>= 1``; the result does not depend on it.
    out : numpy.ndarray, optional
        Receives the gradient: an ndarray of `logits`'s shape and of the
        gradient dtype (native byte order), writable, of any layout.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        Bit for bit what :func:`fastloss.softmax_cross_entropy` returns.
    grad : numpy.ndarray
        The derivative of the reduced loss with respect to `logits`, of its
        shape and of the gradient dtype (float16, bfloat16 or float32 for
        those inputs, float64 otherwise); `out` itself if given.

    Raises
    ------
    TypeError
        As :func:`fastloss.softmax_cross_entropy`; also `out` not an
        ndarray, or of another dtype or byte order than the gradient's.
    ValueError
        As :func:`fastloss.softmax_cross_entropy`; also `out` of another
        shape, or read-only.
    numpy.exceptions.AxisError
        `axis` out of range.
    IndexError
        A label outside ``[0, C)`` that is not `ignore_index`; `out` is
        left untouched.

    See Also
    --------
    fastloss.softmax_cross_entropy : The loss alone, and each argument.
    fastloss.book.SoftmaxWithLoss : The book's layer, forward and backward.
    fastloss.reference.softmax_cross_entropy_and_grad : Plain NumPy.

    Notes
    -----
    With :math:`P = \mathrm{softmax}(x)` over the class axis and ``D`` the
    divisor of ``"mean"`` (1 otherwise),

    .. math::

        \frac{\partial L}{\partial x_{ic}} =
        \frac{s_i}{D} \Big( P_{ic} \sum_k w_k q'_{ik} - w_c q'_{ic} \Big),

    which is :math:`s_i (P_{ic} - q'_{ic}) / D` for class indices or one-hot
    targets without `weight`. Ignored rows and rows with ``s_i = 0`` are
    exactly 0.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> logits = np.array([[2.0, 1.0, 0.1],
    ...                    [0.5, 2.5, 0.3]])
    >>> loss, grad = fastloss.softmax_cross_entropy_and_grad(logits, [0, 1])
    >>> print(f"{loss:.6f}")
    0.318540
    >>> print(grad.round(4))
    [[-0.1705  0.1212  0.0493]
     [ 0.0543 -0.0988  0.0445]]

    Each row of the gradient is ``(softmax(x) - onehot(t)) / N``:

    >>> p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    >>> bool(np.allclose(grad, (p - np.eye(3)[[0, 1]]) / 2))
    True
    """
    return _run(FAM_SCE, logits, target, reduction, None, weight, ignore_index,
                label_smoothing, sample_weight, axis, n_threads, True, out, "logits")


def mean_squared_error_and_grad(pred, target, *, reduction="mean", sample_weight=None,
                                axis=-1, n_threads=None, out=None):
    r"""Squared error and its gradient with respect to the predictions.

    Parameters
    ----------
    pred : array_like, shape (N, C), (C,) or with the classes on `axis`
        Predictions, as in :func:`fastloss.mean_squared_error`.
    target : array_like
        A real array-like of exactly `pred`'s shape.
    reduction : {"mean", "sum", "none"}, default "mean"
        The reduction of the loss; the gradient is that of the reduced loss.
    sample_weight : array_like, optional
        Per-position weights, of the positions' shape.
    axis : int, default -1
        The axis that ``"none"`` averages over.
    n_threads : int, optional
        The number of threads, ``>= 1``; the result does not depend on it.
    out : numpy.ndarray, optional
        Receives the gradient: an ndarray of `pred`'s shape and of the
        gradient dtype (native byte order), writable, of any layout.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        Bit for bit what :func:`fastloss.mean_squared_error` returns.
    grad : numpy.ndarray
        The derivative of the reduced loss with respect to `pred`, of its
        shape and of the gradient dtype (float16, bfloat16 or float32 for
        those inputs, float64 otherwise); `out` itself if given.

    Raises
    ------
    TypeError
        As :func:`fastloss.mean_squared_error`; also `out` not an ndarray,
        or of another dtype or byte order than the gradient's.
    ValueError
        As :func:`fastloss.mean_squared_error`; also `out` of another shape,
        or read-only.
    numpy.exceptions.AxisError
        `axis` out of range.

    See Also
    --------
    fastloss.mean_squared_error : The loss alone.
    fastloss.reference.mean_squared_error_and_grad : Plain NumPy.

    Notes
    -----
    .. math::

        \frac{\partial L}{\partial p_{ic}} = \frac{2 s_i (p_{ic} - t_{ic})}{K},

    with :math:`K = C \sum_i s_i` for ``"mean"`` (``N C`` without sample
    weights), 1 for ``"sum"`` and ``C`` for ``"none"``. Rows with
    ``s_i = 0`` are exactly 0.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> pred = np.array([[0.5, 1.0], [2.0, 0.0]])
    >>> target = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> loss, grad = fastloss.mean_squared_error_and_grad(pred, target)
    >>> float(loss)
    0.5625
    >>> grad
    array([[ 0.25,  0. ],
           [ 0.5 , -0.5 ]])
    >>> loss, grad = fastloss.mean_squared_error_and_grad(pred.astype(np.float32), target)
    >>> print(loss.dtype, grad.dtype)
    float32 float32
    """
    return _run(FAM_MSE, pred, target, reduction, None, None, None, None,
                sample_weight, axis, n_threads, True, out, "pred")


def binary_cross_entropy(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                         pos_weight=None, label_smoothing=0.0, sample_weight=None,
                         n_threads=None):
    r"""Binary cross-entropy of probabilities, element by element.

    Every element of `probs` is a binary prediction of its own (a
    multi-label output, a binary classifier's ``(N,)`` or ``(N, 1)``
    scores, a mask): there is no class axis.

    Parameters
    ----------
    probs : array_like, any shape
        Probabilities of the positive class, of any real dtype (float16 and
        bfloat16 computed in float32, integers and bool in float64) and any
        layout; 0-d and empty arrays included. The first axis holds the
        ``N`` samples, each of ``M = prod(probs.shape[1:])`` elements. Values
        are not checked to lie in ``[0, 1]``.
    target : array_like
        Any real array-like (float, integer or bool) of exactly `probs`'s
        shape, rounded to the computation dtype; soft targets are allowed
        and not checked to lie in ``[0, 1]``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the (sample-weighted) mean over all elements; ``"sum"``:
        the sum; ``"none"``: one loss per element, in `probs`'s shape.
    eps : float, default 1e-7
        Added inside both logs, a real number ``>= 0``; ``eps=0`` is the
        exact log.
    weight : array_like, optional
        Element weights ``w_e`` that broadcast to `probs`'s shape (a scalar,
        one per column, ``(C, 1, 1)`` per channel, or the full shape).
    pos_weight : array_like, optional
        Weights of the positive term ``pw_e``, broadcast like `weight`:
        above 1 they raise recall, below 1 precision.
    label_smoothing : float, default 0.0
        ``s`` in ``[0, 1]``: every target is pulled towards 1/2,
        ``t' = t (1 - s) + s / 2``.
    sample_weight : array_like of shape (N,), optional
        One weight per sample (0-d for a 0-d `probs`), applied to every
        element of the sample and entering the divisor of ``"mean"``.
    n_threads : int, optional
        The number of threads, ``>= 1``; the result does not depend on it.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        A NumPy scalar of the computation dtype (float32 for float32,
        float16 and bfloat16 `probs`, float64 otherwise) for ``"mean"`` and
        ``"sum"``; for ``"none"``, a new array of that dtype and of
        `probs`'s shape.

    Raises
    ------
    TypeError
        `probs`, `target`, `weight`, `pos_weight` or `sample_weight` of a
        non-real dtype (complex, object, str, float8, ...); `eps` or
        `label_smoothing` not a real number.
    ValueError
        `eps` negative or NaN; an unknown `reduction`; `n_threads` not None
        or an int ``>= 1``; `label_smoothing` outside ``[0, 1]``; `target`
        not of `probs`'s shape; `weight` or `pos_weight` that does not
        broadcast to it; `sample_weight` not of shape ``(N,)``.

    See Also
    --------
    fastloss.binary_cross_entropy_and_grad : The loss and its gradient.
    fastloss.sigmoid_binary_cross_entropy : The same loss from logits.
    fastloss.reference.binary_cross_entropy : Plain NumPy.

    Notes
    -----
    With :math:`t'_e = t_e (1 - s) + s/2`, :math:`a_e = pw_e t'_e` and
    :math:`b_e = 1 - t'_e`,

    .. math::

        l_e = -w_e \big( a_e \log(p_e + \epsilon)
                         + b_e \log((1 - p_e) + \epsilon) \big),

    and ``"mean"`` is :math:`\sum_e s_{i(e)} l_e / D` with
    :math:`D = M \sum_i s_i` (``probs.size`` without sample weights).
    `weight` and `pos_weight` never change ``D``, as in PyTorch. A term
    whose coefficient (``w_e a_e`` or ``w_e b_e``) has a zero factor is
    exactly 0, even where its log is ``-inf``. ``binary_cross_entropy(p, t,
    eps=0)`` is PyTorch's ``F.binary_cross_entropy(p, t)`` except where
    PyTorch clamps a log at -100; unlike it, `pos_weight` applies to
    probabilities too. An empty `probs` gives ``nan`` for ``"mean"``.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> p = np.array([0.9, 0.2, 0.6])
    >>> t = np.array([1.0, 0.0, 1.0])
    >>> print(f"{fastloss.binary_cross_entropy(p, t):.6f}")
    0.279776
    >>> print(fastloss.binary_cross_entropy(p, t, reduction="none").round(6))
    [0.10536  0.223143 0.510825]
    >>> print(f"{fastloss.binary_cross_entropy(p, t, pos_weight=2.0):.6f}")
    0.485172

    A ``(N, M)`` multi-label batch, with one weight per sample:

    >>> p2 = np.array([[0.9, 0.2], [0.6, 0.5]], dtype=np.float32)
    >>> t2 = np.array([[1, 0], [1, 1]])
    >>> loss = fastloss.binary_cross_entropy(p2, t2, sample_weight=[1.0, 0.0])
    >>> print(loss.dtype, f"{loss:.6f}")
    float32 0.164252
    """
    return _run_binary(FAM_BCE, probs, target, reduction, eps, weight, pos_weight,
                       label_smoothing, sample_weight, n_threads, False, None, "probs")


def binary_cross_entropy_and_grad(probs, target, *, reduction="mean", eps=1e-7, weight=None,
                                  pos_weight=None, label_smoothing=0.0, sample_weight=None,
                                  n_threads=None, out=None):
    r"""Binary cross-entropy of probabilities and its gradient, in one pass.

    Parameters
    ----------
    probs : array_like, any shape
        Probabilities, as in :func:`fastloss.binary_cross_entropy`.
    target : array_like
        Of exactly `probs`'s shape.
    reduction : {"mean", "sum", "none"}, default "mean"
        The reduction of the loss; the gradient is that of the reduced loss.
    eps : float, default 1e-7
        Added inside both logs and both denominators of the gradient.
    weight, pos_weight : array_like, optional
        Broadcast to `probs`'s shape.
    label_smoothing : float, default 0.0
        In ``[0, 1]``.
    sample_weight : array_like of shape (N,), optional
        One weight per sample.
    n_threads : int, optional
        The number of threads, ``>= 1``; the result does not depend on it.
    out : numpy.ndarray, optional
        Receives the gradient: an ndarray of `probs`'s shape and of the
        gradient dtype (native byte order), writable, of any layout.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        Bit for bit what :func:`fastloss.binary_cross_entropy` returns.
    grad : numpy.ndarray
        The derivative of the reduced loss with respect to `probs`, of its
        shape and of the gradient dtype (float16, bfloat16 or float32 for
        those inputs, float64 otherwise); `out` itself if given.

    Raises
    ------
    TypeError
        As :func:`fastloss.binary_cross_entropy`; also `out` not an
        ndarray (``out must be a numpy.ndarray, got list``), or of another
        dtype than the gradient's.
    ValueError
        As :func:`fastloss.binary_cross_entropy`; also `out` of another
        shape, or read-only.

    See Also
    --------
    fastloss.binary_cross_entropy : The loss alone, and each argument.
    fastloss.sigmoid_binary_cross_entropy_and_grad : From logits.
    fastloss.reference.binary_cross_entropy_and_grad : Plain NumPy.

    Notes
    -----
    With ``D`` the divisor of ``"mean"`` (1 otherwise) and ``a_e``, ``b_e``
    as in :func:`fastloss.binary_cross_entropy`,

    .. math::

        \frac{\partial L}{\partial p_e} = -\frac{s_i w_e}{D}
        \Big( \frac{a_e}{p_e + \epsilon} - \frac{b_e}{(1 - p_e) + \epsilon} \Big),

    where a zero coefficient and a zero sample weight give exactly 0.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> p = np.array([0.9, 0.2, 0.6])
    >>> t = np.array([1.0, 0.0, 1.0])
    >>> loss, grad = fastloss.binary_cross_entropy_and_grad(p, t)
    >>> print(f"{loss:.6f}")
    0.279776
    >>> print(grad.round(6))
    [-0.37037   0.416667 -0.555555]
    >>> loss, grad = fastloss.binary_cross_entropy_and_grad(p.astype(np.float16), t)
    >>> print(loss.dtype, grad.dtype)
    float32 float16
    """
    return _run_binary(FAM_BCE, probs, target, reduction, eps, weight, pos_weight,
                       label_smoothing, sample_weight, n_threads, True, out, "probs")


def sigmoid_binary_cross_entropy(logits, target, *, reduction="mean", weight=None,
                                 pos_weight=None, label_smoothing=0.0, sample_weight=None,
                                 n_threads=None):
    r"""Binary cross-entropy of ``sigmoid(logits)``, computed stably from the logits.

    Element by element, as PyTorch's ``binary_cross_entropy_with_logits``.

    Parameters
    ----------
    logits : array_like, any shape
        Logits of the positive class, of any real dtype and layout, 0-d and
        empty included; the first axis holds the samples.
    target : array_like
        Any real array-like of exactly `logits`'s shape (soft targets
        allowed).
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"mean"``: the (sample-weighted) mean over all elements; ``"sum"``:
        the sum; ``"none"``: one loss per element, in `logits`'s shape.
    weight : array_like, optional
        Element weights that broadcast to `logits`'s shape.
    pos_weight : array_like, optional
        Weights of the positive term, broadcast like `weight`.
    label_smoothing : float, default 0.0
        ``s`` in ``[0, 1]``: ``t' = t (1 - s) + s / 2`` (Keras's rule).
    sample_weight : array_like of shape (N,), optional
        One weight per sample of the first axis.
    n_threads : int, optional
        The number of threads, ``>= 1``; the result does not depend on it.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        A NumPy scalar of the computation dtype (float32 for float32,
        float16 and bfloat16 `logits`, float64 otherwise) for ``"mean"``
        and ``"sum"``; for ``"none"``, a new array of that dtype and of
        `logits`'s shape.

    Raises
    ------
    TypeError
        `logits`, `target`, `weight`, `pos_weight` or `sample_weight` of a
        non-real dtype; `label_smoothing` not a real number.
    ValueError
        An unknown `reduction`; `n_threads` not None or an int ``>= 1``;
        `label_smoothing` outside ``[0, 1]``; `target` not of `logits`'s
        shape; `weight` or `pos_weight` that does not broadcast to it;
        `sample_weight` not of shape ``(N,)``.

    See Also
    --------
    fastloss.sigmoid_binary_cross_entropy_and_grad : The loss and its gradient.
    fastloss.binary_cross_entropy : The same loss on probabilities.
    fastloss.reference.sigmoid_binary_cross_entropy : Plain NumPy.

    Notes
    -----
    With :math:`\mathrm{softplus}(z) = \max(z, 0) + \log(1 + e^{-|z|})`,
    which never overflows,

    .. math::

        l_e = w_e \big( pw_e \, t'_e \, \mathrm{softplus}(-x_e)
                        + (1 - t'_e) \, \mathrm{softplus}(x_e) \big)
            = -w_e \big( pw_e \, t'_e \log \sigma(x_e)
                         + (1 - t'_e) \log \sigma(-x_e) \big),

    reduced as in :func:`fastloss.binary_cross_entropy`. The loss is finite
    for every finite logit and never warns: a confident right prediction
    keeps its small loss, a confident wrong one costs about ``|x|``. An
    infinite logit on its target's side gives 0 (PyTorch gives NaN).

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> x = np.array([2.0, -1.0, 0.5])
    >>> t = np.array([1.0, 0.0, 1.0])
    >>> print(f"{fastloss.sigmoid_binary_cross_entropy(x, t):.6f}")
    0.304756
    >>> print(fastloss.sigmoid_binary_cross_entropy(x, t, reduction="none").round(6))
    [0.126928 0.313262 0.474077]

    Confidently wrong float32 logits cost ``|x|``, without overflow:

    >>> big = np.array([1e4, -1e4], dtype=np.float32)
    >>> fastloss.sigmoid_binary_cross_entropy(big, [0.0, 1.0], reduction="none")
    array([10000., 10000.], dtype=float32)
    """
    return _run_binary(FAM_SBCE, logits, target, reduction, None, weight, pos_weight,
                       label_smoothing, sample_weight, n_threads, False, None, "logits")


def sigmoid_binary_cross_entropy_and_grad(logits, target, *, reduction="mean", weight=None,
                                          pos_weight=None, label_smoothing=0.0,
                                          sample_weight=None, n_threads=None, out=None):
    r"""Sigmoid binary cross-entropy and its gradient with respect to the logits.

    Parameters
    ----------
    logits : array_like, any shape
        Logits, as in :func:`fastloss.sigmoid_binary_cross_entropy`.
    target : array_like
        Of exactly `logits`'s shape.
    reduction : {"mean", "sum", "none"}, default "mean"
        The reduction of the loss; the gradient is that of the reduced loss.
    weight, pos_weight : array_like, optional
        Broadcast to `logits`'s shape.
    label_smoothing : float, default 0.0
        In ``[0, 1]``.
    sample_weight : array_like of shape (N,), optional
        One weight per sample.
    n_threads : int, optional
        The number of threads, ``>= 1``; the result does not depend on it.
    out : numpy.ndarray, optional
        Receives the gradient: an ndarray of `logits`'s shape and of the
        gradient dtype (native byte order), writable, of any layout.

    Returns
    -------
    loss : numpy.float32, numpy.float64 or numpy.ndarray
        Bit for bit what :func:`fastloss.sigmoid_binary_cross_entropy`
        returns.
    grad : numpy.ndarray
        The derivative of the reduced loss with respect to `logits`, of its
        shape and of the gradient dtype (float16, bfloat16 or float32 for
        those inputs, float64 otherwise); `out` itself if given.

    Raises
    ------
    TypeError
        As :func:`fastloss.sigmoid_binary_cross_entropy`; also `out` not an
        ndarray, or of another dtype than the gradient's.
    ValueError
        As :func:`fastloss.sigmoid_binary_cross_entropy`; also `out` of
        another shape, or read-only.

    See Also
    --------
    fastloss.sigmoid_binary_cross_entropy : The loss alone, and each argument.
    fastloss.reference.sigmoid_binary_cross_entropy_and_grad : Plain NumPy.

    Notes
    -----
    With ``D`` the divisor of ``"mean"`` (1 otherwise),

    .. math::

        \frac{\partial L}{\partial x_e} = \frac{s_i w_e}{D}
        \big( (1 - t'_e) \, \sigma(x_e) - pw_e \, t'_e \, \sigma(-x_e) \big),

    which is PyTorch's ``s w ((1 + (pw - 1) t') sigmoid(x) - pw t') / D``,
    and :math:`(\sigma(x_e) - t_e) / D` without weights and smoothing.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> x = np.array([2.0, -1.0, 0.5])
    >>> t = np.array([1.0, 0.0, 1.0])
    >>> loss, grad = fastloss.sigmoid_binary_cross_entropy_and_grad(x, t)
    >>> print(f"{loss:.6f}")
    0.304756
    >>> print(grad.round(6))
    [-0.039734  0.089647 -0.125847]
    >>> sigmoid = 1 / (1 + np.exp(-x))
    >>> bool(np.allclose(grad, (sigmoid - t) / 3))
    True
    """
    return _run_binary(FAM_SBCE, logits, target, reduction, None, weight, pos_weight,
                       label_smoothing, sample_weight, n_threads, True, out, "logits")


# rows per block (BLOCK), for fastloss.BLOCK_ROWS
_BLOCK = BLOCK

# The losses, one row each: the loss, its *_and_grad twin, its kernel
# family, whether its rows are pred's elements (the binary losses), and the
# name of its prediction argument.  fastloss.partial_sums and fastloss.dask
# read their own tables off this one.
_LOSSES = (
    (cross_entropy, cross_entropy_and_grad, FAM_CE, False, "probs"),
    (softmax_cross_entropy, softmax_cross_entropy_and_grad, FAM_SCE, False, "logits"),
    (mean_squared_error, mean_squared_error_and_grad, FAM_MSE, False, "pred"),
    (binary_cross_entropy, binary_cross_entropy_and_grad, FAM_BCE, True, "probs"),
    (sigmoid_binary_cross_entropy, sigmoid_binary_cross_entropy_and_grad, FAM_SBCE, True,
     "logits"),
)

# the functions whose block results _partial_run keeps: (family, gradient,
# element-wise)
_PARTIAL_FUNCTIONS = {
    fn: (family, fn is grad_fn, binary)
    for loss_fn, grad_fn, family, binary, _ in _LOSSES
    for fn in (loss_fn, grad_fn)
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
