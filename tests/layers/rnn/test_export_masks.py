"""torch.export and ONNX (dynamo) with masks, Embedding(mask_zero=True) and a dynamic time axis.

A masked call, and any call whose time axis is dynamic, traces the cell loop; the loop is traced as one
`scan` over time, so the exported graph takes any number of timesteps.
"""
import numpy as np
import onnxruntime
import pytest
import torch
from torch.export import Dim, export

import kerasrnn_torch as kr
from kerasrnn_torch.layers.rnn.engine.dispatch import EXPORT_MASK_REASON, EXPORT_TIME_REASON
from reference import assert_close

# torch-internal warnings raised while exporting (errors in this suite); see tests/layers/rnn/test_onnx.py.
EXPORT_WARNINGS = [
    pytest.mark.filterwarnings(r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf Tensor:UserWarning"),
    pytest.mark.filterwarnings("ignore:_check_is_size will be removed:FutureWarning"),
]
BATCH = Dim("batch", min=2, max=64)


def randomize(module, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.rand(parameter.shape, generator=generator) - 0.5)
    return module


class MaskedStack(torch.nn.Module):
    """An LSTM and a Bidirectional GRU given a mask of any pattern, as a user's module would."""

    def __init__(self):
        super().__init__()
        self.lstm = kr.LSTM(5, return_sequences=True, input_shape=(6, 3))
        self.both = kr.Bidirectional(kr.GRU(4), input_shape=(6, 5))

    def forward(self, x, mask):
        return self.both(self.lstm(x, mask=mask), mask=mask)


def masks(batch, seed):
    mask = torch.rand(batch, 6, generator=torch.Generator().manual_seed(seed)) > 0.4
    mask[:, 0] = True
    return mask


def ids(batch, seed):
    tokens = torch.randint(1, 20, (batch, 6), generator=torch.Generator().manual_seed(seed))
    lengths = torch.randint(1, 7, (batch,), generator=torch.Generator().manual_seed(seed + 1))
    return tokens.masked_fill(torch.arange(6) >= lengths[:, None], 0)


def mask_zero_model():
    return randomize(kr.Sequential([kr.Input((6,), dtype=torch.long), kr.Embedding(20, 3, mask_zero=True),
                                    kr.LSTM(5, return_sequences=True), kr.GRU(4), kr.Dense(2)])).eval()


def apply_marks(function):
    for mark in EXPORT_WARNINGS:
        function = mark(function)
    return function


@apply_marks
def test_a_masked_module_exports_with_a_dynamic_batch_and_eager_numbers():
    model = randomize(MaskedStack()).eval()
    x, mask = torch.randn(3, 6, 3), masks(3, 0)
    program = export(model, (x, mask), dynamic_shapes={"x": {0: BATCH}, "mask": {0: BATCH}})
    assert model.lstm.dispatch_reason() is None      # eager calls run fused; the exported graph has the loop
    for batch, seed in ((3, 0), (7, 1)):
        x, mask = torch.randn(batch, 6, 3), masks(batch, seed)
        with torch.no_grad():
            expected = model(x, mask)
        assert model.lstm.last_path == "fused"
        assert_close(program.module()(x, mask), expected, 1e-5, f"exported, batch {batch}")


@apply_marks
def test_embedding_mask_zero_exports():
    model = mask_zero_model()
    program = export(model, (ids(3, 0),), dynamic_shapes=({0: BATCH},))
    for batch, seed in ((3, 0), (9, 2)):
        tokens = ids(batch, seed)
        with torch.no_grad():
            assert_close(program.module()(tokens), model(tokens), 1e-5, f"exported, batch {batch}")


@apply_marks
def test_embedding_mask_zero_model_runs_in_onnxruntime(tmp_path):
    model = mask_zero_model()
    path = tmp_path / "masked.onnx"
    torch.onnx.export(model, (ids(3, 0),), path, dynamo=True, input_names=["ids"], output_names=["outputs"],
                      dynamic_shapes=({0: BATCH},))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch, seed in ((3, 0), (6, 3)):
        tokens = ids(batch, seed)
        (output,) = session.run(None, {"ids": tokens.numpy()})
        with torch.no_grad():
            assert_close(output, model(tokens), 1e-5, f"onnxruntime, batch {batch}")
        assert np.isfinite(output).all()


@apply_marks
def test_a_required_fused_kernel_refuses_a_masked_export_by_name():
    model = randomize(MaskedStack()).eval()
    model.lstm.use_cudnn = True
    with pytest.raises(ValueError, match="fused kernel was required") as caught:
        export(model, (torch.randn(3, 6, 3), masks(3, 0)))
    assert EXPORT_MASK_REASON in str(caught.value)


# ---------------------------------------------------------------- a dynamic time axis: the loop as a scan
TIME = Dim("time", min=2, max=256)


class CountingCell(torch.nn.Module):
    """A custom cell with two states, one passed through unchanged, and an output that is not a state."""

    def __init__(self, units=3):
        super().__init__()
        self.state_size = [units, units]
        self.output_size = units + 1
        self.kernel = torch.nn.Parameter(torch.rand(2, units) - 0.5)

    def forward(self, inputs, states):
        h, kept = states
        new_h = torch.tanh(inputs @ self.kernel + h)
        return torch.cat([new_h, new_h.sum(-1, keepdim=True)], -1), [new_h, kept]


def one_layer(layer):
    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x, mask):
            return self.layer(x, mask=mask)
    return Wrapped()


