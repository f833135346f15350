"""`bench --peers`: ours against the strongest peers on a CPU core, each framework in its own process.

The peers: Keras 3 on JAX (the same Keras model code as ours, compiled with `jit_compile=True`
and stepped with `train_on_batch` / `predict_on_batch`), Flax (its own cells under `nn.RNN`,
`jax.jit`, optax's SGD) and Keras 3 on TensorFlow with XLA where TensorFlow is installed. The
model of every row is Input -> layer -> Dense(10); a row times its forward (inference) and one
SGD training step (sparse cross-entropy on the logits).

How it is timed: every framework runs in a fresh interpreter of its own for each round
(`peer_workers/driver.py` with one worker module per framework; frameworks never share a
process), pinned to one core (`os.sched_setaffinity`) with one thread (torch.set_num_threads(1),
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1", OMP/MKL/TF
thread variables at 1). Rounds interleave the frameworks (the order rotates round by round), each
process times every case: CPU time of the process per step, the median of a few blocks of
back-to-back steps; the table shows the median over rounds. The first call of each step (where
JAX traces and XLA compiles) is timed apart and reported separately, never in the medians; JAX's
persistent compilation cache, in a fresh folder per run, spares later rounds the recompiling.

The physical limit of each row: the FLOPs of its step (the matrix products: the input projection
of every timestep, one recurrent product per timestep and the Dense; a training step counted as
3 times the forward) and the time torch needs for exactly those products on the same core (the
"matmul floor" process); each framework's fraction is floor / its time.

Peers are never a dependency of kerasrnn_torch: install them apart (the `peers` extra, or a venv of
their own given by `--peers-python`); one that is missing is reported "not installed".
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WORKERS = Path(__file__).resolve().parent / "peer_workers"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]    # the folder that holds kerasrnn_torch/

SIZES = {  # name: (batch, timesteps, features, units)
    "mnist": (64, 28, 28, 64),
    "medium": (32, 100, 64, 256),
    "tiny": (4, 6, 3, 5),            # a smoke test: its numbers mean nothing
}
MODES = ("forward", "train")
# key: (layer, Keras constructor arguments, mask, modes). recurrent_dropout only acts in training.
ROWS: dict[str, tuple[str, dict[str, Any], str, tuple[str, ...]]] = {
    "lstm": ("LSTM", {}, "none", MODES),
    "lstm-right-padded": ("LSTM", {}, "right-padded", MODES),
    "lstm-holes": ("LSTM", {}, "holes", MODES),
    "gru": ("GRU", {}, "none", MODES),
    "gru-right-padded": ("GRU", {}, "right-padded", MODES),
    "gru-holes": ("GRU", {}, "holes", MODES),
    "lstm-hard_sigmoid": ("LSTM", {"recurrent_activation": "hard_sigmoid"}, "none", MODES),
    "lstm-recurrent_dropout": ("LSTM", {"recurrent_dropout": 0.1}, "none", ("train",)),
    "gru-reset_after_false": ("GRU", {"reset_after": False}, "none", MODES),
    "gru-relu": ("GRU", {"activation": "relu"}, "none", MODES),
}
# name: (worker module in peer_workers/, environment it adds, runs on the peers' interpreter)
FRAMEWORKS: dict[str, tuple[str, dict[str, str], bool]] = {
    "ours": ("ours", {}, False),
    "keras-jax": ("keras_backend", {"KERAS_BACKEND": "jax"}, True),
    "flax": ("flax_linen", {}, True),
    "keras-tf-xla": ("keras_backend", {"KERAS_BACKEND": "tensorflow"}, True),
}
PEERS = tuple(name for name in FRAMEWORKS if name != "ours")
FLOOR = "matmul floor"
GATES = {"LSTM": 4, "GRU": 3}
ONE_THREAD = {
    "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
    "JAX_PLATFORMS": "cpu", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
}


def row_label(key: str) -> str:
    layer, kwargs, _, _ = ROWS[key]
    return " ".join([layer, *(f"{name}={value}" for name, value in kwargs.items())])


def flops(layer: str, size: str, mode: str) -> int:
    """The FLOPs of the step's matrix products (2 per multiply-add); a training step is 3 forwards."""
    batch, timesteps, features, units = SIZES[size]
    gates = GATES[layer]
    forward = 2 * batch * timesteps * (features + units) * gates * units + 2 * batch * units * 10
    return forward * (3 if mode == "train" else 1)


