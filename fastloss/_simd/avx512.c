/* The AVX-512 (F/DQ/VL) variants, for the kernels where they pay: exp, log,
 * division, the float64 softmax row shift, the column sums and scaled
 * columns of a channels-first softmax, the one-hot gather and columns,
 * the binary product and the count of ones, the int64 label pass, and the
 * plain C of fl_weigh and fl_tail_logs compiled for AVX-512.  The other
 * kernels keep their AVX2 variant on an AVX-512 CPU (dispatch.c). */
#include "variants.h"

#if FL_DISPATCH
#include <immintrin.h>

#define FL_ISA FL_ISA_AVX512
#define FL_ISA_SUFFIX _avx512
#define FL_TARGET __attribute__((target(FL_AVX512_TARGET)))
#define FL_TARGET_FMA __attribute__((target(FL_AVX512_TARGET)))

#include "math.inc.h"
#include "rows.inc.h"
#include "cols.inc.h"
#include "gather.inc.h"
#include "labels.inc.h"
#include "binprod.inc.h"
#include "half.inc.h"
#endif
