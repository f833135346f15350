"""Reshaping layers: Flatten, Permute, RepeatVector, Reshape, ZeroPadding1D, Cropping1D, UpSampling1D."""
from .reshaping import Flatten, Permute, RepeatVector, Reshape
from .sequence_padding import Cropping1D, UpSampling1D, ZeroPadding1D

__all__ = ["Cropping1D", "Flatten", "Permute", "RepeatVector", "Reshape", "UpSampling1D", "ZeroPadding1D"]
