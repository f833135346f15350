"""Convolution layers: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv1D/2D, SeparableConv1D/2D."""
from .conv import Conv2D, Conv3D
from .conv1d import Conv1D
from .conv_transpose import Conv1DTranspose, Conv2DTranspose, Conv3DTranspose
from .depthwise_conv import DepthwiseConv1D, DepthwiseConv2D
from .separable_conv import SeparableConv1D, SeparableConv2D

__all__ = ["Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose",
           "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"]
