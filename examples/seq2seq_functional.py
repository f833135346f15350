"""The keras-io character-level seq2seq (lstm_seq2seq) in the functional API, on synthetic data.

Written as the keras-io program writes it, with `kr.` for `keras.`: one-hot
characters, `kr.Input`, an encoder `LSTM(return_state=True)` whose `[h, c]`
start the decoder `LSTM`, a softmax `Dense`, and `kr.Model([encoder_inputs,
decoder_inputs], decoder_outputs)` trained with teacher forcing. Then, as
keras-io does, inference models are built from the same layers (they share
the trained weights): `encoder_model = kr.Model(encoder_inputs,
encoder_states)` and a one-step `decoder_model` with the states as inputs,
called in a greedy loop. The task (no download) is reversing digit strings.

    python examples/seq2seq_functional.py            # strings of 3 to 8 digits
    python examples/seq2seq_functional.py --quick    # 3 to 6 digits, a few seconds
"""
from __future__ import annotations

import argparse
import random
import sys
import time

import torch

import kerasrnn_torch as kr

CHARACTERS = "\t\n0123456789"          # keras-io's start ("\t") and end ("\n") characters, then digits
INDEX = {ch: i for i, ch in enumerate(CHARACTERS)}
TOKENS = len(CHARACTERS)


def one_hot(texts, length) -> torch.Tensor:
    """(len(texts), length, TOKENS), zero rows after each text (keras-io pads with all-zero vectors)."""
    data = torch.zeros(len(texts), length, TOKENS)
    for i, text in enumerate(texts):
        for t, ch in enumerate(text):
            data[i, t, INDEX[ch]] = 1.0
    return data


def make_pairs(count, min_length, max_length, rng):
    texts = sorted({"".join(rng.choice("0123456789") for _ in range(rng.randint(min_length, max_length)))
                    for _ in range(count)})
    rng.shuffle(texts)
    return texts, ["\t" + text[::-1] + "\n" for text in texts]


def build_models(latent_dim):
    """keras-io's training model, then its inference encoder and one-step decoder from the same layers."""
    encoder_inputs = kr.Input(shape=(None, TOKENS), name="encoder_inputs")
    encoder = kr.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]

    decoder_inputs = kr.Input(shape=(None, TOKENS), name="decoder_inputs")
    decoder_lstm = kr.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = kr.Dense(TOKENS, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)
    model = kr.Model([encoder_inputs, decoder_inputs], decoder_outputs)

    encoder_model = kr.Model(encoder_inputs, encoder_states)
    decoder_state_input_h = kr.Input(shape=(latent_dim,))
    decoder_state_input_c = kr.Input(shape=(latent_dim,))
    decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
    decoder_outputs, state_h, state_c = decoder_lstm(decoder_inputs, initial_state=decoder_states_inputs)
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = kr.Model([decoder_inputs] + decoder_states_inputs, [decoder_outputs, state_h, state_c])
    return model, encoder_model, decoder_model


@torch.no_grad()
def decode_sequence(encoder_model, decoder_model, input_seq, max_length):
    """keras-io's greedy loop, batched: one step at a time from the decoder model's returned states."""
    states = encoder_model(input_seq)
    target = one_hot(["\t"] * len(input_seq), 1)
    decoded = [""] * len(input_seq)
    done = [False] * len(input_seq)
    for _ in range(max_length):
        output_tokens, h, c = decoder_model([target] + states)
        sampled = output_tokens[:, -1].argmax(-1)
        for i, token in enumerate(sampled.tolist()):
            if not done[i]:
                done[i] = CHARACTERS[token] == "\n"
                decoded[i] += "" if done[i] else CHARACTERS[token]
        target = torch.nn.functional.one_hot(sampled, TOKENS).float().unsqueeze(1)
        states = [h, c]
    return decoded


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-length", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=8)
    parser.add_argument("--samples", type=int, default=8000)
    parser.add_argument("--steps", type=int, default=1500, help="training steps (batches of 64)")
    parser.add_argument("--latent-dim", type=int, default=128)
    parser.add_argument("--quick", action="store_true", help="3 to 6 digits, fewer steps (a few seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.max_length, args.samples, args.steps = 6, 3000, 400

    rng = random.Random(0)
    torch.manual_seed(0)
    inputs, targets = make_pairs(args.samples, args.min_length, args.max_length, rng)
    held_out = 100
    train_inputs, train_targets = inputs[held_out:], targets[held_out:]
    encoder_input_data = one_hot(train_inputs, args.max_length)
    decoder_input_data = one_hot([t[:-1] for t in train_targets], args.max_length + 1)
    decoder_target_data = one_hot([t[1:] for t in train_targets], args.max_length + 1)

    model, encoder_model, decoder_model = build_models(args.latent_dim)
    model.summary()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)     # every weight exists once the model does
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        model.train()
        batch = torch.randint(0, len(train_inputs), (64,), generator=generator)
        optimizer.zero_grad()
        probabilities = model([encoder_input_data[batch], decoder_input_data[batch]])
        target = decoder_target_data[batch]
        # keras-io's categorical crossentropy, over the steps that hold a character.
        present = target.sum(-1) > 0
        loss = -(target * probabilities.clamp_min(1e-7).log()).sum(-1)[present].mean()
        loss.backward()
        optimizer.step()
        if step % max(1, args.steps // 4) == 0 or step == args.steps:
            print(f"step {step:5d}: loss {loss.item():.4f} ({time.perf_counter() - start:.1f} s)")

    model.eval()
    test_inputs = inputs[:held_out]
    decoded = decode_sequence(encoder_model, decoder_model, one_hot(test_inputs, args.max_length),
                              args.max_length + 1)
    expected = [text[::-1] for text in test_inputs]
    accuracy = sum(d == e for d, e in zip(decoded, expected)) / len(expected)
    shared = {id(p) for p in decoder_model.parameters()} <= {id(p) for p in model.parameters()}
    print(f"inference models share the training model's weights: {shared}")
    for text, d, e in list(zip(test_inputs, decoded, expected))[:5]:
        print(f"  {text:>{args.max_length}} -> {d:>{args.max_length}} {'ok' if d == e else 'WRONG'}")
    print(f"held-out sequence accuracy (greedy, step by step): {accuracy:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
