"""The cell loop of a built-in cell as one autograd node: the whole time loop forward, and a
hand-written backward through time.

The autograd loop (engine/loop.py) records every step's small ops and walks
them back one by one, and its recurrent-kernel gradient is T small products.
Here forward runs the steps without recording (into preallocated buffers,
keeping what the backward needs: the gate activations and the states), and
backward runs the steps in reverse computing the gradients of the
pre-activations and the states, then the recurrent kernel's (and GRU's
recurrent bias's) gradient as ONE product over all steps. The input
projection stays outside, under autograd: the kernel, bias and input
gradients come from its one large product.

Same numbers as the autograd loop: the forward does the same ops in the same
order (outputs and states agree bit for bit), the backward the same
derivatives in another order (gradients agree to rounding). It serves
LSTM, GRU (either `reset_after`) and SimpleRNN whose activations it can
differentiate from their outputs (`DIFFERENTIABLE`), with any Keras mask,
recurrent dropout, go_backwards, initial states that need gradients and
returned states. It is opt-in (`RNN.handwritten_backward = True`): on the
CPU sizes measured it trains 1.0x to 1.3x faster than the autograd loop, whose
time is mostly the same matrix products (docs/benchmarks.md). `usable` says
when it runs; everything else keeps the autograd loop.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch.autograd.function import once_differentiable

from . import keras_outputs
from .record import note

# Activations whose derivative follows exactly from their output y = f(x).
DIFFERENTIABLE = ("tanh", "sigmoid", "relu", "hard_sigmoid", "linear")
KINDS = ("lstm", "gru", "gru_reset_before", "simple_rnn")


@dataclass(frozen=True)
class LoopSpec:
    """Which step to run: the cell kind, its activation and (LSTM, GRU) recurrent activation, by Keras name."""
    kind: str
    activation: str
    gate: str | None = None

    @property
    def supported(self) -> bool:
        return self.kind in KINDS and self.activation in DIFFERENTIABLE and \
            (self.kind == "simple_rnn" or self.gate in DIFFERENTIABLE)


# ------------------------------------------------------------------ activations on buffers
def activate(name: str, values: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """The activation of `values` written into `out` (which may be `values`): activations.py's numbers."""
    if name == "tanh":
        return torch.tanh(values, out=out)
    if name == "sigmoid":
        return torch.sigmoid(values, out=out)
    if name == "relu":
        return torch.clamp_min(values, 0.0, out=out)
    if name == "hard_sigmoid":      # Keras 3: relu6(x + 3) / 6
        return torch.add(values, 3.0, out=out).clamp_(0.0, 6.0).div_(6.0)
    return out if out is values else out.copy_(values)      # linear


_aten = torch.ops.aten


