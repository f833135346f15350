"""Random Keras functional graphs, built by the same code in Keras and in kerasrnn_torch.

`build_graph(api, seed)` makes every choice from `seed` alone (never from the
library's tensors), so `build_graph(KERAS, s)` and `build_graph(OURS, s)`
build the same graph with the same layer names, and `inputs_for(seed)` makes
data that fits it. The graphs mix what real sequence programs do: one or two
inputs (token ids with padding, float sequences with masked steps), fixed and
unknown lengths, Embedding with `mask_zero`, Masking, SimpleRNN/LSTM/GRU with
`return_state`, `go_backwards` and states fed into another layer's
`initial_state`, Bidirectional with each merge mode, TimeDistributed, Dense,
normalization, pooling, Flatten, Conv1D, merges, Attention, RepeatVector,
layers shared by several calls (on inputs of different lengths) and
functional or Sequential models used as layers.
"""
from __future__ import annotations

import dataclasses
import random
from types import SimpleNamespace
from typing import Any

import keras
import numpy as np

import kerasrnn_torch as kr

KERAS = SimpleNamespace(name="keras", layers=keras.layers, Input=keras.Input, Model=keras.Model,
                        Sequential=keras.Sequential)
OURS = SimpleNamespace(name="kr", layers=kr, Input=kr.Input, Model=kr.Model, Sequential=kr.Sequential)

BATCH = 3
UNKNOWN_LENGTHS = (4, 6)          # the lengths given to inputs declared with length None
STATE_UNITS = (3, 4)              # few unit counts, so that states often fit another layer's initial_state


@dataclasses.dataclass
class Tensor:
    """A tensor of the graph being built, with what the generator needs to know of it."""
    value: Any
    kind: str               # "ids": (batch, time) ints; "seq": (batch, time, features); "vec": (batch, features)
    features: int
    length: Any             # an int, or the name of the input whose unknown length it has
    masked: bool
    vocabulary: int = 0     # ids: the ids run over [0, vocabulary)


@dataclasses.dataclass
class Shareable:
    """A layer already called once, and how to call it again on a tensor that fits."""
    layer: Any
    fits: Any               # Tensor -> bool
    apply: Any              # Tensor -> list[Tensor]


