"""A per-step tagger: Embedding(mask_zero) -> Bidirectional(LSTM, return_sequences) -> TimeDistributed(Dense).

A toy named-entity task: tag every word of a generated sentence as a person
(PER), a place (LOC) or neither (O). Some words are both a name and a place
("jordan flew to georgia", "we asked georgia about jordan"), so their tag
depends on the words around them: a tagger that looks at each word alone
cannot get them right, the bidirectional LSTM reading the whole sentence can.
`TimeDistributed(Dense(3))` applies one classifier to every timestep; the
padding mask from the embedding passes through it, and the loss counts only
real words.

    python examples/time_distributed_tagger.py
    python examples/time_distributed_tagger.py --quick
"""
from __future__ import annotations

import argparse
import random
import sys
from collections import Counter, defaultdict

import torch
from torch import nn

import kerasrnn_torch as kr

TAGS = ["O", "PER", "LOC"]
PEOPLE = ["alice", "bob", "carol", "david", "emma", "frank", "grace", "henry"]
PLACES = ["paris", "london", "tokyo", "cairo", "lima", "oslo", "rome", "delhi"]
AMBIGUOUS = ["jordan", "georgia", "chad", "florence", "victoria", "sydney"]     # people and places
TEMPLATES = [
    "{PER} flew to {LOC} on monday",
    "{PER} and {PER} met in {LOC}",
    "yesterday {PER} visited {LOC}",
    "the weather in {LOC} surprised {PER}",
    "{PER} said that {LOC} is lovely",
    "from {LOC} {PER} wrote a letter to {PER}",
    "{PER} lives near {LOC}",
    "we asked {PER} about {LOC}",
    "the train from {LOC} to {LOC} was late",
    "{PER} called {PER} from {LOC}",
]


def make_sentences(count: int, rng: random.Random):
    """(words, tags) pairs; a slot takes an ambiguous word a third of the time."""
    sentences = []
    for _ in range(count):
        words, tags = [], []
        for token in rng.choice(TEMPLATES).split():
            if token in ("{PER}", "{LOC}"):
                tag = token[1:-1]
                pool = AMBIGUOUS if rng.random() < 1 / 3 else (PEOPLE if tag == "PER" else PLACES)
                words.append(rng.choice(pool))
                tags.append(TAGS.index(tag))
            else:
                words.append(token)
                tags.append(TAGS.index("O"))
        sentences.append((words, tags))
    return sentences


def to_tensors(sentences, vocabulary):
    """Right-padded word ids (0 = padding) and tags (-100 where padded: ignored by the loss)."""
    length = max(len(words) for words, _ in sentences)
    ids = torch.zeros(len(sentences), length, dtype=torch.long)
    tags = torch.full((len(sentences), length), -100)
    for i, (words, sentence_tags) in enumerate(sentences):
        ids[i, :len(words)] = torch.tensor([vocabulary[w] for w in words])
        tags[i, :len(words)] = torch.tensor(sentence_tags)
    return ids, tags


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="fewer sentences and epochs (a few seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.train_size, args.epochs = 600, 4

    rng = random.Random(0)
    torch.manual_seed(0)
    train, test = make_sentences(args.train_size, rng), make_sentences(300, rng)
    words = sorted({w for sentence, _ in train + test for w in sentence})
    vocabulary = {w: i for i, w in enumerate(words, start=1)}          # 0 is padding
    train_ids, train_tags = to_tensors(train, vocabulary)
    test_ids, test_tags = to_tensors(test, vocabulary)
    print(f"{len(train)} training and {len(test)} held-out sentences, {len(vocabulary)} words, tags {TAGS}; "
          f"ambiguous words (people and places): {', '.join(AMBIGUOUS)}")

    model = kr.Sequential([
        kr.Embedding(len(vocabulary) + 1, 16, mask_zero=True, input_shape=(train_ids.shape[1],)),
        kr.Bidirectional(kr.LSTM(args.units, return_sequences=True)),
        kr.TimeDistributed(kr.Dense(len(TAGS))),       # one classifier, applied at every timestep
    ])                                                 # the input_shape hint built every layer already
    model.summary()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    generator = torch.Generator().manual_seed(0)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch in torch.randperm(len(train_ids), generator=generator).split(32):
            optimizer.zero_grad()
            logits = model(train_ids[batch])                                   # (batch, timesteps, 3)
            loss = nn.functional.cross_entropy(logits.reshape(-1, len(TAGS)), train_tags[batch].reshape(-1),
                                               ignore_index=-100)              # padded steps do not count
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch:2d}: loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        predicted = model(test_ids).argmax(-1)
    real = test_tags != -100
    ambiguous = real & torch.isin(test_ids, torch.tensor([vocabulary[w] for w in AMBIGUOUS]))
    token_accuracy = float((predicted == test_tags)[real].float().mean())
    ambiguous_accuracy = float((predicted == test_tags)[ambiguous].float().mean())
    sentence_accuracy = float(((predicted == test_tags) | ~real).all(dim=1).float().mean())

    # What a tagger that sees one word at a time can do: each word's most frequent training tag.
    counts: defaultdict[int, Counter[int]] = defaultdict(Counter)
    for sentence, tags in train:
        for w, t in zip(sentence, tags):
            counts[w][t] += 1
    context_free = torch.tensor([[counts[words[i - 1]].most_common(1)[0][0] if i else -100 for i in row]
                                 for row in test_ids.tolist()])
    baseline = float((context_free == test_tags)[ambiguous].float().mean())

    print(f"held-out token accuracy: {token_accuracy:.3f}; on ambiguous words: {ambiguous_accuracy:.3f} "
          f"(most frequent tag per word, without context: {baseline:.3f}); whole sentences right: "
          f"{sentence_accuracy:.3f}; Bidirectional path {model.layers[1].last_path!r}")
    for sentence in ("jordan flew to georgia on monday", "we asked georgia about jordan",
                     "the train from sydney to chad was late"):
        ids = torch.tensor([[vocabulary[w] for w in sentence.split()]])
        with torch.no_grad():
            tags = model(ids).argmax(-1)[0].tolist()
        print("  " + " ".join(f"{w}/{TAGS[t]}" for w, t in zip(sentence.split(), tags)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
