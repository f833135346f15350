"""Five keras-io programs ported by changing their imports alone, and their Keras files both ways.

Each program's model code below is the keras-io program's own text (its model-building part, then its
`compile` and a `fit` as it writes them), run twice: after `import keras` / `from keras import layers, ops`
(Keras 3, torch backend) and after `import kerasrnn_torch as keras` / `from kerasrnn_torch import layers, ops`.
Where a program's sizes would make the test slow, a size constant is cut down and a comment says so; no
other word of the code is changed. The data are random arrays of the programs' shapes (no download).

For each program:
- the same code builds the same model in both libraries, and with Keras's weights ours predicts Keras's numbers;
- Keras's `.keras` file loads with `kr.models.load_model` and `kr.from_keras` (the program's own layer classes,
  defined on `kr.layers.Layer`, given as `custom_objects`) and predicts what Keras predicts;
- our `model.save` and `kr.save_keras` write files Keras's `load_model` reads (Keras's classes as its
  `custom_objects`) and that predict what our model predicts;
- a fit of a couple of batches runs as the program writes it (with Keras's history, where no dropout draws).
"""
from __future__ import annotations

import dataclasses
import textwrap

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr

KERAS_IMPORTS = "import keras\nfrom keras import layers, ops\n"
OUR_IMPORTS = "import kerasrnn_torch as keras\nfrom kerasrnn_torch import layers, ops\n"
ATOL = 1e-6

# keras-io nlp/text_classification_with_transformer.py
TEXT_CLASSIFICATION_WITH_TRANSFORMER = '''
class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [
                layers.Dense(ff_dim, activation="relu"),
                layers.Dense(embed_dim),
            ]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output)
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        maxlen = ops.shape(x)[-1]
        positions = ops.arange(start=0, stop=maxlen, step=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions


vocab_size = 200  # the program's 20000, cut down
maxlen = 20  # the program's 200, cut down

embed_dim = 32  # Embedding size for each token
num_heads = 2  # Number of attention heads
ff_dim = 32  # Hidden layer size in feed forward network inside transformer

inputs = layers.Input(shape=(maxlen,))
embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
x = embedding_layer(inputs)
transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
x = transformer_block(x)
x = layers.GlobalAveragePooling1D()(x)
x = layers.Dropout(0.1)(x)
x = layers.Dense(20, activation="relu")(x)
x = layers.Dropout(0.1)(x)
outputs = layers.Dense(2, activation="softmax")(x)

model = keras.Model(inputs=inputs, outputs=outputs)

model.compile(
    optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
)
'''
TEXT_CLASSIFICATION_WITH_TRANSFORMER_FIT = '''
history = model.fit(
    x_train, y_train, batch_size=32, epochs=1, validation_data=(x_val, y_val)  # epochs: the program's 2
)
'''

# keras-io timeseries/timeseries_classification_transformer.py
TIMESERIES_CLASSIFICATION_TRANSFORMER = '''
n_classes = 2


def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
    # Attention and Normalization
    x = layers.MultiHeadAttention(
        key_dim=head_size, num_heads=num_heads, dropout=dropout
    )(inputs, inputs)
    x = layers.Dropout(dropout)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    res = x + inputs

    # Feed Forward Part
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return x + res


def build_model(
    input_shape,
    head_size,
    num_heads,
    ff_dim,
    num_transformer_blocks,
    mlp_units,
    dropout=0,
    mlp_dropout=0,
):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for _ in range(num_transformer_blocks):
        x = transformer_encoder(x, head_size, num_heads, ff_dim, dropout)

    x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
    for dim in mlp_units:
        x = layers.Dense(dim, activation="relu")(x)
        x = layers.Dropout(mlp_dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


input_shape = (50, 1)  # FordA's (500, 1), cut down

model = build_model(
    input_shape,
    head_size=16,  # the program's 256, cut down
    num_heads=4,
    ff_dim=4,
    num_transformer_blocks=2,  # the program's 4, cut down
    mlp_units=[16],  # the program's [128], cut down
    mlp_dropout=0.4,
    dropout=0.25,
)

model.compile(
    loss="sparse_categorical_crossentropy",
    optimizer=keras.optimizers.Adam(learning_rate=1e-4),
    metrics=["sparse_categorical_accuracy"],
)
'''
TIMESERIES_CLASSIFICATION_TRANSFORMER_FIT = '''
callbacks = [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)]

model.fit(
    x_train,
    y_train,
    validation_split=0.2,
    epochs=1,  # the program's 200
    batch_size=64,
    callbacks=callbacks,
)
'''

