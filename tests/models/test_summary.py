"""summary(): Keras 3's model.summary() table, checked against Keras's own numbers for the same models."""
import re

import keras
import pytest
import torch
from torch import nn

import kerasrnn_torch as kr
from kerasrnn_torch.models.summary import readable_size


def table_rows(text: str) -> list[list[str]]:
    """The body rows of a printed table (either ours or Keras's): cells joined across wrapped lines."""
    rows, current = [], None
    for line in text.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            if current is None:
                current = cells
            else:
                current = [f"{a} {b}".strip() for a, b in zip(current, cells)]
        elif current is not None:
            rows.append(current)
            current = None
    return rows


def footer(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if re.match(r"\s*(Total|Trainable|Non-trainable) params:", line)]


def keras_summary(model) -> str:
    captured = []
    model.summary(print_fn=lambda text, line_break=True: captured.append(text))
    return "\n".join(captured)


def shape_leaves(text: str) -> list[str]:
    """`[(None, 5, 64), (None, 64)]` or `((None, 5, 64), (None, 64))` -> ['(None, 5, 64)', '(None, 64)']."""
    return re.findall(r"\([^()]*\)", text)


SEED_MODELS = {
    "embedding_lstm_dense": (
        lambda: [kr.Embedding(1000, 64), kr.LSTM(128), kr.Dense(10)],
        lambda: [keras.Input((10,), dtype="int32"), keras.layers.Embedding(1000, 64), keras.layers.LSTM(128),
                 keras.layers.Dense(10)],
        (10,), "164,106 (641.04 KB)"),
    "embedding_gru_simple_rnn_dense": (
        lambda: [kr.Embedding(1000, 64), kr.GRU(256, return_sequences=True), kr.SimpleRNN(128), kr.Dense(10)],
        lambda: [keras.Input((10,), dtype="int32"), keras.layers.Embedding(1000, 64),
                 keras.layers.GRU(256, return_sequences=True), keras.layers.SimpleRNN(128), keras.layers.Dense(10)],
        (10,), "361,866 (1.38 MB)"),
    "bidirectional_lstms_dense": (
        lambda: [kr.Bidirectional(kr.LSTM(64, return_sequences=True), input_shape=(5, 10)),
                 kr.Bidirectional(kr.LSTM(32)), kr.Dense(10)],
        lambda: [keras.Input((5, 10)), keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True)),
                 keras.layers.Bidirectional(keras.layers.LSTM(32)), keras.layers.Dense(10)],
        None, "80,266 (313.54 KB)"),
}


@pytest.mark.parametrize("name", SEED_MODELS)
def test_seed_tables_match_keras_summary(name):
    ours_layers, keras_layers, input_shape, total = SEED_MODELS[name]
    model = kr.Sequential(ours_layers(), name=name)
    theirs = keras.Sequential(keras_layers(), name=name)
    text = model.summary(input_shape=input_shape, print_fn=None)
    keras_text = keras_summary(theirs)

    assert text.splitlines()[0] == f'Model: "{name}"'
    assert footer(text) == footer(keras_text)
    assert footer(text)[0] == f"Total params: {total}"
    assert model.count_params() == theirs.count_params()
    rows = table_rows(text)
    assert len(rows) == len(theirs.layers)
    for (label, shape, params), ours, layer in zip(rows, model.layers, theirs.layers):
        assert label == f"{ours.name} ({type(layer).__name__})"
        assert shape == str(tuple(layer.output.shape))
        assert params == f"{layer.count_params():,}"
    # The same cells as Keras's own table, layer names aside (Keras numbers its layers globally).
    assert [row[1:] for row in rows] == [row[1:] for row in table_rows(keras_text)]


def test_summary_prints_and_returns_none_as_keras_or_returns_the_text_without_print_fn(capsys):
    model = kr.Sequential([kr.GRU(4, input_shape=(3, 2)), kr.Dense(1)])
    assert kr.summary(model) is None and model.summary() is None       # a notebook shows the table once
    printed = capsys.readouterr().out
    text = kr.summary(model, print_fn=None)
    assert printed == text + "\n" + text + "\n"
    assert capsys.readouterr().out == ""                                # print_fn=None prints nothing


def test_summary_runs_real_inputs_of_a_module_with_several_inputs():
    class TwoInputs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = kr.GRU(4, return_state=True)
            self.decoder = kr.GRU(4, return_sequences=True)

        def forward(self, source, target):
            _, h = self.encoder(source)
            return self.decoder(target, initial_state=[h])
    text = kr.summary(TwoInputs(), input_data=(torch.randn(2, 5, 3), torch.randn(2, 7, 3)), print_fn=None)
    rows = table_rows(text)
    assert rows[0][1] == "((None, 4), (None, 4))" and rows[1][1] == "(None, 7, 4)"
    assert "Total params: 216" in text           # two GRUs of 3 * (3*4 + 4*4 + 2*4) weights


def test_several_outputs_show_each_shape_like_keras():
    model = kr.Sequential([kr.LSTM(64, return_sequences=True, return_state=True, input_shape=(5, 10))])
    theirs = keras.Sequential([keras.Input((5, 10)), keras.layers.LSTM(64, return_sequences=True, return_state=True)])
    (_, shape, params), = table_rows(model.summary(print_fn=None))
    (_, keras_shape, keras_params), = table_rows(keras_summary(theirs))
    assert shape == "((None, 5, 64), (None, 64), (None, 64))"
    assert shape_leaves(shape) == shape_leaves(keras_shape) and params == keras_params


