"""float64 gradcheck of every cell's step and of the loop path over time."""
import pytest
import torch
from torch.autograd import gradcheck

import kerasrnn_torch as kr

CELLS = {
    "SimpleRNNCell": lambda: kr.SimpleRNNCell(3, input_dim=2, dtype=torch.float64),
    "LSTMCell": lambda: kr.LSTMCell(3, input_dim=2, dtype=torch.float64),
    "GRUCell": lambda: kr.GRUCell(3, input_dim=2, dtype=torch.float64),
    "GRUCell_reset_before": lambda: kr.GRUCell(3, input_dim=2, reset_after=False, dtype=torch.float64),
}


@pytest.mark.parametrize("name", CELLS)
def test_cell_step_gradcheck(name):
    cell = CELLS[name]()
    states = [torch.randn(2, 3, dtype=torch.float64, requires_grad=True) for _ in cell.get_initial_state(2)]
    x = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)

    def step(x, *states_and_weights):
        output, new_states = cell(x, list(states_and_weights[:len(states)]))
        return (output, *new_states)

    assert gradcheck(step, (x, *states), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", CELLS)
def test_loop_path_gradcheck_with_mask(name):
    layer = kr.RNN(CELLS[name](), return_sequences=True, go_backwards=True)
    mask = torch.tensor([[True, False, True, True], [True, True, True, False]])
    x = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)

    assert gradcheck(lambda x: layer(x, mask=mask), (x,), eps=1e-6, atol=1e-5)
    # The weights' gradients, through a functional call.
    params = {n: p.detach().clone().requires_grad_(True) for n, p in layer.named_parameters()}
    assert gradcheck(lambda *values: torch.func.functional_call(layer, dict(zip(params, values)), (x.detach(),),
                                                                {"mask": mask}),
                     tuple(params.values()), eps=1e-6, atol=1e-5)
