"""Helpers shared by the optimizer tests: the same weights and gradients through Keras 3 and through ours."""
import numpy as np
import torch

SHAPES = [(3, 4), (4,), (2, 3, 2)]


def initial_weights(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(np.float32) for shape in SHAPES]


def gradient_sequence(steps, seed=1):
    """Gradients of mixed scales (1e-5 to 1): small ones are where epsilon's place and value show."""
    rng = np.random.default_rng(seed)
    return [[(rng.normal(size=shape) * 10.0 ** rng.uniform(-5, 0, size=shape)).astype(np.float32)
             for shape in SHAPES] for _ in range(steps)]


def run_keras(make_optimizer, weights, grads_per_step, skip=()):
    """Keras 3 (torch backend): apply_gradients once per step; `skip`: indices given no gradient."""
    import keras
    variables = [keras.Variable(w.copy()) for w in weights]
    optimizer = make_optimizer()
    for grads in grads_per_step:
        pairs = [(torch.tensor(g), v) for i, (g, v) in enumerate(zip(grads, variables)) if i not in skip]
        optimizer.apply_gradients(pairs)
    return [np.asarray(v.numpy()) for v in variables], optimizer


def run_ours(make_optimizer, weights, grads_per_step, skip=()):
    params = [torch.nn.Parameter(torch.tensor(w.copy())) for w in weights]
    optimizer = make_optimizer()
    optimizer.build(params)
    for grads in grads_per_step:
        for i, (p, g) in enumerate(zip(params, grads)):
            p.grad = None if i in skip else torch.tensor(g)
        optimizer.step()
    return [p.detach().numpy().copy() for p in params], optimizer