def test_unbuilt_layers_show_zero_and_unknown_shapes_as_keras():
    model = kr.Sequential([kr.LSTM(4), kr.Dense(3)])
    theirs = keras.Sequential([keras.layers.LSTM(4), keras.layers.Dense(3)])
    text = model.summary(print_fn=None)
    assert [row[1:] for row in table_rows(text)] == [["?", "0 (unbuilt)"], ["?", "0 (unbuilt)"]]
    assert [row[1:] for row in table_rows(text)] == [row[1:] for row in table_rows(keras_summary(theirs))]
    assert footer(text) == footer(keras_summary(theirs))


def test_after_a_call_the_model_knows_its_shapes():
    model = kr.Sequential([kr.LSTM(4, return_sequences=True), kr.Dense(3)])
    model(torch.randn(2, 6, 5))
    rows = table_rows(model.summary(print_fn=None))
    assert [row[1:] for row in rows] == [["(None, 6, 4)", "160"], ["(None, 6, 3)", "15"]]


def test_torch_modules_inside_show_their_shapes_and_parameter_counts():
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = kr.Bidirectional(kr.GRU(8, return_sequences=True))
            self.norm = nn.LayerNorm(16)
            self.head = nn.Linear(16, 5)

        def forward(self, x):
            return self.head(self.norm(self.encoder(x)))

    tagger = Tagger()
    text = kr.summary(tagger, input_shape=(None, 3), print_fn=None)
    assert text.splitlines()[0] == 'Model: "tagger"'
    rows = table_rows(text)
    expected_gru = 2 * (3 * 24 + 8 * 24 + 2 * 24)
    assert rows == [[f"{tagger.encoder.name} (Bidirectional)", "(None, None, 16)", f"{expected_gru:,}"],
                    ["norm (LayerNorm)", "(None, None, 16)", "32"],
                    ["head (Linear)", "(None, None, 5)", "85"]]
    total = sum(p.numel() for p in tagger.parameters())
    assert footer(text)[0] == f"Total params: {total:,} ({readable_size(4 * total)})"


def test_torch_sequential_finds_batch_axes_that_are_not_first():
    stack = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.LSTM(3, 7, batch_first=True))
    rows = table_rows(kr.summary(stack, input_shape=(10, 5), print_fn=None))
    assert rows == [["linear (Linear)", "(None, 10, 3)", "18"], ["re_lu (ReLU)", "(None, 10, 3)", "0"],
                    ["lstm (LSTM)", "((None, 10, 7), ((1, None, 7), (1, None, 7)))", "336"]]


def test_frozen_parameters_count_as_non_trainable():
    model = kr.Sequential([kr.Dense(4, input_dim=3), kr.Dense(2)])
    for p in model.layers[0].parameters():
        p.requires_grad_(False)
    text = model.summary(print_fn=None)
    assert footer(text) == ["Total params: 26 (104.00 B)", "Trainable params: 10 (40.00 B)",
                            "Non-trainable params: 16 (64.00 B)"]


def test_summary_leaves_no_trace_on_the_model():
    model = kr.Sequential([kr.LSTM(4, return_sequences=True, stateful=True, input_shape=(6, 3)), nn.Dropout(0.5),
                           kr.GRU(2)])
    model.train()
    before = {name: p.clone() for name, p in model.named_parameters()}
    model.summary(print_fn=None)
    assert model.layers[0].states is None and model.layers[0].last_path is None
    assert all(m.training for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[name], p) for name, p in model.named_parameters())
    model(torch.randn(5, 6, 3))
    assert model.layers[0].states[0].shape == (5, 4), "the first real batch sets the stateful batch size"
    held = [s.clone() for s in model.layers[0].states]
    model.summary(print_fn=None)     # dummy batches of other sizes run beside the held states
    assert all(torch.equal(a, b) for a, b in zip(held, model.layers[0].states))


@pytest.mark.parametrize("size", [0, 100, 1023, 1024, 656424, 1447464, 3 * 1024 ** 3])
def test_sizes_read_as_keras_writes_them(size):
    from keras.src.utils.summary_utils import readable_memory_size
    assert readable_size(size) == readable_memory_size(size)


def test_long_names_wrap_inside_their_column():
    model = kr.Sequential([kr.Dense(2, input_dim=2, name="a_dense_layer_with_a_very_long_descriptive_name")])
    text = model.summary(print_fn=None)
    assert {len(line) for line in text.splitlines()[1:-3]} == {88}
    name_cell = table_rows(text)[0][0]     # the name breaks mid-word, which the row parser joins with a space
    assert name_cell.replace(" ", "") == "a_dense_layer_with_a_very_long_descriptive_name(Dense)"


def test_a_torch_embedding_first_gets_integer_ids():
    stack = nn.Sequential(nn.Embedding(50, 8), kr.LSTM(4, return_sequences=True))
    rows = table_rows(kr.summary(stack, input_shape=(7,), print_fn=None))
    assert [row[1:] for row in rows] == [["(None, 7, 8)", "400"], ["(None, 7, 4)", "208"]]


def test_a_single_layer_is_one_row_and_its_hint_gives_the_shape():
    gru = kr.GRU(4, return_sequences=True, input_shape=(5, 3))
    rows = table_rows(kr.summary(gru, print_fn=None))
    assert rows == [[f"{gru.name} (GRU)", "(None, 5, 4)", f"{gru.count_params():,}"]]
    assert gru.last_path is None
