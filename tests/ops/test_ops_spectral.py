"""kr.ops's Fourier transforms against keras.ops (torch backend): values, shapes, dtypes, gradients, errors, and
their shapes on kr.Input."""
from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from keras import ops as kops

import kerasrnn_torch as kr
from kerasrnn_torch import ops

from .test_ops_match_keras import check

RNG = np.random.default_rng(5)


def normal(*shape, dtype="float32"):
    return RNG.standard_normal(shape).astype(dtype)


def both(name, x, atol=1e-5, **kwargs):
    """Ours on torch tensors and on the NumPy arrays against Keras's."""
    theirs = getattr(kops, name)(x, **kwargs)
    as_torch = tuple(torch.from_numpy(v) for v in x) if isinstance(x, tuple) else torch.from_numpy(x)
    check(getattr(ops, name)(as_torch, **kwargs), theirs, atol)
    check(getattr(ops, name)(x, **kwargs), theirs, atol)
    return theirs


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(8,), (3, 5), (2, 3, 6)])
def test_complex_transforms(shape, dtype):
    pair = (normal(*shape, dtype=dtype), normal(*shape, dtype=dtype))
    both("fft", pair)
    both("irfft", pair)
    both("irfft", pair, fft_length=7)
    both("rfft", pair[0])
    both("rfft", pair[0], fft_length=5)
    both("rfft", pair[0], fft_length=12)
    if len(shape) > 1:
        both("fft2", pair)
        both("ifft2", pair)


def test_rfft_of_integers_is_float_as_in_keras():
    both("rfft", RNG.integers(0, 5, (3, 8)).astype("int32"))


FRAMINGS = [
    {"sequence_length": 8, "sequence_stride": 4, "fft_length": 8},
    {"sequence_length": 8, "sequence_stride": 3, "fft_length": 8, "window": "hamming"},
    {"sequence_length": 6, "sequence_stride": 3, "fft_length": 8},
    {"sequence_length": 6, "sequence_stride": 3, "fft_length": 8, "window": "hamming", "center": False},
    {"sequence_length": 8, "sequence_stride": 2, "fft_length": 16, "window": None},
    {"sequence_length": 7, "sequence_stride": 7, "fft_length": 7, "center": False},
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(40,), (3, 33), (2, 2, 40)])
@pytest.mark.parametrize("framing", FRAMINGS)
def test_stft_and_istft(framing, shape, dtype):
    spectrum = both("stft", normal(*shape, dtype=dtype), **framing)
    pair = tuple(kops.convert_to_numpy(v) for v in spectrum)
    both("istft", pair, **framing)
    both("istft", pair, length=shape[-1] - 3, **framing)


def test_stft_with_a_window_tensor():
    x = normal(2, 30)
    window = np.hanning(8).astype("float32")
    spectrum = both("stft", x, sequence_length=8, sequence_stride=4, fft_length=8, window=window)
    both("istft", tuple(kops.convert_to_numpy(v) for v in spectrum), sequence_length=8, sequence_stride=4,
         fft_length=8, window=window)


def test_istft_inverts_stft():
    x = torch.from_numpy(normal(2, 64)).double()
    restored = ops.istft(ops.stft(x, 16, 4, 16), 16, 4, 16, length=64)
    torch.testing.assert_close(restored, x)


def _gradients(lib_ops, name, arrays, kwargs):
    leaves = [torch.from_numpy(a).requires_grad_(True) for a in arrays]
    out = getattr(lib_ops, name)(tuple(leaves) if len(leaves) == 2 else leaves[0], **kwargs)
    outputs = out if isinstance(out, tuple) else (out,)
    weights = np.random.default_rng(0)
    sum((o * torch.from_numpy(weights.standard_normal(tuple(o.shape)))).sum() for o in outputs).backward()
    return [leaf.grad.numpy() for leaf in leaves]


