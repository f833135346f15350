"""Tests of the recurrent layers, their cells and wrappers, against Keras 3 and on both paths."""
