"""`BackupAndRestore`: resume an interrupted `fit` where it stopped, bit for bit."""
from __future__ import annotations

import os
import random
import shutil
from collections.abc import MutableMapping
from typing import Any

import numpy as np
import torch

from .callback import Callback


class BackupAndRestore(Callback):
    """Back up the training state so an interrupted `fit` resumes identically, as `keras.callbacks.BackupAndRestore`.

    Args:
        backup_dir: where the backup lives.
        save_freq: "epoch" (default) or a number of batches.
        delete_checkpoint: remove the backup when `fit` finishes (default True).

    What differs from Keras: the backup is one `torch.save` file holding the
    model's `state_dict`, the optimizer's, the epoch, and the random states
    (torch, CUDA, NumPy, Python), so the resumed run draws the same shuffles and
    dropout masks as an uninterrupted one. Call `fit` again with the same
    callback (or one on the same directory): it starts from the saved epoch.
    A backup taken mid-epoch (`save_freq` batches) resumes from that epoch's start.

    >>> BackupAndRestore("backup").save_freq
    'epoch'
    """

    def __init__(self, backup_dir: str | os.PathLike, save_freq: str | int = "epoch",
                 delete_checkpoint: bool = True) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                             "Expected either 'epoch' or an integer value.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.resume_epoch: int | None = None
        self._path = os.path.join(self.backup_dir, "latest.pt")
        self._batches = 0
        self._epoch = 0

    def on_train_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        self.resume_epoch = None
        if not os.path.exists(self._path):
            return
        state = torch.load(self._path, map_location="cpu", weights_only=False)
        self.model.load_state_dict(state["model"])
        optimizer = self.model.optimizer
        if state["optimizer"] is not None and optimizer is not None:
            optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        if state["cuda_rng"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        np.random.set_state(state["numpy_rng"])
        random.setstate(state["python_rng"])
        self.resume_epoch = int(state["epoch"])

    def on_epoch_begin(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        if isinstance(self.save_freq, int):
            self._batches += 1
            if self._batches >= self.save_freq:
                self._batches = 0
                self._save(self._epoch)

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch + 1)

    def _save(self, epoch: int) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        optimizer = self.model.optimizer
        state = {"model": self.model.state_dict(), "epoch": epoch,
                 "optimizer": optimizer.state_dict() if optimizer is not None else None,
                 "torch_rng": torch.get_rng_state(),
                 "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
                 "numpy_rng": np.random.get_state(), "python_rng": random.getstate()}
        temporary = self._path + ".tmp"
        torch.save(state, temporary)
        os.replace(temporary, self._path)      # a crash while writing never leaves half a backup

    def on_train_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
