"""The per-batch cost of `model.fit` over a hand-written PyTorch loop on the same model, data, loss and optimizer.

    python scripts/fit_overhead.py [--model tiny,seed] [--batches 200] [--repeats 5] [--threads 1] [--clock cpu]

Both run the same steps (forward, the same `kr.losses` loss, zero_grad, backward, SGD step) on the same
pre-made tensors in order (fit: shuffle=False, verbose=0). Prints the best time per batch of each and their
ratio (fit / loop). Models: tiny (one Dense(16)), lstm (LSTM(64) -> Dense(8)), seed (LSTM(64) -> Dense(10) on
28x28 rows, sparse categorical crossentropy from logits, batches of 64). The code: kerasrnn_torch.benchmarks.fit.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kerasrnn_torch.benchmarks.fit import overhead_main as main  # noqa: E402

if __name__ == "__main__":
    main()
