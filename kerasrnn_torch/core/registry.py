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

Custom objects, as Keras's `custom_objects=` and `custom_object_scope`: a
mapping of names to classes, active for a `with custom_objects(...)` block
(`from_keras(..., custom_objects=...)`, `from_config`, `kr.saving.custom_object_scope`)
or for good (`global_custom_objects()`, `kr.saving.get_custom_objects()`), is
looked at first by `lookup`, `class_for`, `registration_of` and `registered`,
so a class it names is read and written as if it had registered under that name.

This module imports nothing of the package: every other module may use it.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
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
_FUNCTION_NAMES: dict[Any, str] = {}     # user functions registered with register_serializable


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


def register_serializable(obj: Any, package: str = "Custom", name: str | None = None) -> str:
    """Register a user's class (or function) under "package>name", as `keras.saving.register_keras_serializable`.

    A class is found by its registered name, and by `name` (default: its own name, which is then its Keras
    class name, from which the weights' keys in a file are made) where no other class holds it. As in Keras, a later
    registration under the same registered name replaces the earlier one. A function goes into the global
    custom objects under its registered name. Returns the registered name.
    """
    if not isinstance(package, str) or not package:
        raise ValueError(f"register_keras_serializable: package must be a non-empty string, got {package!r}")
    if name is not None and (not isinstance(name, str) or not name):
        raise ValueError(f"register_keras_serializable: name must be a non-empty string or None, got {name!r}")
    own_name = getattr(obj, "__name__", None)
    if not isinstance(own_name, str):
        raise TypeError(f"register_keras_serializable: expected a class or a function, got {obj!r}")
    registered = f"{package}>{name or own_name}"
    if ">" in (name or own_name):
        raise ValueError(f"register_keras_serializable: a name may not contain '>': {registered!r}")
    if not isinstance(obj, type):
        if not callable(obj):
            raise TypeError(f"register_keras_serializable: expected a class or a function, got {obj!r}")
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _FUNCTION_NAMES[obj] = registered
        return registered
    if not callable(getattr(obj, "get_config", None)):
        raise ValueError(f"register_keras_serializable: {obj.__qualname__} has no get_config() method, so it cannot "
                         "be written to or read from a configuration")
    previous = _BY_NAME.get(registered)
    if previous is not None and not _same_class(previous.cls, obj):
        unregister_keras_class(previous.cls)
    # The Keras class it stands for is the one registered under "package>name": its class name is taken to be
    # `name` (the weights' keys in a Keras file are made from it), by default the class's own.
    keras_name = name or own_name
    free = _BY_NAME.get(keras_name)
    aliases = (keras_name,) if free is None or _same_class(free.cls, obj) else ()
    unregister_keras_class(obj)
    entry = KerasClass(obj, keras_name, obj.__module__, registered, aliases, None, True)
    for taken in {registered, *aliases}:
        _BY_NAME[taken] = entry
    _BY_CLASS[obj] = entry
    return registered


def registered_name_of(obj: Any) -> str:
    """The name `obj` (a class or function) is registered under, as Keras's `get_registered_name`: its own
    name where it is not registered."""
    if isinstance(obj, type):
        entry = _BY_CLASS.get(obj)
        if entry is not None:
            return entry.registered_name or entry.name
    else:
        try:
            function_name = _FUNCTION_NAMES.get(obj)
        except TypeError:           # unhashable
            function_name = None
        if function_name is not None:
            return function_name
    own: str = getattr(obj, "__name__", type(obj).__name__)
    return own


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
    """The registration a Keras class name (or alias, or registered name) stands for, or None.

    A class the active custom objects give under that name comes first (`custom_objects`).
    """
    if not isinstance(name, str):
        return None
    custom = custom_object(name)
    if isinstance(custom, type):
        return _custom_entry(name, custom)
    return _BY_NAME.get(name)


def class_for(name: str | None) -> type | None:
    """The kerasrnn_torch class for a Keras class name, or None."""
    entry = lookup(name)
    return entry.cls if entry is not None else None


def registration_of(cls: type, *, exact: bool = False) -> KerasClass | None:
    """`cls`'s registration; without `exact`, the nearest registered class in its MRO (a subclass counts as its
    base, as a subclass's weights are its base's)."""
    named = _custom_names()
    for base in ((cls,) if exact else cls.__mro__):
        entry = _BY_CLASS.get(base)
        if entry is not None:
            return entry
        if base in named:
            return _custom_entry(named[base], base)
    return None


