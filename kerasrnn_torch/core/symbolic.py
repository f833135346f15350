"""Symbolic tensors for the functional API: `Input`, and what a layer records when it is called on one.

`Input(shape)` returns a `KerasTensor`: a placeholder with a shape (batch axis
first, `None` where unknown), a dtype and, where a layer made one, a mask.
Calling any layer on KerasTensors (`Layer.__call__` sends such calls here)
does not compute anything for the user; it

- runs the layer twice on small dummy batches (the *probes*) inside
  `dry_run`, which builds the layer's weights from the real shapes, finds the
  output's shape (an axis whose size differs between the two probes is
  unknown, None) and catches a shape that does not fit right away, naming
  the layer;
- records a `Node`: the layer, its arguments with KerasTensors in them, and
  the KerasTensors it returns (a tuple with `return_state=True`), which
  `kr.Model` later runs in order on real tensors.

Masks follow Keras 3's rule for a layer call (Layer.__call__ there): when
the call has one tensor argument and the layer's forward takes `mask`, the
argument's masks are passed as `mask`; with several tensor arguments (say
`inputs` and `initial_state`), only arguments with a `<name>_mask` parameter
get one, so an RNN given `initial_state` runs unmasked even when its input
carries a mask, as in Keras. The mask handed on is
`layer.compute_mask(first argument, that mask)`. `MaskRule` holds the
decision for one node; the same rule runs on the probes and on real data.
"""
from __future__ import annotations

import dataclasses
import inspect
import itertools
import weakref

import torch
from torch.utils import _pytree as pytree

from .. import _dtypes
from .._checks import add_note, describe, shape_text
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, cast
from .._types import InputShape, ShapeLike
from .dry_run import dry_run

if TYPE_CHECKING:
    from .layer import Layer

# Probe sizes, (batch, unknown axis) for each of the two dummy runs. An output axis whose size
# differs between them is unknown (None); batch and unknown axes get different sizes. Small sizes
# come first; a layer that fails on them (a stack of convolutions and poolings shrinking a short
# sequence to nothing) is probed again at the next level, its inputs recomputed from the graph.
PROBE_LEVELS = (((2, 5), (3, 7)), ((2, 40), (3, 47)), ((2, 300), (3, 317)))

_input_names = itertools.count()

MaskSources = tuple
"""Where Keras's mask of a tensor reaches back in Keras's graph: `((node, distance), ...)`.

Keras computes masks with operations (`not_equal` for Embedding, `concatenate`
and `any` for Concatenate, ...) that are nodes of its graph, though not
layers. They count in Keras's depths, which order a model's `layers`, and so
the weights of a `.keras` file, whose entries are numbered per class in that
order. `(node, distance)`: the mask's operations read an output of `node`,
which Keras's graph puts `distance` levels deeper than the call that takes the
mask. A layer says how its output mask is made (`Layer.keras_mask_sources`).
"""


def shifted(sources: MaskSources, levels: int) -> MaskSources:
    """The sources of a mask read by an operation `levels` deeper than the mask's consumer."""
    return tuple((node, distance + levels) for node, distance in sources)


OPERATORS: dict[str, Callable[..., Any]] = {}
"""The `kr.ops` functions KerasTensor's operators call, by name: filled in by `kerasrnn_torch.ops`
(core imports no higher part, so the operations register themselves here)."""


def _ops_function(name: str) -> Callable[..., Any]:
    function = OPERATORS.get(name)
    if function is None:
        raise TypeError(f"KerasTensor operators record kr.ops operations: import kerasrnn_torch.ops first "
                        f"(kr.ops.{name} is not registered)")
    return function


def _operator(name: str, reflected: bool = False) -> Callable[..., Any]:
    def method(self: KerasTensor, other: Any) -> Any:
        function = _ops_function(name)
        return function(other, self) if reflected else function(self, other)
    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    method.__doc__ = f"kr.ops.{name}({'other, self' if reflected else 'self, other'}), recorded in the graph."
    return method


