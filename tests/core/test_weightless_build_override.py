"""A subclass of a weightless built-in layer that overrides `build` is not built at construction, and its
`build` runs at the first call (Keras's run_layer_test asks this of every stateless layer)."""
import pytest
import torch

import kerasrnn_torch as kr

CASES = [
    (kr.Activation, ("relu",), lambda: torch.randn(2, 3, 4)),
    (kr.ReLU, (), lambda: torch.randn(2, 3, 4)),
    (kr.Softmax, (), lambda: torch.randn(2, 3, 4)),
    (kr.MaxPooling1D, (), lambda: torch.randn(2, 4, 3)),
    (kr.MaxPooling2D, (), lambda: torch.randn(2, 4, 4, 3)),
    (kr.GlobalAveragePooling1D, (), lambda: torch.randn(2, 4, 3)),
    (kr.GlobalMaxPooling1D, (), lambda: torch.randn(2, 4, 3)),
    (kr.GlobalMaxPooling2D, (), lambda: torch.randn(2, 4, 4, 3)),
    (kr.Identity, (), lambda: torch.randn(2, 3)),
    (kr.Lambda, (lambda x: x * 2,), lambda: torch.randn(2, 3)),
    (kr.GaussianNoise, (0.1,), lambda: torch.randn(2, 3)),
    (kr.UnitNormalization, (), lambda: torch.randn(2, 3)),
    (kr.Add, (), lambda: [torch.randn(2, 3), torch.randn(2, 3)]),
    (kr.Concatenate, (), lambda: [torch.randn(2, 3), torch.randn(2, 3)]),
]


@pytest.mark.parametrize("base, args, inputs", CASES, ids=[c[0].__name__ for c in CASES])
def test_the_layer_is_built_at_construction_and_a_build_override_runs_at_the_first_call(base, args, inputs):
    assert base(*args, name="weightless").built      # named: the default names' counters stay as they were

    class WithBuild(base):
        def build(self, input_shape):
            self.seen_shape = input_shape
            self.offset = self.add_weight("offset", (), "ones")
            self.built = True

    layer = WithBuild(*args, name="with_build")
    assert not layer.built
    x = inputs()
    layer(x)
    assert layer.built and layer.count_params() == 1
    assert layer.seen_shape == ([tuple(t.shape) for t in x] if isinstance(x, list) else tuple(x.shape))
