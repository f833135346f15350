"""state_dict holds iterations and every slot: an interrupted run resumes bit for bit."""
import copy
import io

import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from tests.optimizers.keras_runs import gradient_sequence, initial_weights

MAKERS = {
    "SGD": lambda: kr.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "Adam": lambda: kr.optimizers.Adam(0.01, amsgrad=True, weight_decay=0.01),
    "RMSprop": lambda: kr.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "Adagrad": lambda: kr.optimizers.Adagrad(0.1),
    "Adadelta": lambda: kr.optimizers.Adadelta(1.0),
    "Adamax": lambda: kr.optimizers.Adamax(0.01),
    "Nadam": lambda: kr.optimizers.Nadam(kr.optimizers.schedules.ExponentialDecay(0.01, 3, 0.5)),
}


def steps(optimizer, params, grads_per_step):
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        optimizer.step()


@pytest.mark.parametrize("name", list(MAKERS))
def test_an_interrupted_run_resumes_identically(name):
    weights, grads = initial_weights(), gradient_sequence(8)
    params = [torch.nn.Parameter(torch.tensor(w)) for w in weights]
    straight = MAKERS[name]()
    straight.build(params)
    steps(straight, params, grads)

    params = [torch.nn.Parameter(torch.tensor(w)) for w in weights]
    first = MAKERS[name]()
    first.build(params)
    steps(first, params, grads[:5])
    buffer = io.BytesIO()
    torch.save({"weights": [p.detach().clone() for p in params], "optimizer": first.state_dict()}, buffer)
    steps(first, params, grads[5:6])                  # the saved state is a snapshot: later steps leave it
    buffer.seek(0)
    saved = torch.load(buffer)
    assert saved["optimizer"]["iterations"] == 5

    resumed_params = [torch.nn.Parameter(w) for w in saved["weights"]]
    resumed = MAKERS[name]()
    resumed.build(resumed_params)
    resumed.load_state_dict(saved["optimizer"])
    assert resumed.iterations == 5
    steps(resumed, resumed_params, grads[5:])
    for a, b in zip(resumed_params, straight.param_groups[0]["params"]):
        assert torch.equal(a, b)
    for a, b in zip(resumed.variables, straight.variables):
        assert torch.equal(a, b)


def test_variables_lists_every_slot_and_state_dict_holds_them():
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
    opt = kr.optimizers.Adam(amsgrad=True, params=params)
    assert [tuple(v.shape) for v in opt.variables] == [(2,), (3,)] * 3
    state = opt.state_dict()
    assert sorted(state["state"][1]) == ["momentum", "velocity", "velocity_hat"]
    assert state["iterations"] == 0


def test_build_takes_the_trainable_parameters_once():
    frozen = torch.nn.Parameter(torch.zeros(2), requires_grad=False)
    live = torch.nn.Parameter(torch.zeros(2))
    opt = kr.optimizers.SGD(momentum=0.5)
    opt.build([frozen, live])
    assert opt.param_groups[0]["params"] == [live] and frozen not in opt.state
    opt.build([frozen, live])                                     # again on the same: nothing, as Keras
    with pytest.raises(ValueError, match="already built"):
        opt.build([torch.nn.Parameter(torch.zeros(2))])


def test_step_needs_a_build_and_a_gradient():
    with pytest.raises(RuntimeError, match="build"):
        kr.optimizers.Adam().step()
    opt = kr.optimizers.Adam(params=[torch.nn.Parameter(torch.zeros(2))])
    with pytest.raises(ValueError, match="No gradients"):
        opt.step()
    assert opt.iterations == 0


def test_the_learning_rate_is_settable_and_is_the_groups_lr():
    param = torch.nn.Parameter(torch.ones(2))
    opt = kr.optimizers.SGD(0.5)
    opt.learning_rate = 0.25                          # before build (callbacks may)
    opt.build([param])
    assert opt.param_groups[0]["lr"] == 0.25 == opt.learning_rate
    opt.learning_rate = 0.5
    param.grad = torch.ones(2)
    opt.step()
    assert torch.equal(param.detach(), torch.tensor([0.5, 0.5]))
    opt.zero_grad(set_to_none=True)
    assert param.grad is None
    opt.iterations = 7
    assert opt.iterations == 7


def test_torch_s_lr_schedulers_and_param_groups_work():
    a, b = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))
    opt = kr.optimizers.SGD(params=[{"params": [a]}, {"params": [b], "lr": 1.0}], learning_rate=0.5)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(2):
        a.grad, b.grad = torch.ones(1), torch.ones(1)
        opt.step()
        scheduler.step()
    assert a.item() == pytest.approx(1 - 0.5 - 0.25) and b.item() == pytest.approx(1 - 1.0 - 0.5)
    assert opt.learning_rate == 0.125


def test_a_closure_is_evaluated_with_gradients():
    w = torch.nn.Parameter(torch.tensor([2.0]))
    opt = kr.optimizers.SGD(0.25, params=[w])

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 4.0
    assert w.item() == 1.0


def test_a_deep_copy_keeps_its_own_slots():
    w = torch.nn.Parameter(torch.ones(3))
    opt = kr.optimizers.Adam(params=[w])
    w.grad = torch.ones(3)
    opt.step()
    twin = copy.deepcopy(opt)
    assert twin.iterations == 1
    np.testing.assert_array_equal(twin.variables[0].numpy(), opt.variables[0].numpy())