# keras-io vision/conv_lstm.py
CONV_LSTM = '''
# Construct the input layer with no definite frame size.
inp = layers.Input(shape=(None, *x_train.shape[2:]))

# We will construct 3 `ConvLSTM2D` layers with batch normalization,
# followed by a `Conv3D` layer for the spatiotemporal outputs.
x = layers.ConvLSTM2D(
    filters=8,  # the program's 64, cut down (here and in the next two)
    kernel_size=(5, 5),
    padding="same",
    return_sequences=True,
    activation="relu",
)(inp)
x = layers.BatchNormalization()(x)
x = layers.ConvLSTM2D(
    filters=8,
    kernel_size=(3, 3),
    padding="same",
    return_sequences=True,
    activation="relu",
)(x)
x = layers.BatchNormalization()(x)
x = layers.ConvLSTM2D(
    filters=8,
    kernel_size=(1, 1),
    padding="same",
    return_sequences=True,
    activation="relu",
)(x)
x = layers.Conv3D(
    filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same"
)(x)

# Next, we will build the complete model and compile it.
model = keras.models.Model(inp, x)
model.compile(
    loss=keras.losses.binary_crossentropy, optimizer=keras.optimizers.Adam(),
)
'''
CONV_LSTM_FIT = '''
# Define some callbacks to improve training.
early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10)
reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=5)

# Define modifiable training hyperparameters.
epochs = 1  # the program's 20
batch_size = 5

# Fit the model to the training data.
history = model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    validation_data=(x_val, y_val),
    callbacks=[early_stopping, reduce_lr],
    shuffle=shuffle,  # (added for the comparison with Keras: the program shuffles, as fit does by default)
)
'''

# keras-io timeseries/timeseries_classification_from_scratch.py
TIMESERIES_CLASSIFICATION_FROM_SCRATCH = '''
num_classes = len(np.unique(y_train))


def make_model(input_shape):
    input_layer = keras.layers.Input(input_shape)

    conv1 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = keras.layers.ReLU()(conv1)

    conv2 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization()(conv2)
    conv2 = keras.layers.ReLU()(conv2)

    conv3 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv2)
    conv3 = keras.layers.BatchNormalization()(conv3)
    conv3 = keras.layers.ReLU()(conv3)

    gap = keras.layers.GlobalAveragePooling1D()(conv3)

    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)

    return keras.models.Model(inputs=input_layer, outputs=output_layer)


model = make_model(input_shape=x_train.shape[1:])
'''
TIMESERIES_CLASSIFICATION_FROM_SCRATCH_FIT = '''
epochs = 1  # the program's 500
batch_size = 32

callbacks = [
    keras.callbacks.ModelCheckpoint(
        checkpoint_path, save_best_only=True, monitor="val_loss"  # the program's "best_model.h5"
    ),
    keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.5, patience=20, min_lr=0.0001
    ),
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, verbose=1),
]
model.compile(
    optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
)
history = model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    callbacks=callbacks,
    validation_split=0.2,
    verbose=0,  # the program's 1 (a progress bar)
    shuffle=shuffle,  # (added for the comparison with Keras: the program shuffles, as fit does by default)
)
'''

# keras-io timeseries/timeseries_anomaly_detection.py
TIMESERIES_ANOMALY_DETECTION = '''
model = keras.Sequential(
    [
        layers.Input(shape=(x_train.shape[1], x_train.shape[2])),
        layers.Conv1D(
            filters=32, kernel_size=7, padding="same", strides=2, activation="relu"
        ),
        layers.Dropout(rate=0.2),
        layers.Conv1D(
            filters=16, kernel_size=7, padding="same", strides=2, activation="relu"
        ),
        layers.Conv1DTranspose(
            filters=16, kernel_size=7, padding="same", strides=2, activation="relu"
        ),
        layers.Dropout(rate=0.2),
        layers.Conv1DTranspose(
            filters=32, kernel_size=7, padding="same", strides=2, activation="relu"
        ),
        layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
'''
TIMESERIES_ANOMALY_DETECTION_FIT = '''
history = model.fit(
    x_train,
    x_train,
    epochs=1,  # the program's 50
    batch_size=128,
    validation_split=0.1,
    callbacks=[
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, mode="min")
    ],
)
'''


