"""compute_output_shape on every layer equals Keras's for the same arguments."""
import keras
import pytest

import kerasrnn_torch as kr

CASES = [  # (class name, arguments, input shape(s))
    ("LSTM", {"units": 4}, (None, 5, 3)),
    ("LSTM", {"units": 4, "return_sequences": True, "return_state": True}, (None, None, 3)),
    ("GRU", {"units": 4, "return_state": True}, (2, 5, 3)),
    ("SimpleRNN", {"units": 4, "return_sequences": True}, (None, 7, 3)),
    ("Dense", {"units": 6}, (None, 5, 3)),
    ("Embedding", {"input_dim": 10, "output_dim": 4}, (None, 7)),
    ("Concatenate", {}, [(None, 5, 3), (None, 5, 2)]),
    ("Add", {}, [(None, 5, 3), (None, 5, 3)]),
    ("Dot", {"axes": (2, 2)}, [(None, 5, 3), (None, 4, 3)]),
    ("RepeatVector", {"n": 4}, (None, 3)),
    ("Flatten", {}, (None, 5, 3)),
    ("Reshape", {"target_shape": (3, -1)}, (None, 5, 3)),
    ("Permute", {"dims": (2, 1)}, (None, 5, 3)),
    ("GlobalAveragePooling1D", {}, (None, 5, 3)),
    ("MaxPooling1D", {"pool_size": 2}, (None, 6, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 3}, (None, 9, 3)),
    ("LayerNormalization", {}, (None, 5, 3)),
    ("Attention", {}, [(None, 5, 3), (None, 4, 3)]),
]


@pytest.mark.parametrize("name, arguments, shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_compute_output_shape_matches_keras(name, arguments, shape):
    ours = getattr(kr, name)(**arguments).compute_output_shape(shape)
    theirs = getattr(keras.layers, name)(**arguments).compute_output_shape(shape)

    def normal(value):
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
            return [normal(v) for v in value]
        return tuple(value)
    assert normal(ours) == normal(theirs)


def test_bidirectional_and_time_distributed_output_shapes():
    assert kr.Bidirectional(kr.LSTM(4, return_sequences=True)).compute_output_shape((None, 5, 3)) == (None, 5, 8)
    assert kr.TimeDistributed(kr.Dense(2)).compute_output_shape((None, 5, 3)) == (None, 5, 2)


def test_compute_output_shape_leaves_no_node_behind():
    layer = kr.Dense(2)
    layer.compute_output_shape((None, 3))
    inputs = kr.Input(shape=(3,))
    model = kr.Model(inputs, layer(inputs))
    assert f"{inputs.name}[0][0]" in model.summary(print_fn=None, line_length=200)


def test_a_shape_that_does_not_fit_names_the_layer():
    with pytest.raises(ValueError, match="Dense 'fixed': input of shape .* is incompatible with the layer, "
                                         "which was built for 3 input features"):
        kr.Dense(2, input_dim=3, name="fixed").compute_output_shape((None, 4))
    with pytest.raises(ValueError, match="takes a shape with the batch axis first"):
        kr.Dense(2).compute_output_shape("wide")
