"""`fit`'s data: arrays, tensors, their lists and dicts, a torch Dataset or DataLoader, or a generator,
turned into batches of `(x, y, sample_weight)` as Keras batches them."""
from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.utils._pytree as pytree
from torch.utils.data import DataLoader, Dataset

from ...utils.packing import unpack_x_y_sample_weight
from ...utils.py_dataset import PyDataset

Batch = tuple[Any, Any, Any]


def to_tensor(value: Any, float_dtype: torch.dtype) -> Any:
    """A NumPy array or tensor as the model takes it: float64 and bool -> the weights' dtype, integers -> int64."""
    if isinstance(value, np.ndarray) or isinstance(value, (int, float, bool, np.number)):
        value = torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) \
            else torch.as_tensor(value)
    if not isinstance(value, torch.Tensor):
        return value
    if value.dtype == torch.bool or value.dtype == torch.float64:
        return value.to(float_dtype)
    if not value.is_floating_point() and not value.is_complex() and value.dtype != torch.int64:
        return value.long()
    return value


def taken_as_is(value: Any) -> bool:
    """Whether `to_tensor` (and `structure`) return `value` unchanged: a tensor of a floating-point (not
    float64), complex or int64 dtype."""
    if type(value) is not torch.Tensor:
        return False
    dtype = value.dtype
    return dtype == torch.int64 or (value.is_floating_point() and dtype != torch.float64) or value.is_complex()


def _is_leafy_list(value: Any) -> bool:
    # A list of numbers is one array; a list of arrays/tensors/dicts is a structure (several inputs).
    # None among them is an optional input left out: a structure too.
    return isinstance(value, (list, tuple)) and not any(
        v is None or isinstance(v, (np.ndarray, torch.Tensor, dict, list, tuple)) for v in value)


def structure(value: Any, float_dtype: torch.dtype) -> Any:
    """Every array in a (possibly nested) list/dict structure converted by `to_tensor`."""
    if value is None:
        return None
    if _is_leafy_list(value):
        value = np.asarray(value)
    if isinstance(value, dict):
        return {key: structure(v, float_dtype) for key, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):       # a namedtuple
        return type(value)(*(structure(v, float_dtype) for v in value))
    if isinstance(value, (list, tuple)):
        return type(value)(structure(v, float_dtype) for v in value)
    return to_tensor(value, float_dtype)


def unpack(data: Any) -> Batch:
    """Keras's `unpack_x_y_sample_weight`: (x,), (x, y) or (x, y, sample_weight); anything else (a longer
    list: several inputs) is x."""
    if isinstance(data, (list, tuple)) and not 1 <= len(data) <= 3:
        return data, None, None
    return unpack_x_y_sample_weight(data)


def class_weights(y: Any, class_weight: dict[int, float]) -> torch.Tensor:
    """Keras's sample weights from `class_weight`: each sample's class (argmax of one-hot, or the rounded id)."""
    if isinstance(y, (list, tuple, dict)):
        raise ValueError("`class_weight` is only supported for models with a single output.")
    labels = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if labels.ndim > 1:
        labels = np.argmax(labels, axis=-1) if labels.shape[-1] != 1 else np.squeeze(labels, axis=-1)
    labels = np.round(labels).astype("int64")
    return torch.tensor([float(class_weight.get(int(label), 1.0)) for label in labels], dtype=torch.float32)


def _sizes(name: str, value: Any) -> list[int]:
    return [int(leaf.shape[0]) for leaf in pytree.tree_leaves(value) if isinstance(leaf, torch.Tensor)]


