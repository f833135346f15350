"""summary(): Keras's `model.summary()` table for any module made of these layers and torch modules.

The table lists a model's layers (a `Sequential`'s layers, a plain module's
children) with their output shapes and parameter counts, then the totals with
their size in bytes, laid out as Keras 3 prints them. Output shapes come from
a dry run: a small dummy batch sent through forward hooks by `dry_run`, which
leaves the model as it found it (see there).
"""
from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy
from torch.utils import _pytree as pytree

from .._checks import add_note, shape_hint, shape_text
from .._types import ShapeLike
from ..core import registry
from ..core.layer import Layer, snake_case
from ..core.dry_run import dry_run
from ..layers.core.embedding import Embedding

# Two dummy batch sizes: an axis whose size follows them is a batch axis, shown as None.
_PROBE_BATCHES = (2, 3)


# ------------------------------------------------------------------ building blocks
def is_built(module: nn.Module) -> bool:
    """Whether a module's weights exist: a Layer's `built` and its inner layers' (a user's layer with no `build`
    is built from the start, as in Keras, and its inner layers at its first call); a torch module's lazy
    parameters all materialized."""
    if isinstance(module, Layer):
        return all(bool(layer.built) for layer in module.modules() if isinstance(layer, Layer))
    return not any(is_lazy(p) for p in module.parameters())


def weights_of(module: nn.Module) -> list[torch.Tensor]:
    """A module's weights in Keras's order: a Layer's `weights`; a torch module's trainable, then frozen parameters."""
    if isinstance(module, Layer):
        return list(module.weights)
    params: list[torch.Tensor] = list(module.parameters())
    return [p for p in params if p.requires_grad] + [p for p in params if not p.requires_grad]


def first_layer(module: nn.Module) -> nn.Module:
    """The module that will likely see the input first (descending into containers)."""
    layers = container_layers(module)
    while layers:
        module = layers[0][1]
        layers = container_layers(module)
    return module


def container_layers(module: nn.Module) -> list[tuple[str | None, nn.Module]]:
    """(attribute name or None, module) for each layer a container shows; [] for a single layer.

    A Layer with a `layers` list (Sequential) shows those; any other Layer is
    one layer; a plain torch module shows its children, as Keras lists a
    subclassed model's layers.
    """
    if isinstance(module, Layer):
        layers = getattr(module, "layers", None)
        return [(None, layer) for layer in layers] if isinstance(layers, list) else []
    return list(module.named_children())


def example_input(module: nn.Module, input_shape, batch_size: int = 1, dtype=None) -> torch.Tensor:
    """A dummy batch for `module`: `(batch_size, *input_shape)`, unknown (None) sizes set to `batch_size` too.

    Integer ids when the first layer is an embedding (ones: a valid id that
    is not padding), else ones in the first layer's dtype; on the model's device.
    """
    first = first_layer(module)
    vocabulary = _vocabulary_size(first)
    if dtype is None:
        dtype = torch.long if vocabulary is not None else _float_dtype(first)
    # A placeholder's device counts too: a model made under `with torch.device("meta")` builds there.
    some_weight = next(module.parameters(), None)
    device = some_weight.device if some_weight is not None else _layer_device(first)
    shape = (batch_size, *(batch_size if d is None else int(d) for d in input_shape))
    fill = min(1, vocabulary - 1) if vocabulary is not None and not dtype.is_floating_point else 1
    return torch.full(shape, fill, dtype=dtype, device=device)


def input_shape_hint(layer: nn.Module):
    """The input shape (no batch axis, None where unknown) a layer was given with `input_shape=`/`input_dim=`."""
    hint = getattr(layer, "input_shape_hint", None)
    is_recurrent = isinstance(getattr(layer, "cell", None), nn.Module)
    if hint is None and is_recurrent:
        # SimpleRNN, LSTM and GRU hand their hint to their cell.
        hint = getattr(layer.cell, "input_shape_hint", None)
    if hint is None:
        return None
    hint = tuple(hint)
    if is_recurrent and len(hint) == 1:
        hint = (None, *hint)      # input_dim=: the feature size alone, any number of timesteps
    return hint