def _unary_operator(name: str) -> Callable[..., Any]:
    def method(self: KerasTensor) -> Any:
        return _ops_function(name)(self)
    method.__name__ = f"__{name}__"
    method.__doc__ = f"kr.ops.{name}(self), recorded in the graph."
    return method


class KerasTensor:
    """A placeholder for a tensor of a functional model: what `kr.Input` and layers called on it return.

    It holds no data: arithmetic and slicing on it (`x + inputs`, `x * 2`,
    `x[:, -1]`, `x @ w`, `x > 0`) and the `kr.ops` functions record Keras's
    operations in the graph, as Keras 3 does. Made by `kr.Input` and by
    layer calls, not by hand.

    Args:
        shape: batch axis first, None where the size is unknown.
        dtype: a torch dtype.
        node, index: the layer call that makes it, and which of its outputs.
        examples, masks: its values and masks in the two probe runs.
        name: how messages name it; for inputs, the key of a dict of inputs.
        level: which probe sizes the examples have (see PROBE_LEVELS).
        keras_masked: whether Keras's symbolic tensor has a mask. A model
            used as a layer passes none on while building (Keras's models
            do not declare mask support), though its outputs have masks
            when it runs: `MaskRule` routes masks as Keras then does.
        mask_sources: for a tensor Keras masks, the nodes whose outputs the
            operations of Keras's mask read (see MaskSources).

    >>> Input(shape=(None, 8), name="tokens")
    <KerasTensor shape=(None, None, 8), dtype=float32, name=tokens>
    """

    def __init__(self, shape: Sequence[int | None], dtype: torch.dtype | None, *, node: Node, index: int,
                 examples: tuple[Any, Any], masks: tuple[Any, Any], name: str | None, level: int = 0,
                 keras_masked: bool = False, mask_sources: MaskSources = ()) -> None:
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node             # the Node that produces it (an InputLayer's for inputs)
        self.index = index           # its position among the node's flattened outputs
        self.examples = examples     # its values in the two probes
        self.masks = masks           # its masks in the two probes (None, None) when it has none
        self.name = name
        self.level = level           # the PROBE_LEVELS entry its examples were made at
        self.keras_masked = keras_masked
        self.mask_sources = mask_sources

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def has_mask(self) -> bool:
        return self.masks[0] is not None

    def __repr__(self) -> str:
        dtype = str(self.dtype).replace("torch.", "")
        return f"<KerasTensor shape={shape_text(self.shape)}, dtype={dtype}, name={self.name}>"

    def __bool__(self) -> NoReturn:
        raise TypeError(f"{self!r} is symbolic: it has no value to test; the model computes it when called")

    def __array__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{self!r} is symbolic and has no values; call the model on real tensors")

    def __iter__(self) -> NoReturn:
        raise TypeError(f"{self!r} is symbolic: iterating over it is not supported (as in Keras); index it "
                        "(x[:, 0]) or split it with kr.ops.split / kr.ops.unstack-like slicing")

    # Python's operators record Keras's operations, as Keras 3's KerasTensor does: `x + y` is
    # kr.ops.add(x, y) (Keras's "Add"), `x[:, -1]` kr.ops.get_item (Keras's "GetItem"), ...
    __add__ = _operator("add")
    __radd__ = _operator("add", reflected=True)
    __sub__ = _operator("subtract")
    __rsub__ = _operator("subtract", reflected=True)
    __mul__ = _operator("multiply")
    __rmul__ = _operator("multiply", reflected=True)
    __matmul__ = _operator("matmul")
    __rmatmul__ = _operator("matmul", reflected=True)
    __truediv__ = _operator("true_divide")
    __rtruediv__ = _operator("true_divide", reflected=True)
    __floordiv__ = _operator("floor_divide")
    __rfloordiv__ = _operator("floor_divide", reflected=True)
    __mod__ = _operator("mod")
    __rmod__ = _operator("mod", reflected=True)
    __pow__ = _operator("power")
    __rpow__ = _operator("power", reflected=True)
    __lt__ = _operator("less")
    __le__ = _operator("less_equal")
    __gt__ = _operator("greater")
    __ge__ = _operator("greater_equal")
    __ne__ = _operator("not_equal")  # as Keras: `==` stays identity
    __and__ = _operator("logical_and")
    __rand__ = _operator("logical_and", reflected=True)
    __or__ = _operator("logical_or")
    __ror__ = _operator("logical_or", reflected=True)
    __neg__ = _unary_operator("negative")
    __abs__ = _unary_operator("absolute")
    __invert__ = _unary_operator("logical_not")
    __getitem__ = _operator("get_item")
    __hash__ = object.__hash__


