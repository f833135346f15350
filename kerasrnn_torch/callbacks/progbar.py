"""`ProgbarLogger`: Keras's progress display on tqdm (`tqdm.auto`: a widget in notebooks)."""
from __future__ import annotations

import sys
import time
from collections.abc import Mapping, MutableMapping
from typing import Any

from tqdm.auto import tqdm

from ..utils.progbar import format_number, mean_of
from .callback import Callback

# The bar redraws at most this often; batch logs are read (a device sync) only when it does.
REFRESH_SECONDS = 0.1


def format_value(value: Any) -> str:
    """A log value as Keras's bar shows it (`keras.utils.Progbar`'s format; an array, a metric with several
    thresholds, shows its mean)."""
    return format_number(value if isinstance(value, (int, float)) else mean_of(value))


def format_logs(logs: Mapping[str, Any] | None) -> str:
    """` - name: value` for each log, in Keras's style."""
    return "".join(f" - {key}: {format_value(value)}" for key, value in (logs or {}).items()
                   if isinstance(value, (int, float)) or hasattr(value, "item"))


def _per_step(seconds: float, steps: int) -> str:
    per = seconds / max(steps, 1)
    return f"{per * 1e6:.0f}us/step" if per < 1e-3 else f"{per * 1e3:.0f}ms/step" if per < 1 else f"{per:.0f}s/step"


def _interactive() -> bool:
    """A terminal, or a notebook (where `tqdm.auto` picks its widget): somewhere a bar can redraw."""
    return sys.stdout.isatty() or type(sys.stdout).__module__.startswith("ipykernel")


class ProgbarLogger(Callback):
    """Keras's progress output for `fit`, `evaluate` and `predict`, as `keras.callbacks.ProgbarLogger`.

    It takes no arguments: the level comes from `verbose` in `fit`/`evaluate`/`predict`: 0 silent,
    1 a bar per epoch (steps done, ETA, time per step, loss and metrics), 2 one line per epoch; "auto" is 1.

    `fit` adds one itself when `verbose` is not 0. The bar is tqdm's, written
    to stdout (a widget in notebooks); it redraws at most every 0.1 s and only
    then reads the batch's loss (so a device sync at most 10 times a second).

    >>> ProgbarLogger().verbose
    1
    """

    def __init__(self) -> None:
        super().__init__()
        self.verbose = 1
        self.epochs = 1
        self._bar: Any = None
        self._in_fit = False
        self._started = 0.0
        self._next_draw = 0.0
        self._seen = 0

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs", 1) or 1

    # ------------------------------------------------------------ the bar
    def _open(self) -> None:
        self._close()
        self._started = time.perf_counter()
        self._next_draw = 0.0
        self._seen = 0
        if self.verbose == 1 and _interactive():
            self._bar = tqdm(total=self.params.get("steps"), file=sys.stdout, leave=True, dynamic_ncols=True,
                             bar_format="{n_fmt}/{total_fmt} {bar} {elapsed}<{remaining}{postfix}",
                             mininterval=REFRESH_SECONDS)

    def _advance(self, batch: int, logs: Mapping[str, Any] | None) -> None:
        self._seen = batch + 1
        if self._bar is None:
            return
        self._bar.update(self._seen - self._bar.n)
        now = time.perf_counter()
        if now >= self._next_draw:
            self._next_draw = now + REFRESH_SECONDS
            self._bar.set_postfix_str(f"{_per_step(now - self._started, self._seen)}{format_logs(logs)}",
                                      refresh=False)

    def _finish(self, logs: Mapping[str, Any] | None) -> None:
        seconds = time.perf_counter() - self._started
        text = f"{_per_step(seconds, self._seen)}{format_logs(logs)}"
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=True)
            self._close()
        elif self.verbose == 2:
            print(f"{self._seen}/{self.params.get('steps') or self._seen} - {seconds:.0f}s - {text}",
                  file=sys.stdout, flush=True)
        elif self.verbose == 1:         # a log or a pipe: Keras prints the finished bar's line only
            steps = self.params.get("steps") or self._seen
            print(f"{self._seen}/{steps} {'━' * 20} {seconds:.0f}s {text}", file=sys.stdout, flush=True)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # ------------------------------------------------------------ hooks
    def on_train_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        self._in_fit = True

    def on_epoch_begin(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.epochs}", file=sys.stdout, flush=True)
        self._open()

    def on_train_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        self._advance(batch, logs)

    def on_epoch_end(self, epoch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        self._finish(logs)

    def on_train_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        self._close()
        self._in_fit = False

    def on_test_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        if not self._in_fit:
            self._open()

    def on_test_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        if not self._in_fit:
            self._advance(batch, logs)

    def on_test_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs: MutableMapping[str, Any] | None = None) -> None:
        self._open()

    def on_predict_batch_end(self, batch: int, logs: MutableMapping[str, Any] | None = None) -> None:
        self._advance(batch, None)

    def on_predict_end(self, logs: MutableMapping[str, Any] | None = None) -> None:
        self._finish(None)
