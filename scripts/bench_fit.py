"""One epoch of `fit`: ours against Keras 3 (torch backend) and a hand-written torch.nn loop, side by side.

The seed's comparison model (MNIST rows as timesteps: `LSTM(units) -> Dense(10)`, sparse categorical
crossentropy from logits, SGD, batches of 64) on synthetic data of MNIST's shape; rounds interleaved,
medians (the code: kerasrnn_torch.benchmarks.fit; `python scripts/benchmark.py --skip-matrix --fit` runs it
with the fit-overhead ratio).

    python scripts/bench_fit.py                        # 4,096 samples, 3 rounds, 1 thread
    python scripts/bench_fit.py --samples 60000 --repeats 5 --loop
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kerasrnn_torch.benchmarks.fit import epoch_main as main  # noqa: E402

if __name__ == "__main__":
    main()
