"""The comparison with Keras is sharp enough to tell Keras's rules from torch's.

Where torch's optimizer of the same name computes differently (epsilon's place and default, RMSprop's
rho and epsilon, Adagrad's starting accumulators, Nadam's corrections, SGD's momentum buffer with a
changing rate), the same weights and gradients end more than 1e-5 apart, so the bit-for-bit tests in
test_updates_match_keras.py would fail on torch's rule.
"""
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from tests.optimizers.keras_runs import gradient_sequence, initial_weights, run_ours


def run_torch(make, weights, grads_per_step, rates=None):
    params = [torch.nn.Parameter(torch.tensor(w.copy())) for w in weights]
    optimizer = make(params)
    for step, grads in enumerate(grads_per_step):
        if rates is not None:
            for group in optimizer.param_groups:
                group["lr"] = rates[step]
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        optimizer.step()
    return [p.detach().numpy() for p in params]


def gap(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


TORCH_RULES = [
    ("Adam, eps=1e-7", lambda: kr.optimizers.Adam(), lambda ps: torch.optim.Adam(ps, lr=1e-3, eps=1e-7)),
    ("Adam, torch's eps", lambda: kr.optimizers.Adam(), lambda ps: torch.optim.Adam(ps, lr=1e-3)),
    ("RMSprop", lambda: kr.optimizers.RMSprop(), lambda ps: torch.optim.RMSprop(ps, lr=1e-3, alpha=0.9, eps=1e-7)),
    ("Adagrad", lambda: kr.optimizers.Adagrad(), lambda ps: torch.optim.Adagrad(ps, lr=1e-3, eps=1e-7)),
    ("Nadam", lambda: kr.optimizers.Nadam(), lambda ps: torch.optim.NAdam(ps, lr=1e-3, eps=1e-7)),
    ("Adadelta, torch's defaults", lambda: kr.optimizers.Adadelta(), lambda ps: torch.optim.Adadelta(ps)),
]


@pytest.mark.parametrize("label, ours, theirs", TORCH_RULES, ids=[label for label, _, _ in TORCH_RULES])
def test_torch_s_rule_of_the_same_name_ends_elsewhere(label, ours, theirs):
    weights, grads = initial_weights(), gradient_sequence(8)
    assert gap(run_ours(ours, weights, grads)[0], run_torch(theirs, weights, grads)) > 1e-5


def test_keras_s_epsilon_default_shows():
    weights, grads = initial_weights(), gradient_sequence(8)
    keras_default = run_ours(lambda: kr.optimizers.Adam(), weights, grads)[0]
    torch_default = run_ours(lambda: kr.optimizers.Adam(epsilon=1e-8), weights, grads)[0]
    assert gap(keras_default, torch_default) > 1e-5


def test_sgd_momentum_keeps_the_rate_in_its_buffer_as_keras_does():
    schedule = kr.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    weights, grads = initial_weights(), gradient_sequence(8)
    rates = [float(schedule(step)) for step in range(8)]
    ours = run_ours(lambda: kr.optimizers.SGD(schedule, momentum=0.9), weights, grads)[0]
    theirs = run_torch(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), weights, grads, rates)
    assert gap(ours, theirs) > 1e-5
