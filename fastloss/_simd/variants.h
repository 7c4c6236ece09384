/* Every variant of every kernel, for dispatch.c to take their addresses and
 * for the instruction-set files to be checked against (each defines the
 * variants with its suffix: _base in baseline.c, _avx2 in avx2.c, _avx512
 * in avx512.c).  Without FL_DISPATCH only the _base ones exist.
 *
 * FL_NAME(fl_vlog) is the variant of fl_vlog that the file being compiled
 * defines (fl_vlog_base, fl_vlog_avx2 or fl_vlog_avx512). */
#ifndef FASTLOSS_SIMD_VARIANTS_H
#define FASTLOSS_SIMD_VARIANTS_H

#include "common.h"

#define FL_CAT_(a, b) a##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define FL_NAME(kernel) FL_CAT(kernel, FL_ISA_SUFFIX)

/* the instruction sets, as FL_ISA of the file being compiled */
#define FL_ISA_BASELINE 0
#define FL_ISA_AVX2 1
#define FL_ISA_AVX512 2

/* AVX-512 F/DQ/VL (with AVX2 and FMA).  GCC keeps auto-vectorised loops at
 * 256 bits unless asked. */
#if defined(__clang__)
#define FL_AVX512_TARGET "avx512f,avx512dq,avx512vl,avx2,fma"
#else
#define FL_AVX512_TARGET "avx512f,avx512dq,avx512vl,avx2,fma,prefer-vector-width=512"
#endif

/* exp, log, division (math.inc.h) */
FL_HIDDEN fl_vlog_fn fl_vlog_base, fl_vlog_avx2, fl_vlog_avx512;
FL_HIDDEN fl_vexp_lim_fn fl_vexp_lim_base, fl_vexp_lim_avx2, fl_vexp_lim_avx512;
FL_HIDDEN fl_vexpf_lim_fn fl_vexpf_lim_base, fl_vexpf_lim_avx2, fl_vexpf_lim_avx512;
FL_HIDDEN fl_vrdiv_fn fl_vrdiv_base, fl_vrdiv_avx2, fl_vrdiv_avx512;

/* binary cross-entropy elements (binary.inc.h) */
FL_HIDDEN fl_sbce_fn fl_sbce_base, fl_sbce_avx2;
FL_HIDDEN fl_bce_fn fl_bce_base, fl_bce_avx2;
FL_HIDDEN fl_products0_fn fl_products0_base, fl_products0_avx2;

/* squared error (sqerr.inc.h) */
FL_HIDDEN fl_sq_lanes_dd_fn fl_sq_lanes_dd_base, fl_sq_lanes_dd_avx2;
FL_HIDDEN fl_sq_lanes_df_fn fl_sq_lanes_df_base, fl_sq_lanes_df_avx2;
FL_HIDDEN fl_sq_lanes_fd_fn fl_sq_lanes_fd_base, fl_sq_lanes_fd_avx2;
FL_HIDDEN fl_sq_lanes_ff_fn fl_sq_lanes_ff_base, fl_sq_lanes_ff_avx2;

/* softmax rows (rows.inc.h) */
FL_HIDDEN fl_shift_rows_d_fn fl_shift_rows_d_base, fl_shift_rows_d_avx2, fl_shift_rows_d_avx512;
FL_HIDDEN fl_shift_rows_f_fn fl_shift_rows_f_base, fl_shift_rows_f_avx2;
FL_HIDDEN fl_row_sums_fn fl_row_sums_base, fl_row_sums_avx2;
FL_HIDDEN fl_row_sums_but_fn fl_row_sums_but_base, fl_row_sums_but_avx2;
FL_HIDDEN fl_weigh_fn fl_weigh_base, fl_weigh_avx2, fl_weigh_avx512;
FL_HIDDEN fl_tail_logs_fn fl_tail_logs_base, fl_tail_logs_avx2, fl_tail_logs_avx512;
FL_HIDDEN fl_scale_rows_d_fn fl_scale_rows_d_base, fl_scale_rows_d_avx2;
FL_HIDDEN fl_scale_rows_f_fn fl_scale_rows_f_base, fl_scale_rows_f_avx2;

