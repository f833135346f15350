"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization, RMSNormalization,
Normalization (Keras's preprocessing layer: a given or adapted mean and variance)."""
from .feature_normalization import Normalization
from .group_unit import GroupNormalization, UnitNormalization
from .normalization import BatchNormalization, LayerNormalization
from .rms import RMSNormalization

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization", "Normalization", "RMSNormalization", "UnitNormalization"]