@dataclasses.dataclass(eq=False)
class Node:
    """One call of a layer in a functional graph."""
    layer: Layer
    arguments: list               # the call's (args, kwargs) flattened, KerasTensors in place
    argument_spec: object         # pytree spec that rebuilds (args, kwargs) from `arguments`
    inputs: list                  # the KerasTensors among them, in order (positional first)
    outputs: list                 # the KerasTensors it returns, flattened
    output_spec: object           # pytree spec that puts `outputs` back into the returned structure
    mask_rule: "MaskRule | None"  # how masks reach and leave this call (None for an InputLayer)
    call_index: int = 0           # how many symbolic calls of the layer came before (Keras's node index)
    mask_sources: MaskSources = ()  # the sources of the masks this call takes (see MaskSources)
    # Keras freezes the mask of a plain `layer(x)` call on a float tensor into its graph while building;
    # any other call (a list of tensors, keyword arguments, ids) takes its inputs' masks when it runs.
    records_mask: bool = False

    @property
    def is_input(self) -> bool:
        return self.mask_rule is None

    def parents(self) -> list:
        """The nodes whose outputs this call takes, in argument order, without repeats."""
        seen, parents = set(), []
        for tensor in self.inputs:
            if id(tensor.node) not in seen:
                seen.add(id(tensor.node))
                parents.append(tensor.node)
        return parents


@dataclasses.dataclass(frozen=True)
class MaskRule:
    """Keras's rule for one call: which arguments' masks go to which mask parameter."""
    routes: tuple          # (argument name, mask parameter name) pairs
    first_argument: str    # the name of the first parameter: compute_mask's `inputs`
    takes_mask: bool       # whether the layer has compute_mask at all

    @classmethod
    def for_call(cls, layer, arguments: dict, parameters) -> "MaskRule":
        tensor_arguments = [name for name, value in arguments.items() if _is_tensor_argument(value)]
        routes = []
        if len(tensor_arguments) == 1:
            if "mask" in parameters and arguments.get("mask") is None:
                routes.append((tensor_arguments[0], "mask"))
        else:
            for name in tensor_arguments:
                wanted = f"{name}_mask"
                if wanted in parameters and arguments.get(wanted) is None:
                    routes.append((name, wanted))
        first = next(iter(arguments))
        # Keras's operations (kr.ops calls) take no masks and make none.
        takes_mask = callable(getattr(layer, "compute_mask", None)) and not getattr(layer, "is_operation", False)
        return cls(tuple(routes), first, takes_mask)

    def masks_in(self, arguments: dict, mask_of) -> dict:
        """The mask keyword arguments for this call (`mask_of(tensor)` gives a tensor's mask)."""
        return {parameter: pytree.tree_map(mask_of, arguments[name]) for name, parameter in self.routes}

    def masks_out(self, layer, arguments: dict, given: dict, mask_of, outputs: list) -> list:
        """The masks of the call's flattened outputs, by `layer.compute_mask`."""
        if not self.takes_mask:
            return [None] * len(outputs)
        previous = given.get("mask")
        if previous is None:
            previous = arguments.get("mask")       # a mask passed explicitly
        if previous is None:
            previous = pytree.tree_map(mask_of, arguments[self.first_argument])
        masks = layer.compute_mask(arguments[self.first_argument], previous)
        if masks is None:
            return [None] * len(outputs)
        flat = pytree.tree_leaves(masks, is_leaf=lambda m: m is None)
        return [flat[i] if i < len(flat) else None for i in range(len(outputs))]


