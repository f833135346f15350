"""Convolution layers: Conv1D, Conv2D, Conv3D, Conv1DTranspose, Conv2DTranspose."""
from .conv import Conv2D, Conv3D
from .conv1d import Conv1D
from .conv_transpose import Conv1DTranspose, Conv2DTranspose

__all__ = ["Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D"]