def backward_into(name: str, grad: torch.Tensor, y: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
    """`grad * f'(x)` from y = f(x), written into `out` (None: a new tensor; for linear, `grad` itself):
    the derivative autograd uses for each activation."""
    if out is None:
        out = grad if name == "linear" else torch.empty_like(grad)
    if name == "tanh":
        return _aten.tanh_backward.grad_input(grad, y, grad_input=out)
    if name == "sigmoid":
        return _aten.sigmoid_backward.grad_input(grad, y, grad_input=out)
    if name == "relu":
        return _aten.threshold_backward.grad_input(grad, y, 0, grad_input=out)
    if name == "hard_sigmoid":      # relu6(x + 3) / 6: slope 1/6 where 0 < y < 1
        return _aten.hardtanh_backward.grad_input(grad, y, 0.0, 1.0, grad_input=out).div_(6.0)
    return out if out is grad else out.copy_(grad)      # linear


# ------------------------------------------------------------------ when it runs
def _functorch_active(tensors) -> bool:
    wrapped = torch._C._functorch.is_functorch_wrapped_tensor
    return any(wrapped(t) for t in tensors)


def usable(spec: LoopSpec | None, tensors) -> bool:
    """Whether the hand-written loop serves this call: a supported cell, gradients wanted,
    no tracing (torch.compile/export keep the autograd loop), no torch.func transform and
    no forward-mode AD (this node has no forward derivative)."""
    if spec is None or not spec.supported or not torch.is_grad_enabled():
        return False
    if torch.compiler.is_compiling():
        return False
    if not any(t.requires_grad for t in tensors):
        return False
    if torch.autograd.forward_ad._current_level >= 0 or _functorch_active(tensors):
        return False
    return True


# ------------------------------------------------------------------ the autograd node
class _Loop(torch.autograd.Function):
    """Inputs: the projected sequence `x` (time, batch, k*units) in reading order, the float
    reading mask (time, batch, 1) or None, the recurrent dropout mask or None, the recurrent
    kernel, GRU's recurrent bias or None, h0, c0 (LSTM) or None.
    Outputs: [the held h sequence, batch first (only with `sequences`)], h_T, [c_T]."""

    @staticmethod
    def forward(ctx, spec: LoopSpec, sequences: bool, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0):
        run = _FORWARD[spec.kind]
        held, saved = run(spec, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0)
        ctx.spec, ctx.sequences, ctx.saved_names = spec, sequences, tuple(saved)
        # Saved as autograd saves (freed after a backward that does not retain the graph), the
        # intermediate buffers included.
        ctx.save_for_backward(step_mask, recurrent_mask, kernel, held, *saved.values())
        ctx.set_materialize_grads(False)
        outputs = [held[1:].transpose(0, 1).contiguous()] if sequences else []
        outputs.append(held[-1].clone())
        if spec.kind == "lstm":
            outputs.append(saved["c"][-1].clone())
        return tuple(outputs)

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads):
        pending = list(grads)
        grad_sequence = pending.pop(0) if ctx.sequences else None
        grad_h = pending.pop(0)
        grad_c = pending.pop(0) if ctx.spec.kind == "lstm" else None
        step_mask, recurrent_mask, kernel, held, *saved = ctx.saved_tensors
        state = _Saved(ctx.spec, step_mask, recurrent_mask, kernel, held, dict(zip(ctx.saved_names, saved)))
        return (None, None, *_BACKWARD[ctx.spec.kind](state, grad_sequence, grad_h, grad_c, ctx.needs_input_grad))


@dataclass
class _Saved:
    """What a backward reads: the spec, the masks, the recurrent kernel, the held states, the buffers."""
    spec: LoopSpec
    step_mask: torch.Tensor | None
    recurrent_mask: torch.Tensor | None
    kernel: torch.Tensor
    held: torch.Tensor
    saved: dict


def _recurrent_inputs(held, recurrent_mask):
    """h_{t-1} as the recurrent product saw it, all steps stacked (time, batch, units)."""
    previous = held[:-1]
    return previous * recurrent_mask if recurrent_mask is not None else previous


def _flat(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1, t.shape[-1])


def _incoming(ctx, grad_sequence, grad_h, like: torch.Tensor):
    """What every backward starts from: the step masks as numbers, the returned sequence's gradient per
    step (None when only the last output was returned) and the running gradient of h."""
    ms = ctx.step_mask.to(like.dtype).unbind(0) if ctx.step_mask is not None else None
    seq = grad_sequence.unbind(1) if grad_sequence is not None else None
    dh = grad_h.clone() if grad_h is not None else torch.zeros_like(ctx.held[0])
    return ms, seq, dh


def _arriving(grad, seq, ms, t: int):
    """Step `t`'s share of a state's running gradient `grad` (updated in place): `(the part reaching the
    step's new state, the part a masked step passes to the held state, or None without a mask)`."""
    if seq is not None:
        grad.add_(seq[t])
    if ms is None:
        return grad, None
    new = grad * ms[t]
    return new, grad.sub_(new)


