"""Every public layer exports with `torch.export` on a dynamic batch, time and spatial axes.

Each layer of `tests/layer_catalog.py` is exported with its batch axis dynamic and, where Keras allows
None there, its steps and spatial axes (every axis between the batch and the features); the exported
program then runs at two other shapes and must give the eager numbers.
"""
import pytest
import torch
from torch.export import Dim

from layer_catalog import CATALOG, make
from reference import assert_close

pytestmark = [   # torch-internal warnings raised while exporting (errors in this suite)
    pytest.mark.filterwarnings(r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf Tensor:UserWarning"),
    pytest.mark.filterwarnings("ignore:_check_is_size will be removed:FutureWarning"),
]

# Axes that stay static, as in Keras, where the layer's weights or arguments fix them.
STATIC_STEPS = {
    "PReLU": "alpha holds one value per step and feature (Keras's default shared_axes=None)",
    "Reshape": "the target shape (3, 5) fixes the number of elements per sample",
    "CenterCrop": "the image's size picks a crop or a resize, and places the crop (torch.export cannot prove the "
                  "centred window's bounds for every size)",
}
# Layers whose inputs must agree on every axis but the features: one Dim per axis, shared by the inputs.
SHARED_STEPS = {"Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract"}
# The fewest steps (per axis) the export covers. torch specializes an output axis of size 1, so a valid
# convolution, crop or pool must leave 2 steps at least: kernel 3 needs 4 steps, a pool of 2 needs 4.
MIN_STEPS = {
    "Conv1D": 4, "Conv2D": 4, "Conv3D": 3, "DepthwiseConv1D": 4, "DepthwiseConv2D": 4, "SeparableConv1D": 4,
    "SeparableConv2D": 4, "Cropping1D": 4, "Cropping2D": 4, "Cropping3D": 4,
    "AveragePooling1D": 4, "AveragePooling2D": 4, "AveragePooling3D": 4,
    "MaxPooling1D": 4, "MaxPooling2D": 4, "MaxPooling3D": 4,
}
OTHER_SIZES = ((3, 1), (5, 3))        # (batch, added steps) of the two shapes the exported program runs at


class _Call(torch.nn.Module):
    """The layer called as the catalog calls it: on one tensor, on a list of tensors, or on positional ones."""

    def __init__(self, layer, kind):
        super().__init__()
        self.layer, self.kind = layer, kind

    def forward(self, *args):
        return self.layer(list(args)) if self.kind == "list" else self.layer(*args)


def dynamic_axes(name, tensor):
    """The axes of one input that the export keeps dynamic (besides the batch)."""
    if name in STATIC_STEPS:
        return []
    if not tensor.is_floating_point():               # token ids (batch, steps)
        return [1]
    return list(range(1, tensor.dim() - 1))          # steps and spatial axes, not the features


def export_case(name):
    """(wrapper module, example inputs, dynamic_shapes) for the catalog's layer `name`."""
    layer, make_inputs = make(name)
    layer.eval()
    inputs = make_inputs()
    kind = "tuple" if isinstance(inputs, tuple) else "list" if isinstance(inputs, list) else "tensor"
    args = tuple(inputs) if kind != "tensor" else (inputs,)
    module = _Call(layer, kind)
    with torch.no_grad():
        module(*args)                                # builds the weights
    batch = Dim("batch", min=1, max=64)
    low = MIN_STEPS.get(name, 2)
    shared = {}
    shapes = []
    for position, tensor in enumerate(args):
        spec = {0: batch}
        for axis in dynamic_axes(name, tensor):
            key = axis if name in SHARED_STEPS else (position, axis)
            if key not in shared:
                shared[key] = Dim(f"steps_{position}_{axis}" if name not in SHARED_STEPS else f"steps_{axis}",
                                  min=low, max=64)
            spec[axis] = shared[key]
        shapes.append(spec)
    return module, args, tuple(shapes)


def resized(args, shapes, batch, added):
    """New random inputs: `batch` rows, and `added` more steps on every dynamic axis."""
    generator = torch.Generator().manual_seed(batch + added)
    out = []
    for tensor, spec in zip(args, shapes):
        size = [batch if axis == 0 else n + added if axis in spec else n for axis, n in enumerate(tensor.shape)]
        if tensor.is_floating_point():
            out.append(torch.randn(size, generator=generator))
        else:
            out.append(torch.randint(1, 20, size, generator=generator))
    return tuple(out)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_layer_exports_with_dynamic_batch_and_steps(name):
    module, args, shapes = export_case(name)
    program = torch.export.export(module, args, dynamic_shapes=(shapes,))   # forward(*args): one entry
    exported = program.module()
    for batch, added in OTHER_SIZES:
        inputs = resized(args, shapes, batch, added)
        with torch.no_grad():
            expected = module(*inputs)
            got = exported(*inputs)
        assert_close(got, expected, 1e-5, f"{name}: exported program at batch {batch}, {added} more steps")


def test_static_axes_are_only_the_documented_ones():
    assert set(STATIC_STEPS) | set(MIN_STEPS) <= set(CATALOG)


@pytest.mark.parametrize("name, arguments, why", [
    ("PReLU", {}, "alpha holds one value per position there"),
    ("Reshape", {"target_shape": (3, 5)}, r"target_shape \(3, 5\) fixes the number of values per sample"),
])
def test_an_axis_the_layer_fixes_is_refused_by_name_and_axis(name, arguments, why):
    import kerasrnn_torch as kr
    layer = getattr(kr, name)(name="fixed", **arguments).eval()
    x = torch.randn(2, 5, 3)
    layer(x)
    dynamic = (({0: Dim("batch", min=1, max=64), 1: Dim("steps", min=2, max=64)},),)   # forward(*args)
    with pytest.raises(ValueError, match=rf"{name} 'fixed': axis 1 of its input is dynamic in this export, but {why}"):
        torch.export.export(_Call(layer, "tensor"), (x,), dynamic_shapes=dynamic)


@pytest.mark.parametrize("name, arguments", [("PReLU", {"shared_axes": [1]}), ("Reshape", {"target_shape": (-1, 3)})])
def test_the_layers_own_way_to_a_dynamic_axis_exports(name, arguments):
    import kerasrnn_torch as kr
    layer = getattr(kr, name)(**arguments).eval()
    x = torch.randn(2, 5, 3)
    layer(x)
    dynamic = (({0: Dim("batch", min=1, max=64), 1: Dim("steps", min=2, max=64)},),)   # forward(*args)
    exported = torch.export.export(_Call(layer, "tensor"), (x,), dynamic_shapes=dynamic).module()
    longer = torch.randn(3, 8, 3)
    assert_close(exported(longer), layer(longer), 1e-6, f"{name} {arguments}: exported at another length")


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
@pytest.mark.filterwarnings("ignore:You are using the legacy TorchScript-based ONNX export:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The feature will be removed:DeprecationWarning")   # inside the legacy exporter
# the legacy exporter's own notes (constant folding, RNN batch sizes)
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(CATALOG))
def test_the_legacy_onnx_exporter_works_or_refuses_at_once(name, tmp_path):
    """`torch.onnx.export(dynamo=False)` writes a graph, or stops with our message pointing to dynamo=True."""
    module, args, _ = export_case(name)
    try:
        torch.onnx.export(module, args, tmp_path / "legacy.onnx", dynamo=False)
    except RuntimeError as error:
        assert "Use torch.onnx.export(..., dynamo=True)" in str(error), f"{name}: {error}"
    else:
        assert (tmp_path / "legacy.onnx").stat().st_size > 0


@pytest.mark.parametrize("name, arguments, shape", [
    ("Conv1D", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 7, 3)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 3)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 6, 3)),
])
def test_same_padding_with_strides_exports_with_dynamic_steps(name, arguments, shape):
    """Keras's 'same' padding with strides depends on the length: it stays symbolic (odd and even lengths)."""
    import kerasrnn_torch as kr
    layer = getattr(kr, name)(**arguments).eval()
    x = torch.randn(*shape)
    layer(x)
    spec = {0: Dim("batch", min=1, max=64)}
    spec.update({axis: Dim(f"steps_{axis}", min=4, max=64) for axis in range(1, x.dim() - 1)})
    exported = torch.export.export(_Call(layer, "tensor"), (x,), dynamic_shapes=((spec,),)).module()
    for batch, added in OTHER_SIZES:
        (other,) = resized((x,), (spec,), batch, added)
        with torch.no_grad():
            assert_close(exported(other), layer(other), 1e-5, f"{name}: exported at batch {batch}, {added} more steps")
