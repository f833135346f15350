"""Time ConvLSTM2D forward+backward: kerasrnn_torch against Keras 3 on its torch backend.

The next-frame prediction size of issue 18: batch 8, 10 frames of 32x32x3,
32 filters, 3x3 kernel, padding "same", return_sequences=True. Both layers
hold the same weights; each repeat times one forward and backward pass of
each, interleaved (ours, Keras, ours, ...), so drifts in the machine's speed
hit both. Prints medians with their interquartile range and the per-repeat
speed-up, as a Markdown table (for docs/benchmarks.md).

    python scripts/bench_convlstm.py [--repeats 30] [--device cpu|cuda] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import kerasrnn_torch as kr  # noqa: E402

SIZE = {"batch": 8, "frames": 10, "height": 32, "width": 32, "channels": 3, "filters": 32, "kernel_size": 3}


def quartiles(values):
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return float(median), float(q1), float(q3)


def timed(function, device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    function()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def make_pair(device):
    shape = (SIZE["batch"], SIZE["frames"], SIZE["height"], SIZE["width"], SIZE["channels"])
    options = {"padding": "same", "return_sequences": True}
    keras_layer = keras.layers.ConvLSTM2D(SIZE["filters"], SIZE["kernel_size"], **options)
    keras_layer.build(shape)
    ours = kr.ConvLSTM2D(SIZE["filters"], SIZE["kernel_size"], **options).to(device)
    ours.build((None, *shape[1:]))
    ours.set_weights(keras_layer.get_weights())
    return ours, keras_layer, shape


def run(repeats: int, device: torch.device, warmup: int = 3):
    ours, keras_layer, shape = make_pair(device)
    x = torch.randn(shape, device=device)

    def step_ours():
        x_ = x.clone().requires_grad_(True)
        ours(x_).sum().backward()

    def step_keras():
        x_ = x.clone().requires_grad_(True)
        keras_layer(x_, training=True).sum().backward()

    with torch.no_grad():
        assert float((ours(x) - keras_layer(x)).abs().max()) < 1e-4     # the same layer, the same numbers
    for _ in range(warmup):
        step_ours()
        step_keras()
    ours_times, keras_times = [], []
    for _ in range(repeats):
        ours_times.append(timed(step_ours, device))
        keras_times.append(timed(step_keras, device))
    ratios = [k / o for o, k in zip(ours_times, keras_times)]
    return ours_times, keras_times, ratios


def table(device, threads, repeats, ours_times, keras_times, ratios) -> str:
    o, k, r = quartiles(ours_times), quartiles(keras_times), quartiles(ratios)
    where = f"{device.type}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else
                                f", {threads} threads")
    return "\n".join([
        f"ConvLSTM2D, batch {SIZE['batch']}, {SIZE['frames']} frames {SIZE['height']}x{SIZE['width']}x"
        f"{SIZE['channels']} -> {SIZE['filters']} filters, {SIZE['kernel_size']}x{SIZE['kernel_size']}, \"same\", "
        f"return_sequences; forward+backward; {where}; torch {torch.__version__}, keras {keras.__version__}; "
        f"{repeats} interleaved repeats, median [interquartile range]:",
        "",
        "| | ms per forward+backward | speed-up over Keras |",
        "| --- | --- | --- |",
        f"| kerasrnn_torch | {o[0] * 1e3:.1f} [{o[1] * 1e3:.1f}, {o[2] * 1e3:.1f}] | "
        f"{r[0]:.2f}x [{r[1]:.2f}, {r[2]:.2f}] |",
        f"| Keras 3 (torch backend) | {k[0] * 1e3:.1f} [{k[1] * 1e3:.1f}, {k[2] * 1e3:.1f}] | 1 |",
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.set_default_device(device)       # Keras's torch backend makes its weights on the default device
    print(table(device, torch.get_num_threads(), args.repeats, *run(args.repeats, device)))


if __name__ == "__main__":
    main()
