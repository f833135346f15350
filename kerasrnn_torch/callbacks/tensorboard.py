"""`TensorBoard`: epoch logs as TensorBoard scalars through `torch.utils.tensorboard`."""
from __future__ import annotations

import importlib
import os
from collections.abc import MutableMapping
from typing import Any

from .callback import Callback


class TensorBoard(Callback):
    """Write the epoch logs (and, with `update_freq`, batch logs) for TensorBoard, as `keras.callbacks.TensorBoard`.

    Args:
        log_dir: the log directory (default "logs"); training under `train/`, validation under `validation/`.
        update_freq: "epoch" (default) or a number of batches between batch scalars.

    Needs the `tensorboard` package (`torch.utils.tensorboard`): without it the
    constructor raises an ImportError saying so. Keras's other arguments
    (histograms, images, profiling) are not supported.

    >>> TensorBoard  # doctest: +ELLIPSIS
    <class '...TensorBoard'>
    """

    def __init__(self, log_dir: str | os.PathLike = "logs", update_freq: str | int = "epoch") -> None:
        super().__init__()
        try:
            # Loaded here: importing tensorboard is slow, and it is an optional dependency.
            self._tensorboard = importlib.import_module("torch.utils.tensorboard")
        except ImportError as error:
            raise ImportError("kr.callbacks.TensorBoard needs the tensorboard package: pip install tensorboard") \
                from error
        self.log_dir = os.fspath(log_dir)
        self.update_freq = update_freq
        self._writers: dict[str, Any] = {}
        self._step = 0

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            self._writers[name] = self._tensorboard.SummaryWriter(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        self._step += 1
        if isinstance(self.update_freq, int) and self._step % self.update_freq == 0:
            for key, value in (logs or {}).items():
                self._writer("train").add_scalar(f"batch_{key}", float(value), self._step)

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        for key, value in (logs or {}).items():
            if key.startswith("val_"):
                self._writer("validation").add_scalar(f"epoch_{key[4:]}", float(value), epoch)
            else:
                self._writer("train").add_scalar(f"epoch_{key}", float(value), epoch)

    def on_train_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