/* class-index labels (labels.inc.h) */
FL_HIDDEN fl_labels_i64_fn fl_labels_i64_base, fl_labels_i64_avx2, fl_labels_i64_avx512;

/* softmax in columns (cols.inc.h) */
FL_HIDDEN fl_col_sums_but_fn fl_col_sums_but_base, fl_col_sums_but_avx2, fl_col_sums_but_avx512;
FL_HIDDEN fl_col_expf_sums_but_fn fl_col_expf_sums_but_base, fl_col_expf_sums_but_avx2,
                                   fl_col_expf_sums_but_avx512;
FL_HIDDEN fl_scale_cols_d_fn fl_scale_cols_d_base, fl_scale_cols_d_avx2, fl_scale_cols_d_avx512;
FL_HIDDEN fl_scale_cols_f_fn fl_scale_cols_f_base, fl_scale_cols_f_avx2, fl_scale_cols_f_avx512;

/* one-hot targets (gather.inc.h) */
FL_HIDDEN fl_nonzero_f64_fn fl_nonzero_f64_base, fl_nonzero_f64_avx2;
FL_HIDDEN fl_nonzero_f32_fn fl_nonzero_f32_base, fl_nonzero_f32_avx2;
FL_HIDDEN fl_onehot_gather_dd_fn fl_onehot_gather_dd_base, fl_onehot_gather_dd_avx2,
                                 fl_onehot_gather_dd_avx512;
FL_HIDDEN fl_onehot_gather_df_fn fl_onehot_gather_df_base, fl_onehot_gather_df_avx2,
                                 fl_onehot_gather_df_avx512;
FL_HIDDEN fl_onehot_gather_fd_fn fl_onehot_gather_fd_base, fl_onehot_gather_fd_avx2,
                                 fl_onehot_gather_fd_avx512;
FL_HIDDEN fl_onehot_gather_ff_fn fl_onehot_gather_ff_base, fl_onehot_gather_ff_avx2,
                                 fl_onehot_gather_ff_avx512;
FL_HIDDEN fl_onehot_cols_d_fn fl_onehot_cols_d_base, fl_onehot_cols_d_avx2,
                              fl_onehot_cols_d_avx512;
FL_HIDDEN fl_onehot_cols_f_fn fl_onehot_cols_f_base, fl_onehot_cols_f_avx2,
                              fl_onehot_cols_f_avx512;

/* binary targets (binprod.inc.h) */
FL_HIDDEN fl_binprod_dd_fn fl_binprod_dd_base, fl_binprod_dd_avx2, fl_binprod_dd_avx512;
FL_HIDDEN fl_binprod_df_fn fl_binprod_df_base, fl_binprod_df_avx2, fl_binprod_df_avx512;
FL_HIDDEN fl_binprod_fd_fn fl_binprod_fd_base, fl_binprod_fd_avx2, fl_binprod_fd_avx512;
FL_HIDDEN fl_binprod_ff_fn fl_binprod_ff_base, fl_binprod_ff_avx2, fl_binprod_ff_avx512;
FL_HIDDEN fl_count_ones_d_fn fl_count_ones_d_base, fl_count_ones_d_avx512;
FL_HIDDEN fl_count_ones_f_fn fl_count_ones_f_base, fl_count_ones_f_avx512;

/* half precision (half.inc.h) */
FL_HIDDEN fl_half_to_float_fn fl_half_to_float_base, fl_half_to_float_avx2;
FL_HIDDEN fl_float_to_half_fn fl_float_to_half_base, fl_float_to_half_avx2;
FL_HIDDEN fl_half_to_float_fn fl_bf16_to_float_base, fl_bf16_to_float_avx2;
FL_HIDDEN fl_float_to_half_fn fl_float_to_bf16_base, fl_float_to_bf16_avx2;

#endif
