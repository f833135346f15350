"""torch.export and ONNX (dynamo) with masks and Embedding(mask_zero=True): a masked call traces the cell loop."""
import numpy as np
import onnxruntime
import pytest
import torch
from torch.export import Dim, export

import kerasrnn_torch as kr
from kerasrnn_torch.engine.dispatch import EXPORT_MASK_REASON
from reference import assert_close

# torch-internal warnings raised while exporting (errors in this suite); see tests/test_onnx.py.
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
