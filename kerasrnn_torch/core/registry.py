"""Keras class names <-> kerasrnn_torch classes: the one table, filled where each class is defined.

A class declares its Keras name on itself, as Keras's `keras_export` /
`register_keras_serializable` put it on the class:

    @register_keras_class("LSTM")
    class LSTM(...): ...

    @register_keras_class("Functional", module="keras.src.models.functional", registered_name="Functional",
                          aliases=("Model",))
    class Model(...): ...

    @register_keras_class(package="my_package")      # a user's layer: "my_package>MyLayer"
    class MyLayer(kr.Layer): ...

`from_config` of the containers (`core/config.deserialize_layer`), the Keras
file reader (`io/keras_config.py`, `io/keras_formats.py`) and the writer
(`io/keras_save.py`) look classes and names up here and nowhere else; a new
layer becomes readable and writable by declaring its name in its own file.
What a Keras file needs beyond the name sits on the class too: `reader=`
(how a Keras file's config builds it, where `from_config` is not the way;
see `core/keras_arguments.py`) and `Layer.keras_sublayer_attributes` (where
its inner layers' weights sit in the file).

This module imports nothing of the package: every other module may use it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T", bound=type)

# reader(cls, config, owner, read_layer) -> layer: a Keras file's layer config -> the layer (nested
# layer entries built with read_layer(entry)). None: the class's from_config.
Reader = Callable[[Any, dict, str, Callable[[dict], Any]], Any]


@dataclass(frozen=True)
class KerasClass:
    """What the registry knows about one class."""
    cls: type
    name: str                       # the class name Keras files give it ("LSTM", "Functional")
    module: str | None              # the "module" entry Keras writes ("keras.layers")
    registered_name: str | None     # the "registered_name" entry ("Functional"; "package>Name" for a user's)
    aliases: tuple[str, ...]        # other names that mean it in a configuration ("Model")
    reader: Reader | None
    writable: bool                  # whether Keras's load_model rebuilds it from a file save_keras writes


_BY_NAME: dict[str, KerasClass] = {}
_BY_CLASS: dict[type, KerasClass] = {}


def register_keras_class(name: str | None = None, *, module: str | None = "keras.layers",
                         package: str | None = None, registered_name: str | None = None,
                         aliases: tuple[str, ...] = (), reader: Reader | None = None,
                         sublayers: tuple[str, ...] = (), writable: bool = True) -> Callable[[T], T]:
    """Class decorator: `cls` is the Keras class `name` (default: the class's own name).

    Args:
        name: the class name Keras files give it.
        module: the "module" entry Keras writes for it ("keras.layers"; "keras" for Sequential).
        package: a user's package, as `keras.saving.register_keras_serializable(package=...)`: the
            registered name becomes "package>name" and the module the class's Python module.
        registered_name: the "registered_name" entry Keras writes (default None, or "package>name").
        aliases: other class names a configuration may use for it.
        reader: how a Keras file's config builds it, where its `from_config` is not the way.
        sublayers: the attributes holding the inner layers its configuration holds, whose weights a Keras file
            keeps under those names (a layer or a list of layers each); set as the class's
            `keras_sublayer_attributes`. Default: the weight-holding child layers, under their attribute names.
        writable: False for a class configurations name but Keras does not export (ConvLSTMCell):
            `from_config` finds it, `save_keras` refuses it.

    A name taken by another class is refused (unregister that class first).
    """
    def decorate(cls: T) -> T:
        keras_name = name or cls.__name__
        written_module = module
        registered = registered_name
        if package is not None:
            registered = registered or f"{package}>{keras_name}"
            written_module = cls.__module__
        entry = KerasClass(cls, keras_name, written_module, registered, tuple(aliases), reader, writable)
        names = {keras_name, *aliases, *([registered] if registered else [])}
        for taken in names:
            other = _BY_NAME.get(taken)
            if other is not None and not _same_class(other.cls, cls):
                raise ValueError(f"register_keras_class: the Keras name {taken!r} is taken by "
                                 f"{other.cls.__module__}.{other.cls.__qualname__}; unregister it first "
                                 f"(kerasrnn_torch.core.registry.unregister_keras_class)")
        for taken in names:
            _BY_NAME[taken] = entry
        _BY_CLASS[cls] = entry
        if sublayers:
            setattr(cls, "keras_sublayer_attributes", tuple(sublayers))
        return cls
    return decorate


def _same_class(a: type, b: type) -> bool:
    """The same class, or the same class defined again (a module reloaded)."""
    return a is b or (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


def unregister_keras_class(cls: type) -> None:
    """Forget `cls` and its names (tests, and a user replacing a registration)."""
    entry = _BY_CLASS.pop(cls, None)
    if entry is None:
        return
    for key in [key for key, value in _BY_NAME.items() if value is entry]:
        del _BY_NAME[key]


def lookup(name: str | None) -> KerasClass | None:
    """The registration a Keras class name (or alias, or registered name) stands for, or None."""
    return _BY_NAME.get(name) if isinstance(name, str) else None


def class_for(name: str | None) -> type | None:
    """The kerasrnn_torch class for a Keras class name, or None."""
    entry = lookup(name)
    return entry.cls if entry is not None else None


def registration_of(cls: type, *, exact: bool = False) -> KerasClass | None:
    """`cls`'s registration; without `exact`, the nearest registered class in its MRO (a subclass counts as its
    base, as a subclass's weights are its base's)."""
    if exact:
        return _BY_CLASS.get(cls)
    for base in cls.__mro__:
        entry = _BY_CLASS.get(base)
        if entry is not None:
            return entry
    return None


def keras_name_of(cls: type, *, exact: bool = False) -> str | None:
    """The Keras class name of `cls` (see `registration_of`), or None."""
    entry = registration_of(cls, exact=exact)
    return entry.name if entry is not None else None


def registered() -> list[KerasClass]:
    """Every registration, in the order the classes were registered."""
    return list(_BY_CLASS.values())
