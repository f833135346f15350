"""Keras initializers: objects (and names) that fill a tensor in place, in Keras layout.

Fans follow Keras: for a 2-D kernel `(input_dim, units)` fan_in is the first
axis and fan_out the last (PyTorch's own layout is the transpose). Each class
has Keras 3's name, arguments and `get_config()`; `serialize`/`deserialize`
speak Keras's `{"module": "keras.initializers", "class_name": ..., "config":
...}` form. An object is called on a tensor to fill it (`init(tensor)`), or,
as in Keras, on a shape to make one (`init((3, 4))`).

Seeds: an initializer built with `seed=` fills the same values at every call,
as Keras 3's does; without a seed it draws from PyTorch's global RNG (so
`torch.manual_seed` makes it repeatable).
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import torch

from ._checks import shape_text
from ._configurable import Configurable
from ._types import InitializerLike


def _fans(shape: Sequence[int], input_axes: Sequence[int] | None = None,
          output_axes: Sequence[int] | None = None) -> tuple[int, int]:
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _seed_generator(seed: int | None) -> torch.Generator | None:
    """A fresh CPU generator for an integer seed (the same draws at every call), else None."""
    return None if seed is None else torch.Generator().manual_seed(int(seed))


class Initializer(Configurable):
    """Base class: `init(tensor, generator=None)` fills `tensor` in place and returns it."""

    def fill(self, tensor: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, tensor_or_shape: torch.Tensor | Sequence[int], generator: torch.Generator | None = None,
                 dtype: torch.dtype | None = None) -> torch.Tensor:
        if isinstance(tensor_or_shape, torch.Tensor):
            with torch.no_grad():
                return self.fill(tensor_or_shape, generator)
        tensor = torch.empty(tuple(int(d) for d in tensor_or_shape), dtype=dtype or torch.get_default_dtype())
        with torch.no_grad():
            return self.fill(tensor, generator)



class RandomInitializer(Initializer):
    """An initializer that draws random numbers; `seed` makes every call draw the same ones."""

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"{type(self).__name__}: `seed` must be an integer or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)

    def fill(self, tensor: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        generator = generator if generator is not None else _seed_generator(self.seed)
        if generator is None or generator.device == tensor.device:
            return self.draw(tensor, generator)
        # A seeded CPU generator fills a CPU copy, so the values do not depend on the device.
        return tensor.copy_(self.draw(torch.empty(tensor.shape, dtype=tensor.dtype), generator))

    def draw(self, tensor: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros, as `keras.initializers.Zeros`."""

    def fill(self, tensor: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return tensor.zero_()


class Ones(Initializer):
    """All ones, as `keras.initializers.Ones`."""

    def fill(self, tensor: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return tensor.fill_(1.0)


class Constant(Initializer):
    """Every entry `value` (a number, or values broadcast to the shape), as `keras.initializers.Constant`."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def fill(self, tensor: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return tensor.copy_(torch.as_tensor(self.value, dtype=tensor.dtype).expand(tensor.shape))

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomNormal(RandomInitializer):
    """Normal draws, as `keras.initializers.RandomNormal` (mean 0, stddev 0.05)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def draw(self, tensor: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return tensor.normal_(self.mean, self.stddev, generator=generator)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform draws in [minval, maxval), as `keras.initializers.RandomUniform` (±0.05)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None) -> None:
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def draw(self, tensor: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return tensor.uniform_(self.minval, self.maxval, generator=generator)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def _truncated_normal(tensor: torch.Tensor, mean: float, stddev: float,
                      generator: torch.Generator | None) -> torch.Tensor:
    """Keras's truncated normal: a normal cut at two standard deviations around the mean."""
    return torch.nn.init.trunc_normal_(tensor, mean, stddev, mean - 2 * stddev, mean + 2 * stddev,
                                       generator=generator)


class TruncatedNormal(RandomNormal):
    """Normal draws cut at two standard deviations, as `keras.initializers.TruncatedNormal`."""

    def draw(self, tensor: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return _truncated_normal(tensor, self.mean, self.stddev, generator)


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("uniform", "truncated_normal", "untruncated_normal")


class VarianceScaling(RandomInitializer):
    """Draws with variance `scale / fan`, as `keras.initializers.VarianceScaling`.

    `mode` picks the fan ("fan_in", "fan_out", "fan_avg"); `distribution` is
    "truncated_normal" (also "normal", as Keras), "untruncated_normal" or
    "uniform". `input_axes`/`output_axes` name the axes that make the fans.
    """

    scale: float
    mode: str
    distribution: str
    input_axes: Sequence[int] | None
    output_axes: Sequence[int] | None

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None) -> None:
        super().__init__(seed)
        owner = type(self).__name__
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or scale <= 0:
            raise ValueError(f"{owner}: `scale` must be a positive float, got {scale!r}")
        if mode not in _MODES:
            raise ValueError(f"{owner}: `mode` must be one of {', '.join(_MODES)}; got {mode!r}")
        distribution = str(distribution).lower()
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"{owner}: `distribution` must be one of normal, {', '.join(_DISTRIBUTIONS)}; "
                             f"got {distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes

    def draw(self, tensor: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        fan_in, fan_out = _fans(tuple(tensor.shape), self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return tensor.uniform_(-limit, limit, generator=generator)
        if self.distribution == "untruncated_normal":
            return tensor.normal_(0.0, math.sqrt(variance), generator=generator)
        # The constant corrects the spread lost to the cut at two standard deviations.
        return _truncated_normal(tensor, 0.0, math.sqrt(variance) / 0.87962566103423978, generator)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "input_axes": self.input_axes, "output_axes": self.output_axes}


def _preset(class_name: str, scale: float, mode: str, distribution: str, doc: str) -> type[VarianceScaling]:
    """A VarianceScaling subclass with fixed scale, mode and distribution (Glorot, He, LeCun)."""

    def __init__(self: VarianceScaling, seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self: VarianceScaling) -> dict[str, Any]:
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}

    return type(class_name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                                 "__doc__": doc, "__module__": __name__})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform", "As `keras.initializers.GlorotUniform`.")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal", "As `keras.initializers.GlorotNormal`.")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "As `keras.initializers.HeUniform`.")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal", "As `keras.initializers.HeNormal`.")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform", "As `keras.initializers.LecunUniform`.")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal", "As `keras.initializers.LecunNormal`.")


