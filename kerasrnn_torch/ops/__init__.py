"""`kr.ops`: Keras 3's `keras.ops` functions on torch tensors and in functional graphs.

On torch tensors (and NumPy arrays, Python numbers) each function computes
at once, with Keras's names, arguments and dtype rules (as Keras's torch
backend computes them). On KerasTensors (`kr.Input` and what layers return
on it) it records a node of the graph, as Keras 3 does, so `kr.Model` runs
it and `save_keras`/`from_keras` write and read it under Keras's class name
(`Add`, `Mean`, `GetItem`, ...). KerasTensor's operators (`x + inputs`,
`x * 2`, `-x`, `x[:, -1]`, `x @ w`, `x > 0`) call these functions.

>>> import torch
>>> from kerasrnn_torch import ops
>>> ops.mean(torch.ones(2, 3), axis=1)
tensor([1., 1.])
"""
from __future__ import annotations

from ..core import symbolic as _symbolic
from . import image, linalg, nn, numpy
from . import keras_namespaces as _keras_namespaces
from .activations import (celu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_swish, hard_tanh, leaky_relu,
                          log_sigmoid, relu6, selu, soft_shrink, softsign, sparse_plus, sparse_sigmoid, sparsemax,
                          squareplus, tanh_shrink, threshold)
from .associative import associative_scan
from .arrays import (amax, amin, argpartition, argsort, array, average, bincount, copy, count_nonzero, cross,
                     cumprod, cumsum, diag, diagonal, diff, digitize, empty, empty_like, flip, hstack, identity,
                     in_top_k, inner, kron, median, meshgrid, moveaxis, nanmean, nansum, ndim, nonzero, outer, pad,
                     percentile, ptp, quantile, ravel, roll, rot90, searchsorted, segment_max, segment_min,
                     segment_prod, segment_sum, select, size, sort, swapaxes, top_k, trace, tri, tril, triu, unstack,
                     view, vstack)
from .blocks import depth_to_space, fold, space_to_depth, unfold
from .complex_values import angle, cdist, extract_sequences, polar, view_as_complex, view_as_real
from .control import (cond, dtype, fori_loop, map, saturate_cast, scan, scatter, scatter_update, slice_update,
                      stop_gradient, switch, vectorized_map, while_loop)
from .convolution import conv, conv_transpose, depthwise_conv, separable_conv
from .ctc import ctc_decode, ctc_loss
from .core import cast, convert_to_numpy, convert_to_tensor, is_tensor, shape, slice
from .einops import rearrange
from .elementwise import (allclose, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, ceil, cos, cosh,
                          deg2rad, divide_no_nan, erf, erfinv, exp2, expm1, floor, fmod, heaviside, hypot, isclose,
                          isfinite, isinf, isnan, log10, log1p, log2, logaddexp, logical_xor, nan_to_num, rad2deg,
                          reciprocal, round, rsqrt, sign, sin, sinh, tan, trunc)
from .extras import (append, array_split, bitwise_and, bitwise_invert, bitwise_left_shift, bitwise_not, bitwise_or,
                     bitwise_right_shift, bitwise_xor, cbrt, conj, conjugate, corrcoef, diagflat, dsplit, dstack,
                     erfc, fabs, fliplr, flipud, fmax, fmin, gcd, hsplit, imag, isin, isneginf, isposinf, isreal, lcm,
                     left_shift, logaddexp2, nanargmax, nanargmin, nancumprod, nancumsum, nanmax, nanmedian, nanmin,
                     nanpercentile, nanprod, nanquantile, nanstd, nanvar, real, right_shift, signbit, sinc,
                     unravel_index, vander, vdot, vsplit)
from .extras import i0, ldexp, nextafter
from .linalg import (cholesky, cholesky_inverse, det, eig, eigh, inv, logdet, lstsq, lu_factor, matrix_rank, norm,
                     pinv, qr, slogdet, solve, solve_triangular, svd)