@dataclasses.dataclass
class Program:
    model_code: str
    fit_code: str
    data: dict            # the arrays the code reads (x_train, ...), random, of the program's shapes (cut down)
    sample: np.ndarray    # what the models predict on
    user_classes: tuple[str, ...] = ()
    dropout: bool = True  # whether training draws dropout masks (then the two histories cannot be equal)


def _rng():
    return np.random.default_rng(7)


def _tokens(*shape):
    return _rng().integers(0, 200, shape).astype("int32")


PROGRAMS = {
    "text_classification_with_transformer": Program(
        TEXT_CLASSIFICATION_WITH_TRANSFORMER, TEXT_CLASSIFICATION_WITH_TRANSFORMER_FIT,
        {"x_train": _tokens(64, 20), "y_train": _rng().integers(0, 2, 64), "x_val": _tokens(16, 20),
         "y_val": _rng().integers(0, 2, 16)},
        _tokens(4, 20), user_classes=("TransformerBlock", "TokenAndPositionEmbedding")),
    "timeseries_classification_transformer": Program(
        TIMESERIES_CLASSIFICATION_TRANSFORMER, TIMESERIES_CLASSIFICATION_TRANSFORMER_FIT,
        {"x_train": _rng().standard_normal((80, 50, 1)).astype("float32"), "y_train": _rng().integers(0, 2, 80)},
        _rng().standard_normal((4, 50, 1)).astype("float32")),
    "conv_lstm": Program(
        CONV_LSTM, CONV_LSTM_FIT,
        # Moving MNIST's frames are 64x64 and 19 steps long: 8x8 and 4 steps here.
        {"x_train": _rng().random((10, 4, 8, 8, 1)).astype("float32"),
         "y_train": _rng().random((10, 4, 8, 8, 1)).astype("float32"),
         "x_val": _rng().random((5, 4, 8, 8, 1)).astype("float32"),
         "y_val": _rng().random((5, 4, 8, 8, 1)).astype("float32")},
        _rng().random((2, 4, 8, 8, 1)).astype("float32"), dropout=False),
    "timeseries_classification_from_scratch": Program(
        TIMESERIES_CLASSIFICATION_FROM_SCRATCH, TIMESERIES_CLASSIFICATION_FROM_SCRATCH_FIT,
        {"x_train": _rng().standard_normal((80, 40, 1)).astype("float32"), "y_train": _rng().integers(0, 2, 80)},
        _rng().standard_normal((4, 40, 1)).astype("float32"), dropout=False),
    "timeseries_anomaly_detection": Program(
        TIMESERIES_ANOMALY_DETECTION, TIMESERIES_ANOMALY_DETECTION_FIT,
        # TIME_STEPS = 288 in the program: 48 here.
        {"x_train": _rng().standard_normal((200, 48, 1)).astype("float32")},
        _rng().standard_normal((4, 48, 1)).astype("float32")),
}


def run(code: str, imports: str, namespace: dict | None = None, **names) -> dict:
    """Run program text after one of the two import headers; returns its namespace."""
    namespace = {"np": np} if namespace is None else namespace
    namespace.update(names)
    exec(compile(imports + textwrap.dedent(code), "<keras-io program>", "exec"), namespace)
    return namespace


def built(name: str, imports: str) -> dict:
    program = PROGRAMS[name]
    return run(program.model_code, imports, **{k: v.copy() for k, v in program.data.items()})


def randomize(keras_model) -> None:
    """Random values in every weight of a Keras model (moving variances positive), of moderate size."""
    rng = np.random.default_rng(3)
    for variable in keras_model.weights:
        shape = tuple(variable.shape)
        values = rng.uniform(-0.3, 0.3, shape)
        if variable.path.endswith("moving_variance"):
            values = rng.uniform(0.5, 1.5, shape)
        variable.assign(values.astype("float32"))


def keras_predict(model, sample) -> np.ndarray:
    return keras.ops.convert_to_numpy(model.predict(sample, verbose=0))


def our_predict(model, sample) -> np.ndarray:
    return np.asarray(model.predict(sample, verbose=0))


def user_classes(namespace: dict, name: str) -> dict:
    return {cls: namespace[cls] for cls in PROGRAMS[name].user_classes}


def assert_same(got, expected, what):
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL, err_msg=what)


@pytest.fixture(params=list(PROGRAMS))
def program(request):
    return request.param