@pytest.mark.parametrize("name, count, shape, kwargs", [
    ("fft", 2, (3, 8), {}), ("fft2", 2, (3, 4, 5), {}), ("ifft2", 2, (3, 4), {}), ("rfft", 1, (3, 8), {}),
    ("irfft", 2, (3, 5), {"fft_length": 8}), ("stft", 1, (2, 30), {"sequence_length": 8, "sequence_stride": 4,
                                                                   "fft_length": 8}),
    ("istft", 2, (2, 5, 5), {"sequence_length": 6, "sequence_stride": 3, "fft_length": 8}),
])
def test_gradients_match_keras(name, count, shape, kwargs):
    arrays = [normal(*shape, dtype="float64") for _ in range(count)]
    for a, b in zip(_gradients(ops, name, arrays, kwargs), _gradients(kops, name, arrays, kwargs)):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_bad_arguments_say_what_was_expected():
    x = torch.ones(3, 8)
    with pytest.raises(ValueError, match=r"kr.ops.fft: x must be a \(real, imaginary\) pair of tensors"):
        ops.fft(x)
    with pytest.raises(ValueError, match="the same shape, got"):
        ops.fft((x, torch.ones(3, 7)))
    with pytest.raises(ValueError, match="floats of one dtype, got int32 and int32"):
        ops.irfft((x.int(), x.int()))
    with pytest.raises(ValueError, match="kr.ops.fft2: x must have at least 2 axes"):
        ops.fft2((torch.ones(4), torch.ones(4)))
    with pytest.raises(TypeError, match="kr.ops.stft: x must be float32 or float64, got float16"):
        ops.stft(x.half(), 4, 2, 4)
    with pytest.raises(ValueError, match=r"`fft_length` \(4\) must be at least `sequence_length` \(6\)"):
        ops.stft(x, 6, 2, 4)
    with pytest.raises(ValueError, match="`sequence_stride` must be a positive integer, got 0"):
        ops.istft((x, x), 4, 0, 4)
    with pytest.raises(ValueError, match="`window` must be 'hann', 'hamming', a tensor or None, got 'blackman'"):
        ops.stft(x, 4, 2, 4, window="blackman")
    with pytest.raises(ValueError, match=r"`window` must have shape \(4,\)"):
        ops.stft(x, 4, 2, 4, window=torch.ones(5))
    with pytest.raises(ValueError, match=r"kr.ops.istft: `sequence_stride` \(9\) must be at most the frame length"):
        ops.istft((torch.ones(3, 5), torch.ones(3, 5)), 8, 9, 8, center=False)


def described(t):
    if isinstance(t, (list, tuple)):
        return [described(item) for item in t]
    return tuple(t.shape), str(t.dtype).replace("torch.", "")


SYMBOLIC = {
    "fft": lambda o, x: o.fft((x, x)), "fft2": lambda o, x: o.fft2((x, x)), "ifft2": lambda o, x: o.ifft2((x, x)),
    "rfft": lambda o, x: o.rfft(x), "rfft_length": lambda o, x: o.rfft(x, fft_length=6),
    "irfft": lambda o, x: o.irfft((x, x)), "irfft_length": lambda o, x: o.irfft((x, x), 5),
    "stft": lambda o, x: o.stft(x, 4, 2, 4), "stft_uncentred": lambda o, x: o.stft(x, 3, 2, 4, center=False),
    "istft": lambda o, x: o.istft(o.stft(x, 4, 2, 4), 4, 2, 4),
    "istft_length": lambda o, x: o.istft(o.stft(x, 3, 1, 4, window=None), 3, 1, 4, length=9, window=None),
}


@pytest.mark.parametrize("name", sorted(SYMBOLIC))
def test_symbolic_shapes_and_dtypes_match_keras(name):
    build = SYMBOLIC[name]
    assert described(build(ops, kr.Input((6, 10)))) == described(build(kops, keras.Input((6, 10))))
