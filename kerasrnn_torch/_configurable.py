"""What Keras's small objects (initializers, regularizers, constraints) share: their configuration."""
from __future__ import annotations

from typing import Any, TypeVar

_C = TypeVar("_C", bound="Configurable")


class Configurable:
    """An object whose constructor arguments are its Keras configuration.

    Subclasses return their arguments from `get_config()`, so that
    `type(obj).from_config(obj.get_config())` rebuilds it and `repr` shows them.
    """

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls: type[_C], config: dict[str, Any]) -> _C:
        return cls(**config)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"
