"""Time torch.compile(model, fullgraph=True) against eager: compile time and steady-state speed.

Four models of built-in layers (a stacked LSTM/GRU Sequential, a Bidirectional LSTM over a masked
Embedding, a seq2seq encoder-decoder with Attention, a ConvLSTM2D model), each in a training step
(forward and backward) and in inference (no_grad, eval mode), on the path `--path` picks. Compile
time is the first compiled call (Inductor's caches off, so every run compiles from scratch);
steady-state times are medians over `--repeats` calls, eager and compiled interleaved. Prints a
Markdown table (for docs/benchmarks.md).

    python scripts/bench_compile.py [--repeats 20] [--batch 16] [--timesteps 20] [--units 32]
        [--models seq-lstm-gru,bidirectional-masked,seq2seq-attention,convlstm] [--path auto|loop] [--threads N]
        [--backend inductor]
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch
import torch._inductor.config

import kerasrnn_torch as kr

MODELS = ("seq-lstm-gru", "bidirectional-masked", "seq2seq-attention", "convlstm")


def build(name: str, batch: int, timesteps: int, units: int):
    """`(model, args)` for one of MODELS at the given sizes."""
    features = 16
    if name == "seq-lstm-gru":
        model = kr.Sequential([kr.Input((None, features)), kr.LSTM(units, return_sequences=True), kr.GRU(units),
                               kr.Dense(2)])
        return model, (torch.randn(batch, timesteps, features),)
    if name == "bidirectional-masked":
        model = kr.Sequential([kr.Input((None,), dtype="int32"), kr.Embedding(1000, features, mask_zero=True),
                               kr.Bidirectional(kr.LSTM(units)), kr.Dense(1)])
        ids = torch.randint(1, 1000, (batch, timesteps))
        lengths = torch.randint(1, timesteps + 1, (batch,))
        ids[torch.arange(timesteps).unsqueeze(0) >= lengths.unsqueeze(1)] = 0     # right padding
        return model, (ids,)
    if name == "seq2seq-attention":
        encoder_in = kr.Input((None, features))
        encoded, h, c = kr.LSTM(units, return_sequences=True, return_state=True)(encoder_in)
        decoder_in = kr.Input((None, features))
        decoded = kr.LSTM(units, return_sequences=True)(decoder_in, initial_state=[h, c])
        out = kr.Dense(8)(kr.Concatenate()([decoded, kr.Attention()([decoded, encoded])]))
        return kr.Model([encoder_in, decoder_in], out), (
            [torch.randn(batch, timesteps, features), torch.randn(batch, max(timesteps // 2, 1), features)],)
    if name == "convlstm":
        frames = max(timesteps // 4, 1)
        model = kr.Sequential([kr.Input((None, 16, 16, 3)), kr.ConvLSTM2D(8, 3, padding="same"), kr.Flatten(),
                               kr.Dense(1)])
        return model, (torch.randn(max(batch // 4, 1), frames, 16, 16, 3),)
    raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}")


def train_step(model, args):
    model.train()
    output = model(*args)
    output.float().sum().backward()


def inference(model, args):
    model.eval()
    with torch.no_grad():
        model(*args)


def measure(model, args, step, repeats: int, backend: str = "inductor") -> dict[str, float]:
    """Compile time and steady-state medians (ms) of `step` eagerly and compiled with fullgraph=True."""
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend=backend)
    step(model, args)                              # eager warm-up (weights built, caches filled)
    start = time.perf_counter()
    step(compiled, args)
    compile_s = time.perf_counter() - start
    step(compiled, args)
    eager_ms, compiled_ms = [], []
    for _ in range(repeats):
        for target, times in ((model, eager_ms), (compiled, compiled_ms)):
            start = time.perf_counter()
            step(target, args)
            times.append((time.perf_counter() - start) * 1e3)
    model.zero_grad(set_to_none=True)
    return {"compile_s": compile_s, "eager_ms": statistics.median(eager_ms),
            "compiled_ms": statistics.median(compiled_ms)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--timesteps", type=int, default=20)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--path", default="auto", choices=("auto", "fused", "loop"))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--backend", default="inductor", help="torch.compile's backend (aot_eager: no code generated)")
    options = parser.parse_args(argv)
    if options.threads:
        torch.set_num_threads(options.threads)
    results: dict = {}
    # Every run compiles from scratch (Inductor's cache off, for this run only).
    with torch._inductor.config.patch(fx_graph_cache=False), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        _run(options, results)
    return results


def _run(options, results: dict) -> None:
    print(f"path {options.path}, batch {options.batch}, timesteps {options.timesteps}, units {options.units}, "
          f"{torch.get_num_threads()} threads, torch {torch.__version__}\n")
    print("| model | mode | compile (s) | eager (ms) | compiled (ms) | eager / compiled |")
    print("|---|---|---|---|---|---|")
    for name in options.models.split(","):
        torch.manual_seed(0)
        model, args = build(name, options.batch, options.timesteps, options.units)
        with kr.force_path(options.path):
            for mode, step in (("train step", train_step), ("inference", inference)):
                row = measure(model, args, step, options.repeats, options.backend)
                results[name, mode] = row
                print(f"| {name} | {mode} | {row['compile_s']:.1f} | {row['eager_ms']:.2f} | "
                      f"{row['compiled_ms']:.2f} | {row['eager_ms'] / row['compiled_ms']:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
