"""kr.Input and kr.Model against keras.Input and keras.Model (torch backend): numbers, order, masks, misuse."""
import io

import keras
import numpy as np
import pytest
import torch

import kerasrnn_torch as kr
from reference import GRAD_ATOL, OUTPUT_ATOL, assert_close, random_weights, weighted_sum

N_SRC, N_TGT, UNITS = 7, 5, 16


def seq2seq(lib, units=UNITS):
    """The Keras RNN guide's encoder-decoder with attention, and its inference models, in `lib`'s names."""
    layers = lib.layers if lib is keras else lib
    enc_in = lib.Input(shape=(None, N_SRC), name="encoder_inputs")
    enc_out, h, c = layers.LSTM(units, return_sequences=True, return_state=True)(enc_in)
    dec_in = lib.Input(shape=(None, N_TGT), name="decoder_inputs")
    dec_lstm = layers.LSTM(units, return_sequences=True, return_state=True)
    dec_out, _, _ = dec_lstm(dec_in, initial_state=[h, c])
    ctx = layers.Attention()([dec_out, enc_out])
    dense = layers.Dense(N_TGT, activation="softmax")
    out = dense(layers.Concatenate()([dec_out, ctx]))
    model = lib.Model([enc_in, dec_in], out)
    encoder = lib.Model(enc_in, [enc_out, h, c])
    h_in, c_in = lib.Input(shape=(units,)), lib.Input(shape=(units,))
    enc_seq = lib.Input(shape=(None, units))
    o, h2, c2 = dec_lstm(dec_in, initial_state=[h_in, c_in])
    step_out = dense(layers.Concatenate()([o, layers.Attention()([o, enc_seq])]))
    decoder = lib.Model([dec_in, h_in, c_in, enc_seq], [step_out, h2, c2])
    return model, encoder, decoder


def paired(build):
    """(ours, Keras's) from the same building code, ours holding Keras's random weights."""
    theirs = build(keras)
    ours = build(kr)
    first_theirs = theirs[0] if isinstance(theirs, tuple) else theirs
    first_ours = ours[0] if isinstance(ours, tuple) else ours
    first_ours.set_weights(random_weights(first_theirs))
    return ours, theirs


def grads_match(ours, theirs, our_inputs, their_inputs):
    out_ours, out_theirs = ours(our_inputs), theirs(their_inputs)
    outs_ours = out_ours if isinstance(out_ours, (list, tuple)) else [out_ours]
    outs_theirs = out_theirs if isinstance(out_theirs, (list, tuple)) else [out_theirs]
    for a, b in zip(outs_ours, outs_theirs):
        assert_close(a, b, OUTPUT_ATOL, "output")
    weighted_sum(outs_ours).backward()
    weighted_sum(outs_theirs).backward()
    for mine, ref in zip(ours.weights, theirs.weights):
        assert_close(mine.grad, ref.value.grad, GRAD_ATOL, f"d/d {ref.path}")
    for mine, ref in zip(our_inputs, their_inputs):
        if mine.is_floating_point():
            assert_close(mine.grad, ref.grad, GRAD_ATOL, "d/d inputs")


def float_inputs(*shapes):
    values = [torch.randn(s) for s in shapes]
    return ([v.clone().requires_grad_(True) for v in values], [v.clone().requires_grad_(True) for v in values])


# -------------------------------------------------------------- the reference
@pytest.mark.parametrize("path", ["fused", "loop"])
def test_seq2seq_training_model_matches_keras_outputs_and_gradients(path):
    (model, _, _), (keras_model, _, _) = paired(seq2seq)
    ours, theirs = float_inputs((3, 6, N_SRC), (3, 4, N_TGT))
    with kr.force_path(path):
        grads_match(model, keras_model, ours, theirs)
    assert [w.shape for w in model.get_weights()] == [w.shape for w in keras_model.get_weights()]
    assert model.count_params() == keras_model.count_params()
    assert [layer.name.split("_")[0] for layer in model.layers] == \
        [layer.name.split("_")[0] for layer in keras_model.layers]


