"""kr.metrics AUC, Precision, Recall and the four confusion counts against keras.metrics (torch backend):
the same batches streamed into both, results to 1e-6."""
import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr


def stream(seed, shape=(16, 3), batches=4, logits=False, ties=False):
    rng = np.random.default_rng(seed)
    for _ in range(batches):
        y_true = (rng.random(shape) > 0.6).astype("float32")
        if logits:
            y_pred = rng.normal(scale=2.0, size=shape).astype("float32")
        elif ties:      # values on the thresholds' grid, and the two ends, to test which side they fall on
            y_pred = rng.choice(np.array([0.0, 0.25, 0.5, 0.75, 1.0], dtype="float32"), size=shape)
        else:
            y_pred = rng.uniform(0.0, 1.0, shape).astype("float32")
        weights = rng.uniform(0.0, 2.0, shape[:1]).astype("float32")
        yield y_true, y_pred, weights


def compare(ours, theirs, data, weighted=True):
    for y_true, y_pred, weights in data:
        if weighted:
            ours.update_state(torch.tensor(y_true), torch.tensor(y_pred), sample_weight=torch.tensor(weights))
            theirs.update_state(y_true, y_pred, sample_weight=weights)
        else:
            ours.update_state(torch.tensor(y_true), torch.tensor(y_pred))
            theirs.update_state(y_true, y_pred)
    expected = keras.ops.convert_to_numpy(theirs.result())
    np.testing.assert_allclose(ours.result().cpu().numpy(), expected, rtol=1e-6, atol=1e-6)
    return expected


AUC_CASES = [
    {}, {"num_thresholds": 5}, {"num_thresholds": 3}, {"curve": "PR"},
    {"curve": "PR", "summation_method": "minoring"}, {"curve": "PR", "summation_method": "majoring"},
    {"summation_method": "minoring"}, {"summation_method": "majoring"}, {"curve": "PRGAIN"},
    {"thresholds": [0.3, 0.1, 0.7]}, {"thresholds": [0.25, 0.5, 0.75]},
    {"thresholds": [0.25, 0.5, 0.75], "curve": "PR"},
    {"multi_label": True}, {"multi_label": True, "num_labels": 3, "curve": "PR"},
    {"multi_label": True, "label_weights": [0.2, 1.0, 0.5]}, {"label_weights": [0.2, 1.0, 0.5]},
    {"multi_label": True, "thresholds": [0.2, 0.4, 0.9]},
]


@pytest.mark.parametrize("kwargs", AUC_CASES, ids=[str(c) for c in AUC_CASES])
@pytest.mark.parametrize("ties", [False, True], ids=["uniform", "on_grid"])
def test_auc_matches_keras_on_streamed_batches(kwargs, ties):
    ours, theirs = kr.metrics.AUC(**kwargs), keras.metrics.AUC(**kwargs)
    value = compare(ours, theirs, stream(3, ties=ties))
    assert kwargs.get("curve") == "PRGAIN" or 0.0 <= float(value) <= 1.0 + 1e-6   # a PR gain area can be < 0
    assert ours.name == "auc" and theirs.name.startswith("auc")   # Keras numbers repeated names
    np.testing.assert_allclose(np.asarray(ours.thresholds, dtype="float32"),
                               np.asarray(theirs.thresholds, dtype="float32"), rtol=0, atol=1e-7)
    ours.reset_state()
    theirs.reset_state()
    compare(ours, theirs, stream(4, ties=ties), weighted=False)


@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_auc_from_logits_matches_keras(curve):
    compare(kr.metrics.AUC(curve=curve, from_logits=True), keras.metrics.AUC(curve=curve, from_logits=True),
            stream(5, logits=True))


def test_auc_rank_one_and_column_targets_match_keras():
    rng = np.random.default_rng(6)
    ours, theirs = kr.metrics.AUC(), keras.metrics.AUC()
    for _ in range(3):
        y_true = (rng.random(10) > 0.5).astype("float32")
        y_pred = rng.random((10, 1)).astype("float32")
        ours.update_state(torch.tensor(y_true), torch.tensor(y_pred))
        theirs.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(ours.result()), float(theirs.result()), rtol=1e-6, atol=1e-6)


