"""Cross-batch statefulness: a long sequence read in chunks gives what one pass over it gives.

Four paragraphs (one per batch row) are read as character sequences. A
`stateful=True` LSTM fed the sequence chunk by chunk carries its `[h, c]` from
each call to the next, so its outputs equal one pass of the same weights over
the whole sequence; `reset_state()` then starts it afresh. The states a layer
ends with (`layer.states`, or the `h, c` that `return_state=True` returns) can
also start another layer through `initial_state=`. Last, a character model is
trained on the chunks (truncated backpropagation through time: the gradient
stops at each chunk boundary, the states do not).

    python examples/stateful_paragraphs.py
    python examples/stateful_paragraphs.py --quick
"""
from __future__ import annotations

import argparse
import sys

import torch
from torch import nn

import kerasrnn_torch as kr

PARAGRAPHS = [
    "The river rose slowly through the night, and by morning the lower fields were a single sheet of grey "
    "water. The farmers walked the embankment in silence, counting the posts that still showed above the "
    "flood and wondering how many days the water would stay before it returned to its bed.",
    "In the workshop the old clockmaker kept every drawer labelled in a careful hand: springs, wheels, pins "
    "and the small glass faces that broke more often than anything else. He worked by the window until the "
    "light failed, then lit a lamp and worked a little longer, because a clock left half open loses its way.",
    "The train left the coast at dawn and climbed into the hills, where the stations grew smaller and the "
    "names on their signs grew longer. By noon the carriage was almost empty, and the conductor sat down "
    "across the aisle to eat an apple and to talk about the winters he remembered from his childhood there.",
    "Every spring the school planted a row of beans along the fence, and every summer the children measured "
    "them against their own heights. Some years the beans won and some years the children did, and the "
    "record of each contest was written in chalk on the wall of the shed, where the rain slowly washed it.",
]


def character_ids(paragraphs, length: int):
    """(ids (len(paragraphs), length), vocabulary): one row per paragraph, cut to `length` characters."""
    characters = sorted(set("".join(paragraphs)))
    index = {ch: i for i, ch in enumerate(characters)}
    rows = [[index[ch] for ch in text[:length]] for text in paragraphs]
    return torch.tensor(rows), characters


def largest_difference(a, b) -> float:
    return float((a - b).abs().max())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length", type=int, default=240, help="characters read from each paragraph")
    parser.add_argument("--chunk", type=int, default=40, help="timesteps per stateful call")
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=60, help="epochs of the character model")
    parser.add_argument("--quick", action="store_true", help="shorter sequences, fewer epochs (a few seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.length, args.chunk, args.epochs = 160, 20, 25
    if args.length % args.chunk:
        parser.error(f"--length ({args.length}) must be a multiple of --chunk ({args.chunk})")

    torch.manual_seed(0)
    ids, characters = character_ids(PARAGRAPHS, args.length)
    embedding = kr.Embedding(len(characters), 16)
    with torch.no_grad():
        x = embedding(ids)                                    # (4 paragraphs, length, 16)
    batch, length, features = x.shape
    chunks = x.split(args.chunk, dim=1)
    print(f"{batch} paragraphs of {length} characters ({len(characters)} distinct), read in {len(chunks)} "
          f"chunks of {args.chunk} timesteps")

    # 1. Chunk by chunk with stateful=True equals one pass over the whole sequence.
    whole = kr.LSTM(args.units, return_sequences=True, return_state=True, input_dim=features)
    stateful = kr.LSTM(args.units, return_sequences=True, stateful=True, input_dim=features)
    stateful.set_weights(whole.get_weights())
    with torch.no_grad():
        full_output, full_h, full_c = whole(x)
        chunked_output = torch.cat([stateful(chunk) for chunk in chunks], dim=1)
        held = stateful.states          # None until a stateful layer's first call
        assert held is not None
        h, c = held
    output_difference = largest_difference(chunked_output, full_output)
    state_difference = max(largest_difference(h, full_h), largest_difference(c, full_c))
    print(f"1. stateful, chunk by chunk vs one pass: outputs differ by {output_difference:.1e}, "
          f"final states by {state_difference:.1e} "
          f"(path {stateful.last_path!r}; states {[tuple(s.shape) for s in held]})")

    # 2. reset_state(): back to zeros, so the next call reads like the start of a new sequence.
    stateful.reset_state()
    zeros = stateful.states
    assert zeros is not None
    zero = max(float(s.abs().max()) for s in zeros)
    with torch.no_grad():
        restart = stateful(chunks[0])
    print(f"2. after reset_state(): states are zeros (largest |value| {zero:.1e}); the first chunk again "
          f"differs from the one-pass start by {largest_difference(restart, full_output[:, :args.chunk]):.1e}")

    # 3. States carried into a new layer: read the first half statefully, hand its states to a fresh layer.
    half = len(chunks) // 2
    stateful.reset_state()
    continuation = kr.LSTM(args.units, return_sequences=True, input_dim=features)   # not stateful
    continuation.set_weights(whole.get_weights())
    with torch.no_grad():
        for chunk in chunks[:half]:
            stateful(chunk)
        second_half = continuation(torch.cat(chunks[half:], dim=1), initial_state=stateful.states)
    print(f"3. initial_state=stateful.states in a new layer: its second half differs from the one pass by "
          f"{largest_difference(second_half, full_output[:, half * args.chunk:]):.1e}")

    # 4. Truncated backpropagation through time: a next-character model trained chunk by chunk.
    model = kr.Sequential([
        kr.Embedding(len(characters), 16, input_shape=(args.chunk,)),   # the hint builds every layer now
        kr.LSTM(args.units, return_sequences=True, stateful=True),
        kr.Dense(len(characters)),
    ])
    recurrent = model.layers[1]
    assert isinstance(recurrent, kr.LSTM)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    inputs, targets = ids[:, :-1], ids[:, 1:]
    steps = (length - 1) // args.chunk
    losses = []
    print("4. a stateful next-character model trained chunk by chunk (truncated backpropagation through time):")
    for epoch in range(1, args.epochs + 1):
        recurrent.reset_state()                               # each epoch reads the paragraphs from the start
        total = 0.0
        for i in range(steps):
            window = slice(i * args.chunk, (i + 1) * args.chunk)
            optimizer.zero_grad()
            logits = model(inputs[:, window])                 # starts from the previous chunk's states
            loss = nn.functional.cross_entropy(logits.reshape(-1, len(characters)), targets[:, window].reshape(-1))
            loss.backward()                                   # the graph ends at this chunk: states are detached
            optimizer.step()
            total += loss.item()
        losses.append(total / steps)
        if epoch == 1 or epoch % max(1, args.epochs // 5) == 0:
            print(f"   epoch {epoch:3d}: next-character loss {losses[-1]:.3f} (path {recurrent.last_path!r})")
    print(f"   truncated BPTT: loss {losses[0]:.3f} -> {losses[-1]:.3f} over {args.epochs} epochs "
          f"(uniform guessing: {torch.log(torch.tensor(float(len(characters)))).item():.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