def test_seq2seq_inference_models_share_weights_and_decode_as_keras_step_by_step():
    (model, encoder, decoder), (keras_model, keras_encoder, keras_decoder) = paired(seq2seq)
    source = torch.randn(2, 6, N_SRC)
    enc_seq, h, c = encoder(source)
    keras_seq, keras_h, keras_c = keras_encoder(source)
    assert_close(h, keras_h)
    token = torch.zeros(2, 1, N_TGT)
    token[:, 0, 0] = 1.0
    keras_token = token.clone()
    decoded = []
    for _ in range(4):                                 # greedy decoding, one step at a time
        probabilities, h, c = decoder([token, h, c, enc_seq])
        keras_probabilities, keras_h, keras_c = keras_decoder([keras_token, keras_h, keras_c, keras_seq])
        assert_close(probabilities, keras_probabilities)
        assert_close(c, keras_c)
        token = torch.nn.functional.one_hot(probabilities.argmax(-1), N_TGT).float()
        keras_token = torch.nn.functional.one_hot(keras_probabilities.argmax(-1), N_TGT).float()
        decoded.append(token)
    # The step-by-step decode is the training model run on the tokens it produced (teacher forcing).
    start = torch.zeros(2, 1, N_TGT)
    start[:, 0, 0] = 1.0
    forced = model([source, torch.cat([start, *decoded[:-1]], dim=1)])
    assert torch.equal(forced.argmax(-1), torch.cat(decoded, dim=1).argmax(-1))
    assert set(map(id, decoder.parameters())) <= set(map(id, model.parameters())) | \
        set(map(id, decoder.get_layer(index=-2).parameters()))


def test_models_from_the_same_layers_share_one_set_of_weights():
    model, encoder, decoder = seq2seq(kr)
    encoder_lstm = encoder.layers[1]
    assert encoder_lstm is model.layers[2]
    with torch.no_grad():
        encoder_lstm.cell.kernel.add_(1.0)
    source, target = torch.randn(2, 5, N_SRC), torch.randn(2, 3, N_TGT)
    assert torch.equal(encoder(source)[1], model.layers[2](source)[1])
    assert model.count_params() == sum(p.numel() for p in model.parameters())


# ------------------------------------------------------------------- masks
def masked_model(lib):
    layers = lib.layers if lib is keras else lib
    tokens = lib.Input(shape=(None,), dtype="int32")
    embedded = layers.Embedding(20, 6, mask_zero=True)(tokens)
    sequence = layers.LSTM(8, return_sequences=True)(embedded)     # the mask passes on ...
    forward = layers.GRU(8)(sequence)                              # ... and is used here
    backward = layers.SimpleRNN(8, go_backwards=True)(embedded)
    return lib.Model(tokens, [forward, backward])


@pytest.mark.parametrize("path, tokens", [
    ("fused", [[3, 4, 5, 0, 0], [1, 2, 0, 0, 0], [7, 8, 9, 10, 11]]),
    ("loop", [[3, 4, 5, 0, 0], [1, 2, 0, 0, 0], [7, 8, 9, 10, 11]]),
    ("auto", [[3, 4, 5, 0, 0], [1, 0, 2, 0, 9], [7, 8, 9, 10, 11]])], ids=["fused", "loop", "holes"])
def test_masks_travel_along_edges_as_in_keras(path, tokens):
    model, keras_model = paired(masked_model)
    tokens = torch.tensor(tokens)
    with kr.force_path(path):
        for ours, theirs in zip(model(tokens), keras_model(tokens)):
            assert_close(ours, theirs)


def initial_state_mask_model(lib):
    layers = lib.layers if lib is keras else lib
    tokens = lib.Input(shape=(None,), dtype="int32")
    h = lib.Input(shape=(4,))
    embedded = layers.Embedding(10, 3, mask_zero=True)(tokens)
    with_state = layers.GRU(4, return_sequences=True)(embedded, initial_state=[h])
    return lib.Model([tokens, h], [with_state, layers.GRU(4, return_sequences=True)(with_state)])


