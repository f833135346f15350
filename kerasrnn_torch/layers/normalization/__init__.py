"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization, RMSNormalization."""
from .group_unit import GroupNormalization, UnitNormalization
from .normalization import BatchNormalization, LayerNormalization
from .rms import RMSNormalization

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization", "RMSNormalization", "UnitNormalization"]
