"""`fit` on a device: the seed's MNIST-rows model trains through the fused path (cuDNN on CUDA).

    python scripts/gpu_fit_check.py [--device cuda] [--samples 12800] [--epochs 2]

Builds the seed's model (`LSTM(64) -> Dense(10)` on 28 x 28 rows), moves it to the device, trains it
with `compile(loss=SparseCategoricalCrossentropy(from_logits=True), optimizer="sgd",
metrics=["accuracy"])` and `fit(batch_size=64)` on random data of MNIST's shape, and prints each
epoch's time, which path the LSTM ran, and which recurrent kernels the profiler saw during one
training step (on CUDA: `aten::_cudnn_rnn`). Exits 1 if the LSTM did not run fused, or, on CUDA,
if no cuDNN recurrent kernel ran.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

import kerasrnn_torch as kr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--samples", type=int, default=12800)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.random((args.samples, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, args.samples)
    model = kr.Sequential([kr.Input((28, 28)), kr.LSTM(64), kr.Dense(10)]).to(args.device)
    model.compile(loss=kr.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="sgd",
                  metrics=["accuracy"])
    for epoch in range(args.epochs):
        start = time.perf_counter()
        history = model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        print(f"epoch {epoch + 1}: {time.perf_counter() - start:.2f} s, loss {history.history['loss'][-1]:.4f}, "
              f"path {model.layers[0].last_path}")
    with torch.profiler.profile() as profile:
        model.train_on_batch(x[:64], y[:64])
    kernels = sorted({event.key for event in profile.key_averages()
                      if "rnn" in event.key.lower() or "lstm" in event.key.lower()})
    print("recurrent kernels in one training step:", ", ".join(kernels) or "none")
    failures = []
    if model.layers[0].last_path != "fused":
        failures.append(f"the LSTM ran {model.layers[0].last_path!r}, not the fused path")
    if args.device.startswith("cuda") and not any("cudnn" in k.lower() for k in kernels):
        failures.append("no cuDNN recurrent kernel ran on CUDA")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