# ------------------------------------------------------------------ LSTM
# Per-step views come from one `unbind` per buffer (a C++ loop) rather than Python slicing in the loop.
def _lstm_forward(spec, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0):
    steps, batch, width = x.shape
    units = width // 4
    act, gate = spec.activation, spec.gate
    gates = x.new_empty(steps, batch, width)      # i, f, g, o after their activations
    cs = x.new_empty(steps + 1, batch, units)
    held = x.new_empty(steps + 1, batch, units)
    tanh_c = x.new_empty(steps, batch, units)     # activation(c) of each step's new c
    cs[0] = c0
    held[0] = h0
    xs, a_s, cs_, hs, tcs = x.unbind(0), gates.unbind(0), cs.unbind(0), held.unbind(0), tanh_c.unbind(0)
    i_s, f_s, g_s, o_s = (part.unbind(0) for part in gates.split(units, dim=2))
    z = x.new_empty(batch, width)
    z_g = z[:, 2 * units:3 * units]
    h_in = x.new_empty(batch, units) if recurrent_mask is not None else None
    if step_mask is not None:
        new_c, new_h, ms = x.new_empty(batch, units), x.new_empty(batch, units), step_mask.unbind(0)
    for t in range(steps):
        h = hs[t] if recurrent_mask is None else torch.mul(hs[t], recurrent_mask, out=h_in)
        torch.addmm(xs[t], h, kernel, out=z)
        activate(gate, z, a_s[t])                 # all four blocks, as the autograd loop does
        activate(act, z_g, g_s[t])
        if step_mask is None:
            c = torch.mul(f_s[t], cs_[t], out=cs_[t + 1]).addcmul_(i_s[t], g_s[t])
            torch.mul(o_s[t], activate(act, c, tcs[t]), out=hs[t + 1])
        else:
            c = torch.mul(f_s[t], cs_[t], out=new_c).addcmul_(i_s[t], g_s[t])
            torch.mul(o_s[t], activate(act, c, tcs[t]), out=new_h)
            torch.where(ms[t], c, cs_[t], out=cs_[t + 1])
            torch.where(ms[t], new_h, hs[t], out=hs[t + 1])
    return held, {"gates": gates, "c": cs, "tanh_c": tanh_c}


def _lstm_backward(ctx, grad_sequence, grad_h, grad_c, needs):
    spec, held, saved = ctx.spec, ctx.held, ctx.saved
    act, gate = spec.activation, spec.gate
    gates, cs, tanh_c = saved["gates"], saved["c"], saved["tanh_c"]
    steps, batch, width = gates.shape
    units = width // 4
    recurrent_mask, kernel_t = ctx.recurrent_mask, ctx.kernel.t()
    dx = gates.new_empty(steps, batch, width)
    a_s, cs_, tcs, dxs = gates.unbind(0), cs.unbind(0), tanh_c.unbind(0), dx.unbind(0)
    i_s, f_s, g_s, o_s = (part.unbind(0) for part in gates.split(units, dim=2))
    di_s, df_s, dg_s, do_s = (part.unbind(0) for part in dx.split(units, dim=2))
    ms, seq, dh = _incoming(ctx, grad_sequence, grad_h, gates)
    dc = grad_c.clone() if grad_c is not None else torch.zeros_like(cs[0])
    for t in range(steps - 1, -1, -1):
        dh_new, dh_keep = _arriving(dh, seq, ms, t)
        dc_new, dc_keep = _arriving(dc, None, ms, t)
        # c = f * c_prev + i * g, h = o * act(c): the gradients before the gate activations
        dc_total = backward_into(act, torch.mul(dh_new, o_s[t]), tcs[t], None).add_(dc_new)
        torch.mul(dc_total, g_s[t], out=di_s[t])
        torch.mul(dc_total, cs_[t], out=df_s[t])
        torch.mul(dh_new, tcs[t], out=do_s[t])
        d_g_in = torch.mul(dc_total, i_s[t])
        backward_into(gate, dxs[t], a_s[t], dxs[t])              # i, f, o (and g, replaced next)
        backward_into(act, d_g_in, g_s[t], dg_s[t])
        dc = dc_total.mul_(f_s[t])
        dh = torch.mm(dxs[t], kernel_t)
        if recurrent_mask is not None:
            dh.mul_(recurrent_mask)
        if dh_keep is not None:
            dh.add_(dh_keep)
            dc.add_(dc_keep)
    d_kernel = _flat(_recurrent_inputs(held, recurrent_mask)).t() @ _flat(dx) if needs[5] else None
    return dx, None, None, d_kernel, None, dh, dc