def known_input(module: nn.Module):
    """(shape without batch, dtype or None) the module is known to take, or None.

    A model's `input_shape` (Sequential: from a hint, `build` or its latest
    call), else the input shape hint of the module or of its first layer.
    """
    if isinstance(module, Layer):
        shape = getattr(module, "input_shape", None)
        if isinstance(shape, tuple) and shape:
            return tuple(shape[1:]), getattr(module, "input_dtype", None)
    hint = input_shape_hint(module)
    if hint is not None:
        return hint, None
    layers = container_layers(module)
    return known_input(layers[0][1]) if layers else None


def _vocabulary_size(module) -> int | None:
    """The number of ids an embedding layer takes; None for any other layer."""
    if isinstance(module, Embedding):
        return module.input_dim
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        return module.num_embeddings
    return None


def _float_dtype(module):
    weight = next((p for p in module.parameters() if not is_lazy(p)), None)
    if weight is not None and weight.is_floating_point():
        return weight.dtype
    factory = getattr(module, "factory_kwargs", None) or {}
    return factory.get("dtype") or torch.get_default_dtype()


def _layer_device(module):
    """The layer's `device=`, else None: torch's current default device (a `with torch.device(...)` block's)."""
    factory = getattr(module, "factory_kwargs", None) or {}
    return factory.get("device")


# ------------------------------------------------------------------ output shapes
class Shape(tuple):
    """One tensor's shape, kept apart from the tuples that group several outputs."""


def output_shapes(module: nn.Module, rows, input_shape=None, dtype=None, input_data=None) -> dict[int, object]:
    """Each row module's output shapes (a `Shape`, or the output's structure of them), keyed by id().

    Two dry runs with different batch sizes: axes whose size follows the
    batch size are batch axes, shown as None (PyTorch's own modules do not
    always put the batch first, e.g. `nn.LSTM`'s `h_n`). The inputs are a
    dummy batch of `input_shape`, or `input_data`'s rows (repeated as needed).
    """
    runs = []
    for batch_size in _PROBE_BATCHES:
        seen: dict[int, object] = {}

        def record(layer, args, output):
            seen.setdefault(id(layer), pytree.tree_map(
                lambda t: Shape(t.shape) if isinstance(t, torch.Tensor) else None, output))

        handles = [layer.register_forward_hook(record) for _, layer in rows]
        if input_data is None:
            arguments = (example_input(module, input_shape, batch_size, dtype),)
            what = (f"a dummy input of shape {shape_text(arguments[0].shape)} and dtype {arguments[0].dtype}; "
                    "input_shape=... gives the input's shape without the batch axis, dtype=... its dtype")
        else:
            arguments = tuple(_rows_of(value, batch_size) for value in input_data)
            what = "rows of input_data"
        try:
            with dry_run(module):
                module(*arguments)
        except Exception as error:
            add_note(error, f"(raised while summary() ran {what} through {type(module).__name__} to find the "
                            "output shapes)")
            raise
        finally:
            for handle in handles:
                handle.remove()
        runs.append(seen)
    return {key: _batch_axes_as_none(runs[0][key], runs[1].get(key)) for key in runs[0]}


def _rows_of(value, batch_size: int):
    """`batch_size` rows of a (structure of) batch-first tensors, cycling through the ones there are."""
    def rows(tensor):
        if not isinstance(tensor, torch.Tensor) or tensor.dim() == 0 or tensor.shape[0] == 0:
            return tensor
        return tensor[torch.arange(batch_size, device=tensor.device) % tensor.shape[0]]
    return pytree.tree_map(rows, value)


def _batch_axes_as_none(first, second):
    first_leaves, spec = pytree.tree_flatten(first)
    second_leaves, second_spec = pytree.tree_flatten(second)
    if spec != second_spec:
        second_leaves = [None] * len(first_leaves)
    merged: list[Shape | None] = []
    for a, b in zip(first_leaves, second_leaves):
        if a is None:
            merged.append(None)
        elif b is None or len(a) != len(b):
            merged.append(Shape((None, *a[1:])) if a else a)
        else:
            merged.append(Shape(None if x != y else x for x, y in zip(a, b)))
    return pytree.tree_unflatten(merged, spec)


def format_shape(structure) -> str:
    """`(None, 5, 128)`; several outputs keep their structure: `((None, 5, 64), (None, 64))`; unknown: `?`."""
    if structure is None:
        return "?"
    if isinstance(structure, Shape):
        return shape_text(structure)
    if isinstance(structure, dict):
        return "{" + ", ".join(f"{k}: {format_shape(v)}" for k, v in structure.items()) + "}"
    inner = ", ".join(format_shape(s) for s in structure)
    return f"[{inner}]" if isinstance(structure, list) else f"({inner})"


