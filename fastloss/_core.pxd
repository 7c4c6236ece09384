# Types shared by the files of fastloss._core (this .pxd is cimported into
# _core.pyx and so seen by every included _kernels/*.pxi): the sizes that fix
# the summation order and the scratch buffers, the reductions and loss
# families, the job description, a block's result and the fused types.

from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t,
                          uint8_t, uint16_t, uint32_t, uint64_t)

cdef enum:
    BLOCK = 256                 # rows per block: fixes the summation order
    BIG_BYTES = 1 << 20         # a pred this big is read from memory (_big)
    PREFETCH_ROWS = 64          # ... and gathers prefetch this many rows ahead
    GATHER_RUN = 32             # ... and gather a block in runs of this many rows

cdef enum Reduction:
    RED_NONE = 0
    RED_SUM = 1
    RED_MEAN = 2

cdef enum Family:
    FAM_CE = 0                  # cross-entropy on probabilities
    FAM_SCE = 1                 # softmax cross-entropy on logits
    FAM_MSE = 2                 # squared error
    FAM_LABELS = 3              # label check and divisor only (first pass)
    FAM_SOFTMAX = 4             # the book's softmax (optionally with its loss)
    FAM_BCE = 5                 # binary cross-entropy on probabilities (element-wise)
    FAM_SBCE = 6                # binary cross-entropy on logits (sigmoid; element-wise)

cdef enum:
    CAP = 2048                  # doubles per scratch buffer (on the stack)

cdef enum:
    HALF_F16 = 1
    HALF_BF16 = 2
    HALF_MAX_C = 64             # half inputs: classes of a block's stack scratch (beyond: malloc)

cdef enum:
    ELEM_MAX_ND = 64            # NumPy's most axes

cdef enum ElemKind:             # the element types of an element-wise operand
    EK_F64 = 0
    EK_F32 = 1
    EK_F16 = 2
    EK_BF16 = 3

ctypedef struct Elementwise:
    # The operands of an element-wise loss (the binary cross-entropies), as
    # N-d strided arrays of pred's shape with their axes coalesced where
    # every operand allows (so a contiguous call is one axis).  Strides are
    # in elements, 0 along a broadcast axis.  Element f is pred's f-th
    # element in C order whatever the layout.
    int nd                          # >= 1
    Py_ssize_t shape[ELEM_MAX_ND]
    int pred_kind, target_kind      # ElemKind (target: EK_F64 or EK_F32)
    const void* pred
    Py_ssize_t pred_strides[ELEM_MAX_ND]
    const void* target
    Py_ssize_t target_strides[ELEM_MAX_ND]
    # weight and pos_weight: float64 (values of the computation dtype),
    # broadcast to pred's shape by their strides; NULL for none
    const double* weight
    Py_ssize_t weight_strides[ELEM_MAX_ND]
    const double* pos_weight
    Py_ssize_t pos_strides[ELEM_MAX_ND]
    # a weight or pos_weight given as a Python float: its value, which
    # weight / pos_weight then point at (with strides 0)
    double weight_value, pos_value
    # sample weights: float64, contiguous, s_i covers elements
    # [i * per_sample, (i + 1) * per_sample); NULL for none
    const double* sample_weight
    Py_ssize_t per_sample
    # outputs, NULL when not asked for: element losses ("none"; EK_F64 or
    # EK_F32) and the gradient (pred's kind)
    void* loss
    int loss_kind
    Py_ssize_t loss_strides[ELEM_MAX_ND]
    void* grad
    int grad_kind
    Py_ssize_t grad_strides[ELEM_MAX_ND]
    double grad_div                 # the gradient's divisor: D for "mean", else 1

