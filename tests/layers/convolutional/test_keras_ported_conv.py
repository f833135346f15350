"""Keras 3's keras/src/layers/convolutional/conv_test.py (Conv1D/2D/3D), ported to kr with Keras's parameters,
expected shapes and tolerances. Keras checks the numbers against NumPy references; the one here is our own NumPy
code for the same definition (Keras's "same" padding: the odd extra at the end; "causal": all of it at the
start). The LoRA cases are left out (see tests/keras_ported_left_out.md)."""
import itertools
import math

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from keras_layer_check import run_layer_test

BASIC = [
    # (layer, filters, kernel_size, strides, padding, dilation_rate, groups, input_shape, output_shape)
    ("Conv1D", 5, 2, 1, "valid", 1, 1, (3, 5, 4), (3, 4, 5)),
    ("Conv1D", 6, 2, 1, "same", (2,), 2, (3, 4, 4), (3, 4, 6)),
    ("Conv1D", 6, 2, 1, "causal", (2,), 2, (3, 4, 4), (3, 4, 6)),
    ("Conv1D", 6, 2, (2,), "valid", 1, 2, (3, 5, 4), (3, 2, 6)),
    ("Conv2D", 5, 2, 1, "valid", 1, 1, (3, 5, 5, 4), (3, 4, 4, 5)),
    ("Conv2D", 6, 2, 1, "same", (2, 2), 2, (3, 4, 4, 4), (3, 4, 4, 6)),
    ("Conv2D", 6, (2, 2), (2, 1), "valid", (1, 1), 2, (3, 5, 5, 4), (3, 2, 4, 6)),
    ("Conv3D", 5, 2, 1, "valid", 1, 1, (3, 5, 5, 5, 4), (3, 4, 4, 4, 5)),
    ("Conv3D", 6, 2, 1, "same", (2, 2, 2), 2, (3, 4, 4, 4, 4), (3, 4, 4, 4, 6)),
    ("Conv3D", 6, (2, 2, 3), (2, 1, 2), "valid", (1, 1, 1), 2, (3, 5, 5, 5, 4), (3, 2, 4, 2, 6)),
]


@pytest.mark.parametrize("case", BASIC)
def test_conv_basic(case):
    layer, filters, kernel_size, strides, padding, dilation_rate, groups, input_shape, output_shape = case
    run_layer_test(getattr(kr, layer),
                   init_kwargs={"filters": filters, "kernel_size": kernel_size, "strides": strides,
                                "padding": padding, "data_format": "channels_last",
                                "dilation_rate": dilation_rate, "groups": groups},
                   input_shape=input_shape, expected_output_shape=output_shape,
                   expected_num_trainable_weights=2, expected_num_non_trainable_weights=0,
                   expected_num_losses=0, supports_masking=False)