def test_a_layer_given_initial_state_runs_unmasked_and_passes_the_mask_on_as_keras():
    # Keras 3 passes a mask implicitly only to a call with one tensor argument: with
    # initial_state the RNN steps through the padding, and its output still carries the mask.
    model, keras_model = paired(initial_state_mask_model)
    tokens, h = torch.tensor([[1, 2, 0, 0]]), torch.randn(1, 4)
    ours, theirs = model([tokens, h]), keras_model([tokens, h])
    for a, b in zip(ours, theirs):
        assert_close(a, b)
    assert not torch.allclose(ours[0][0, 2], ours[0][0, 1])     # the padded step was computed
    assert torch.equal(ours[1][0, 2], ours[1][0, 1])            # the next GRU saw the mask


def test_model_mask_argument_masks_its_inputs():
    inputs = kr.Input(shape=(None, 3))
    model = kr.Model(inputs, kr.LSTM(4)(inputs))
    x = torch.randn(2, 5, 3)
    mask = torch.tensor([[True] * 3 + [False] * 2, [True] * 5])
    assert torch.allclose(model(x, mask=mask)[0], model(x[:1, :3])[0], atol=1e-6)


# ----------------------------------------------------------- calling forms
def two_outputs(lib):
    layers = lib.layers if lib is keras else lib
    a = lib.Input(shape=(5, 3), name="a")
    b = lib.Input(shape=(3,), name="b")
    shared = layers.Dense(4)
    return lib.Model({"a": a, "b": b}, {"seq": shared(a), "vec": shared(b)})


def test_dict_inputs_and_outputs_and_a_shared_layer_match_keras():
    model, keras_model = paired(two_outputs)
    a, b = torch.randn(2, 5, 3), torch.randn(2, 3)
    with pytest.raises(ValueError, match=r"input 'b' expects shape \(None, 3\), got \(2, 4\)"):
        model({"a": a, "b": torch.randn(2, 4)})
    ours = model({"a": a, "b": b})
    theirs = keras_model({"a": a, "b": b})
    assert set(ours) == {"seq", "vec"}
    assert_close(ours["seq"], theirs["seq"])
    assert_close(ours["vec"], theirs["vec"])
    assert model.count_params() == keras_model.count_params() == 16


def test_called_as_keras_and_as_a_torch_module_alike():
    model, _, _ = seq2seq(kr)
    source, target = torch.randn(2, 5, N_SRC), torch.randn(2, 3, N_TGT)
    expected = model([source, target])
    assert torch.equal(model(source, target), expected)
    assert torch.equal(model({"encoder_inputs": source, "decoder_inputs": target}), expected)
    assert torch.equal(model((source, target)), expected)


def test_a_one_output_list_model_returns_a_list_as_keras():
    inputs = kr.Input(shape=(3,))
    model = kr.Model(inputs, [kr.Dense(2)(inputs)])
    result = model(torch.randn(4, 3))
    assert isinstance(result, list) and result[0].shape == (4, 2)


# --------------------------------------------------------- modules and state
def test_the_same_building_code_gives_the_same_state_dict_keys():
    first, _, _ = seq2seq(kr)
    second, _, _ = seq2seq(kr)
    assert list(first.state_dict()) == list(second.state_dict())
    assert "lstm.cell.kernel" in first.state_dict() and "dense.kernel" in first.state_dict()
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    buffer.seek(0)
    second.load_state_dict(torch.load(buffer))
    source, target = torch.randn(2, 5, N_SRC), torch.randn(2, 3, N_TGT)
    assert torch.equal(first(source, target), second(source, target))