# ------------------------------------------------------------------ counts and sizes
def readable_size(size_in_bytes: float) -> str:
    """Keras's units: 641.04 KB, 1.38 MB (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size_in_bytes < 1024:
            return f"{size_in_bytes:.2f} {unit}"
        size_in_bytes /= 1024
    return f"{size_in_bytes:.2f} PB"


def _totals(module: nn.Module):
    """(trainable count, bytes), (non-trainable count, bytes) over every materialized parameter, each once."""
    trainable, frozen = [0, 0], [0, 0]
    for p in module.parameters():
        if is_lazy(p):
            continue
        bucket = trainable if p.requires_grad else frozen
        bucket[0] += p.numel()
        bucket[1] += p.numel() * p.element_size()
    return trainable, frozen


def _param_text(layer: nn.Module) -> str:
    if not is_built(layer):
        return "0 (unbuilt)"
    return f"{sum(w.numel() for w in weights_of(layer)):,}"


# ------------------------------------------------------------------ the table
def _row_names(rows) -> list[str]:
    """Layers show their Keras name; torch modules their attribute name, or their type in snake case."""
    names: list[str] = []
    used: dict[str, int] = {}
    for attribute, layer in rows:
        if isinstance(layer, Layer):
            names.append(layer.name)
            continue
        readable = attribute is not None and not attribute.isdigit()     # not nn.Sequential's "0", "1", ...
        base = attribute if readable else snake_case(type(layer).__name__)
        count = used.get(base, 0)
        used[base] = count + 1
        names.append(base if count == 0 else f"{base}_{count}")
    return names


def _column_widths(line_length: int, columns: int = 3, positions=(0.45, 0.80, 1.0)) -> list[int]:
    """Inner widths (padding included) of the columns once the borders are drawn."""
    available = line_length - (columns + 1)
    edges = [0] + [round(p * available) for p in positions]
    return [b - a for a, b in zip(edges, edges[1:])]


def _cell_lines(text: str, width: int) -> list[str]:
    """Wrap a cell, breaking a list of shapes between shapes where it can."""
    lines: list[str] = []
    for piece in re.split(r"(?<=,) (?=[(\[{])", text):
        if lines and len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines.extend(textwrap.wrap(piece, width, break_on_hyphens=False) or [""])
    return lines or [""]


def render_table(header, rows, line_length: int = 88, positions=(0.45, 0.80, 1.0), right_aligned=(2,)) -> list[str]:
    """Keras's box-drawn table: a heavy header, light rules between rows, the count column right-aligned."""
    widths = _column_widths(line_length, len(header), positions)
    align = [str.rjust if i in right_aligned else str.ljust for i in range(len(header))]

    def rule(left, fill, middle, right):
        return left + middle.join(fill * w for w in widths) + right

    def row_lines(cells, border):
        wrapped = [_cell_lines(c, w - 2) for c, w in zip(cells, widths)]
        height = max(len(w) for w in wrapped)
        lines = []
        for i in range(height):
            parts = [f" {align[j](wrapped[j][i] if i < len(wrapped[j]) else '', widths[j] - 2)} "
                     for j in range(len(widths))]
            lines.append(border + border.join(parts) + border)
        return lines

    lines = [rule("┏", "━", "┳", "┓"), *row_lines(header, "┃"), rule("┡", "━", "╇", "┩")]
    for i, cells in enumerate(rows):
        if i:
            lines.append(rule("├", "─", "┼", "┤"))
        lines.extend(row_lines(cells, "│"))
    lines.append(rule("└", "─", "┴", "┘"))
    return lines


