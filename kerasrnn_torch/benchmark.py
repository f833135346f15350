"""Benchmark kerasrnn_torch against raw torch.nn and Keras 3 (torch backend), side by side.

Every implementation of a case is timed in the same run, interleaved repeat by
repeat (so machine noise hits all of them alike), and the table reports
medians and ratios. Nothing here asserts a speed: the numbers are for people.

    python scripts/benchmark.py                      # MNIST-rows shape, CPU
    python scripts/benchmark.py --sizes all --json bench.json --plot bench.png
    python scripts/benchmark.py --train-mnist        # the seed's one-epoch experiment

(`python -m kerasrnn_torch bench` runs the same code.)
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

import kerasrnn_torch as kr  # noqa: E402

SIZES = {  # name: (batch, timesteps, features, units)
    "mnist": (64, 28, 28, 64),
    "medium": (32, 100, 128, 256),
    "long": (16, 500, 32, 64),
}
OURS = {"lstm": kr.LSTM, "gru": kr.GRU, "simple_rnn": kr.SimpleRNN}
TORCH = {"lstm": nn.LSTM, "gru": nn.GRU, "simple_rnn": nn.RNN}
KERAS_NAMES = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}


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


class TorchReference(nn.Module):
    """Raw torch.nn with packing for masks: what a careful PyTorch user writes."""

    def __init__(self, layer_name, features, units, bidirectional=False):
        super().__init__()
        self.rnn = TORCH[layer_name](features, units, batch_first=True, bidirectional=bidirectional)

    def forward(self, x, lengths=None):
        if lengths is None:
            return self.rnn(x)[0]
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(self.rnn(packed)[0], batch_first=True, total_length=x.shape[1])[0]


def build_case(layer_name, size, masked, device, keras, with_packed=False):
    """The callables to time for one case: name -> function(backward: bool).

    `with_packed` adds two for a masked case: "ours packed", the fused path
    with `pack_on_cpu = True` (PyTorch's packed kernel rather than the whole
    batch), and "torch.nn unpacked", torch.nn's kernel run on the padded batch
    whole as ours runs it on the CPU (a memory reference: it ignores the mask).
    """
    batch, timesteps, features, units = SIZES[size]
    bidirectional = layer_name.startswith("bi_")
    base = layer_name[3:] if bidirectional else layer_name
    x = torch.randn(batch, timesteps, features, device=device)
    mask, lengths = right_padded_mask(batch, timesteps, device) if masked else (None, None)

    def ours_layer(use_cudnn):
        # use_cudnn=True requires the fused path (an error otherwise) and False the loop, with no
        # per-call context manager inside the timed region.
        inner = OURS[base](units, return_sequences=True, input_dim=features, device=device, use_cudnn=use_cudnn)
        return kr.Bidirectional(inner) if bidirectional else inner

    fused_layer = ours_layer(True).to(device)
    loop_layer = ours_layer(False).to(device)
    reference = TorchReference(base, features, units, bidirectional).to(device)

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

    impls = {"torch.nn": timed(lambda xi: reference(xi, lengths)), "ours fused": timed(run_fused),
             "ours loop": timed(run_loop)}
    if with_packed and masked:
        packed_layer = ours_layer(True).to(device)
        packed_layer.pack_on_cpu = True

        def run_packed(xi):
            return packed_layer(xi, mask=mask)
        impls["ours packed"] = timed(run_packed)
        impls["torch.nn unpacked"] = timed(lambda xi: reference(xi))
    if keras is not None:
        klayer = getattr(keras.layers, KERAS_NAMES[base])(units, return_sequences=True)
        if bidirectional:
            klayer = keras.layers.Bidirectional(klayer)
        klayer.build((batch, timesteps, features))
        impls["keras 3"] = timed(lambda xi: klayer(xi, mask=mask))
    return impls


# Configurations that keep a layer on the loop path: ours vs Keras 3 running the same one.
LOOP_CONFIGS = {
    "lstm recurrent_dropout": ("lstm", {"recurrent_dropout": 0.2}, True),
    "lstm relu": ("lstm", {"activation": "relu"}, False),
    "gru reset_after=False": ("gru", {"reset_after": False}, False),
    "simple_rnn hard_sigmoid": ("simple_rnn", {"activation": "hard_sigmoid"}, False),
}


def build_loop_case(config_name, size, masked, device, keras, compile_loop=False):
    base, kwargs, training = LOOP_CONFIGS[config_name]
    batch, timesteps, features, units = SIZES[size]
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
    sizes = list(SIZES) if args.sizes == "all" else args.sizes.split(",")
    for size in sizes:
        for config_name in LOOP_CONFIGS:
            for masked in (False, True):
                impls = build_loop_case(config_name, size, masked, device, keras, args.compile_loop)
                for backward in (False, True):
                    medians = measure(impls, backward, args.repeats, args.warmup, device, args.min_sample_ms)
                    row = {"size": size, "config": config_name, "mask": "right-padded" if masked else "none",
                           "mode": "fwd+bwd" if backward else "fwd", "ms": medians}
                    rows.append(row)
                    ms = medians
                    print(f"{size:7s} {config_name:24s} {row['mask']:12s} {row['mode']:7s} | "
                          + "  ".join(f"{n} {v:8.2f}" for n, v in ms.items())
                          + f" | keras/ours {ratio(ms.get('keras 3'), ms['ours loop']):5.2f}x", flush=True)
    return rows


def loop_markdown_table(rows):
    lines = ["| size | configuration | mask | mode | ours loop (ms) | keras 3 (ms) | keras 3 / ours |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        ms = row["ms"]
        keras_ms = ms.get("keras 3")
        lines.append(f"| {row['size']} | {row['config']} | {row['mask']} | {row['mode']} | {ms['ours loop']:.2f} | "
                     f"{'' if keras_ms is None else f'{keras_ms:.2f}'} | {ratio(keras_ms, ms['ours loop']):.2f}x |")
    return "\n".join(lines)


def measure(impls, backward, repeats, warmup, device, min_sample_ms=20.0):
    """Median milliseconds per call of each implementation, interleaved repeat by repeat.

    Each repeat of an implementation times enough back-to-back calls to last
    about `min_sample_ms` (sized once from a timed warm-up call) and keeps
    their mean: single calls of a millisecond are too noisy to compare at 5%.
    """
    times = {name: [] for name in impls}
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
    return {name: statistics.median(values) for name, values in times.items()}


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
    for layer_name in args.layers.split(","):
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
    sizes = list(SIZES) if args.sizes == "all" else args.sizes.split(",")
    for size in sizes:
        for layer_name in args.layers.split(","):
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
    encoder = kr.LSTM(units, return_sequences=True, return_state=True)
    decoder = kr.LSTM(units, return_sequences=True, return_state=True)
    attention, concatenate = kr.Attention(), kr.Concatenate()
    dense = kr.Dense(target_features, activation="softmax")
    source, target = kr.Input(shape=(None, source_features)), kr.Input(shape=(None, target_features))
    encoded, h, c = encoder(source)
    decoded, _, _ = decoder(target, initial_state=[h, c])
    outputs = dense(concatenate([decoded, attention([decoded, encoded])]))
    return kr.Model([source, target], outputs), HandWrittenSeq2Seq(encoder, decoder, attention, concatenate, dense)


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
            ms = measure({"kr.Model": timed(model), "hand-written": timed(hand_written)}, backward,
                         args.repeats, args.warmup, device, args.min_sample_ms)
            row = {"case": label, "backward": backward, "model_ms": ms["kr.Model"],
                   "hand_written_ms": ms["hand-written"], "ratio": ms["kr.Model"] / ms["hand-written"]}
            rows.append(row)
            print(f"functional seq2seq, {label:16s} {'fwd+bwd' if backward else 'forward'}: kr.Model "
                  f"{row['model_ms']:.3f} ms, hand-written {row['hand_written_ms']:.3f} ms, "
                  f"ratio {row['ratio']:.3f}x")
    return rows


def functional_markdown_table(rows):
    lines = ["| case | pass | kr.Model ms | hand-written ms | kr.Model / hand-written |", "|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['case']} | {'fwd+bwd' if row['backward'] else 'forward'} | {row['model_ms']:.3f} | "
                     f"{row['hand_written_ms']:.3f} | {row['ratio']:.3f}x |")
    return "\n".join(lines)


def run_matrix(args, keras):
    device = torch.device(args.device)
    rows = []
    layers = args.layers.split(",")
    sizes = list(SIZES) if args.sizes == "all" else args.sizes.split(",")
    for size in sizes:
        for layer_name in layers:
            for masked in (False, True):
                impls = build_case(layer_name, size, masked, device, keras if not args.no_keras else None)
                for backward in (False, True):
                    medians = measure(impls, backward, args.repeats, args.warmup, device, args.min_sample_ms)
                    row = {"size": size, "layer": layer_name, "mask": "right-padded" if masked else "none",
                           "mode": "fwd+bwd" if backward else "fwd", "ms": medians}
                    rows.append(row)
                    print(format_row(row), flush=True)
    return rows


def ratio(a, b):
    return a / b if a and b else float("nan")


def format_row(row):
    ms = row["ms"]
    cells = "  ".join(f"{name} {value:8.2f}" for name, value in ms.items())
    fused_vs_torch = ratio(ms["ours fused"], ms["torch.nn"])
    keras = f"  keras/loop {ratio(ms['keras 3'], ms['ours loop']):5.2f}x" if "keras 3" in ms else ""
    return (f"{row['size']:7s} {row['layer']:11s} {row['mask']:12s} {row['mode']:7s} | {cells} | "
            f"fused/torch.nn {fused_vs_torch:5.2f}x{keras}")


def markdown_table(rows):
    names = list(rows[0]["ms"])
    keras = "keras 3" in names                 # without Keras, no columns of its ratios
    header = "| size | layer | mask | mode | " + " | ".join(f"{n} (ms)" for n in names) + \
        " | fused / torch.nn |" + (" keras 3 / loop | keras 3 / fused |" if keras else "")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for row in rows:
        ms = row["ms"]
        lines.append(f"| {row['size']} | {row['layer']} | {row['mask']} | {row['mode']} | "
                     + " | ".join(f"{ms[n]:.2f}" for n in names)
                     + f" | {ratio(ms['ours fused'], ms['torch.nn']):.2f}x |"
                     + (f" {ratio(ms['keras 3'], ms['ours loop']):.2f}x"
                        f" | {ratio(ms['keras 3'], ms['ours fused']):.2f}x |" if keras else ""))
    return "\n".join(lines)


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
        model = kr.Sequential([kr.LSTM(64, input_shape=(28, 28)), kr.Dense(10)]).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        synchronize(device)
        start = time.perf_counter()
        with kr.force_path(path):
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


def main(argv=None, prog=None):
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="mnist", help="comma-separated of %s, or 'all'" % ",".join(SIZES))
    parser.add_argument("--layers", default="lstm,gru,simple_rnn,bi_lstm")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-sample-ms", type=float, default=20.0,
                        help="each repeat times back-to-back calls for at least this long (default 20)")
    parser.add_argument("--no-keras", action="store_true", help="leave Keras 3 out")
    parser.add_argument("--json", help="write the raw medians here")
    parser.add_argument("--plot", help="write a PNG of the fused/torch.nn ratios here (needs matplotlib)")
    parser.add_argument("--markdown", help="write the table as markdown here")
    parser.add_argument("--train-mnist", action="store_true", help="also run the one-epoch MNIST-rows experiment")
    parser.add_argument("--train-samples", type=int, default=60000)
    parser.add_argument("--data-dir", default=os.path.expanduser("~/.torchvision"))
    parser.add_argument("--skip-matrix", action="store_true")
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
    args = parser.parse_args(argv)

    keras = None if args.no_keras else try_keras()
    device = torch.device(args.device)
    print(f"device: {machine_description(device)}; torch {torch.__version__}; "
          f"keras {keras.__version__ if keras else 'not used'}; medians of {args.repeats} repeats, each the mean "
          f"of calls lasting at least {args.min_sample_ms:g} ms (ms per call)")
    report = {"device": machine_description(device), "torch": torch.__version__,
              "keras": keras.__version__ if keras else None, "rows": []}
    if not args.skip_matrix:
        report["rows"] = run_matrix(args, keras)
    if args.kernel_check:
        report["kernel_rows"] = run_kernel_check(args)
    if args.loop_configs:
        report["loop_rows"] = run_loop_configs(args, keras)
    if args.memory:
        report["memory_rows"] = run_memory(args)
    if args.functional:
        report["functional_rows"] = run_functional(args)
    if args.train_mnist:
        report["train_mnist"] = train_mnist_rows(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as f:
            if report["rows"]:
                f.write(markdown_table(report["rows"]) + "\n")
            if report.get("loop_rows"):
                f.write("\n" + loop_markdown_table(report["loop_rows"]) + "\n")
            if report.get("memory_rows"):
                f.write("\n" + memory_markdown_table(report["memory_rows"]) + "\n")
            if report.get("functional_rows"):
                f.write("\n" + functional_markdown_table(report["functional_rows"]) + "\n")
    if args.plot and report["rows"]:
        plot(report["rows"], args.plot)
    return report


if __name__ == "__main__":
    main()
