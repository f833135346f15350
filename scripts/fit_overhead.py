"""The per-batch cost of `model.fit` over a hand-written PyTorch loop on the same model, data and loss.

    python scripts/fit_overhead.py [--batches 200] [--repeats 5] [--threads 1]

Both run the same steps: forward, Keras's MSE (`kr.losses.MeanSquaredError`), backward, SGD step, on the
same pre-made tensors in order (fit: shuffle=False, verbose=0). Prints the best time per batch of each
and their ratio (fit / loop).
"""
from __future__ import annotations

import argparse
import time

import torch

import kerasrnn_torch as kr


def build() -> kr.Sequential:
    torch.manual_seed(0)
    model = kr.Sequential([kr.LSTM(64), kr.Dense(8)])
    model.build((None, 20, 16))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y = torch.randn(args.batches * 32, 20, 16), torch.randn(args.batches * 32, 8)
    loss_fn = kr.losses.MeanSquaredError()

    model = build()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def loop() -> None:
        model.train()
        for start in range(0, len(x), 32):
            out = model(x[start:start + 32], training=True)
            loss = loss_fn(y[start:start + 32], out)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    fitted = build()
    fitted.compile(optimizer=torch.optim.SGD(fitted.parameters(), lr=0.01), loss="mse")

    def fit() -> None:
        fitted.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)

    best = {"loop": float("inf"), "fit": float("inf")}
    for _ in range(args.repeats):       # interleaved, so drifts in machine speed hit both
        for name, run in (("loop", loop), ("fit", fit)):
            started = time.perf_counter()
            run()
            best[name] = min(best[name], (time.perf_counter() - started) / args.batches)
    print(f"hand-written loop: {best['loop'] * 1e3:.3f} ms/batch")
    print(f"model.fit:         {best['fit'] * 1e3:.3f} ms/batch")
    print(f"ratio fit/loop:    {best['fit'] / best['loop']:.3f}")


if __name__ == "__main__":
    main()
