"""Convolution layers: Conv1D."""
from .conv1d import Conv1D

__all__ = ["Conv1D"]
