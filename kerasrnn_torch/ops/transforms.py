"""`keras.ops`'s function transforms: `custom_gradient` (a function whose gradient you write), `jvp` (forward-mode
Jacobian-vector products, with `torch.func.jvp`) and `vectorize` (NumPy's `vectorize`, batched with `torch.vmap`),
as Keras's torch backend has them.

They take or make Python callables. `jvp` on symbolic tensors (`kr.Input`) records Keras's `JVP` operation, as
Keras does (the model runs `fun`; no Keras file can hold it). The functions that `custom_gradient` and
`vectorize` make run eagerly, inside a layer's `call`: on symbolic tensors they raise (Keras's give no usable
graph there either: no custom gradient, or an error).
"""
from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch

from .control import _eager_only, require_callable
from .core import tensor
from .operation import operation


# ------------------------------------------------------------------ custom_gradient
class _CustomGradient(torch.autograd.Function):
    """Runs `f(*args)` -> `(output, grad_fn)` forward; backward returns `grad_fn(*args, upstream=...)`."""

    @staticmethod
    def forward(ctx: Any, f: Callable[..., Any], state: dict[str, Any], *tensors: torch.Tensor) -> Any:
        args = list(state["args"])
        for position, value in zip(state["positions"], tensors):
            args[position] = value
        result = f(*args)
        if not (isinstance(result, (tuple, list)) and len(result) == 2 and callable(result[1])):
            raise TypeError(f"kr.ops.custom_gradient: {getattr(f, '__name__', f)} must return a pair (output, "
                            f"grad_fn), grad_fn a callable, got {type(result).__name__}")
        output, grad_fn = result
        outputs = list(output) if isinstance(output, (tuple, list)) else [output]
        if not all(isinstance(value, torch.Tensor) for value in outputs):
            raise TypeError(f"kr.ops.custom_gradient: {getattr(f, '__name__', f)}'s output must be a tensor or a "
                            f"tuple or list of tensors, got {output!r}")
        state["structure"] = type(output) if isinstance(output, (tuple, list)) else None
        ctx.grad_fn, ctx.state = grad_fn, state
        ctx.save_for_backward(*tensors)
        return tuple(outputs) if state["structure"] is not None else output

    @staticmethod
    def backward(ctx: Any, *upstream: torch.Tensor) -> Any:
        state = ctx.state
        args = list(state["args"])
        for position, value in zip(state["positions"], ctx.saved_tensors):
            args[position] = value
        gradient: Any = upstream if state["structure"] is not None else upstream[0]
        if state["structure"] is list:
            gradient = list(gradient)
        grads = ctx.grad_fn(*args, upstream=gradient)
        grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
        if len(grads) != len(args):
            raise ValueError(f"kr.ops.custom_gradient: grad_fn must return one gradient per argument of the "
                             f"function ({len(args)}), got {len(grads)}")
        return (None, None, *(grads[position] for position in state["positions"]))


def custom_gradient(f: Callable[..., Any]) -> Callable[..., Any]:
    """`f` with the gradient it defines, as `keras.ops.custom_gradient` (a decorator): `f(*args)` returns
    `(output, grad_fn)`, and autograd takes the gradients of `args` from `grad_fn(*args, upstream=...)` (one
    per argument; `upstream` the gradient of `output`, a tuple of them for a tuple of outputs).

    >>> @custom_gradient
    ... def clipped_identity(x):
    ...     return x, lambda *args, upstream: upstream.clamp(-1.0, 1.0)
    """
    if not callable(f):
        raise TypeError(f"kr.ops.custom_gradient: f must be a callable returning (output, grad_fn), got {f!r}")

    @functools.wraps(f)
    def with_gradient(*args: Any, **kwargs: Any) -> Any:
        _eager_only("custom_gradient", args, kwargs)
        if kwargs:
            raise TypeError(f"kr.ops.custom_gradient: pass {getattr(f, '__name__', 'the function')}'s arguments by "
                            f"position (each gets a gradient), got keyword arguments {sorted(kwargs)}")
        positions = [i for i, value in enumerate(args) if isinstance(value, torch.Tensor)]
        state = {"args": args, "positions": positions}
        output = _CustomGradient.apply(f, state, *(args[i] for i in positions))
        return list(output) if state.get("structure") is list else output
    return with_gradient