def test_set_weights_takes_keras_model_weights_and_parameters_follow_keras_order():
    model, keras_model = paired(masked_model)
    assert [p.shape for p in model.parameters()] == [tuple(w.shape) for w in keras_model.get_weights()]
    for ours, theirs in zip(model.get_weights(), keras_model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_train_eval_to_and_dropout_follow_the_module():
    inputs = kr.Input(shape=(None, 3))
    x = kr.Dropout(0.5)(inputs)
    model = kr.Model(inputs, kr.LSTM(4, dropout=0.3)(x))
    x = torch.randn(8, 5, 3)
    model.eval()
    assert torch.equal(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))
    assert torch.equal(model(x, training=False), model.eval()(x))
    model.to(torch.float64)
    assert model(x.double()).dtype == torch.float64


def test_a_model_is_a_layer_of_another_model_and_of_a_sequential():
    inner_in = kr.Input(shape=(None, 3))
    inner = kr.Model(inner_in, kr.LSTM(4, return_sequences=True)(inner_in))
    outer_in = kr.Input(shape=(None, 3))
    outer = kr.Model(outer_in, kr.Dense(2)(inner(outer_in)))
    stack = kr.Sequential([inner, kr.GRU(2)])
    x = torch.randn(2, 5, 3)
    assert outer(x).shape == (2, 5, 2)
    assert stack(x).shape == (2, 2)
    assert inner.layers[1] in list(outer.modules()) and outer.count_params() == inner.count_params() + 10


def test_a_masked_model_inside_a_sequential_passes_its_mask_on():
    tokens = kr.Input(shape=(None,), dtype="int64")
    inner = kr.Model(tokens, kr.Embedding(10, 3, mask_zero=True)(tokens))
    stack = kr.Sequential([inner, kr.LSTM(4)])
    padded = torch.tensor([[1, 2, 0, 0]])
    assert torch.allclose(stack(padded), stack(padded[:, :2]), atol=1e-6)


def test_compiles_without_graph_breaks_of_its_own():
    source, target = kr.Input(shape=(5, 3)), kr.Input(shape=(4, 2))
    encoded, h = kr.GRU(6, return_sequences=True, return_state=True)(source)
    decoded = kr.GRU(6, return_sequences=True)(target, initial_state=[h])
    model = kr.Model([source, target], kr.Dense(2)(kr.Concatenate()([decoded, kr.Attention()([decoded, encoded])])))
    x, y = torch.randn(2, 5, 3), torch.randn(2, 4, 2)
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(model)(x, y)
    assert explanation.graph_break_count == 0, [reason.reason for reason in explanation.break_reasons]
    assert_close(torch.compile(model, backend="eager")(x, y), model(x, y))


def test_summary_prints_keras_functional_table_with_connections():
    model, _, _ = seq2seq(kr)
    lines = []
    assert model.summary(print_fn=lines.append, line_length=200) is None        # printed, as Keras: not returned
    text = lines[0]
    encoder, decoder = model.layers[2], model.layers[3]
    row = next(line for line in text.splitlines() if line.startswith(f"│ {decoder.name} (LSTM)"))
    assert f"decoder_inputs[0][0], {encoder.name}[0][1], {encoder.name}[0][2]" in row
    assert "(None, None, 16)" in row and "Connected to" in text
    assert f"Total params: {model.count_params():,}" in text
    assert kr.summary(model, print_fn=None) == model.summary(print_fn=None)


# -------------------------------------------------------------------- misuse
def test_an_input_missing_from_inputs_is_named():
    a, b = kr.Input(shape=(3,), name="first"), kr.Input(shape=(3,), name="second")
    total = kr.Dense(2)(a)
    other = kr.Dense(2, name="uses_second")(b)
    with pytest.raises(ValueError, match="uses_second.*'second'.*not among the model's inputs"):
        kr.Model(a, [total, other])


def test_an_unused_input_is_taken_and_ignored_as_in_keras():
    for lib in (keras, kr):
        a, b = lib.Input(shape=(3,), name="used"), lib.Input(shape=(3,), name="unused")
        model = lib.Model([a, b], lib.layers.Dense(2)(a))
        assert [layer.name for layer in model.layers][:2] == ["used", "unused"]
        assert tuple(model([np.ones((2, 3)), np.ones((2, 3))]).shape) == (2, 2)


