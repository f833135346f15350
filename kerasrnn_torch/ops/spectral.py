"""`keras.ops`'s Fourier transforms: `fft`, `fft2`, `ifft2`, `rfft`, `irfft`, `stft` and `istft`, as Keras's torch
backend computes them.

Complex values travel as Keras has them: a `(real, imaginary)` pair of float
tensors of one shape, taken and returned (`irfft` and `istft` return real
tensors). `stft` frames run along the last axis: `(..., frames, fft_length // 2
+ 1)` out; `istft` takes that back.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .core import dtype_name, tensor
from .operation import operation


def _complex(x: Any, owner: str) -> torch.Tensor:
    """A (real, imaginary) pair of float tensors as one complex tensor."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"kr.ops.{owner}: x must be a (real, imaginary) pair of tensors, got "
                         f"{type(x).__name__}{'' if not isinstance(x, (tuple, list)) else f' of {len(x)}'}")
    real, imaginary = tensor(x[0]), tensor(x[1])
    if real.shape != imaginary.shape:
        raise ValueError(f"kr.ops.{owner}: the real and imaginary parts must have the same shape, got "
                         f"{tuple(real.shape)} and {tuple(imaginary.shape)}")
    if not real.dtype.is_floating_point or real.dtype != imaginary.dtype:
        raise ValueError(f"kr.ops.{owner}: the real and imaginary parts must be floats of one dtype, got "
                         f"{dtype_name(real.dtype)} and {dtype_name(imaginary.dtype)}")
    return torch.complex(real, imaginary)


def _at_least(x: torch.Tensor, rank: int, owner: str) -> None:
    if x.dim() < rank:
        raise ValueError(f"kr.ops.{owner}: x must have at least {rank} axes, got shape {tuple(x.shape)}")


