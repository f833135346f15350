"""The per-framework workers of `bench --peers` (`kerasrnn_torch.benchmarks.peers`).

Each framework runs in a process of its own: `driver.py` is run as a script (so that the process
imports nothing of kerasrnn_torch unless it is the one timing ours), loads one worker module of this
folder by its file name, builds every case the runner asked for and prints one JSON object. A worker
imports its framework inside its functions only, so that this package imports (and is collected by
pytest) where no peer framework is installed.

A worker module defines `REQUIRES` (the modules it needs; a missing one is reported as "not
installed") and `build(case, data)`, which returns `(steps, info)`: `steps` maps "forward" and/or
"train" to a function of no arguments that runs one step to completion, `info()` a dict of what to
report after the steps ran (ours: the path that ran).
"""