class Orthogonal(RandomInitializer):
    """Keras's orthogonal matrix times `gain`: QR of a normal matrix, signs fixed by R's diagonal.

    Tensors of rank > 2 are orthogonal over (all leading axes flattened, last axis).
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        super().__init__(seed)
        self.gain = gain

    def fill(self, tensor: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        shape = tuple(tensor.shape)
        if len(shape) < 2:
            raise ValueError(f"The orthogonal initializer needs a tensor of rank >= 2, got shape {shape_text(shape)}")
        return super().fill(tensor, generator)

    def draw(self, tensor: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        shape = tuple(tensor.shape)
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = torch.empty(max(rows, cols), min(rows, cols), dtype=torch.float64)
        a.normal_(0.0, 1.0, generator=generator)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return tensor.copy_((self.gain * q).reshape(shape).to(tensor.dtype))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gain": self.gain}


class Identity(Initializer):
    """`gain` times the identity matrix (2-D only), as `keras.initializers.Identity`."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def fill(self, tensor: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if tensor.dim() != 2:
            raise ValueError(f"The identity initializer needs a 2-D tensor, got shape {shape_text(tensor.shape)}")
        return tensor.copy_(self.gain * torch.eye(*tensor.shape, dtype=tensor.dtype))

    def get_config(self) -> dict[str, Any]:
        # Keras 3.15 serializes Identity with an empty config (it drops gain); a gain other than 1 is kept here.
        return {} if self.gain == 1.0 else {"gain": self.gain}


_CLASSES = (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling, GlorotUniform,
            GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal, Identity)

# Keras 3's names: each class name, its snake-case form, and Keras's aliases.
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal, "random_uniform": RandomUniform, "uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal, "identity": Identity,
    "OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity,
})