from .nn import elu, gelu, log_softmax, logsumexp, normalize, one_hot, relu, sigmoid, silu, softmax, softplus, swish
from .nn_functions import (batch_normalization, binary_crossentropy, categorical_crossentropy, dot_product_attention,
                           layer_normalization, moments, multi_hot, psnr, rms_normalization,
                           sparse_categorical_crossentropy)
from .numpy import (abs, absolute, add, all, any, arange, argmax, argmin, broadcast_to, clip, concatenate, divide,
                    dot, einsum, equal, exp, expand_dims, eye, floor_divide, full, full_like, geomspace, get_item,
                    greater, greater_equal, less, less_equal, linspace, log, logical_and, logical_not, logical_or,
                    logspace, matmul, max, maximum, mean, min, minimum, mod, multiply, negative, not_equal, ones,
                    ones_like, power, prod, repeat, reshape, split, sqrt, square, squeeze, stack, std, subtract, sum,
                    take, take_along_axis, tanh, tensordot, tile, transpose, true_divide, var, where, zeros,
                    zeros_like)
from .operation import OPERATIONS, Operation, is_operation
from .pooling import adaptive_average_pool, adaptive_max_pool, average_pool, max_pool
from .sets import unique
from .signals import correlate, histogram, trapezoid
from .spectral import fft, fft2, ifft2, irfft, istft, rfft, stft
from .transforms import custom_gradient, jvp, vectorize
from .windows import bartlett, blackman, hamming, hanning, kaiser

