"""Normalization layers: BatchNormalization, LayerNormalization."""
from .normalization import BatchNormalization, LayerNormalization

__all__ = ["BatchNormalization", "LayerNormalization"]
