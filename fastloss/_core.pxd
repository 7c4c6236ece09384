from libc.stdint cimport (int8_t, int16_t, int32_t, int64_t,
                          uint8_t, uint16_t, uint32_t, uint64_t)

cdef enum:
    BLOCK = 256                 # rows per block: fixes the summation order
    BIG_BYTES = 1 << 20         # a pred this big is read from memory (_big)
    PREFETCH_ROWS = 64          # ... and gathers prefetch this many rows ahead

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

cdef enum:
    CAP = 2048                  # doubles per scratch buffer (on the stack)

ctypedef struct Job:
    int family
    Py_ssize_t n, c
    # pred: float32 if p_f32 else float64; strides in elements
    const void* p
    Py_ssize_t p_rs, p_cs
    bint p_f32
    # dense target (float32 if t_f32 else float64)
    bint dense
    const void* t
    Py_ssize_t t_rs, t_cs
    bint t_f32
    # class-index labels: kind 'i' or 'u', size in bytes, stride in elements
    const void* lab
    Py_ssize_t lab_stride
    bint lab_unsigned
    int lab_size
    bint has_ignore
    int64_t ign_s
    uint64_t ign_u
    # options
    const double* w             # class weights, NULL when unweighted
    double eps
    double s                    # label smoothing
    # outputs: per-row losses ("none"), gradient
    void* row_out
    Py_ssize_t row_stride
    void* g
    Py_ssize_t g_rs, g_cs
    double g_scale              # 1 / D
    bint mse_row_mean           # "none" squared error: mean over the row

ctypedef struct BlockResult:
    double loss
    double div
    Py_ssize_t bad              # first row with an out-of-range label, or -1

ctypedef fused label_t:
    int8_t
    int16_t
    int32_t
    int64_t
    uint8_t
    uint16_t
    uint32_t
    uint64_t

ctypedef fused pfloat:
    float
    double

ctypedef fused tfloat:
    float
    double
