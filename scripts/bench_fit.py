"""One epoch of `fit`: ours against Keras 3 (torch backend) and a hand-written torch.nn loop, side by side.

The seed's comparison model (MNIST rows as timesteps: `LSTM(units) -> Dense(10)`, sparse categorical
crossentropy from logits, SGD, batches of 64) on synthetic data of MNIST's shape, in one process:

- ours, fused (`kr.LSTM`) and loop (`kr.RNN(kr.LSTMCell)`), trained with `model.fit`;
- Keras 3 on its torch backend, `keras.layers.LSTM` and `keras.layers.RNN(LSTMCell)`, with `model.fit`;
- `torch.nn.LSTM` + `nn.Linear` trained by a hand-written loop (the same steps).

Rounds are interleaved and each time is the median over them; the ratios are Keras's (or torch.nn's)
time over ours.

    python scripts/bench_fit.py                        # 4,096 samples, 3 rounds, 1 thread
    python scripts/bench_fit.py --samples 60000 --repeats 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import kerasrnn_torch as kr  # noqa: E402


def keras_model(units: int, loop: bool):
    recurrent = keras.layers.RNN(keras.layers.LSTMCell(units)) if loop else keras.layers.LSTM(units)
    model = keras.Sequential([keras.Input((28, 28)), recurrent, keras.layers.Dense(10)])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="sgd",
                  metrics=["accuracy"])
    return model


def our_model(units: int, loop: bool, weights):
    recurrent = kr.RNN(kr.LSTMCell(units)) if loop else kr.LSTM(units)
    model = kr.Sequential([kr.Input((28, 28)), recurrent, kr.Dense(10)])
    model.set_weights(weights)
    model.compile(loss=kr.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="sgd",
                  metrics=["accuracy"])
    return model


class TorchLoop:
    """torch.nn.LSTM + Linear with a hand-written SGD loop over the same batches."""

    def __init__(self, units: int):
        self.lstm = nn.LSTM(28, units, batch_first=True)
        self.head = nn.Linear(units, 10)
        parameters = [*self.lstm.parameters(), *self.head.parameters()]
        self.optimizer = torch.optim.SGD(parameters, lr=0.01)

    def fit(self, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> None:
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            self.optimizer.zero_grad()
            output, _ = self.lstm(xb)
            loss = nn.functional.cross_entropy(self.head(output[:, -1]), yb)
            loss.backward()
            self.optimizer.step()
            loss.item()                 # fit reads the loss for its logs; so does this loop


def seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--loop", action="store_true", help="also time the loop models (slow)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, args.samples)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    models = {}
    for loop in ([False, True] if args.loop else [False]):
        path = "loop" if loop else "fused"
        theirs = keras_model(args.units, loop)
        models[f"keras {path}"] = theirs
        models[f"ours {path}"] = our_model(args.units, loop, theirs.get_weights())
    torch_loop = TorchLoop(args.units)

    def fit(model):
        return lambda: model.fit(x, y, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
    runs = {name: fit(model) for name, model in models.items()}
    runs["torch.nn loop"] = lambda: torch_loop.fit(xt, yt, args.batch_size)
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):                   # interleaved rounds
        for name, run in runs.items():
            samples[name].append(seconds(run))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print(f"one epoch of fit, {args.samples} samples of 28x28, LSTM({args.units}) -> Dense(10), batch "
          f"{args.batch_size}, {args.threads} thread(s), median of {args.repeats} interleaved rounds")
    for name, value in medians.items():
        print(f"  {name:<16} {value:8.3f} s   ({', '.join(f'{v:.3f}' for v in samples[name])})")
    for path in ("fused", "loop"):
        if f"ours {path}" in medians:
            ratio = medians[f"keras {path}"] / medians[f"ours {path}"]
            print(f"  Keras 3 / ours, {path}: {ratio:.2f}x")
    print(f"  torch.nn loop / ours fused: {medians['torch.nn loop'] / medians['ours fused']:.2f}x")
    return medians


if __name__ == "__main__":
    main()