class Batches:
    """The batches of one data source, epoch after epoch (`for x, y, sample_weight in batches.epoch()`)."""

    def __init__(self, x: Any, y: Any = None, sample_weight: Any = None, batch_size: int | None = None,
                 shuffle: bool = False, steps: int | None = None, class_weight: dict[int, float] | None = None,
                 float_dtype: torch.dtype = torch.float32, device: torch.device | None = None) -> None:
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        self.float_dtype = float_dtype
        self.device = device
        self.steps = steps
        self.class_weight = class_weight
        if class_weight is not None and sample_weight is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
        self.loader: Any = None
        self.iterator: Iterator[Any] | None = None
        self.py_dataset: PyDataset | None = None
        if isinstance(x, PyDataset):
            if y is not None or sample_weight is not None:
                raise ValueError(f"when x is a {type(x).__name__} (a PyDataset), its batches hold the targets: y and "
                                 "sample_weight must be None")
            self.py_dataset, self.shuffle = x, shuffle
            self.arrays = None
            self.num_samples = None
            self.num_batches = x.num_batches if steps is None or x.num_batches is None else min(steps, x.num_batches)
            if self.num_batches is None and steps is None:
                raise ValueError(f"{type(x).__name__} defines no __len__: give steps_per_epoch (or steps)")
            if self.num_batches is None:
                self.num_batches = steps
            return
        if isinstance(x, (DataLoader, Dataset)) or _is_iterator(x):
            if y is not None or sample_weight is not None:
                raise ValueError(f"when x is a {type(x).__name__}, it yields the targets: y and sample_weight must be "
                                 "None")
            if isinstance(x, Dataset) and not isinstance(x, torch.utils.data.IterableDataset):
                self.loader = DataLoader(x, batch_size=batch_size or 32, shuffle=shuffle)
            elif isinstance(x, DataLoader):
                self.loader = x
            elif isinstance(x, torch.utils.data.IterableDataset):
                self.loader = DataLoader(x, batch_size=batch_size or 32)
            else:
                self.iterator = x
            self.arrays = None
            self.num_samples = None
            self.num_batches = steps if steps is not None else (len(self.loader) if self.loader is not None
                                                                and hasattr(self.loader, "__len__") else None)
            return
        if x is None:
            raise ValueError("x is None: give the inputs (arrays, tensors, a Dataset, a DataLoader or a generator)")
        self.batch_size = batch_size or 32
        self.shuffle = shuffle
        xs, ys, sws = structure(x, float_dtype), structure(y, float_dtype), structure(sample_weight, float_dtype)
        sizes = {"x": _sizes("x", xs), "y": _sizes("y", ys), "sample_weight": _sizes("sample_weight", sws)}
        every = {size for found in sizes.values() for size in found}
        if len(every) > 1:
            listed = " ".join(f"'{name}' sizes: {', '.join(map(str, found))}" for name, found in sizes.items() if found)
            raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the same number of samples. "
                             + listed)
        if not every:
            raise ValueError(f"x holds no arrays or tensors: {type(x).__name__}")
        if class_weight is not None and ys is not None:
            sws = class_weights(ys, class_weight)
        self.arrays = (xs, ys, sws)
        self.num_samples = every.pop()
        full = math.ceil(self.num_samples / self.batch_size)
        self.num_batches = min(full, steps) if steps is not None else full

    def split(self, validation_split: float) -> tuple[Batch, Batch]:
        """Keras's `validation_split`: the last fraction of the samples (before any shuffling) held out."""
        if self.arrays is None or self.num_samples is None:
            raise ValueError("validation_split is only supported for arrays and tensors; give validation_data for a "
                             "Dataset, DataLoader or generator")
        split_at = int(math.floor(self.num_samples * (1.0 - validation_split)))
        if split_at == 0 or split_at == self.num_samples:
            raise ValueError(f"Training data contains {self.num_samples} samples, which is not sufficient to split it "
                             f"into a validation and training set as specified by `validation_split={validation_split}`."
                             " Either provide more data, or a different value for the `validation_split` argument.")
        head = pytree.tree_map(lambda t: t[:split_at] if isinstance(t, torch.Tensor) else t, self.arrays)
        tail = pytree.tree_map(lambda t: t[split_at:] if isinstance(t, torch.Tensor) else t, self.arrays)
        return head, tail

    def _place(self, value: Any) -> Any:
        device = self.device
        if device is None or device.type == "cpu":
            return value
        return pytree.tree_map(lambda t: t.to(device, non_blocking=True) if isinstance(t, torch.Tensor) else t,
                               value)

    def epoch(self) -> Iterator[Batch]:
        """One epoch's batches, on the model's device."""
        if self.arrays is not None:
            return self._array_epoch()
        return self._source_epoch()

    def _source_epoch(self) -> Iterator[Batch]:
        source: Iterator[Any]
        if self.py_dataset is not None:
            source = _py_dataset_epoch(self.py_dataset, self.num_batches or 0, self.shuffle)
        elif self.loader is not None:
            source = iter(self.loader)
        else:
            assert self.iterator is not None
            source = self.iterator
        step = 0
        while self.steps is None or step < self.steps:
            try:
                data = next(source)
            except StopIteration:
                if self.loader is None and step == 0:
                    warnings.warn("Your input ran out of data; interrupting training. Make sure that your dataset or "
                                  "generator can generate at least `steps_per_epoch * epochs` batches.", stacklevel=4)
                    self.exhausted = True
                return
            x, y, sw = unpack(data)
            x, y = structure(x, self.float_dtype), structure(y, self.float_dtype)
            sw = structure(sw, self.float_dtype)
            if self.class_weight is not None and y is not None:
                sw = class_weights(y, self.class_weight)
            yield self._place((x, y, sw))
            step += 1

    exhausted = False

    def _array_epoch(self) -> Iterator[Batch]:
        # Batches are views cut from the arrays (shuffled: from a gathered chunk of them), made before the
        # epoch's steps run; the per-batch work is one tuple (or, for nested structures, one unflatten).
        assert self.arrays is not None and self.num_samples is not None
        leaves, spec = pytree.tree_flatten(self.arrays)
        count = self.num_batches or 0
        flat = all(leaf is None or isinstance(leaf, torch.Tensor) for leaf in self.arrays)
        place = self.device is not None and self.device.type != "cpu"
        order = torch.randperm(self.num_samples) if self.shuffle else None
        chunk = max(1, count if order is None else SHUFFLE_CHUNK_SAMPLES // self.batch_size)
        for first in range(0, count, chunk):
            steps = min(chunk, count - first)
            if flat:
                for batch in zip(*(_cut(array, order, first, steps, self.batch_size) for array in self.arrays)):
                    yield self._place(batch) if place else batch
                continue
            cut = [_cut(leaf, order, first, steps, self.batch_size) for leaf in leaves]
            for batch_leaves in zip(*cut):
                structured = pytree.tree_unflatten(list(batch_leaves), spec)
                yield self._place(structured) if place else structured


# Shuffled epochs gather this many samples' rows at a time (at least one batch): one indexing call per
# leaf for many batches, with the extra memory bounded.
SHUFFLE_CHUNK_SAMPLES = 4096


def _cut(leaf: Any, order: torch.Tensor | None, first: int, count: int, size: int) -> list[Any]:
    """`count` batches of `size` rows of one leaf from batch `first` on: views of the leaf, or of its rows
    picked in `order` (the same rows, in the same order, as picking them batch by batch)."""
    if not isinstance(leaf, torch.Tensor):
        return [leaf] * count
    start, stop = first * size, (first + count) * size
    rows = leaf[start:stop] if order is None else leaf[order[start:stop]]
    return list(rows.split(size))[:count]


def _py_dataset_epoch(dataset: PyDataset, count: int, shuffle: bool) -> Iterator[Any]:
    """One epoch of a PyDataset's batches (in a random order when shuffling), between its epoch hooks."""
    dataset.on_epoch_begin()
    order = torch.randperm(count).tolist() if shuffle else range(count)
    for index in order:
        yield dataset[index]
    dataset.on_epoch_end()


def _is_iterator(value: Any) -> bool:
    return hasattr(value, "__next__") and hasattr(value, "__iter__")
