"""Tests of kerasrnn_torch/layers/, one folder per family; here, what every layer shares."""