def test_real_and_symbolic_tensors_mixed_are_refused():
    inputs = kr.Input(shape=(None, 3))
    with pytest.raises(TypeError, match="both symbolic tensors .* and real tensors"):
        kr.LSTM(4)(inputs, initial_state=[torch.zeros(1, 4), torch.zeros(1, 4)])


def test_shapes_that_do_not_fit_are_found_while_building_and_name_the_layer():
    inputs = kr.Input(shape=(None, 3))
    h = kr.Input(shape=(5,))
    with pytest.raises(ValueError, match="GRU 'bad_gru' expects initial_state shapes") as error:
        kr.GRU(4, name="bad_gru")(inputs, initial_state=[h])
    assert "building a functional model" in "".join(error.value.__notes__)
    dense = kr.Dense(2, input_dim=4)
    with pytest.raises(ValueError, match="built for 4 input features"):
        dense(inputs)


def test_a_real_tensor_as_model_output_or_input_is_refused():
    inputs = kr.Input(shape=(3,))
    # ValueError, as Keras's
    with pytest.raises(ValueError, match="All `outputs` values must be KerasTensors"):
        kr.Model(inputs, torch.zeros(2, 3))
    with pytest.raises(ValueError, match="All `inputs` values must be KerasTensors"):
        kr.Model(torch.zeros(2, 3), kr.Dense(2)(inputs))


def test_wrong_calls_name_the_input_and_what_came():
    model, _, _ = seq2seq(kr)
    with pytest.raises(ValueError, match="expects 2 input"):
        model(torch.randn(2, 5, N_SRC))
    with pytest.raises(ValueError, match=r"input 'decoder_inputs' expects shape \(None, None, 5\), got \(2, 3, 4\)"):
        model(torch.randn(2, 5, N_SRC), torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match="takes inputs named"):
        model({"encoder_inputs": torch.randn(2, 5, N_SRC)})


def test_symbolic_tensors_record_arithmetic_and_refuse_truth_values():
    x = kr.Input(shape=(3,))
    y = x + 1                       # Keras 3 records an "Add" operation
    assert isinstance(y, kr.KerasTensor) and y.shape == (None, 3)
    with pytest.raises(TypeError, match="no value to test"):
        bool(x)
    with pytest.raises(TypeError, match="iterating over it is not supported"):
        list(x)


@pytest.mark.parametrize("shape, message", [((-1, 3), "non-negative integers or None"),
                                            (("a",), "non-negative integers"), (None, "`shape` is required")])
def test_input_shape_is_validated(shape, message):
    with pytest.raises(ValueError, match=message):
        kr.Input(shape=shape)


def test_building_leaves_the_global_random_stream_alone():
    inputs = kr.Input(shape=(None, 3))
    layer = kr.LSTM(4)
    layer.build((None, None, 3))
    state = torch.get_rng_state()
    kr.Model(inputs, layer(inputs))
    assert torch.equal(state, torch.get_rng_state())


# ------------------------------------------------------------------- configs
def test_from_config_of_a_masked_keras_model_recomputes_its_masks():
    model, keras_model = paired(masked_model)
    rebuilt = kr.Model.from_config(keras_model.get_config())
    rebuilt.set_weights(keras_model.get_weights())
    tokens = torch.tensor([[3, 4, 5, 0, 0], [1, 0, 2, 0, 9]])
    for a, b in zip(rebuilt(tokens), keras_model(tokens)):
        assert_close(a, b)


def test_a_keras_operation_kr_ops_lacks_is_named_with_the_fix(monkeypatch):
    # kr.ops has every keras.ops operation of Keras 3.15: one taken away stands for a newer Keras's.
    monkeypatch.delitem(kr.ops.OPERATIONS, "Rearrange")
    x = keras.Input(shape=(6, 4), batch_size=2)
    swapped = keras.ops.rearrange(x, "b h w -> b w h")
    keras_model = keras.Model(x, keras.layers.Dense(2)(keras.layers.Flatten()(swapped)))
    with pytest.raises(ValueError, match="operation 'Rearrange' \\(rearrange(_\\d+)?\\).*not implement.*kr.Lambda"):
        kr.Model.from_config(keras_model.get_config())