ctypedef struct SlabIndex:
    # The slabs of rows in slabs whose slabs are not one stride apart (a
    # batch in any other layout: Fortran order, every other pixel row, ...):
    # slab s is the multi-index of s in ``shape`` (C order), and each
    # array's offset is that index times its strides (in elements).
    int nd
    Py_ssize_t shape[ELEM_MAX_ND]
    Py_ssize_t pred[ELEM_MAX_ND]
    Py_ssize_t target[ELEM_MAX_ND]
    Py_ssize_t grad[ELEM_MAX_ND]

ctypedef struct Job:
    # What one call computes, reduced to C: raw pointers, sizes and strides in
    # elements (0 along an axis of length <= 1), options.  Set up once per
    # call by the argument handling, then only read by the blocks.
    int family                      # a Family
    Py_ssize_t n_rows, n_classes    # a 1-D pred is one row
    # rows in slabs (a channels-first batch: a slab per image): n_inner rows
    # a slab, each array's slabs *_outer_stride apart; 0 when the rows are
    # one slab
    Py_ssize_t n_inner
    Py_ssize_t pred_outer_stride, target_outer_stride, grad_outer_stride
    # slabs in any layout (NULL: slab s at s * *_outer_stride): every block
    # is then copied into scratch rows (_block_across_slabs)
    const SlabIndex* slabs
    # pred (probabilities, logits or predictions): float32 if pred_f32 else
    # float64
    const void* pred
    Py_ssize_t pred_row_stride, pred_col_stride
    bint pred_f32
    # float16 or bfloat16 pred (HALF_F16, HALF_BF16; computed in float32,
    # pred_f32 set), and so its gradient: each block is converted into
    # float32 scratch (_block_half); 0 otherwise
    int half
    # a dense target of pred's shape (float32 if target_f32 else float64) ...
    bint dense_target
    const void* target
    Py_ssize_t target_row_stride, target_col_stride
    bint target_f32
    # ... or class-index labels: any integer dtype, read in place
    const void* labels
    Py_ssize_t label_stride
    bint label_unsigned
    int label_size                  # bytes per label
    # ... or labels taken from rows of pred's shape (fastloss.book's one-hot
    # targets): each row's label is its argmax, NumPy's (the first maximum;
    # the first NaN).  Any real dtype: label_float for float32/float64, else
    # an integer (bool as uint8) as above.  label_stride is then the rows'
    # stride and label_col_stride the columns'.
    bint label_rows
    bint label_float
    Py_ssize_t label_col_stride
    bint has_ignore_index
    int64_t ignore_signed           # ignore_index as signed labels compare it
    uint64_t ignore_unsigned        # and as unsigned labels do
    # options
    const double* class_weight      # NULL when unweighted
    # per-row (position) weights s_i, read in place (float32 if
    # sample_weight_f32 else float64) and rounded to the computation dtype
    # as they are read; NULL without any
    const void* sample_weight
    Py_ssize_t sample_weight_stride
    bint sample_weight_f32
    double eps
    double smoothing                # label smoothing
    # outputs: per-row losses (reduction "none") and the gradient, NULL when
    # not asked for; the gradient's dtype is pred's
    void* row_loss
    Py_ssize_t row_loss_stride
    void* grad
    Py_ssize_t grad_row_stride, grad_col_stride
    double grad_scale               # 1 / D, D the divisor of the reduction
    # the element-wise families' operands (FAM_BCE, FAM_SBCE), NULL otherwise
    const Elementwise* elem

ctypedef struct BlockResult:
    double loss
    double div
    Py_ssize_t bad              # first row with an out-of-range label, or -1
                                # (BAD_NO_MEMORY: the block's scratch could not be had)

cdef enum:
    BAD_NO_MEMORY = -2

ctypedef fused label_t:
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t
    uint16_t
    uint32_t
    uint64_t

# the element types of rows whose argmax is a label (label_rows)
ctypedef fused row_t:
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t
    uint16_t
    uint32_t
    uint64_t
    float
    double

ctypedef fused pfloat:
    float
    double

ctypedef fused tfloat:
    float
    double