def summary(module: nn.Module, input_shape: ShapeLike | None = None, print_fn: Callable[[str], object] | None = print,
            *, dtype: torch.dtype | None = None, input_data: torch.Tensor | tuple[Any, ...] | None = None,
            line_length: int = 88) -> str | None:
    """Print a Keras-style summary of `module` (and return None, as Keras); with `print_fn=None`, return its text.

    Args:
        module: a `Sequential`, any kerasrnn_torch layer, or any torch module
            (its children are the rows, as Keras lists a subclassed model's layers).
        input_shape: the input's shape without the batch axis, e.g. `(10,)` for
            token ids or `(5, 10)` for sequences. Output shapes come from a dry
            run of a dummy batch (see `dry_run`): it builds layers still
            waiting for their first input, and changes nothing else. Without
            it, the model's known input is used (a `Sequential` built from an
            `input_shape=` hint, by `build` or by a call, or a first layer
            with a hint); if there is none, output shapes show as "?".
        print_fn: called once with the whole text; None prints nothing and
            returns the text instead.
        dtype: the dummy input's dtype; by default integer ids when the first
            layer is an embedding, else the first layer's float dtype.
        input_data: real inputs instead of `input_shape`: a tensor, or a
            tuple of the module's positional arguments (a module with several
            inputs); their rows are repeated to make the dry runs' batches.
        line_length: the table's width in characters (Keras's default 88).

    Layers whose weights do not exist yet show "0 (unbuilt)", as in Keras.
    Counts are parameters (a frozen one, `requires_grad=False`, is
    non-trainable); torch buffers such as batch-norm statistics are not counted.

    >>> text = summary(Sequential([LSTM(32, input_shape=(10, 8)), Dense(1)]), print_fn=None)
    """
    functional = registry.class_for("Functional")     # models/functional.py imports this module
    if functional is not None and isinstance(module, functional) and input_shape is None and input_data is None:
        return functional_summary(module, print_fn=print_fn, line_length=line_length)
    rows = container_layers(module) or [(None, module)]
    input_shape = shape_hint(input_shape, "input_shape", "summary()")
    if input_shape is None:
        known = known_input(module)
        if known is not None:
            input_shape, dtype = known[0], dtype if dtype is not None else known[1]
    if input_data is not None:
        input_data = input_data if isinstance(input_data, tuple) else (input_data,)
        shapes = output_shapes(module, rows, input_data=input_data)
    else:
        shapes = output_shapes(module, rows, input_shape, dtype) if input_shape is not None else {}

    names = _row_names(rows)
    table_rows = [[f"{name} ({type(layer).__name__})", format_shape(shapes.get(id(layer))), _param_text(layer)]
                  for name, (_, layer) in zip(names, rows)]
    title = getattr(module, "name", None)
    title = title if isinstance(title, str) else snake_case(type(module).__name__)
    table = render_table(["Layer (type)", "Output Shape", "Param #"], table_rows, line_length)
    return _finish(module, title, table, print_fn)


def _finish(module, title, table, print_fn) -> str | None:
    (trainable, trainable_bytes), (frozen, frozen_bytes) = _totals(module)
    lines = [f'Model: "{title}"', *table,
             f" Total params: {trainable + frozen:,} ({readable_size(trainable_bytes + frozen_bytes)})",
             f" Trainable params: {trainable:,} ({readable_size(trainable_bytes)})",
             f" Non-trainable params: {frozen:,} ({readable_size(frozen_bytes)})"]
    text = "\n".join(lines)
    if print_fn is None:
        return text
    print_fn(text)            # a notebook shows the table once: the call itself returns None, as Keras's
    return None


def functional_summary(model, print_fn=print, line_length: int = 88) -> str | None:
    """Keras's table for a functional `Model`: one row per layer or operation, with "Connected to".

    Output shapes come from the graph (no dry run); "Connected to" names each
    input of the layer's calls in this model as Keras does:
    `producer[call index][output index]`.
    """
    rows = []
    for layer in model.operations:      # Keras's table lists operations (kr.ops calls, `x + y`) among the layers
        nodes = [node for node in model.nodes if node.layer is layer]
        shapes = [Shape(t.shape) for t in nodes[0].outputs] if nodes else []
        shape = format_shape(shapes[0]) if len(shapes) == 1 else format_shape(list(shapes))
        sources = [f"{t.node.layer.name}[{t.node.call_index}][{t.index}]" for node in nodes for t in node.inputs]
        params = "0" if not is_built(layer) else f"{sum(w.numel() for w in weights_of(layer)):,}"
        kind = layer.spec.keras_name if getattr(layer, "is_operation", False) else type(layer).__name__
        rows.append([f"{layer.name} ({kind})", shape, params, ", ".join(sources) or "-"])
    table = render_table(["Layer (type)", "Output Shape", "Param #", "Connected to"], rows, line_length,
                         positions=(0.3, 0.56, 0.7, 1.0))
    return _finish(model, model.name, table, print_fn)
