"""fit's array batches: cut before the steps run (views, or rows gathered a chunk at a time when shuffled),
they are the rows Keras's order picks: in order, or in one `torch.randperm` order per epoch."""
import numpy as np
import pytest
import torch

from kerasrnn_torch.models.training import data
from kerasrnn_torch.models.training.data import Batches

N = 23
X = np.arange(N * 3, dtype=np.float32).reshape(N, 3)


@pytest.mark.parametrize("chunk", [5, 4096])           # several chunks per epoch, and one
@pytest.mark.parametrize("steps", [None, 3])
def test_shuffled_epochs_pick_the_rows_of_one_permutation(monkeypatch, chunk, steps):
    monkeypatch.setattr(data, "SHUFFLE_CHUNK_SAMPLES", chunk)
    batches = Batches({"a": X, "b": X[:, :1]}, np.arange(N), None, batch_size=4, shuffle=True, steps=steps)
    torch.manual_seed(3)
    epochs = [list(batches.epoch()) for _ in range(2)]
    torch.manual_seed(3)
    for epoch in epochs:
        order = torch.randperm(N)
        expected = [order[start:start + 4] for start in range(0, N, 4)][:steps]
        assert len(epoch) == len(expected)
        for (x, y, sample_weight), rows in zip(epoch, expected):
            assert torch.equal(x["a"], torch.from_numpy(X)[rows]) and torch.equal(x["b"], torch.from_numpy(X)[rows, :1])
            assert torch.equal(y, rows) and sample_weight is None


def test_ordered_batches_are_views_of_the_arrays_with_the_last_partial_batch():
    batches = Batches(X, X[:, 0], np.ones(N, dtype=np.float32), batch_size=10)
    epoch = list(batches.epoch())
    assert [len(x) for x, _, _ in epoch] == [10, 10, 3]
    source = batches.arrays[0]
    for index, (x, y, sample_weight) in enumerate(epoch):
        assert x.data_ptr() == source[index * 10:].data_ptr()          # a view: no copy per batch
        assert torch.equal(y, torch.from_numpy(X[index * 10:index * 10 + 10, 0]))
        assert torch.equal(sample_weight, torch.ones(len(x)))


def test_a_bool_input_declared_bool_reaches_the_layer_as_a_mask():
    """fit/train_on_batch/predict_on_batch give a bool `kr.Input` bool data, so it can be a recurrent
    layer's mask (floating-point data would be refused as a mask)."""
    import numpy as np

    import kerasrnn_torch as kr

    x, m = kr.Input((7, 3)), kr.Input((7,), dtype="bool")
    model = kr.Model([x, m], kr.Dense(1)(kr.LSTM(4)(x, mask=m)))
    model.compile(optimizer="sgd", loss="mse")
    xs = np.random.rand(8, 7, 3).astype("float32")
    masks = np.ones((8, 7), bool)
    masks[:, 5:] = False
    assert np.isfinite(model.train_on_batch([xs, masks], np.zeros((8, 1))))
    assert model.predict_on_batch([xs, masks]).shape == (8, 1)
    cut = xs.copy()
    cut[:, 5:] = 100.0                              # masked steps: changing them changes nothing
    np.testing.assert_allclose(model.predict([cut, masks], verbose=0), model.predict([xs, masks], verbose=0),
                               atol=1e-6)


def test_the_batch_calls_set_every_module_s_mode_and_run_an_overridden_train():
    """`predict_on_batch`/`test_on_batch` run in eval mode and `train_on_batch` in training mode, whatever a
    module was set to by hand, and a module's own `train` override still runs (the walk that sets the mode
    is skipped only where nothing would change)."""
    import kerasrnn_torch as kr

    calls = []

    class Watched(kr.layers.Dense):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    inputs = kr.Input((3,))
    hidden = kr.layers.Dropout(0.5)(kr.layers.Dense(4)(inputs))
    model = kr.Model(inputs, Watched(1)(hidden))
    model.compile(optimizer="sgd", loss="mse")
    x, y = torch.randn(5, 3), torch.randn(5, 1)
    model.predict_on_batch(x)
    assert not any(m.training for m in model.modules()) and calls[-1] is False
    model.layers[2].train()                         # the Dropout, by hand
    calls.clear()
    first = model.predict_on_batch(x)
    assert not any(m.training for m in model.modules()) and calls == [False]
    assert torch.equal(torch.as_tensor(first), torch.as_tensor(model.predict_on_batch(x)))   # no dropout
    model.train_on_batch(x, y)
    assert all(m.training for m in model.modules()) and calls[-1] is True
    model.test_on_batch(x, y)
    assert not any(m.training for m in model.modules()) and calls[-1] is False


def test_a_model_already_in_its_mode_is_not_walked_again():
    import kerasrnn_torch as kr

    inputs = kr.Input((3,))
    model = kr.Model(inputs, kr.layers.Dense(1)(kr.layers.Dense(4)(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    x = torch.randn(5, 3)
    model.predict_on_batch(x)
    walks = []
    model.train = lambda mode=True: walks.append(mode) or torch.nn.Module.train(model, mode)    # on the instance
    model.predict_on_batch(x)
    assert walks == []
    model.layers[1].train()
    model.predict_on_batch(x)
    assert walks[-1] is False and not any(m.training for m in model.modules())


def test_train_on_batch_takes_tensors_as_directly_as_arrays_and_still_checks_them():
    """Two tensors go to the step without the batching machinery: the same conversions (float64 to the weights'
    dtype, int32 labels to int64), the same numbers as NumPy arrays, and mismatched sizes still refused."""
    import numpy as np

    import kerasrnn_torch as kr

    def make():
        torch.manual_seed(0)
        inputs = kr.Input((3,))
        model = kr.Model(inputs, kr.layers.Dense(4)(inputs))
        model.compile(optimizer="sgd", loss=kr.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        return model

    x = torch.randn(6, 3, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 3, 0, 1], dtype=torch.int32)
    direct, arrays = make(), make()
    for _ in range(3):
        a = direct.train_on_batch(x, y, return_dict=True)
        b = arrays.train_on_batch(x.numpy(), y.numpy(), return_dict=True)
        assert a == b
    assert direct.test_on_batch(x, y) == arrays.test_on_batch(x.numpy(), y.numpy())
    for p, q in zip(direct.parameters(), arrays.parameters()):
        assert torch.equal(p, q) and p.dtype == torch.float32
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        direct.train_on_batch(x, y[:4])
    assert np.isfinite(direct.train_on_batch(x, y)).all()
