"""Benchmark kerasrnn_torch against raw torch.nn and Keras 3 (torch backend), side by side.

Every implementation of a case is timed in the same run, interleaved repeat by
repeat (so machine noise hits all of them alike), and every table reports each
implementation's median and its spread, the interquartile range (IQR, shown as
a percentage of the median; milliseconds in the JSON). Nothing here asserts a
speed: the numbers are for people.

How a case is timed (`sample_interleaved`): each implementation is warmed up,
then one timed call sizes its block, enough back-to-back calls to last about
`--min-sample-ms` (torch.utils.benchmark's `blocked_autorange` does the same
per block). Then `--repeats` rounds run; in each round every implementation
times one block, and the order rotates round by round so none always goes
first. A block's mean per call is one sample. We do not call
`Timer.blocked_autorange` itself because it runs one statement to the end before
the next starts, which is what interleaving avoids; the samples are summarised
by torch.utils.benchmark's own `Measurement` (its median and IQR: linearly
interpolated quartiles). With fewer than about 5 repeats the IQR says little;
an IQR above ~10% of the median (torch.utils.benchmark's warning threshold)
means the row is dominated by noise.

The machine's 1-minute load average is read before and after the run; above
the core count, a warning is printed (and kept in the JSON and markdown): the
other processes on the machine are then competing for the cores.

    python scripts/benchmark.py                      # MNIST-rows shape, CPU
    python scripts/benchmark.py --sizes all --json bench.json --plot bench.png
    python scripts/benchmark.py --skip-matrix --masks --decode --no-bias --loop-configs --markdown bench.md
    python scripts/benchmark.py --train-mnist        # the seed's one-epoch experiment
    python scripts/benchmark.py --skip-matrix --fit --repeats 5 --threads 1

Case families: the matrix (ours fused, ours loop, torch.nn, Keras 3; no mask and
right-padded), `--masks` (right-padded, left-padded, holes, random: torch.nn has
no masked call, so only right-padded rows have a torch.nn column), `--decode`
(one step with states, as a decoder runs), `--tutorial` (the PyTorch seq2seq
tutorial's decoder with our GRU), `--last-state` (the last states of
right-padded rows: LSTM with return_state=True, GRU's last output, against
torch.nn's packed call), `--no-bias` (use_bias=False),
`--loop-configs` (configurations only the loop runs: ours, ours with `handwritten_backward`, Keras 3),
`--memory`, `--functional`,
`--kernel-check`, `--fit` (one epoch of `fit` on the seed's model: ours, Keras 3 and a hand-written
torch.nn loop; and fit's per-batch cost over a hand-written loop on the same model; see
`kerasrnn_torch.benchmarks.fit`), `--peers` (ours against Keras 3 on JAX and Flax, each in its own
process: benchmarks/peers.py). Where "ours fused" is a layer left at `use_cudnn="auto"`, the
table names the path it actually ran (`layer.last_path`).

(`python -m kerasrnn_torch bench` runs the same code.)
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

from .._version import __version__  # noqa: E402
from ..core.input_layer import Input  # noqa: E402
from ..layers.attention.attention import Attention  # noqa: E402
from ..layers.core.dense import Dense  # noqa: E402
from ..layers.merging.merging import Concatenate  # noqa: E402
from ..layers.rnn.bidirectional import Bidirectional  # noqa: E402
from ..layers.rnn.engine.dispatch import force_path  # noqa: E402
from ..layers.rnn.gru import GRU  # noqa: E402
from ..layers.rnn.lstm import LSTM  # noqa: E402
from ..layers.rnn.simple_rnn import SimpleRNN  # noqa: E402
from ..models.functional import Model  # noqa: E402
from ..models.sequential import Sequential  # noqa: E402
from . import fit as fit_bench  # noqa: E402
from . import peers  # noqa: E402

SIZES = {  # name: (batch, timesteps, features, units); `--sizes all` runs these
    "mnist": (64, 28, 28, 64),
    "medium": (32, 100, 128, 256),
    "long": (16, 500, 32, 64),
}
# Not in `all`: a very long sequence (a forward+backward takes seconds per call on the loop).
LONG_SIZES = {"very_long": (8, 10000, 16, 32)}
# Not in `all`: a smoke test that the tool runs (seconds; its numbers mean nothing).
SMOKE_SIZES = {"tiny": (4, 6, 3, 5)}
OURS = {"lstm": LSTM, "gru": GRU, "simple_rnn": SimpleRNN}
TORCH = {"lstm": nn.LSTM, "gru": nn.GRU, "simple_rnn": nn.RNN}
KERAS_NAMES = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}
LAYERS = (*OURS, *(f"bi_{name}" for name in OURS))
MASK_PATTERNS = ("right-padded", "left-padded", "holes", "random")
DECODE_VARIANTS = ("initial_state", "stateful")
NO_TORCH_MASK = ("torch.nn has no masked call: packing (pack_padded_sequence) covers right-padded rows only, "
                 "so left-padded, holes and random masks have no torch.nn equivalent (n/a)")


def size_of(name):
    return {**SIZES, **LONG_SIZES, **SMOKE_SIZES}[name]


def try_keras():
    try:
        import keras
    except Exception:  # keras is optional here; the table just loses a column
        return None
    return keras if keras.config.backend() == "torch" else None


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def right_padded_mask(batch, timesteps, device):
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(timesteps // 2, timesteps + 1, (batch,), generator=generator)
    return (torch.arange(timesteps) < lengths.unsqueeze(1)).to(device), lengths


def patterned_mask(pattern, batch, timesteps, device):
    """A mask of one of MASK_PATTERNS whose rows keep the same numbers of steps whatever the pattern.

    Row i keeps L_i steps, L_i drawn (seed 0) from [timesteps // 2, timesteps - 1], so every row
    has at least one gap: "right-padded" keeps the first L_i steps, "left-padded" the last L_i,
    "holes" keeps every other row right-padded and spreads the others' gaps evenly inside the row,
    "random" keeps L_i steps drawn at random (seed 0).
    """
    generator = torch.Generator().manual_seed(0)
    shortest = max(1, timesteps // 2)
    lengths = torch.randint(shortest, max(shortest, timesteps - 1) + 1, (batch,), generator=generator)
    steps = torch.arange(timesteps)
    if pattern == "right-padded":
        mask = steps < lengths.unsqueeze(1)
    elif pattern == "left-padded":
        mask = steps >= (timesteps - lengths).unsqueeze(1)
    elif pattern == "holes":
        mask = steps < lengths.unsqueeze(1)
        for row in range(1, batch, 2):
            gaps = timesteps - int(lengths[row])
            mask[row] = True
            mask[row, [int((j + 0.5) * timesteps / gaps) for j in range(gaps)]] = False
    elif pattern == "random":
        mask = torch.zeros(batch, timesteps, dtype=torch.bool)
        for row in range(batch):
            mask[row, torch.randperm(timesteps, generator=generator)[:int(lengths[row])]] = True
    else:
        raise ValueError(f"mask pattern must be one of {', '.join(MASK_PATTERNS)}, got {pattern!r}")
    return mask.to(device)


class Case(dict):
    """The callables to time for one case (name -> function(backward: bool)), plus the layer behind
    "ours fused" (`fused_layer`: its `last_path` after timing is the path that ran), the mask and
    the torch.nn module timed (`reference`)."""

    decoders: dict          # the decoders of a --tutorial case, by name
    inputs: tuple           # and their inputs

    def __init__(self, impls=(), fused_layer=None, mask=None, reference=None):
        super().__init__(impls)
        self.fused_layer = fused_layer
        self.mask = mask
        self.reference = reference

    def path_report(self):
        """{"path": the path "ours fused" ran, "reason": why not fused (None when fused)}."""
        layer = self.fused_layer
        if layer is None:
            return {}
        reason = None
        if layer.last_path != "fused":
            inner = getattr(layer, "forward_layer", layer)   # a Bidirectional asks its forward layer
            reason = inner.dispatch_reason(self.mask) if hasattr(inner, "dispatch_reason") else None
        return {"path": layer.last_path, "reason": reason}


class TorchReference(nn.Module):
    """Raw torch.nn with packing for masks: what a careful PyTorch user writes."""

    def __init__(self, layer_name, features, units, bidirectional=False, bias=True):
        super().__init__()
        self.rnn = TORCH[layer_name](features, units, batch_first=True, bidirectional=bidirectional, bias=bias)

    def forward(self, x, lengths=None):
        if lengths is None:
            return self.rnn(x)[0]
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=x.shape[1])[0]


def build_case(layer_name, size, masked, device, keras, with_packed=False, pattern=None, use_bias=True):
    """The callables to time for one case: a `Case`, name -> function(backward: bool).

    `with_packed` adds two for a masked case: "ours packed", the fused path
    with `pack_on_cpu = True` (PyTorch's packed kernel rather than the whole
    batch), and "torch.nn unpacked", torch.nn's kernel run on the padded batch
    whole as ours runs it on the CPU (a memory reference: it ignores the mask).

    `pattern` (one of MASK_PATTERNS) replaces the matrix's right-padded mask by
    `patterned_mask`'s; torch.nn is then timed for "right-padded" only. With a
    pattern or `use_bias=False`, "ours fused" is the default `use_cudnn="auto"`
    (it runs whatever the dispatcher picks: `Case.path_report` says which).
    """
    batch, timesteps, features, units = size_of(size)
    bidirectional = layer_name.startswith("bi_")
    base = layer_name[3:] if bidirectional else layer_name
    x = torch.randn(batch, timesteps, features, device=device)
    if pattern is not None:
        mask = patterned_mask(pattern, batch, timesteps, device)
        lengths = mask.sum(dim=1).cpu() if pattern == "right-padded" else None
    else:
        mask, lengths = right_padded_mask(batch, timesteps, device) if masked else (None, None)

    def ours_layer(use_cudnn):
        # use_cudnn=True requires the fused path (an error otherwise) and False the loop, with no
        # per-call context manager inside the timed region.
        inner = OURS[base](units, return_sequences=True, input_dim=features, device=device, use_cudnn=use_cudnn,
                           use_bias=use_bias)
        return Bidirectional(inner) if bidirectional else inner

    fused_layer = ours_layer(True if pattern is None and use_bias else "auto").to(device)
    loop_layer = ours_layer(False).to(device)
    reference = TorchReference(base, features, units, bidirectional, bias=use_bias).to(device)

    def timed(run):
        def call(backward):
            if backward:
                xi = x.detach().requires_grad_(True)
                run(xi).sum().backward()
            else:
                with torch.no_grad():
                    run(x)
        return call

    def run_fused(xi):
        return fused_layer(xi, mask=mask)

    def run_loop(xi):
        return loop_layer(xi, mask=mask)

    impls = Case(fused_layer=fused_layer, mask=mask, reference=reference.rnn)
    if pattern in (None, "right-padded"):
        impls["torch.nn"] = timed(lambda xi: reference(xi, lengths))
    impls["ours fused"] = timed(run_fused)
    impls["ours loop"] = timed(run_loop)
    if with_packed and masked:
        packed_layer = ours_layer(True).to(device)
        packed_layer.pack_on_cpu = True

        def run_packed(xi):
            return packed_layer(xi, mask=mask)
        impls["ours packed"] = timed(run_packed)
        impls["torch.nn unpacked"] = timed(lambda xi: reference(xi))
    if keras is not None:
        klayer = getattr(keras.layers, KERAS_NAMES[base])(units, return_sequences=True, use_bias=use_bias)
        if bidirectional:
            klayer = keras.layers.Bidirectional(klayer)
        klayer.build((batch, timesteps, features))
        impls["keras 3"] = timed(lambda xi: klayer(xi, mask=mask))
    return impls


# Configurations that keep a layer on the loop path: ours vs Keras 3 running the same one.
LOOP_CONFIGS: dict[str, tuple[str, dict[str, Any], bool]] = {
    "lstm recurrent_dropout": ("lstm", {"recurrent_dropout": 0.2}, True),
    "lstm relu": ("lstm", {"activation": "relu"}, False),
    "gru reset_after=False": ("gru", {"reset_after": False}, False),
    "simple_rnn hard_sigmoid": ("simple_rnn", {"activation": "hard_sigmoid"}, False),
}


def build_loop_case(config_name, size, masked, device, keras, compile_loop=False):
    base, kwargs, training = LOOP_CONFIGS[config_name]
    batch, timesteps, features, units = size_of(size)
    x = torch.randn(batch, timesteps, features, device=device)
    mask = right_padded_mask(batch, timesteps, device)[0] if masked else None
    ours = OURS[base](units, return_sequences=True, input_dim=features, device=device, **kwargs)
    ours.train(training)
    impls = {}

    def timed(run):
        def call(backward):
            if backward:
                run(x.detach().requires_grad_(True)).sum().backward()
            else:
                with torch.no_grad():
                    run(x)
        return call

    impls["ours loop"] = timed(lambda xi: ours(xi, mask=mask))
    # The same layer with the opt-in hand-written backward through time (engine/bptt.py).
    handwritten = OURS[base](units, return_sequences=True, input_dim=features, device=device, **kwargs)
    handwritten.set_weights(ours.get_weights())
    handwritten.train(training)
    handwritten.handwritten_backward = True
    impls["ours hand-written"] = timed(lambda xi: handwritten(xi, mask=mask))
    if compile_loop:
        compiled = OURS[base](units, return_sequences=True, input_dim=features, device=device, **kwargs)
        compiled.train(training)
        compiled.compile_loop = True
        impls["ours compiled"] = timed(lambda xi: compiled(xi, mask=mask))
    if keras is not None:
        klayer = getattr(keras.layers, KERAS_NAMES[base])(units, return_sequences=True, **kwargs)
        klayer.build((batch, timesteps, features))
        impls["keras 3"] = timed(lambda xi: klayer(xi, mask=mask, training=training))
    return impls


def run_loop_configs(args, keras):
    device = torch.device(args.device)
    rows = []
    for size in args.sizes:
        for config_name in LOOP_CONFIGS:
            for masked in (False, True):
                impls = build_loop_case(config_name, size, masked, device, keras, args.compile_loop)
                for backward in (False, True):
                    row = timed_row(impls, backward, args, device, path=False, size=size, config=config_name,
                                    mask="right-padded" if masked else "none")
                    rows.append(row)
                    ms = row["ms"]
                    print(f"{size:7s} {config_name:24s} {row['mask']:12s} {row['mode']:7s} | {timing_text(row)} | "
                          f"keras/ours {ratio_text(ms.get('keras 3'), ms['ours loop'])}  loop/hand-written "
                          f"{ratio_text(ms['ours loop'], ms.get('ours hand-written'))}", flush=True)
    return rows


def loop_markdown_table(rows):
    names = implementation_names(rows, ("ours loop", "ours hand-written", "ours compiled", "keras 3"))
    ratios = [("keras 3 / ours loop", "keras 3", "ours loop")] if "keras 3" in names else []
    if "ours hand-written" in names:
        ratios.append(("loop / hand-written", "ours loop", "ours hand-written"))
        if "keras 3" in names:
            ratios.append(("keras 3 / hand-written", "keras 3", "ours hand-written"))
    return timing_markdown(rows, [("size", "size"), ("configuration", "config"), ("mask", "mask"), ("mode", "mode")],
                           names, ratios)


def sample_interleaved(impls, backward, repeats, warmup, device, min_sample_ms=20.0):
    """Milliseconds per call of each implementation, one sample per repeat, interleaved repeat by repeat.

    Each repeat of an implementation times enough back-to-back calls to last
    about `min_sample_ms` (sized once from a timed warm-up call) and keeps
    their mean: single calls of a millisecond are too noisy to compare at 5%.
    Returns name -> the list of `repeats` samples (ms per call).
    """
    times: dict[str, list[float]] = {name: [] for name in impls}
    calls = {}
    for name, fn in impls.items():
        for _ in range(warmup):
            fn(backward)
        synchronize(device)
        start = time.perf_counter()
        fn(backward)
        synchronize(device)
        one_call_ms = (time.perf_counter() - start) * 1e3
        calls[name] = max(1, math.ceil(min_sample_ms / max(one_call_ms, 1e-3)))
    for r in range(repeats):
        order = list(impls.items())
        order = order[r % len(order):] + order[:r % len(order)]   # rotate who goes first
        for name, fn in order:
            synchronize(device)
            start = time.perf_counter()
            for _ in range(calls[name]):
                fn(backward)
            synchronize(device)
            times[name].append((time.perf_counter() - start) * 1e3 / calls[name])
    return times


def summarize(samples):
    """(median, interquartile range) of samples, as torch.utils.benchmark's Measurement computes them
    (quartiles interpolated linearly between the sorted samples; one sample: IQR 0)."""
    from torch.utils.benchmark.utils.common import Measurement, TaskSpec
    measurement = Measurement(number_per_run=1, raw_times=list(samples), task_spec=TaskSpec(stmt="", setup=""))
    return measurement.median, measurement.iqr


def timings(impls, backward, repeats, warmup, device, min_sample_ms=20.0):
    """{"ms": name -> median, "iqr_ms": name -> IQR, "samples_ms": name -> samples}: a row's timing fields."""
    samples = sample_interleaved(impls, backward, repeats, warmup, device, min_sample_ms)
    spreads = {name: summarize(values) for name, values in samples.items()}
    return {"ms": {name: median for name, (median, _) in spreads.items()},
            "iqr_ms": {name: iqr for name, (_, iqr) in spreads.items()},
            "samples_ms": samples}


def timed_row(impls, backward, args, device, *, modes=("fwd", "fwd+bwd"), path=True, **fields):
    """One table row: `fields`, the mode, the timings of `impls` and (`path`) the path their fused layer ran."""
    row = {**fields, "mode": modes[backward],
           **timings(impls, backward, args.repeats, args.warmup, device, args.min_sample_ms)}
    if path:
        row.update(impls.path_report())
    return row


def measure(impls, backward, repeats, warmup, device, min_sample_ms=20.0):
    """Median milliseconds per call of each implementation (`timings` without the spread)."""
    return timings(impls, backward, repeats, warmup, device, min_sample_ms)["ms"]


def peak_memory(fn, device) -> int:
    """Peak bytes allocated while `fn` runs: CUDA's allocator statistics, or on the CPU the
    profiler's allocation events replayed in order (self sizes, so nested ops count once)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated(device) - start
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e for e in prof.events() if e.self_cpu_memory_usage), key=lambda e: e.time_range.start)
    current = peak = 0
    for event in events:
        current += event.self_cpu_memory_usage
        peak = max(peak, current)
    return peak


# The ATen operator each device runs for the fused path: PyTorch's CPU kernels, cuDNN on CUDA.
FUSED_OPERATORS = {"cpu": ("aten::lstm", "aten::gru", "aten::rnn_tanh", "aten::rnn_relu"),
                   "cuda": ("aten::_cudnn_rnn",)}
_KERNEL_WORDS = ("rnn", "lstm", "gru", "cudnn")


def kernels_run(fn, device):
    """(fused ATen operators, recurrent device kernels) seen by the profiler while `fn` runs."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        fn()
        synchronize(device)
    names = {event.name for event in prof.events()}
    operators = sorted(name for name in names if name in FUSED_OPERATORS.get(device.type, ()))
    device_kernels = sorted({name[:100] for event in prof.events() for name in [event.name]
                             if event.device_type != torch.autograd.DeviceType.CPU
                             and any(word in name.lower() for word in _KERNEL_WORDS)})
    return operators, device_kernels


def run_kernel_check(args):
    """Which kernels ran for the fused path of each layer, forward+backward, with and without a mask."""
    device = torch.device(args.device)
    rows = []
    for layer_name in args.layers:
        for masked in (False, True):
            impls = build_case(layer_name, "mnist", masked, device, None)
            fused = impls["ours fused"]
            fused(True)     # warm up
            operators, device_kernels = kernels_run(lambda: fused(True), device)
            row = {"layer": layer_name, "mask": "right-padded" if masked else "none",
                   "operators": operators, "device_kernels": device_kernels}
            rows.append(row)
            print(f"kernels {layer_name:11s} {row['mask']:12s} | fused operator: {', '.join(operators) or 'NONE'}"
                  + (f" | {len(device_kernels)} recurrent device kernels: {'; '.join(device_kernels[:4])}"
                     if device.type == "cuda" else ""), flush=True)
    return rows


def run_memory(args):
    """Peak memory of forward+backward: ours fused vs torch.nn, per layer and mask."""
    device = torch.device(args.device)
    rows = []
    for size in args.sizes:
        for layer_name in args.layers:
            for masked in (False, True):
                impls = build_case(layer_name, size, masked, device, None, with_packed=True)
                for impl in impls.values():
                    impl(True)   # warm up: caches, lazy state
                names = [name for name in ("torch.nn", "ours fused", "ours packed", "torch.nn unpacked")
                         if name in impls]
                peaks = {name: peak_memory(lambda: impls[name](True), device) for name in names}
                row = {"size": size, "layer": layer_name, "mask": "right-padded" if masked else "none",
                       "peak_bytes": peaks}
                rows.append(row)
                packed = (f"  ours packed {peaks['ours packed'] / 2**20:7.2f} MiB "
                          f"({ratio(peaks['ours packed'], peaks['torch.nn']):4.2f}x)  torch.nn unpacked "
                          f"{peaks['torch.nn unpacked'] / 2**20:7.2f} MiB "
                          f"(ours {ratio(peaks['ours fused'], peaks['torch.nn unpacked']):4.2f}x)"
                          if "ours packed" in peaks else "")
                print(f"{size:7s} {layer_name:11s} {row['mask']:12s} peak memory fwd+bwd | torch.nn "
                      f"{peaks['torch.nn'] / 2**20:7.2f} MiB  ours fused {peaks['ours fused'] / 2**20:7.2f} MiB | "
                      f"{ratio(peaks['ours fused'], peaks['torch.nn']):4.2f}x{packed}", flush=True)
    return rows


def memory_markdown_table(rows):
    lines = ["| size | layer | mask | torch.nn peak (MiB) | ours fused peak (MiB) | ours / torch.nn "
             "| ours packed peak (MiB) | packed / torch.nn | torch.nn unpacked peak (MiB) "
             "| ours / torch.nn unpacked |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        p = row["peak_bytes"]
        packed = (f"{p['ours packed'] / 2**20:.2f} | {ratio(p['ours packed'], p['torch.nn']):.2f}x | "
                  f"{p['torch.nn unpacked'] / 2**20:.2f} | {ratio(p['ours fused'], p['torch.nn unpacked']):.2f}x"
                  if "ours packed" in p else "- | - | - | -")
        lines.append(f"| {row['size']} | {row['layer']} | {row['mask']} | {p['torch.nn'] / 2**20:.2f} | "
                     f"{p['ours fused'] / 2**20:.2f} | {ratio(p['ours fused'], p['torch.nn']):.2f}x | {packed} |")
    return "\n".join(lines)


# The keras-io lstm_seq2seq sizes: 71 source and 93 target characters, 256 units.
SEQ2SEQ = {"batch": 64, "source_steps": 20, "target_steps": 20, "source_features": 71, "target_features": 93,
           "units": 256}


class HandWrittenSeq2Seq(nn.Module):
    """The reference encoder-decoder with attention as a PyTorch user writes it: the same layers, a forward."""

    def __init__(self, encoder, decoder, attention, concatenate, dense):
        super().__init__()
        self.encoder, self.decoder, self.attention = encoder, decoder, attention
        self.concatenate, self.dense = concatenate, dense

    def forward(self, source, target):
        encoded, h, c = self.encoder(source)
        decoded, _, _ = self.decoder(target, initial_state=[h, c])
        context = self.attention([decoded, encoded])
        return self.dense(self.concatenate([decoded, context]))


def functional_seq2seq(units, source_features, target_features):
    """(kr.Model, the hand-written module) over one set of layers."""
    encoder = LSTM(units, return_sequences=True, return_state=True)
    decoder = LSTM(units, return_sequences=True, return_state=True)
    attention, concatenate = Attention(), Concatenate()
    dense = Dense(target_features, activation="softmax")
    source, target = Input(shape=(None, source_features)), Input(shape=(None, target_features))
    encoded, h, c = encoder(source)
    decoded, _, _ = decoder(target, initial_state=[h, c])
    outputs = dense(concatenate([decoded, attention([decoded, encoded])]))
    return Model([source, target], outputs), HandWrittenSeq2Seq(encoder, decoder, attention, concatenate, dense)


def run_functional(args):
    """kr.Model against a hand-written forward over the same layers: the graph's own cost."""
    device = torch.device(args.device)
    size = SEQ2SEQ
    model, hand_written = functional_seq2seq(size["units"], size["source_features"], size["target_features"])
    model.to(device)
    rows = []
    for label, batch, source_steps, target_steps in (("training batch", size["batch"], size["source_steps"],
                                                       size["target_steps"]), ("one decode step", 1, 20, 1)):
        source = torch.randn(batch, source_steps, size["source_features"], device=device)
        target = torch.randn(batch, target_steps, size["target_features"], device=device)

        def timed(module):
            def call(backward):
                if backward:
                    module(source, target).sum().backward()
                else:
                    with torch.no_grad():
                        module(source, target)
            return call
        for backward in (False, True):
            measured = timings({"kr.Model": timed(model), "hand-written": timed(hand_written)}, backward,
                               args.repeats, args.warmup, device, args.min_sample_ms)
            ms, iqr = measured["ms"], measured["iqr_ms"]
            row = {"case": label, "backward": backward, "mode": "fwd+bwd" if backward else "fwd",
                   "model_ms": ms["kr.Model"], "hand_written_ms": ms["hand-written"],
                   "model_iqr_ms": iqr["kr.Model"], "hand_written_iqr_ms": iqr["hand-written"],
                   "ratio": ms["kr.Model"] / ms["hand-written"], **measured}
            rows.append(row)
            print(f"functional seq2seq, {label:16s} {'fwd+bwd' if backward else 'forward'}: {timing_text(row)} | "
                  f"ratio {row['ratio']:.3f}x")
    return rows


def functional_markdown_table(rows):
    return timing_markdown(rows, [("case", "case"), ("pass", "mode")], ["kr.Model", "hand-written"],
                           [("kr.Model / hand-written", "kr.Model", "hand-written")])


def run_matrix(args, keras):
    device = torch.device(args.device)
    rows = []
    for size in args.sizes:
        for layer_name in args.layers:
            for masked in (False, True):
                impls = build_case(layer_name, size, masked, device, keras if not args.no_keras else None)
                for backward in (False, True):
                    row = timed_row(impls, backward, args, device, path=False, size=size, layer=layer_name,
                                    mask="right-padded" if masked else "none")
                    rows.append(row)
                    print(format_row(row), flush=True)
    return rows


def run_no_bias(args, keras):
    """use_bias=False: ours (the default use_cudnn="auto", and the loop) against torch.nn with bias=False
    and Keras 3 with use_bias=False; the rows say which path ours ran."""
    device = torch.device(args.device)
    rows = []
    for size in args.sizes:
        for layer_name in args.layers:
            for masked in (False, True):
                case = build_case(layer_name, size, masked, device, keras, use_bias=False)
                for backward in (False, True):
                    row = timed_row(case, backward, args, device, size=size, layer=layer_name, use_bias=False,
                                    mask="right-padded" if masked else "none")
                    rows.append(row)
                    print(f"no bias {format_row(row)} | ours fused ran: {row['path']}", flush=True)
    return rows


def run_masks(args, keras):
    """Masks of every pattern (MASK_PATTERNS), the same valid steps per row: ours at use_cudnn="auto"
    (the path it ran is recorded) and on the loop, torch.nn where it has an equivalent, Keras 3."""
    device = torch.device(args.device)
    rows = []
    for size in args.sizes:
        for layer_name in args.layers:
            for pattern in MASK_PATTERNS:
                case = build_case(layer_name, size, True, device, keras, pattern=pattern)
                for backward in (False, True):
                    row = timed_row(case, backward, args, device, size=size, layer=layer_name, mask=pattern)
                    if "torch.nn" not in case:
                        row["not_timed"] = {"torch.nn": NO_TORCH_MASK}
                    rows.append(row)
                    names = implementation_names([row], ("ours fused", "ours loop", "torch.nn", "keras 3"),
                                                 always=("torch.nn",))
                    print(f"{size:7s} {layer_name:13s} {pattern:12s} {row['mode']:7s} | ours fused ran "
                          f"{row['path']:5s} | {timing_text(row, names)}", flush=True)
    return rows


def masks_markdown_table(rows):
    names = implementation_names(rows, ("ours fused", "ours loop", "torch.nn", "keras 3"), always=("torch.nn",))
    ratios = [("ours fused / ours loop", "ours fused", "ours loop")]
    if "keras 3" in names:
        ratios.append(("keras 3 / ours fused", "keras 3", "ours fused"))
    table = timing_markdown(rows, [("size", "size"), ("layer", "layer"), ("mask", "mask"), ("mode", "mode"),
                                   ("ours fused ran", "path")], names, ratios)
    return table + f"\n\nn/a: {NO_TORCH_MASK}."


def no_bias_markdown_table(rows):
    names = implementation_names(rows, ("torch.nn", "ours fused", "ours loop", "keras 3"))
    ratios = [("ours fused / torch.nn", "ours fused", "torch.nn")]
    if "keras 3" in names:
        ratios.append(("keras 3 / ours fused", "keras 3", "ours fused"))
    return timing_markdown(rows, [("size", "size"), ("layer", "layer"), ("mask", "mask"), ("mode", "mode"),
                                  ("ours fused ran", "path")], names, ratios)


LAST_STATE_LAYERS = ("lstm", "gru")
LAST_STATE_NOTE = ("return_sequences=False; LSTM with return_state=True (its final c wanted), GRU returning its last "
                   "output; torch.nn packs the same rows (enforce_sorted=False) and reads h_n (and c_n)")


def build_last_state_case(layer_name, size, device):
    """The last states of right-padded rows, as an encoder reads them (`LAST_STATE_NOTE`): ours fused
    (use_cudnn=True), ours loop, ours with `pack_on_cpu = True`, and torch.nn's packed call."""
    batch, timesteps, features, units = size_of(size)
    x = torch.randn(batch, timesteps, features, device=device)
    mask, lengths = right_padded_mask(batch, timesteps, device)
    lstm = layer_name == "lstm"

    def ours(use_cudnn, pack=False):
        layer = OURS[layer_name](units, return_state=lstm, input_dim=features, device=device, use_cudnn=use_cudnn)
        layer.pack_on_cpu = pack
        return layer, lambda xi: _summed(layer(xi, mask=mask))

    fused_layer, run_fused = ours(True)
    _, run_loop = ours(False)
    _, run_packed = ours(True, pack=True)
    reference = TORCH[layer_name](features, units, batch_first=True).to(device)

    def run_torch(xi):
        _, final = reference(pack_padded_sequence(xi, lengths, batch_first=True, enforce_sorted=False))
        # ours returns (h, h, c) for LSTM: the same sum
        return final[0].sum() * 2 + final[1].sum() if lstm else final.sum()
    return Case({"torch.nn": timed_call(run_torch, x), "ours fused": timed_call(run_fused, x),
                 "ours loop": timed_call(run_loop, x), "ours packed": timed_call(run_packed, x)},
                fused_layer=fused_layer, mask=mask, reference=reference)


def _summed(result):
    """The sum of a layer's result: one tensor, or the output and states of return_state=True."""
    return sum(t.sum() for t in result) if isinstance(result, (list, tuple)) else result.sum()


def run_last_state(args):
    """Last-state rows (`LAST_STATE_NOTE`) for the LSTM and GRU of --layers, every size, with and without
    gradients."""
    device = torch.device(args.device)
    rows = []
    for size in args.sizes:
        for layer_name in (name for name in args.layers if name in LAST_STATE_LAYERS):
            case = build_last_state_case(layer_name, size, device)
            for backward in (False, True):
                row = timed_row(case, backward, args, device, size=size, layer=layer_name)
                rows.append(row)
                ms = row["ms"]
                print(f"last state {size:9s} {layer_name:5s} {row['mode']:7s} | {timing_text(row)} | fused/torch.nn "
                      f"{ratio_text(ms['ours fused'], ms['torch.nn'])} fused/loop "
                      f"{ratio_text(ms['ours fused'], ms['ours loop'])}", flush=True)
    return rows


def last_state_markdown_table(rows):
    names = ["torch.nn", "ours fused", "ours loop", "ours packed"]
    return timing_markdown(rows, [("size", "size"), ("layer", "layer"), ("mode", "mode")], names,
                           [("ours fused / torch.nn", "ours fused", "torch.nn"),
                            ("ours fused / ours loop", "ours fused", "ours loop"),
                            ("ours packed / torch.nn", "ours packed", "torch.nn")]) + f"\n\n{LAST_STATE_NOTE}."


def timed_call(run, x):
    """function(backward): `run(x)` without gradients, or with them and a backward of the sum."""
    def call(backward):
        if backward:
            result = run(x.detach().requires_grad_(True))
            result.sum().backward()
        else:
            with torch.no_grad():
                run(x)
    return call


def build_decode_case(layer_name, variant, batch, units, device):
    """One decoding step (timesteps 1, features = units) with states: ours (use_cudnn="auto" and the
    loop) against torch.nn's same call with `hx`.

    "initial_state": the states are given to every call (ours: `initial_state=`, return_state=True).
    "stateful": the layer carries its states from call to call (ours: stateful=True; torch.nn: the
    returned `hx`, detached, fed to the next call, as a PyTorch user writes it).
    """
    if variant not in DECODE_VARIANTS:
        raise ValueError(f"decode variant must be one of {', '.join(DECODE_VARIANTS)}, got {variant!r}")
    features = units
    x = torch.randn(batch, 1, features, device=device)
    states = [torch.randn(batch, units, device=device) for _ in range(2 if layer_name == "lstm" else 1)]

    def ours(use_cudnn):
        if variant == "stateful":
            layer = OURS[layer_name](units, stateful=True, input_dim=features, device=device, use_cudnn=use_cudnn)
            return layer, lambda xi: layer(xi)
        layer = OURS[layer_name](units, return_state=True, input_dim=features, device=device, use_cudnn=use_cudnn)
        return layer, lambda xi: layer(xi, initial_state=states)[0]

    fused_layer, run_fused = ours("auto")
    _, run_loop = ours(False)
    reference = TORCH[layer_name](features, units, batch_first=True).to(device)
    hx = tuple(s.unsqueeze(0) for s in states) if layer_name == "lstm" else states[0].unsqueeze(0)
    if variant == "stateful":
        carried = [hx]

        def run_torch(xi):
            output, new = reference(xi, carried[0])
            carried[0] = tuple(s.detach() for s in new) if isinstance(new, tuple) else new.detach()
            return output
    else:
        def run_torch(xi):
            return reference(xi, hx)[0]
    return Case({"ours fused": timed_call(run_fused, x), "ours loop": timed_call(run_loop, x),
                 "torch.nn": timed_call(run_torch, x)}, fused_layer=fused_layer, reference=reference)


def run_decode(args):
    """One-step decoding rows: every recurrent layer of --layers (not the bidirectional ones: a decoder
    reads one way), both variants, --decode-batches x --decode-units, with and without gradients."""
    device = torch.device(args.device)
    layers = list(dict.fromkeys(name for name in args.layers if not name.startswith("bi_")))
    if len(layers) < len(args.layers):
        print("decode: bidirectional layers left out (a decoding step reads one way)")
    rows = []
    for layer_name in layers:
        for variant in DECODE_VARIANTS:
            for batch in args.decode_batches:
                for units in args.decode_units:
                    case = build_decode_case(layer_name, variant, batch, units, device)
                    for backward in (False, True):
                        row = timed_row(case, backward, args, device, layer=layer_name, variant=variant,
                                        batch=batch, units=units)
                        rows.append(row)
                        print(f"decode {layer_name:10s} {variant:13s} batch {batch:4d} units {units:4d} "
                              f"{row['mode']:7s} | ours fused ran {row['path']:5s} | {timing_text(row)} | "
                              f"fused/torch.nn {ratio_text(row['ms']['ours fused'], row['ms']['torch.nn'])}",
                              flush=True)
    return rows


# The PyTorch seq2seq tutorial's decoder ("NLP From Scratch: Translation with a Sequence to Sequence
# Network and Attention"): embedding -> relu -> GRU -> linear -> log_softmax, fed its own previous
# target token (teacher forcing) for 10 steps. Its per-token version (batch 1, 256 units) and its
# batched version (batch 32, 128 units); 2803 output words, as its English vocabulary.
TUTORIAL_CASES = (("per-token", 1, 256), ("batched", 32, 128))
TUTORIAL_WORDS, TUTORIAL_STEPS = 2803, 10


class TutorialDecoder(nn.Module):
    """The tutorial's DecoderRNN over a given GRU: `nn.GRU(batch_first=True)` or ours converted from it."""

    def __init__(self, gru, units, words=TUTORIAL_WORDS):
        super().__init__()
        self.embedding = nn.Embedding(words, units)
        self.gru = gru
        self.out = nn.Linear(units, words)

    def step(self, token, hidden):
        x = torch.relu(self.embedding(token))
        if isinstance(self.gru, nn.GRU):
            output, hidden = self.gru(x, hidden)
        else:
            output, state = self.gru(x, initial_state=[hidden[0]])
            hidden = state.unsqueeze(0)
        return torch.log_softmax(self.out(output[:, -1] if output.dim() == 3 else output), dim=-1), hidden

    def forward(self, targets, hidden):
        token = torch.zeros(targets.shape[0], 1, dtype=torch.long, device=targets.device)
        outputs = []
        for t in range(targets.shape[1]):
            output, hidden = self.step(token, hidden)
            outputs.append(output)
            token = targets[:, t:t + 1]            # teacher forcing: the true token goes in next
        return torch.stack(outputs, dim=1)


def build_tutorial_case(batch, units, device):
    """The tutorial decoder with torch.nn's GRU and with `kr.GRU.from_torch` of it (same weights)."""
    reference = nn.GRU(units, units, batch_first=True).to(device)
    ours = GRU.from_torch(reference, assume_batch_first=True, return_state=True).to(device)
    decoders = {"torch.nn": TutorialDecoder(reference, units).to(device),
                "ours": TutorialDecoder(ours, units).to(device)}
    decoders["ours"].embedding.load_state_dict(decoders["torch.nn"].embedding.state_dict())
    decoders["ours"].out.load_state_dict(decoders["torch.nn"].out.state_dict())
    targets = torch.randint(0, TUTORIAL_WORDS, (batch, TUTORIAL_STEPS), device=device)
    hidden = torch.zeros(1, batch, units, device=device)

    def train_step(decoder, optimizer):
        def call(backward):
            if not backward:
                with torch.no_grad():
                    decoder(targets, hidden)
                return
            optimizer.zero_grad()
            log_probs = decoder(targets, hidden)
            nn.functional.nll_loss(log_probs.flatten(0, 1), targets.flatten()).backward()
            optimizer.step()
        return call
    impls = {name: train_step(decoder, torch.optim.SGD(decoder.parameters(), lr=1e-3))
             for name, decoder in decoders.items()}
    case = Case(impls, fused_layer=ours, reference=reference)
    case.decoders, case.inputs = decoders, (targets, hidden)
    return case


def run_tutorial(args):
    """The tutorial decoder's training step (forward, backward, SGD step) and its teacher-forced
    forward without gradients, ours against torch.nn."""
    device = torch.device(args.device)
    rows = []
    for version, batch, units in TUTORIAL_CASES:
        case = build_tutorial_case(batch, units, device)
        for backward in (False, True):
            row = timed_row(case, backward, args, device, modes=("fwd", "train step"), version=version,
                            batch=batch, units=units)
            rows.append(row)
            print(f"tutorial {version:9s} batch {batch:3d} units {units:4d} {row['mode']:10s} | ours ran "
                  f"{row['path']:5s} | {timing_text(row)} | ours/torch.nn "
                  f"{ratio_text(row['ms']['ours'], row['ms']['torch.nn'])}", flush=True)
    return rows


def tutorial_markdown_table(rows):
    return timing_markdown(rows, [("decoder", "version"), ("batch", "batch"), ("units", "units"), ("mode", "mode"),
                                  ("ours ran", "path")], ["ours", "torch.nn"],
                           [("ours / torch.nn", "ours", "torch.nn")])


def decode_markdown_table(rows):
    return timing_markdown(rows, [("layer", "layer"), ("states", "variant"), ("batch", "batch"), ("units", "units"),
                                  ("mode", "mode"), ("ours fused ran", "path")],
                           ["ours fused", "ours loop", "torch.nn"],
                           [("ours fused / torch.nn", "ours fused", "torch.nn"),
                            ("ours loop / torch.nn", "ours loop", "torch.nn")])


def ratio(a, b):
    return a / b if a and b else float("nan")


def ratio_text(a, b):
    value = ratio(a, b)
    return "n/a" if math.isnan(value) else f"{value:.2f}x"


def ms_text(value):
    """Milliseconds with three significant digits or more: decoding steps take hundredths of a ms."""
    return f"{value:.2f}" if value >= 1 else f"{value:.3f}" if value >= 0.1 else f"{value:.4f}"


def iqr_percent(row, name):
    """The interquartile range of one implementation in a row, as a percentage of its median."""
    median = row["ms"][name]
    return 100.0 * row["iqr_ms"][name] / median if median else float("nan")


def implementation_names(rows, order, always=()):
    """The implementations timed in any of `rows` (and those in `always`), in `order`, then any others."""
    seen = {name for row in rows for name in row["ms"]} | set(always)
    return [name for name in order if name in seen] + sorted(seen - set(order))


def timing_text(row, names=None):
    """"name median (IQR p%)" for each implementation of a printed row; "name n/a" where one was not timed."""
    cells = []
    for name in names or row["ms"]:
        if name in row["ms"]:
            cells.append(f"{name} {ms_text(row['ms'][name]):>7s} (IQR {iqr_percent(row, name):4.1f}%)")
        else:
            cells.append(f"{name} n/a")
    return "  ".join(cells)


def timing_markdown(rows, keys, names, ratios=()):
    """A markdown table: `keys` are (header, row key) columns; each implementation of `names` gets a
    median column and an IQR column (% of the median), "n/a" where it was not timed; `ratios` are
    (header, numerator, denominator) columns of medians."""
    header = [title for title, _ in keys] + [cell for name in names for cell in (f"{name} (ms)", f"{name} IQR")] \
        + [title for title, _, _ in ratios]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [str(row.get(key, "")) for _, key in keys]
        for name in names:
            cells += ([ms_text(row["ms"][name]), f"{iqr_percent(row, name):.1f}%"] if name in row["ms"]
                      else ["n/a", "n/a"])
        cells += [ratio_text(row["ms"].get(a), row["ms"].get(b)) for _, a, b in ratios]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_row(row):
    ms = row["ms"]
    fused_vs_torch = ratio_text(ms.get("ours fused"), ms.get("torch.nn"))
    keras = f"  keras/loop {ratio_text(ms['keras 3'], ms['ours loop'])}" if "keras 3" in ms else ""
    return (f"{row['size']:7s} {row['layer']:13s} {row['mask']:12s} {row['mode']:7s} | {timing_text(row)} | "
            f"fused/torch.nn {fused_vs_torch}{keras}")


def markdown_table(rows):
    names = list(rows[0]["ms"])
    ratios = [("fused / torch.nn", "ours fused", "torch.nn")]
    if "keras 3" in names:                 # without Keras, no columns of its ratios
        ratios += [("keras 3 / loop", "keras 3", "ours loop"), ("keras 3 / fused", "keras 3", "ours fused")]
    return timing_markdown(rows, [("size", "size"), ("layer", "layer"), ("mask", "mask"), ("mode", "mode")],
                           names, ratios)


def machine_description(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot written")
        return
    labels = [f"{r['size']}/{r['layer']}/{r['mask'][:5]}/{r['mode']}" for r in rows]
    values = [ratio(r["ms"]["ours fused"], r["ms"]["torch.nn"]) for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1))
    ax.barh(labels, values)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("ours fused / torch.nn (lower is faster)")
    fig.tight_layout()
    fig.savefig(path)
    print(f"plot written to {path}")


def synthetic_mnist(n, generator):
    """A stand-in with MNIST's shape (28 rows of 28 pixels, 10 classes) and a learnable signal."""
    labels = torch.randint(0, 10, (n,), generator=generator)
    images = torch.rand(n, 28, 28, generator=generator) * 0.3
    rows = torch.arange(28)
    images[torch.arange(n).unsqueeze(1), (labels.unsqueeze(1) * 2 + rows[:4]).clamp(max=27)] += 0.7
    return images, labels


def load_mnist(data_dir, n):
    try:
        from torchvision.datasets import MNIST
        dataset = MNIST(data_dir, train=True, download=False)
    except Exception as error:  # no torchvision or no local copy: say so and use the stand-in
        print(f"MNIST not available locally ({type(error).__name__}): using a synthetic stand-in of the same shape")
        return synthetic_mnist(n, torch.Generator().manual_seed(0))
    images = dataset.data[:n].float() / 255.0
    return images, dataset.targets[:n]


def train_mnist_rows(args):
    """The seed's experiment: one epoch of the MNIST-rows LSTM classifier on each path."""
    device = torch.device(args.device)
    images, labels = load_mnist(args.data_dir, args.train_samples)
    images, labels = images.to(device), labels.to(device)
    results = {}
    for path in ("fused", "loop"):
        torch.manual_seed(0)
        model = Sequential([LSTM(64, input_shape=(28, 28)), Dense(10)]).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        synchronize(device)
        start = time.perf_counter()
        with force_path(path):
            for i in range(0, len(images), 64):
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(images[i:i + 64]), labels[i:i + 64])
                loss.backward()
                optimizer.step()
        synchronize(device)
        results[path] = {"seconds": time.perf_counter() - start, "final_loss": loss.item()}
        print(f"one epoch on the {path} path: {results[path]['seconds']:.2f} s (last batch loss {loss.item():.3f})")
    print(f"loop / fused training time: {results['loop']['seconds'] / results['fused']['seconds']:.2f}x")
    return results


def comma_list(kind, choices, every=None, hidden=()):
    """An argparse type: a comma-separated list of `choices` (or "all" for `every`); anything else is
    an argparse error that lists the choices."""
    listed = ", ".join(choices) + (", or 'all'" if every is not None else "")

    def parse(text):
        if every is not None and text.strip() == "all":
            return list(every)
        names = [name.strip() for name in text.split(",")]
        unknown = [name for name in names if name not in choices and name not in hidden]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list of {kind} from {listed}; got unknown "
                f"{', '.join(repr(name) for name in unknown)} in {text!r}")
        return names
    return parse