class GraphBuilder:
    def __init__(self, api, seed: int):
        self.api, self.rng = api, random.Random(seed)
        self.pool: list[Tensor] = []
        self.consumed: set[int] = set()
        self.shareable: list[Shareable] = []
        self.states: list[tuple[str, int, list[Tensor]]] = []     # (cell kind, units, the state tensors)
        self.count = 0

    # ------------------------------------------------------------ helpers
    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"        # never one of Keras's own names (concatenate_4)

    def use(self, *tensors: Tensor) -> None:
        self.consumed.update(id(t) for t in tensors)

    def add(self, *tensors: Tensor) -> list[Tensor]:
        self.pool.extend(tensors)
        return list(tensors)

    def pick(self, condition) -> Tensor | None:
        # Unused tensors first, so that most of the graph reaches the outputs.
        fresh = [t for t in self.pool if condition(t) and id(t) not in self.consumed]
        candidates = fresh or [t for t in self.pool if condition(t)]
        return self.rng.choice(candidates) if candidates else None

    def same_length(self, a: Tensor, b: Tensor) -> bool:
        return a.length == b.length

    # ------------------------------------------------------------ inputs
    def make_input(self, index: int) -> Tensor:
        rng, api = self.rng, self.api
        length = rng.choice([None, 2, 5])
        name = f"in{index}"
        key = length if length is not None else name
        if rng.random() < 0.55:
            vocabulary = rng.choice([5, 8])
            value = api.Input((length,), dtype="int32", name=name)
            return Tensor(value, "ids", 0, key, False, vocabulary)
        features = rng.choice([2, 3])
        value = api.Input((length, features), name=name)
        return Tensor(value, "seq", features, key, False)

    # ------------------------------------------------------------ layer kinds
    def embedding(self) -> bool:
        source = self.pick(lambda t: t.kind == "ids")
        if source is None:
            return False
        mask_zero = self.rng.random() < 0.7
        dim = self.rng.choice([3, 4])
        layer = self.api.layers.Embedding(source.vocabulary + self.rng.choice([0, 2]), dim, mask_zero=mask_zero,
                                          name=self.name("embedding"))
        vocabulary = source.vocabulary

        def apply(t: Tensor) -> list[Tensor]:
            self.use(t)
            return self.add(Tensor(layer(t.value), "seq", dim, t.length, mask_zero))
        self.shareable.append(Shareable(layer, lambda t: t.kind == "ids" and t.vocabulary <= vocabulary, apply))
        apply(source)
        return True

    def masking(self) -> bool:
        source = self.pick(lambda t: t.kind == "seq" and not t.masked and t.value is self.input_value(t))
        if source is None:
            return False
        self.use(source)
        layer = self.api.layers.Masking(0.0, name=self.name("masking"))
        self.add(Tensor(layer(source.value), "seq", source.features, source.length, True))
        return True

    def input_value(self, t: Tensor):
        return next((i.value for i in self.inputs if i is t), None)

    def recurrent(self) -> bool:
        source = self.pick(lambda t: t.kind == "seq")
        if source is None:
            return False
        rng = self.rng
        kind = rng.choice(["LSTM", "GRU", "SimpleRNN"])
        units = rng.choice(STATE_UNITS + (5,))
        options = dict(return_sequences=rng.random() < 0.6, return_state=rng.random() < 0.4,
                       go_backwards=rng.random() < 0.3, use_bias=rng.random() < 0.8)
        if kind == "GRU" and rng.random() < 0.2:
            options["reset_after"] = False
        layer = getattr(self.api.layers, kind)(units, name=self.name(kind.lower()), **options)
        fitting = [s for s in self.states if s[0] == kind and s[1] == units]
        initial = rng.choice(fitting)[2] if fitting and rng.random() < 0.6 else None
        self.apply_recurrent(layer, kind, units, options, source, initial)
        features = source.features

        def apply(t: Tensor) -> list[Tensor]:
            return self.apply_recurrent(layer, kind, units, options, t, None)
        self.shareable.append(Shareable(layer, lambda t: t.kind == "seq" and t.features == features, apply))
        return True

    def apply_recurrent(self, layer, kind, units, options, source: Tensor, initial) -> list[Tensor]:
        self.use(source)
        if initial is not None:
            self.use(*initial)
            result = layer(source.value, initial_state=[s.value for s in initial])
        else:
            result = layer(source.value)
        outputs = list(result) if options["return_state"] else [result]
        # Keras's rule: a call given initial_state takes no implicit mask, and passes none on.
        keeps_mask = source.masked and initial is None and options["return_sequences"]
        if options["return_sequences"]:
            first = Tensor(outputs[0], "seq", units, source.length, keeps_mask)
        else:
            first = Tensor(outputs[0], "vec", units, None, False)
        states = [Tensor(s, "vec", units, None, False) for s in outputs[1:]]
        if states:
            self.states.append((kind, units, states))
        return self.add(first, *states)

    def bidirectional(self) -> bool:
        source = self.pick(lambda t: t.kind == "seq")
        if source is None:
            return False
        rng = self.rng
        kind = rng.choice(["LSTM", "GRU", "SimpleRNN"])
        units = rng.choice([2, 3])
        sequences = rng.random() < 0.6
        merge_mode = rng.choice(["concat", "sum", "mul", "ave"])
        inner = getattr(self.api.layers, kind)(units, return_sequences=sequences)
        layer = self.api.layers.Bidirectional(inner, merge_mode=merge_mode, name=self.name("bidirectional"))
        width = 2 * units if merge_mode == "concat" else units
        features = source.features

        def apply(t: Tensor) -> list[Tensor]:
            self.use(t)
            if sequences:
                return self.add(Tensor(layer(t.value), "seq", width, t.length, t.masked))
            return self.add(Tensor(layer(t.value), "vec", width, None, False))
        self.shareable.append(Shareable(layer, lambda t: t.kind == "seq" and t.features == features, apply))
        apply(source)
        return True

    def dense(self) -> bool:
        source = self.pick(lambda t: t.kind in ("seq", "vec"))
        if source is None:
            return False
        units = self.rng.choice([2, 3, 4])
        activation = self.rng.choice([None, "tanh", "relu", "sigmoid"])
        distributed = source.kind == "seq" and self.rng.random() < 0.4
        layer = self.api.layers.Dense(units, activation=activation, name=self.name("dense"))
        if distributed:
            layer = self.api.layers.TimeDistributed(layer, name=self.name("time_distributed"))
        features, kind = source.features, source.kind

        def apply(t: Tensor) -> list[Tensor]:
            self.use(t)
            return self.add(Tensor(layer(t.value), t.kind, units, t.length, t.masked))
        self.shareable.append(Shareable(layer, lambda t: t.kind == kind and t.features == features, apply))
        apply(source)
        return True

    def normalization(self) -> bool:
        source = self.pick(lambda t: t.kind in ("seq", "vec"))
        if source is None:
            return False
        self.use(source)
        layer = self.api.layers.LayerNormalization(scale=self.rng.random() < 0.5, center=self.rng.random() < 0.8,
                                                   name=self.name("layer_normalization"))
        self.add(dataclasses.replace(source, value=layer(source.value)))
        return True

    def pooling(self) -> bool:
        source = self.pick(lambda t: t.kind == "seq")
        if source is None:
            return False
        self.use(source)
        which = self.rng.choice(["GlobalAveragePooling1D", "GlobalMaxPooling1D", "Flatten"])
        if which == "Flatten" and not isinstance(source.length, int):
            which = "GlobalAveragePooling1D"
        if which == "Flatten" and source.masked:
            which = "GlobalMaxPooling1D"        # Keras warns that Flatten drops a mask
        layer = getattr(self.api.layers, which)(name=self.name(which.lower()))
        features = source.features * source.length if which == "Flatten" else source.features
        self.add(Tensor(layer(source.value), "vec", features, None, False))
        return True

    def convolution(self) -> bool:
        source = self.pick(lambda t: t.kind == "seq" and not t.masked)
        if source is None:
            return False
        self.use(source)
        filters = self.rng.choice([2, 3])
        layer = self.api.layers.Conv1D(filters, 2, padding="same", name=self.name("conv1d"))
        self.add(Tensor(layer(source.value), "seq", filters, source.length, False))
        return True

    def merge(self) -> bool:
        first = self.pick(lambda t: t.kind in ("seq", "vec"))
        if first is None:
            return False
        concatenate = self.rng.random() < 0.5

        def fits(t: Tensor) -> bool:
            if t is first or t.kind != first.kind:
                return False
            if t.kind == "seq" and not self.same_length(t, first):
                return False
            return concatenate or t.features == first.features
        second = self.pick(fits)
        if second is None:
            return False
        self.use(first, second)
        if concatenate:
            layer = self.api.layers.Concatenate(name=self.name("concatenate"))
            features = first.features + second.features
        else:
            which = self.rng.choice(["Add", "Multiply", "Average", "Maximum", "Subtract"])
            layer = getattr(self.api.layers, which)(name=self.name(which.lower()))
            features = first.features
        self.add(Tensor(layer([first.value, second.value]), first.kind, features, first.length,
                        first.masked or second.masked))
        return True

    def attention(self) -> bool:
        query = self.pick(lambda t: t.kind == "seq")
        if query is None:
            return False
        value = self.pick(lambda t: t.kind == "seq" and t.features == query.features and t is not query)
        if value is None:
            return False
        self.use(query, value)
        layer = self.api.layers.Attention(use_scale=self.rng.random() < 0.3, name=self.name("attention"))
        self.add(Tensor(layer([query.value, value.value]), "seq", query.features, query.length, query.masked))
        return True

    def repeat(self) -> bool:
        source = self.pick(lambda t: t.kind == "vec")
        if source is None:
            return False
        self.use(source)
        times = self.rng.choice([2, 3])
        layer = self.api.layers.RepeatVector(times, name=self.name("repeat_vector"))
        self.add(Tensor(layer(source.value), "seq", source.features, times, False))
        return True

    def shared_call(self) -> bool:
        choices = [(s, t) for s in self.shareable for t in self.pool if s.fits(t)]
        if not choices:
            return False
        # A call on a tensor the layer has not seen yet, preferring tensors of other lengths.
        sharing, tensor = self.rng.choice(choices)
        sharing.apply(tensor)
        return True

    def nested_model(self) -> bool:
        source = self.pick(lambda t: t.kind == "seq")
        if source is None:
            return False
        rng, api = self.rng, self.api
        length = source.length if isinstance(source.length, int) and rng.random() < 0.5 else None
        units = rng.choice([2, 3])
        sequences = rng.random() < 0.5
        inner_kind = rng.choice(["LSTM", "GRU"])
        if rng.random() < 0.5:
            inputs = api.Input((length, source.features), name=self.name("sub_input"))
            hidden = api.layers.Dense(units, activation="tanh", name=self.name("sub_dense"))(inputs)
            outputs = getattr(api.layers, inner_kind)(units, return_sequences=sequences,
                                                       name=self.name("sub_rnn"))(hidden)
            model = api.Model(inputs, outputs, name=self.name("sub_functional"))
        else:
            model = api.Sequential([api.Input((length, source.features)),
                                    getattr(api.layers, inner_kind)(units, return_sequences=sequences,
                                                                    name=self.name("sub_rnn")),
                                    api.layers.Dense(units, name=self.name("sub_dense"))],
                                   name=self.name("sub_sequential"))
        features = source.features

        def apply(t: Tensor) -> list[Tensor]:
            self.use(t)
            if sequences:
                return self.add(Tensor(model(t.value), "seq", units, t.length, False))
            return self.add(Tensor(model(t.value), "vec", units, None, False))

        def fits(t: Tensor) -> bool:
            return t.kind == "seq" and t.features == features and (length is None or t.length == length)
        self.shareable.append(Shareable(model, fits, apply))
        apply(source)
        return True

    # ------------------------------------------------------------ the graph
    KINDS = ("embedding", "masking", "recurrent", "recurrent", "bidirectional", "dense", "normalization",
             "pooling", "convolution", "merge", "merge", "attention", "repeat", "shared_call", "shared_call",
             "nested_model")

    def build(self):
        rng, api = self.rng, self.api
        self.inputs = [self.make_input(i) for i in range(rng.choice([1, 2, 2]))]
        self.pool = list(self.inputs)
        # Each input is read by a first layer, so that every input reaches the outputs.
        for source in self.inputs:
            if source.kind == "ids":
                self.pool = [source] + [t for t in self.pool if t is not source]
                self.embedding_on(source)
        steps = rng.randint(2, 7)
        done = 0
        while done < steps:
            if getattr(self, rng.choice(self.KINDS))():
                done += 1
        for source in self.inputs:             # a float input nobody read
            if id(source) not in self.consumed:
                self.recurrent_on(source)
        leaves = [t for t in self.pool if id(t) not in self.consumed]
        outputs = [t.value for t in leaves]
        inputs = self.inputs
        if rng.random() < 0.5:
            model_inputs: Any = {f"in{i}": t.value for i, t in enumerate(inputs)}
        else:
            model_inputs = [t.value for t in inputs] if len(inputs) > 1 or rng.random() < 0.5 else inputs[0].value
        model_outputs = outputs if len(outputs) > 1 else outputs[0]
        return api.Model(model_inputs, model_outputs, name="graph")

    def embedding_on(self, source: Tensor) -> None:
        dim = self.rng.choice([3, 4])
        mask_zero = self.rng.random() < 0.7
        layer = self.api.layers.Embedding(source.vocabulary, dim, mask_zero=mask_zero, name=self.name("embedding"))
        self.use(source)
        vocabulary = source.vocabulary

        def apply(t: Tensor) -> list[Tensor]:
            self.use(t)
            return self.add(Tensor(layer(t.value), "seq", dim, t.length, mask_zero))
        self.shareable.append(Shareable(layer, lambda t: t.kind == "ids" and t.vocabulary <= vocabulary, apply))
        self.add(Tensor(layer(source.value), "seq", dim, source.length, mask_zero))

    def recurrent_on(self, source: Tensor) -> None:
        units = self.rng.choice(STATE_UNITS)
        layer = self.api.layers.GRU(units, name=self.name("gru"))
        self.apply_recurrent(layer, "GRU", units, dict(return_sequences=False, return_state=False), source, None)


