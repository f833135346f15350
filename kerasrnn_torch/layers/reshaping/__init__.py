"""Reshaping layers: Flatten, Permute, RepeatVector, Reshape."""
from .reshaping import Flatten, Permute, RepeatVector, Reshape

__all__ = ["Flatten", "Permute", "RepeatVector", "Reshape"]
