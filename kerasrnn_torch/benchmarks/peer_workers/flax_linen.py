"""`bench --peers` worker: Flax (linen) as a Flax user writes the model: Flax's own cells
(`OptimizedLSTMCell`, `GRUCell`, with their `gate_fn` / `activation_fn` for hard_sigmoid and
relu) under `nn.RNN` (a `lax.scan`), a Dense(10) on the last carry, `jax.jit`-compiled forward
and training step with optax's SGD. Right-padded masks go in as `seq_lengths` (Flax's way);
masks with holes and the configurations Flax has no cell for (GRU reset_after=False, LSTM
recurrent_dropout) are small cells written here with Keras's equations."""
from __future__ import annotations

from typing import Any

REQUIRES = ("jax", "flax", "optax")


def setup() -> dict[str, str]:
    import flax
    import jax
    import optax

    return {"jax": jax.__version__, "flax": flax.__version__, "optax": optax.__version__}


def _cells(nn: Any, jnp: Any, jax: Any) -> dict[str, Any]:
    """The cells written here: a GRU with the reset gate before the recurrent product, a cell that
    drops the recurrent input with a mask it carries, and a cell that keeps its carry where the
    mask (the input's last feature) is 0."""

    class GRUResetBefore(nn.RNNCellBase):
        features: int

        @nn.compact
        def __call__(self, h: Any, x: Any) -> Any:
            f = self.features
            xw = nn.Dense(3 * f)(x)
            hu = nn.Dense(2 * f, use_bias=False)(h)
            z = nn.sigmoid(xw[..., :f] + hu[..., :f])
            r = nn.sigmoid(xw[..., f:2 * f] + hu[..., f:])
            candidate = jnp.tanh(xw[..., 2 * f:] + nn.Dense(f, use_bias=False)(r * h))
            new_h = z * h + (1.0 - z) * candidate
            return new_h, new_h

        @property
        def num_feature_axes(self) -> int:
            return 1

    class RecurrentDropout(nn.RNNCellBase):
        cell: Any

        @nn.compact
        def __call__(self, carry: Any, x: Any) -> Any:
            (c, h), keep = carry
            new_carry, out = self.cell((c, h * keep), x)
            return (new_carry, keep), out

        @property
        def num_feature_axes(self) -> int:
            return 1

    class Masked(nn.RNNCellBase):
        cell: Any

        @nn.compact
        def __call__(self, carry: Any, xm: Any) -> Any:
            x, m = xm[..., :-1], xm[..., -1:] > 0
            new_carry, out = self.cell(carry, x)
            new_carry = jax.tree_util.tree_map(lambda new, old: jnp.where(m, new, old), new_carry, carry)
            return new_carry, out

        @property
        def num_feature_axes(self) -> int:
            return 1

    return {"GRUResetBefore": GRUResetBefore, "RecurrentDropout": RecurrentDropout, "Masked": Masked}


def build(case: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    import flax.linen as nn
    import jax
    import jax.numpy as jnp
    import optax

    cells = _cells(nn, jnp, jax)
    layer, kwargs, units, mask_kind = case["layer"], dict(case["kwargs"]), case["units"], case["mask"]
    dropout = kwargs.pop("recurrent_dropout", 0.0)
    if layer == "LSTM":
        gate = {"sigmoid": nn.sigmoid, "hard_sigmoid": nn.hard_sigmoid}[kwargs.pop("recurrent_activation", "sigmoid")]
        make_cell = lambda: nn.OptimizedLSTMCell(units, gate_fn=gate)   # noqa: E731
    elif kwargs.pop("reset_after", True) is False:
        make_cell = lambda: cells["GRUResetBefore"](units)   # noqa: E731
    else:
        activation = {"tanh": jnp.tanh, "relu": nn.relu}[kwargs.pop("activation", "tanh")]
        make_cell = lambda: nn.GRUCell(units, activation_fn=activation)   # noqa: E731
    if kwargs:
        raise ValueError(f"the Flax worker has no cell for {layer} with {kwargs}")
    batch = case["batch"]
    x = jnp.asarray(data["x"])
    y = jnp.asarray(data["y"])
    mask = None if data["mask"] is None else jnp.asarray(data["mask"])
    lengths = None if mask is None else mask.sum(axis=1)

    class Net(nn.Module):
        @nn.compact
        def __call__(self, x: Any, train: bool) -> Any:
            cell = make_cell()
            zeros = jnp.zeros((batch, units), x.dtype)
            carry: Any = (zeros, zeros) if layer == "LSTM" else zeros
            if dropout:
                keep = 1.0 - dropout
                drop = jax.random.bernoulli(self.make_rng("dropout"), keep, (batch, units)) / keep if train \
                    else jnp.ones((batch, units), x.dtype)
                cell, carry = cells["RecurrentDropout"](cell), (carry, drop)
            seq_lengths = None
            if mask_kind == "holes":
                assert mask is not None
                cell, x = cells["Masked"](cell), jnp.concatenate([x, mask[..., None].astype(x.dtype)], axis=-1)
            elif mask_kind == "right-padded":
                seq_lengths = lengths
            carry, _ = nn.RNN(cell, return_carry=True)(x, initial_carry=carry, seq_lengths=seq_lengths)
            if dropout:
                carry = carry[0]
            h = carry[1] if layer == "LSTM" else carry
            return nn.Dense(10)(h)

    net = Net()
    key = jax.random.key(0)
    params = net.init({"params": key, "dropout": key}, x, False)
    optimizer = optax.sgd(0.01)
    state = {"params": params, "opt": optimizer.init(params), "key": key}

    @jax.jit
    def predict(params: Any, x: Any) -> Any:
        return net.apply(params, x, False)

    @jax.jit
    def train_step(params: Any, opt_state: Any, key: Any, x: Any, y: Any) -> Any:
        key, dropout_key = jax.random.split(key)

        def loss_fn(p: Any) -> Any:
            logits = net.apply(p, x, True, rngs={"dropout": dropout_key})
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, key, loss

    def forward() -> None:
        predict(state["params"], x).block_until_ready()

    def train() -> None:
        state["params"], state["opt"], state["key"], loss = train_step(state["params"], state["opt"], state["key"], x, y)
        loss.block_until_ready()

    return {"forward": forward, "train": train}, lambda: {}
