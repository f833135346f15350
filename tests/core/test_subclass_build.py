"""A subclass that overrides `build` is built at its first call, also under weightless layers."""
import pytest
import torch

import kerasrnn_torch as kr


def subclass_with_build(base):
    class WithBuild(base):
        def build(self, input_shape):
            self.seen_shape = input_shape
            super().build(input_shape)
            self.add_weight("offset", (), "ones")

    return WithBuild


@pytest.mark.parametrize("base, args, inputs", [
    (kr.Masking, (), lambda: torch.randn(2, 3, 4)),
    (kr.Dropout, (0.5,), lambda: torch.randn(2, 3, 4)),
    (kr.Attention, (), lambda: [torch.randn(2, 3, 4), torch.randn(2, 5, 4)]),
])
def test_overridden_build_runs_at_the_first_call(base, args, inputs):
    layer = subclass_with_build(base)(*args)
    assert not layer.built
    x = inputs()
    layer(x)
    assert layer.built and layer.count_params() == 1
    expected = [tuple(t.shape) for t in x] if isinstance(x, list) else tuple(x.shape)
    assert layer.seen_shape == expected


@pytest.mark.parametrize("layer", [kr.Masking(), kr.Dropout(0.2), kr.Attention()])
def test_the_layers_themselves_are_built_at_construction(layer):
    assert layer.built
