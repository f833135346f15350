"""Encoder-decoder with attention that learns to reverse digit strings, with greedy and beam-search decoding.

The encoder is an LSTM with `return_sequences=True, return_state=True`; the
decoder LSTM starts from the encoder's final `[h, c]` (`initial_state=`) and is
trained with teacher forcing (it reads the true previous token). Keras's
Luong-style `Attention` lets each decoder step look at the encoder outputs,
with the source padding mask passed as `mask=[None, source_mask]` (outside
`Sequential`, masks are passed explicitly). After training, held-out strings
(never seen in training) are decoded token by token, greedily and with a
small beam search, from the decoder's returned states.

    python examples/seq2seq_attention.py             # strings of 3 to 8 digits
    python examples/seq2seq_attention.py --quick     # 3 to 6 digits, a few seconds
"""
from __future__ import annotations

import argparse
import random
import sys
import time

import torch
from torch import nn

import kerasrnn_torch as kr

PAD, START, END = 0, 1, 2
DIGIT_OFFSET = 3                 # token of digit d is d + 3
VOCABULARY = DIGIT_OFFSET + 10


def encode_digits(text: str) -> list[int]:
    return [int(ch) + DIGIT_OFFSET for ch in text]


def decode_tokens(tokens) -> str:
    digits = []
    for token in tokens:
        if token == END:
            break
        digits.append(str(token - DIGIT_OFFSET) if token >= DIGIT_OFFSET else "?")
    return "".join(digits)


def make_strings(count: int, min_length: int, max_length: int, rng: random.Random, exclude=frozenset()):
    strings: list[str] = []
    seen = set(exclude)
    while len(strings) < count:
        text = "".join(rng.choice("0123456789") for _ in range(rng.randint(min_length, max_length)))
        if text not in seen:
            seen.add(text)
            strings.append(text)
    return strings


def make_batch(strings, max_length: int):
    """Right-padded tensors: source, decoder input (START + reversed) and decoder target (reversed + END)."""
    source = torch.full((len(strings), max_length), PAD)
    decoder_input = torch.full((len(strings), max_length + 1), PAD)
    target = torch.full((len(strings), max_length + 1), PAD)
    for i, text in enumerate(strings):
        forward, backward = encode_digits(text), encode_digits(text[::-1])
        source[i, :len(forward)] = torch.tensor(forward)
        decoder_input[i, :len(backward) + 1] = torch.tensor([START] + backward)
        target[i, :len(backward) + 1] = torch.tensor(backward + [END])
    return source, decoder_input, target


class Reverser(nn.Module):
    """Embedding -> LSTM encoder (return_state) -> LSTM decoder from its states -> Attention -> Dense."""

    def __init__(self, embedding_dim: int = 16, units: int = 64):
        super().__init__()
        self.source_embedding = kr.Embedding(VOCABULARY, embedding_dim, mask_zero=True)
        self.target_embedding = kr.Embedding(VOCABULARY, embedding_dim, mask_zero=True)
        # input_dim= builds the weights now, so the optimizer made after the model sees them all.
        self.encoder = kr.LSTM(units, return_sequences=True, return_state=True, input_dim=embedding_dim)
        self.decoder = kr.LSTM(units, return_sequences=True, return_state=True, input_dim=embedding_dim)
        self.attention = kr.Attention()
        self.output_layer = kr.Dense(VOCABULARY, input_dim=2 * units)

    def encode(self, source):
        """(encoder outputs, [h, c], source mask)."""
        source_mask = self.source_embedding.compute_mask(source)
        encoded, h, c = self.encoder(self.source_embedding(source), mask=source_mask)
        return encoded, [h, c], source_mask

    def decode(self, decoder_input, states, encoded, source_mask, decoder_mask=None):
        """Logits for every decoder step, and the decoder's final [h, c] (to continue from)."""
        decoded, h, c = self.decoder(self.target_embedding(decoder_input), initial_state=states, mask=decoder_mask)
        context = self.attention([decoded, encoded], mask=[decoder_mask, source_mask])
        return self.output_layer(torch.cat([decoded, context], dim=-1)), [h, c]

    def forward(self, source, decoder_input):
        """Teacher forcing: the decoder reads the true previous tokens."""
        encoded, states, source_mask = self.encode(source)
        decoder_mask = self.target_embedding.compute_mask(decoder_input)
        return self.decode(decoder_input, states, encoded, source_mask, decoder_mask)[0]


@torch.no_grad()
def greedy_decode(model: Reverser, source, max_steps: int) -> list[list[int]]:
    """One token at a time from the decoder's returned states: the most likely token each step."""
    model.eval()
    encoded, states, source_mask = model.encode(source)
    token = torch.full((len(source), 1), START)
    steps = []
    for _ in range(max_steps):
        logits, states = model.decode(token, states, encoded, source_mask)
        token = logits[:, -1].argmax(-1, keepdim=True)
        steps.append(token)
    return torch.cat(steps, dim=1).tolist()