def _is_tensor_argument(value: Any) -> bool:
    """Keras's test: a tensor, or a non-empty structure whose leaves are all tensors or None."""
    if isinstance(value, (KerasTensor, torch.Tensor)):
        return True
    if isinstance(value, (list, tuple, dict)) and len(value) > 0:
        leaves = pytree.tree_leaves(value, is_leaf=_is_keras_tensor)
        return any(leaf is not None for leaf in leaves) and all(
            leaf is None or isinstance(leaf, (KerasTensor, torch.Tensor)) for leaf in leaves)
    return False


def _is_keras_tensor(value: Any) -> bool:
    return isinstance(value, KerasTensor)


def has_symbolic(args, kwargs) -> bool:
    """Whether a call's arguments hold a KerasTensor (in a list, tuple or dict too).

    Every layer call asks, so the common answer (tensors, short lists of tensors) costs a few type checks.
    """
    for value in args:
        if type(value) is not torch.Tensor and _holds_symbolic(value):
            return True
    if kwargs:
        for value in kwargs.values():
            if type(value) is not torch.Tensor and _holds_symbolic(value):
                return True
    return False


def _holds_symbolic(value: Any) -> bool:
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, (list, tuple)):
        for item in value:
            if type(item) is not torch.Tensor and _holds_symbolic(item):
                return True
        return False
    if isinstance(value, dict):
        return any(_holds_symbolic(v) for v in value.values())
    return False


def call_parameters(layer) -> dict:
    """The named parameters of `layer.forward` (cached per class)."""
    forward = type(layer).forward
    cached = _PARAMETERS.get(forward)
    if cached is None:
        cached = dict(inspect.signature(forward).parameters)
        cached.pop("self", None)
        _PARAMETERS[forward] = cached
    return cached


_PARAMETERS: dict = {}


def bind_arguments(layer, args, kwargs) -> dict:
    """The call's arguments by parameter name (a `**kwargs` parameter's entries by their own names)."""
    parameters = call_parameters(layer)
    bound = inspect.Signature(list(parameters.values())).bind(*args, **kwargs)
    arguments = {}
    for name, value in bound.arguments.items():
        kind = parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            arguments.update({f"{name}[{i}]": v for i, v in enumerate(value)})
        else:
            arguments[name] = value
    return arguments


def resolve_dtype(dtype: torch.dtype | str | None, owner: str) -> torch.dtype:
    return torch.get_default_dtype() if dtype is None else _dtypes.from_name(dtype, owner)


def probe_values(shape, dtype: torch.dtype | None, level=0) -> tuple:
    """An input's two probe tensors: zeros (a valid id for any Embedding, whatever the dtype), True for bools."""
    values = []
    for batch, unknown in PROBE_LEVELS[level]:
        sizes = [batch if shape[0] is None else shape[0], *(unknown if d is None else d for d in shape[1:])]
        values.append(torch.ones(sizes, dtype=dtype) if dtype == torch.bool else torch.zeros(sizes, dtype=dtype))
    return tuple(values)


def merged_shape(first: torch.Size, second: torch.Size, fixed_batch) -> tuple:
    """A shape from the two probes' sizes: equal sizes stay, different ones are unknown (None)."""
    if len(first) != len(second):
        return tuple(None for _ in first)
    shape = [a if a == b else None for a, b in zip(first, second)]
    if shape and fixed_batch is None:
        shape[0] = None
    return tuple(shape)


