"""Pooling layers: max and average pooling over windows, and global pooling, over 1 to 3 spatial axes."""
from .pooling import GlobalAveragePooling1D, GlobalMaxPooling1D, MaxPooling1D
from .pooling_nd import (AveragePooling1D, AveragePooling2D, AveragePooling3D, GlobalAveragePooling2D,
                         GlobalAveragePooling3D, GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPooling2D, MaxPooling3D)

__all__ = ["AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
           "GlobalMaxPooling3D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D"]
