"""`kr.random`: Keras's random draws, their seeds (None, an int, a SeedGenerator) and distributions."""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr


def test_an_int_seed_repeats_and_a_seed_generator_streams():
    assert torch.equal(kr.random.normal((5,), seed=3), kr.random.normal((5,), seed=3))
    gen = kr.random.SeedGenerator(1337)
    first, second = kr.random.uniform((5,), seed=gen), kr.random.uniform((5,), seed=gen)
    assert not torch.equal(first, second)
    again = kr.random.SeedGenerator(1337)
    assert torch.equal(kr.random.uniform((5,), seed=again), first)


def test_a_seed_generator_s_position_travels_with_its_owner_s_state_dict():
    class Owner(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.seed_generator = kr.random.SeedGenerator(5)

    a = Owner()
    kr.random.normal((3,), seed=a.seed_generator)
    b = Owner()
    b.load_state_dict(a.state_dict())
    assert torch.equal(kr.random.normal((3,), seed=a.seed_generator), kr.random.normal((3,), seed=b.seed_generator))


@pytest.mark.parametrize("draw, mean, std, low, high", [
    (lambda: kr.random.normal((20000,), mean=2.0, stddev=0.5, seed=1), 2.0, 0.5, None, None),
    (lambda: kr.random.uniform((20000,), minval=-1.0, maxval=3.0, seed=1), 1.0, 4 / 12 ** 0.5, -1.0, 3.0),
    (lambda: kr.random.truncated_normal((20000,), mean=1.0, stddev=2.0, seed=1), 1.0, 2.0 * 0.8796, -3.0, 5.0),
])
def test_the_draws_follow_keras_s_distributions(draw, mean, std, low, high):
    values = draw()
    assert values.dtype == torch.float32
    assert float(values.mean()) == pytest.approx(mean, abs=0.05)
    assert float(values.std()) == pytest.approx(std, rel=0.03)
    if low is not None:
        assert float(values.min()) >= low and float(values.max()) <= high


def test_integer_draws_shuffle_dropout_and_categorical():
    ints = kr.random.randint((1000,), 2, 5, seed=0)
    assert ints.dtype == torch.int32 and set(ints.tolist()) == {2, 3, 4}
    x = torch.arange(10)
    assert sorted(kr.random.shuffle(x, seed=0).tolist()) == list(range(10))
    dropped = kr.random.dropout(torch.ones(10000), 0.25, seed=0)
    np.testing.assert_allclose(np.unique(dropped.numpy()), [0.0, 1 / 0.75], rtol=1e-6)
    assert float((dropped == 0).float().mean()) == pytest.approx(0.25, abs=0.02)
    shared = kr.random.dropout(torch.ones(4, 6), 0.5, noise_shape=(4, 1), seed=0)
    assert all(len(set(row.tolist())) == 1 for row in shared)
    picks = kr.random.categorical(torch.tensor([[0.0, 100.0], [100.0, 0.0]]), 3, seed=0)
    assert picks.tolist() == [[1, 1, 1], [0, 0, 0]]


def test_bad_arguments_name_what_was_expected():
    with pytest.raises(ValueError, match="`seed` must be None, an integer or a kr.random.SeedGenerator"):
        kr.random.normal((2,), seed="x")
    with pytest.raises(ValueError, match="`rate` must be in \\[0, 1\\)"):
        kr.random.dropout(torch.ones(2), 1.0)
    with pytest.raises(ValueError, match="`logits` must be \\(batch, num_classes\\)"):
        kr.random.categorical(torch.ones(3), 2)
    with pytest.raises(ValueError, match="dtype"):
        kr.random.normal((2,), dtype="int32")


GAMMA_FAMILY = [
    ("gamma", lambda kr_or_keras, shape, seed: kr_or_keras.random.gamma(shape, alpha=3.0, seed=seed), 3.0, 3.0),
    ("beta", lambda kr_or_keras, shape, seed: kr_or_keras.random.beta(shape, alpha=2.0, beta=3.0, seed=seed),
     0.4, 0.04),
    ("binomial", lambda kr_or_keras, shape, seed: kr_or_keras.random.binomial(shape, counts=10, probabilities=0.3,
                                                                             seed=seed), 3.0, 2.1),
]


@pytest.mark.parametrize("name, draw, mean, variance", GAMMA_FAMILY)
def test_gamma_beta_binomial_follow_keras_s_distributions(name, draw, mean, variance):
    import keras
    values = draw(kr, (200_000,), 7)
    theirs = keras.ops.convert_to_numpy(draw(keras, (200_000,), 7))
    assert values.dtype == torch.float32 and str(theirs.dtype) == "float32"
    assert values.shape == theirs.shape == (200_000,)
    for sample in (values.numpy(), theirs):
        assert sample.mean() == pytest.approx(mean, rel=0.02)
        assert sample.var() == pytest.approx(variance, rel=0.05)
    if name == "binomial":
        assert torch.equal(values, values.round()) and values.min() >= 0 and values.max() <= 10
    if name == "beta":
        assert values.min() >= 0 and values.max() <= 1


@pytest.mark.parametrize("name, draw, mean, variance", GAMMA_FAMILY)
def test_gamma_beta_binomial_seeds_as_the_other_draws(name, draw, mean, variance):
    assert torch.equal(draw(kr, (6,), 3), draw(kr, (6,), 3))
    gen = kr.random.SeedGenerator(11)
    first, second = draw(kr, (6,), gen), draw(kr, (6,), gen)
    assert not torch.equal(first, second)
    assert torch.equal(draw(kr, (6,), kr.random.SeedGenerator(11)), first)
    # A seeded draw leaves torch's global generator where it was.
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    draw(kr, (6,), 5)
    assert torch.equal(torch.rand(3), expected)
    torch.manual_seed(1)
    unseeded = draw(kr, (6,), None)
    torch.manual_seed(1)
    assert torch.equal(draw(kr, (6,), None), unseeded)


def test_gamma_beta_binomial_take_parameters_per_entry_and_dtypes():
    alpha = torch.tensor([0.5, 50.0])
    values = kr.random.gamma((20_000, 2), alpha=alpha, seed=0, dtype="float64")
    assert values.dtype == torch.float64
    np.testing.assert_allclose(values.mean(0).numpy(), [0.5, 50.0], rtol=0.05)
    draws = kr.random.binomial((4, 3), counts=torch.tensor([0.0, 5.0, 9.0]), probabilities=1.0, seed=1)
    assert draws.tolist() == [[0.0, 5.0, 9.0]] * 4
    assert kr.random.beta((2, 2), alpha=1.0, beta=1.0, dtype=torch.float16).dtype == torch.float16
    with pytest.raises(ValueError, match="alpha"):
        kr.random.gamma((3,), alpha=torch.ones(4))
    with pytest.raises(ValueError, match="probabilities"):
        kr.random.binomial((3,), counts=3, probabilities=1.5)
    with pytest.raises(ValueError, match="dtype"):
        kr.random.gamma((3,), alpha=1.0, dtype="int32")
