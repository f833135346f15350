"""Small callbacks: `CSVLogger`, `TerminateOnNaN`, `LambdaCallback`."""
from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, MutableMapping
from typing import Any

from .callback import Callback


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row, as `keras.callbacks.CSVLogger`.

    Args:
        filename: the CSV file.
        separator: the column separator (default ",").
        append: add to an existing file instead of overwriting (default False).

    Columns: "epoch", then the log keys sorted.

    >>> CSVLogger("training.log").sep
    ','
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file: Any = None
        self._writer: Any = None

    def on_train_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._header_written = exists
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        logs = dict(logs or {})
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys], delimiter=self.sep)
            if not self._header_written:
                self._writer.writeheader()
        row = {"epoch": epoch, **{key: logs.get(key, "NA") for key in self.keys}}
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stop training when a batch's loss is NaN or infinite, as `keras.callbacks.TerminateOnNaN`.


    It reads every batch's loss (a device sync per batch).

    >>> isinstance(TerminateOnNaN(), Callback)
    True
    """

    def on_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from functions, as `keras.callbacks.LambdaCallback`.

    Args:
        on_epoch_begin, on_epoch_end: `(epoch, logs)`.
        on_train_begin, on_train_end: `(logs)`.
        on_train_batch_begin, on_train_batch_end: `(batch, logs)`.
        **kwargs: any other hook by name (`on_test_end=...`, `on_batch_end=...`).

    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: print("epoch", epoch))
    >>> cb.on_epoch_end(0, {})
    epoch 0
    """

    def __init__(self, on_epoch_begin: Callable[..., Any] | None = None,
                 on_epoch_end: Callable[..., Any] | None = None, on_train_begin: Callable[..., Any] | None = None,
                 on_train_end: Callable[..., Any] | None = None,
                 on_train_batch_begin: Callable[..., Any] | None = None,
                 on_train_batch_end: Callable[..., Any] | None = None, **kwargs: Callable[..., Any]) -> None:
        super().__init__()
        given = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end, "on_train_begin": on_train_begin,
                 "on_train_end": on_train_end, "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end, **kwargs}
        for name, fn in given.items():
            if fn is None:
                continue
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)
