"""Keras's `Callback` (the hooks `fit`, `evaluate` and `predict` call) and `CallbackList` (calls them in order)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_test_begin", "on_test_end",
          "on_predict_begin", "on_predict_end", "on_train_batch_begin", "on_train_batch_end",
          "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """The base of Keras's callbacks: override the hooks you need, as `keras.callbacks.Callback`.

    subclasses take their own.

    `self.model` is the model being trained (set by `fit`), `self.params` holds
    `verbose`, `epochs` and `steps`. Hooks, in Keras's order: `on_train_begin`,
    then per epoch `on_epoch_begin`, per batch `on_train_batch_begin`/`_end`
    (`on_batch_begin`/`_end` are the same), the validation's `on_test_*`,
    `on_epoch_end`; finally `on_train_end`. `evaluate` calls `on_test_*`,
    `predict` `on_predict_*`. `logs` are dicts of Python floats (batch logs
    are computed when first read).

    >>> class Count(Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(epoch, sorted(logs))
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The model the callback is attached to."""
        return self._model

    def set_model(self, model: Any) -> None:
        """Attach the model (called by `fit`, `evaluate` and `predict`)."""
        self._model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Set `params` (`verbose`, `epochs`, `steps`)."""
        self.params = params

    def on_batch_begin(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        """Same as `on_train_batch_begin` (Keras's older name)."""

    def on_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        """Same as `on_train_batch_end` (Keras's older name)."""

    def on_epoch_begin(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        """At the start of an epoch (0-based)."""

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        """At the end of an epoch: `logs` holds the epoch's loss and metrics, and `val_*` after validation."""

    def on_train_batch_begin(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        """Before a training batch."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        """After a training batch: `logs` holds the running loss and metrics."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        """Before an evaluation batch."""

    def on_test_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        """After an evaluation batch."""

    def on_predict_batch_begin(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        """Before a prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        """After a prediction batch (`logs["outputs"]`: the batch's outputs)."""

    def on_train_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        """At the start of `fit`."""

    def on_train_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        """At the end of `fit`: `logs` are the last epoch's."""

    def on_test_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        """At the start of `evaluate` (and of `fit`'s validation)."""

    def on_test_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        """At the end of `evaluate`: `logs` hold its results."""

    def on_predict_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        """At the start of `predict`."""

    def on_predict_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        """At the end of `predict`."""


class LazyLogs(MutableMapping):
    """A batch's logs, computed on first read: a loop whose callbacks never read them never syncs the device."""

    def __init__(self, compute: Callable[[], dict[str, Any]]) -> None:
        self._compute: Callable[[], dict[str, Any]] | None = compute
        self._values: dict[str, Any] = {}

    def _resolved(self) -> dict[str, Any]:
        if self._compute is not None:
            compute, self._compute = self._compute, None
            self._values = {**compute(), **self._values}
        return self._values

    def __getitem__(self, key: str) -> Any:
        return self._resolved()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._resolved()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._resolved()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())

    def __repr__(self) -> str:
        return repr(self._resolved())


def _overrides(callback: Callback, names: Iterable[str]) -> bool:
    return any(getattr(type(callback), name, None) is not getattr(Callback, name) for name in names)


class CallbackList(Callback):
    """Callbacks called in order, as `keras.callbacks.CallbackList`.

    Args:
        callbacks: the callbacks (None: none).
        model: the model to attach to them.
        **params: `verbose`, `epochs`, `steps` given to each (`set_params`).

    Batch hooks are skipped for the callbacks that do not override them, so
    a loop whose callbacks only look at epochs pays nothing per batch.

    >>> CallbackList([Callback()]).callbacks[0].params
    {}
    """

    def __init__(self, callbacks: Iterable[Callback] | None = None, model: Any = None, **params: Any) -> None:
        super().__init__()
        self.callbacks: list[Callback] = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be kr.callbacks.Callback objects; got {type(callback).__name__}")
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)
        self._refresh()

    def _refresh(self) -> None:
        train_batch = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
        self._train_batch = [c for c in self.callbacks if _overrides(c, train_batch)]
        self._test_batch = [c for c in self.callbacks if _overrides(c, ("on_test_batch_begin", "on_test_batch_end"))]
        self._predict_batch = [c for c in self.callbacks
                               if _overrides(c, ("on_predict_batch_begin", "on_predict_batch_end"))]

    def append(self, callback: Callback) -> None:
        """Add a callback at the end."""
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)
        self._refresh()

    @property
    def wants_train_batches(self) -> bool:
        """Whether any callback has a training batch hook."""
        return bool(self._train_batch)

    def set_model(self, model: Any) -> None:
        """Attach the model to every callback."""
        super().set_model(model)
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        """Give `params` to every callback."""
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params(params)

    def resume_epoch(self) -> int | None:
        """The epoch a callback asks training to resume from (`BackupAndRestore`), or None."""
        epochs = [getattr(c, "resume_epoch", None) for c in self.callbacks]
        found = [e for e in epochs if isinstance(e, int)]
        return max(found) if found else None

    def on_epoch_begin(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self._train_batch:
            callback.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self._train_batch:
            callback.on_train_batch_end(batch, logs)

    def on_test_batch_begin(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self._test_batch:
            callback.on_test_batch_begin(batch, logs)

    def on_test_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self._test_batch:
            callback.on_test_batch_end(batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self._predict_batch:
            callback.on_predict_batch_begin(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self._predict_batch:
            callback.on_predict_batch_end(batch, logs)

    def on_train_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_train_begin(logs)

    def on_train_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_train_end(logs)

    def on_test_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_test_begin(logs)

    def on_test_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_test_end(logs)

    def on_predict_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_predict_begin(logs)

    def on_predict_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        for callback in self.callbacks:
            callback.on_predict_end(logs)
