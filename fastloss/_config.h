/* Build facts the Cython code asks for at run time. */
#ifndef FASTLOSS_CONFIG_H
#define FASTLOSS_CONFIG_H

#ifdef _OPENMP
#include <omp.h>
static int fl_max_threads(void) { return omp_get_max_threads(); }
static const int fl_openmp_enabled = 1;
#else
static int fl_max_threads(void) { return 1; }
static const int fl_openmp_enabled = 0;
#endif

#endif
