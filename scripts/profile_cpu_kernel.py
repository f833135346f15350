"""Where a GRU call on the CPU kernel spends its time, layer by layer (issue 28's profiling).

Times, in CPU time per call (median of rounds, interleaved, one thread), for the `bench --peers` model
(Input -> GRU -> Dense(10)) at a size:

- "kernel":   the C++ forward alone (`cpu_kernel.module().forward`) on an already projected input;
- "node":     the autograd node (`native.run_steps`): the kernel plus its Python wrapper and copies;
- "layer":    `layer(x)` under `torch.no_grad()`: the node plus the layer's dispatch and projection;
- "model":    `model(x)` under `torch.no_grad()`;
- "predict":  `model.predict_on_batch(x)`;
- the same for training: "layer train" (`layer(x).sum().backward()`), "train" (`train_on_batch`).

With `--profile`, a torch.profiler table of the predict and training steps follows.

    python scripts/profile_cpu_kernel.py                       # GRU at the MNIST size
    python scripts/profile_cpu_kernel.py --size medium --layer lstm_hard_sigmoid --profile
    python scripts/profile_cpu_kernel.py --layer lstm --mask holes    # a Masking layer in front, as bench --peers
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine import cpu_kernel, native

SIZES = {"mnist": (64, 28, 28, 64), "medium": (32, 100, 64, 256), "tiny": (3, 4, 2, 3)}
LAYERS = {
    "gru": lambda u: kr.GRU(u),
    "lstm": lambda u: kr.LSTM(u),
    "gru_reset_before": lambda u: kr.GRU(u, reset_after=False),
    "gru_relu": lambda u: kr.GRU(u, activation="relu"),
    "lstm_hard_sigmoid": lambda u: kr.LSTM(u, recurrent_activation="hard_sigmoid"),
    "lstm_recurrent_dropout": lambda u: kr.LSTM(u, recurrent_dropout=0.1),
}


def per_call(fn, budget_s: float) -> float:
    """CPU ms per call, the mean over calls for at least `budget_s` of CPU time."""
    fn()
    calls, start = 0, time.process_time()
    while True:
        fn()
        calls += 1
        spent = time.process_time() - start
        if spent >= budget_s:
            return 1e3 * spent / calls


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Prints the table (and the profiles with --profile); returns the medians, CPU ms per call."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=SIZES, default="mnist")
    parser.add_argument("--layer", choices=LAYERS, default="gru")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--budget-ms", type=float, default=50.0, help="CPU time per variant and round")
    parser.add_argument("--profile", action="store_true", help="print torch.profiler tables too")
    parser.add_argument("--mask", choices=("none", "right-padded", "holes"), default="none",
                        help="masked steps as bench --peers makes them: zeros in x, a Masking layer in the model")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    batch, steps, features, units = SIZES[args.size]
    if cpu_kernel.module() is None:
        raise SystemExit(f"the CPU kernel is unavailable: {cpu_kernel.unavailable_reason()}")

    x = torch.randn(batch, steps, features)
    y = torch.randint(0, 10, (batch,))
    mask = None
    if args.mask == "holes":
        mask = torch.rand(batch, steps) > 0.2
    elif args.mask == "right-padded":
        mask = torch.arange(steps) < torch.randint(steps // 2, steps + 1, (batch, 1))
    if mask is not None:
        x = x * mask.unsqueeze(-1)
    step_mask = None if mask is None else mask.t().contiguous()
    inputs = kr.Input((steps, features))
    layer = LAYERS[args.layer](units)
    model = kr.Model(inputs, kr.layers.Dense(10)(layer(kr.layers.Masking()(inputs) if mask is not None else inputs)))
    model.compile(optimizer=kr.optimizers.SGD(0.01), loss=kr.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.predict_on_batch(x)
    model.train_on_batch(x, y)
    print("path:", layer.last_path)

    cell = layer.cell
    spec = cell.loop_spec()
    kind = spec.kind
    gates = {"lstm": 4, "gru": 3, "gru_reset_before": 3, "simple_rnn": 1}[kind]
    codes = (native.KIND_CODES[kind], native.ACTIVATION_CODES[spec.activation],
             native.ACTIVATION_CODES[spec.gate], False)
    with torch.no_grad():
        projected = torch.randn(steps, batch, gates * units)
        h0 = torch.zeros(batch, units)
        c0 = torch.zeros(batch, units) if kind == "lstm" else None
        kernel = cell.recurrent_kernel.detach()
        recurrent_bias = cell.bias[1].detach() if kind == "gru" and cell.bias is not None else None
    module = cpu_kernel.module()

    def kernel_only():
        module.forward(*codes, projected, step_mask, None, kernel, recurrent_bias, h0, c0, None, False)

    def node():
        with torch.no_grad():
            native.run_steps(codes, False, projected, step_mask, None, cell.recurrent_kernel, recurrent_bias, h0, c0)

    def layer_call():
        with torch.no_grad():
            layer(x, mask=mask)

    def model_call():
        with torch.no_grad():
            model(x)

    def predict():
        model.predict_on_batch(x)

    def layer_train():
        layer(x, mask=mask, training=True).sum().backward()

    def train():
        model.train_on_batch(x, y)

    variants = {"kernel": kernel_only, "node": node, "layer": layer_call, "model": model_call,
                "predict": predict, "layer train": layer_train, "train": train}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, fn in variants.items():
            times[name].append(per_call(fn, args.budget_ms / 1e3))
    print(f"{args.layer} at {args.size} {SIZES[args.size]}, mask {args.mask}: CPU ms per call, median of "
          f"{args.rounds} rounds")
    for name, values in times.items():
        print(f"  {name:12s} {statistics.median(values):8.3f}   (min {min(values):.3f})")

    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        for name in ("predict", "train"):
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                for _ in range(20):
                    variants[name]()
            print(f"\n== {name} (20 calls)")
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
    return {name: statistics.median(values) for name, values in times.items()}


if __name__ == "__main__":
    main()
