/* The AVX2 variants: the kernels' bodies compiled with AVX2 (and FMA where
 * a kernel allows it; FL_TARGET leaves it out where the variants must give
 * the baseline's bits), plus the AVX2 intrinsics pieces the kernel files
 * hold in their FL_ISA_AVX2 sections. */
#include "variants.h"

#if FL_DISPATCH
#include <immintrin.h>

#define FL_ISA FL_ISA_AVX2
#define FL_ISA_SUFFIX _avx2
#define FL_TARGET __attribute__((target("avx2")))
#define FL_TARGET_FMA __attribute__((target("avx2,fma")))

#include "math.inc.h"
#include "sqerr.inc.h"
#include "rows.inc.h"
#include "cols.inc.h"
#include "gather.inc.h"
#include "labels.inc.h"
#include "binprod.inc.h"
#include "half.inc.h"
#include "binary.inc.h"
#endif
