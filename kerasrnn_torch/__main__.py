"""The command line: `python -m kerasrnn_torch [demo | check | bench]`.

- `demo` (the default): three models' summaries as Keras prints them, then the
  fused kernel and the cell loop side by side on random data: their largest
  difference, the path each call took, and their speed.
- `check`: runs a matrix of layer configurations on both paths and exits
  non-zero, with a report, if any output, state or gradient differs;
  `check --model module:function` compares a user's own model instead.
- `bench`: the benchmark matrix of `kerasrnn_torch.benchmarks.benchmark` (ours fused and
  loop vs torch.nn and Keras 3), small by default; other options pass through.

Everything runs on random data; nothing is downloaded.
"""
from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

import kerasrnn_torch as kr
from kerasrnn_torch.testing.agreement import plain_loop


def say(text: str = "") -> None:
    print(text, flush=True)


def right_padded_mask(batch: int, timesteps: int, generator: torch.Generator) -> torch.Tensor:
    """A right-padded mask with lengths spread over [1, timesteps], one row full."""
    lengths = torch.randint(1, timesteps + 1, (batch,), generator=generator)
    lengths[0] = timesteps
    return torch.arange(timesteps).unsqueeze(0) < lengths.unsqueeze(1)


def flat_tensors(result) -> list[torch.Tensor]:
    return [result] if isinstance(result, torch.Tensor) else [t for t in result if isinstance(t, torch.Tensor)]


def largest_difference(first, second) -> float:
    return max((float((a - b).abs().max()) if a.numel() else 0.0) for a, b in zip(first, second))


# ---------------------------------------------------------------------------------------------- demo
def seed_models():
    """Three example models, with the input shape (no batch axis) their summaries use."""
    return [
        (kr.Sequential([kr.Embedding(1000, 64), kr.LSTM(128), kr.Dense(10)], name="embedding_lstm"), (10,)),
        (kr.Sequential([kr.Embedding(1000, 64), kr.GRU(256, return_sequences=True), kr.SimpleRNN(128),
                        kr.Dense(10)], name="embedding_gru_simple_rnn"), (10,)),
        (kr.Sequential([kr.Bidirectional(kr.LSTM(64, return_sequences=True), input_shape=(5, 10)),
                        kr.Bidirectional(kr.LSTM(32)), kr.Dense(10)], name="bidirectional_lstm"), None),
    ]


def _busy_cores():
    """(load average, CPU count) when other work already occupies most CPUs, else None."""
    if not hasattr(os, "getloadavg"):
        return None
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    return (load, cpus) if load > cpus - 0.5 else None


def median_milliseconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def compare_paths_timed(layer, x, mask, repeats: int):
    """Run `layer` fused (auto) and under force_path("loop"): (difference, paths, fused ms, loop ms)."""
    with torch.no_grad():
        fused_result = flat_tensors(layer(x, mask=mask))
        fused_path = layer.last_path
        fused_ms = median_milliseconds(lambda: layer(x, mask=mask), repeats)
        with plain_loop():
            loop_result = flat_tensors(layer(x, mask=mask))
            loop_path = layer.last_path
            loop_ms = median_milliseconds(lambda: layer(x, mask=mask), repeats)
    return largest_difference(fused_result, loop_result), fused_path, loop_path, fused_ms, loop_ms


