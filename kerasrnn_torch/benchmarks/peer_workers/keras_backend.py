"""`bench --peers` worker: Keras 3 on the backend the runner set in KERAS_BACKEND (jax, or tensorflow
where it is installed), the model compiled with `jit_compile=True` and stepped with
`train_on_batch` / `predict_on_batch` (the jit-compiled train and predict functions `fit` and
`predict` run per batch)."""
from __future__ import annotations

import os
from typing import Any

REQUIRES = ("keras", os.environ.get("KERAS_BACKEND", "jax"))


def setup() -> dict[str, str]:
    import keras

    backend = keras.config.backend()
    versions = {"keras": keras.__version__, "backend": backend}
    if backend == "jax":
        import jax
        versions["jax"] = jax.__version__
    elif backend == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        versions["tensorflow"] = tf.__version__
    return versions


def build(case: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    import keras

    keras.utils.set_random_seed(0)
    x = data["x"]
    if data["mask"] is not None:   # masked steps are zeros: the Masking layer makes the mask from them
        x = x * data["mask"][..., None]
    inputs = keras.Input((case["timesteps"], case["features"]))
    hidden = keras.layers.Masking(0.0)(inputs) if data["mask"] is not None else inputs
    layer = getattr(keras.layers, case["layer"])(case["units"], **case["kwargs"])
    model = keras.Model(inputs, keras.layers.Dense(10)(layer(hidden)))
    model.compile(optimizer=keras.optimizers.SGD(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    y = data["y"]

    def forward() -> None:
        model.predict_on_batch(x)

    def train() -> None:
        model.train_on_batch(x, y)

    return {"forward": forward, "train": train}, lambda: {"backend": keras.config.backend()}
