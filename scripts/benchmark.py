"""Run the benchmark matrix: `python scripts/benchmark.py --help` (the code lives in kerasrnn_torch.benchmarks.benchmark)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kerasrnn_torch.benchmarks.benchmark import main  # noqa: E402

if __name__ == "__main__":
    main()