def test_auc_bad_arguments_are_named():
    with pytest.raises(ValueError, match="curve must be one of"):
        kr.metrics.AUC(curve="ROCK")
    with pytest.raises(ValueError, match="summation_method"):
        kr.metrics.AUC(summation_method="trapezoid")
    with pytest.raises(ValueError, match="num_thresholds must be an integer > 1"):
        kr.metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="num_labels is needed only when multi_label=True"):
        kr.metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match=r"thresholds must lie in \[0, 1\]"):
        kr.metrics.AUC(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="rank 2"):
        kr.metrics.AUC(multi_label=True).update_state(torch.zeros(2, 3, 4), torch.zeros(2, 3, 4))


def test_auc_config_matches_keras():
    kwargs = {"num_thresholds": 7, "curve": "PR", "summation_method": "minoring", "multi_label": True,
              "num_labels": 2, "from_logits": True}
    ours, theirs = kr.metrics.AUC(**kwargs).get_config(), keras.metrics.AUC(**kwargs).get_config()
    for key in kwargs:
        assert ours[key] == theirs[key], key
    assert kr.metrics.AUC(thresholds=[0.1, 0.5]).get_config()["thresholds"] == \
        keras.metrics.AUC(thresholds=[0.1, 0.5]).get_config()["thresholds"]


