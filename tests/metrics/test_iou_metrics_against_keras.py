"""kr.metrics IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU against keras.metrics (torch backend)."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr


def stream(kind, seed=15, batches=3):
    rng = np.random.default_rng(seed)
    for _ in range(batches):
        weights = rng.integers(0, 3, (6, 5)).astype("int32")      # integer weights: Keras counts in integers
        if kind == "ids":
            true, pred = rng.integers(0, 4, (6, 5)), rng.integers(0, 4, (6, 5))
            true[rng.random((6, 5)) < 0.2] = -1                      # padding / out-of-range ids
            yield true, pred, weights
        elif kind == "binary":
            yield (rng.random((6, 5)) > 0.5).astype("float32"), rng.random((6, 5)).astype("float32"), weights
        else:
            yield (np.eye(4, dtype="float32")[rng.integers(0, 4, (6, 5))],
                   rng.dirichlet(np.ones(4), (6, 5)).astype("float32"), weights)


CASES = [("IoU", {"num_classes": 4, "target_class_ids": [0, 2]}, "ids"),
         ("IoU", {"num_classes": 4, "target_class_ids": [3], "ignore_class": -1}, "ids"),
         ("MeanIoU", {"num_classes": 4}, "ids"), ("MeanIoU", {"num_classes": 4, "ignore_class": 2}, "ids"),
         ("BinaryIoU", {}, "binary"), ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, "binary"),
         ("OneHotIoU", {"num_classes": 4, "target_class_ids": [1, 3]}, "onehot"),
         ("OneHotMeanIoU", {"num_classes": 4}, "onehot"),
         ("MeanIoU", {"num_classes": 4, "sparse_y_true": False, "sparse_y_pred": False}, "onehot")]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
def test_iou_metrics_match_keras(name, kwargs, kind, weighted):
    ours, theirs = getattr(kr.metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for y_true, y_pred, weights in stream(kind):
        ours.update_state(torch.tensor(y_true), torch.tensor(y_pred),
                          sample_weight=torch.tensor(weights) if weighted else None)
        theirs.update_state(y_true, y_pred, sample_weight=weights if weighted else None)
    np.testing.assert_allclose(float(ours.result()), float(theirs.result()), rtol=1e-6, atol=1e-6)
    assert theirs.name.startswith(ours.name)
    config, keras_config = ours.get_config(), theirs.get_config()
    assert set(config) == set(keras_config)
    ours.reset_state()
    assert float(ours.result()) == 0.0


def test_iou_target_class_out_of_range_is_named():
    with pytest.raises(ValueError, match=r"target_class_ids \[4\] must lie in \[0, 4\)"):
        kr.metrics.IoU(num_classes=4, target_class_ids=[4])
