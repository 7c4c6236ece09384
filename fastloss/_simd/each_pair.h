/* Includes the template FL_TEMPLATE once per pair of dtypes: predictions
 * FL_TP, targets FL_TT, FL_PT the pair's name suffix (dd, df, fd, ff),
 * FL_TPS and FL_TTS the suffix of each (d, f).  The way numpy's .src files
 * repeat a body per type, but the template is plain C written once: a
 * compiler error or a debugger step points at its lines. */
#define FL_TP double
#define FL_TT double
#define FL_PT dd
#define FL_TPS d
#define FL_TTS d
#include FL_TEMPLATE
#undef FL_TP
#undef FL_TT
#undef FL_PT
#undef FL_TPS
#undef FL_TTS

#define FL_TP double
#define FL_TT float
#define FL_PT df
#define FL_TPS d
#define FL_TTS f
#include FL_TEMPLATE
#undef FL_TP
#undef FL_TT
#undef FL_PT
#undef FL_TPS
#undef FL_TTS

#define FL_TP float
#define FL_TT double
#define FL_PT fd
#define FL_TPS f
#define FL_TTS d
#include FL_TEMPLATE
#undef FL_TP
#undef FL_TT
#undef FL_PT
#undef FL_TPS
#undef FL_TTS

#define FL_TP float
#define FL_TT float
#define FL_PT ff
#define FL_TPS f
#define FL_TTS f
#include FL_TEMPLATE
#undef FL_TP
#undef FL_TT
#undef FL_PT
#undef FL_TPS
#undef FL_TTS

#undef FL_TEMPLATE
