"""`fit` timed: one epoch against Keras 3 and a hand-written loop, and fit's per-batch overhead.

Two measurements, both in one process with their runs interleaved round by round (so a drift in the
machine's speed hits every contender alike); nothing here asserts a speed:

- `epoch_times`: one epoch of `fit` on the seed's comparison model (MNIST rows as timesteps:
  `LSTM(units) -> Dense(10)`, sparse categorical crossentropy from logits, `"sgd"`, `["accuracy"]`,
  batches of 64, `shuffle=False`) on synthetic data of MNIST's shape: ours (`kr.LSTM`, and with
  `loop_models` `kr.RNN(kr.LSTMCell)`), Keras 3 on its torch backend with the same weights, and
  `torch.nn.LSTM` + `nn.Linear` trained by a hand-written loop over the same batches. Medians (and
  IQRs) of the rounds' seconds per epoch.
- `overhead`: the per-batch cost of `model.fit` (verbose=0, shuffle=False) over a hand-written PyTorch
  loop running the same steps (forward, the same `kr.losses` loss, `zero_grad(set_to_none=True)`,
  backward, `torch.optim.SGD` step) on the same model and the same pre-made tensors. The best round
  of each, per batch, and their ratio (fit / loop). Models: "tiny" (one `Dense(16)`: fit's fixed
  per-batch cost shows most), "lstm" (`LSTM(64) -> Dense(8)`, 20 steps of 16 features, MSE) and
  "seed" (the seed's model and loss, batches of 64, no metric).

`clock="cpu"` times with the process's CPU time instead of the wall clock: on a machine shared with
other work it is steadier (single-threaded runs), at the price of leaving out time spent waiting.

    python scripts/benchmark.py --skip-matrix --fit              # both, as `bench --fit`
    python scripts/bench_fit.py --samples 4096 --repeats 5       # the epoch comparison alone
    python scripts/fit_overhead.py --model tiny                  # the overhead alone
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from ..layers.core.dense import Dense  # noqa: E402
from ..core.input_layer import Input  # noqa: E402
from ..layers.rnn.rnn import RNN  # noqa: E402
from ..layers.rnn.lstm import LSTM, LSTMCell  # noqa: E402
from ..losses import MeanSquaredError, SparseCategoricalCrossentropy  # noqa: E402
from ..models.sequential import Sequential  # noqa: E402

CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def _seconds(run: Callable[[], Any], clock: Callable[[], float]) -> float:
    start = clock()
    run()
    return clock() - start


# ------------------------------------------------------------------------------------- one epoch
def _keras_model(keras: Any, units: int, loop: bool) -> Any:
    recurrent = keras.layers.RNN(keras.layers.LSTMCell(units)) if loop else keras.layers.LSTM(units)
    model = keras.Sequential([keras.Input((28, 28)), recurrent, keras.layers.Dense(10)])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="sgd",
                  metrics=["accuracy"])
    return model


def _our_model(units: int, loop: bool, weights: list[np.ndarray] | None) -> Sequential:
    recurrent = RNN(LSTMCell(units)) if loop else LSTM(units)
    model = Sequential([Input((28, 28)), recurrent, Dense(10)])
    if weights is not None:
        model.set_weights(weights)
    model.compile(loss=SparseCategoricalCrossentropy(from_logits=True), optimizer="sgd", metrics=["accuracy"])
    return model


class TorchLoop:
    """torch.nn.LSTM + Linear trained by a hand-written SGD loop over the same batches."""

    def __init__(self, units: int) -> None:
        self.lstm = nn.LSTM(28, units, batch_first=True)
        self.head = nn.Linear(units, 10)
        self.optimizer = torch.optim.SGD([*self.lstm.parameters(), *self.head.parameters()], lr=0.01)

    def fit(self, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> None:
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            self.optimizer.zero_grad()
            output, _ = self.lstm(xb)
            loss = nn.functional.cross_entropy(self.head(output[:, -1]), yb)
            loss.backward()
            self.optimizer.step()
            loss.item()                 # fit reads the loss for its logs; so does this loop


def epoch_times(samples: int = 4096, units: int = 64, batch_size: int = 64, repeats: int = 3,
                loop_models: bool = False, keras: Any = None, clock: str = "wall") -> dict[str, list[float]]:
    """Seconds per epoch of each contender, one sample per round: "ours fused", "keras fused" (with
    `keras`, the imported module), "torch.nn loop", and with `loop_models` "ours loop"/"keras loop"."""
    rng = np.random.default_rng(0)
    x = rng.random((samples, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, samples)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    models: dict[str, Any] = {}
    for loop in ([False, True] if loop_models else [False]):
        path = "loop" if loop else "fused"
        theirs = _keras_model(keras, units, loop) if keras is not None else None
        if theirs is not None:
            models[f"keras {path}"] = theirs
        models[f"ours {path}"] = _our_model(units, loop, theirs.get_weights() if theirs is not None else None)
    torch_loop = TorchLoop(units)

    def fit(model: Any) -> Callable[[], Any]:
        return lambda: model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    runs: dict[str, Callable[[], Any]] = {name: fit(model) for name, model in models.items()}
    runs["torch.nn loop"] = lambda: torch_loop.fit(xt, yt, batch_size)
    timer = CLOCKS[clock]
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(_seconds(run, timer))
    return times


def epoch_lines(times: dict[str, list[float]]) -> list[str]:
    """The printed report of `epoch_times`: each median with its samples, then the ratios."""
    medians = {name: statistics.median(values) for name, values in times.items()}
    lines = [f"  {name:<16} {value:8.3f} s   ({', '.join(f'{v:.3f}' for v in times[name])})"
             for name, value in medians.items()]
    for path in ("fused", "loop"):
        if f"ours {path}" in medians and f"keras {path}" in medians:
            lines.append(f"  Keras 3 / ours, {path}: {medians[f'keras {path}'] / medians[f'ours {path}']:.2f}x")
    lines.append(f"  torch.nn loop / ours fused: {medians['torch.nn loop'] / medians['ours fused']:.2f}x")
    return lines


# ---------------------------------------------------------------------------------- fit overhead
OVERHEAD_MODELS = ("tiny", "lstm", "seed")


def _overhead_case(name: str, batches: int) -> tuple[Callable[[], Sequential], torch.Tensor, torch.Tensor, Any, int]:
    """(a model factory, x, y, the loss, the batch size) of one overhead model."""
    generator = torch.Generator().manual_seed(0)
    x_shape: tuple[int, ...]
    if name == "tiny":
        layers: Callable[[], list[Any]] = lambda: [Dense(16)]
        batch, x_shape = 32, (16,)
        y = torch.randn(batches * batch, 16, generator=generator)
        loss: Any = MeanSquaredError()
    elif name == "lstm":
        layers = lambda: [LSTM(64), Dense(8)]
        batch, x_shape = 32, (20, 16)
        y = torch.randn(batches * batch, 8, generator=generator)
        loss = MeanSquaredError()
    elif name == "seed":
        layers = lambda: [LSTM(64), Dense(10)]
        batch, x_shape = 64, (28, 28)
        y = torch.randint(0, 10, (batches * batch,), generator=generator)
        loss = SparseCategoricalCrossentropy(from_logits=True)
    else:
        raise ValueError(f"model must be one of {', '.join(OVERHEAD_MODELS)}; got {name!r}")
    x = torch.randn(batches * batch, *x_shape, generator=generator)

    def build() -> Sequential:
        torch.manual_seed(0)
        model = Sequential(layers())
        model.build((None, *x_shape))
        return model
    return build, x, y, loss, batch


def overhead(model: str = "tiny", batches: int = 200, repeats: int = 5, clock: str = "wall") -> dict[str, float]:
    """{"loop", "fit"}: the best round's milliseconds per batch of each; "ratio": fit / loop."""
    build, x, y, loss_fn, batch = _overhead_case(model, batches)
    looped = build()
    optimizer = torch.optim.SGD(looped.parameters(), lr=0.01)

    def loop() -> None:
        looped.train()
        for start in range(0, len(x), batch):
            out = looped(x[start:start + batch], training=True)
            loss = loss_fn(y[start:start + batch], out)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    fitted = build()
    fitted.compile(optimizer=torch.optim.SGD(fitted.parameters(), lr=0.01), loss=loss_fn)

    def fit() -> None:
        fitted.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)

    timer = CLOCKS[clock]
    best = {"loop": float("inf"), "fit": float("inf")}
    loop()                              # warm-up: first calls fill caches
    fit()
    for _ in range(repeats):
        for name, run in (("loop", loop), ("fit", fit)):
            best[name] = min(best[name], _seconds(run, timer) * 1e3 / batches)
    return {**best, "ratio": best["fit"] / best["loop"]}


