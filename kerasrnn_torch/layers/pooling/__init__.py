"""Pooling layers: MaxPooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D."""
from .pooling import GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D

__all__ = ["GlobalAveragePooling1D", "GlobalMaxPooling1D", "MaxPooling1D"]
