"""`kr.random`: Keras's `keras.random` draws on torch's generators.

`seed` is what Keras takes: None (torch's global generator), an int (the same numbers on every call with
that int, as Keras's integer seeds give), or a `SeedGenerator` (a stream: each call draws the next
numbers, reproducible from its seed). The draws come from torch's generators, so they follow Keras's
distributions, not Keras's exact numbers. Tensors are made on torch's default device, in `dtype`
(Keras's names or torch dtypes; default: torch's default float dtype, integers int32).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import torch

from . import _dtypes
from .seeding import SeededGenerators


class SeedGenerator(SeededGenerators):
    """Keras's `keras.random.SeedGenerator(seed)`: a reproducible stream of random draws.

    A module without parameters: held by a layer or model, its position travels with `state_dict()`.
    `seed=None` draws a seed from torch's global generator, so the stream still differs run to run
    unless torch is seeded.

    >>> gen = kr.random.SeedGenerator(1337)
    >>> a, b = kr.random.normal((2,), seed=gen), kr.random.normal((2,), seed=gen)
    >>> bool((a != b).all()), bool((kr.random.normal((2,), seed=kr.random.SeedGenerator(1337)) == a).all())
    (True, True)
    """

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - {"name", "backend"})
        if unknown:
            raise TypeError(f"SeedGenerator got unexpected keyword arguments {unknown}")
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, ()).item())
        super().__init__(seed)
        self.name = kwargs.get("name") or "seed_generator"


def _generator(seed: Any, device: torch.device) -> torch.Generator | None:
    if seed is None:
        return None
    if isinstance(seed, SeededGenerators):
        return seed.get(device)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"`seed` must be None, an integer or a kr.random.SeedGenerator; got {seed!r}")
    return torch.Generator(device=device).manual_seed(int(seed))


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, (int, torch.SymInt)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _float(dtype: Any, owner: str) -> torch.dtype:
    if dtype is None:
        return torch.get_default_dtype()
    return _dtypes.from_name(dtype, owner, allowed=_dtypes.FLOATING)


def _device() -> torch.device:
    return torch.get_default_device()


def normal(shape: Sequence[int] | int, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
           seed: Any = None) -> torch.Tensor:
    """Draws from a normal distribution of `mean` and `stddev`."""
    device = _device()
    out = torch.empty(_shape(shape), dtype=_float(dtype, "kr.random.normal"), device=device)
    return out.normal_(mean, stddev, generator=_generator(seed, device))


def uniform(shape: Sequence[int] | int, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
            seed: Any = None) -> torch.Tensor:
    """Draws from a uniform distribution on `[minval, maxval)`."""
    device = _device()
    out = torch.empty(_shape(shape), dtype=_float(dtype, "kr.random.uniform"), device=device)
    return out.uniform_(minval, maxval, generator=_generator(seed, device))


def truncated_normal(shape: Sequence[int] | int, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Any = None) -> torch.Tensor:
    """Draws from a normal distribution cut at two standard deviations from the mean (values beyond are
    drawn again, as Keras's), by inverting the normal CDF on the kept range."""
    device = _device()
    dtype_ = _float(dtype, "kr.random.truncated_normal")
    low, high = (1 + math.erf(-2 / math.sqrt(2))) / 2, (1 + math.erf(2 / math.sqrt(2))) / 2
    u = torch.empty(_shape(shape), dtype=torch.float64, device=device).uniform_(
        low, high, generator=_generator(seed, device))
    values = torch.erfinv(2 * u - 1) * math.sqrt(2)
    return (values * stddev + mean).to(dtype_)


def randint(shape: Sequence[int] | int, minval: int, maxval: int, dtype: Any = "int32",
            seed: Any = None) -> torch.Tensor:
    """Integers drawn uniformly from `[minval, maxval)`."""
    device = _device()
    dtype_ = _dtypes.from_name(dtype, "kr.random.randint")
    return torch.randint(int(minval), int(maxval), _shape(shape), generator=_generator(seed, device),
                         device=device).to(dtype_)


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> torch.Tensor:
    """`x` with its entries along `axis` in a random order."""
    x = torch.as_tensor(x)
    order = torch.randperm(x.shape[axis], generator=_generator(seed, x.device), device=x.device)
    return x.index_select(axis, order)


def dropout(inputs: Any, rate: float, noise_shape: Sequence[int] | None = None, seed: Any = None) -> torch.Tensor:
    """Keras's dropout: each entry zeroed with probability `rate`, the others scaled by `1 / (1 - rate)`;
    `noise_shape` (broadcast against `inputs`) shares one draw along its axes of size 1."""
    inputs = torch.as_tensor(inputs)
    if not 0 <= rate < 1:
        raise ValueError(f"kr.random.dropout: `rate` must be in [0, 1), got {rate!r}")
    shape = inputs.shape if noise_shape is None else tuple(
        inputs.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
    keep = torch.empty(shape, dtype=inputs.dtype, device=inputs.device).uniform_(
        generator=_generator(seed, inputs.device)) >= rate
    return torch.where(keep, inputs / (1 - rate), torch.zeros((), dtype=inputs.dtype, device=inputs.device))


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> torch.Tensor:
    """`num_samples` class ids per row of `logits` (batch, classes), drawn from the softmax of each row."""
    logits = torch.as_tensor(logits)
    if logits.dim() != 2:
        raise ValueError(f"kr.random.categorical: `logits` must be (batch, num_classes), got shape "
                         f"{tuple(logits.shape)}")
    probabilities = torch.softmax(logits.float(), dim=-1)
    draws = torch.multinomial(probabilities, int(num_samples), replacement=True,
                              generator=_generator(seed, logits.device))
    return draws.to(_dtypes.from_name(dtype, "kr.random.categorical"))


def _drawn_with(seed: Any, device: torch.device, draw: Callable[[], torch.Tensor]) -> torch.Tensor:
    """`draw()` on torch's global generator, reseeded from `seed` for the call (torch's gamma, beta and
    binomial samplers take no generator) and put back as it was afterwards, as Keras's torch backend does."""
    generator = _generator(seed, device)
    if generator is None:
        return draw()
    call_seed = int(torch.randint(0, 2**62, (), generator=generator, device=device).item())
    index = [] if device.type == "cpu" else [device.index if device.index is not None else 0]
    with torch.random.fork_rng(devices=index, device_type=device.type):
        torch.manual_seed(call_seed)
        return draw()


def _parameter(value: Any, shape: tuple[int, ...], device: torch.device, owner: str, name: str) -> torch.Tensor:
    tensor = torch.as_tensor(value, dtype=torch.float32, device=device)
    try:
        return torch.broadcast_to(tensor, shape)
    except RuntimeError:
        raise ValueError(f"{owner}: `{name}` of shape {tuple(tensor.shape)} does not broadcast to the shape "
                         f"{shape}") from None


def gamma(shape: Sequence[int] | int, alpha: Any, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Draws from the gamma distribution of shape parameter `alpha` (a number or a tensor that broadcasts to
    `shape`) and scale 1, as `keras.random.gamma`."""
    device, size = _device(), _shape(shape)
    dtype_ = _float(dtype, "kr.random.gamma")
    concentration = _parameter(alpha, size, device, "kr.random.gamma", "alpha")
    return _drawn_with(seed, device, lambda: torch._standard_gamma(concentration.contiguous())).to(dtype_)


def beta(shape: Sequence[int] | int, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Draws from the beta distribution of parameters `alpha` and `beta` (numbers or tensors that broadcast to
    `shape`), values in [0, 1], as `keras.random.beta`."""
    device, size = _device(), _shape(shape)
    dtype_ = _float(dtype, "kr.random.beta")
    first = _parameter(alpha, size, device, "kr.random.beta", "alpha")
    second = _parameter(beta, size, device, "kr.random.beta", "beta")
    distribution = torch.distributions.Beta(first, second)
    return _drawn_with(seed, device, distribution.sample).to(dtype_)


def binomial(shape: Sequence[int] | int, counts: Any, probabilities: Any, dtype: Any = None,
             seed: Any = None) -> torch.Tensor:
    """Draws of the number of successes in `counts` trials of success probability `probabilities` (numbers or
    tensors that broadcast to `shape`), in a float dtype as `keras.random.binomial`."""
    device, size = _device(), _shape(shape)
    dtype_ = _float(dtype, "kr.random.binomial")
    trials = _parameter(counts, size, device, "kr.random.binomial", "counts")
    chances = _parameter(probabilities, size, device, "kr.random.binomial", "probabilities")
    if bool(((chances < 0) | (chances > 1)).any()):
        raise ValueError("kr.random.binomial: `probabilities` must lie in [0, 1]")
    return _drawn_with(seed, device, lambda: torch.binomial(trials.contiguous(), chances.contiguous())).to(dtype_)


__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint", "shuffle",
           "truncated_normal", "uniform"]
