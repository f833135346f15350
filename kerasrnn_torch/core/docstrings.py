"""Constructor docstrings: `help(layer.__init__)` shows the layer's own arguments, never torch's text.

A layer's arguments are documented once, in its class docstring (Keras's way). Its `__init__` usually
has no docstring, and `inspect.getdoc` would then fall back to `torch.nn.Module.__init__`'s ("Initialize
internal Module state"), which is what `help()` shows for the constructor.
"""
from __future__ import annotations

import inspect
from typing import Any


def constructor_docstring(cls: type) -> str | None:
    """The class docstring's argument section (or the whole docstring), introduced as the constructor's."""
    doc = inspect.cleandoc(cls.__doc__) if cls.__doc__ else ""
    if not doc:
        return None
    lines = doc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() in ("Args:", "Arguments:")), None)
    body = "\n".join(lines[start:] if start is not None else lines)
    return f"Make a {cls.__name__}; its arguments, as the class documents them:\n\n{body}"


def document_constructor(cls: type) -> None:
    """Give `cls.__init__`, when the class defines one without a docstring, `constructor_docstring(cls)`."""
    init: Any = vars(cls).get("__init__")
    if init is None or getattr(init, "__doc__", None):
        return
    doc = constructor_docstring(cls)
    if doc is not None:
        try:
            init.__doc__ = doc
        except (AttributeError, TypeError):      # a builtin slot wrapper: nothing to document
            pass
