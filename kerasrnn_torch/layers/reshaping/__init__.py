"""Reshaping layers: Flatten, Permute, RepeatVector, Reshape, and the padding, cropping and upsampling
layers over 1, 2 or 3 spatial axes."""
from .reshaping import Flatten, Permute, RepeatVector, Reshape
from .sequence_padding import Cropping1D, UpSampling1D, ZeroPadding1D
from .spatial_padding import Cropping2D, Cropping3D, UpSampling2D, UpSampling3D, ZeroPadding2D, ZeroPadding3D

__all__ = ["Cropping1D", "Cropping2D", "Cropping3D", "Flatten", "Permute", "RepeatVector", "Reshape",
           "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"]