def keras_name_of(cls: type, *, exact: bool = False) -> str | None:
    """The Keras class name of `cls` (see `registration_of`), or None."""
    entry = registration_of(cls, exact=exact)
    return entry.name if entry is not None else None


def registered() -> list[KerasClass]:
    """Every registration, in the order the classes were registered, then the active custom objects' classes."""
    entries = list(_BY_CLASS.values())
    entries += [_custom_entry(name, cls) for cls, name in _custom_names().items() if cls not in _BY_CLASS]
    return entries


# ------------------------------------------------------------ custom objects
_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_SCOPES = threading.local()


def _active_scopes() -> list[dict[str, Any]]:
    scopes: list[dict[str, Any]] | None = getattr(_SCOPES, "stack", None)
    if scopes is None:
        scopes = []
        _SCOPES.stack = scopes
    return scopes


def global_custom_objects() -> dict[str, Any]:
    """The custom objects always in force (Keras's `get_custom_objects()`): edit the dictionary itself."""
    return _GLOBAL_CUSTOM_OBJECTS


def active_custom_objects() -> dict[str, Any]:
    """Every custom object in force now: the global ones, overridden by the scopes, innermost last."""
    merged = dict(_GLOBAL_CUSTOM_OBJECTS)
    for scope in _active_scopes():
        merged.update(scope)
    return merged


@contextlib.contextmanager
def custom_objects(*mappings: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
    """Within the block, the names of `mappings` (name -> class or function) mean those objects.

    Nested blocks add to the outer ones (an inner name wins); each thread has its own blocks.
    Yields the block's merged mapping.
    """
    scope: dict[str, Any] = {}
    for mapping in mappings:
        if mapping is None:
            continue
        if not isinstance(mapping, Mapping):
            raise TypeError(f"custom_objects must be a dict of names to classes, got {mapping!r}")
        for key, value in mapping.items():
            if not isinstance(key, str):
                raise TypeError(f"custom_objects: the names must be strings, got {key!r} for {value!r}")
        scope.update(mapping)
    stack = _active_scopes()
    stack.append(scope)
    try:
        yield scope
    finally:
        stack.remove(scope)


def custom_object(name: str) -> Any | None:
    """The object the active custom objects give for `name` (the innermost scope first), or None."""
    for scope in reversed(_active_scopes()):
        if name in scope:
            return scope[name]
    return _GLOBAL_CUSTOM_OBJECTS.get(name)


def _custom_names() -> dict[type, str]:
    """{class: the name the active custom objects give it} (a class given under two names keeps the first)."""
    named: dict[type, str] = {}
    for scope in [_GLOBAL_CUSTOM_OBJECTS, *_active_scopes()]:
        for key, value in scope.items():
            if isinstance(value, type) and value not in named:
                named[value] = key
    return named


def _custom_entry(name: str, cls: type) -> KerasClass:
    """A class given as a custom object: its own registration if it has one, else one made from the name."""
    entry = _BY_CLASS.get(cls)
    if entry is not None:
        return entry
    keras_name = name.rpartition(">")[2]          # "package>Name" -> "Name"
    registered_name = name
    return KerasClass(cls, keras_name, cls.__module__, registered_name, (), None, True)


# Functions a lower module calls but a higher one defines (`kr.models.load_model` is `kr.saving.load_model`,
# which reads files through io/): the higher module provides them when it is imported.
_PROVIDED: dict[str, Callable[..., Any]] = {}


def provide(name: str, function: Callable[..., Any]) -> None:
    """Make `function` what `provided(name)` returns (called by the module that defines it, on import)."""
    _PROVIDED[name] = function


def provided(name: str) -> Callable[..., Any]:
    """The function a higher module provided under `name`."""
    try:
        return _PROVIDED[name]
    except KeyError:
        raise RuntimeError(f"{name} is provided by a higher part of kerasrnn_torch (io/, saving/) when it is "
                           "imported: import kerasrnn_torch first") from None


def unknown_class_message(class_name: Any, registered_name: Any = None) -> str:
    """The fix for a configuration naming a class nothing here knows."""
    name = registered_name if isinstance(registered_name, str) and registered_name else class_name
    shown = class_name if isinstance(class_name, str) else name
    return (f"the class {name!r} is neither a kerasrnn_torch class nor a registered one. If it is your own class, "
            f"pass custom_objects={{{shown!r}: {shown}}} (a kr.Layer subclass), or register it with "
            "@kr.saving.register_keras_serializable(package=...) as it was registered in Keras")
