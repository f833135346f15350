"""`bench --peers` worker: kerasrnn_torch (ours), the same Keras model code as the Keras worker,
stepped with the model's own `train_on_batch` / `predict_on_batch` (what `fit`/`predict` run per
batch), each layer at its default dispatch; `info()` reports the path the recurrent layer ran."""
from __future__ import annotations

from typing import Any

REQUIRES = ("torch", "kerasrnn_torch")


def setup() -> dict[str, str]:
    import torch

    from kerasrnn_torch._version import __version__

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    return {"kerasrnn_torch": __version__, "torch": torch.__version__}


def build(case: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    import torch

    from kerasrnn_torch.core.input_layer import Input
    from kerasrnn_torch.layers.core.dense import Dense
    from kerasrnn_torch.layers.core.masking import Masking
    from kerasrnn_torch.layers.rnn.gru import GRU
    from kerasrnn_torch.layers.rnn.lstm import LSTM
    from kerasrnn_torch.losses.loss import SparseCategoricalCrossentropy
    from kerasrnn_torch.models.functional import Model
    from kerasrnn_torch.optimizers.sgd import SGD

    torch.manual_seed(0)
    x = torch.from_numpy(data["x"])
    if data["mask"] is not None:   # a Masking layer makes the mask, as in the Keras worker
        x = x * torch.from_numpy(data["mask"]).unsqueeze(-1)
    y = torch.from_numpy(data["y"]).long()
    inputs = Input((case["timesteps"], case["features"]))
    hidden = Masking(0.0)(inputs) if data["mask"] is not None else inputs
    layer = {"LSTM": LSTM, "GRU": GRU}[case["layer"]](case["units"], **case["kwargs"])
    model = Model(inputs, Dense(10)(layer(hidden)))
    model.compile(optimizer=SGD(0.01), loss=SparseCategoricalCrossentropy(from_logits=True))
    paths: dict[str, Any] = {}

    def forward() -> None:
        model.predict_on_batch(x)
        paths["forward"] = layer.last_path

    def train() -> None:
        model.train_on_batch(x, y)
        paths["train"] = layer.last_path

    return {"forward": forward, "train": train}, lambda: {"path": dict(paths)}