@torch.no_grad()
def beam_search(model: Reverser, source_row, beam_width: int, max_steps: int) -> tuple[list[int], float]:
    """The most likely sequence under a beam of `beam_width` hypotheses (sum of log-probabilities)."""
    model.eval()
    encoded, (h, c), source_mask = model.encode(source_row.unsqueeze(0))
    beams = [(0.0, [START])]          # (log-probability, tokens), all still running
    finished = []
    for _ in range(max_steps):
        count = len(beams)
        tokens = torch.tensor([[b[1][-1]] for b in beams])
        logits, (h, c) = model.decode(tokens, [h, c], encoded.expand(count, -1, -1),
                                      source_mask.expand(count, -1))
        log_probabilities = torch.log_softmax(logits[:, -1], dim=-1)
        top = log_probabilities.topk(beam_width, dim=-1)
        candidates = [(beams[i][0] + float(top.values[i, k]), beams[i][1] + [int(top.indices[i, k])], i)
                      for i in range(count) for k in range(beam_width)]
        candidates.sort(key=lambda candidate: -candidate[0])
        beams, keep = [], []
        for score, sequence, parent in candidates[:beam_width]:
            if sequence[-1] == END:
                finished.append((score, sequence))
            else:
                beams.append((score, sequence))
                keep.append(parent)
        if not beams or (finished and max(f[0] for f in finished) > beams[0][0]):
            break                     # no running hypothesis can beat the best finished one any more
        h, c = h[keep], c[keep]
    score, sequence = max(finished + beams, key=lambda hypothesis: hypothesis[0])
    return sequence[1:], score


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-length", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=8)
    parser.add_argument("--train-size", type=int, default=8000)
    parser.add_argument("--test-size", type=int, default=200)
    parser.add_argument("--steps", type=int, default=1000, help="training steps (batches of 64)")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--beam-width", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="3 to 6 digits, fewer steps (a few seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.max_length, args.train_size, args.test_size, args.steps = 6, 2000, 100, 250

    rng = random.Random(0)
    torch.manual_seed(0)
    train_strings = make_strings(args.train_size, args.min_length, args.max_length, rng)
    test_strings = make_strings(args.test_size, args.min_length, args.max_length, rng, exclude=set(train_strings))
    source, decoder_input, target = make_batch(train_strings, args.max_length)
    print(f"task: reverse strings of {args.min_length} to {args.max_length} digits; {len(train_strings)} training "
          f"strings, {len(test_strings)} held-out ones never seen in training")
    print(f"teacher forcing: source {train_strings[0]!r} -> decoder input {decoder_input[0].tolist()}, "
          f"target {target[0].tolist()} (0 pad, 1 start, 2 end, digit d is d+3)")

    model = Reverser(units=args.units)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        model.train()
        batch = torch.randint(0, len(source), (64,), generator=generator)
        optimizer.zero_grad()
        logits = model(source[batch], decoder_input[batch])
        loss = nn.functional.cross_entropy(logits.reshape(-1, VOCABULARY), target[batch].reshape(-1),
                                           ignore_index=PAD)
        loss.backward()
        optimizer.step()
        if step % max(1, args.steps // 5) == 0 or step == args.steps:
            print(f"step {step:5d}: loss {loss.item():.4f} ({time.perf_counter() - start:.1f} s; encoder path "
                  f"{model.encoder.last_path!r} with the source padding mask)")

    test_source = make_batch(test_strings, args.max_length)[0]
    max_steps = args.max_length + 1
    greedy = [decode_tokens(tokens) for tokens in greedy_decode(model, test_source, max_steps)]
    beam = [decode_tokens(beam_search(model, row, args.beam_width, max_steps)[0]) for row in test_source]
    expected = [text[::-1] for text in test_strings]
    greedy_accuracy = sum(g == e for g, e in zip(greedy, expected)) / len(expected)
    beam_accuracy = sum(b == e for b, e in zip(beam, expected)) / len(expected)
    print("held-out examples (source -> greedy | beam):")
    for text, g, b, e in list(zip(test_strings, greedy, beam, expected))[:6]:
        print(f"  {text:>{args.max_length}} -> {g:>{args.max_length}} {'ok' if g == e else 'WRONG'} | "
              f"{b:>{args.max_length}} {'ok' if b == e else 'WRONG'}")
    print(f"held-out sequence accuracy: greedy {greedy_accuracy:.3f}, beam search (width {args.beam_width}) "
          f"{beam_accuracy:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
