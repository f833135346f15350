"""`bench --peers` worker: the machine's single-core matmul throughput on each case's own products.

Times, with torch on one thread, exactly the matrix products of the case's forward step: the input
projection of all timesteps, (batch * timesteps, features) @ (features, gates * units), one
recurrent product (batch, units) @ (units, gates * units) per timestep and the Dense(10). That
time is the floor of a forward step (a training step's floor is taken as 3 times it: the backward
pass does two products for each forward one); its FLOPs over that time is the GFLOP/s reported."""
from __future__ import annotations

from typing import Any

REQUIRES = ("torch",)
GATES = {"LSTM": 4, "GRU": 3}


def setup() -> dict[str, str]:
    import torch

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    return {"torch": torch.__version__}


def build(case: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    import torch

    batch, timesteps, features, units = case["batch"], case["timesteps"], case["features"], case["units"]
    gates = GATES[case["layer"]]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(batch * timesteps, features, generator=generator)
    kernel = torch.randn(features, gates * units, generator=generator)
    recurrent = torch.randn(units, gates * units, generator=generator) / units
    dense = torch.randn(units, 10, generator=generator)
    h = torch.randn(batch, units, generator=generator)
    projected = torch.empty(batch * timesteps, gates * units)
    step_out = torch.empty(batch, gates * units)
    logits = torch.empty(batch, 10)

    def forward() -> None:
        with torch.no_grad():
            torch.mm(x, kernel, out=projected)
            for _ in range(timesteps):
                torch.mm(h, recurrent, out=step_out)
            torch.mm(h, dense, out=logits)

    return {"forward": forward}, lambda: {}
