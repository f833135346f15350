"""The package's CPU recurrent kernel against PyTorch's CPU kernel and the cell loop, side by side.

For each configuration and size, one layer (`Input -> layer`, the last output or the sequence), timed
three ways in one process with the same weights and inputs:

- "kernel": the default path with the CPU kernel on;
- "torch":  the default path with the CPU kernel off (PyTorch's fused kernel where the configuration
  has one: LSTM and GRU with Keras's defaults; else the cell loop);
- "loop":   the cell loop step by step (`force_path("loop")`, kernel off).

"forward" is a call under `torch.no_grad()`; "train" a forward, a sum and a backward. Each round times
every variant in turn (interleaved); a time is the median over rounds of the per-call mean within the
round, in CPU time (`time.process_time`: the machine is shared, and CPU time is what one core spends). One thread (`torch.set_num_threads(1)`) unless `--threads`.

    python scripts/bench_cpu_kernel.py                         # both sizes, every configuration
    python scripts/bench_cpu_kernel.py --sizes mnist --configs gru gru_right --rounds 9
"""
from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time

import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine import cpu_kernel, dispatch
from kerasrnn_torch.layers.rnn.engine.record import last_run

# batch, timesteps, features, units ("tiny": for a smoke test)
SIZES = {"mnist": (64, 28, 28, 64), "medium": (32, 100, 64, 256), "tiny": (3, 4, 2, 3)}


def right_padded(batch, steps):
    lengths = torch.linspace(steps, max(1, steps // 3), batch).round().long()
    return torch.arange(steps).unsqueeze(0) < lengths.unsqueeze(1)


def holes(batch, steps):
    generator = torch.Generator().manual_seed(5)
    mask = torch.rand(batch, steps, generator=generator) > 0.25
    mask[:, -1] = True
    return mask


# name: (layer factory, mask factory or None)
CONFIGS = {
    "gru": (lambda u: kr.GRU(u), None),
    "gru_right": (lambda u: kr.GRU(u), right_padded),
    "gru_holes": (lambda u: kr.GRU(u), holes),
    "gru_reset_before": (lambda u: kr.GRU(u, reset_after=False), None),
    "gru_relu": (lambda u: kr.GRU(u, activation="relu"), None),
    "gru_recurrent_dropout": (lambda u: kr.GRU(u, recurrent_dropout=0.2, seed=1), None),
    "lstm": (lambda u: kr.LSTM(u), None),
    "lstm_right": (lambda u: kr.LSTM(u), right_padded),
    "lstm_holes": (lambda u: kr.LSTM(u), holes),
    "lstm_hard_sigmoid": (lambda u: kr.LSTM(u, recurrent_activation="hard_sigmoid"), None),
    "lstm_recurrent_dropout": (lambda u: kr.LSTM(u, recurrent_dropout=0.2, seed=1), None),
}


def kernel_switch(on: bool):
    os.environ[cpu_kernel.ENV_SWITCH] = "1" if on else "0"
    cpu_kernel.forget()


@contextlib.contextmanager
def variant(name):
    kernel_switch(name == "kernel")
    with dispatch.force_path("loop" if name == "loop" else "auto"):
        yield


def time_variant(name, layer, x, mask, train, calls):
    with variant(name):
        def once():
            if train:
                layer(x, mask=mask, training=True).sum().backward()
            else:
                with torch.no_grad():
                    layer(x, mask=mask, training=True)
        once()                                           # warm-up (and the path's record)
        ran = last_run()[0]
        start = time.process_time()
        for _ in range(calls):
            once()
        return (time.process_time() - start) / calls * 1e3, ran


def main(argv=None):
    """Print the table; returns {(size, configuration, mode): {variant: median ms}}."""
    before = os.environ.get(cpu_kernel.ENV_SWITCH)
    try:
        return _run(argv)
    finally:
        if before is None:
            os.environ.pop(cpu_kernel.ENV_SWITCH, None)
        else:
            os.environ[cpu_kernel.ENV_SWITCH] = before
        cpu_kernel.forget()


def _run(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=["mnist", "medium"], choices=list(SIZES))
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=0, help="calls per round (0: about 0.2 s per round)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return _table(args)
    finally:
        torch.set_num_threads(threads)


def _table(args):
    results = {}
    kernel_switch(True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}; kernel: {cpu_kernel.unavailable_reason() or 'built'}")
    print("| size | configuration | mode | kernel ms | torch ms (path) | loop ms | torch/kernel | loop/kernel |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for size in args.sizes:
        batch, steps, features, units = SIZES[size]
        for config in args.configs:
            make, make_mask = CONFIGS[config]
            torch.manual_seed(0)
            layer = make(units)
            x = torch.randn(batch, steps, features)
            mask = make_mask(batch, steps) if make_mask is not None else None
            layer(x)                                     # build
            for train in (False, True):
                times = {"kernel": [], "torch": [], "loop": []}
                ran = {}
                calls = args.calls
                if not calls:
                    probe, _ = time_variant("loop", layer, x, mask, train, 1)
                    calls = max(1, int(200 / max(probe, 1e-3)))
                for _ in range(args.rounds):
                    for name in times:
                        ms, ran[name] = time_variant(name, layer, x, mask, train, calls)
                        times[name].append(ms)
                med = {name: statistics.median(values) for name, values in times.items()}
                results[size, config, "train" if train else "forward"] = med
                print(f"| {size} | {config} | {'train' if train else 'forward'} | {med['kernel']:.2f} "
                      f"({ran['kernel']}) | {med['torch']:.2f} ({ran['torch']}) | {med['loop']:.2f} | "
                      f"{med['torch'] / med['kernel']:.2f} | {med['loop'] / med['kernel']:.2f} |", flush=True)
    return results


if __name__ == "__main__":
    main()