def demo(args) -> int:
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    say(f"kerasrnn_torch {kr.__version__} demo: torch {torch.__version__}, cpu, {torch.get_num_threads()} threads")
    say()
    say("1. Model summaries (the tables Keras 3's model.summary() prints for the same models)")
    say()
    for model, input_shape in seed_models():
        model.summary(input_shape=input_shape)
        say()

    batch, timesteps, features, units = args.batch, args.timesteps, 32, 64
    say("2. Fused kernel vs cell loop, on the same layer and random data")
    say(f"   batch {batch}, {timesteps} timesteps, {features} features, {units} units, return_sequences=True, "
        "return_state=True.")
    say("   path: layer.last_path after the default call / under force_path(\"loop\"); diff: the largest absolute")
    say(f"   difference over the output sequence and final states; times: median of {args.repeats} forward calls "
        "without autograd.")
    busy = _busy_cores()
    if busy is not None and torch.get_num_threads() > 1:
        say(f"   Note: the machine was already busy (load average {busy[0]:.1f} on {busy[1]} CPUs): with torch's "
            f"{torch.get_num_threads()} threads")
        say("   waiting on each other the times are unreliable; --threads 1 steadies them.")
    say()
    layers = [
        (f"LSTM({units})", kr.LSTM(units, return_sequences=True, return_state=True)),
        (f"GRU({units})", kr.GRU(units, return_sequences=True, return_state=True)),
        (f"SimpleRNN({units})", kr.SimpleRNN(units, return_sequences=True, return_state=True)),
        (f"Bidirectional(LSTM({units}))",
         kr.Bidirectional(kr.LSTM(units, return_sequences=True, return_state=True))),
    ]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(batch, timesteps, features, generator=generator)
    masks = [("none", None), ("right-padded", right_padded_mask(batch, timesteps, generator))]
    header = f"{'layer':<26}{'mask':<14}{'path':<14}{'diff':>10}{'fused ms':>11}{'loop ms':>10}{'speed-up':>10}"
    say(header)
    say("-" * len(header))
    worst = 0.0
    for label, layer in layers:
        layer.eval()
        for mask_name, mask in masks:
            difference, fused_path, loop_path, fused_ms, loop_ms = compare_paths_timed(layer, x, mask, args.repeats)
            worst = max(worst, difference)
            say(f"{label:<26}{mask_name:<14}{fused_path + ' / ' + loop_path:<14}{difference:>10.1e}"
                f"{fused_ms:>11.2f}{loop_ms:>10.2f}{loop_ms / fused_ms:>9.1f}x")
    say()
    say(f"Largest fused-vs-loop difference: {worst:.1e} (the contract allows 1e-05). "
        "Run `python -m kerasrnn_torch check` for the full matrix.")
    return 0


# --------------------------------------------------------------------------------------------- check
@dataclass
class Case:
    """One configuration of the check matrix."""
    label: str
    build: Callable[[], Any]      # () -> a recurrent layer (RNN subclass or Bidirectional)
    mask: str                     # "none", "right-padded", "empty row"
    stateful: bool = False
    initial_state: bool = False


@dataclass
class Outcome:
    case: Case
    output_difference: float = 0.0
    gradient_difference: float = 0.0
    problems: list[str] = field(default_factory=list)


def arguments(*fixed: str, **flags) -> str:
    """`"activation='relu', return_sequences=True"`: how a case names its layer's arguments."""
    return ", ".join([*fixed, *(f"{name}=True" for name in flags)])


def check_cases(units: int) -> list[Case]:
    """The matrix: every layer kind x output options x mask kinds, plus initial and stateful states."""
    layer_kinds: list[tuple[Callable[..., kr.Layer], Callable[[dict], str], bool]] = [
        # (constructor, label for the given flags, bidirectional)
        (lambda **kw: kr.SimpleRNN(units, **kw), lambda kw: f"SimpleRNN({arguments(**kw)})", False),
        (lambda **kw: kr.SimpleRNN(units, activation="relu", **kw),
         lambda kw: "SimpleRNN(" + arguments("activation='relu'", **kw) + ")", False),
        (lambda **kw: kr.LSTM(units, **kw), lambda kw: f"LSTM({arguments(**kw)})", False),
        (lambda **kw: kr.GRU(units, **kw), lambda kw: f"GRU({arguments(**kw)})", False),
        (lambda **kw: kr.Bidirectional(kr.LSTM(units, **kw)),
         lambda kw: f"Bidirectional(LSTM({arguments(**kw)}))", True),
        (lambda **kw: kr.Bidirectional(kr.GRU(units, **kw), merge_mode="sum"),
         lambda kw: f"Bidirectional(GRU({arguments(**kw)}), merge_mode='sum')", True),
    ]
    option_sets = [{}, {"return_sequences": True}, {"return_state": True},
                   {"go_backwards": True, "return_sequences": True},
                   {"return_sequences": True, "return_state": True, "go_backwards": True}]
    cases = []
    for make, label, bidirectional in layer_kinds:
        for options in option_sets:
            if bidirectional and "go_backwards" in options:
                continue
            for mask in ("none", "right-padded", "empty row"):
                cases.append(Case(label(options), functools.partial(make, **options), mask))
        if not bidirectional:
            cases.append(Case(label({"return_state": True}) + " + initial_state",
                              functools.partial(make, return_state=True), "right-padded", initial_state=True))
            cases.append(Case(label({"stateful": True}) + ", two calls",
                              functools.partial(make, stateful=True), "none", stateful=True))
    return cases


