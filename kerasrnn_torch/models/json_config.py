"""Keras's JSON form of a model: `model.to_json()` and `kr.models.model_from_json`.

The JSON is the model's serialized form (`kr.saving.serialize_keras_object`: module, class name,
configuration), which Keras's `keras.models.model_from_json` reads too; `model_from_json` reads
what either writes and makes the model again, with new weights.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..core import registry


def to_json(model: Any, **kwargs: Any) -> str:
    """The model's architecture as Keras's JSON string (`kwargs` go to `json.dumps`, e.g. `indent=2`); no
    weights (`save_weights` or `state_dict()` keep them)."""
    return json.dumps(registry.provided("serialize_keras_object")(model), **kwargs)


def model_from_json(json_string: str, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """The model `json_string` describes (from `model.to_json()`, kr's or Keras's), with new weights.

    `custom_objects` (`{"Name": Class}`) names classes of the JSON that are not registered.
    """
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise TypeError(f"model_from_json: expected the JSON string of model.to_json(), got "
                        f"{type(json_string).__name__}")
    try:
        config = json.loads(json_string)
    except ValueError as error:
        raise ValueError(f"model_from_json: the string is not JSON ({error})") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("model_from_json: the JSON does not describe a model (a dict with 'class_name' and "
                         f"'config' is expected), got {str(json_string)[:80]!r}")
    return registry.provided("deserialize_keras_object")(config, custom_objects=custom_objects)
