"""kr.utils.plot_attention_scores: one panel per sample (and head) for the scores the attention layers
return, drawn with matplotlib's Agg backend; a clear error without matplotlib."""
import builtins
import importlib
import sys

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr


@pytest.fixture
def agg():
    pytest.importorskip("matplotlib")       # the [test] and [plot] extras install it
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    yield plt
    plt.close("all")


def heat_maps(figure):
    return [axes for axes in figure.axes if axes.images]


@pytest.mark.parametrize("layer", ["Attention", "AdditiveAttention"])
def test_batch_query_key_scores_give_one_panel_per_sample(agg, layer):
    query, value = torch.randn(3, 4, 6), torch.randn(3, 5, 6)
    outputs, scores = getattr(kr.layers, layer)()([query, value], return_attention_scores=True)
    assert scores.shape == (3, 4, 5)
    figure = kr.utils.plot_attention_scores(scores)
    panels = heat_maps(figure)
    assert len(panels) == 3
    assert [p.get_title() for p in panels] == ["sample 0", "sample 1", "sample 2"]
    np.testing.assert_allclose(panels[1].images[0].get_array(), scores[1].detach().numpy(), rtol=1e-6)
    assert len(figure.axes) == 4        # the three maps and the colorbar
    # The (outputs, scores) pair is taken as it is; samples picks rows.
    assert len(heat_maps(kr.utils.plot_attention_scores((outputs, scores), samples=[0, 2], colorbar=False))) == 2


def test_multi_head_scores_give_a_panel_per_sample_and_head(agg):
    layer = kr.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    query, value = torch.randn(2, 4, 6), torch.randn(2, 5, 6)
    _, scores = layer(query, value, return_attention_scores=True)
    assert scores.shape == (2, 2, 4, 5)
    figure = kr.utils.plot_attention_scores(scores, key_labels=list("abcde"), query_labels=list("wxyz"))
    panels = heat_maps(figure)
    assert len(panels) == 4
    assert panels[3].get_title() == "sample 1, head 1"
    np.testing.assert_allclose(panels[2].images[0].get_array(), scores[1, 0].detach().numpy(), rtol=1e-6)
    assert [t.get_text() for t in panels[0].get_xticklabels()] == list("abcde")
    assert len(heat_maps(kr.utils.plot_attention_scores(scores, samples=0, heads=1))) == 1
    assert len(heat_maps(kr.utils.plot_attention_scores(scores[0, 0].detach().numpy()))) == 1


def test_drawing_on_given_axes_and_bad_arguments(agg):
    scores = torch.softmax(torch.randn(2, 3, 3), -1)
    figure, axes = agg.subplots(1, 2)
    assert kr.utils.plot_attention_scores(scores, ax=axes, colorbar=False) is figure
    assert all(a.images for a in axes)
    with pytest.raises(ValueError, match="2 panels to draw on 1 axes"):
        kr.utils.plot_attention_scores(scores, ax=axes[0])
    with pytest.raises(ValueError, match=r"got shape \(5,\)"):
        kr.utils.plot_attention_scores(np.ones(5))
    with pytest.raises(ValueError, match="heads= needs"):
        kr.utils.plot_attention_scores(scores, heads=0)
    with pytest.raises(ValueError, match="samples .* out of range"):
        kr.utils.plot_attention_scores(scores, samples=[4])
    with pytest.raises(ValueError, match="key_labels has 2 labels for 3 steps"):
        kr.utils.plot_attention_scores(scores, key_labels=["a", "b"])


def test_without_matplotlib_the_error_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    monkeypatch.delitem(sys.modules, "kerasrnn_torch.utils.attention_plot", raising=False)
    with pytest.raises(ImportError, match=r"pip install kerasrnn_torch\[plot\]"):
        kr.utils.plot_attention_scores(np.ones((2, 2)))
    monkeypatch.undo()
    importlib.invalidate_caches()


def test_importing_the_package_does_not_import_matplotlib():
    code = ("import sys, kerasrnn_torch; "
            "assert not any(m == 'matplotlib' or m.startswith('matplotlib.') for m in sys.modules)")
    import subprocess
    subprocess.run([sys.executable, "-c", code], check=True)
