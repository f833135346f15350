"""Run one framework's cases of `bench --peers` in this process and print the results as JSON.

    python driver.py '<spec as JSON>'

The spec: {"worker": file name in this folder without ".py", "cases": [case, ...], "samples": n,
"min_sample_ms": ms, "warmup": n}; a case: {"id", "layer", "config", "kwargs", "mask", "modes",
"batch", "timesteps", "features", "units"}. The output's last line is one JSON object:
{"worker", "cases": {id: {mode: {"cpu_ms", "wall_ms", "first_call_s"}, "info": {...}}}} or
{"worker", "not_installed": [module, ...]}; a case that fails gets {"error": text}.

Every timing is CPU time of this process (`time.process_time`, all its threads) per step: the
median of `samples` blocks, each block enough back-to-back steps to last `min_sample_ms`, after
the first call (timed apart: compiling happens there) and `warmup` more. This file imports only
the standard library (and NumPy, once the worker's modules are known to be there), so that a
framework's process holds that framework alone.
"""
from __future__ import annotations

import importlib.util
import json
import os
import statistics
import sys
import time
import traceback
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))


def load_worker(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"peer_worker_{name}", os.path.join(HERE, f"{name}.py"))
    if spec is None or spec.loader is None:
        raise ValueError(f"no worker named {name!r} in {HERE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # dataclasses (Flax's modules) look their module up there
    spec.loader.exec_module(module)
    return module


def case_data(case: dict[str, Any]) -> dict[str, Any]:
    """The inputs of one case, the same in every framework's process: x (batch, timesteps, features)
    float32, y (batch,) integer labels in [0, 10), and the mask (batch, timesteps) bool or None.

    Row i keeps L_i steps, L_i drawn from [timesteps // 2, timesteps - 1]: "right-padded" keeps the
    first L_i steps; "holes" keeps every other row right-padded and spreads the other rows' gaps
    evenly inside the row (the benchmark's mask patterns, drawn with NumPy here)."""
    import numpy as np

    batch, timesteps, features = case["batch"], case["timesteps"], case["features"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, timesteps, features), dtype=np.float32)
    y = rng.integers(0, 10, size=(batch,)).astype(np.int32)
    mask = None
    if case["mask"] != "none":
        shortest = max(1, timesteps // 2)
        lengths = rng.integers(shortest, max(shortest, timesteps - 1) + 1, size=(batch,))
        mask = np.arange(timesteps)[None, :] < lengths[:, None]
        if case["mask"] == "holes":
            for row in range(1, batch, 2):
                gaps = timesteps - int(lengths[row])
                mask[row] = True
                mask[row, [int((j + 0.5) * timesteps / gaps) for j in range(gaps)]] = False
        elif case["mask"] != "right-padded":
            raise ValueError(f"mask must be 'none', 'right-padded' or 'holes', got {case['mask']!r}")
    return {"x": x, "y": y, "mask": mask}


def time_step(step: Any, samples: int, min_sample_ms: float, warmup: int) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    first_call_s = time.perf_counter() - wall
    first_cpu = time.process_time() - cpu
    for _ in range(warmup):
        step()
    # Size a block from one more call, then time `samples` blocks.
    start = time.process_time()
    step()
    one = max(time.process_time() - start, 1e-6)
    calls = max(1, int(min_sample_ms / 1000 / one + 0.999))
    cpu_ms, wall_ms = [], []
    for _ in range(samples):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            step()
        cpu_ms.append((time.process_time() - cpu) * 1000 / calls)
        wall_ms.append((time.perf_counter() - wall) * 1000 / calls)
    return {"cpu_ms": statistics.median(cpu_ms), "wall_ms": statistics.median(wall_ms), "cpu_samples_ms": cpu_ms,
            "calls_per_sample": calls, "first_call_s": first_call_s, "first_call_cpu_s": first_cpu}


def run(spec: dict[str, Any]) -> dict[str, Any]:
    worker = load_worker(spec["worker"])
    required = ("numpy", *getattr(worker, "REQUIRES", ()))
    missing = [name for name in required if importlib.util.find_spec(name) is None]
    if missing:
        return {"worker": spec["worker"], "not_installed": missing}
    setup = getattr(worker, "setup", None)
    report: dict[str, Any] = {"worker": spec["worker"], "cases": {}}
    if setup is not None:
        report["versions"] = setup()
    for case in spec["cases"]:
        result: dict[str, Any] = {}
        try:
            steps, info = worker.build(case, case_data(case))
            for mode in case["modes"]:
                if mode in steps:
                    result[mode] = time_step(steps[mode], spec["samples"], spec["min_sample_ms"], spec["warmup"])
            result["info"] = info()
        except Exception as error:  # reported in the table; the other cases still run
            result["error"] = f"{type(error).__name__}: {error}"
            result["traceback"] = traceback.format_exc(limit=-3)
        report["cases"][case["id"]] = result
    return report


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: driver.py '<spec as JSON>'", file=sys.stderr)
        return 2
    report = run(json.loads(argv[0]))
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