def make_mask(kind: str, batch: int, timesteps: int, generator, device):
    if kind == "none":
        return None
    mask = right_padded_mask(batch, timesteps, generator)
    if kind == "empty row":
        mask[-1] = False
    return mask.to(device)


def run_case(case: Case, path: str, layer, x, mask, initial_state):
    """One call (two for stateful layers) on `path`; returns the result tensors and their gradients."""
    x = x.clone().requires_grad_(True)
    initial = [s.clone().requires_grad_(True) for s in initial_state] if initial_state else None
    with plain_loop() if path == "loop" else kr.force_path(path):
        if case.stateful:
            layer.reset_state()
            layer(x, mask=mask)
        result = flat_tensors(layer(x, mask=mask, initial_state=initial))
    generator = torch.Generator().manual_seed(1)
    weights = [torch.rand(r.shape, generator=generator).to(r.device) for r in result]
    total = sum((r * w).sum() for r, w in zip(result, weights))
    assert isinstance(total, torch.Tensor)              # a layer's result holds at least one tensor
    inputs = [x, *(initial or []), *layer.parameters()]
    raw_gradients = torch.autograd.grad(total, inputs, allow_unused=True)
    gradients = [torch.zeros_like(i) if g is None else g for i, g in zip(inputs, raw_gradients)]
    return [r.detach() for r in result], gradients, layer.last_path


def check_one(case: Case, device, atol: float, grad_atol: float, seed: int) -> Outcome:
    batch, timesteps, features = 4, 7, 5
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    layer = case.build().to(device)
    layer.build((None, timesteps, features))
    with torch.no_grad():
        for p in layer.parameters():     # random values everywhere, so gate-order slips would show
            p.copy_(torch.rand(p.shape, generator=generator).to(device) - 0.5)
    layer.eval()
    x = torch.randn(batch, timesteps, features, generator=generator).to(device)
    mask = make_mask(case.mask, batch, timesteps, generator, device)
    initial = None
    if case.initial_state:
        sizes = [layer.cell.state_size] if isinstance(layer.cell.state_size, int) else layer.cell.state_size
        initial = [torch.randn(batch, size, generator=generator).to(device) for size in sizes]

    outcome = Outcome(case)
    try:
        fused = run_case(case, "fused", layer, x, mask, initial)
    except ValueError as error:   # force_path("fused") refuses what the fused kernel cannot run
        outcome.problems.append(f"the fused kernel refused it: {error}")
        return outcome
    loop = run_case(case, "loop", layer, x, mask, initial)
    if fused[2] != "fused" or loop[2] != "loop":
        outcome.problems.append(f"last_path was {fused[2]!r} / {loop[2]!r}, expected 'fused' / 'loop'")
    outcome.output_difference = largest_difference(fused[0], loop[0])
    outcome.gradient_difference = largest_difference(fused[1], loop[1])
    if outcome.output_difference > atol:
        outcome.problems.append(f"outputs/states differ by {outcome.output_difference:.2e} (> {atol:g})")
    if outcome.gradient_difference > grad_atol:
        outcome.problems.append(f"gradients differ by {outcome.gradient_difference:.2e} (> {grad_atol:g})")
    return outcome


