"""Keras's `data_format` argument: which axis holds the features (channels)."""
from __future__ import annotations

from .._checks import one_of
from typing import Any


def standardize(value: Any, owner: str) -> str:
    """"channels_last" or "channels_first" (any case); None means "channels_last".

    Keras reads None from `~/.keras/keras.json` (`image_data_format`, itself
    "channels_last" by default); kerasrnn_torch does not read that file.
    """
    if value is None:
        return "channels_last"
    one_of(str(value).lower(), ("channels_last", "channels_first"), "data_format", owner)
    return str(value).lower()
