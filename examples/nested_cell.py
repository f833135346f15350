"""The Keras RNN guide's NestedCell: nested inputs and nested states inside `kr.RNN`, trained a few steps.

The cell takes two inputs per step, `(batch, i1)` and `(batch, i2, i3)`, and
keeps two states, `(batch, unit_1)` and `(batch, unit_2, unit_3)`: each state
adds up its output over time. It is written as the Keras guide writes it
("Working with RNNs", section "RNNs with list/dict inputs, or nested inputs"),
on `kr.Layer`: `state_size`/`output_size` as lists, weights created in
`build` with `add_weight`, a `forward(inputs, states)` step. `kr.RNN` runs it
over time like any cell, taking the tuple `(x1, x2)` of sequences
`(batch, t, i1)` and `(batch, t, i2, i3)`; the model is then fitted to random
targets with mean squared error, as in the guide.

    python examples/nested_cell.py            # the guide's sizes
    python examples/nested_cell.py --quick    # smaller sizes, a few seconds
"""
from __future__ import annotations

import argparse
import sys

import torch
from torch import nn

import kerasrnn_torch as kr


class NestedCell(kr.Layer):
    """One step with inputs `[(batch, i1), (batch, i2, i3)]` and states `[(batch, unit_1), (batch, unit_2, unit_3)]`."""

    def __init__(self, unit_1: int, unit_2: int, unit_3: int, **kwargs):
        super().__init__(**kwargs)
        self.unit_1, self.unit_2, self.unit_3 = unit_1, unit_2, unit_3
        self.state_size = [unit_1, torch.Size([unit_2, unit_3])]
        self.output_size = [unit_1, torch.Size([unit_2, unit_3])]

    def build(self, input_shapes):
        # input_shapes is [(batch, i1), (batch, i2, i3)]: the per-step shapes of the two inputs.
        i1 = input_shapes[0][1]
        i2, i3 = input_shapes[1][1], input_shapes[1][2]
        self.add_weight("kernel_1", (i1, self.unit_1), "uniform")
        self.add_weight("kernel_2_3", (i2, i3, self.unit_2, self.unit_3), "uniform")
        self.built = True

    def forward(self, inputs, states):
        input_1, input_2 = inputs
        s1, s2 = states
        output_1 = input_1 @ self.kernel_1
        output_2_3 = torch.einsum("bij,ijkl->bkl", input_2, self.kernel_2_3)
        return (output_1, output_2_3), [s1 + output_1, s2 + output_2_3]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1, help="passes over the data (the guide: 1)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few seconds)")
    args = parser.parse_args(argv)
    # The guide's sizes; --quick scales every one down.
    unit_1, unit_2, unit_3, i1, i2, i3 = 10, 20, 30, 32, 64, 32
    batch_size, num_batches, timesteps = 64, 10, 50
    if args.quick:
        unit_1, unit_2, unit_3, i1, i2, i3 = 10, 4, 6, 16, 8, 8
        batch_size, num_batches, timesteps, args.epochs = 32, 8, 20, 3

    torch.manual_seed(0)
    cell = NestedCell(unit_1, unit_2, unit_3)
    layer = kr.RNN(cell)                 # return_sequences=False: the outputs of the last step
    generator = torch.Generator().manual_seed(0)
    count = batch_size * num_batches
    inputs_1 = torch.rand(count, timesteps, i1, generator=generator)
    inputs_2 = torch.rand(count, timesteps, i2, i3, generator=generator)
    targets_1 = torch.rand(count, unit_1, generator=generator)
    targets_2 = torch.rand(count, unit_2, unit_3, generator=generator)

    # The cell creates its weights at the first call (Keras's build): call once, then make the optimizer.
    with torch.no_grad():
        output_1, output_2_3 = layer((inputs_1[:2], inputs_2[:2]))
    print(f"inputs {tuple(inputs_1.shape)} and {tuple(inputs_2.shape)} -> outputs {tuple(output_1.shape)} and "
          f"{tuple(output_2_3.shape)}; the cell's weights: "
          f"{', '.join(f'{name} {tuple(w.shape)}' for name, w in cell.named_parameters())} "
          f"({cell.count_params():,} parameters)")

    # The states add up the outputs: with return_sequences and return_state, the last states are the sums.
    probe = kr.RNN(cell, return_sequences=True, return_state=True)
    with torch.no_grad():
        (sequence_1, sequence_2_3), state_1, state_2_3 = probe((inputs_1[:4], inputs_2[:4]))
    difference = max(float((state_1 - sequence_1.sum(1)).abs().max() / state_1.abs().max()),
                     float((state_2_3 - sequence_2_3.sum(1)).abs().max() / state_2_3.abs().max()))
    print(f"nested states {tuple(state_1.shape)} and {tuple(state_2_3.shape)} equal the summed outputs "
          f"(largest relative difference {difference:.1e}; path {probe.last_path!r})")

    optimizer = torch.optim.Adam(layer.parameters(), lr=1e-3)
    losses = []
    for epoch in range(1, args.epochs + 1):
        for start in range(0, count, batch_size):
            batch = slice(start, start + batch_size)
            optimizer.zero_grad()
            output_1, output_2_3 = layer((inputs_1[batch], inputs_2[batch]))
            loss = nn.functional.mse_loss(output_1, targets_1[batch]) + \
                nn.functional.mse_loss(output_2_3, targets_2[batch])     # Keras sums the per-output losses
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        print(f"epoch {epoch}/{args.epochs}: {num_batches} steps, mean squared error {losses[-1]:.4f}")
    print(f"trained {len(losses)} steps: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