MODEL_HELP = """compare a model of your own instead of the matrix: FUNCTION, in an importable MODULE or in a
.py file, takes no arguments and returns (model, inputs) or (model, inputs, call_kwargs); inputs
is one tensor (or list, or dict) passed as the model's single argument, or a tuple of positional
arguments. Runs kerasrnn_torch.testing.assert_paths_agree (eval mode unless --training; --atol and
--grad-atol apply; --device and --units do not: the function places and sizes the model)"""


def load_model_factory(spec: str):
    """The function named by `module:function` or `path/to/file.py:function`."""
    location, separator, name = spec.rpartition(":")
    if not separator or not location or not name.isidentifier():
        raise ValueError(f"--model expects MODULE:FUNCTION or FILE.py:FUNCTION, got {spec!r}")
    if location.endswith(".py"):
        if not os.path.isfile(location):
            raise ValueError(f"--model {spec}: no file {location!r} (from {os.getcwd()})")
        loader = importlib.util.spec_from_file_location(os.path.basename(location)[:-3], location)
        assert loader is not None and loader.loader is not None      # an existing .py file has a source loader
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
    else:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())       # as `python -m` does: modules next to you import
        try:
            module = importlib.import_module(location)
        except ModuleNotFoundError as error:
            if error.name is None or not location.startswith(error.name):
                raise                             # the module exists; something it imports is missing
            raise ValueError(f"--model {spec}: no module {error.name!r} importable from {os.getcwd()} "
                             "(give FILE.py:FUNCTION for a file elsewhere, or run from the folder that holds "
                             "the module)") from None
    factory = getattr(module, name, None)
    if not callable(factory):
        raise ValueError(f"--model {spec}: {location!r} has no function {name!r}")
    return factory


def model_and_inputs(result, spec: str):
    """`(model, positional inputs, call_kwargs)` from what the factory returned."""
    if not isinstance(result, tuple) or len(result) not in (2, 3) or not isinstance(result[0], torch.nn.Module) \
            or (len(result) == 3 and not isinstance(result[2], dict)):
        got = f"a tuple of {len(result)}: ({', '.join(type(r).__name__ for r in result)})" \
            if isinstance(result, tuple) else type(result).__name__
        raise ValueError(f"--model {spec} must return (model, inputs) or (model, inputs, call_kwargs) with model a "
                         f"torch.nn.Module and call_kwargs a dict, got {got}")
    inputs = result[1] if isinstance(result[1], tuple) else (result[1],)
    return result[0], inputs, (result[2] if len(result) == 3 else {})


def check_model(args) -> int:
    try:
        model, inputs, call_kwargs = model_and_inputs(load_model_factory(args.model)(), args.model)
    except ValueError as error:
        print(f"check: {error}", file=sys.stderr)
        return 2
    mode = "training mode (dropout on)" if args.training else "eval mode"
    say(f"kerasrnn_torch {kr.__version__} check --model {args.model}: {type(model).__name__} on the fused kernel and "
        f"on the cell loop, {mode}")
    say(f"tolerances: outputs and states {args.atol:.0e}, gradients {args.grad_atol:.0e}")
    try:
        agreement = kr.testing.assert_paths_agree(model, *inputs, atol=args.atol, grad_atol=args.grad_atol,
                                                  training=args.training, **call_kwargs)
    except AssertionError as error:
        say(str(error))
        say("FAILED")
        return 1
    say(str(agreement))
    say("OK")
    return 0


