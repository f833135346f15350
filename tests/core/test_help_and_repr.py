"""What help() and print() show: each layer's own call arguments, and the arguments a layer is written with."""
import inspect

import pytest
import torch

import kerasrnn_torch as kr

MODULES = [name for name in kr.__all__ if inspect.isclass(getattr(kr, name))
           and issubclass(getattr(kr, name), torch.nn.Module) and name != "Layer"]


@pytest.mark.parametrize("name", MODULES)
def test_forward_documents_the_layers_own_call(name):
    doc = inspect.getdoc(getattr(kr, name).forward)
    assert doc and doc != inspect.getdoc(torch.nn.Module.forward), f"{name}.forward shows torch's generic text"


def test_recurrent_call_documents_its_arguments():
    doc = inspect.getdoc(kr.LSTM.forward)
    for argument in ("initial_state", "mask", "training", "return_state"):
        assert argument in doc


def test_repr_shows_units_and_flags():
    text = repr(kr.LSTM(64, return_sequences=True, name="encoder"))
    assert text.startswith("LSTM(\n  64, name='encoder', return_sequences=True")
    assert "units=3" in repr(kr.Dense(3))