def int_list(text):
    """An argparse type: a comma-separated list of positive integers."""
    try:
        values = [int(value) for value in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of positive integers, got {text!r}")
    return values


def at_least(low, kind=int):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'} of at least "
                                             f"{low}, got {text!r}")
        return value
    return parse


def machine_load():
    """os.getloadavg() (1, 5 and 15 minutes), or None where the system has none."""
    try:
        return tuple(os.getloadavg())
    except (AttributeError, OSError):
        return None


def busy_warning(load, cores, when):
    """A warning line when the 1-minute load average is above the core count, else None."""
    if load is None or not cores or load[0] <= cores:
        return None
    return (f"WARNING: the machine is busy {when}: 1-minute load average {load[0]:.2f} is above its {cores} cores; "
            "other processes compete for them, so the timings are noisy (see each IQR) - rerun on an idle machine")


def build_parser(prog=None):
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", help="print kerasrnn_torch's and torch's versions and exit",
                        version=f"kerasrnn_torch {__version__} (torch {torch.__version__})")
    parser.add_argument("--sizes", default="mnist",
                        type=comma_list("sizes", (*SIZES, *LONG_SIZES, *SMOKE_SIZES), every=SIZES),
                        help="comma-separated of %s ('all': %s; 'very_long' is %s steps, seconds per call; 'tiny' "
                             "is a smoke test whose numbers mean nothing)"
                             % (", ".join((*SIZES, *LONG_SIZES, *SMOKE_SIZES)), ", ".join(SIZES),
                                f"{LONG_SIZES['very_long'][1]:,}"))
    parser.add_argument("--layers", default="lstm,gru,simple_rnn,bi_lstm", type=comma_list("layers", LAYERS),
                        help="comma-separated of %s (default lstm,gru,simple_rnn,bi_lstm)" % ", ".join(LAYERS))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=at_least(1), default=10,
                        help="samples per implementation: the median and IQR are theirs (default 10)")
    parser.add_argument("--warmup", type=at_least(0), default=3)
    parser.add_argument("--min-sample-ms", type=at_least(0.0, float), default=20.0,
                        help="each repeat times back-to-back calls for at least this long (default 20)")
    parser.add_argument("--no-keras", action="store_true", help="leave Keras 3 out")
    parser.add_argument("--threads", type=at_least(1), default=None,
                        help="torch's intra-op threads (default: torch's choice); 1 steadies timings on a shared machine")
    parser.add_argument("--json", help="write the raw medians, IQRs and samples here")
    parser.add_argument("--plot", help="write a PNG of the fused/torch.nn ratios here (needs matplotlib)")
    parser.add_argument("--markdown", help="write the tables as markdown here")
    parser.add_argument("--train-mnist", action="store_true", help="also run the one-epoch MNIST-rows experiment")
    parser.add_argument("--train-samples", type=int, default=60000)
    parser.add_argument("--data-dir", default=os.path.expanduser("~/.torchvision"))
    parser.add_argument("--skip-matrix", action="store_true")
    parser.add_argument("--masks", action="store_true",
                        help="also time masked calls: right-padded, left-padded, holes and random masks with the "
                             "same valid steps per row (ours at use_cudnn='auto' and on the loop, torch.nn where it "
                             "has an equivalent, Keras 3)")
    parser.add_argument("--decode", action="store_true",
                        help="also time one-step decoding with states (initial_state and stateful), ours against "
                             "torch.nn's call with hx")
    parser.add_argument("--decode-batches", type=int_list, default="1,64", help="batch sizes of --decode (1,64)")
    parser.add_argument("--decode-units", type=int_list, default="64,256", help="units of --decode (64,256)")
    parser.add_argument("--tutorial", action="store_true",
                        help="also time the PyTorch seq2seq tutorial's decoder (per-token and batched) with "
                             "kr.GRU.from_torch against nn.GRU: a training step and a forward")
    parser.add_argument("--last-state", action="store_true",
                        help="also time the last states of right-padded rows (LSTM with return_state=True, GRU "
                             "with return_sequences=False) against torch.nn's packed call, the loop and "
                             "pack_on_cpu=True")
    parser.add_argument("--no-bias", action="store_true",
                        help="also time use_bias=False layers against torch.nn with bias=False and Keras 3")
    parser.add_argument("--memory", action="store_true", help="also measure peak memory of forward+backward")
    parser.add_argument("--compile-loop", action="store_true",
                        help="with --loop-configs, also time the opt-in compiled loop (compiles per shape first)")
    parser.add_argument("--kernel-check", action="store_true",
                        help="also list, from the PyTorch profiler, the fused operator and (on CUDA) the cuDNN "
                             "kernels each layer's fused path ran")
    parser.add_argument("--loop-configs", action="store_true",
                        help="also time loop-only configurations (recurrent_dropout, relu, ...) against Keras 3")
    parser.add_argument("--functional", action="store_true",
                        help="also time kr.Model against a hand-written forward (the reference seq2seq)")
    parser.add_argument("--fit", action="store_true",
                        help="also time one epoch of fit on the seed's model (ours, Keras 3, a hand-written torch.nn "
                             "loop) and fit's per-batch cost over a hand-written loop on the same model")
    parser.add_argument("--fit-samples", type=at_least(1), default=4096, help="samples of --fit's epoch (4096)")
    parser.add_argument("--fit-units", type=at_least(1), default=64, help="LSTM units of --fit's epoch (64)")
    parser.add_argument("--fit-loop", action="store_true", help="with --fit, also the RNN(LSTMCell) models (slow)")
    parser.add_argument("--fit-models", default="tiny,seed",
                        type=comma_list("fit models", fit_bench.OVERHEAD_MODELS),
                        help="models of --fit's overhead ratio, comma-separated of %s (default tiny,seed)"
                             % ", ".join(fit_bench.OVERHEAD_MODELS))
    parser.add_argument("--fit-batches", type=at_least(1), default=200,
                        help="batches per round of --fit's overhead ratio (200)")
    parser.add_argument("--fit-clock", choices=tuple(fit_bench.CLOCKS), default="wall",
                        help="--fit's clock: wall (time.perf_counter) or cpu (the process's CPU time: steadier on a "
                             "machine other work shares, single-threaded)")
    peers.add_arguments(parser)
    return parser


