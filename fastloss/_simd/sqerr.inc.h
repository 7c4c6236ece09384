/* Squared error over contiguous p, t: fl_sq_lanes_<TP><TT> (sqerr.tpl.h),
 * once per pair of dtypes.  Included by baseline.c and avx2.c: the AVX-512
 * CPUs keep the AVX2 variant. */
#define FL_TEMPLATE "sqerr.tpl.h"
#include "each_pair.h"
