"""The benchmark matrix behind `python -m kerasrnn_torch bench` and `scripts/benchmark.py`."""
