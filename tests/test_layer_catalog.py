"""The shared catalog (tests/layer_catalog.py) has a working example of every public layer."""
import pytest
import torch

from layer_catalog import CATALOG, call, make, public_layer_names


def test_every_public_layer_is_in_the_catalog():
    assert set(public_layer_names()) == set(CATALOG)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_catalog_entry_runs(name):
    layer, inputs = make(name)
    layer.eval()
    output = call(layer, inputs())
    first = output[0] if isinstance(output, (tuple, list)) else output
    assert isinstance(first, torch.Tensor) and first.shape[0] == 2
