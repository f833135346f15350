"""Image preprocessing layers, as Keras's: Resizing, CenterCrop."""
from .center_crop import CenterCrop
from .resizing import Resizing

__all__ = ["Resizing", "CenterCrop"]