def build_graph(api, seed: int):
    """The model of graph `seed` in `api` (KERAS or OURS)."""
    return GraphBuilder(api, seed).build()


def inputs_for(seed: int, model) -> dict[str, np.ndarray]:
    """Data for graph `seed`, by input name: padded ids (right-padded, with holes, or a row of padding only)
    and float sequences with all-zero steps (for Masking)."""
    rng = np.random.default_rng(seed)
    data = {}
    for tensor in keras_inputs(model):
        shape = [BATCH] + [UNKNOWN_LENGTHS[int(rng.integers(0, 2))] if d is None else d for d in tensor.shape[1:]]
        if "int" in str(tensor.dtype):
            ids = rng.integers(1, 5, size=shape)
            pattern = rng.integers(0, 3)
            if pattern == 0:                       # right-padded
                for row in range(BATCH):
                    ids[row, int(rng.integers(1, shape[1] + 1)):] = 0
            elif pattern == 1:                     # holes
                ids[rng.random(shape) < 0.3] = 0
            data[tensor.name] = ids.astype("int32")
        else:
            values = rng.standard_normal(shape).astype("float32")
            values[rng.random(shape[:2]) < 0.25] = 0.0
            data[tensor.name] = values
    return data


def keras_inputs(model) -> list:
    return list(model.inputs)
