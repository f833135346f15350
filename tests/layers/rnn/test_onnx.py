"""ONNX export of fused-path LSTM, GRU and Bidirectional LSTM, run by onnxruntime."""
import numpy as np
import onnxruntime
import pytest
import torch

import kerasrnn_torch as kr
from reference import OUTPUT_ATOL, assert_close


def randomize(module, seed=0, scale=0.5):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.rand(parameter.shape, generator=generator) * 2 * scale - scale)
    return module


# torch.export copies its own pytree specs while exporting, which runs into the
# deprecation of constructing torch's LeafSpec directly (torch-internal).
@pytest.mark.filterwarnings(r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning")
# With a dynamic batch, the exporter traces the recurrent ops into while loops, reading `.grad` of their
# intermediate tensors and calling a deprecated size check (torch-internal warnings; errors in this suite).
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf Tensor:UserWarning")
@pytest.mark.filterwarnings("ignore:_check_is_size will be removed:FutureWarning")
def test_exported_fused_recurrent_model_runs_in_onnxruntime(tmp_path):
    model = randomize(kr.Sequential([
        kr.LSTM(8, return_sequences=True, input_shape=(6, 4)),
        kr.GRU(5, return_sequences=True),
        kr.Bidirectional(kr.LSTM(3, return_sequences=True)),
        kr.TimeDistributed(kr.Dense(2)),
    ])).eval()
    x = torch.randn(3, 6, 4)
    with torch.no_grad():
        expected = model(x)
    assert [layer.last_path for layer in model.layers[:3]] == ["fused"] * 3

    path = tmp_path / "recurrent.onnx"
    torch.onnx.export(model, (x,), path, dynamo=True, input_names=["inputs"], output_names=["outputs"],
                      dynamic_shapes=({0: torch.export.Dim("batch")},))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"inputs": x.numpy()})
    assert output.shape == (3, 6, 2)
    assert_close(output, expected, OUTPUT_ATOL, "onnxruntime outputs")
    other = torch.randn(5, 6, 4)                 # another batch size: the batch axis is dynamic
    (output,) = session.run(None, {"inputs": other.numpy()})
    with torch.no_grad():
        assert_close(output, model(other), OUTPUT_ATOL, "onnxruntime outputs on new inputs")
    assert np.isfinite(output).all()


@pytest.mark.filterwarnings(r"ignore:`isinstance\(treespec, LeafSpec\)` is deprecated:FutureWarning")
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf Tensor:UserWarning")
@pytest.mark.filterwarnings("ignore:_check_is_size will be removed:FutureWarning")
# The batch axis stays dynamic (Attention no longer fixes it): the exporter notes that both inputs share it.
@pytest.mark.filterwarnings("ignore:# The axis name. batch will not be used:UserWarning")
def test_exported_functional_encoder_decoder_runs_in_onnxruntime(tmp_path):
    source, target = kr.Input(shape=(6, 4), name="source"), kr.Input(shape=(3, 2), name="target")
    encoded, h, c = kr.LSTM(8, return_sequences=True, return_state=True)(source)
    decoded = kr.LSTM(8, return_sequences=True)(target, initial_state=[h, c])
    outputs = kr.Dense(2)(kr.Attention()([decoded, encoded]))
    model = randomize(kr.Model([source, target], outputs)).eval()
    x, y = torch.randn(3, 6, 4), torch.randn(3, 3, 2)
    with torch.no_grad():
        expected = model(x, y)
    path = tmp_path / "functional.onnx"
    batch = torch.export.Dim("batch")
    torch.onnx.export(model, (x, y), path, dynamo=True, input_names=["source", "target"], output_names=["outputs"],
                      dynamic_shapes=(({0: batch}, {0: batch}),))   # forward(*inputs): one entry, a tuple
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"source": x.numpy(), "target": y.numpy()})
    assert_close(output, expected, OUTPUT_ATOL, "onnxruntime outputs")
    x, y = torch.randn(5, 6, 4), torch.randn(5, 3, 2)          # another batch size: the axis stayed dynamic
    (output,) = session.run(None, {"source": x.numpy(), "target": y.numpy()})
    with torch.no_grad():
        assert_close(output, model(x, y), OUTPUT_ATOL, "onnxruntime outputs at another batch size")