PR_CASES = [("Precision", {}), ("Recall", {}), ("Precision", {"thresholds": [0.2, 0.5, 0.8]}),
            ("Recall", {"thresholds": [0.0, 0.5, 1.0]}), ("Precision", {"top_k": 2}), ("Recall", {"top_k": 1}),
            ("Precision", {"class_id": 1}), ("Recall", {"class_id": 2, "thresholds": 0.3}),
            ("Precision", {"top_k": 2, "class_id": 0}),
            ("TruePositives", {}), ("FalsePositives", {}), ("TrueNegatives", {}), ("FalseNegatives", {}),
            ("TruePositives", {"thresholds": [0.1, 0.6]}), ("FalseNegatives", {"thresholds": [0.0, 0.5, 1.0]}),
            ("TrueNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]})]


@pytest.mark.parametrize("name, kwargs", PR_CASES, ids=[f"{n}{k}" for n, k in PR_CASES])
@pytest.mark.parametrize("ties", [False, True], ids=["uniform", "on_grid"])
def test_precision_recall_and_counts_match_keras(name, kwargs, ties):
    ours, theirs = getattr(kr.metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    compare(ours, theirs, stream(7, ties=ties))
    assert theirs.name.startswith(ours.name)    # Keras numbers repeated names: "precision_3"
    assert ours.get_config()["thresholds"] == theirs.get_config()["thresholds"]
    ours.reset_state()
    assert not ours.result().any()


@pytest.mark.parametrize("name", ["auc", "precision", "recall", "true_positives", "false_negatives"])
def test_metrics_by_keras_names(name):
    metric = kr.metrics.get(name)
    reference = keras.metrics.get(name)
    assert type(metric).__name__ == type(reference).__name__
    assert metric.name == name


def test_auc_in_compile_by_name_and_object_matches_keras():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = (x[:, :1] + 0.5 * rng.normal(size=(48, 1)) > 0).astype("float32")
    kernel = rng.normal(size=(4, 1)).astype("float32")

    ours = kr.Sequential([kr.layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    for model in (ours, theirs):
        model.set_weights([kernel, np.zeros(1, "float32")])
    ours.compile(optimizer="sgd", loss="binary_crossentropy",
                 metrics=["auc", kr.metrics.AUC(curve="PR", name="pr_auc"), kr.metrics.Precision(name="precision")])
    theirs.compile(optimizer="sgd", loss="binary_crossentropy",
                   metrics=["auc", keras.metrics.AUC(curve="PR", name="pr_auc"),
                            keras.metrics.Precision(name="precision")])
    got = ours.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    expected = theirs.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    assert set(got) == set(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-6, err_msg=key)
    history = ours.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "auc", "pr_auc", "precision"}
    assert all(isinstance(v, float) for v in history.history["auc"])


AT_CASES = [("SensitivityAtSpecificity", {"specificity": 0.7}), ("SpecificityAtSensitivity", {"sensitivity": 0.6}),
            ("PrecisionAtRecall", {"recall": 0.5}), ("RecallAtPrecision", {"precision": 0.4}),
            ("PrecisionAtRecall", {"recall": 0.8, "num_thresholds": 5}),
            ("RecallAtPrecision", {"precision": 0.9, "num_thresholds": 1}),
            ("SensitivityAtSpecificity", {"specificity": 0.5, "class_id": 1})]


@pytest.mark.parametrize("name, kwargs", AT_CASES, ids=[f"{n}{k}" for n, k in AT_CASES])
@pytest.mark.parametrize("ties", [False, True], ids=["uniform", "on_grid"])
def test_rate_at_rate_metrics_match_keras(name, kwargs, ties):
    ours, theirs = getattr(kr.metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    compare(ours, theirs, stream(9, ties=ties))
    assert theirs.name.startswith(ours.name)
    for key, value in kwargs.items():
        assert ours.get_config()[key] == theirs.get_config()[key] == value
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        getattr(kr.metrics, name)(1.5)


CONFIGS = [("AUC", {"num_thresholds": 9, "curve": "PR", "multi_label": True, "num_labels": 3}),
           ("AUC", {"thresholds": [0.2, 0.6], "from_logits": True}), ("Precision", {"top_k": 2, "class_id": 1}),
           ("Recall", {"thresholds": [0.3, 0.6]}), ("TruePositives", {"thresholds": 0.4}),
           ("PrecisionAtRecall", {"recall": 0.3, "num_thresholds": 11}), ("R2Score", {"num_regressors": 1}),
           ("F1Score", {"average": "macro", "threshold": 0.4}), ("FBetaScore", {"beta": 2.0})]


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=[f"{n}{k}" for n, k in CONFIGS])
def test_keras_configs_build_the_same_metric(name, kwargs):
    config = getattr(keras.metrics, name)(**kwargs).get_config()
    ours = kr.metrics.get({"class_name": name, "config": config})
    theirs = getattr(keras.metrics, name).from_config(config)
    rng = np.random.default_rng(10)
    y_true = (rng.random((12, 3)) > 0.5).astype("float32")
    y_pred = rng.random((12, 3)).astype("float32")
    ours.update_state(torch.tensor(y_true), torch.tensor(y_pred))
    theirs.update_state(y_true, y_pred)
    np.testing.assert_allclose(ours.result().numpy(), keras.ops.convert_to_numpy(theirs.result()), rtol=1e-5,
                               atol=1e-6)
    again = kr.metrics.get({"class_name": name, "config": ours.get_config()})
    assert again.get_config() == ours.get_config()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_metrics_count_on_the_data_device_and_equal_the_cpu_counts():
    made = [lambda: kr.metrics.AUC(), lambda: kr.metrics.AUC(curve="PR", multi_label=True),
            lambda: kr.metrics.Precision(thresholds=[0.3, 0.7]), lambda: kr.metrics.Recall(top_k=1),
            lambda: kr.metrics.F1Score(), lambda: kr.metrics.R2Score(), lambda: kr.metrics.RecallAtPrecision(0.5)]
    for make in made:
        on_cpu, on_gpu = make(), make()
        for y_true, y_pred, weights in stream(14):
            on_cpu.update_state(torch.tensor(y_true), torch.tensor(y_pred), sample_weight=torch.tensor(weights))
            on_gpu.update_state(torch.tensor(y_true).cuda(), torch.tensor(y_pred).cuda(),
                                sample_weight=torch.tensor(weights).cuda())
        result = on_gpu.result()
        assert result.device.type == "cuda"
        torch.testing.assert_close(result.cpu(), on_cpu.result(), rtol=1e-5, atol=1e-6)