def run_fit(args, keras):
    """`--fit`: one epoch of fit (seconds, median and IQR of the rounds) and the overhead ratios."""
    times = fit_bench.epoch_times(args.fit_samples, args.fit_units, 64, args.repeats, args.fit_loop, keras,
                                  args.fit_clock)
    print(f"one epoch of fit, {args.fit_samples} samples of 28x28, LSTM({args.fit_units}) -> Dense(10), batch 64, "
          f"median of {args.repeats} interleaved rounds ({args.fit_clock} clock)")
    print("\n".join(fit_bench.epoch_lines(times)), flush=True)
    epoch_rows = []
    for name, samples in times.items():
        median, iqr = summarize(samples)
        epoch_rows.append({"model": name, "median_s": median, "iqr_s": iqr, "samples_s": samples})
    overhead_rows = []
    for model in args.fit_models:
        result = fit_bench.overhead(model, args.fit_batches, args.repeats, args.fit_clock)
        print(fit_bench.overhead_line(model, result), flush=True)
        overhead_rows.append({"model": model, "loop_ms": result["loop"], "fit_ms": result["fit"],
                              "ratio": result["ratio"]})
    return epoch_rows, overhead_rows


def fit_markdown_table(rows):
    ours = {row["model"].split()[-1]: row["median_s"] for row in rows if row["model"].startswith("ours")}
    lines = ["| model | seconds per epoch (median) | IQR | over ours (same path) |", "|---|---|---|---|"]
    for row in rows:
        mine = ours.get(row["model"].split()[-1], ours.get("fused"))
        share = 100.0 * row["iqr_s"] / row["median_s"] if row["median_s"] else float("nan")
        lines.append(f"| {row['model']} | {row['median_s']:.3f} | {share:.1f}% | "
                     f"{ratio_text(row['median_s'], mine)} |")
    return "\n".join(lines)


