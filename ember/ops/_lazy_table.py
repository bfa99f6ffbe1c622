"""What the op families loaded on first use provide (see ``ember/ops/__init__.py``).

Written by ``python tools/lazy_ops_table.py``; ``tests/test_lazy_ops.py`` fails when it is
out of date."""

# family -> its public functions (answered by ember.ops.__getattr__ and ember.__getattr__)
FUNCTIONS = {
    "linalg_decomp": (
        "det", "logdet", "inverse", "pinverse", "cholesky_solve", "lu_unpack", "matrix_exp",
    ),
    "conv": (
        "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
        "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
        "adaptive_max_pool1d", "adaptive_max_pool2d", "unfold", "fold",
    ),
    "nn_ops": (
        "softmax", "log_softmax", "dropout", "dropout1d", "dropout2d", "dropout3d",
        "alpha_dropout", "cross_entropy", "nll_loss",
    ),
    "sampling": (
        "bernoulli", "multinomial", "poisson",
    ),
    "sorting": (
        "sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "quantile",
        "nanquantile", "nansum", "nanmean", "unique", "unique_consecutive", "searchsorted",
        "bucketize", "bincount", "histc",
    ),
    "special": (
        "lgamma", "digamma", "polygamma", "mvlgamma", "erfinv", "i0", "igamma", "igammac",
    ),
    "stats": (
        "cov", "corrcoef", "histogram", "trapezoid", "trapz", "cumulative_trapezoid", "vander",
        "diagflat", "isin", "unravel_index", "gradient", "combinations", "ldexp", "frexp",
        "nextafter", "histogramdd",
    ),
    "scatter_more": (
        "slice_scatter", "select_scatter", "diagonal_scatter", "index_copy", "index_reduce",
        "as_strided", "as_strided_scatter",
    ),
    "runtime": (
        "get_default_device", "set_default_device", "set_flush_denormal",
        "set_num_interop_threads", "get_num_interop_threads", "use_deterministic_algorithms",
        "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
        "set_deterministic_debug_mode", "get_deterministic_debug_mode",
        "set_float32_matmul_precision", "get_float32_matmul_precision", "set_warn_always",
        "is_warn_always_enabled",
    ),
    "linalg_torch": (
        "lu", "lu_solve", "svd", "qr", "cholesky", "cholesky_inverse", "slogdet", "matrix_power",
        "geqrf", "orgqr", "ormqr", "vdot", "ger", "chain_matmul", "nuclear_norm", "frobenius_norm",
    ),
    "windows": (
        "hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window",
    ),
    "transforms": (
        "compile", "vmap",
    ),
    "aliases": (
        "acos_", "acosh_", "addmv_", "arccos_", "arcsin_", "arctan_", "asin_", "asinh_", "atan_",
        "atanh_", "ceil_", "clamp_max_", "clamp_min_", "cos_", "cosh_", "deg2rad_", "erf_",
        "erfc_", "exp2_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_",
        "index_put_", "lcm_", "log10_", "log1p_", "log2_", "logit_", "nan_to_num_", "neg_",
        "rad2deg_", "reciprocal_", "round_", "rsqrt_", "sin_", "sinc_", "sinh_", "square_", "tan_",
        "trunc_", "xlogy_", "zero_", "detach", "detach_", "arccosh", "arcsinh", "arctanh",
        "arccosh_", "arcsinh_", "arctanh_", "negative_", "ldexp_", "row_stack", "split_with_sizes",
        "range", "scalar_tensor", "typename", "is_same_size", "is_signed", "is_nonzero",
        "is_complex", "is_conj", "is_neg", "isreal", "resolve_conj", "resolve_neg", "conj",
        "conj_physical", "conj_physical_", "real", "adjoint", "angle", "get_device",
        "init_num_threads", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
        "set_anomaly_enabled", "masked_scatter", "put", "fill", "bitwise_left_shift",
        "bitwise_right_shift", "frombuffer", "resize_as_", "embedding", "binomial",
    ),
}

# family -> the Tensor attributes its attach() binds (placeholders until it is loaded)
METHODS = {
    "linalg_decomp": (
        "det", "logdet", "inverse", "pinverse", "cholesky_solve", "matrix_exp",
    ),
    "conv": (
    ),
    "nn_ops": (
        "softmax", "log_softmax",
    ),
    "sampling": (
        "uniform_", "normal_", "bernoulli_", "exponential_", "random_", "bernoulli", "multinomial",
    ),
    "sorting": (
        "sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "quantile",
        "nanquantile", "nansum", "nanmean", "unique", "unique_consecutive", "bincount", "histc",
    ),
    "special": (
        "lgamma", "digamma", "polygamma", "mvlgamma", "erfinv", "i0", "igamma", "igammac",
        "lgamma_", "digamma_", "polygamma_", "mvlgamma_", "erfinv_", "i0_", "igamma_", "igammac_",
    ),
    "stats": (
        "cov", "corrcoef", "histogram", "diagflat", "ldexp", "frexp", "nextafter",
    ),
    "scatter_more": (
        "slice_scatter", "select_scatter", "diagonal_scatter", "index_copy", "index_reduce",
        "as_strided", "as_strided_scatter", "index_copy_", "index_reduce_",
    ),
    "runtime": (
    ),
    "linalg_torch": (
        "lu", "lu_solve", "svd", "qr", "cholesky", "cholesky_inverse", "slogdet", "matrix_power",
        "geqrf", "orgqr", "ormqr", "vdot", "ger",
    ),
    "windows": (
    ),
    "transforms": (
    ),
    "aliases": (
        "arccosh", "arcsinh", "arctanh", "arccosh_", "arcsinh_", "arctanh_", "negative_", "ldexp_",
        "split_with_sizes", "is_same_size", "is_signed", "is_nonzero", "is_complex", "is_conj",
        "is_neg", "isreal", "resolve_conj", "resolve_neg", "conj", "conj_physical",
        "conj_physical_", "adjoint", "angle", "get_device", "masked_scatter", "put",
        "bitwise_left_shift", "bitwise_right_shift", "__lshift__", "__rshift__", "sum_to_size",
        "storage_offset", "new", "ndimension", "nonzero_static", "short", "char", "byte",
        "cauchy_", "log_normal_", "geometric_", "bfloat16", "resize_", "resize_as_", "eq_", "ne_",
        "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_", "less_equal_",
        "not_equal_", "bitwise_and_", "bitwise_or_", "bitwise_xor_", "bitwise_not_",
        "bitwise_left_shift_", "bitwise_right_shift_", "divide_", "multiply_", "subtract_",
        "true_divide_", "tril_", "triu_", "nextafter_", "masked_scatter_", "put_",
        "fill_diagonal_", "t_", "transpose_", "swapaxes_", "swapdims_", "squeeze_", "unsqueeze_",
    ),
}
