/* The dispatch table: each kernel's pointer starts at its baseline variant,
 * and fl_simd_init() moves it to the widest variant the CPU runs, once, at
 * import.
 *
 * The levels: 0 baseline; 1 AVX2 (exp, log, the binary product, the
 * channels-first float32 exps and sums: AVX2+FMA;
 * the nonzero scan: AVX2+POPCNT; the rest: AVX2); 2 AVX-512 F/DQ/VL (with
 * AVX2 and FMA) for the kernels that have an AVX-512 variant, AVX2 for the
 * others.  max_level caps it: _core.pyx passes FASTLOSS_SIMD's choice
 * (baseline, avx2, avx512) so that the slower loops can be tested and
 * compared on a fast CPU.
 */
#include "simd.h"
#include "variants.h"

FL_HIDDEN const char *fl_simd_name = "baseline";

FL_HIDDEN fl_vlog_fn *fl_vlog_impl = fl_vlog_base;
FL_HIDDEN fl_vexp_lim_fn *fl_vexp_lim_impl = fl_vexp_lim_base;
FL_HIDDEN fl_sbce_fn *fl_sbce_impl = fl_sbce_base;
FL_HIDDEN fl_bce_fn *fl_bce_impl = fl_bce_base;
FL_HIDDEN fl_products0_fn *fl_products0_impl = fl_products0_base;
FL_HIDDEN fl_vexpf_lim_fn *fl_vexpf_lim_impl = fl_vexpf_lim_base;
FL_HIDDEN fl_col_sums_but_fn *fl_col_sums_but_impl = fl_col_sums_but_base;
FL_HIDDEN fl_col_expf_sums_but_fn *fl_col_expf_sums_but_impl = fl_col_expf_sums_but_base;
FL_HIDDEN fl_labels_i64_fn *fl_labels_i64_impl = fl_labels_i64_base;
FL_HIDDEN fl_scale_cols_d_fn *fl_scale_cols_d_impl = fl_scale_cols_d_base;
FL_HIDDEN fl_scale_cols_f_fn *fl_scale_cols_f_impl = fl_scale_cols_f_base;
FL_HIDDEN fl_vrdiv_fn *fl_vrdiv_impl = fl_vrdiv_base;
FL_HIDDEN fl_nonzero_f64_fn *fl_nonzero_f64_impl = fl_nonzero_f64_base;
FL_HIDDEN fl_nonzero_f32_fn *fl_nonzero_f32_impl = fl_nonzero_f32_base;
FL_HIDDEN fl_sq_lanes_dd_fn *fl_sq_lanes_dd_impl = fl_sq_lanes_dd_base;
FL_HIDDEN fl_sq_lanes_df_fn *fl_sq_lanes_df_impl = fl_sq_lanes_df_base;
FL_HIDDEN fl_sq_lanes_fd_fn *fl_sq_lanes_fd_impl = fl_sq_lanes_fd_base;
FL_HIDDEN fl_sq_lanes_ff_fn *fl_sq_lanes_ff_impl = fl_sq_lanes_ff_base;
FL_HIDDEN fl_shift_rows_d_fn *fl_shift_rows_d_impl = fl_shift_rows_d_base;
FL_HIDDEN fl_shift_rows_f_fn *fl_shift_rows_f_impl = fl_shift_rows_f_base;
FL_HIDDEN fl_row_sums_fn *fl_row_sums_impl = fl_row_sums_base;
FL_HIDDEN fl_row_sums_but_fn *fl_row_sums_but_impl = fl_row_sums_but_base;
FL_HIDDEN fl_weigh_fn *fl_weigh_impl = fl_weigh_base;
FL_HIDDEN fl_tail_logs_fn *fl_tail_logs_impl = fl_tail_logs_base;
FL_HIDDEN fl_scale_rows_d_fn *fl_scale_rows_d_impl = fl_scale_rows_d_base;
FL_HIDDEN fl_scale_rows_f_fn *fl_scale_rows_f_impl = fl_scale_rows_f_base;
FL_HIDDEN fl_onehot_gather_dd_fn *fl_onehot_gather_dd_impl = fl_onehot_gather_dd_base;
FL_HIDDEN fl_onehot_gather_df_fn *fl_onehot_gather_df_impl = fl_onehot_gather_df_base;
FL_HIDDEN fl_onehot_gather_fd_fn *fl_onehot_gather_fd_impl = fl_onehot_gather_fd_base;
FL_HIDDEN fl_onehot_gather_ff_fn *fl_onehot_gather_ff_impl = fl_onehot_gather_ff_base;
FL_HIDDEN fl_onehot_cols_d_fn *fl_onehot_cols_d_impl = fl_onehot_cols_d_base;
FL_HIDDEN fl_onehot_cols_f_fn *fl_onehot_cols_f_impl = fl_onehot_cols_f_base;
FL_HIDDEN fl_binprod_dd_fn *fl_binprod_dd_impl = fl_binprod_dd_base;
FL_HIDDEN fl_binprod_df_fn *fl_binprod_df_impl = fl_binprod_df_base;
FL_HIDDEN fl_binprod_fd_fn *fl_binprod_fd_impl = fl_binprod_fd_base;
FL_HIDDEN fl_binprod_ff_fn *fl_binprod_ff_impl = fl_binprod_ff_base;
FL_HIDDEN fl_count_ones_d_fn *fl_count_ones_d_impl = fl_count_ones_d_base;
FL_HIDDEN fl_count_ones_f_fn *fl_count_ones_f_impl = fl_count_ones_f_base;
FL_HIDDEN fl_half_to_float_fn *fl_half_to_float_impl = fl_half_to_float_base;
FL_HIDDEN fl_float_to_half_fn *fl_float_to_half_impl = fl_float_to_half_base;
FL_HIDDEN fl_half_to_float_fn *fl_bf16_to_float_impl = fl_bf16_to_float_base;
FL_HIDDEN fl_float_to_half_fn *fl_float_to_bf16_impl = fl_float_to_bf16_base;

