"""kr.testing: check a model of your own on both paths, in your CI.

- `assert_paths_agree(model, *inputs, ...)`: runs the model on the fused kernel and on the cell loop
  from the same random streams and states, compares every layer's outputs, the model's outputs,
  every gradient and every stateful layer's states, names the first layer that differs, and leaves
  the model as it was.
- `paths_report(model, *inputs)`: which recurrent layers run fused, and why the others do not.
- `both_paths`: a decorator that runs a pytest test twice, fused and on the loop (pytest is
  imported only when it is used).
"""
from .agreement import assert_paths_agree, paths_report
from .pytest_helper import PATHS, both_paths
from .reports import Agreement, LayerPath, PathsReport

__all__ = ["Agreement", "LayerPath", "PATHS", "PathsReport", "assert_paths_agree", "both_paths", "paths_report"]