def fit_overhead_markdown_table(rows):
    lines = ["| model | hand-written loop (ms/batch) | model.fit (ms/batch) | fit / loop |", "|---|---|---|---|"]
    lines += [f"| {row['model']} | {ms_text(row['loop_ms'])} | {ms_text(row['fit_ms'])} | {row['ratio']:.3f} |"
              for row in rows]
    return "\n".join(lines)


def write_markdown(report, path):
    sections = [("rows", "Ours against torch.nn and Keras 3", markdown_table),
                ("no_bias_rows", "use_bias=False", no_bias_markdown_table),
                ("mask_rows", "Mask patterns", masks_markdown_table),
                ("decode_rows", "One-step decoding with states", decode_markdown_table),
                ("tutorial_rows", "The PyTorch seq2seq tutorial's decoder", tutorial_markdown_table),
                ("last_state_rows", "Last states of right-padded rows", last_state_markdown_table),
                ("loop_rows", "Loop-only configurations", loop_markdown_table),
                ("memory_rows", "Peak memory, forward+backward", memory_markdown_table),
                ("functional_rows", "kr.Model against a hand-written forward", functional_markdown_table),
                ("fit_rows", "One epoch of fit", fit_markdown_table),
                ("fit_overhead_rows", "fit's per-batch cost over a hand-written loop", fit_overhead_markdown_table)]
    parts = [f"> {warning}" for warning in report.get("warnings", [])]
    parts += [f"#### {title}\n\n{table(report[key])}" for key, title, table in sections if report.get(key)]
    with open(path, "w") as f:
        f.write("\n\n".join(parts) + "\n")