def cases_for(sizes: list[str], rows: list[str]) -> list[dict[str, Any]]:
    cases = []
    for size in sizes:
        batch, timesteps, features, units = SIZES[size]
        for key in rows:
            layer, kwargs, mask, modes = ROWS[key]
            cases.append({"id": f"{size}/{key}", "size": size, "row": key, "layer": layer, "kwargs": kwargs,
                          "mask": mask, "modes": list(modes), "batch": batch, "timesteps": timesteps,
                          "features": features, "units": units})
    return cases


def floor_cases(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One case per (size, layer): the floor process times the forward's products only."""
    seen: dict[str, dict[str, Any]] = {}
    for case in cases:
        seen.setdefault(f"{case['size']}/{case['layer']}",
                        {**case, "id": f"{case['size']}/{case['layer']}", "kwargs": {}, "mask": "none",
                         "modes": ["forward"]})
    return list(seen.values())


def child_environment(extra: dict[str, str], cache_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(ONE_THREAD)
    env["JAX_COMPILATION_CACHE_DIR"] = cache_dir
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.update(extra)
    return env


def run_process(python: str, worker: str, env: dict[str, str], cases: list[dict[str, Any]], core: int,
                settings: dict[str, Any], timeout: float = 3600.0) -> dict[str, Any]:
    """Run one framework's cases in a fresh interpreter pinned to `core`; its JSON report, or
    {"error": ...} when the process failed."""
    spec = json.dumps({"worker": worker, "cases": cases, **settings})
    try:
        done = subprocess.run([python, str(WORKERS / "driver.py"), spec], env=env, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=lambda: os.sched_setaffinity(0, {core}))
    except (OSError, subprocess.TimeoutExpired) as error:
        return {"error": f"{type(error).__name__}: {error}"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": f"{python} exited with {done.returncode}: {' | '.join(tail)}"}
    return json.loads(lines[-1])


def rotate(names: list[str], by: int) -> list[str]:
    by %= max(1, len(names))
    return names[by:] + names[:by]


def collect(args: argparse.Namespace) -> dict[str, Any]:
    """Run every round and return the raw reports: {"rounds": [{framework: report}], ...}."""
    cases = cases_for(args.peers_sizes, args.peers_rows)
    frameworks = list(args.peers_frameworks)
    core = args.peers_core if args.peers_core is not None else max(os.sched_getaffinity(0))
    settings = {"samples": args.peers_samples, "min_sample_ms": args.min_sample_ms, "warmup": args.warmup}
    pythons = {name: (args.peers_python if FRAMEWORKS[name][2] else sys.executable) for name in frameworks}
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kerasrnn_peers_cache_") as cache_dir:
        for index in range(args.peers_rounds):
            reports: dict[str, Any] = {}
            for name in rotate([*frameworks, FLOOR], index):
                if index and "not_installed" in rounds[0].get(name, {}):
                    reports[name] = rounds[0][name]     # asked once: installing mid-run is not expected
                    continue
                start = time.perf_counter()
                if name == FLOOR:
                    report = run_process(sys.executable, "matmul_floor", child_environment({}, cache_dir),
                                         floor_cases(cases), core, settings)
                else:
                    worker, extra, _ = FRAMEWORKS[name]
                    report = run_process(pythons[name], worker, child_environment(extra, cache_dir), cases, core,
                                         settings)
                reports[name] = report
                state = ("not installed (" + ", ".join(report["not_installed"]) + ")" if "not_installed" in report
                         else report.get("error", f"{time.perf_counter() - start:.1f} s"))
                print(f"round {index + 1}/{args.peers_rounds} {name}: {state}", flush=True)
            rounds.append(reports)
    return {"cases": cases, "core": core, "pythons": pythons, "rounds": rounds, "frameworks": frameworks}


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """Medians over rounds per row and mode, the floor, fractions, ratios and first-call times."""
    frameworks, rounds = raw["frameworks"], raw["rounds"]
    status: dict[str, str] = {}
    versions: dict[str, Any] = {}
    for name in frameworks:
        first = rounds[0].get(name, {})
        if "not_installed" in first:
            status[name] = "not installed (" + ", ".join(first["not_installed"]) + ")"
        elif "error" in first:
            status[name] = "failed: " + first["error"]
        else:
            status[name] = "ran"
            versions[name] = first.get("versions", {})
    rows = []
    for case in raw["cases"]:
        floor_id = f"{case['size']}/{case['layer']}"
        floor_samples = [r[FLOOR]["cases"][floor_id]["forward"]["cpu_ms"] for r in rounds
                         if "cases" in r.get(FLOOR, {}) and "forward" in r[FLOOR]["cases"].get(floor_id, {})]
        for mode in case["modes"]:
            row: dict[str, Any] = {"size": case["size"], "row": case["row"], "layer": row_label(case["row"]),
                                   "mask": case["mask"], "mode": mode, "ms": {}, "first_call_s": {}, "errors": {},
                                   "flops": flops(case["layer"], case["size"], mode)}
            for name in frameworks:
                results = [r[name]["cases"].get(case["id"], {}) for r in rounds if "cases" in r.get(name, {})]
                timed = [result[mode]["cpu_ms"] for result in results if mode in result]
                if timed:
                    row["ms"][name] = statistics.median(timed)
                    row["first_call_s"][name] = results[0][mode]["first_call_s"] if mode in results[0] else None
                errors = [result["error"] for result in results if "error" in result]
                if errors:
                    row["errors"][name] = errors[0]
                if name == "ours" and results and "info" in results[0]:
                    row["ours_path"] = results[0]["info"].get("path", {}).get(mode)
            if floor_samples:
                row["floor_ms"] = statistics.median(floor_samples) * (3 if mode == "train" else 1)
                row["gflops"] = row["flops"] / row["floor_ms"] / 1e6
                row["fraction"] = {name: row["floor_ms"] / ms for name, ms in row["ms"].items()}
            peers = {name: row["ms"][name] for name in PEERS if name in row["ms"]}
            if peers:
                row["best_peer"] = min(peers, key=peers.__getitem__)
                if "ours" in row["ms"]:
                    row["best_peer_over_ours"] = peers[row["best_peer"]] / row["ms"]["ours"]
            rows.append(row)
    return {"status": status, "versions": versions, "rows": rows, "core": raw["core"], "pythons": raw["pythons"],
            "rounds": len(rounds), "first_calls": first_call_summary(rows, frameworks)}


def first_call_summary(rows: list[dict[str, Any]], frameworks: list[str]) -> dict[str, dict[str, float]]:
    """Per framework and mode: the median and the total of the first calls in the first round (s)."""
    summary: dict[str, dict[str, float]] = {}
    for name in frameworks:
        for mode in MODES:
            times = [row["first_call_s"][name] for row in rows
                     if row["mode"] == mode and row["first_call_s"].get(name) is not None]
            if times:
                summary.setdefault(name, {})[f"{mode}_median_s"] = statistics.median(times)
                summary[name][f"{mode}_total_s"] = sum(times)
    return summary


def _ms(value: float | None) -> str:
    return "n/a" if value is None else (f"{value:.3g}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}")


def markdown_tables(summary: dict[str, Any]) -> str:
    """The comparison (one table per size), the first-call times and the frameworks' status."""
    ran = [name for name in summary["status"] if summary["status"][name] == "ran"]
    peers = [name for name in ran if name != "ours"]
    parts = []
    for size in dict.fromkeys(row["size"] for row in summary["rows"]):
        batch, timesteps, features, units = SIZES[size]
        header = (["layer", "mask", "step", *[f"{name} ms" for name in ran], "best peer / ours", "ours' path",
                   "MFLOP", "floor ms (GFLOP/s)", *[f"{name} % of floor" for name in ran]])
        lines = [f"{size} ({batch} x {timesteps} x {features}, {units} units); CPU ms per step, median of "
                 f"{summary['rounds']} rounds", "",
                 "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        for row in (r for r in summary["rows"] if r["size"] == size):
            ratio = row.get("best_peer_over_ours")
            ratio_text = "n/a" if ratio is None else f"**{ratio:.2f}** ({row['best_peer']})" if ratio < 1 \
                else f"{ratio:.2f} ({row['best_peer']})"
            cells = [row["layer"], row["mask"], row["mode"],
                     *[_ms(row["ms"].get(name)) if name not in row["errors"] else "error" for name in ran],
                     ratio_text, str(row.get("ours_path") or "n/a"), f"{row['flops'] / 1e6:.3g}",
                     f"{_ms(row.get('floor_ms'))} ({row.get('gflops', 0):.1f})",
                     *[f"{100 * row['fraction'][name]:.0f}%" if name in row.get("fraction", {}) else "n/a"
                       for name in ran]]
            lines.append("| " + " | ".join(cells) + " |")
        parts.append("\n".join(lines))
    first = summary["first_calls"]
    lines = ["First calls (trace + compile + first run) in the first round, seconds: median per case "
             "(total over all cases); not in the medians above", "",
             "| framework | forward | training step |", "| --- | --- | --- |"]
    for name in ran:
        values = first.get(name, {})
        lines.append(f"| {name} | " + " | ".join(
            f"{values[f'{mode}_median_s']:.2f} ({values[f'{mode}_total_s']:.1f})" if f"{mode}_median_s" in values
            else "n/a" for mode in MODES) + " |")
    parts.append("\n".join(lines))
    status = [f"- {name}: {state}" + (f" {json.dumps(summary['versions'][name])}" if name in summary["versions"]
                                      else "") for name, state in summary["status"].items()]
    errors = sorted({f"- {name} {row['size']}/{row['row']}: {text}" for row in summary["rows"]
                     for name, text in row["errors"].items()})
    parts.append("\n".join([f"Frameworks (one core: {summary['core']}; peers: {summary['pythons']}):", *status,
                            *(["Errors:", *errors] if errors else [])]))
    if peers:
        parts.append("best peer / ours below 1 (bold): a peer is faster.")
    return "\n\n".join(parts) + "\n"


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Collect, summarize, print the tables; write --json / --markdown when given."""
    if not (os.path.isfile(args.peers_python) and os.access(args.peers_python, os.X_OK)):
        raise SystemExit(f"bench --peers: --peers-python expected an executable Python interpreter, got "
                         f"{args.peers_python!r}")
    print(f"bench --peers: {', '.join(args.peers_frameworks)} and the matmul floor, each in its own process per "
          f"round, {args.peers_rounds} rounds, sizes {', '.join(args.peers_sizes)}", flush=True)
    raw = collect(args)
    summary = summarize(raw)
    text = markdown_tables(summary)
    print(text, flush=True)
    report = {"peers": summary, "raw": raw}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    return report


def _choices(kind: str, choices: Any) -> Any:
    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list of {kind} from {', '.join(choices)}; got {text!r}")
        return names
    return parse


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer of at least 1, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "against the peers (--peers)",
        "ours against Keras 3 on JAX, Flax and (where installed) Keras 3 on TensorFlow with XLA, each framework "
        "in its own process per round, one pinned core and one thread; the other families are not run. "
        "--warmup, --min-sample-ms, --json and --markdown apply.")
    group.add_argument("--peers", action="store_true",
                       help="run the comparison with the peers (Input -> layer -> Dense(10), forward and SGD step)")
    group.add_argument("--peers-python", default=sys.executable, metavar="PATH",
                       help="the interpreter that has the peers installed (default: this one); ours and the "
                            "matmul floor run on this one")
    group.add_argument("--peers-rounds", type=_at_least_one, default=3, help="interleaved rounds (default 3)")
    group.add_argument("--peers-samples", type=_at_least_one, default=3,
                       help="timed blocks per case in each process (default 3)")
    group.add_argument("--peers-sizes", type=_choices("sizes", SIZES), default=["mnist", "medium"],
                       help="comma-separated of %s (default mnist,medium)" % ", ".join(SIZES))
    group.add_argument("--peers-rows", type=_choices("rows", ROWS), default=list(ROWS),
                       help="comma-separated of %s (default all)" % ", ".join(ROWS))
    group.add_argument("--peers-frameworks", type=_choices("frameworks", FRAMEWORKS), default=list(FRAMEWORKS),
                       help="comma-separated of %s (default all)" % ", ".join(FRAMEWORKS))
    group.add_argument("--peers-core", type=int, default=None,
                       help="the core every process is pinned to (default: the last this process may use)")


__all__ = ["add_arguments", "run", "ROWS", "SIZES", "FRAMEWORKS", "flops"]
