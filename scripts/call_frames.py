"""How much of the package's Python one recurrent-layer call walks through.

For each case the call is made once to warm the caches, then once more under
`sys.setprofile`; only Python frames whose code lives inside the package count:

- frames: the package functions entered (each call a new frame, repeats counted);
- files: the distinct package files those frames belong to;
- switches: how often one package frame entered is in another file than the
  package frame entered before it (in call order; frames outside the package,
  such as torch's, are transparent).

    python scripts/call_frames.py            # a table
    python scripts/call_frames.py --json     # the numbers, for before/after comparisons
    python scripts/call_frames.py --frames   # also every frame, in order

Import `measure` (or `CASES`) to check a call from a test.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

import kerasrnn_torch as kr

PACKAGE_DIR = os.path.dirname(os.path.abspath(kr.__file__)) + os.sep


@dataclass
class Walk:
    """What one call walked through in the package."""
    frames: int
    files: int
    switches: int
    path: list[str] = field(default_factory=list)     # "file.py:function" per frame, in call order


def _short(code) -> str:
    return f"{os.path.relpath(code.co_filename, PACKAGE_DIR)}:{code.co_name}"


def measure(call: Callable[[], object], warm: int = 3) -> Walk:
    """Run `call` (after `warm` calls, which build the layer and fill its caches: the steady state) under a
    profiler and count the package frames it entered."""
    for _ in range(warm):
        call()
    filenames: list[str] = []
    path: list[str] = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(PACKAGE_DIR):
            filenames.append(frame.f_code.co_filename)
            path.append(_short(frame.f_code))

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    switches = sum(a != b for a, b in zip(filenames, filenames[1:]))
    return Walk(len(path), len(set(filenames)), switches, path)


def _holes_mask(batch: int, timesteps: int) -> torch.Tensor:
    mask = torch.ones(batch, timesteps, dtype=torch.bool)
    mask[0, 3] = mask[1, 5:7] = mask[2, 0] = False
    mask[3, 8:] = False
    return mask


def _cases() -> dict[str, Callable[[], Callable[[], object]]]:
    """Each case builds its layer and inputs and returns the call to measure."""
    torch.manual_seed(0)

    def masked_lstm(train: bool = False):
        """Training: gradients, the package's CPU kernel; else no gradients (a prediction) at a size where
        PyTorch's kernel runs it (native.SMALL_MASKED_FLOP, native.SMALL_LSTM_UNITS)."""
        def make():
            layer = kr.LSTM(16 if train else 256)
            layer.train(train)
            x, mask = (torch.randn(4, 10, 8), _holes_mask(4, 10)) if train else \
                (torch.randn(8, 100, 8), _holes_mask(8, 100))

            def call():
                with torch.set_grad_enabled(train):
                    return layer(x, mask=mask)
            return call
        return make

    def unmasked_lstm():
        layer = kr.LSTM(16)
        x = torch.randn(4, 10, 8)
        return lambda: layer(x)

    def gru():
        layer = kr.GRU(16, return_sequences=True)
        x = torch.randn(4, 10, 8)
        return lambda: layer(x)

    def loop_fallback():
        layer = kr.LSTM(16, recurrent_dropout=0.2)
        layer.train()
        x = torch.randn(4, 10, 8)
        return lambda: layer(x)

    def bidirectional_masked():
        layer = kr.Bidirectional(kr.LSTM(16, return_sequences=True))
        layer.eval()
        x, mask = torch.randn(4, 10, 8), _holes_mask(4, 10)
        return lambda: layer(x, mask=mask)

    return {
        "masked fused LSTM (predict: PyTorch's kernel)": masked_lstm(False),
        "masked fused LSTM (train: the CPU kernel)": masked_lstm(True),
        "unmasked fused LSTM": unmasked_lstm,
        "unmasked fused GRU, sequences": gru,
        "LSTM falling back to the loop (recurrent_dropout, training)": loop_fallback,
        "Bidirectional(LSTM), masked": bidirectional_masked,
    }


CASES = _cases()


def main(argv: list[str] | None = None) -> dict[str, Walk]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    parser.add_argument("--frames", action="store_true", help="also list every package frame entered")
    args = parser.parse_args(argv)
    walks = {name: measure(make()) for name, make in CASES.items()}
    if args.json:
        print(json.dumps({name: {k: v for k, v in asdict(walk).items() if k != "path" or args.frames}
                          for name, walk in walks.items()}, indent=1))
        return walks
    width = max(map(len, walks))
    print(f"{'call':<{width}}  frames  files  switches")
    for name, walk in walks.items():
        print(f"{name:<{width}}  {walk.frames:>6}  {walk.files:>5}  {walk.switches:>8}")
        if args.frames:
            for step in walk.path:
                print(f"    {step}")
    return walks


if __name__ == "__main__":
    main()
