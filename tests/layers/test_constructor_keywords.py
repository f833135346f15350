"""Every public layer takes the PyTorch keywords and the shape hints the contract promises."""
import inspect

import pytest
import torch

import kerasrnn_torch as kr

CONTAINERS = (kr.Layer, kr.Model, kr.Sequential, kr.InputLayer)
LAYERS = sorted(name for name in kr.__all__ if isinstance(getattr(kr, name), type)
                and issubclass(getattr(kr, name), kr.Layer) and getattr(kr, name) not in CONTAINERS)


@pytest.mark.parametrize("name", LAYERS)
def test_every_layer_takes_device_dtype_name_and_shape_hints(name):
    parameters = inspect.signature(getattr(kr, name).__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    missing = [k for k in ("device", "dtype", "name", "input_shape") if k not in parameters and not takes_any]
    assert not missing, f"kr.{name} does not take {missing}"


def test_spatial_dropout_takes_device_and_an_input_shape():
    layer = kr.SpatialDropout1D(0.5, device="cpu", input_shape=(4, 3), dtype=torch.float64, name="channels_out")
    layer.eval()
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    torch.testing.assert_close(layer(x), x)