TIME_CASES = {
    "lstm masked": lambda: kr.LSTM(5, return_sequences=True, input_shape=(None, 2)),
    "lstm masked return_state go_backwards": lambda: kr.LSTM(4, return_state=True, go_backwards=True,
                                                              input_shape=(None, 2)),
    "gru reset_after=False zero_output_for_mask": lambda: kr.GRU(
        4, reset_after=False, return_sequences=True, zero_output_for_mask=True, input_shape=(None, 2)),
    "simple_rnn hard_sigmoid": lambda: kr.SimpleRNN(3, activation="hard_sigmoid", return_state=True,
                                                    input_shape=(None, 2)),
    "bidirectional lstm": lambda: kr.Bidirectional(kr.LSTM(3, return_sequences=True), input_shape=(None, 2)),
    "stacked cells": lambda: kr.RNN([kr.LSTMCell(3), kr.GRUCell(4)], return_sequences=True, return_state=True,
                                    input_shape=(None, 2)),
    "custom cell": lambda: kr.RNN(CountingCell(), return_sequences=True, return_state=True),
}


def export_with_time(model, x, mask):
    return export(model, (x, mask), dynamic_shapes={"x": {0: BATCH, 1: TIME}, "mask": {0: BATCH, 1: TIME}})


def time_masks(batch, timesteps, seed):
    mask = torch.rand(batch, timesteps, generator=torch.Generator().manual_seed(seed)) > 0.4
    mask[0] = False                 # a fully masked row
    mask[1] = False
    mask[1, -1] = True              # a row with one used step, the last
    return mask


@apply_marks
@pytest.mark.parametrize("case", list(TIME_CASES))
def test_a_masked_loop_exports_with_dynamic_batch_and_timesteps(case):
    layer = TIME_CASES[case]()
    model = randomize(one_layer(layer)).eval()
    x = torch.randn(3, 6, 2)
    with torch.no_grad():
        model(x, time_masks(3, 6, 0))           # builds the custom cell's layer
    randomize(model)
    program = export_with_time(model, torch.randn(3, 6, 2), time_masks(3, 6, 0))
    for batch, timesteps, seed in ((3, 6, 1), (5, 17, 2), (2, 40, 3)):
        x, mask = torch.randn(batch, timesteps, 2), time_masks(batch, timesteps, seed)
        x[~mask] = float("nan")                 # padding holds anything
        with torch.no_grad():
            expected, exported = model(x, mask), program.module()(x, mask)
        expected, exported = torch.utils._pytree.tree_leaves(expected), torch.utils._pytree.tree_leaves(exported)
        assert len(exported) == len(expected)
        for index, (got, want) in enumerate(zip(exported, expected)):
            assert_close(got, want, 1e-5, f"{case}, batch {batch}, {timesteps} steps, result {index}")


@apply_marks
@pytest.mark.parametrize("case", ["lstm masked", "simple_rnn hard_sigmoid"])
def test_an_unmasked_loop_exports_with_dynamic_timesteps(case):
    layer = TIME_CASES[case]()
    layer.use_cudnn = False
    model = randomize(one_layer(layer)).eval()

    class NoMask(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, x):
            return self.inner.layer(x)
    program = export(NoMask(), (torch.randn(3, 6, 2),), dynamic_shapes=({0: BATCH, 1: TIME},))
    for batch, timesteps in ((4, 9), (2, 33)):
        x = torch.randn(batch, timesteps, 2)
        with torch.no_grad():
            assert_close(program.module()(x), layer(x), 1e-5, f"{case}, {timesteps} steps")
        assert layer.last_path == "loop"


@apply_marks
def test_the_exported_graph_holds_one_step_not_one_per_timestep():
    model = randomize(one_layer(kr.GRU(4, input_shape=(None, 2)))).eval()
    short = export_with_time(model, torch.randn(3, 4, 2), time_masks(3, 4, 0))
    long = export_with_time(model, torch.randn(3, 30, 2), time_masks(3, 30, 0))
    assert len(short.graph.nodes) == len(long.graph.nodes)
    assert any("scan" in str(node.target) for node in long.graph.nodes)


