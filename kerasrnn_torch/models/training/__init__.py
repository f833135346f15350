"""Keras's training workflow (compile, fit, evaluate, predict) for `Model` and `Sequential`."""
