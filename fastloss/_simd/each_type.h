/* Includes the template FL_TEMPLATE once per dtype: FL_T double or float,
 * FL_TS its name suffix d or f, FL_TBITS its width 64 or 32 (see
 * each_pair.h). */
#define FL_T double
#define FL_TS d
#define FL_TBITS 64
#include FL_TEMPLATE
#undef FL_T
#undef FL_TS
#undef FL_TBITS

#define FL_T float
#define FL_TS f
#define FL_TBITS 32
#include FL_TEMPLATE
#undef FL_T
#undef FL_TS
#undef FL_TBITS

#undef FL_TEMPLATE