def main(argv=None, prog=None):
    args = build_parser(prog).parse_args(argv)
    if args.peers:   # its own processes, one per framework and round (benchmarks/peers.py)
        return peers.run(args)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    cores = os.cpu_count()
    load_before = machine_load()
    warnings = [w for w in [busy_warning(load_before, cores, "before the run")] if w]
    for warning in warnings:
        print(warning, flush=True)

    keras = None if args.no_keras else try_keras()
    device = torch.device(args.device)
    print(f"device: {machine_description(device)}; torch {torch.__version__}; "
          f"keras {keras.__version__ if keras else 'not used'}; medians and interquartile ranges (IQR, % of the "
          f"median) of {args.repeats} repeats, each the mean of calls lasting at least {args.min_sample_ms:g} ms "
          f"(ms per call)")
    report = {"device": machine_description(device), "torch": torch.__version__, "kerasrnn_torch": __version__,
              "keras": keras.__version__ if keras else None, "repeats": args.repeats,
              "min_sample_ms": args.min_sample_ms, "rows": []}
    if not args.skip_matrix:
        report["rows"] = run_matrix(args, keras)
    if args.no_bias:
        report["no_bias_rows"] = run_no_bias(args, keras)
    if args.masks:
        report["mask_rows"] = run_masks(args, keras)
    if args.decode:
        report["decode_rows"] = run_decode(args)
    if args.tutorial:
        report["tutorial_rows"] = run_tutorial(args)
    if args.last_state:
        report["last_state_rows"] = run_last_state(args)
    if args.kernel_check:
        report["kernel_rows"] = run_kernel_check(args)
    if args.loop_configs:
        report["loop_rows"] = run_loop_configs(args, keras)
    if args.memory:
        report["memory_rows"] = run_memory(args)
    if args.functional:
        report["functional_rows"] = run_functional(args)
    if args.fit:
        report["fit_rows"], report["fit_overhead_rows"] = run_fit(args, keras)
    if args.train_mnist:
        report["train_mnist"] = train_mnist_rows(args)

    load_after = machine_load()
    after = busy_warning(load_after, cores, "after the run")
    if after:
        print(after, flush=True)
        warnings.append(after)
    report["load"] = {"cores": cores, "before": load_before, "after": load_after}
    report["warnings"] = warnings
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    if args.markdown:
        write_markdown(report, args.markdown)
    if args.plot and report["rows"]:
        plot(report["rows"], args.plot)
    return report


if __name__ == "__main__":
    main()
