"""`standardize_dtype`: Keras's `keras.utils.standardize_dtype`, Keras's dtype names."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .. import _dtypes

# Keras's dtype names (Keras's ALLOWED_DTYPES), and the Python types it maps to them.
_KERAS_DTYPES = ("float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
                 "int64", "bfloat16", "bool", "string", "float8_e4m3fn", "float8_e5m2", "complex64", "complex128")
_PYTHON_TYPES: dict[Any, str] = {bool: "bool", int: "int32", float: "float32", str: "string", "int": "int32",
                                 complex: "complex64"}


def standardize_dtype(dtype: Any) -> str:
    """Keras's name of a dtype, as `keras.utils.standardize_dtype`: "float32" for None, a torch dtype, a NumPy
    dtype or type, a Python type (`float` -> "float32", `int` -> "int32") or a name.

    An unknown dtype raises a ValueError, as Keras's does.
    """
    if dtype is None:
        return "float32"       # Keras's floatx
    try:
        dtype = _PYTHON_TYPES.get(dtype, dtype)
    except TypeError:          # an unhashable value: no Python type
        pass
    if isinstance(dtype, torch.dtype):
        name = _dtypes.NAMES.get(dtype, str(dtype).split(".")[-1])
    elif isinstance(dtype, np.dtype):
        name = dtype.name
    elif isinstance(dtype, type):
        name = np.dtype(dtype).name if issubclass(dtype, np.generic) else dtype.__name__
    elif isinstance(dtype, str):
        name = dtype
    else:
        name = getattr(dtype, "name", str(dtype))
    if name not in _KERAS_DTYPES:
        raise ValueError(f"standardize_dtype: invalid dtype {dtype!r}; Keras's dtypes are {', '.join(_KERAS_DTYPES)}")
    return str(name)
