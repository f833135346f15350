"""kr.utils: Keras's helpers, checked against Keras's own on the same inputs."""
import random

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 5])
def test_pad_sequences_as_keras(padding, truncating, maxlen):
    sequences = [[1, 2, 3], [4], [], [5, 6, 7, 8]]
    ours = kr.utils.pad_sequences(sequences, maxlen=maxlen, padding=padding, truncating=truncating, value=-1)
    theirs = keras.utils.pad_sequences(sequences, maxlen=maxlen, padding=padding, truncating=truncating, value=-1)
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == theirs.dtype


def test_pad_sequences_dtype_steps_and_errors():
    sequences = [np.ones((2, 3)), np.zeros((1, 3))]
    ours = kr.utils.pad_sequences(sequences, dtype="float32", value=0.5)
    np.testing.assert_array_equal(ours, keras.utils.pad_sequences(sequences, dtype="float32", value=0.5))
    with pytest.raises(ValueError, match="padding"):
        kr.utils.pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="truncating"):
        kr.utils.pad_sequences([[1]], truncating="both")


def test_to_categorical_and_normalize_as_keras():
    labels = np.array([[0], [2], [1]])
    np.testing.assert_array_equal(kr.utils.to_categorical(labels), keras.utils.to_categorical(labels))
    np.testing.assert_array_equal(kr.utils.to_categorical([1, 3], num_classes=5),
                                  keras.utils.to_categorical([1, 3], num_classes=5))
    one_hot = kr.utils.to_categorical(torch.tensor([0, 2]), 3)
    assert one_hot.dtype == torch.float32 and one_hot.tolist() == [[1, 0, 0], [0, 0, 1]]
    with pytest.raises(ValueError, match="class ids"):
        kr.utils.to_categorical([0, 4], num_classes=3)
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(kr.utils.normalize(x), keras.utils.normalize(x))
    by_column = np.asarray(keras.utils.normalize(keras.ops.convert_to_tensor(x), axis=0))
    np.testing.assert_allclose(kr.utils.normalize(torch.tensor(x), axis=0).numpy(), by_column)
    np.testing.assert_allclose(kr.utils.normalize(x, axis=0), by_column)


def test_set_random_seed_repeats_the_draws():
    kr.utils.set_random_seed(7)
    first = (random.random(), np.random.rand(), torch.rand(1).item(), kr.Dense(3, input_dim=2).kernel.detach())
    kr.utils.set_random_seed(7)
    second = (random.random(), np.random.rand(), torch.rand(1).item(), kr.Dense(3, input_dim=2).kernel.detach())
    assert first[:3] == second[:3] and torch.equal(first[3], second[3])


@pytest.mark.parametrize("arguments", [
    dict(sequence_length=5, batch_size=4),
    dict(sequence_length=3, sequence_stride=2, sampling_rate=2, batch_size=3),
    dict(sequence_length=4, start_index=3, end_index=25, batch_size=5),
])
def test_timeseries_dataset_from_array_as_keras(arguments):
    data = np.arange(30 * 2, dtype="float32").reshape(30, 2)
    targets = np.arange(30, dtype="float32") * 10
    ours = list(kr.utils.timeseries_dataset_from_array(data, targets, **arguments))
    theirs = [(np.asarray(x), np.asarray(y)) for x, y in keras.utils.timeseries_dataset_from_array(
        data, targets, **arguments, format="grain")] if _has_grain() else None
    assert all(isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) for x, y in ours)
    if theirs is not None:
        assert len(ours) == len(theirs)
        for (x, y), (kx, ky) in zip(ours, theirs):
            np.testing.assert_array_equal(x.numpy(), kx)
            np.testing.assert_array_equal(y.numpy(), ky)
    # Keras's rule, written out: window i starts at s = start + i * stride, steps s + k * rate, target[s].
    start, stride, rate = arguments.get("start_index", 0), arguments.get("sequence_stride", 1), \
        arguments.get("sampling_rate", 1)
    x, y = ours[0]
    for row in range(len(x)):
        s = start + row * stride
        np.testing.assert_array_equal(x[row].numpy(), data[s: s + arguments["sequence_length"] * rate: rate])
        assert y[row].item() == targets[s]


def _has_grain():
    try:
        import grain  # noqa: F401
    except ImportError:
        return False
    return True


def test_timeseries_dataset_counts_and_feeds_a_model():
    data = np.random.default_rng(0).standard_normal((50, 3)).astype("float32")
    dataset = kr.utils.timeseries_dataset_from_array(data, None, sequence_length=10, batch_size=8)
    batches = list(dataset)
    assert len(dataset) == len(batches) == 6 and sum(len(b) for b in batches) == 41
    model = kr.Sequential([kr.Input((10, 3)), kr.LSTM(4)])
    assert model(batches[0]).shape == (8, 4)
    single = list(kr.utils.timeseries_dataset_from_array(data, data[:, 0], sequence_length=10, batch_size=None))
    assert single[0][0].shape == (10, 3) and single[0][1].shape == ()
    shuffled = kr.utils.timeseries_dataset_from_array(data, None, sequence_length=10, shuffle=True, seed=3)
    windows = torch.cat(list(shuffled))
    assert sorted(windows[:, 0, 0].tolist()) == sorted(torch.cat(batches)[:, 0, 0].tolist())
    assert torch.equal(windows, torch.cat(list(shuffled)))       # the same order on each pass


def test_split_dataset():
    x, y = np.arange(10), np.arange(10) * 2
    (left_x, left_y), (right_x, right_y) = kr.utils.split_dataset((x, y), left_size=0.8)
    assert len(left_x) == 8 and len(right_x) == 2 and (left_y == left_x * 2).all()
    left, right = kr.utils.split_dataset(torch.arange(10), right_size=3, shuffle=True, seed=1)
    assert isinstance(left, torch.Tensor) and len(left) == 7 and sorted(torch.cat([left, right]).tolist()) == \
        list(range(10))
    with pytest.raises(ValueError, match="left_size or right_size"):
        kr.utils.split_dataset(x)


def test_get_file_says_what_to_do():
    with pytest.raises(RuntimeError, match="does not download.*local path"):
        kr.utils.get_file("imdb.npz", origin="https://example.com/imdb.npz")