# ------------------------------------------------------------------ GRU, reset after the recurrent product
def _gru_forward(spec, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0):
    steps, batch, width = x.shape
    units = width // 3
    act, gate = spec.activation, spec.gate
    gates = x.new_empty(steps, batch, width)      # z, r, candidate after their activations
    inner = x.new_empty(steps, batch, width)      # h_in @ U + recurrent bias
    held = x.new_empty(steps + 1, batch, units)
    held[0] = h0
    hs, inners = held.unbind(0), inner.unbind(0)
    x_zr, x_c = (part.unbind(0) for part in x.split(2 * units, dim=2))
    zr_s, c_s = (part.unbind(0) for part in gates.split(2 * units, dim=2))
    z_s, r_s = (part.unbind(0) for part in gates[..., :2 * units].split(units, dim=2))
    inner_zr, inner_c = (part.unbind(0) for part in inner.split(2 * units, dim=2))
    h_in = x.new_empty(batch, units) if recurrent_mask is not None else None
    if step_mask is not None:
        new_h, ms = x.new_empty(batch, units), step_mask.unbind(0)
    for t in range(steps):
        h = hs[t]
        h_r = h if recurrent_mask is None else torch.mul(h, recurrent_mask, out=h_in)
        if recurrent_bias is None:
            torch.mm(h_r, kernel, out=inners[t])
        else:
            torch.addmm(recurrent_bias, h_r, kernel, out=inners[t])
        activate(gate, torch.add(x_zr[t], inner_zr[t], out=zr_s[t]), zr_s[t])
        activate(act, torch.addcmul(x_c[t], r_s[t], inner_c[t], out=c_s[t]), c_s[t])
        if step_mask is None:
            torch.lerp(c_s[t], h, z_s[t], out=hs[t + 1])
        else:
            torch.where(ms[t], torch.lerp(c_s[t], h, z_s[t], out=new_h), h, out=hs[t + 1])
    return held, {"gates": gates, "inner": inner}


def _gru_backward(ctx, grad_sequence, grad_h, grad_c, needs):
    spec, held, saved = ctx.spec, ctx.held, ctx.saved
    act, gate = spec.activation, spec.gate
    gates, inner = saved["gates"], saved["inner"]
    steps, batch, width = gates.shape
    units = width // 3
    recurrent_mask, kernel_t = ctx.recurrent_mask, ctx.kernel.t()
    d_inner = gates.new_empty(steps, batch, width)    # the gradient of h_in @ U + recurrent bias
    dx = gates.new_empty(steps, batch, width)
    hs, zr_s, dis, dzr_s = held.unbind(0), gates[..., :2 * units].unbind(0), d_inner.unbind(0), \
        d_inner[..., :2 * units].unbind(0)
    z_s, r_s, c_s = (part.unbind(0) for part in gates.split(units, dim=2))
    dz_s, dr_s, dic_s = (part.unbind(0) for part in d_inner.split(units, dim=2))
    inner_c, dxc_s = inner[..., 2 * units:].unbind(0), dx[..., 2 * units:].unbind(0)
    ms, seq, dh = _incoming(ctx, grad_sequence, grad_h, gates)
    for t in range(steps - 1, -1, -1):
        dh_new, dh_keep = _arriving(dh, seq, ms, t)
        # h = z * h_prev + (1 - z) * candidate
        da = backward_into(act, torch.addcmul(dh_new, dh_new, z_s[t], value=-1.0), c_s[t], dxc_s[t])
        torch.mul(dh_new, hs[t] - c_s[t], out=dz_s[t])
        torch.mul(da, inner_c[t], out=dr_s[t])
        backward_into(gate, dzr_s[t], zr_s[t], dzr_s[t])
        torch.mul(da, r_s[t], out=dic_s[t])
        through = torch.mm(dis[t], kernel_t)
        if recurrent_mask is not None:
            through.mul_(recurrent_mask)
        dh = through.addcmul_(dh_new, z_s[t])
        if dh_keep is not None:
            dh.add_(dh_keep)
    dx[..., :2 * units] = d_inner[..., :2 * units]
    d_kernel = _flat(_recurrent_inputs(held, recurrent_mask)).t() @ _flat(d_inner) if needs[5] else None
    d_bias = d_inner.sum(dim=(0, 1)) if needs[6] else None
    return dx, None, None, d_kernel, d_bias, dh, None


