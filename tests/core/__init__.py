"""Tests of kerasrnn_torch/core/: the layer base class, weights, configs, builds."""
