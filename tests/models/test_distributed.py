"""DistributedDataParallel on gloo, 2 CPU processes: the gradients of single-process training on the global batch.

The workers import only torch and kerasrnn_torch (not Keras) to start fast.
"""
import warnings

import pytest

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

import kerasrnn_torch as kr

WORLD_SIZE = 2
STEPS = 2
GLOBAL_BATCH = 4


def make_model(kind="sequential"):
    torch.manual_seed(0)
    layers = [
        kr.LSTM(5, return_sequences=True, stateful=True, input_shape=(6, 3)),   # each rank keeps its own states
        kr.Bidirectional(kr.GRU(4)),                         # one fused two-way kernel
        kr.Dense(2),
    ]
    if kind == "sequential":
        return kr.Sequential(layers)
    inputs = x = kr.Input(shape=(6, 3))
    for layer in layers:
        x = layer(x)
    return kr.Model(inputs, x)


def global_batches():
    generator = torch.Generator().manual_seed(1)
    return [torch.randn(GLOBAL_BATCH, 6, 3, generator=generator) for _ in range(STEPS)]


def train(model, batches, rows):
    """STEPS SGD steps on `batches[rows]`; returns each step's gradients and the stateful layer's states."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    gradients, states = [], []
    for batch in batches:
        optimizer.zero_grad()
        loss = model(batch[rows]).pow(2).mean()
        loss.backward()
        gradients.append([p.grad.clone() for p in model.parameters()])
        optimizer.step()
        states.append([s.clone() for s in stateful_layer(model).states])
    return gradients, states


def stateful_layer(model):
    model = model.module if isinstance(model, DistributedDataParallel) else model
    return next(layer for layer in model.layers if getattr(layer, "stateful", False))


def worker(rank, kind, store_path, results):
    warnings.simplefilter("error")                 # as in the test configuration, which workers do not inherit
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store_path}", rank=rank, world_size=WORLD_SIZE)
    try:
        # Default DDP settings: the stateful layer's states are not buffers, so DDP leaves each rank's alone.
        model = DistributedDataParallel(make_model(kind))
        share = GLOBAL_BATCH // WORLD_SIZE
        gradients, states = train(model, global_batches(), slice(rank * share, (rank + 1) * share))
        results[rank] = {"gradients": gradients, "states": states}
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_ddp_gradients_equal_single_process_training_on_the_global_batch(tmp_path, kind):
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(worker, args=(kind, str(tmp_path / "store"), results), nprocs=WORLD_SIZE, join=True)
        results = dict(results)
    expected_gradients, expected_states = train(make_model(kind), global_batches(), slice(None))
    share = GLOBAL_BATCH // WORLD_SIZE
    for rank in range(WORLD_SIZE):
        for step in range(STEPS):
            for got, expected in zip(results[rank]["gradients"][step], expected_gradients[step]):
                torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)
            rows = slice(rank * share, (rank + 1) * share)
            for got, expected in zip(results[rank]["states"][step], expected_states[step]):
                torch.testing.assert_close(got, expected[rows], atol=1e-6, rtol=1e-5)
    assert not torch.equal(results[0]["states"][-1][0], results[1]["states"][-1][0])