# ------------------------------------------------------------ layer calls
def symbolic_call(layer, args, kwargs, record=True):
    """Record `layer(*args, **kwargs)` on KerasTensors as a Node; returns the output KerasTensors.

    `record=False` only works the outputs out (`compute_output_shape`): the
    layer's count of calls, which numbers its nodes, stays as it was.
    """
    owner = describe(layer)
    flat, spec = pytree.tree_flatten((args, kwargs), is_leaf=_is_keras_tensor)
    inputs = [leaf for leaf in flat if isinstance(leaf, KerasTensor)]
    real = [leaf for leaf in flat if isinstance(leaf, torch.Tensor)]
    if real and not getattr(layer, "is_operation", False):      # a kr.ops call keeps tensors as constants
        raise TypeError(f"{owner} was called on both symbolic tensors (kr.Input and what layers return on it) and "
                        f"real tensors (shapes {', '.join(shape_text(t.shape) for t in real)}); a functional model "
                        "takes its data through kr.Input: make the tensor an input, or build it inside a layer")
    try:
        arguments = bind_arguments(layer, args, kwargs)
    except TypeError as error:
        raise TypeError(f"{owner} cannot be called with these arguments: {error}") from None
    rule = MaskRule.for_call(layer, arguments, call_parameters(layer))
    fixed_batch = _fixed_batch(inputs, owner)
    check = getattr(layer, "check_symbolic_shapes", None)
    if check is not None:       # a layer that needs sizes the probes would make up (a None channel axis) says so
        check([t.shape for t in inputs])
    level, runs = _probe_at_lowest_level(layer, flat, spec, inputs, rule)
    (outputs_a, masks_a, out_spec), (outputs_b, masks_b, _) = runs
    node = Node(layer, flat, spec, inputs, [], out_spec, rule, next_call_index(layer) if record else -1)
    if record and layer not in _first_nodes:
        _first_nodes[layer] = node
    node.records_mask = (len(args) == 1 and not kwargs and isinstance(args[0], KerasTensor)
                         and args[0].dtype is not None and args[0].dtype.is_floating_point)
    produced = _mask_sources(layer, node, arguments, rule, masks_a)
    keras_masked = _keras_masked_outputs(layer, arguments, rule, len(outputs_a))
    for i, (a, b, mask_a, mask_b) in enumerate(zip(outputs_a, outputs_b, masks_a, masks_b)):
        if not isinstance(a, torch.Tensor):
            raise TypeError(f"{owner} returned a {type(a).__name__} among its outputs; a layer in a functional "
                            "model returns tensors (or a tuple, list or dict of them)")
        name = layer.name if len(outputs_a) == 1 else f"{layer.name}/output_{i}"
        node.outputs.append(KerasTensor(merged_shape(a.shape, b.shape, fixed_batch), a.dtype, node=node, index=i,
                                        examples=(a, b), masks=(mask_a, mask_b), name=name, level=level,
                                        keras_masked=keras_masked[i] and mask_a is not None,
                                        mask_sources=produced if mask_a is not None else ()))
    return pytree.tree_unflatten(node.outputs, out_spec)


def _mask_sources(layer, node: Node, arguments: dict, rule: MaskRule, output_masks: list) -> MaskSources:
    """Record on `node` the sources of the masks it takes; return those of the masks it makes."""
    routed = [t for name, _ in rule.routes for t in pytree.tree_leaves(arguments[name], is_leaf=_is_keras_tensor)
              if isinstance(t, KerasTensor) and t.keras_masked]
    node.mask_sources = tuple(source for t in routed for source in t.mask_sources)
    if all(m is None for m in output_masks):
        return ()
    first = arguments[rule.first_argument]
    tensors = [t for t in pytree.tree_leaves(first, is_leaf=_is_keras_tensor) if isinstance(t, KerasTensor)]
    masks = [t.mask_sources if any(t is r for r in routed) else None for t in tensors]
    return tuple(layer.keras_mask_sources(tensors, masks))