__all__ = [
    # arithmetic
    "abs", "absolute", "add", "clip", "divide", "exp", "floor_divide", "log", "maximum", "minimum", "mod",
    "multiply", "negative", "power", "sqrt", "square", "subtract", "true_divide",
    # element-wise math
    "allclose", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "ceil", "cos",
    "cosh", "deg2rad", "divide_no_nan", "erf", "erfinv", "exp2", "expm1", "floor", "fmod", "heaviside",
    "hypot", "isclose", "isfinite", "isinf", "isnan", "log1p", "log2", "log10", "logaddexp", "logical_xor",
    "nan_to_num", "rad2deg", "reciprocal", "round", "rsqrt", "sign", "sin", "sinh", "tan", "trunc",
    # arrays: rearranging, triangles, cumulative, sorting, statistics, products, segments
    "amax", "amin", "roll", "argsort", "array", "average", "bincount", "copy", "count_nonzero", "cross",
    "cumprod", "cumsum", "diag", "diagonal", "diff", "digitize", "empty", "empty_like", "flip", "hstack",
    "identity", "in_top_k", "inner", "kron", "median", "meshgrid", "moveaxis", "nanmean", "nansum", "ndim",
    "nonzero", "outer", "pad", "percentile", "ptp", "quantile", "ravel", "rot90", "searchsorted",
    "segment_max", "segment_min", "segment_prod", "segment_sum", "select", "size", "sort", "swapaxes",
    "top_k", "trace", "tri", "tril", "triu", "unique", "unstack", "vstack", "argpartition", "view",
    # more NumPy-style functions: cube roots, NaN-aware statistics, bits, splits and stacks
    "i0", "ldexp", "nextafter",
    "isin", "nanprod", "nanstd", "nanvar", "conj", "conjugate", "corrcoef", "imag", "isreal", "nanargmax",
    "nanargmin", "nanmedian", "nanpercentile", "nanquantile", "real", "unravel_index", "vander", "append",
    "array_split", "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "cbrt", "diagflat", "dsplit", "dstack", "erfc", "fabs", "fliplr",
    "flipud", "fmax", "fmin", "gcd", "hsplit", "isneginf", "isposinf", "lcm", "left_shift", "logaddexp2",
    "nancumprod", "nancumsum", "nanmax", "nanmin", "right_shift", "signbit", "sinc", "vdot", "vsplit",
    # reductions
    "all", "any", "argmax", "argmin", "max", "mean", "min", "prod", "std", "sum", "var",
    # shapes and new tensors
    "arange", "broadcast_to", "cast", "concatenate", "convert_to_numpy", "convert_to_tensor", "expand_dims",
    "eye", "full", "full_like", "geomspace", "get_item", "is_tensor", "linspace", "logspace", "ones",
    "ones_like", "repeat",
    "reshape", "shape", "slice", "split", "squeeze", "stack", "take", "take_along_axis", "tile",
    "transpose", "where", "zeros", "zeros_like", "rearrange",
    # linear algebra (also in kr.ops.linalg, as keras.ops.linalg)
    "linalg", "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "logdet", "lstsq", "lu_factor",
    "matrix_rank", "norm", "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd", "dot", "einsum",
    "matmul", "tensordot",
    # neural networks
    "elu", "gelu", "log_softmax", "logsumexp", "normalize", "one_hot", "relu", "sigmoid", "silu", "softmax",
    "softplus", "swish", "tanh", "celu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "leaky_relu", "log_sigmoid", "relu6", "selu", "soft_shrink", "softsign", "sparse_plus",
    "sparsemax", "squareplus", "tanh_shrink", "threshold", "sparse_sigmoid", "psnr", "batch_normalization",
    "binary_crossentropy", "categorical_crossentropy", "dot_product_attention", "layer_normalization", "moments",
    "multi_hot", "rms_normalization", "sparse_categorical_crossentropy",
    # convolutions and pooling (1-D, 2-D or 3-D by the inputs' rank)
    "conv", "conv_transpose", "depthwise_conv", "separable_conv", "average_pool", "max_pool",
    "adaptive_average_pool", "adaptive_max_pool", "depth_to_space", "space_to_depth", "unfold", "fold",
    "ctc_loss", "ctc_decode",
    # Fourier transforms (complex values as (real, imaginary) pairs)
    "fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft", "extract_sequences",
    # window functions (computed at once from a length); integrals, correlations and histograms of signals
    "bartlett", "blackman", "hamming", "hanning", "kaiser", "trapezoid", "correlate", "histogram",
    # complex tensors from real ones and back; distances
    "angle", "polar", "view_as_complex", "view_as_real", "cdist",
    # comparisons and logic
    "equal", "greater", "greater_equal", "less", "less_equal", "logical_and", "logical_not", "logical_or",
    "not_equal",
    # core: gradients, updates, control flow (the callables' functions run eagerly, inside a layer)
    "cond", "dtype", "fori_loop", "map", "saturate_cast", "scan", "scatter", "scatter_update",
    "slice_update", "stop_gradient", "switch", "vectorized_map", "while_loop", "associative_scan",
    # function transforms: custom gradients, forward-mode products, NumPy-style vectorization
    "custom_gradient", "jvp", "vectorize",
    # image processing (in kr.ops.image, as keras.ops.image)
    "image",
    # the graph's operation objects
    "OPERATIONS", "Operation", "is_operation",
]

# KerasTensor's operators (core/symbolic.py) record these operations.
_symbolic.OPERATORS.update({
    "add": add, "subtract": subtract, "multiply": multiply, "true_divide": true_divide, "floor_divide": floor_divide,
    "mod": mod, "power": power, "negative": negative, "absolute": absolute, "matmul": matmul, "get_item": get_item,
    "equal": equal, "not_equal": not_equal, "less": less, "less_equal": less_equal, "greater": greater,
    "greater_equal": greater_equal, "logical_and": logical_and, "logical_or": logical_or,
    "logical_not": logical_not,
})

# keras.ops.nn and keras.ops.numpy repeat top-level functions: the package's modules of those names hold the
# ones defined elsewhere too (the same function objects), so `kr.ops.nn.<name>` runs as `keras.ops.nn.<name>`.
for _namespace, _names in ((nn, _keras_namespaces.NN_NAMES), (numpy, _keras_namespaces.NUMPY_NAMES)):
    for _name in _names:
        if not hasattr(_namespace, _name):
            setattr(_namespace, _name, globals()[_name])
del _namespace, _names, _name