# Keras's own patterns (its assertRaisesRegex arguments), unchanged.
@pytest.mark.parametrize("make, message", [
    (lambda: kr.Conv1D(filters=0, kernel_size=1),
     "Invalid value for argument `filters`. Expected a strictly positive value. Received filters=0."),
    (lambda: kr.Conv2D(filters=2, kernel_size=(1, 0)),
     r"The `kernel_size` argument must be a tuple of \d+ integers. Received kernel_size=\(1, 0\), including values "
     r"\{0\} that do not satisfy `value > 0`"),
    (lambda: kr.Conv2D(filters=2, kernel_size=(2, 2), strides=(1, 0)),
     r"The `strides` argument must be a tuple of \d+ integers. Received strides=\(1, 0\), including values \{0\} "
     r"that do not satisfy `value > 0`"),
    (lambda: kr.Conv2D(filters=2, kernel_size=(2, 2), strides=2, dilation_rate=(2, 1)),
     r"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=\(2, 2\) and "
     r"dilation_rate=\(2, 1\)"),
    (lambda: kr.Conv2D(filters=5, kernel_size=(2, 2), groups=0),
     "The number of groups must be a positive integer. Received: groups=0."),
    (lambda: kr.Conv2D(filters=5, kernel_size=(2, 2), groups=2),
     "The number of filters must be evenly divisible by the number of groups. Received: groups=2, filters=5."),
], ids=["filters", "kernel_size", "strides", "strides_and_dilation", "groups", "filters_by_groups"])
def test_bad_init_args(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("layer, input_shape, kernel_size, dilation_rate", [
    ("Conv1D", (10, 3), 2, 10),
    ("Conv2D", (10, 10, 3), (2, 2), (10, 10)),
    ("Conv3D", (10, 10, 10, 3), (2, 2, 2), (10, 10, 10)),
])
def test_conv_symbolic_invalid_configuration(layer, input_shape, kernel_size, dilation_rate):
    inputs = kr.Input(shape=input_shape)
    conv = getattr(kr, layer)(filters=1, kernel_size=kernel_size, dilation_rate=dilation_rate)
    with pytest.raises(ValueError):
        conv(inputs)


# Keras asserts the weight carries the constraint; here also what it does: `kr.apply_constraints` (what `fit`
# runs after each step) leaves the weight non-negative.
@pytest.mark.parametrize("argument, weight", [("kernel_constraint", "kernel"), ("bias_constraint", "bias")])
def test_conv_constraints(argument, weight):
    layer = kr.Conv2D(filters=4, kernel_size=3, **{argument: "non_neg"})
    layer.build((None, 5, 5, 3))
    assert isinstance(getattr(layer, argument), kr.constraints.NonNeg)
    with torch.no_grad():
        getattr(layer, weight).fill_(-1.0)
    kr.apply_constraints(layer)
    assert bool((getattr(layer, weight) >= 0).all())


def test_conv_raises_exception_on_zero_dims():
    with pytest.raises(Exception):
        kr.Conv2D(6, [5, 5], 1, "valid")(torch.as_tensor(np.random.rand(3, 4, 4, 4)))


def _tuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def np_conv(x, kernel, bias, strides, padding, data_format, dilation_rate, groups):
    """Grouped, strided, dilated convolution of `x` with a Keras-layout kernel (*kernel_size, in/groups, filters)."""
    n = kernel.ndim - 2
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    steps, rates, sizes = _tuple(strides, n), _tuple(dilation_rate, n), kernel.shape[:n]
    spans = [(k - 1) * d + 1 for k, d in zip(sizes, rates)]
    pads = [(0, 0)] * n
    if padding == "same":
        totals = [max((math.ceil(L / st) - 1) * st + sp - L, 0) for L, st, sp in zip(x.shape[1:-1], steps, spans)]
        pads = [(t // 2, t - t // 2) for t in totals]
    elif padding == "causal":
        pads = [(spans[0] - 1, 0)]
    x = np.pad(x, [(0, 0), *pads, (0, 0)])
    outs = [(L - sp) // st + 1 for L, sp, st in zip(x.shape[1:-1], spans, steps)]
    in_group, filters = kernel.shape[n], kernel.shape[n + 1]
    out_group = filters // groups
    out = np.zeros((x.shape[0], *outs, filters))
    for offset in itertools.product(*(range(k) for k in sizes)):
        window = tuple(slice(o * d, o * d + (m - 1) * st + 1, st) for o, d, m, st in zip(offset, rates, outs, steps))
        patch = x[(slice(None), *window)]
        for g in range(groups):
            out[..., g * out_group:(g + 1) * out_group] += (
                patch[..., g * in_group:(g + 1) * in_group] @ kernel[offset][:, g * out_group:(g + 1) * out_group])
    out = out + bias
    return np.moveaxis(out, -1, 1) if data_format == "channels_first" else out


def conv_case(filters, kernel_size, strides, padding, data_format, dilation_rate, groups):
    return {"filters": filters, "kernel_size": kernel_size, "strides": strides, "padding": padding,
            "data_format": data_format, "dilation_rate": dilation_rate, "groups": groups}


CORRECTNESS = [
    # (layer, input shape, Keras's rtol, init arguments); atol is Keras's default, 1e-6.
    *[("Conv1D", [2, 8, 4], 1e-6, conv_case(*a)) for a in [
        (5, 2, 1, "valid", "channels_last", 1, 1), (6, 2, 1, "same", "channels_last", (2,), 2),
        (6, 2, 1, "causal", "channels_last", (2,), 2), (6, (2,), (2,), "valid", "channels_last", 1, 2),
        (6, (2,), (2,), "valid", "channels_first", 1, 2)]],
    *[("Conv2D", [2, 8, 8, 4], 5e-4, conv_case(*a)) for a in [
        (5, 2, 1, "valid", "channels_last", 1, 1), (4, 3, 2, "same", "channels_last", 1, 1),
        (6, 2, 1, "same", "channels_last", (2, 2), 2), (6, 2, 1, "same", "channels_last", (2, 3), 2),
        (6, (4, 3), (2, 1), "valid", "channels_last", (1, 1), 2),
        (6, (4, 3), (2, 1), "valid", "channels_first", (1, 1), 2)]],
    *[("Conv3D", [2, 8, 8, 8, 4], 1e-3, conv_case(*a)) for a in [
        (5, 2, 1, "valid", "channels_last", 1, 1), (6, 2, 1, "same", "channels_last", (2, 2, 2), 2),
        (6, 2, 1, "same", "channels_last", (2, 3, 4), 2),
        (6, (2, 2, 3), (2, 1, 2), "valid", "channels_last", (1, 1, 1), 2),
        (6, (2, 2, 3), (2, 1, 2), "valid", "channels_first", (1, 1, 1), 2)]],
]


# conv_test.py: ConvCorrectnessTest.
@pytest.mark.parametrize("layer, input_shape, rtol, init_kwargs", CORRECTNESS)
def test_conv_correctness(layer, input_shape, rtol, init_kwargs):
    conv = getattr(kr, layer)(**init_kwargs)
    inputs = np.random.normal(size=input_shape)
    conv.build(tuple(input_shape))
    kernel = np.random.normal(size=tuple(conv.kernel.shape))
    bias = np.random.normal(size=(init_kwargs["filters"],))
    with torch.no_grad():
        conv.kernel.copy_(torch.as_tensor(kernel))
        conv.bias.copy_(torch.as_tensor(bias))
    outputs = conv(torch.as_tensor(inputs, dtype=torch.float32))
    expected = np_conv(inputs, kernel, bias, init_kwargs["strides"], init_kwargs["padding"],
                       init_kwargs["data_format"], init_kwargs["dilation_rate"], init_kwargs["groups"])
    np.testing.assert_allclose(outputs.detach().numpy(), expected, atol=1e-6, rtol=rtol)