def test_from_config_of_a_keras_functional_config_rebuilds_the_graph():
    (model, _, _), (keras_model, _, _) = paired(seq2seq)
    rebuilt = kr.Model.from_config(keras_model.get_config())
    assert [type(layer).__name__ for layer in rebuilt.layers] == [type(layer).__name__ for layer in keras_model.layers]
    rebuilt.set_weights(keras_model.get_weights())
    source, target = torch.randn(2, 5, N_SRC), torch.randn(2, 3, N_TGT)
    assert_close(rebuilt([source, target]), keras_model([source, target]))


def test_get_config_writes_keras_functional_form_and_round_trips():
    model, keras_model = paired(masked_model)
    ours, theirs = model.get_config(), keras_model.get_config()
    assert set(ours) == set(theirs)
    # Keras also records the not_equal operation that computes the mask; ours is implicit.
    theirs["layers"] = [entry for entry in theirs["layers"] if entry["class_name"] != "NotEqual"]
    assert [entry["class_name"] for entry in ours["layers"]] == [entry["class_name"] for entry in theirs["layers"]]

    def histories(config):
        return [[node["args"][0]["config"]["keras_history"][1:] for node in entry["inbound_nodes"]]
                for entry in config["layers"]]
    assert histories(ours) == histories(theirs)
    rebuilt = kr.Model.from_config(ours)
    rebuilt.set_weights(model.get_weights())
    tokens = torch.tensor([[3, 4, 0], [1, 2, 5]])
    for a, b in zip(rebuilt(tokens), model(tokens)):
        assert torch.equal(a, b)
    assert keras.Model.from_config(ours).count_params() == model.count_params()


def test_an_explicit_symbolic_mask_is_used_and_passed_on():
    tokens = kr.Input(shape=(None,), dtype="int64")
    embedding = kr.Embedding(10, 3)
    mask = kr.Lambda(lambda ids: ids != 0)(tokens)
    sequence = kr.LSTM(4, return_sequences=True)(embedding(tokens), mask=mask)
    model = kr.Model(tokens, [sequence, kr.GRU(2)(sequence)])
    padded = torch.tensor([[1, 2, 0, 0]])
    full_sequence, full_last = model(padded)
    short_sequence, short_last = model(padded[:, :2])
    assert torch.allclose(full_sequence[:, 2], full_sequence[:, 1])      # masked steps repeat the last output
    assert torch.allclose(full_last, short_last, atol=1e-6)               # the GRU got the mask too


def test_an_intermediate_tensor_can_be_an_input_and_its_siblings_are_checked():
    x = kr.Input(shape=(None, 3))
    sequence, h = kr.GRU(4, return_sequences=True, return_state=True)(x)
    head = kr.Model(sequence, kr.Dense(2)(sequence))            # starts from a layer's output
    assert head(torch.randn(2, 5, 4)).shape == (2, 5, 2)
    with pytest.raises(ValueError, match="takes gru\\w*/output_1, which the model cannot compute"):
        kr.Model(sequence, kr.Add()([kr.Dense(4)(sequence), kr.RepeatVector(1)(h)]))


def test_an_input_as_output_and_an_identity_model():
    x = kr.Input(shape=(3,))
    model = kr.Model(x, [x, kr.Dense(2)(x)])
    value = torch.randn(4, 3)
    same, dense = model(value)
    assert same is value and dense.shape == (4, 2)


def test_input_takes_keras_batch_shape():
    tensor = kr.Input(batch_shape=(16, 10, 5))
    k_tensor = keras.Input(batch_shape=(16, 10, 5))
    assert tensor.shape == tuple(k_tensor.shape) == (16, 10, 5)
    assert kr.Input(batch_shape=(None, 3)).shape == (None, 3)
    with pytest.raises(ValueError, match="cannot pass both `shape` and `batch_shape`"):
        kr.Input((5,), batch_shape=(2, 5))
