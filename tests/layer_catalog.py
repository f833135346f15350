"""One small working example of every public layer: its constructor arguments and a batch for it.

Shared by the tests that must hold for every layer (state_dict before the first call, export, ...).
`test_layer_catalog.py` checks that every layer class in `kr.__all__` has an entry here.
"""
import torch

import kerasrnn_torch as kr

CONTAINERS = {"Layer", "Model", "Sequential", "InputLayer"}


def _x(*shape):
    return lambda: torch.randn(*shape)


def _ids():
    return torch.randint(1, 20, (2, 6))


CATALOG = {  # class name -> (constructor arguments, a function making the inputs: a tensor, a list of them,
    #              or a tuple of positional arguments)
    "Dense": ({"units": 4}, _x(2, 5, 3)),
    "Dropout": ({"rate": 0.5}, _x(2, 5, 3)),
    "EinsumDense": ({"equation": "abc,cde->abde", "output_shape": (None, 2, 4), "bias_axes": "de"}, _x(2, 5, 3)),
    "Embedding": ({"input_dim": 20, "output_dim": 4}, _ids),
    "GaussianDropout": ({"rate": 0.3}, _x(2, 5, 3)),
    "GaussianNoise": ({"stddev": 0.1}, _x(2, 5, 3)),
    "AlphaDropout": ({"rate": 0.2, "seed": 1}, _x(2, 5, 3)),
    "ActivityRegularization": ({"l1": 0.01, "l2": 0.02}, _x(2, 5, 3)),
    "Rescaling": ({"scale": 0.5, "offset": 1.0}, _x(2, 5, 3)),
    "Resizing": ({"height": 3, "width": 4}, _x(2, 5, 6, 3)),
    "CenterCrop": ({"height": 3, "width": 4}, _x(2, 5, 6, 3)),
    "RandomFlip": ({"seed": 1}, _x(2, 5, 6, 3)),
    "RandomCrop": ({"height": 3, "width": 4, "seed": 1}, _x(2, 5, 6, 3)),
    "RandomTranslation": ({"height_factor": 0.2, "width_factor": 0.1, "seed": 1}, _x(2, 5, 6, 3)),
    "RandomZoom": ({"height_factor": 0.2, "seed": 1}, _x(2, 5, 6, 3)),
    "RandomRotation": ({"factor": 0.2, "seed": 1}, _x(2, 5, 6, 3)),
    "Identity": ({}, _x(2, 5, 3)),
    "Lambda": ({"function": lambda t: 2 * t}, _x(2, 5, 3)),
    "Masking": ({"mask_value": 0.0}, _x(2, 5, 3)),
    "SpatialDropout1D": ({"rate": 0.5}, _x(2, 5, 3)),
    "SpatialDropout2D": ({"rate": 0.5}, _x(2, 4, 4, 3)),
    "SpatialDropout3D": ({"rate": 0.5, "data_format": "channels_first"}, _x(2, 3, 2, 2, 2)),
    "Activation": ({"activation": "relu"}, _x(2, 5, 3)),
    "ELU": ({}, _x(2, 5, 3)),
    "LeakyReLU": ({}, _x(2, 5, 3)),
    "PReLU": ({}, _x(2, 5, 3)),
    "ReLU": ({}, _x(2, 5, 3)),
    "Softmax": ({}, _x(2, 5, 3)),
    "Bidirectional": ({"layer": kr.LSTM(4, return_sequences=True)}, _x(2, 5, 3)),
    "ConvLSTM1D": ({"filters": 2, "kernel_size": 3, "padding": "same"}, _x(2, 3, 6, 2)),
    "ConvLSTM2D": ({"filters": 2, "kernel_size": 3, "padding": "same"}, _x(2, 3, 5, 5, 2)),
    "ConvLSTM3D": ({"filters": 2, "kernel_size": 3, "padding": "same"}, _x(2, 2, 4, 4, 4, 2)),
    "ConvLSTMCell": ({"rank": 1, "filters": 2, "kernel_size": 3, "padding": "same"}, None),
    "GRU": ({"units": 4}, _x(2, 5, 3)),
    "GRUCell": ({"units": 4}, None),
    "LSTM": ({"units": 4}, _x(2, 5, 3)),
    "LSTMCell": ({"units": 4}, None),
    "RNN": ({"cell": kr.LSTMCell(4)}, _x(2, 5, 3)),
    "SimpleRNN": ({"units": 4}, _x(2, 5, 3)),
    "SimpleRNNCell": ({"units": 4}, None),
    "StackedRNNCells": ({"cells": [kr.LSTMCell(4), kr.GRUCell(3)]}, None),
    "TimeDistributed": ({"layer": kr.Dense(4)}, _x(2, 5, 3)),
    "Conv1D": ({"filters": 4, "kernel_size": 3}, _x(2, 7, 3)),
    "Conv1DTranspose": ({"filters": 4, "kernel_size": 3}, _x(2, 7, 3)),
    "Conv2D": ({"filters": 4, "kernel_size": 3}, _x(2, 6, 6, 3)),
    "Conv2DTranspose": ({"filters": 4, "kernel_size": 3}, _x(2, 6, 6, 3)),
    "Conv3D": ({"filters": 4, "kernel_size": 2}, _x(2, 4, 4, 4, 3)),
    "Conv3DTranspose": ({"filters": 4, "kernel_size": 2}, _x(2, 3, 3, 3, 3)),
    "DepthwiseConv1D": ({"kernel_size": 3, "depth_multiplier": 2}, _x(2, 7, 3)),
    "DepthwiseConv2D": ({"kernel_size": 3}, _x(2, 6, 6, 3)),
    "SeparableConv1D": ({"filters": 4, "kernel_size": 3}, _x(2, 7, 3)),
    "SeparableConv2D": ({"filters": 4, "kernel_size": 3, "depth_multiplier": 2}, _x(2, 6, 6, 3)),
    "Add": ({}, lambda: [torch.randn(2, 5, 3), torch.randn(2, 5, 3)]),
    "Average": ({}, lambda: [torch.randn(2, 5, 3), torch.randn(2, 5, 3)]),
    "Concatenate": ({}, lambda: [torch.randn(2, 5, 3), torch.randn(2, 5, 2)]),
    "Dot": ({"axes": (2, 2)}, lambda: [torch.randn(2, 5, 3), torch.randn(2, 4, 3)]),
    "Maximum": ({}, lambda: [torch.randn(2, 5, 3), torch.randn(2, 5, 3)]),
    "Minimum": ({}, lambda: [torch.randn(2, 5, 3), torch.randn(2, 5, 3)]),
    "Multiply": ({}, lambda: [torch.randn(2, 5, 3), torch.randn(2, 5, 3)]),
    "Subtract": ({}, lambda: [torch.randn(2, 5, 3), torch.randn(2, 5, 3)]),
    "Cropping1D": ({"cropping": 1}, _x(2, 5, 3)),
    "Flatten": ({}, _x(2, 5, 3)),
    "Permute": ({"dims": (2, 1)}, _x(2, 5, 3)),
    "RepeatVector": ({"n": 3}, _x(2, 3)),
    "Reshape": ({"target_shape": (3, 5)}, _x(2, 5, 3)),
    "UpSampling1D": ({"size": 2}, _x(2, 5, 3)),
    "ZeroPadding1D": ({"padding": 1}, _x(2, 5, 3)),
    "ZeroPadding2D": ({"padding": 1}, _x(2, 4, 4, 3)),
    "ZeroPadding3D": ({"padding": 1}, _x(2, 3, 3, 3, 2)),
    "Cropping2D": ({"cropping": 1}, _x(2, 5, 5, 3)),
    "Cropping3D": ({"cropping": 1}, _x(2, 4, 4, 4, 2)),
    "UpSampling2D": ({"size": 2, "interpolation": "bilinear"}, _x(2, 3, 3, 3)),
    "UpSampling3D": ({"size": 2}, _x(2, 2, 2, 2, 3)),
    "AveragePooling1D": ({"pool_size": 2}, _x(2, 6, 3)),
    "AveragePooling2D": ({"pool_size": 2}, _x(2, 6, 6, 3)),
    "AveragePooling3D": ({"pool_size": 2}, _x(2, 4, 4, 4, 3)),
    "GlobalAveragePooling1D": ({}, _x(2, 5, 3)),
    "GlobalAveragePooling2D": ({}, _x(2, 5, 5, 3)),
    "GlobalAveragePooling3D": ({}, _x(2, 4, 4, 4, 3)),
    "GlobalMaxPooling1D": ({}, _x(2, 5, 3)),
    "GlobalMaxPooling2D": ({}, _x(2, 5, 5, 3)),
    "GlobalMaxPooling3D": ({}, _x(2, 4, 4, 4, 3)),
    "MaxPooling1D": ({"pool_size": 2}, _x(2, 6, 3)),
    "MaxPooling2D": ({"pool_size": 2}, _x(2, 6, 6, 3)),
    "MaxPooling3D": ({"pool_size": 2}, _x(2, 4, 4, 4, 3)),
    "BatchNormalization": ({}, _x(2, 5, 3)),
    "GroupNormalization": ({"groups": 2}, _x(2, 5, 4)),
    "LayerNormalization": ({}, _x(2, 5, 3)),
    "UnitNormalization": ({}, _x(2, 5, 3)),
    "RMSNormalization": ({}, _x(2, 5, 3)),
    "Normalization": ({"mean": [0.5, -1.0, 2.0], "variance": [1.0, 4.0, 0.25]}, _x(2, 5, 3)),
    "AdditiveAttention": ({}, lambda: [torch.randn(2, 5, 3), torch.randn(2, 4, 3)]),
    "Attention": ({}, lambda: [torch.randn(2, 5, 3), torch.randn(2, 4, 3)]),
    "MultiHeadAttention": ({"num_heads": 2, "key_dim": 3}, lambda: (torch.randn(2, 5, 3), torch.randn(2, 4, 3))),
}
"""Cells (inputs None) run inside `kr.RNN` (see `make`)."""


def public_layer_names():
    return sorted(name for name in kr.__all__ if isinstance(getattr(kr, name), type)
                  and issubclass(getattr(kr, name), torch.nn.Module) and name not in CONTAINERS)


def make(name):
    """A fresh layer of class `name` (a cell wrapped in `kr.RNN`) and a function making its inputs."""
    arguments, inputs = CATALOG[name]
    arguments = {key: (_fresh(value)) for key, value in arguments.items()}
    layer = getattr(kr, name)(**arguments)
    if inputs is None:                               # a cell: run it over time
        return kr.RNN(layer), _x(2, 5, 3) if name != "ConvLSTMCell" else _x(2, 3, 6, 2)
    return layer, inputs


def _fresh(value):
    """Sublayers in the arguments are made anew for every layer (a layer belongs to one parent)."""
    if isinstance(value, torch.nn.Module) and hasattr(value, "get_config"):
        return type(value).from_config(value.get_config())
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    return value


def call(layer, inputs):
    """`layer` on `inputs` as the catalog gives them: a tuple is the call's positional arguments."""
    return layer(*inputs) if isinstance(inputs, tuple) else layer(inputs)
