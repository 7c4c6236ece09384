/* The baseline variants of every kernel: plain C, compiled for the
 * platform's default instruction set (SSE2 on x86-64), and the only ones on
 * MSVC, on other architectures and with FASTLOSS_NO_SIMD_DISPATCH. */
#include "variants.h"

#define FL_ISA FL_ISA_BASELINE
#define FL_ISA_SUFFIX _base
#define FL_TARGET
#define FL_TARGET_FMA

#include "math.inc.h"
#include "sqerr.inc.h"
#include "rows.inc.h"
#include "cols.inc.h"
#include "gather.inc.h"
#include "labels.inc.h"
#include "binprod.inc.h"
#include "half.inc.h"
#include "binary.inc.h"
