"""The image layers in front of a model, as keras-io programs put them: they train with `fit` (random while
training) and `predict` leaves the random ones out."""
import torch

import kerasrnn_torch as kr


def test_image_layers_in_front_of_a_model_fit_and_predict():
    torch.manual_seed(0)
    model = kr.Sequential([kr.Input((10, 12, 3)), kr.Resizing(8, 8), kr.RandomFlip("horizontal", seed=1),
                           kr.RandomRotation(0.1, seed=2), kr.RandomZoom(0.1, seed=3),
                           kr.RandomTranslation(0.1, 0.1, seed=4), kr.RandomCrop(6, 6, seed=5), kr.CenterCrop(6, 6),
                           kr.Flatten(), kr.Dense(2)])
    assert tuple(model.output_shape) == (None, 2)
    x, y = torch.rand(16, 10, 12, 3), torch.randn(16, 2)
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    first = model.predict(x, verbose=0)
    assert torch.equal(torch.as_tensor(first), torch.as_tensor(model.predict(x, verbose=0)))
    # predict: only Resizing and the crops act (RandomCrop is unchanged outside training: 8 x 8, centre 6 x 6)
    dense = model.layers[-1]
    expected = dense(kr.Flatten()(kr.CenterCrop(6, 6)(kr.Resizing(8, 8)(x))))
    assert torch.allclose(torch.as_tensor(first), expected.detach(), atol=1e-5)
