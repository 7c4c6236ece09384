# The family table: which block kernel runs a block, by family and options
# (_block_typed), and the pred/target dtype dispatch (_block).  A new loss
# adds its line here.

cdef void _block_typed(const Job* J, Py_ssize_t b, BlockResult* res,
                       const pfloat* p, const tfloat* t) noexcept nogil:
    cdef int64_t lab[BLOCK]
    cdef Py_ssize_t r0 = b * BLOCK
    cdef Py_ssize_t r1 = r0 + BLOCK
    cdef Py_ssize_t bad
    cdef int fam = J.family
    if r1 > J.n_rows:
        r1 = J.n_rows
    res.bad = -1
    res.loss = 0.0
    res.div = 0.0
    if (fam == FAM_CE and J.labels != NULL and not J.dense_target and not J.label_rows
            and J.class_weight == NULL and J.smoothing == 0.0
            and not J.has_ignore_index and J.grad == NULL and J.row_loss == NULL
            and J.sample_weight == NULL):
        _ce_gather_plain_block(J, r0, r1, p, res)
        return
    if J.labels != NULL and not J.dense_target:
        bad = _read_labels(J, r0, r1, p, lab, NULL)
        if bad >= 0:
            res.bad = bad
            return
    if fam == FAM_CE:
        if not J.dense_target and J.class_weight == NULL and J.smoothing == 0.0:
            _ce_gather_block(J, r0, r1, lab, p, res)
        elif (J.dense_target and J.class_weight == NULL and J.smoothing == 0.0
              and J.sample_weight == NULL and J.n_classes <= CAP):
            _ce_dense_block(J, r0, r1, p, t, res)
        else:
            _ce_general_block(J, r0, r1, lab, p, t, res)
    elif fam == FAM_SCE:
        if J.n_classes <= CAP:
            _sce_block(J, r0, r1, lab, p, t, res)
        else:
            _sce_long_block(J, r0, r1, lab, p, t, res)
    elif fam == FAM_MSE:
        _mse_block(J, r0, r1, p, t, res)
    elif fam == FAM_SOFTMAX:
        if J.n_classes <= CAP:
            _softmax_block(J, r0, r1, lab if J.labels != NULL else NULL, p, res)
        else:
            _softmax_long_block(J, r0, r1, lab if J.labels != NULL else NULL, p, res)
    else:
        _labels_block(J, r0, r1, lab, res)


cdef void _block(const Job* J, Py_ssize_t b, BlockResult* res) noexcept nogil:
    if J.pred_f32:
        if J.target_f32:
            _block_typed(J, b, res, <const float*>J.pred, <const float*>J.target)
        else:
            _block_typed(J, b, res, <const float*>J.pred, <const double*>J.target)
    else:
        if J.target_f32:
            _block_typed(J, b, res, <const double*>J.pred, <const float*>J.target)
        else:
            _block_typed(J, b, res, <const double*>J.pred, <const double*>J.target)
