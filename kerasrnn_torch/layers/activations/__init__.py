"""Activation layers: Activation."""
from .activation import Activation

__all__ = ["Activation"]
