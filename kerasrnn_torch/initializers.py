"""Keras initializers by name: they fill a tensor in place, in Keras layout.

Fans follow Keras: for a 2-D kernel `(input_dim, units)` fan_in is the first
axis and fan_out the last (PyTorch's own layout is the transpose).
"""
from __future__ import annotations

import math

import torch


def _fans(shape):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _variance_scaling(scale, mode, distribution):
    def init(tensor, generator=None):
        fan_in, fan_out = _fans(tuple(tensor.shape))
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[mode]
        variance = scale / max(1.0, fan)
        if distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return tensor.uniform_(-limit, limit, generator=generator)
        # Keras's truncated normal is cut at two standard deviations; the
        # constant corrects the spread of the truncated distribution.
        std = math.sqrt(variance) / 0.87962566103423978
        return torch.nn.init.trunc_normal_(tensor, 0.0, std, -2 * std, 2 * std, generator=generator)

    return init


def zeros(tensor, generator=None):
    return tensor.zero_()


def ones(tensor, generator=None):
    return tensor.fill_(1.0)


def random_uniform(tensor, generator=None):
    return tensor.uniform_(-0.05, 0.05, generator=generator)


def random_normal(tensor, generator=None):
    return tensor.normal_(0.0, 0.05, generator=generator)


def truncated_normal(tensor, generator=None):
    return torch.nn.init.trunc_normal_(tensor, 0.0, 0.05, -0.1, 0.1, generator=generator)


def orthogonal(tensor, generator=None):
    """Keras's orthogonal: QR of a normal matrix, signs fixed by R's diagonal."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(f"The orthogonal initializer needs a tensor of rank >= 2, got shape {shape}")
    rows = math.prod(shape[:-1])
    cols = shape[-1]
    with torch.no_grad():
        a = torch.empty(max(rows, cols), min(rows, cols), dtype=torch.float64)
        a.normal_(0.0, 1.0, generator=generator)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        tensor.copy_(q.reshape(shape).to(tensor.dtype))
    return tensor


def identity(tensor, generator=None):
    if tensor.dim() != 2:
        raise ValueError(f"The identity initializer needs a 2-D tensor, got shape {tuple(tensor.shape)}")
    with torch.no_grad():
        tensor.copy_(torch.eye(*tensor.shape, dtype=tensor.dtype))
    return tensor


_BY_NAME = {
    "zeros": zeros,
    "ones": ones,
    "uniform": random_uniform,
    "random_uniform": random_uniform,
    "normal": random_normal,
    "random_normal": random_normal,
    "truncated_normal": truncated_normal,
    "orthogonal": orthogonal,
    "identity": identity,
    "glorot_uniform": _variance_scaling(1.0, "fan_avg", "uniform"),
    "glorot_normal": _variance_scaling(1.0, "fan_avg", "normal"),
    "he_uniform": _variance_scaling(2.0, "fan_in", "uniform"),
    "he_normal": _variance_scaling(2.0, "fan_in", "normal"),
    "lecun_uniform": _variance_scaling(1.0, "fan_in", "uniform"),
    "lecun_normal": _variance_scaling(1.0, "fan_in", "normal"),
}


def get(identifier):
    """Resolve a Keras initializer name or a callable `fn(tensor)` that fills a tensor."""
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]
        except KeyError:
            known = ", ".join(sorted(_BY_NAME))
            raise ValueError(f"Unknown initializer {identifier!r}; expected one of: {known}, or a callable") from None
    if callable(identifier):
        return identifier
    raise TypeError(f"An initializer must be a Keras name or a callable on a tensor; got {identifier!r}")


def apply(initializer, tensor, generator=None):
    """Fill `tensor` with `initializer` without recording autograd history.

    Callables written for PyTorch (`torch.nn.init.xavier_uniform_`) take only
    the tensor; ours also accept a generator.
    """
    with torch.no_grad():
        if initializer in _BY_NAME.values() or getattr(initializer, "__module__", None) == __name__:
            result = initializer(tensor, generator=generator)
        else:
            result = initializer(tensor)
        if isinstance(result, torch.Tensor) and result is not tensor:
            tensor.copy_(result)
    return tensor
