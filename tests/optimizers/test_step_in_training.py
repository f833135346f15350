"""The built-in training step calls the optimizer without torch's step wrapper only where that wrapper would do
nothing: hooks, the profiler, an overridden `step` and torch's LR schedulers all still see every step."""
import warnings

import numpy as np
import pytest
import torch
import torch.optim.optimizer as torch_optimizer

import kerasrnn_torch as kr
from kerasrnn_torch.models.training.trainer import _parameters_in_order


def _model(optimizer=None):
    inputs = kr.Input((5, 3))
    model = kr.Model(inputs, kr.layers.Dense(2)(kr.layers.GRU(4)(inputs)))
    model.compile(optimizer=optimizer or kr.optimizers.SGD(0.1), loss="mse")
    return model


def _data(batches=3, batch_size=4):
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(batches * batch_size, 5, 3, generator=generator),
            torch.randn(batches * batch_size, 2, generator=generator))


def test_step_hooks_of_the_optimizer_and_global_ones_run_on_every_batch_of_fit():
    model = _model()
    optimizer = model.optimizer
    seen = []
    handles = [optimizer.register_step_pre_hook(lambda opt, args, kwargs: seen.append("pre")),
               optimizer.register_step_post_hook(lambda opt, args, kwargs: seen.append("post")),
               torch_optimizer.register_optimizer_step_pre_hook(lambda opt, args, kwargs: seen.append("global pre")),
               torch_optimizer.register_optimizer_step_post_hook(lambda opt, args, kwargs: seen.append("global post"))]
    try:
        x, y = _data()
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    finally:
        for handle in handles:
            handle.remove()
    assert seen == ["global pre", "pre", "post", "global post"] * 3
    model.train_on_batch(x[:4], y[:4])          # removed: none runs, the step still does
    assert len(seen) == 12 and optimizer.iterations == 4


def test_a_pre_hook_sees_the_weights_before_the_update_and_a_post_hook_after():
    model = _model()
    kernel = model.layers[-1].kernel
    before, after = [], []
    model.optimizer.register_step_pre_hook(lambda *_: before.append(kernel.detach().clone()))
    model.optimizer.register_step_post_hook(lambda *_: after.append(kernel.detach().clone()))
    start = kernel.detach().clone()
    x, y = _data(1)
    model.train_on_batch(x, y)
    assert torch.equal(before[0], start) and torch.equal(after[0], kernel.detach())
    assert not torch.equal(after[0], start)


def test_the_profiler_sees_the_optimizer_s_step_and_zero_grad_in_train_on_batch():
    model = _model()
    x, y = _data(1)
    model.train_on_batch(x, y)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        model.train_on_batch(x, y)
    names = {event.name for event in profile.events()}
    assert "Optimizer.step#SGD.step" in names
    assert "Optimizer.zero_grad#SGD.zero_grad" in names


def test_a_subclass_s_own_step_runs_in_fit():
    class CountingSGD(kr.optimizers.SGD):
        calls = 0

        def step(self, closure=None):
            CountingSGD.calls += 1
            return super().step(closure)

    model = _model(CountingSGD(0.1))
    x, y = _data()
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert CountingSGD.calls == 6 and model.optimizer.iterations == 6


def test_a_torch_lr_scheduler_on_the_compiled_optimizer_sees_fit_s_steps():
    model = _model(kr.optimizers.SGD(0.4))
    scheduler = torch.optim.lr_scheduler.StepLR(model.optimizer, step_size=1, gamma=0.5)
    x, y = _data(1)
    with warnings.catch_warnings():
        # torch warns when `scheduler.step()` comes before any `optimizer.step()` it saw
        warnings.simplefilter("error")
        for _ in range(2):
            model.train_on_batch(x, y)
            scheduler.step()
    assert model.optimizer.learning_rate == pytest.approx(0.1)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_clears_or_zeroes_every_gradient(set_to_none):
    params = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2, 2))]
    optimizer = kr.optimizers.SGD(0.1, params=params)
    for p in params:
        p.grad = torch.full_like(p, 2.0)
    optimizer.zero_grad(set_to_none=set_to_none)
    for p in params:
        assert p.grad is None if set_to_none else torch.equal(p.grad, torch.zeros_like(p))


def test_a_rate_changed_between_steps_or_per_group_is_the_one_used():
    a, b = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))
    c = torch.nn.Parameter(torch.ones(1, dtype=torch.float64))
    optimizer = kr.optimizers.SGD(params=[{"params": [a]}, {"params": [b], "lr": 0.25}, {"params": [c], "lr": 0.25}],
                                  learning_rate=0.5)
    for rate in (0.5, 0.5, 0.125):
        optimizer.param_groups[0]["lr"] = rate
        for p in (a, b, c):
            p.grad = torch.ones_like(p)
        optimizer.step()
    assert a.item() == 1 - 0.5 - 0.5 - 0.125
    assert b.item() == c.item() == 1 - 3 * 0.25


def test_a_float64_model_logs_its_loss_rounded_to_float32():
    model = _model()
    model.double()
    x, y = (t.double() for t in _data(1))
    expected = torch.mean((model(x) - y) ** 2).item()
    assert model.train_on_batch(x, y) == float(np.float32(expected))


def test_the_walk_for_the_model_s_dtype_follows_parameters_order():
    inputs = kr.Input((5, 3))
    hidden = kr.layers.LSTM(4, return_sequences=True)(kr.layers.Dense(3)(inputs))
    model = kr.Model(inputs, kr.layers.Dense(2)(kr.layers.GRU(4)(hidden)))
    walked = list(dict.fromkeys(_parameters_in_order(model)))
    assert [id(p) for p in walked] == [id(p) for p in model.parameters()]