def _parts(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return z.real, z.imag


@operation("FFT", module="math")
def fft(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The discrete Fourier transform along the last axis of a `(real, imaginary)` pair, as `keras.ops.fft`.

    >>> real, imaginary = fft((torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.zeros(4)))
    >>> real, imaginary
    (tensor([10., -2., -2., -2.]), tensor([ 0.,  2.,  0., -2.]))
    """
    z = _complex(x, "fft")
    _at_least(z, 1, "fft")
    return _parts(torch.fft.fft(z))


@operation("FFT2", module="math")
def fft2(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The 2-D discrete Fourier transform over the last two axes of a `(real, imaginary)` pair, as
    `keras.ops.fft2`."""
    z = _complex(x, "fft2")
    _at_least(z, 2, "fft2")
    return _parts(torch.fft.fft2(z))


@operation("IFFT2", module="math")
def ifft2(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The inverse of `fft2` (the 2-D inverse transform over the last two axes), as `keras.ops.ifft2`."""
    z = _complex(x, "ifft2")
    _at_least(z, 2, "ifft2")
    return _parts(torch.fft.ifft2(z))


@operation("RFFT", config=("fft_length",), module="math")
def rfft(x: Any, fft_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The Fourier transform of a real signal along its last axis (cut or zero-padded to `fft_length`):
    the `fft_length // 2 + 1` non-negative frequencies as a `(real, imaginary)` pair, as `keras.ops.rfft`.

    >>> rfft(torch.tensor([0.0, 1.0, 2.0, 3.0]))[0]
    tensor([ 6., -2., -2.])
    """
    signal = tensor(x)
    _at_least(signal, 1, "rfft")
    return _parts(torch.fft.rfft(signal, n=fft_length, dim=-1))


@operation("IRFFT", config=("fft_length",), module="math")
def irfft(x: Any, fft_length: int | None = None) -> torch.Tensor:
    """The real signal of `fft_length` samples (default `2 * (n - 1)`) whose `rfft` is the `(real,
    imaginary)` pair `x`, as `keras.ops.irfft`."""
    z = _complex(x, "irfft")
    _at_least(z, 1, "irfft")
    return torch.fft.irfft(z, n=fft_length, dim=-1)


def _window(window: Any, sequence_length: int, dtype: torch.dtype, device: torch.device,
            owner: str) -> torch.Tensor | None:
    """The analysis window: Keras's periodic "hann" or "hamming", a given tensor, or None (no window)."""
    if window is None:
        return None
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"kr.ops.{owner}: `window` must be 'hann', 'hamming', a tensor or None, got {window!r}")
        make = torch.hann_window if window == "hann" else torch.hamming_window
        return make(sequence_length, periodic=True, dtype=dtype, device=device)
    values = tensor(window, dtype).to(device)
    if values.shape != (sequence_length,):
        raise ValueError(f"kr.ops.{owner}: `window` must have shape ({sequence_length},) (sequence_length), got "
                         f"{tuple(values.shape)}")
    return values


def _check_framing(sequence_length: Any, sequence_stride: Any, fft_length: Any, owner: str) -> None:
    for name, value in (("sequence_length", sequence_length), ("sequence_stride", sequence_stride),
                        ("fft_length", fft_length)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"kr.ops.{owner}: `{name}` must be a positive integer, got {value!r}")
    if fft_length < sequence_length:
        raise ValueError(f"kr.ops.{owner}: `fft_length` ({fft_length}) must be at least `sequence_length` "
                         f"({sequence_length})")


@operation("STFT", config=("sequence_length", "sequence_stride", "fft_length", "window", "center"), module="math")
def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, window: Any = "hann",
         center: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The short-time Fourier transform along the last axis, as `keras.ops.stft`: frames of
    `sequence_length` samples every `sequence_stride`, windowed, zero-padded to `fft_length`; with
    `center` the signal is padded by reflection so that frame `t` is centred on sample `t * stride`.
    Returns a `(real, imaginary)` pair of shape `(..., frames, fft_length // 2 + 1)`.

    >>> real, imaginary = stft(torch.zeros(2, 16), 8, 4, 8)
    >>> real.shape
    torch.Size([2, 5, 5])
    """
    _check_framing(sequence_length, sequence_stride, fft_length, "stft")
    signal = tensor(x)
    if signal.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"kr.ops.stft: x must be float32 or float64, got {dtype_name(signal.dtype)}")
    _at_least(signal, 1, "stft")
    win = _window(window, sequence_length, signal.dtype, signal.device, "stft")
    if win is None:
        win = torch.ones(sequence_length, dtype=signal.dtype, device=signal.device)
    *batch, samples = signal.shape
    spectrum = torch.stft(signal.reshape(-1, samples), n_fft=fft_length, hop_length=sequence_stride,
                          win_length=sequence_length, window=win, center=center, return_complex=True)
    spectrum = spectrum.reshape(*batch, *spectrum.shape[-2:]).transpose(-2, -1)
    return _parts(spectrum)


def _overlap_add(frames: torch.Tensor, stride: int, owner: str) -> torch.Tensor:
    """Sum `(..., count, length)` frames placed `stride` samples apart: `(..., (count - 1) * stride + length)`."""
    *batch, count, length = frames.shape
    if stride > length or stride * count < length:
        raise ValueError(f"kr.ops.{owner}: `sequence_stride` ({stride}) must be at most the frame length "
                         f"({length}) and at least the frame length over the number of frames ({count})")
    size = (count - 1) * stride + length
    flat = frames.reshape(-1, count, length).transpose(1, 2)
    summed = F.fold(flat, output_size=(1, size), kernel_size=(1, length), stride=(1, stride))
    return summed.reshape(*batch, size)


@operation("ISTFT", config=("sequence_length", "sequence_stride", "fft_length", "length", "window", "center"),
           module="math")
def istft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, length: int | None = None,
          window: Any = "hann", center: bool = True) -> torch.Tensor:
    """The signal whose `stft` (with the same arguments) is the `(real, imaginary)` pair `x`, as
    `keras.ops.istft`; `length` sets how many samples it keeps.

    >>> signal = torch.linspace(-1.0, 1.0, 32)
    >>> torch.allclose(istft(stft(signal, 8, 4, 8), 8, 4, 8, length=32), signal, atol=1e-6)
    True
    """
    _check_framing(sequence_length, sequence_stride, fft_length, "istft")
    z = _complex(x, "istft")
    _at_least(z, 2, "istft")
    win = _window(window, sequence_length, z.real.dtype, z.device, "istft")
    if sequence_length == fft_length and center and win is not None:
        *batch, count, bins = z.shape
        signal = torch.istft(z.reshape(-1, count, bins).transpose(-2, -1), n_fft=fft_length,
                             hop_length=sequence_stride, win_length=sequence_length, window=win, center=True,
                             length=length, return_complex=False)
        return signal.reshape(*batch, signal.shape[-1])
    frames = torch.fft.irfft(z, n=fft_length, dim=-1)
    if win is not None:
        # Keras's synthesis window: the analysis window centred in fft_length, divided by the sum of its
        # squares over the frames that overlap each sample.
        left = (fft_length - sequence_length) // 2
        win = F.pad(win, (left, fft_length - sequence_length - left))
        overlaps = -(-fft_length // sequence_stride)
        squares = F.pad(win.square(), (0, overlaps * sequence_stride - fft_length))
        per_phase = squares.reshape(overlaps, sequence_stride).sum(dim=0)
        frames = frames * (win / per_phase.repeat(overlaps)[:fft_length])
    signal = _overlap_add(frames, sequence_stride, "istft")
    start = fft_length // 2 if center else 0
    if length is not None:
        return signal[..., start:start + length]
    return signal[..., start:signal.shape[-1] - start] if center else signal
