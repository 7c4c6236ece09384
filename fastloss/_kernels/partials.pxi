# Partial sums: a call's block results kept rather than added, and added
# later in block order.
#
# A reduction is the compensated sum, in block order, of one result per
# block of BLOCK rows (engine.pxi).  A block depends on its own rows alone,
# so a piece of the rows that starts on a block boundary computes exactly the
# whole call's blocks for those rows.  Keeping each block's loss and divisor
# (_run_kept) and adding them afterwards in block order (_combine) therefore
# gives the whole call's bits from pieces computed anywhere: the public
# fastloss.partial_sums / fastloss.combine_partial_sums (fastloss/_partials.py)
# and fastloss.dask are built on the two functions below.


@cython.auto_pickle(False)
cdef class _Request:
    """What a partial call asks of _run_rows / _run_binary, and what it
    gets back.  None for an ordinary call."""
    # asked
    cdef bint labels_only          # only the divisor pass: each block's share
                                   # of the "mean" divisor (labels checked)
    cdef bint has_divisor          # the divisor D of a "mean" gradient is
    cdef double divisor            # given (the whole array's), not computed
    # returned
    cdef public object loss        # each block's loss sum (float64), in order
    cdef public object div         # each block's divisor
    cdef public Py_ssize_t rows    # the call's rows (positions, or elements)
    cdef public object positions   # their shape
    cdef public Py_ssize_t bad     # the first row with a bad label, or -1 ...
    cdef public object bad_label   # ... and its label
    cdef public Py_ssize_t n_classes

    def __cinit__(self):
        self.bad = -1


cdef int _keep_parts(_Request req, const BlockResult* keep, Py_ssize_t nblocks) except -1:
    cdef cnp.ndarray L = np.empty(nblocks, np.float64)
    cdef cnp.ndarray V = np.empty(nblocks, np.float64)
    cdef double* l = <double*>cnp.PyArray_DATA(L)
    cdef double* v = <double*>cnp.PyArray_DATA(V)
    cdef Py_ssize_t b
    for b in range(nblocks):
        l[b] = keep[b].loss
        v[b] = keep[b].div
    req.loss = L
    req.div = V
    return 0


cdef int _run_kept(const Job* J, int n_threads, BlockResult* total, _Request req) except -1:
    """_run_job, with every block's result kept in ``req`` (unless a label
    is bad: then req.bad is its row, and the results are not kept)."""
    cdef Py_ssize_t nblocks = (J.n_rows + BLOCK - 1) // BLOCK
    cdef BlockResult* keep = <BlockResult*>malloc((nblocks + 1) * sizeof(BlockResult))
    if keep == NULL:
        raise MemoryError()
    req.rows = J.n_rows
    try:
        _run_job(J, n_threads, total, keep)
        req.bad = total.bad
        if total.bad < 0:
            _keep_parts(req, keep, nblocks)
    finally:
        free(keep)
    return 0


def _partial_run(function, tuple args, dict kwargs, bint labels_only=False, divisor=None):
    """Call ``function`` (a public loss or ``*_and_grad`` function of this
    module) on ``args`` and ``kwargs``, keeping its block results.

    ``labels_only``: only the divisor pass (labels checked, each block's
    share of the "mean" divisor; no loss).  ``divisor``: the divisor of a
    "mean" gradient, as the divisor pass of the whole array gives it (this
    call's rows being a piece of it).  Returns ``(result, request)``: the
    function's result (None after a divisor pass or a bad label) and the
    _Request with the block results, the rows, and a bad label's row and
    value, which this function never raises.
    """
    import inspect
    family, want_grad, binary = _PARTIAL_FUNCTIONS[function]
    bound = inspect.signature(function).bind(*args, **kwargs)
    bound.apply_defaults()
    a = bound.arguments
    name = next(iter(a))                     # probs, logits or pred
    cdef _Request req = _Request()
    req.labels_only = labels_only
    if divisor is not None:
        req.has_divisor = True
        req.divisor = divisor
    if binary:
        result = _run_binary(family, a[name], a["target"], a["reduction"], a.get("eps"),
                             a["weight"], a["pos_weight"], a["label_smoothing"],
                             a["sample_weight"], a["n_threads"], want_grad, a.get("out"),
                             name, req)
    else:
        result = _run(family, a[name], a["target"], a["reduction"], a.get("eps"),
                      a.get("weight"), a.get("ignore_index"), a.get("label_smoothing"),
                      a["sample_weight"], a["axis"], a["n_threads"], want_grad, a.get("out"),
                      name, req)
    return result, req


def _combine(loss, div, bint mean, bint f32):
    """The reduction of block results in block order: the compensated sums
    of ``loss`` and ``div`` (float64 arrays), and for "mean" their
    quotient, rounded as a whole call rounds it."""
    cdef cnp.ndarray L = np.ascontiguousarray(loss, np.float64)
    cdef cnp.ndarray V = np.ascontiguousarray(div, np.float64)
    cdef const double* l = <const double*>cnp.PyArray_DATA(L)
    cdef const double* v = <const double*>cnp.PyArray_DATA(V)
    cdef Py_ssize_t b, n = L.shape[0]
    cdef Neumaier acc_l, acc_v
    if V.shape[0] != n:
        raise ValueError(f"{n} loss sums but {V.shape[0]} divisors")
    acc_l.sum = acc_l.comp = acc_v.sum = acc_v.comp = 0.0
    for b in range(n):
        _neumaier_add(&acc_l, l[b])
        _neumaier_add(&acc_v, v[b])
    if mean:
        return _scalar(_neumaier_total(&acc_l) / _neumaier_total(&acc_v), f32)
    return _scalar(_neumaier_total(&acc_l), f32)


def _divisor_total(div):
    """The compensated sum of divisor shares in block order: the divisor
    that _partial_run's ``divisor`` takes."""
    cdef cnp.ndarray V = np.ascontiguousarray(div, np.float64)
    cdef const double* v = <const double*>cnp.PyArray_DATA(V)
    cdef Py_ssize_t b
    cdef Neumaier acc
    acc.sum = acc.comp = 0.0
    for b in range(V.shape[0]):
        _neumaier_add(&acc, v[b])
    return _neumaier_total(&acc)


def _label_error(value, Py_ssize_t row, Py_ssize_t n_classes, positions):
    """The IndexError of a bad label, worded as every call words it."""
    return _bad_label_error(value, row, n_classes, positions)