# ------------------------------------------------------------------ jvp
def jvp(fun: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """`(fun(*primals), J(primals) @ tangents)` (and `fun`'s auxiliary output with `has_aux=True`, `fun` then
    returning `(output, aux)`), by forward-mode differentiation, as `keras.ops.jvp`.

    >>> out, tangent = jvp(torch.sin, (torch.tensor(0.1),), (torch.tensor(0.2),))
    """
    if not callable(fun):
        raise TypeError(f"kr.ops.jvp: fun must be a callable, got {fun!r}")
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, (tuple, list)):
            raise TypeError(f"kr.ops.jvp: {name} must be a tuple or list (one entry per argument of fun), got "
                            f"{type(value).__name__}")
    if len(primals) != len(tangents):
        raise ValueError(f"kr.ops.jvp: primals and tangents must have as many entries, got {len(primals)} and "
                         f"{len(tangents)}")
    return _jvp(fun, tuple(primals), tuple(tangents), has_aux=bool(has_aux))


@operation("JVP", config=("has_aux",), module="linalg")
def _jvp(fun: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False) -> tuple[Any, ...]:
    require_callable(fun, "jvp", "fun")
    converted = [tuple(tensor(v) if not isinstance(v, (tuple, list, dict)) else v for v in values)
                 for values in (primals, tangents)]
    with warnings.catch_warnings():
        # torch's first forward-mode call imports decompositions it scripts, warning that scripting is deprecated
        warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=DeprecationWarning)
        return tuple(torch.func.jvp(fun, converted[0], converted[1], has_aux=has_aux))


# ------------------------------------------------------------------ vectorize
_DIMENSIONS = r"(?:\w+(?:,\w+)*)?"
_ARGUMENTS = rf"\({_DIMENSIONS}\)(?:,\({_DIMENSIONS}\))*"
_SIGNATURE = re.compile(rf"^{_ARGUMENTS}->{_ARGUMENTS}$")