def _keras_masked_outputs(layer, arguments: dict, rule: MaskRule, count: int) -> list[bool]:
    """Which outputs Keras's symbolic call masks: what `compute_mask` makes of the masks Keras knew of."""
    if not rule.takes_mask or not getattr(layer, "passes_masks_while_building", True):
        return [False] * count
    examples = {id(t): t.masks[0] for name in arguments for t in pytree.tree_leaves(
        arguments[name], is_leaf=_is_keras_tensor) if isinstance(t, KerasTensor) and t.keras_masked}

    def known(value):
        return examples.get(id(value)) if isinstance(value, KerasTensor) else None
    first = arguments[rule.first_argument]
    values = pytree.tree_map(lambda t: t.examples[0] if isinstance(t, KerasTensor) else t, first,
                             is_leaf=_is_keras_tensor)
    explicit = arguments.get("mask")
    previous = explicit if explicit is not None and not _holds_symbolic([explicit]) else \
        pytree.tree_map(known, first, is_leaf=_is_keras_tensor)
    with torch.no_grad():
        masks = layer.compute_mask(values, previous)
    flat = pytree.tree_leaves(masks, is_leaf=_none) if masks is not None else []
    return [i < len(flat) and flat[i] is not None for i in range(count)]


def _probe_at_lowest_level(layer, flat, spec, inputs: list[KerasTensor], rule):
    """(level, the two runs' results) at the lowest probe level, from the inputs' own, that works."""
    first = max((t.level for t in inputs), default=0)
    for level in range(first, len(PROBE_LEVELS)):
        try:
            examples = _examples_at(inputs, level)
            return level, [_probe(layer, flat, spec, inputs, rule, examples, run) for run in range(2)]
        except Exception as error:
            if level == len(PROBE_LEVELS) - 1:
                shapes = ", ".join(shape_text(t.shape) for t in inputs)
                add_note(error, f"(raised while {describe(layer)} was called on symbolic inputs of shapes "
                                f"{shapes}, building a functional model; the message above says what did not fit)")
                raise


def _examples_at(tensors, level) -> dict:
    """id(tensor) -> (its two example values, their masks) at probe `level`, recomputed upstream if need be."""
    cache: dict = {}
    return {id(t): _example_of(t, level, cache) for t in tensors}


def _example_of(tensor, level, cache):
    if tensor.level == level:
        return tensor.examples, tensor.masks
    node = tensor.node
    if id(node) not in cache:
        if node.is_input:
            cache[id(node)] = [(probe_values(tensor.shape, tensor.dtype, level), (None, None))]
        else:
            parents = {id(t): _example_of(t, level, cache) for t in node.inputs}
            runs = [_probe(node.layer, node.arguments, node.argument_spec, node.inputs, node.mask_rule, parents, run)
                    for run in range(2)]
            cache[id(node)] = [((a, b), (mask_a, mask_b)) for a, b, mask_a, mask_b in
                               zip(runs[0][0], runs[1][0], runs[0][1], runs[1][1])]
    return cache[id(node)][tensor.index]


_call_counts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

# The probe runs under way: (their batch size, or None when the batch is fixed; id(probe value) -> the shape of
# the KerasTensor it stands for). A Keras-style layer built inside one sees Keras's symbolic shapes.
_PROBING: list[tuple[int | None, dict[int, tuple]]] = []


def build_shape(tensor: torch.Tensor) -> tuple:
    """The shape a Keras-style layer's `build` gets for `tensor`: its own, except inside a symbolic call, where a
    probe value gets its KerasTensor's shape and a tensor computed from the probes has None for the probe's batch
    size on its first axis (Keras builds layers met while tracing a graph with batch None)."""
    shape = tuple(tensor.shape)
    if not _PROBING:
        return shape
    batch, known = _PROBING[-1]
    if id(tensor) in known:
        return known[id(tensor)]
    if batch is not None and shape and shape[0] == batch:
        return (None, *shape[1:])
    return shape


def spec_shape(value: Any) -> tuple:
    """The shape an `InputSpec` check sees for `value`: a KerasTensor's own (None where unknown); inside a
    symbolic call, a probe value's KerasTensor shape, and None on every axis of a value computed from the
    probes (its sizes are made up); else the value's shape."""
    if isinstance(value, KerasTensor) or not _PROBING or not isinstance(value, torch.Tensor):
        return tuple(value.shape)
    known = _PROBING[-1][1]
    if id(value) in known:
        return known[id(value)]
    return (None,) * value.dim()