# ------------------------------------------------------------------ GRU, reset before the recurrent product
def _gru_before_forward(spec, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0):
    steps, batch, width = x.shape
    units = width // 3
    act, gate = spec.activation, spec.gate
    gates_kernel, candidate_kernel = kernel[:, :2 * units], kernel[:, 2 * units:]
    gates = x.new_empty(steps, batch, width)      # z, r, candidate after their activations
    reset_h = x.new_empty(steps, batch, units)    # r * h_in
    held = x.new_empty(steps + 1, batch, units)
    held[0] = h0
    hs, rhs = held.unbind(0), reset_h.unbind(0)
    x_zr, x_c = (part.unbind(0) for part in x.split(2 * units, dim=2))
    zr_s, c_s = (part.unbind(0) for part in gates.split(2 * units, dim=2))
    z_s, r_s = (part.unbind(0) for part in gates[..., :2 * units].split(units, dim=2))
    h_in = x.new_empty(batch, units) if recurrent_mask is not None else None
    h_zr = x.new_empty(batch, 2 * units)
    if step_mask is not None:
        new_h, ms = x.new_empty(batch, units), step_mask.unbind(0)
    for t in range(steps):
        h = hs[t]
        h_r = h if recurrent_mask is None else torch.mul(h, recurrent_mask, out=h_in)
        activate(gate, torch.add(x_zr[t], torch.mm(h_r, gates_kernel, out=h_zr), out=zr_s[t]), zr_s[t])
        activate(act, torch.addmm(x_c[t], torch.mul(r_s[t], h_r, out=rhs[t]), candidate_kernel, out=c_s[t]), c_s[t])
        if step_mask is None:
            torch.lerp(c_s[t], h, z_s[t], out=hs[t + 1])
        else:
            torch.where(ms[t], torch.lerp(c_s[t], h, z_s[t], out=new_h), h, out=hs[t + 1])
    return held, {"gates": gates, "reset_h": reset_h}


def _gru_before_backward(ctx, grad_sequence, grad_h, grad_c, needs):
    spec, held, saved = ctx.spec, ctx.held, ctx.saved
    act, gate = spec.activation, spec.gate
    gates, reset_h = saved["gates"], saved["reset_h"]
    steps, batch, width = gates.shape
    units = width // 3
    recurrent_mask = ctx.recurrent_mask
    gates_kernel_t, candidate_kernel_t = ctx.kernel[:, :2 * units].t(), ctx.kernel[:, 2 * units:].t()
    h_in = _recurrent_inputs(held, recurrent_mask)
    dx = gates.new_empty(steps, batch, width)
    hs, his, zr_s, dzr_s = held.unbind(0), h_in.unbind(0), gates[..., :2 * units].unbind(0), \
        dx[..., :2 * units].unbind(0)
    z_s, r_s, c_s = (part.unbind(0) for part in gates.split(units, dim=2))
    dz_s, dr_s, dc_s = (part.unbind(0) for part in dx.split(units, dim=2))
    ms, seq, dh = _incoming(ctx, grad_sequence, grad_h, gates)
    for t in range(steps - 1, -1, -1):
        dh_new, dh_keep = _arriving(dh, seq, ms, t)
        da = backward_into(act, torch.addcmul(dh_new, dh_new, z_s[t], value=-1.0), c_s[t], dc_s[t])
        d_reset_h = torch.mm(da, candidate_kernel_t)
        torch.mul(dh_new, hs[t] - c_s[t], out=dz_s[t])
        torch.mul(d_reset_h, his[t], out=dr_s[t])
        backward_into(gate, dzr_s[t], zr_s[t], dzr_s[t])
        through = torch.addmm(d_reset_h.mul_(r_s[t]), dzr_s[t], gates_kernel_t)
        if recurrent_mask is not None:
            through.mul_(recurrent_mask)
        dh = through.addcmul_(dh_new, z_s[t])
        if dh_keep is not None:
            dh.add_(dh_keep)
    d_kernel = None
    if needs[5]:
        d_kernel = torch.cat([_flat(h_in).t() @ _flat(dx[..., :2 * units]),
                              _flat(reset_h).t() @ _flat(dx[..., 2 * units:])], dim=1)
    return dx, None, None, d_kernel, None, dh, None