def _parse_signature(signature: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """A generalized ufunc signature `"(m,n),(n)->(m)"` as each input's and output's core dimensions."""
    compact = re.sub(r"\s+", "", signature) if isinstance(signature, str) else signature
    if not isinstance(compact, str) or not _SIGNATURE.match(compact):
        raise ValueError(f"kr.ops.vectorize: signature must look like '(m,n),(n)->(m)' (each argument's core "
                         f"dimensions in parentheses), got {signature!r}")
    inputs, outputs = ([tuple(re.findall(r"\w+", group)) for group in re.findall(r"\([^)]*\)", side)]
                       for side in compact.split("->"))
    return inputs, outputs


def _core_sizes(sizes: dict[str, int], shape: tuple[int, ...], core: tuple[str, ...], what: str) -> None:
    """Record (or check) the sizes of `core`'s dimensions, the last axes of `shape`."""
    if len(shape) < len(core):
        raise ValueError(f"kr.ops.vectorize: {what} of shape {shape} has fewer axes than its core dimensions "
                         f"{core}")
    for name, size in zip(core, shape[len(shape) - len(core):]):
        if sizes.setdefault(name, size) != size:
            raise ValueError(f"kr.ops.vectorize: core dimension {name!r} has size {sizes[name]} elsewhere but "
                             f"{size} in {what} of shape {shape}")


def vectorize(pyfunc: Callable[..., Any], *, excluded: Iterable[int | str] | None = None,
              signature: str | None = None) -> Callable[..., Any]:
    """`pyfunc` applied across its arguments' broadcast leading axes, as `keras.ops.vectorize` (NumPy's
    `vectorize`, batched with `torch.vmap`): by default on scalars; with `signature` (`"(m,n),(n)->(m)"`) on
    blocks of the named core dimensions (the last axes). Arguments at the positions (or keyword names) in
    `excluded`, None arguments and keyword arguments are passed to `pyfunc` unchanged.

    Keras's `excluded` has no effect (its torch backend vectorizes those arguments too); here it excludes them,
    as NumPy does. Scalars give the same results either way.

    >>> vectorize(lambda a, b: a + b)(torch.tensor([1, 2, 3, 4]), 2)
    tensor([3, 4, 5, 6])
    """
    if not callable(pyfunc):
        raise ValueError(f"kr.ops.vectorize: pyfunc must be a callable, got {pyfunc!r}")
    cores = None if signature is None else _parse_signature(signature)
    static = set() if excluded is None else set(excluded)

    @functools.wraps(pyfunc)
    def vectorized(*args: Any, **kwargs: Any) -> Any:
        _eager_only("vectorize", args, kwargs)
        fixed = {i: a for i, a in enumerate(args) if i in static or a is None}
        if len(fixed) == len(args):
            return pyfunc(*args, **kwargs)
        moving = [tensor(a) for i, a in enumerate(args) if i not in fixed]
        if cores is None:
            input_cores: list[tuple[str, ...]] = [()] * len(moving)
        else:
            if len(cores[0]) != len(args):
                raise TypeError(f"kr.ops.vectorize: the signature {signature!r} takes {len(cores[0])} arguments, "
                                f"got {len(args)}")
            for i in fixed:
                if cores[0][i] and args[i] is None:
                    raise ValueError(f"kr.ops.vectorize: argument {i} is None, but the signature {signature!r} "
                                     f"gives it core dimensions {cores[0][i]}")
            input_cores = [core for i, core in enumerate(cores[0]) if i not in fixed]
        sizes: dict[str, int] = {}
        loops = []
        for i, (value, core) in enumerate(zip(moving, input_cores)):
            _core_sizes(sizes, tuple(value.shape), core, f"argument {i}")
            loops.append(tuple(value.shape[:value.dim() - len(core)]))
        batch = tuple(torch.broadcast_shapes(*loops)) if loops else ()
        count = math.prod(batch)
        flat = [v.expand((*batch, *v.shape[len(loop):])).reshape((count, *v.shape[len(loop):]))
                for v, loop in zip(moving, loops)]

        def call(*values: torch.Tensor) -> Any:
            it = iter(values)
            full = [fixed[i] if i in fixed else next(it) for i in range(len(args))]
            return pyfunc(*full, **kwargs)

        # An empty batch: pyfunc runs on one zero element, for the outputs' shapes and dtypes.
        result = torch.vmap(call)(*(flat if count else [v.new_zeros((1, *v.shape[1:])) for v in flat]))
        many = isinstance(result, (tuple, list))
        outputs = list(result) if many else [result]
        if cores is not None:
            expected = cores[1]
            if len(expected) > 1 and not many:
                raise TypeError(f"kr.ops.vectorize: the signature {signature!r} has {len(expected)} outputs, so "
                                f"pyfunc must return a tuple, got {type(result).__name__}")
            if len(outputs) != len(expected):
                raise TypeError(f"kr.ops.vectorize: the signature {signature!r} has {len(expected)} outputs, "
                                f"pyfunc returned {len(outputs)}")
            for j, (out, core) in enumerate(zip(outputs, expected)):
                shape = tuple(out.shape[1:])
                if len(shape) != len(core):
                    raise ValueError(f"kr.ops.vectorize: output {j} of shape {shape} does not match its core "
                                     f"dimensions {core}")
                _core_sizes(sizes, shape, core, f"output {j}")
        if not count:
            outputs = [out[:0] for out in outputs]
        shaped = [out.reshape((*batch, *out.shape[1:])) for out in outputs]
        return type(result)(shaped) if many else shaped[0]
    return vectorized