def check(args) -> int:
    if args.model is not None:
        return check_model(args)
    if args.training:
        print("check: --training applies to --model only (the matrix runs each layer in eval mode)", file=sys.stderr)
        return 2
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"check: --device {args.device} was asked for, but this torch build sees no CUDA device "
              f"(torch {torch.__version__}, torch.version.cuda={torch.version.cuda})", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    cases = check_cases(args.units)
    say(f"kerasrnn_torch {kr.__version__} check: fused kernel vs cell loop on {device}, float32, "
        f"{len(cases)} configurations")
    say(f"tolerances: outputs and states {args.atol:.0e}, gradients {args.grad_atol:.0e}")
    outcomes = []
    for i, case in enumerate(cases, 1):
        outcome = check_one(case, device, args.atol, args.grad_atol, seed=i)
        outcomes.append(outcome)
        verdict = "ok" if not outcome.problems else "DIFFERS"
        say(f"[{i:>{len(str(len(cases)))}}/{len(cases)}] {verdict:<7}  out {outcome.output_difference:.1e}  "
            f"grad {outcome.gradient_difference:.1e}  mask {case.mask:<12}  {case.label}")
    failures = [o for o in outcomes if o.problems]
    say()
    if failures:
        say(f"FAILED: {len(failures)} of {len(outcomes)} configurations differ between the fused kernel and the loop:")
        for outcome in failures:
            say(f"  - {outcome.case.label}, mask {outcome.case.mask}: {'; '.join(outcome.problems)}")
        return 1
    largest_output = max(o.output_difference for o in outcomes)
    largest_gradient = max(o.gradient_difference for o in outcomes)
    say(f"OK: all {len(outcomes)} configurations agree (largest differences: outputs {largest_output:.1e}, "
        f"gradients {largest_gradient:.1e})")
    return 0


# --------------------------------------------------------------------------------------------- bench
# A minute or two on a two-core CPU (Keras 3 included); options given after `bench` come later and win.
BENCH_DEFAULTS = ("--sizes", "mnist", "--repeats", "5")


def bench(args) -> int:
    from kerasrnn_torch.benchmarks import benchmark   # imported here: it sets KERAS_BACKEND and may import Keras

    argv = [*BENCH_DEFAULTS, *args.benchmark_arguments]
    say(f"kerasrnn_torch {kr.__version__} bench: kerasrnn_torch.benchmarks.benchmark {' '.join(argv)}")
    benchmark.main(argv, prog="python -m kerasrnn_torch bench")
    return 0


# ---------------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kerasrnn_torch",
                                     description="Keras's recurrent layers as PyTorch modules: demo, self-check "
                                                 "and benchmark.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo_parser = commands.add_parser("demo", help="model summaries and a fused-vs-loop comparison (the default)")
    demo_parser.add_argument("--batch", type=int, default=32, help="batch size of the comparison (default 32)")
    demo_parser.add_argument("--timesteps", type=int, default=50, help="sequence length (default 50)")
    demo_parser.add_argument("--repeats", type=int, default=5, help="timed calls per measurement (default 5)")
    demo_parser.add_argument("--threads", type=int, default=None,
                             help="CPU threads for torch (default: torch's own choice)")
    demo_parser.set_defaults(run=demo)

    check_parser = commands.add_parser("check", help="compare both paths over a matrix of configurations")
    check_parser.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    check_parser.add_argument("--units", type=int, default=6, help="units of each layer (default 6)")
    check_parser.add_argument("--atol", type=float, default=1e-5,
                              help="largest allowed difference of outputs and states (default 1e-5)")
    check_parser.add_argument("--grad-atol", type=float, default=1e-4,
                              help="largest allowed difference of gradients (default 1e-4)")
    check_parser.add_argument("--model", metavar="MODULE:FUNCTION", default=None, help=MODEL_HELP)
    check_parser.add_argument("--training", action="store_true",
                              help="with --model: run it in training mode (dropout on, the same draws on both paths)")
    check_parser.set_defaults(run=check)

    # Every option after `bench` goes to the benchmark's own parser (`bench --help` lists them).
    bench_parser = commands.add_parser(
        "bench", add_help=False,
        help=f"time ours (fused, loop) against torch.nn and Keras 3 ({' '.join(BENCH_DEFAULTS)} unless "
             "told otherwise; `bench --help` lists the options)")
    bench_parser.set_defaults(run=bench)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":
        args.benchmark_arguments = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        args = parser.parse_args(["demo"])
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