def test_the_program_builds_with_only_its_imports_changed_and_predicts_keras_s_numbers(program):
    theirs = built(program, KERAS_IMPORTS)["model"]
    ours_namespace = built(program, OUR_IMPORTS)
    ours = ours_namespace["model"]
    assert isinstance(ours, (kr.Model, kr.Sequential))
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    for name in PROGRAMS[program].user_classes:
        assert issubclass(ours_namespace[name], kr.layers.Layer)
    randomize(theirs)
    ours.set_weights(theirs.get_weights())
    sample = PROGRAMS[program].sample
    assert_same(our_predict(ours, sample), keras_predict(theirs, sample), f"{program}: predictions")


def test_keras_s_file_loads_here_with_keras_s_numbers(program, tmp_path):
    theirs = built(program, KERAS_IMPORTS)["model"]
    randomize(theirs)
    path = tmp_path / "keras.keras"
    theirs.save(path)
    custom = user_classes(built(program, OUR_IMPORTS), program)
    sample = PROGRAMS[program].sample
    expected = keras_predict(theirs, sample)
    loaded = kr.models.load_model(path, custom_objects=custom)
    assert_same(our_predict(loaded, sample), expected, f"{program}: kr.models.load_model")
    from_keras = kr.from_keras(path, custom_objects=custom)
    assert_same(our_predict(from_keras, sample), expected, f"{program}: kr.from_keras")
    for name in PROGRAMS[program].user_classes:
        assert any(type(layer) is custom[name] for layer in loaded.layers), name


def test_our_files_load_in_keras_with_our_numbers(program, tmp_path):
    reference = built(program, KERAS_IMPORTS)
    randomize(reference["model"])
    ours = built(program, OUR_IMPORTS)["model"]
    ours.set_weights(reference["model"].get_weights())
    sample = PROGRAMS[program].sample
    expected = our_predict(ours, sample)
    custom = user_classes(reference, program)
    ours.save(tmp_path / "saved.keras")
    kr.save_keras(ours, tmp_path / "save_keras.keras")
    for file in ("saved.keras", "save_keras.keras"):
        loaded = keras.models.load_model(tmp_path / file, custom_objects=custom)
        assert_same(keras_predict(loaded, sample), expected, f"{program}: {file} in Keras")
        for name in PROGRAMS[program].user_classes:
            assert any(type(layer) is custom[name] for layer in loaded.layers), name


def fitted(program: str, imports: str, weights, shuffle: bool, tmp_path) -> tuple[dict, dict]:
    namespace = built(program, imports)
    if weights is not None:
        namespace["model"].set_weights(weights)
    namespace.update(shuffle=shuffle, checkpoint_path=str(tmp_path / f"best_{imports.split()[1]}.keras"))
    return run(PROGRAMS[program].fit_code, imports, namespace), namespace


def test_a_short_fit_runs_as_the_program_writes_it(program, tmp_path):
    keras.utils.set_random_seed(1)
    reference = built(program, KERAS_IMPORTS)["model"]
    start = [w.copy() for w in reference.get_weights()]
    ours, _ = fitted(program, OUR_IMPORTS, start, True, tmp_path)
    model = ours["model"]
    history = model.history.history if "history" not in ours else ours["history"].history
    assert history["loss"] and all(np.isfinite(history["loss"]))
    assert any(not np.array_equal(a, b) for a, b in zip(model.get_weights(), start)), "fit changed no weight"
    if program == "timeseries_classification_from_scratch":
        loaded = kr.models.load_model(ours["checkpoint_path"])       # ModelCheckpoint's file, as the program reads
        assert_same(our_predict(loaded, PROGRAMS[program].sample), our_predict(model, PROGRAMS[program].sample),
                    "the checkpoint")


@pytest.mark.parametrize("name", [name for name, p in PROGRAMS.items() if not p.dropout])
def test_without_dropout_the_fit_gives_keras_s_history(name, tmp_path):
    keras.utils.set_random_seed(1)
    reference = built(name, KERAS_IMPORTS)["model"]
    randomize(reference)
    start = [w.copy() for w in reference.get_weights()]
    theirs, _ = fitted(name, KERAS_IMPORTS, start, False, tmp_path)
    ours, _ = fitted(name, OUR_IMPORTS, start, False, tmp_path)
    expected, got = theirs["history"].history, ours["history"].history
    assert set(got) == set(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-4, err_msg=f"{name}: {key}")
    for mine, keras_weight in zip(ours["model"].get_weights(), theirs["model"].get_weights()):
        np.testing.assert_allclose(mine, keras_weight, rtol=0, atol=1e-4)
