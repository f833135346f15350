"""`keras.ops`'s window functions: `bartlett`, `blackman`, `hamming`, `hanning` and `kaiser`, as Keras's torch
backend computes them (symmetric windows of the default float dtype, from `torch.signal.windows`).

They take a window length (a Python int, or a NumPy or torch integer scalar), not tensors to transform: like
Keras's, they compute at once and refuse symbolic tensors (`kr.Input`), as a length must be known.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from ..core.symbolic import KerasTensor
from .core import floatx


def _length(x: Any, owner: str) -> int:
    """The window length `x` as a non-negative int; a clear error for anything else."""
    if isinstance(x, KerasTensor):
        raise TypeError(f"kr.ops.{owner}: the window length must be a number, not a symbolic tensor (as in "
                        f"keras.ops.{owner}), got {x!r}")
    value: Any = x
    if isinstance(x, (torch.Tensor, np.ndarray)):
        if x.ndim != 0 and tuple(x.shape) != (1,):
            raise ValueError(f"kr.ops.{owner}: the window length must be a scalar, got a tensor of shape "
                             f"{tuple(x.shape)}")
        is_integer = (x.dtype == torch.bool or not (x.dtype.is_floating_point or x.dtype.is_complex)
                      if isinstance(x, torch.Tensor) else x.dtype.kind in "biu")
        if not is_integer:
            raise TypeError(f"kr.ops.{owner}: the window length must be an integer, got a {x.dtype} tensor")
        value = int(x.reshape(()).item())
    elif not isinstance(x, numbers.Integral):
        raise TypeError(f"kr.ops.{owner}: the window length must be an integer, got {type(x).__name__} {x!r}")
    length = int(value)
    if length < 0:
        raise ValueError(f"kr.ops.{owner}: the window length must be non-negative, got {length}")
    return length


def bartlett(x: Any) -> torch.Tensor:
    """The Bartlett (triangular) window of length `x`, as `keras.ops.bartlett`.

    >>> bartlett(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return torch.signal.windows.bartlett(_length(x, "bartlett"), dtype=floatx())


def blackman(x: Any) -> torch.Tensor:
    """The Blackman window of length `x`, as `keras.ops.blackman`."""
    return torch.signal.windows.blackman(_length(x, "blackman"), dtype=floatx())


def hamming(x: Any) -> torch.Tensor:
    """The Hamming window `0.54 - 0.46 cos(2 pi n / (x - 1))` of length `x`, as `keras.ops.hamming`.

    >>> hamming(3)
    tensor([0.0800, 1.0000, 0.0800])
    """
    return torch.signal.windows.hamming(_length(x, "hamming"), dtype=floatx())


def hanning(x: Any) -> torch.Tensor:
    """The Hann window `0.5 - 0.5 cos(2 pi n / (x - 1))` of length `x`, as `keras.ops.hanning`.

    >>> hanning(3)
    tensor([0., 1., 0.])
    """
    return torch.signal.windows.hann(_length(x, "hanning"), dtype=floatx())


def kaiser(x: Any, beta: Any) -> torch.Tensor:
    """The Kaiser window of length `x` and shape `beta` (a number or a scalar tensor), as `keras.ops.kaiser`."""
    length = _length(x, "kaiser")
    if isinstance(beta, KerasTensor):
        raise TypeError(f"kr.ops.kaiser: beta must be a number, not a symbolic tensor, got {beta!r}")
    if isinstance(beta, (torch.Tensor, np.ndarray)):
        if (beta.numel() if isinstance(beta, torch.Tensor) else beta.size) != 1:
            raise ValueError(f"kr.ops.kaiser: beta must be a scalar, got a tensor of shape {tuple(beta.shape)}")
        beta = beta.reshape(()).item()
    if not isinstance(beta, numbers.Real):
        raise TypeError(f"kr.ops.kaiser: beta must be a real number, got {type(beta).__name__} {beta!r}")
    return torch.signal.windows.kaiser(length, beta=float(beta), dtype=floatx())
