"""Argument validators shared by every layer; they produce the standard messages.

Each check names what was expected and what came, in the user's vocabulary.
"""
from __future__ import annotations

import numbers

from ._dtypes import autocast_enabled


def describe(layer) -> str:
    """`LSTM 'lstm_1'`: how messages name a layer."""
    return f"{type(layer).__name__} '{getattr(layer, 'name', '?')}'"


def positive_int(value, argument: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: `{argument}` must be a positive integer, got {value!r}")
    return int(value)


def strictly_positive(value, argument: str, owner: str) -> int:
    """A positive int; zero or a negative int is refused in Keras's sentence for it (its tests match it)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value <= 0:
        raise ValueError(f"{owner}: Invalid value for argument `{argument}`. Expected a strictly positive value. "
                         f"Received {argument}={int(value)}.")
    return positive_int(value, argument, owner)


def rate(value, argument: str, owner: str) -> float:
    """A dropout rate in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{owner}: `{argument}` must be a float in [0, 1), got {value!r}")
    return float(value)


def one_of(value, allowed, argument: str, owner: str):
    if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
        choices = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{owner}: `{argument}` must be one of {choices}; got {value!r}")
    return value


def shape_text(shape) -> str:
    """`(4, None, 3)`, and `(24,)` for one axis, as Python prints tuples."""
    parts = ["None" if d is None else str(int(d)) for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def tracing() -> bool:
    """True while torch.compile or torch.export traces a call: sizes may be symbolic there."""
    import torch
    return torch.compiler.is_compiling()


def check_sizes(condition, message, error: type[Exception] = ValueError) -> None:
    """Raise `error(message())` when `condition` is false; `message` is a function, called only then.

    While tracing, `condition` may be a symbolic bool (build it with `==`, `both` and `sizes_equal`,
    never `and`/`or`, which would fix the sizes to the example's): it becomes `torch._check`, which
    keeps the sizes symbolic and records the condition in the exported program.
    """
    if tracing() and not isinstance(condition, bool):
        import torch
        torch._check(condition, message)
    elif not condition:
        raise error(message())


def require_static_axes(layer, inputs, axes, why: str) -> None:
    """While exporting, refuse a dynamic size on `axes` of `inputs`, naming the layer, the axis and `why`.

    Without it torch.export would fix the axis to the example's size (and torch.onnx.export would
    quietly write a graph of that size).
    """
    import torch
    if not torch.compiler.is_exporting():
        return
    from torch.fx.experimental.symbolic_shapes import is_concrete_int
    for axis in axes:
        if not is_concrete_int(inputs.shape[axis]):
            raise ValueError(f"{describe(layer)}: axis {axis} of its input is dynamic in this export, but {why}; "
                             f"export it with axis {axis} static (Dim.STATIC, or leave it out of dynamic_shapes)")


def refuse_legacy_onnx(owner: str, why: str) -> None:
    """Raise at once under the TorchScript-based ONNX exporter (`dynamo=False`), pointing to `dynamo=True`."""
    import torch
    if torch.jit.is_tracing() and torch.onnx.is_in_onnx_export():
        raise RuntimeError(f"{owner} does not export with the TorchScript-based ONNX exporter (dynamo=False): "
                           f"{why}. Use torch.onnx.export(..., dynamo=True), which exports it")


def sizes_equal(a, b):
    """Whether two shapes are equal, as a bool, or a symbolic bool for traced sizes (no guard taken)."""
    if len(a) != len(b):
        return False
    equal = True
    for i, j in zip(a, b):
        equal = both(equal, i == j)
    return equal


def both(a, b):
    """`a and b` for bools; `a & b` (no guard) when either is a symbolic bool of a traced call."""
    import torch
    if isinstance(a, torch.SymBool) or isinstance(b, torch.SymBool):
        return a & b
    return bool(a) and bool(b)


def require_tensor(value, owner: str, expected: str = "a tensor"):
    """Raise a TypeError naming what came when `value` is not a tensor (a list, a NumPy array, ...)."""
    import torch
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{owner} expects {expected}, got {type(value).__name__} (convert it with torch.as_tensor)")
    return value


def shape_of(value) -> tuple:
    """The shape of a tensor, an array or nested lists (without converting a tensor)."""
    import numpy as np
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


_NON_NUMERIC_KINDS = {"U": "text", "S": "bytes", "O": "Python objects", "V": "raw bytes", "M": "dates",
                      "m": "time spans", "c": "complex numbers"}


def weight_tensor(value, target, owner: str, weight: str):
    """`value` (a tensor, a NumPy array or nested lists) as a tensor in `target`'s dtype and on its device.

    Refuses values that are not real numbers (text, bytes, Python objects,
    complex numbers) with a TypeError naming `owner`, the `weight` and the
    dtype. The result is a new tensor: nothing is written to `target`.
    """
    import numpy as np
    import torch
    if isinstance(value, torch.Tensor):
        if value.is_complex():
            raise TypeError(f"{owner}: weight {weight} must hold real numbers, got a tensor of dtype {value.dtype} "
                            "(complex numbers)")
        tensor = value.detach()
    else:
        array = np.asarray(value)
        if array.dtype.kind in _NON_NUMERIC_KINDS:
            raise TypeError(f"{owner}: weight {weight} must hold real numbers (float, int or bool), got an array of "
                            f"dtype {array.dtype} ({_NON_NUMERIC_KINDS[array.dtype.kind]})")
        tensor = torch.from_numpy(np.array(array, dtype=array.dtype.newbyteorder("="), order="C"))
    return tensor.to(device=target.device, dtype=target.dtype, copy=True)


def weight_tensors(values, targets, labels, owner: str) -> list:
    """`weight_tensor` for each (value, target, label): all converted, or a TypeError and none."""
    return [weight_tensor(value, target, owner, label) for value, target, label in zip(values, targets, labels)]


def shape_hint(value, argument: str, owner: str):
    """An input shape without the batch axis: a tuple of positive integers or None (unknown); None passes."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"{owner}: `{argument}` must be a tuple of positive integers or None (the input's shape "
                         f"without the batch axis), got {value!r}")
    shape = tuple(value)
    for size in shape:
        if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Integral) or size <= 0):
            raise ValueError(f"{owner}: `{argument}` must be a tuple of positive integers or None (the input's "
                             f"shape without the batch axis), got {shape!r}")
    return tuple(None if size is None else int(size) for size in shape)


def require_float_input(inputs, owner: str) -> None:
    """Floating-point inputs (a layer computing in its weights' dtype)."""
    if not inputs.is_floating_point():
        raise TypeError(f"{owner} expects floating-point inputs, got dtype {inputs.dtype}")


def require_weight_dtype(inputs, weight_dtype, owner: str) -> None:
    """Inputs in the weights' dtype, unless torch.autocast picks the compute dtype."""
    if inputs.dtype != weight_dtype and not autocast_enabled(inputs.device.type):
        raise TypeError(f"{owner} has {weight_dtype} weights, got {inputs.dtype} input; "
                        "convert the input or the layer (e.g. layer.to(torch.float64))")


def add_note(error: BaseException, note: str) -> None:
    """Add `note` to an error being re-raised (`BaseException.add_note`, new in Python 3.11; 3.10 raises it as it is)."""
    if hasattr(error, "add_note"):
        error.add_note(note)