# Each layer's first symbolic call: Keras's `layer.input` and `layer.output` are its tensors.
_first_nodes: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def first_node(layer) -> "Node | None":
    """The first recorded call of `layer` on symbolic tensors, or None when it has had none."""
    return _first_nodes.get(layer)


def next_call_index(layer) -> int:
    """Number the symbolic calls of each layer: 0 for its first, as Keras numbers a layer's nodes."""
    index = _call_counts.get(layer, 0)
    _call_counts[layer] = index + 1
    return index


def output_shape_of(layer, input_shape: InputShape):
    """`layer.compute_output_shape`: the output shapes for inputs of `input_shape`, by a symbolic call.

    `input_shape` has the batch axis first (None where unknown); a list of
    shapes stands for a list of inputs (merge layers, attention).
    """
    def placeholder(shape):
        shape = tuple(shape)
        dtype = torch.get_default_dtype()
        node = Node(cast("Layer", None), [], None, [], [], None, None, -1)     # no layer: no graph walks it
        return KerasTensor(shape, dtype, node=node, index=0,
                           examples=probe_values(shape, dtype), masks=(None, None), name="compute_output_shape")
    if _is_shape(input_shape):
        inputs = placeholder(input_shape)
    elif isinstance(input_shape, (list, tuple)) and all(_is_shape(s) for s in input_shape):
        inputs = [placeholder(s) for s in input_shape]
    else:
        raise ValueError(f"{describe(layer)}.compute_output_shape takes a shape with the batch axis first, e.g. "
                         f"(None, 10, 8), or a list of them; got {input_shape!r}")
    outputs = symbolic_call(layer, (inputs,), {}, record=False)
    return pytree.tree_map(lambda t: t.shape, outputs, is_leaf=_is_keras_tensor)


def _is_shape(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value)


def _fixed_batch(inputs: list[KerasTensor], owner: str) -> int | None:
    sizes = {t.shape[0] for t in inputs if t.shape and t.shape[0] is not None}
    if len(sizes) > 1:
        raise ValueError(f"{owner} was called on inputs with different fixed batch sizes {sorted(sizes)}")
    return next(iter(sizes), None)


def _probe(layer, flat, spec, inputs: list[KerasTensor], rule, examples, run):
    """Run the layer on probe `run`'s values: (flattened outputs, their masks, the outputs' structure).

    `examples` maps id(input KerasTensor) to its (values, masks) at the level being probed.
    """
    values = [examples[id(leaf)][0][run] if isinstance(leaf, KerasTensor) else leaf for leaf in flat]
    args, kwargs = pytree.tree_unflatten(values, spec)
    masks = {id(examples[id(t)][0][run]): examples[id(t)][1][run] for t in inputs}

    def mask_of(value):
        return masks.get(id(value)) if isinstance(value, torch.Tensor) else None
    arguments = bind_arguments(layer, args, kwargs)
    given = rule.masks_in(arguments, mask_of)
    known = {id(value): tuple(leaf.shape) for value, leaf in zip(values, flat) if isinstance(leaf, KerasTensor)}
    batch = next((int(value.shape[0]) for value, leaf in zip(values, flat)
                  if isinstance(leaf, KerasTensor) and leaf.shape and leaf.shape[0] is None), None)
    _PROBING.append((batch, known))
    try:
        with dry_run(layer):
            outputs = torch.nn.Module.__call__(layer, *args, **kwargs, **_without_all_none(given))
            flat_outputs, out_spec = pytree.tree_flatten(outputs)
            out_masks = rule.masks_out(layer, arguments, given, mask_of, flat_outputs)
    finally:
        _PROBING.pop()
    return flat_outputs, out_masks, out_spec


def _without_all_none(given: dict) -> dict:
    """Mask keywords whose masks are all None are left out (the layer's own default then applies)."""
    return {k: v for k, v in given.items() if not all(m is None for m in pytree.tree_leaves(v, is_leaf=_none))}


def _none(value: Any) -> bool:
    return value is None