FL_HIDDEN void fl_simd_init(int max_level)
{
#if FL_DISPATCH
    __builtin_cpu_init();
    if (max_level < 1)
        return;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        fl_vlog_impl = fl_vlog_avx2;
        fl_vexp_lim_impl = fl_vexp_lim_avx2;
        fl_vexpf_lim_impl = fl_vexpf_lim_avx2;
        fl_sbce_impl = fl_sbce_avx2;
        fl_bce_impl = fl_bce_avx2;
        fl_products0_impl = fl_products0_avx2;
        /* (the float32 exps of the channels-first loss: FMAs, the same as
         * fl_vexpf_lim's, so the two layouts keep the same bits) */
        fl_col_expf_sums_but_impl = fl_col_expf_sums_but_avx2;
        fl_binprod_dd_impl = fl_binprod_dd_avx2;
        fl_binprod_df_impl = fl_binprod_df_avx2;
        fl_binprod_fd_impl = fl_binprod_fd_avx2;
        fl_binprod_ff_impl = fl_binprod_ff_avx2;
        fl_simd_name = "avx2+fma";
    }
    if (max_level >= 2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2")
            && __builtin_cpu_supports("fma")) {
        fl_vlog_impl = fl_vlog_avx512;
        fl_vexp_lim_impl = fl_vexp_lim_avx512;
        fl_vexpf_lim_impl = fl_vexpf_lim_avx512;
        fl_vrdiv_impl = fl_vrdiv_avx512;
        fl_onehot_gather_dd_impl = fl_onehot_gather_dd_avx512;
        fl_onehot_gather_df_impl = fl_onehot_gather_df_avx512;
        fl_onehot_gather_fd_impl = fl_onehot_gather_fd_avx512;
        fl_onehot_gather_ff_impl = fl_onehot_gather_ff_avx512;
        fl_binprod_dd_impl = fl_binprod_dd_avx512;
        fl_binprod_df_impl = fl_binprod_df_avx512;
        fl_binprod_fd_impl = fl_binprod_fd_avx512;
        fl_binprod_ff_impl = fl_binprod_ff_avx512;
        fl_count_ones_d_impl = fl_count_ones_d_avx512;
        fl_count_ones_f_impl = fl_count_ones_f_avx512;
        fl_onehot_cols_d_impl = fl_onehot_cols_d_avx512;
        fl_onehot_cols_f_impl = fl_onehot_cols_f_avx512;
        fl_shift_rows_d_impl = fl_shift_rows_d_avx512;
        fl_col_sums_but_impl = fl_col_sums_but_avx512;
        fl_col_expf_sums_but_impl = fl_col_expf_sums_but_avx512;
        fl_labels_i64_impl = fl_labels_i64_avx512;
        fl_weigh_impl = fl_weigh_avx512;
        fl_tail_logs_impl = fl_tail_logs_avx512;
        fl_scale_cols_d_impl = fl_scale_cols_d_avx512;
        fl_scale_cols_f_impl = fl_scale_cols_f_avx512;
        fl_simd_name = "avx512";
    }
    if (__builtin_cpu_supports("avx2")) {
        if (fl_vrdiv_impl == fl_vrdiv_base) {       /* not taken by AVX-512 above */
            fl_vrdiv_impl = fl_vrdiv_avx2;
            fl_onehot_gather_dd_impl = fl_onehot_gather_dd_avx2;
            fl_onehot_gather_df_impl = fl_onehot_gather_df_avx2;
            fl_onehot_gather_fd_impl = fl_onehot_gather_fd_avx2;
            fl_onehot_gather_ff_impl = fl_onehot_gather_ff_avx2;
            fl_onehot_cols_d_impl = fl_onehot_cols_d_avx2;
            fl_onehot_cols_f_impl = fl_onehot_cols_f_avx2;
        }
        fl_sq_lanes_dd_impl = fl_sq_lanes_dd_avx2;
        fl_sq_lanes_df_impl = fl_sq_lanes_df_avx2;
        fl_sq_lanes_fd_impl = fl_sq_lanes_fd_avx2;
        fl_sq_lanes_ff_impl = fl_sq_lanes_ff_avx2;
        fl_scale_rows_d_impl = fl_scale_rows_d_avx2;   /* (no AVX-512 variant) */
        fl_scale_rows_f_impl = fl_scale_rows_f_avx2;
        if (fl_shift_rows_d_impl == fl_shift_rows_d_base)
            fl_shift_rows_d_impl = fl_shift_rows_d_avx2;
        fl_shift_rows_f_impl = fl_shift_rows_f_avx2;  /* AVX-512 measured slower */
        fl_row_sums_impl = fl_row_sums_avx2;
        fl_row_sums_but_impl = fl_row_sums_but_avx2;
        if (fl_col_sums_but_impl == fl_col_sums_but_base)
            fl_col_sums_but_impl = fl_col_sums_but_avx2;
        if (fl_labels_i64_impl == fl_labels_i64_base)
            fl_labels_i64_impl = fl_labels_i64_avx2;
        if (fl_weigh_impl == fl_weigh_base)
            fl_weigh_impl = fl_weigh_avx2;
        if (fl_tail_logs_impl == fl_tail_logs_base)
            fl_tail_logs_impl = fl_tail_logs_avx2;
        fl_bf16_to_float_impl = fl_bf16_to_float_avx2;
        fl_float_to_bf16_impl = fl_float_to_bf16_avx2;
        if (fl_scale_cols_d_impl == fl_scale_cols_d_base) {
            fl_scale_cols_d_impl = fl_scale_cols_d_avx2;
            fl_scale_cols_f_impl = fl_scale_cols_f_avx2;
        }
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c")) {
        fl_half_to_float_impl = fl_half_to_float_avx2;
        fl_float_to_half_impl = fl_float_to_half_avx2;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) {
        fl_nonzero_f64_impl = fl_nonzero_f64_avx2;
        fl_nonzero_f32_impl = fl_nonzero_f32_avx2;
    }
#else
    (void)max_level;
#endif
}