def overhead_line(model: str, result: dict[str, float]) -> str:
    return (f"  {model:<5} hand-written loop {result['loop']:.3f} ms/batch, model.fit {result['fit']:.3f} ms/batch, "
            f"fit/loop {result['ratio']:.3f}")


# ------------------------------------------------------------------------------------ the scripts
def _clock_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                        help="wall: time.perf_counter; cpu: the process's CPU time (steadier on a shared machine)")


def epoch_main(argv: list[str] | None = None) -> dict[str, float]:
    """scripts/bench_fit.py: prints the epoch comparison; returns the medians."""
    parser = argparse.ArgumentParser(description=epoch_main.__doc__)
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--loop", action="store_true", help="also time the loop models (slow)")
    _clock_argument(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    import keras
    times = epoch_times(args.samples, args.units, args.batch_size, args.repeats, args.loop, keras, args.clock)
    print(f"one epoch of fit, {args.samples} samples of 28x28, LSTM({args.units}) -> Dense(10), batch "
          f"{args.batch_size}, {args.threads} thread(s), median of {args.repeats} interleaved rounds ({args.clock} "
          "clock)")
    print("\n".join(epoch_lines(times)))
    return {name: statistics.median(values) for name, values in times.items()}


def overhead_main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """scripts/fit_overhead.py: prints fit's per-batch cost over a hand-written loop; returns it per model."""
    parser = argparse.ArgumentParser(description=overhead_main.__doc__)
    parser.add_argument("--model", default="tiny,seed",
                        help=f"comma-separated of {', '.join(OVERHEAD_MODELS)} (default tiny,seed)")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    _clock_argument(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"fit's cost over a hand-written loop: best of {args.repeats} interleaved rounds of {args.batches} batches, "
          f"{args.threads} thread(s), {args.clock} clock")
    results = {}
    for model in args.model.split(","):
        results[model] = overhead(model, args.batches, args.repeats, args.clock)
        print(overhead_line(model, results[model]), flush=True)
    return results


__all__ = ["epoch_times", "epoch_lines", "overhead", "overhead_line", "epoch_main", "overhead_main", "TorchLoop",
           "OVERHEAD_MODELS", "CLOCKS"]
