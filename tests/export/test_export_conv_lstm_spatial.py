"""ConvLSTM1D/2D/3D export with dynamic spatial axes, besides the batch and time.

The states take the spatial size of the frames (not the size the layer was built for), "same" padding
is recomputed from the symbolic size, and the kernel-fits check of "valid" padding becomes a
`torch._check`: the exported program, and onnxruntime for the ONNX graph, run at two other spatial sizes
and give the eager numbers to 1e-5.
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

LAYERS = {1: kr.ConvLSTM1D, 2: kr.ConvLSTM2D, 3: kr.ConvLSTM3D}
CASES = {   # name: (rank, arguments, spatial size of the example, the two other spatial sizes)
    "1d_same": (1, {"kernel_size": 3, "padding": "same", "return_sequences": True}, 6, (9, 4)),
    "1d_valid_strided": (1, {"kernel_size": 3, "strides": 2, "return_state": True, "data_format": "channels_first"},
                         7, (10, 5)),
    "2d_same_strided_odd_total": (2, {"kernel_size": (3, 2), "strides": 2, "padding": "same"}, 6, (7, 9)),
    "2d_channels_first_valid": (2, {"kernel_size": 3, "data_format": "channels_first",
                                    "return_sequences": True}, 5, (8, 4)),
    "3d_same": (3, {"kernel_size": 2, "padding": "same"}, 4, (5, 3)),
    "3d_channels_first_same": (3, {"kernel_size": 3, "padding": "same", "data_format": "channels_first"}, 4, (3, 5)),
}
# The smallest spatial size each export covers: torch specializes an output axis of size 1, so the
# states keep 2 positions at least (a valid kernel of 3 with stride 2 needs 5; a strided "same" needs 3,
# but torch bounds ceil(n / 2) from below by (min + 0) // 2, so 4).
MIN_SPATIAL = {"1d_same": 2, "1d_valid_strided": 5, "2d_same_strided_odd_total": 4, "2d_channels_first_valid": 4,
               "3d_same": 2, "3d_channels_first_same": 2}
# ONNX: every case, channels-last and even kernels included (the exported time step uses every gate block
# and pads rather than crops; see layers/rnn/engine/loop.py's scan_loop).
ONNX_CASES = sorted(CASES)
CHANNELS = 2


def frames(rank, arguments, batch, time, size, seed):
    spatial = (size,) * rank
    shape = (batch, time, CHANNELS, *spatial) if arguments.get("data_format") == "channels_first" \
        else (batch, time, *spatial, CHANNELS)
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def dynamic(rank, arguments, low):
    """Batch, time and every spatial axis dynamic (the channels stay: the kernel fixes them)."""
    first = 3 if arguments.get("data_format") == "channels_first" else 2
    spec = {0: Dim("batch", min=1, max=64), 1: Dim("time", min=2, max=64)}
    spec.update({first + i: Dim(f"spatial_{i}", min=low, max=64) for i in range(rank)})
    return spec


def example_model(case):
    rank, arguments, size, others = CASES[case]
    layer = LAYERS[rank](3, name="clstm", **arguments).eval()
    x = frames(rank, arguments, 2, 4, size, 0)
    with torch.no_grad():
        layer(x)
    return layer, x, dynamic(rank, arguments, MIN_SPATIAL[case]), rank, arguments, others


@pytest.mark.parametrize("case", sorted(CASES))
def test_conv_lstm_exports_with_dynamic_spatial_axes(case):
    layer, x, spec, rank, arguments, others = example_model(case)
    program = torch.export.export(layer, (x,), dynamic_shapes=((spec),))
    exported = program.module()
    for size, (batch, time) in zip(others, ((3, 5), (1, 2))):
        other = frames(rank, arguments, batch, time, size, size)
        with torch.no_grad():
            assert_close(exported(other), layer(other), 1e-5, f"{case}: exported program at spatial size {size}")


@pytest.mark.filterwarnings("ignore:# The axis name")
@pytest.mark.parametrize("case", ONNX_CASES)
def test_conv_lstm_runs_in_onnxruntime_at_other_spatial_sizes(case, tmp_path):
    layer, x, spec, rank, arguments, others = example_model(case)
    if arguments.get("return_state"):
        layer.return_state = False         # one output for the round trip
    path = tmp_path / f"{case}.onnx"
    torch.onnx.export(layer, (x,), path, dynamo=True, input_names=["frames"], dynamic_shapes=(spec,))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    graph_shape = session.get_inputs()[0].shape
    assert all(isinstance(graph_shape[axis], str) for axis in spec), graph_shape    # no axis fixed
    for size, (batch, time) in zip(others, ((3, 5), (1, 2))):
        other = frames(rank, arguments, batch, time, size, size)
        (output,) = session.run(None, {"frames": other.numpy()})
        with torch.no_grad():
            assert_close(output, layer(other), 1e-5, f"{case}: onnxruntime at spatial size {size}")


def test_a_spatial_size_the_kernel_does_not_fit_is_refused_by_the_exported_program():
    layer, x, spec, rank, arguments, _ = example_model("1d_valid_strided")
    exported = torch.export.export(layer, (x,), dynamic_shapes=(spec,)).module()
    with pytest.raises(Exception, match=r"size\(\)\[3\] >= 5"):      # the kernel (and 2 outputs) need 5 at least
        exported(frames(rank, arguments, 2, 4, 2, 0))
