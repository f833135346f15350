"""`kr.utils`: Keras's `keras.utils` helpers that Keras programs call around a model.

`set_random_seed`, `to_categorical`, `normalize`, `pad_sequences`,
`split_dataset`, `timeseries_dataset_from_array` take Keras's arguments and
give Keras's numbers; the datasets are plain Python iterables of `(x, y)`
batches of torch tensors (where Keras gives a `tf.data.Dataset`), which a
torch loop, or `fit`, takes. `get_file` downloads, which kerasrnn_torch does
not do: it raises, saying where to put the file instead.
"""
from __future__ import annotations

import importlib
import random
from collections import abc
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .packing import pack_x_y_sample_weight, unpack_x_y_sample_weight
from .progbar import Progbar
from .py_dataset import PyDataset, Sequence
from .dtypes import standardize_dtype

__all__ = ["CustomObjectScope", "Progbar", "PyDataset", "Sequence", "TimeseriesDataset", "clear_session",
           "custom_object_scope", "deserialize_keras_object", "get_custom_objects", "get_file",
           "get_registered_name", "get_registered_object", "get_source_inputs", "is_keras_tensor", "normalize",
           "pack_x_y_sample_weight", "pad_sequences", "plot_attention_scores", "register_keras_serializable",
           "serialize_keras_object", "set_random_seed", "split_dataset", "standardize_dtype",
           "timeseries_dataset_from_array", "to_categorical", "unpack_x_y_sample_weight"]

# Keras's `keras.utils` also holds names of the framework (core/session.py: clear_session, ...) and of its
# saving registry (kr.saving's own objects: `kr.utils.register_keras_serializable is
# kr.saving.register_keras_serializable`). This package is a helper, below core/ and saving/ (docs/
# architecture.md), and the models import it, so those names are looked up when first asked for.
_ELSEWHERE = {"clear_session": "core.session", "get_source_inputs": "core.session",
              "is_keras_tensor": "core.session", **{name: "saving" for name in (
                  "CustomObjectScope", "custom_object_scope", "deserialize_keras_object", "get_custom_objects",
                  "get_registered_name", "get_registered_object", "register_keras_serializable",
                  "serialize_keras_object")}}


