"""`keras.ops`'s complex tensors from real ones and back: `polar`, `view_as_complex`, `view_as_real`, and their
angles (`angle`), as Keras's torch backend computes them; and `cdist` and `extract_sequences`, its other
real-valued `math` helpers."""
from __future__ import annotations

from typing import Any

import torch

from .core import as_float, tensor
from .operation import operation


@operation("Polar", module="nn")
def polar(abs_: Any, angle: Any) -> torch.Tensor:
    """The complex numbers `abs_ * (cos(angle) + 1j * sin(angle))`, as `keras.ops.polar` (complex64 from
    float32 or ints, complex128 from float64).

    >>> polar(torch.tensor([2.0]), torch.tensor([0.0]))
    tensor([2.+0.j])
    """
    magnitude, phase = tensor(abs_), tensor(angle)
    real, imaginary = magnitude * torch.cos(phase), magnitude * torch.sin(phase)
    if real.dtype != imaginary.dtype or not real.dtype.is_floating_point:
        raise ValueError(f"kr.ops.polar: abs_ and angle must give floats of one dtype, got "
                         f"{str(magnitude.dtype).replace('torch.', '')} and "
                         f"{str(phase.dtype).replace('torch.', '')}")
    return torch.complex(real, imaginary)


@operation("Angle")
def angle(x: Any) -> torch.Tensor:
    """The angle (argument) of each element in radians, as `keras.ops.angle`: complex64 gives float32,
    complex128 float64, floats keep their dtype, ints and bools give the default float (float32).

    >>> angle(torch.tensor([1j, -1.0]))
    tensor([1.5708, 3.1416])
    """
    values = as_float(tensor(x))
    if values.dtype == torch.float16 and values.device.type != "cpu":     # torch.angle lacks float16 there
        return torch.angle(values.float()).to(torch.float16)
    return torch.angle(values)


@operation("ViewAsComplex", module="math")
def view_as_complex(x: Any) -> torch.Tensor:
    """The complex64 numbers of a `(..., 2)` tensor of (real, imaginary) pairs, as `keras.ops.view_as_complex`.

    >>> view_as_complex(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([1.+2.j, 3.+4.j])
    """
    pairs = tensor(x)
    if pairs.dim() < 1 or pairs.shape[-1] != 2:
        raise ValueError(f"kr.ops.view_as_complex: the last axis must hold (real, imaginary) pairs (size 2), got "
                         f"shape {tuple(pairs.shape)}")
    return torch.complex(pairs[..., 0].to(torch.float32), pairs[..., 1].to(torch.float32))


@operation("ViewAsReal", module="math")
def view_as_real(x: Any) -> torch.Tensor:
    """The (real, imaginary) pairs of complex numbers, on a new last axis of size 2, as
    `keras.ops.view_as_real`.

    >>> view_as_real(torch.tensor([1 + 2j]))
    tensor([[1., 2.]])
    """
    values = tensor(x)
    if not values.dtype.is_complex:
        raise ValueError(f"kr.ops.view_as_real: x must be complex, got {str(values.dtype).replace('torch.', '')}")
    return torch.stack([values.real, values.imag], dim=-1)


@operation("CDist", module="math")
def cdist(x: Any, y: Any) -> torch.Tensor:
    """The Euclidean distance between each row of `x` `(..., m, d)` and each row of `y` `(..., n, d)`:
    `(..., m, n)`, batch axes broadcast, as `keras.ops.cdist`.

    >>> cdist(torch.tensor([[0.0, 0.0], [1.0, 1.0]]), torch.tensor([[1.0, 0.0]]))
    tensor([[1.],
            [1.]])
    """
    a, b = tensor(x), tensor(y)
    if a.dim() < 2 or b.dim() < 2 or a.shape[-1] != b.shape[-1]:
        raise ValueError(f"kr.ops.cdist: x and y must be (..., rows, features) with the same features, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    difference = a.unsqueeze(-2) - b.unsqueeze(-3)
    return torch.sqrt(torch.sum(difference * difference, dim=-1))


@operation("ExtractSequences", config=("sequence_length", "sequence_stride"), module="math")
def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> torch.Tensor:
    """Windows of `sequence_length` along the last axis, every `sequence_stride`: the last axis `n` becomes
    `(1 + (n - sequence_length) // sequence_stride, sequence_length)`, as `keras.ops.extract_sequences`.

    >>> extract_sequences(torch.arange(6), 3, 2)
    tensor([[0, 1, 2],
            [2, 3, 4]])
    """
    values = tensor(x)
    if values.dim() < 1 or values.shape[-1] < sequence_length:
        raise ValueError(f"kr.ops.extract_sequences: the last axis must hold at least sequence_length "
                         f"({sequence_length}) values, got shape {tuple(values.shape)}")
    return values.unfold(-1, sequence_length, sequence_stride).clone()