def _known_names() -> str:
    return ", ".join(sorted(name for name in _BY_NAME if name.islower()))


def get(identifier: InitializerLike) -> Callable[..., Any]:
    """Resolve an initializer: a Keras name (a new object with Keras's defaults), a serialized
    dictionary, an `Initializer` object or class, or a callable `fn(tensor)` that fills a tensor."""
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]()
        except KeyError:
            raise ValueError(f"Unknown initializer {identifier!r}; expected one of: {_known_names()}, "
                             "an Initializer, or a callable") from None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"An initializer must be a Keras name, a serialized initializer or a callable on a tensor; "
                    f"got {identifier!r}")


def serialize(initializer: InitializerLike | None) -> dict[str, Any] | None:
    """Keras's serialized form: `{"module": "keras.initializers", "class_name", "config", "registered_name"}`.

    Names serialize as the object they stand for; None stays None. A plain
    callable has no Keras form, so it is refused.
    """
    if initializer is None:
        return None
    if isinstance(initializer, (str, dict)):
        initializer = get(initializer)
    if not isinstance(initializer, Initializer):
        raise ValueError(f"Cannot serialize the initializer {initializer!r}: only Keras names and "
                         "kerasrnn_torch.initializers objects have a Keras configuration")
    return {"module": "keras.initializers", "class_name": type(initializer).__name__,
            "config": initializer.get_config(), "registered_name": None}


def deserialize(config: str | dict[str, Any]) -> Callable[..., Any]:
    """An initializer from `serialize`'s dictionary (or Keras's), or from a name."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A serialized initializer is a dict with 'class_name' and 'config', got {config!r}")
    cls = _BY_NAME.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown initializer class {config['class_name']!r}; expected one of: "
                         f"{', '.join(c.__name__ for c in _CLASSES)}")
    return cls.from_config(dict(config.get("config") or {}))


def _torch_layout_view(tensor: torch.Tensor) -> torch.Tensor:
    """A view of a Keras-layout kernel in PyTorch's layout, for `torch.nn.init` to compute its fans on.

    Keras keeps `(in, out)` (conv: `(*spatial, in, out)`), PyTorch `(out, in)`
    (conv: `(out, in, *spatial)`). A recurrent kernel `(units, k*units)` is
    `(in, out)` too, so both libraries agree on its fans.
    """
    if tensor.dim() < 2:
        return tensor
    spatial = tuple(range(tensor.dim() - 2))
    return tensor.permute(tensor.dim() - 1, tensor.dim() - 2, *spatial)


def apply(initializer: Callable[..., Any], tensor: torch.Tensor,
          generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill `tensor` with `initializer` without recording autograd history.

    Our initializers also accept a generator; a `torch.nn.init` function
    fills the tensor seen in PyTorch's layout, so its fans are the right
    ones; any other callable gets the tensor alone (a returned tensor is
    copied in). A tensor stored in another memory order (a column-major
    kernel) gets the values a contiguous one would: they are drawn in its
    logical order, so a seed gives the same weights whatever the layout.
    """
    if not tensor.is_contiguous():
        with torch.no_grad():
            return tensor.copy_(apply(initializer, torch.empty_like(tensor, memory_format=torch.contiguous_format),
                                      generator))
    with torch.no_grad():
        if isinstance(initializer, Initializer):
            result = initializer.fill(tensor, generator)
        elif getattr(initializer, "__module__", None) == torch.nn.init.__name__:
            result = initializer(_torch_layout_view(tensor))
            result = tensor if result is not None and result.data_ptr() == tensor.data_ptr() else result
        else:
            result = initializer(tensor)
        if isinstance(result, torch.Tensor) and result is not tensor:
            tensor.copy_(result)
    return tensor


# Keras's other names of the classes (`keras.initializers.glorot_uniform is keras.initializers.GlorotUniform`).
zeros = Zeros
ones = Ones
constant = Constant
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_uniform = HeUniform
he_normal = HeNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal
orthogonal = Orthogonal
OrthogonalInitializer = Orthogonal
identity = Identity
IdentityInitializer = Identity