def __getattr__(name: str) -> Any:
    if name in _ELSEWHERE:
        module = importlib.import_module(f"{__name__.rpartition('.')[0]}.{_ELSEWHERE[name]}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_ELSEWHERE))


def set_random_seed(seed: int) -> None:
    """Seed Python's `random`, NumPy's global generator and torch's (every device), as Keras's.

    Layers given their own `seed=` keep their own streams; the others (dropout without a seed, the
    initializers without one) then draw the same numbers on each run.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"set_random_seed: expected an integer seed, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def to_categorical(x: Any, num_classes: int | None = None) -> Any:
    """One-hot rows for class ids, as Keras's: `(..., num_classes)`; a trailing axis of 1 is dropped.

    NumPy arrays and lists give a float64 NumPy array (Keras's); a torch tensor gives a float32 tensor.
    `num_classes` defaults to the largest id plus one.
    """
    if isinstance(x, torch.Tensor):
        ids = x.long()
        if ids.dim() > 1 and ids.shape[-1] == 1:
            ids = ids.reshape(ids.shape[:-1])
        classes = int(ids.max().item()) + 1 if not num_classes else int(num_classes)
        _check_ids(int(ids.min().item()) if ids.numel() else 0, int(ids.max().item()) if ids.numel() else 0, classes)
        return torch.nn.functional.one_hot(ids, classes).to(torch.float32)
    array = np.asarray(x, dtype="int64")
    shape = array.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = array.reshape(-1)
    classes = int(flat.max()) + 1 if not num_classes else int(num_classes)
    if flat.size:
        _check_ids(int(flat.min()), int(flat.max()), classes)
    categorical = np.zeros((flat.size, classes))
    categorical[np.arange(flat.size), flat] = 1
    return categorical.reshape(tuple(shape) + (classes,))


def _check_ids(low: int, high: int, classes: int) -> None:
    if low < 0 or high >= classes:
        raise ValueError(f"to_categorical: the class ids run from {low} to {high}, outside 0 .. {classes - 1} "
                         f"(num_classes={classes})")


def normalize(x: Any, axis: int = -1, order: int = 2) -> Any:
    """`x` divided by its `order`-norm along `axis` (a zero norm leaves the values as they are), as Keras's.

    NumPy in, NumPy out; a tensor in, a tensor out. Keras's NumPy path divides by the norms along the last
    axis where `axis=0`; here `axis=0` means axis 0 for both, as Keras's tensor path has it.
    """
    if isinstance(x, torch.Tensor):
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    array = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(array, order, axis))
    norm[norm == 0] = 1
    return array / np.expand_dims(norm, axis)     # (Keras's NumPy path puts axis=0's norms on axis -1)


def pad_sequences(sequences: abc.Sequence[Any], maxlen: int | None = None, dtype: Any = "int32", padding: str = "pre",
                  truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Sequences of different lengths -> one `(len(sequences), maxlen, ...)` NumPy array, as Keras's.

    Args:
        sequences: a list of sequences (lists or arrays, each step a number or an array of one shape).
        maxlen: the length of the result (default: the longest sequence's).
        dtype: the result's dtype ("int32").
        padding: "pre" (Keras's default) or "post": which end the `value`s go to.
        truncating: "pre" (drop the start of a longer sequence) or "post" (drop its end).
        value: the padding value (0).
    """
    if padding not in ("pre", "post"):
        raise ValueError(f"pad_sequences: padding must be 'pre' or 'post', got {padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: truncating must be 'pre' or 'post', got {truncating!r}")
    if not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences: `sequences` must be a list of sequences")
    lengths, step_shape, seen = [], (), False
    for position, sequence in enumerate(sequences):
        if not hasattr(sequence, "__len__"):
            raise ValueError(f"pad_sequences: `sequences` must be a list of sequences; item {position} is "
                             f"{sequence!r}")
        lengths.append(len(sequence))
        if not seen and len(sequence):
            step_shape, seen = np.asarray(sequence).shape[1:], True
    if maxlen is None:
        maxlen = max(lengths, default=0)
    if maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be 0 or more, got {maxlen}")
    textual = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(np.dtype(dtype), np.bytes_)
    if isinstance(value, str) and dtype is not object and not textual:
        raise ValueError(f"pad_sequences: the padding value {value!r} is a string but dtype is {dtype}; use "
                         "dtype=object for strings")
    result = np.full((len(sequences), maxlen) + tuple(step_shape), value, dtype=dtype)
    for position, sequence in enumerate(sequences):
        if not len(sequence) or maxlen == 0:
            continue
        kept = np.asarray(sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen], dtype=dtype)
        if kept.shape[1:] != tuple(step_shape):
            raise ValueError(f"pad_sequences: the steps of sequence {position} have shape {kept.shape[1:]}, the "
                             f"others {tuple(step_shape)}")
        if padding == "post":
            result[position, :len(kept)] = kept
        else:
            result[position, -len(kept):] = kept
    return result


def split_dataset(dataset: Any, left_size: int | float | None = None, right_size: int | float | None = None,
                  shuffle: bool = False, seed: int | None = None) -> tuple[Any, Any]:
    """Split arrays (or a tuple/list/dict of arrays with one length) in two along the first axis, as Keras's.

    Sizes are counts (int) or fractions (float in (0, 1)); one of them may be None (the rest of the samples),
    not both. Neither side may come out empty. Returns (left, right) of the same structure as `dataset`
    (NumPy arrays, or torch tensors where given tensors), where Keras gives two `tf.data.Dataset`s.
    """
    columns, rebuild = _columns(dataset)
    total = len(columns[0])
    if any(len(column) != total for column in columns):
        raise ValueError("split_dataset: the arrays have different lengths: "
                         f"{[len(column) for column in columns]}")
    left = _split_size(left_size, total, "left_size")
    right = _split_size(right_size, total, "right_size")
    if left is None and right is None:
        raise ValueError("split_dataset: give left_size or right_size (or both)")
    if left is None:
        left = total - int(right or 0)
    if right is None:
        right = total - left
    if left + right > total or left <= 0 or right <= 0:
        raise ValueError(f"split_dataset: left_size={left_size} and right_size={right_size} ask for {left} + "
                         f"{right} of the {total} samples; each side needs at least one, both at most {total}")
    order = np.arange(total)
    if shuffle:
        np.random.default_rng(seed).shuffle(order)
    left_index, right_index = order[:left], order[left:left + right]

    def take(index: np.ndarray) -> Any:
        return rebuild([column[torch.from_numpy(index)] if isinstance(column, torch.Tensor) else column[index]
                        for column in columns])
    return take(left_index), take(right_index)


def _columns(dataset: Any) -> tuple[list[Any], Any]:
    def as_array(value: Any) -> Any:
        return value if isinstance(value, torch.Tensor) else np.asarray(value)
    if isinstance(dataset, dict):
        keys = list(dataset)
        return [as_array(dataset[key]) for key in keys], lambda parts: dict(zip(keys, parts))
    if isinstance(dataset, (tuple, list)) and dataset and all(
            isinstance(part, (np.ndarray, torch.Tensor)) for part in dataset):
        kind = type(dataset)
        return [as_array(part) for part in dataset], lambda parts: kind(parts)
    return [as_array(dataset)], lambda parts: parts[0]


def _split_size(size: int | float | None, total: int, argument: str) -> int | None:
    if size is None:
        return None
    if isinstance(size, float):
        if not 0 < size < 1:
            raise ValueError(f"split_dataset: a fraction `{argument}` must lie in (0, 1), got {size}")
        return round(size * total)
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size >= 0:
        return int(size)
    raise ValueError(f"split_dataset: `{argument}` must be an int count or a float fraction, got {size!r}")


class TimeseriesDataset:
    """What `timeseries_dataset_from_array` gives: an iterable of `(x, y)` batches of torch tensors (x alone
    without targets); `len()` is the number of batches. Iterating again gives the same windows (shuffled
    windows keep their order from one pass to the next, as Keras's seeded shuffle)."""

    def __init__(self, data: torch.Tensor, targets: torch.Tensor | None, starts: np.ndarray, offsets: np.ndarray,
                 batch_size: int | None) -> None:
        self.data = data
        self.targets = targets
        self.starts = starts
        self.offsets = offsets
        self.batch_size = batch_size

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.starts)
        return -(-len(self.starts) // self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        if self.batch_size is None:
            for start in self.starts:
                yield self._window(np.asarray([start]), single=True)
            return
        for begin in range(0, len(self.starts), self.batch_size):
            yield self._window(self.starts[begin:begin + self.batch_size], single=False)

    def _window(self, starts: np.ndarray, single: bool) -> Any:
        index = torch.from_numpy((starts[:, None] + self.offsets[None, :]).astype(np.int64))
        x = self.data[index]
        y = self.targets[torch.from_numpy(starts.astype(np.int64))] if self.targets is not None else None
        if single:
            x = x[0]
            y = y[0] if y is not None else None
        return x if y is None else (x, y)

    def __repr__(self) -> str:
        return (f"TimeseriesDataset({len(self.starts)} windows of {len(self.offsets)} steps, "
                f"batch_size={self.batch_size})")


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> TimeseriesDataset:
    """Sliding windows over a series, batched, as Keras's (which gives a `tf.data.Dataset`).

    Window `i` is `data[s, s + sampling_rate, ..., s + (sequence_length - 1) * sampling_rate]` with
    `s = start_index + i * sequence_stride`, its target `targets[s]`. The result is a `TimeseriesDataset`:
    iterate it for `(x, y)` batches of torch tensors (`x` alone when `targets` is None), in the data's dtype.

    Args:
        data: an array or tensor, time first: `(timesteps, features...)`.
        targets: one target per time step (`targets[s]` goes with the window starting at `s`), or None.
        sequence_length: the steps of a window.
        sequence_stride: the steps between the starts of two windows.
        sampling_rate: the steps between two steps of a window.
        batch_size: windows per batch (None: single windows, unbatched).
        shuffle: shuffle the windows (with `seed`).
        start_index, end_index: the part of `data` used (end excluded).
    """
    series = data if isinstance(data, torch.Tensor) else torch.as_tensor(np.asarray(data))
    length = len(series)
    if start_index is not None and start_index and not 0 <= start_index < length:
        raise ValueError(f"timeseries_dataset_from_array: start_index must be in [0, {length}), got {start_index}")
    if end_index is not None and end_index:
        if end_index <= 0 or end_index >= length or (start_index and end_index <= start_index):
            raise ValueError(f"timeseries_dataset_from_array: end_index must be above start_index and below the "
                             f"data's length {length}, got {end_index}")
    for argument, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if not 0 < value < length:
            raise ValueError(f"timeseries_dataset_from_array: {argument} must be in (0, {length}) (the data's "
                             f"length), got {value}")
    if sequence_length <= 0:
        raise ValueError(f"timeseries_dataset_from_array: sequence_length must be positive, got {sequence_length}")
    if batch_size is not None and batch_size <= 0:
        raise ValueError(f"timeseries_dataset_from_array: batch_size must be positive or None, got {batch_size}")
    first = start_index or 0
    last = end_index or length
    count = last - first - (sequence_length - 1) * sampling_rate
    labels = None
    if targets is not None:
        labels = targets if isinstance(targets, torch.Tensor) else torch.as_tensor(np.asarray(targets))
        count = min(count, len(labels) - first)
    starts = np.arange(0, max(count, 0), sequence_stride) + first
    if shuffle:
        np.random.RandomState(int(np.random.randint(1_000_000)) if seed is None else seed).shuffle(starts)
    offsets = np.arange(0, sequence_length * sampling_rate, sampling_rate)
    return TimeseriesDataset(series, labels, starts, offsets, batch_size)


def get_file(fname: str | None = None, origin: str | None = None, *args: Any, **kwargs: Any) -> str:
    """Not available: Keras's `get_file` downloads `origin`, and kerasrnn_torch downloads nothing.

    Raises a RuntimeError saying to download the file beforehand and pass its local path instead.
    """
    raise RuntimeError(f"kr.utils.get_file cannot fetch {origin or fname!r}: kerasrnn_torch does not download "
                       "files (there may be no network where it runs). Download the file beforehand (for example "
                       "with keras.utils.get_file or curl) and use its local path instead")


def plot_attention_scores(scores: Any, samples: int | abc.Sequence[int] | None = None,
                          heads: int | abc.Sequence[int] | None = None, query_labels: abc.Sequence[str] | None = None,
                          key_labels: abc.Sequence[str] | None = None, cmap: str = "viridis", colorbar: bool = True,
                          ax: Any = None) -> Any:
    """Heat maps of attention scores with matplotlib (the `plot` extra: `pip install kerasrnn_torch[plot]`).

    Args:
        scores: what `Attention`/`AdditiveAttention` (`(batch, query_steps, key_steps)`) or
            `MultiHeadAttention` (`(batch, heads, query_steps, key_steps)`) return with
            `return_attention_scores=True` (a tensor or array; the `(outputs, scores)` pair also
            does), or a single `(query_steps, key_steps)` map.
        samples: the sample index or indices to draw (default: all), one row of panels each.
        heads: the head index or indices to draw (default: all), one column each.
        query_labels, key_labels: tick labels for the query steps (rows) and key steps (columns).
        cmap: the matplotlib colormap; every panel shares one color scale.
        colorbar: draw a colorbar (default True).
        ax: a matplotlib Axes, or a list/array of them (one per panel, row by row), to draw on.

    Returns the matplotlib Figure. Raises ImportError (saying what to install) without matplotlib.
    """
    # kerasrnn_torch.utils.attention_plot imports matplotlib: loaded only when a plot is asked for.
    module = importlib.import_module(f"{__name__}.attention_plot")
    return module.plot_attention_scores(scores, samples=samples, heads=heads, query_labels=query_labels,
                                        key_labels=key_labels, cmap=cmap, colorbar=colorbar, ax=ax)