# ------------------------------------------------------------------ SimpleRNN
def _simple_forward(spec, x, step_mask, recurrent_mask, kernel, recurrent_bias, h0, c0):
    steps, batch, units = x.shape
    act = spec.activation
    held = x.new_empty(steps + 1, batch, units)
    held[0] = h0
    xs, hs = x.unbind(0), held.unbind(0)
    h_in = x.new_empty(batch, units) if recurrent_mask is not None else None
    if step_mask is None:
        for t in range(steps):
            h = hs[t] if recurrent_mask is None else torch.mul(hs[t], recurrent_mask, out=h_in)
            activate(act, torch.addmm(xs[t], h, kernel, out=hs[t + 1]), hs[t + 1])
        return held, {}
    new = x.new_empty(steps, batch, units)        # each step's new h (the held one keeps masked steps)
    news, ms = new.unbind(0), step_mask.unbind(0)
    for t in range(steps):
        h = hs[t] if recurrent_mask is None else torch.mul(hs[t], recurrent_mask, out=h_in)
        activate(act, torch.addmm(xs[t], h, kernel, out=news[t]), news[t])
        torch.where(ms[t], news[t], hs[t], out=hs[t + 1])
    return held, {"new": new}


def _simple_backward(ctx, grad_sequence, grad_h, grad_c, needs):
    spec, held, saved = ctx.spec, ctx.held, ctx.saved
    act = spec.activation
    new = saved.get("new", held[1:])
    steps, batch, units = new.shape
    recurrent_mask, kernel_t = ctx.recurrent_mask, ctx.kernel.t()
    dx = new.new_empty(steps, batch, units)
    news, dxs = new.unbind(0), dx.unbind(0)
    ms, seq, dh = _incoming(ctx, grad_sequence, grad_h, new)
    for t in range(steps - 1, -1, -1):
        dh_new, dh_keep = _arriving(dh, seq, ms, t)
        dh = torch.mm(backward_into(act, dh_new, news[t], dxs[t]), kernel_t)
        if recurrent_mask is not None:
            dh.mul_(recurrent_mask)
        if dh_keep is not None:
            dh.add_(dh_keep)
    d_kernel = _flat(_recurrent_inputs(held, recurrent_mask)).t() @ _flat(dx) if needs[5] else None
    return dx, None, None, d_kernel, None, dh, None


_FORWARD = {"lstm": _lstm_forward, "gru": _gru_forward, "gru_reset_before": _gru_before_forward,
            "simple_rnn": _simple_forward}
_BACKWARD = {"lstm": _lstm_backward, "gru": _gru_backward, "gru_reset_before": _gru_before_backward,
             "simple_rnn": _simple_backward}


# ------------------------------------------------------------------ the call
def run_cell_loop(spec: LoopSpec, cell, masks, inputs: torch.Tensor, states, mask, *, go_backwards: bool,
                  return_sequences: bool, zero_output_for_mask: bool):
    """`loop.run_cell_loop` for a built-in cell, through the hand-written node: `(output, final_states)`.

    The input projection runs once over every step, time-major and in reading
    order (under autograd); the node runs the steps; Keras's output rule for
    masks is applied to its results (engine/keras_outputs.py).
    """
    note("bptt")
    x = inputs.transpose(0, 1)
    reading_mask = None
    if mask is not None:
        x = x.masked_fill(~mask.t().unsqueeze(-1), 0)     # padding may hold nan: see loop.zero_masked_steps
        reading_mask = mask.flip(1) if go_backwards else mask
    if go_backwards:
        x = x.flip(0)
    if masks.inputs is not None:
        x = x * masks.inputs
    projected = cell.project(x, replace(masks, inputs=None))
    step_mask = reading_mask.t().unsqueeze(-1) if reading_mask is not None else None
    recurrent_bias = cell.bias[1] if spec.kind == "gru" and cell.bias is not None else None
    h0 = states[0]
    c0 = states[1] if spec.kind == "lstm" else None
    results = _Loop.apply(spec, return_sequences, projected, step_mask, masks.recurrent, cell.recurrent_kernel,
                          recurrent_bias, h0, c0)
    if return_sequences:
        sequence, *final_states = results
        if reading_mask is not None:
            sequence = keras_outputs.sequence_from_held(sequence, reading_mask, zero_output_for_mask, in_place=True)
        return sequence, final_states
    final_states = list(results)
    if reading_mask is None:
        return final_states[0], final_states
    return keras_outputs.last_from_held(final_states[0], reading_mask, zero_output_for_mask), final_states
