"""`keras.ops`'s neural-network computations: cross-entropies, `multi_hot`, `moments`, the batch, layer and RMS
normalizations and `dot_product_attention`, as Keras's torch backend computes them."""
from __future__ import annotations

import warnings
from typing import Any

import torch
from torch.nn import functional

from .core import DTypeLike, result_type, tensor
from .nn import EPSILON, one_hot
from .operation import operation


def _same_shape(target: torch.Tensor, output: torch.Tensor, owner: str) -> None:
    if target.shape != output.shape:
        raise ValueError(f"kr.ops.{owner}: `target` and `output` must have the same shape, got target.shape="
                         f"{tuple(target.shape)} and output.shape={tuple(output.shape)}")


@operation("BinaryCrossentropy", config=("from_logits",), module="nn")
def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> torch.Tensor:
    """The element-wise binary cross-entropy (probabilities clipped to [eps, 1 - eps]), as
    `keras.ops.binary_crossentropy`."""
    target, output = tensor(target), tensor(output)
    _same_shape(target, output, "binary_crossentropy")
    if from_logits:
        return functional.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = torch.clip(output, EPSILON, 1.0 - EPSILON)
    return functional.binary_cross_entropy(output, target, reduction="none")


@operation("CategoricalCrossentropy", config=("from_logits", "axis"), module="nn")
def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1) -> torch.Tensor:
    """The cross-entropy of one-hot (or soft) targets along `axis`, as `keras.ops.categorical_crossentropy`."""
    target, output = tensor(target), tensor(output)
    _same_shape(target, output, "categorical_crossentropy")
    if target.ndim < 1:
        raise ValueError("kr.ops.categorical_crossentropy: `target` and `output` must have at least one axis, "
                         "got scalars")
    if from_logits:
        log_prob = functional.log_softmax(output, dim=axis)
    else:
        output = output / torch.sum(output, dim=axis, keepdim=True)
        log_prob = torch.log(torch.clip(output, EPSILON, 1.0 - EPSILON))
    return -torch.sum(target * log_prob, dim=axis)


@operation("SparseCategoricalCrossentropy", config=("from_logits", "axis"), module="nn")
def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1
                                    ) -> torch.Tensor:
    """The cross-entropy of integer class targets along `axis`, as `keras.ops.sparse_categorical_crossentropy`."""
    target, output = tensor(target, torch.long), tensor(output)
    if target.ndim == output.ndim and target.shape[axis] == 1:
        target = torch.squeeze(target, dim=axis)
    if output.ndim < 1:
        raise ValueError("kr.ops.sparse_categorical_crossentropy: `output` must have at least one axis, got a scalar")
    expected = list(output.shape)
    del expected[axis]
    if list(target.shape) != expected:
        raise ValueError("kr.ops.sparse_categorical_crossentropy: `target` must have `output`'s shape without its "
                         f"class axis, got target.shape={tuple(target.shape)} and "
                         f"output.shape={tuple(output.shape)}")
    single = output.ndim == 1
    if single:
        output, target = output.unsqueeze(0), target.unsqueeze(0)
    elif axis % output.ndim != 1:
        output = output.movedim(axis % output.ndim, 1)
    if from_logits:
        result = functional.cross_entropy(output, target, reduction="none")
    else:
        output = output / torch.sum(output, dim=1, keepdim=True)
        result = functional.nll_loss(torch.log(torch.clip(output, EPSILON, 1.0 - EPSILON)), target, reduction="none")
    return result.squeeze(0) if single else result


@operation("MultiHot", config=("num_classes", "axis", "dtype", "sparse"), module="nn")
def multi_hot(inputs: Any, num_classes: int, axis: int = -1, dtype: DTypeLike = None, sparse: bool = False
              ) -> torch.Tensor:
    """A row with ones at each id of `inputs` (per batch row for 2-D), as `keras.ops.multi_hot`."""
    if sparse:
        raise ValueError("kr.ops.multi_hot: sparse=True is not supported with torch (as in Keras's torch backend)")
    x = tensor(inputs)
    hot = one_hot.spec.function(x.to(torch.int32), num_classes, axis=axis, dtype=dtype)   # type: ignore[attr-defined]
    return torch.amax(hot, dim=1 if x.ndim > 1 else 0)


