"""Three composite models export with a dynamic batch and time axis, through torch.export and ONNX.

The seq2seq encoder-decoder with Attention (functional API), a Bidirectional sentiment model over
`Embedding(mask_zero=True)`, and a ConvLSTM model: each is exported once, then run at two other
shapes, by the exported program and by onnxruntime, and compared with eager to 1e-5. An axis that a
layer's weights fix is refused by name instead of being exported at the example's size.
"""
import onnxruntime
import pytest
import torch
from torch.export import Dim

import kerasrnn_torch as kr
from reference import assert_close

pytestmark = [   # torch-internal warnings raised while exporting (errors in this suite)
    pytest.mark.filterwarnings(r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf Tensor:UserWarning"),
    pytest.mark.filterwarnings("ignore:_check_is_size will be removed:FutureWarning"),
]


def randomize(module, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.rand(parameter.shape, generator=generator) - 0.5)
    return module


def seq2seq():
    source, target = kr.Input((None, 4), name="source"), kr.Input((None, 3), name="target")
    encoded, h, c = kr.LSTM(8, return_sequences=True, return_state=True)(source)
    decoded = kr.LSTM(8, return_sequences=True)(target, initial_state=[h, c])
    outputs = kr.Dense(2)(kr.Attention()([decoded, encoded]))
    model = kr.Model([source, target], outputs)

    def inputs(batch, steps, generator):
        return torch.randn(batch, steps, 4, generator=generator), torch.randn(batch, steps - 2, 3, generator=generator)
    batch = Dim("batch", min=1, max=64)
    shapes = ({0: batch, 1: Dim("source_steps", min=4, max=64)}, {0: batch, 1: Dim("target_steps", min=2, max=64)})
    return model, inputs, shapes


def sentiment():
    model = kr.Sequential([kr.Input((None,), dtype="int64"), kr.Embedding(50, 8, mask_zero=True),
                           kr.Bidirectional(kr.LSTM(6)), kr.Dense(1, activation="sigmoid")])

    def inputs(batch, steps, generator):
        ids = torch.randint(1, 50, (batch, steps), generator=generator)
        lengths = torch.randint(1, steps + 1, (batch,), generator=generator)
        ids[torch.arange(steps) >= lengths[:, None]] = 0                 # padded at the end
        return (ids,)
    return model, inputs, ({0: Dim("batch", min=1, max=64), 1: Dim("steps", min=2, max=64)},)


def conv_lstm():
    model = kr.Sequential([kr.Input((None, 6, 6, 2)),
                           kr.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
                           kr.ConvLSTM2D(2, 3, padding="same"), kr.GlobalAveragePooling2D(), kr.Dense(2)])

    def inputs(batch, steps, generator):
        return (torch.randn(batch, steps, 6, 6, 2, generator=generator),)
    return model, inputs, ({0: Dim("batch", min=1, max=64), 1: Dim("steps", min=2, max=64)},)


def conv_lstm_1d():
    """ConvLSTM1D channels-last, an even kernel first (Keras pads one less on the left), then a GRU over the
    flattened frames: three scans, the recurrent convolution's weight a 1-D one while exported."""
    model = kr.Sequential([kr.Input((None, 6, 2)),
                           kr.ConvLSTM1D(3, 2, padding="same", return_sequences=True),
                           kr.ConvLSTM1D(2, 3, padding="same", return_sequences=True),
                           kr.Reshape((-1, 12)), kr.GRU(4), kr.Dense(2)])

    def inputs(batch, steps, generator):
        return (torch.randn(batch, steps, 6, 2, generator=generator),)
    return model, inputs, ({0: Dim("batch", min=1, max=64), 1: Dim("steps", min=2, max=64)},)


def conv_attention():
    """No recurrent layer: a convolution, pooling, a merge and self-attention, all over dynamic steps."""
    inputs_ = kr.Input((None, 3))
    features = kr.MaxPooling1D(2)(kr.Conv1D(6, 3, padding="same")(inputs_))
    joined = kr.Concatenate()([features, kr.Dense(2)(features)])
    attended = kr.MultiHeadAttention(num_heads=2, key_dim=4)(joined, joined)
    model = kr.Model(inputs_, kr.Dense(2)(kr.GlobalAveragePooling1D()(kr.Add()([joined, attended]))))

    def inputs(batch, steps, generator):
        return (torch.randn(batch, 2 * steps, 3, generator=generator),)
    return model, inputs, ({0: Dim("batch", min=1, max=64), 1: 2 * Dim("half_steps", min=2, max=32)},)


MODELS = {"seq2seq_attention": seq2seq, "bidirectional_sentiment": sentiment, "conv_lstm": conv_lstm,
          "conv_lstm_1d": conv_lstm_1d, "conv_attention": conv_attention}
EXAMPLE, OTHERS = (2, 6), ((3, 5), (5, 9))      # (batch, steps): the export's example, then two other shapes


def for_forward(model, shapes):
    """`dynamic_shapes` as torch.export reads them for `model.forward`: one entry per parameter, so a
    functional model's `forward(*inputs)` takes them as one tuple, a Sequential's `forward(inputs)` one dict."""
    return (shapes,) if isinstance(model, kr.Model) and not isinstance(model, kr.Sequential) else shapes


def built(make):
    model, inputs, shapes = make()
    model = randomize(model).eval()
    example = inputs(*EXAMPLE, torch.Generator().manual_seed(0))
    with torch.no_grad():
        model(*example)
    return model, inputs, shapes, example


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_exports_with_dynamic_batch_and_time(name):
    model, inputs, shapes, example = built(MODELS[name])
    program = torch.export.export(model, example, dynamic_shapes=for_forward(model, shapes))
    exported = program.module()
    for batch, steps in OTHERS:
        others = inputs(batch, steps, torch.Generator().manual_seed(batch))
        with torch.no_grad():
            assert_close(exported(*others), model(*others), 1e-5, f"{name}: exported at {batch}x{steps}")


def _onnx_round_trip(name, tmp_path, shapes_for_export, others):
    model, inputs, shapes, example = built(MODELS[name])
    path = tmp_path / f"{name}.onnx"
    names = [f"input_{i}" for i in range(len(example))]
    kept = tuple({axis: dim for axis, dim in spec.items() if axis in shapes_for_export} for spec in shapes)
    torch.onnx.export(model, example, path, dynamo=True, input_names=names, dynamic_shapes=for_forward(model, kept))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for graph_input, spec in zip(session.get_inputs(), kept):
        for axis in spec:          # the requested axes stayed dynamic: symbolic names, not the example's sizes
            assert isinstance(graph_input.shape[axis], str), (name, graph_input.name, graph_input.shape)
    for batch, steps in others:
        other = inputs(batch, steps, torch.Generator().manual_seed(batch))
        (output,) = session.run(None, {n: t.numpy() for n, t in zip(names, other)})
        with torch.no_grad():
            assert_close(output, model(*other), 1e-5, f"{name}: onnxruntime at {batch}x{steps}")


@pytest.mark.filterwarnings("ignore:# The axis name")
@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_runs_in_onnxruntime_with_dynamic_batch_and_time(name, tmp_path):
    """Models with several recurrent layers included: torch.onnx retraces each layer's loop (a scan) with
    gradients, and the steps traced for export keep the symbolic batch size out of their backward (no
    slice, no unused gate block), which that retrace could not save (engine/loop.py's `scan_loop`).

    The torch limit, without this package (torch 2.13): `torch.export` of this module works, while
    `torch.onnx.export(TwoScans(), (torch.randn(5, 2, 6),), dynamo=True, dynamic_shapes={"x": {0: Dim("time",
    min=2, max=64), 1: Dim("batch", min=2, max=64)}})` raises "'SymInt' object has no attribute 'unsqueeze'"
    (with one scan, or without the slice, it converts)::

        class TwoScans(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.u = torch.nn.Parameter(torch.randn(3, 6))

            def scan_once(self, x):                      # x: (time, batch, 6)
                def step(h, x_t):
                    h = (x_t + h @ self.u)[:, :3].tanh()
                    return h, h.clone()
                return torch._higher_order_ops.scan.scan(step, x.new_zeros(x.shape[1], 3), x)[1]

            def forward(self, x):
                return self.scan_once(self.scan_once(x).repeat(1, 1, 2))
    """
    _onnx_round_trip(name, tmp_path, (0, 1), OTHERS)


def test_an_axis_fixed_by_weights_is_refused_by_name():
    model = kr.Sequential([kr.Input((5, 3)), kr.PReLU(name="slopes")]).eval()
    x = torch.randn(2, 5, 3)
    dynamic = ({0: Dim("batch", min=1, max=64), 1: Dim("steps", min=2, max=64)},)
    with pytest.raises(ValueError, match=r"PReLU 'slopes': axis 1 of its input is dynamic in this export"):
        torch.export.export(model, (x,), dynamic_shapes=dynamic)
    with pytest.raises(Exception, match=r"PReLU 'slopes': axis 1 of its input is dynamic"):
        torch.onnx.export(model, (x,), dynamo=True, dynamic_shapes=dynamic)     # not a graph fixed at 5 steps
    shared = kr.Sequential([kr.Input((None, 3)), kr.PReLU(shared_axes=[1])]).eval()
    shared(x)
    exported = torch.export.export(shared, (x,), dynamic_shapes=dynamic).module()
    longer = torch.randn(3, 8, 3)
    assert_close(exported(longer), shared(longer), 1e-6, "PReLU with the steps axis shared")


def test_a_conv_lstm_model_exports_with_dynamic_spatial_axes():
    """The spatial axes stay dynamic through a ConvLSTM (its states take the frames' size) and the layers
    after it; the exported program runs at other widths and heights with the eager numbers."""
    model = kr.Sequential([kr.Input((None, 6, 6, 2)), kr.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
                           kr.ConvLSTM2D(2, 3, strides=2, padding="same"), kr.GlobalAveragePooling2D(),
                           kr.Dense(2)])
    model = randomize(model).eval()
    x = torch.randn(2, 4, 6, 6, 2)
    with torch.no_grad():
        model(x)
    dynamic = ({0: Dim("batch", min=1, max=64), 1: Dim("steps", min=2, max=64), 2: Dim("rows", min=4, max=64),
                3: Dim("cols", min=4, max=64)},)
    exported = torch.export.export(model, (x,), dynamic_shapes=dynamic).module()
    for shape in ((3, 5, 9, 7, 2), (1, 2, 4, 10, 2)):
        other = torch.randn(shape)
        with torch.no_grad():
            assert_close(exported(other), model(other), 1e-5, f"ConvLSTM model exported, at {shape}")


@pytest.mark.filterwarnings("ignore:You are using the legacy TorchScript-based ONNX export:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The feature will be removed:DeprecationWarning")   # inside the legacy exporter
def test_the_legacy_exporter_refuses_a_functional_model_at_once(tmp_path):
    model, inputs, shapes, example = built(seq2seq)
    with pytest.raises(RuntimeError, match=r"Model 'functional.*' does not export with the TorchScript-based ONNX "
                                           r"exporter \(dynamo=False\).*Use torch.onnx.export\(\.\.\., dynamo=True\)"):
        torch.onnx.export(model, example, tmp_path / "legacy.onnx", dynamo=False)
