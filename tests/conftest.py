"""Test setup: Keras 3 runs on its torch backend as the numeric reference.

The tests sit in folders that mirror the package (tests/layers/rnn/, tests/io/, ...); the helpers they
import by name (`reference`, `hypothesis_profiles`) stay here in tests/, which goes on sys.path.
"""
import os
import sys

if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("KERAS_HOME", os.path.join(os.path.dirname(__file__), ".keras_home"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_everything():
    torch.manual_seed(0)
    np.random.seed(0)
    yield


def pytest_configure(config):
    # Tests use small tensors: one thread avoids oversubscribing CI's two cores.
    torch.set_num_threads(1)
