"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization."""
from .group_unit import GroupNormalization, UnitNormalization
from .normalization import BatchNormalization, LayerNormalization

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization", "UnitNormalization"]
