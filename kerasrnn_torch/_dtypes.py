"""Keras's dtype names and torch's dtypes, both ways: the one table."""
from __future__ import annotations

import torch

BY_NAME = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16,
           "int64": torch.int64, "int32": torch.int32, "int16": torch.int16, "int8": torch.int8,
           "uint8": torch.uint8, "bool": torch.bool}
NAMES = {dtype: name for name, dtype in BY_NAME.items()}
FLOATING = ("float32", "float64", "float16", "bfloat16")      # what weights may be


def name_of(dtype: torch.dtype, owner: str) -> str:
    """Keras's name of a torch dtype, or a ValueError naming the owner."""
    if dtype not in NAMES:
        raise ValueError(f"{owner}: dtype {dtype} has no Keras name (expected one of {', '.join(BY_NAME)})")
    return NAMES[dtype]


def from_name(dtype, owner: str, *, allowed=tuple(BY_NAME)) -> torch.dtype:
    """A torch dtype from a torch dtype or Keras's name, among `allowed` names."""
    if isinstance(dtype, torch.dtype) and NAMES.get(dtype) in allowed:
        return dtype
    if isinstance(dtype, str) and dtype in allowed:
        return BY_NAME[dtype]
    raise ValueError(f"{owner}: `dtype` must be a torch dtype or one of {', '.join(allowed)}, got {dtype!r}")


def autocast_enabled(device_type: str) -> bool:
    """Whether torch.autocast is on for this device type; False where autocast does not exist (meta)."""
    return torch.amp.is_autocast_available(device_type) and torch.is_autocast_enabled(device_type)