@apply_marks
@pytest.mark.parametrize("bounded", [True, False], ids=["bounded dims", "unbounded dims"])
def test_embedding_mask_zero_model_with_dynamic_timesteps_runs_in_onnxruntime(tmp_path, bounded):
    """Unbounded dims (`Dim("batch")`, as users write them) failed in torch.onnx's decomposition of the loop's
    scan while the steps cut their gate blocks by slicing."""
    model = randomize(kr.Sequential([kr.Input((None,), dtype=torch.long), kr.Embedding(20, 3, mask_zero=True),
                                     kr.LSTM(5, return_sequences=True),
                                     kr.GRU(4, reset_after=False, return_sequences=True),
                                     kr.Bidirectional(kr.GRU(4)), kr.Dense(2)])).eval()
    path = tmp_path / "masked_time.onnx"
    dims = {0: BATCH, 1: TIME} if bounded else {0: Dim("batch"), 1: Dim("time")}
    torch.onnx.export(model, (ids(3, 0),), path, dynamo=True, input_names=["ids"], output_names=["outputs"],
                      dynamic_shapes=(dims,))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for batch, timesteps, seed in ((3, 6, 0), (6, 11, 3), (2, 25, 4)):
        generator = torch.Generator().manual_seed(seed)
        tokens = torch.randint(1, 20, (batch, timesteps), generator=generator)
        lengths = torch.randint(1, timesteps + 1, (batch,), generator=generator)
        tokens = tokens.masked_fill(torch.arange(timesteps) >= lengths[:, None], 0)
        (output,) = session.run(None, {"ids": tokens.numpy()})
        with torch.no_grad():
            assert_close(output, model(tokens), 1e-5, f"onnxruntime, batch {batch}, {timesteps} steps")


def unmasked(layer):
    class Plain(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            return self.layer(x)
    return Plain()


@apply_marks
@pytest.mark.parametrize("make", [lambda: kr.LSTM(4, return_sequences=True, input_shape=(None, 2)),
                                  lambda: kr.Bidirectional(kr.GRU(3, return_state=True), input_shape=(None, 2)),
                                  lambda: kr.SimpleRNN(3, go_backwards=True, input_shape=(None, 2))],
                         ids=["lstm", "bidirectional gru return_state", "simple_rnn go_backwards"])
def test_a_fused_layer_exports_with_dynamic_timesteps_through_the_loop(make):
    """torch.nn's own layers cannot export a dynamic time axis (their kernel's exported form unrolls it)."""
    layer = randomize(make()).eval()
    program = export(unmasked(layer), (torch.randn(3, 6, 2),), dynamic_shapes=({0: BATCH, 1: TIME},))
    for batch, timesteps in ((3, 6), (4, 19), (2, 50)):
        x = torch.randn(batch, timesteps, 2)
        with torch.no_grad():
            expected, exported = torch.utils._pytree.tree_leaves(layer(x)), \
                torch.utils._pytree.tree_leaves(program.module()(x))
        inner = layer.forward_layer if isinstance(layer, kr.Bidirectional) else layer
        assert inner.last_path == "fused"       # eager calls stay on the kernel
        for got, want in zip(exported, expected, strict=True):
            assert_close(got, want, 1e-5, f"{timesteps} steps")


@apply_marks
def test_a_fixed_time_axis_still_exports_the_fused_kernel():
    layer = randomize(kr.LSTM(4, input_shape=(6, 2))).eval()
    program = export(unmasked(layer), (torch.randn(3, 6, 2),), dynamic_shapes=({0: BATCH},))
    targets = {str(node.target) for node in program.graph.nodes}
    assert any("lstm" in target for target in targets) and not any("scan" in target for target in targets)


@apply_marks
def test_a_required_fused_kernel_refuses_a_dynamic_time_axis_by_name():
    layer = randomize(kr.GRU(4, input_shape=(None, 2), use_cudnn=True)).eval()
    with pytest.raises(ValueError, match="fused kernel was required") as caught:
        export(unmasked(layer), (torch.randn(3, 6, 2),), dynamic_shapes=({0: BATCH, 1: TIME},))
    assert EXPORT_TIME_REASON in str(caught.value)


@apply_marks
@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("grad", [False, True], ids=["no grad", "grad"])
def test_a_decoding_step_with_initial_state_exports_with_a_dynamic_batch(kind, grad):
    """The initial_state check formatted the expected shapes eagerly, which fixed a symbolic batch size."""
    layer = randomize({"lstm": kr.LSTM, "gru": kr.GRU}[kind](6, return_state=True, input_dim=4)).eval()
    count = 2 if kind == "lstm" else 1

    class Step(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x, states):
            return self.layer(x, initial_state=list(states))
    states = tuple(torch.randn(3, 6) for _ in range(count))
    with torch.set_grad_enabled(grad):
        program = export(Step(), (torch.randn(3, 1, 4), states),
                         dynamic_shapes=({0: BATCH}, tuple({0: BATCH} for _ in range(count))))
    for batch in (2, 40):
        x, states = torch.randn(batch, 1, 4), tuple(torch.randn(batch, 6) for _ in range(count))
        with torch.no_grad():
            for got, want in zip(program.module()(x, states), layer(x, initial_state=list(states)), strict=True):
                assert_close(got, want, 1e-5, f"{kind}, batch {batch}")
