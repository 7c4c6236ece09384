# The block engine: the order of every sum, and the threads.
#
# Inside a block, row sums go to four lanes by row index (_add4) and element
# sums to eight by element index: an order fixed by the shape alone.  Block
# results are added in block order with Neumaier's compensated sum, so the
# total errs by about one rounding however many blocks there are, and is the
# same on one thread or many (_run_blocks).

cdef inline void _add4(double* acc4, Py_ssize_t i, double x) noexcept nogil:
    """Row sums go to four lanes by row index: four short dependency chains
    instead of one long one, in an order fixed by the rows alone."""
    acc4[i & 3] += x


cdef inline void _add4_run(double* acc4, Py_ssize_t i0, const double* x,
                           Py_ssize_t n) noexcept nogil:
    """_add4(acc4, i0 + u, x[u]) for u < n, the same additions in the same
    order, with the four lanes held in registers: _add4 in a loop keeps
    them in memory, a store-to-load chain of about 2 cycles a row."""
    cdef Py_ssize_t u = 0
    cdef double a0, a1, a2, a3
    while u < n and ((i0 + u) & 3) != 0:
        acc4[(i0 + u) & 3] += x[u]
        u += 1
    a0 = acc4[0]
    a1 = acc4[1]
    a2 = acc4[2]
    a3 = acc4[3]
    while u + 4 <= n:
        a0 += x[u]
        a1 += x[u + 1]
        a2 += x[u + 2]
        a3 += x[u + 3]
        u += 4
    acc4[0] = a0
    acc4[1] = a1
    acc4[2] = a2
    acc4[3] = a3
    while u < n:
        acc4[(i0 + u) & 3] += x[u]
        u += 1


cdef inline void _add4_run2(double* acc4, const double* x, double* bcc4, const double* y,
                            Py_ssize_t i0, Py_ssize_t n) noexcept nogil:
    """_add4_run(acc4, i0, x, n) and _add4_run(bcc4, i0, y, n) in one loop:
    the same additions, and the two sets of chains wait on each other's
    latency no longer (a weighted loss's losses and divisor)."""
    cdef Py_ssize_t u = 0
    cdef double a0, a1, a2, a3, b0, b1, b2, b3
    while u < n and ((i0 + u) & 3) != 0:
        acc4[(i0 + u) & 3] += x[u]
        bcc4[(i0 + u) & 3] += y[u]
        u += 1
    a0 = acc4[0]
    a1 = acc4[1]
    a2 = acc4[2]
    a3 = acc4[3]
    b0 = bcc4[0]
    b1 = bcc4[1]
    b2 = bcc4[2]
    b3 = bcc4[3]
    while u + 4 <= n:
        a0 += x[u]
        a1 += x[u + 1]
        a2 += x[u + 2]
        a3 += x[u + 3]
        b0 += y[u]
        b1 += y[u + 1]
        b2 += y[u + 2]
        b3 += y[u + 3]
        u += 4
    acc4[0] = a0
    acc4[1] = a1
    acc4[2] = a2
    acc4[3] = a3
    bcc4[0] = b0
    bcc4[1] = b1
    bcc4[2] = b2
    bcc4[3] = b3
    while u < n:
        acc4[(i0 + u) & 3] += x[u]
        bcc4[(i0 + u) & 3] += y[u]
        u += 1


cdef inline double _total4(const double* acc4) noexcept nogil:
    return (acc4[0] + acc4[1]) + (acc4[2] + acc4[3])


ctypedef struct Neumaier:
    double sum
    double comp


cdef inline void _neumaier_add(Neumaier* acc, double x) noexcept nogil:
    """Compensated addition (Neumaier): the block sums of a large batch are
    added with an error of about one rounding, not one per block."""
    cdef double t = acc.sum + x
    if fabs(acc.sum) >= fabs(x):
        acc.comp += (acc.sum - t) + x
    else:
        acc.comp += (x - t) + acc.sum
    acc.sum = t


cdef inline double _neumaier_total(const Neumaier* acc) noexcept nogil:
    # an inf or nan sum makes the compensation nan: the sum alone is the answer
    if acc.sum - acc.sum != 0.0:
        return acc.sum
    return acc.sum + acc.comp


cdef int _run_blocks(const Job* J, int n_threads, BlockResult* total,
                     BlockResult* keep) except -1 nogil:
    """Run every block and add their results in block order (compensated).
    ``keep``, when not NULL, receives every block's result (the partial sums
    of fastloss.partial_sums): an array of one BlockResult per block."""
    cdef Py_ssize_t nblocks = (J.n_rows + BLOCK - 1) // BLOCK
    cdef Py_ssize_t b
    cdef BlockResult r
    cdef BlockResult* parts
    cdef Neumaier loss, div
    loss.sum = loss.comp = div.sum = div.comp = 0.0
    total.loss = 0.0
    total.div = 0.0
    total.bad = -1
    if n_threads > nblocks:
        n_threads = <int>nblocks
    if n_threads <= 1:
        for b in range(nblocks):
            _block(J, b, &r)
            if keep != NULL:
                keep[b] = r
            if r.bad == BAD_NO_MEMORY:
                with gil:
                    raise MemoryError("no memory for a block's scratch")
            if r.bad >= 0:
                total.bad = r.bad
                return 0
            _neumaier_add(&loss, r.loss)
            _neumaier_add(&div, r.div)
    else:
        parts = keep if keep != NULL else <BlockResult*>malloc(nblocks * sizeof(BlockResult))
        if parts == NULL:
            with gil:
                raise MemoryError()
        for b in prange(nblocks, num_threads=n_threads, schedule="static"):
            _block(J, b, &parts[b])
        for b in range(nblocks):
            if parts[b].bad == BAD_NO_MEMORY:
                if keep == NULL:
                    free(parts)
                with gil:
                    raise MemoryError("no memory for a block's scratch")
            if parts[b].bad >= 0:
                total.bad = parts[b].bad
                break
            _neumaier_add(&loss, parts[b].loss)
            _neumaier_add(&div, parts[b].div)
        if keep == NULL:
            free(parts)
        if total.bad >= 0:
            return 0
    total.loss = _neumaier_total(&loss)
    total.div = _neumaier_total(&div)
    return 0


# Below this many elements a call stays on one thread: starting a team costs
# more than the work.
cdef Py_ssize_t PARALLEL_MIN_ELEMENTS = 1 << 17


cdef inline int _pick_threads(const Job* J, int requested) noexcept:
    if requested > 0:
        return requested
    if J.n_rows * J.n_classes < PARALLEL_MIN_ELEMENTS:
        return 1
    return fl_max_threads()

# Below this many elements the kernel keeps the GIL: the call is shorter than
# releasing and re-acquiring it.
cdef Py_ssize_t NOGIL_MIN_ELEMENTS = 4096


cdef inline int _run_job(const Job* J, int n_threads, BlockResult* total,
                         BlockResult* keep=NULL) except -1:
    if J.n_rows * J.n_classes < NOGIL_MIN_ELEMENTS:
        return _run_blocks(J, n_threads, total, keep)
    with nogil:
        _run_blocks(J, n_threads, total, keep)
    return 0