@operation("Moments", config=("axes", "keepdims", "synchronized"), module="nn")
def moments(x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False) -> tuple[torch.Tensor, ...]:
    """The mean and variance over `axes` (as E[x^2] - E[x]^2; float16 in float32), as `keras.ops.moments`."""
    if synchronized:
        raise NotImplementedError("kr.ops.moments: synchronized=True is not supported with torch (as in Keras's "
                                  "torch backend)")
    x = tensor(x)
    original = x.dtype
    if original == torch.float16:
        x = x.float()
    dims = [axes] if isinstance(axes, int) else list(axes)
    mean = torch.mean(x, dim=dims, keepdim=True)
    variance = torch.mean(torch.square(x), dim=dims, keepdim=True) - torch.square(mean)
    if not keepdims:
        mean, variance = torch.squeeze(mean, dims), torch.squeeze(variance, dims)
    if original == torch.float16:
        limit = torch.finfo(torch.float16).max
        mean = torch.clip(mean, -limit, limit).to(original)
        variance = torch.clip(variance, -limit, limit).to(original)
    return mean, variance


def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None, scale: Any = None,
                        epsilon: float = 1e-3) -> torch.Tensor:
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset`, the statistics along `axis`, as
    `keras.ops.batch_normalization`."""
    return _batch_normalization(x, mean, variance, offset, scale, axis=axis, epsilon=epsilon)


# Keras's `BatchNorm` takes `axis` and `epsilon` as its config, the tensors as call arguments (in this order).
@operation("BatchNorm", config=("axis", "epsilon"), module="nn")
def _batch_normalization(x: Any, mean: Any, variance: Any, offset: Any = None, scale: Any = None, *, axis: int,
                         epsilon: float = 1e-3) -> torch.Tensor:
    x = tensor(x)
    mean, variance = tensor(mean), tensor(variance)
    shape = [1] * x.ndim
    shape[axis] = mean.shape[0]
    mean, variance = mean.reshape(shape), variance.reshape(shape)
    offset = torch.zeros_like(mean) if offset is None else tensor(offset).reshape(shape)
    scale = torch.ones_like(variance) if scale is None else tensor(scale).reshape(shape)
    return (x - mean) * (torch.rsqrt(variance + epsilon) * scale) + offset


def _trailing(axes: list[int], ndim: int) -> bool:
    """Whether `axes` are the last axes, in order (torch's layer_norm and rms_norm normalize those)."""
    return sorted(a % ndim for a in axes) == list(range(ndim - len(axes), ndim))


@operation("LayerNorm", config=("axis", "epsilon", "rms_scaling"), module="nn")
def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1, epsilon: float | None = None,
                        rms_scaling: bool = False) -> torch.Tensor:
    """`x` normalized to mean 0 and variance 1 over `axis`, then `* gamma + beta`, as
    `keras.ops.layer_normalization`."""
    x = tensor(x)
    original = x.dtype
    x = x.to(result_type(x, torch.float32))
    epsilon = EPSILON if epsilon is None else epsilon
    g = None if gamma is None else tensor(gamma, x.dtype)
    b = None if beta is None else tensor(beta, x.dtype)
    axes = sorted([axis] if isinstance(axis, int) else list(axis))
    broadcast = [1] * x.ndim
    for dim in axes:
        broadcast[dim] = x.shape[dim]

    def spread(v: torch.Tensor | None) -> torch.Tensor | None:
        if v is not None and v.ndim != x.ndim and axes != [x.ndim - 1]:
            return v.reshape(broadcast)
        return v

    if rms_scaling:
        warnings.warn("kr.ops.layer_normalization: rms_scaling=True is deprecated (as in Keras): it divides by "
                      "the standard deviation, not the root mean square; use kr.ops.rms_normalization instead",
                      UserWarning, stacklevel=2)
        variance = torch.var(x, dim=axes, keepdim=True, correction=0)
        out = x * torch.rsqrt(variance + epsilon)
        g = spread(g)
        if g is not None:
            out = out * g
    elif _trailing(axes, x.ndim):
        out = functional.layer_norm(x, tuple(x.shape[d] for d in axes), g, b, epsilon)
    else:
        mean, variance = moments.spec.function(x, axes, keepdims=True)    # type: ignore[attr-defined]
        g, b = spread(g), spread(b)
        inverse = torch.rsqrt(variance + epsilon)
        if g is not None:
            inverse = inverse * g
        shift = -mean * inverse
        if b is not None:
            shift = shift + b
        out = x * inverse + shift
    return out.to(original)


@operation("RMSNorm", config=("axis", "epsilon"), module="nn")
def rms_normalization(x: Any, scale: Any = None, axis: Any = -1, epsilon: float | None = None) -> torch.Tensor:
    """`x` divided by its root mean square over `axis`, then `* scale`, as `keras.ops.rms_normalization`."""
    x = tensor(x)
    original = x.dtype
    x = x.to(result_type(x, torch.float32))
    epsilon = EPSILON if epsilon is None else epsilon
    s = None if scale is None else tensor(scale, x.dtype)
    axes = sorted([axis] if isinstance(axis, int) else list(axis))
    if _trailing(axes, x.ndim):
        out = functional.rms_norm(x, tuple(x.shape[d] for d in axes), s, epsilon)
    else:
        out = x * torch.rsqrt(torch.mean(torch.square(x), dim=axes, keepdim=True) + epsilon)
        if s is not None:
            out = out * s
    return out.to(original)


@operation("DotProductAttention", config=("is_causal", "flash_attention", "attn_logits_soft_cap"), module="nn")
def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None,
                          scale: float | None = None, is_causal: bool = False, flash_attention: bool | None = None,
                          attn_logits_soft_cap: float | None = None) -> torch.Tensor:
    """Scaled dot-product attention of (batch, length, heads, depth) tensors, as
    `keras.ops.dot_product_attention` (a bool `mask` keeps where True; `bias` is added to the logits)."""
    query, key, value = tensor(query), tensor(key), tensor(value)
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4:
        raise ValueError("kr.ops.dot_product_attention: query, key and value must be 4-D (batch, length, heads, "
                         f"depth), got shapes {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    if bias is not None and mask is not None:
        raise ValueError("kr.ops.dot_product_attention: give `bias` or `mask`, not both")
    if flash_attention:
        raise ValueError("kr.ops.dot_product_attention: flash_attention=True is not supported by kr.ops; leave "
                         "it None")
    if attn_logits_soft_cap is not None:
        raise ValueError("kr.ops.dot_product_attention: attn_logits_soft_cap is not supported with torch (as in "
                         "Keras's torch backend)")
    dtype = result_type(query, key, value)
    query, key, value = query.to(dtype), key.to(dtype), value.to(dtype)
    attn_mask = None
    if mask is not None:
        keep = tensor(mask, torch.bool)
        if is_causal:
            keep = torch.logical_and(keep, torch.tril(torch.ones((query.shape[1], key.shape[1]), dtype=torch.bool)))
        is_causal = False
        large = -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)
        attn_mask = torch.where(keep, torch.zeros((), dtype=dtype), torch.tensor(large, dtype=dtype))
    if bias is not None:
        attn_mask = tensor(bias, dtype)
    query, key, value = (t.transpose(1, 2) for t in (query, key, value))
    heads, kv_heads = query.shape[1], key.shape[1]
    if heads > kv_heads > 1:
        key = torch.repeat_interleave(key, heads // kv_heads, dim=1)
        value = torch.repeat_interleave(value, heads // kv_heads, dim=1)
    out = functional.scaled_dot_product_attention(query.contiguous(), key.contiguous(), value.contiguous(),
                                                  attn_mask=None if attn_mask is None else attn_mask.contiguous(),
                                                  is_causal=is_causal, scale=scale)
    return out.transpose(1, 2)


@operation("PSNR", config=("max_val",), module="nn")
def psnr(x1: Any, x2: Any, max_val: float) -> torch.Tensor:
    """The peak signal-to-noise ratio in dB of two same-shape tensors (values up to `max_val`), as
    `keras.ops.psnr`."""
    a, b = tensor(x1), tensor(x2)
    if a.shape != b.shape:
        raise ValueError(f"kr.ops.psnr: x1 and x2 must have the same shape, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    peak = tensor(max_val, a.dtype)
    return 20 * torch.log10(peak) - 10 * torch.log10(torch.mean((a - b) ** 2))
