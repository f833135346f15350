"""The framework every layer stands on: `Layer`, symbolic tensors and `Input`, configs, dry runs."""
