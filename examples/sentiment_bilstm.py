"""Sentiment of short reviews: Embedding(mask_zero=True) -> Bidirectional(LSTM) -> Dense.

A tiny word tokenizer turns a small review corpus written for this example
into right-padded id sequences (id 0 is padding, id 1 an unknown word). The
padding mask that `Embedding(mask_zero=True)` creates flows through
`Sequential` into the Bidirectional LSTM, which runs PyTorch's fused kernel in
both directions because the mask is right-padded (`last_path == "fused"`):
the padded steps are skipped, so adding more padding changes nothing.

    python examples/sentiment_bilstm.py
    python examples/sentiment_bilstm.py --quick
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter

import torch
from torch import nn

import kerasrnn_torch as kr

POSITIVE = [
    "a wonderful film with a great cast",
    "i loved every minute of it",
    "the acting was brilliant and the story moving",
    "great fun from start to finish",
    "a beautiful and touching story",
    "the best movie i have seen this year",
    "funny clever and full of heart",
    "the music was wonderful and the pictures beautiful",
    "an excellent script and superb acting",
    "i enjoyed it and would happily watch it again",
    "a delightful surprise with a great ending",
    "the characters were charming and the plot clever",
    "brilliant direction and a moving score",
    "what a lovely warm and funny film",
    "superb from the first scene to the last",
    "a great story told with real heart",
    "i loved the cast and the clever dialogue",
    "an enjoyable film that i would recommend to anyone",
    "beautiful pictures and an excellent story",
    "it was fun charming and very well made",
    "one of the best films of the decade",
    "the ending was moving and beautiful",
    "a clever funny and touching movie",
    "the performances were excellent throughout",
    "i was delighted by how good it was",
    "well written well acted and great to watch",
    "a superb thriller with a brilliant twist",
    "warm funny and wonderful",
    "the story kept me gripped and the acting was great",
    "an absolute joy i loved it",
    "lovely music and a charming story",
    "the best performance of her career",
    "a moving and excellent drama",
    "great characters and a clever plot",
    "i would recommend it it was wonderful",
    "a fun film with a great heart",
    "brilliant and beautiful from start to end",
    "the film was a delight",
    "an excellent movie that everyone should watch",
    "the cast was superb and the script clever",
]
NEGATIVE = [
    "a boring film with a terrible cast",
    "i hated every minute of it",
    "the acting was awful and the story dull",
    "a waste of time from start to finish",
    "a clumsy and tedious story",
    "the worst movie i have seen this year",
    "dull silly and without any heart",
    "the music was annoying and the pictures ugly",
    "a terrible script and wooden acting",
    "i regret watching it and would never watch it again",
    "a disappointing mess with a stupid ending",
    "the characters were flat and the plot predictable",
    "poor direction and a forgettable score",
    "what a dull cold and boring film",
    "awful from the first scene to the last",
    "a bad story told without any care",
    "i hated the cast and the silly dialogue",
    "a tedious film that i would not recommend to anyone",
    "ugly pictures and a terrible story",
    "it was boring predictable and badly made",
    "one of the worst films of the decade",
    "the ending was stupid and dull",
    "a silly boring and pointless movie",
    "the performances were wooden throughout",
    "i was disappointed by how bad it was",
    "badly written badly acted and painful to watch",
    "a tedious thriller with a predictable twist",
    "cold dull and awful",
    "the story bored me and the acting was terrible",
    "an absolute waste i hated it",
    "annoying music and a pointless story",
    "the worst performance of her career",
    "a boring and awful drama",
    "flat characters and a stupid plot",
    "i would not recommend it it was terrible",
    "a dull film with no heart",
    "awful and ugly from start to end",
    "the film was a disaster",
    "a terrible movie that nobody should watch",
    "the cast was wooden and the script stupid",
]


class Tokenizer:
    """Lowercase words; ids by frequency from 2 on (0 is padding, 1 an unknown word)."""

    padding, unknown = 0, 1

    def __init__(self, texts):
        counts = Counter(word for text in texts for word in self.words(text))
        self.vocabulary = {word: i for i, (word, _) in enumerate(counts.most_common(), start=2)}

    @staticmethod
    def words(text: str) -> list[str]:
        return re.findall(r"[a-z']+", text.lower())

    def __len__(self) -> int:
        return len(self.vocabulary) + 2

    def encode(self, texts, length: int | None = None) -> torch.Tensor:
        """Right-padded ids `(len(texts), length)`; length defaults to the longest text."""
        rows = [[self.vocabulary.get(w, self.unknown) for w in self.words(t)] for t in texts]
        length = length or max(len(r) for r in rows)
        ids = torch.zeros(len(rows), length, dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, :len(row)] = torch.tensor(row[:length])
        return ids


def split():
    """(training texts, labels), (held-out texts, labels): every 5th review of each class is held out."""
    train: tuple[list[str], list[int]] = ([], [])
    held_out: tuple[list[str], list[int]] = ([], [])
    for label, reviews in ((1, POSITIVE), (0, NEGATIVE)):
        for i, text in enumerate(reviews):
            target = held_out if i % 5 == 4 else train
            target[0].append(text)
            target[1].append(label)
    return (train[0], torch.tensor(train[1])), (held_out[0], torch.tensor(held_out[1]))


def predict(model, ids) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return torch.sigmoid(model(ids).squeeze(-1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="fewer epochs (a few seconds)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = 30

    torch.manual_seed(0)
    (train_texts, train_labels), (test_texts, test_labels) = split()
    tokenizer = Tokenizer(train_texts)
    train_ids, test_ids = tokenizer.encode(train_texts), tokenizer.encode(test_texts)
    print(f"corpus: {len(train_texts)} training and {len(test_texts)} held-out reviews, "
          f"vocabulary of {len(tokenizer)} ids (0 = padding, 1 = unknown word)")
    print(f"example: {train_texts[0]!r} -> {train_ids[0].tolist()}")

    model = kr.Sequential([
        kr.Embedding(len(tokenizer), 16, mask_zero=True),         # creates the padding mask ids != 0
        kr.Bidirectional(kr.LSTM(args.units)),                      # receives it from Sequential
        kr.Dense(1),
    ])
    model.build((None, train_ids.shape[1]))      # create every weight before making the optimizer
    model.summary()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

    generator = torch.Generator().manual_seed(0)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch in torch.randperm(len(train_ids), generator=generator).split(16):
            optimizer.zero_grad()
            logits = model(train_ids[batch]).squeeze(-1)
            loss = nn.functional.binary_cross_entropy_with_logits(logits, train_labels[batch].float())
            loss.backward()
            optimizer.step()
        if epoch % 10 == 0 or epoch == args.epochs:
            train_accuracy = float(((predict(model, train_ids) > 0.5).long() == train_labels).float().mean())
            print(f"epoch {epoch:3d}: loss {loss.item():.4f}, training accuracy {train_accuracy:.3f}")

    # The mask on the fused path: the Bidirectional LSTM ran PyTorch's kernel in both directions.
    embedding, bidirectional = model.layers[0], model.layers[1]
    assert isinstance(embedding, kr.Embedding) and isinstance(bidirectional, kr.Bidirectional)
    mask = embedding.compute_mask(test_ids)
    probabilities = predict(model, test_ids)
    print(f"padding mask of the held-out batch: {int((~mask).sum())} padded steps; "
          f"Bidirectional last_path = {bidirectional.last_path!r}, "
          f"dispatch_reason(mask) = {bidirectional.dispatch_reason(mask)!r}")
    more_padding = torch.cat([test_ids, torch.zeros(len(test_ids), 7, dtype=torch.long)], dim=1)
    padding_effect = float((predict(model, more_padding) - probabilities).abs().max())
    print(f"7 extra padding steps change the predictions by at most {padding_effect:.1e} (the mask skips them)")

    test_accuracy = float(((probabilities > 0.5).long() == test_labels).float().mean())
    print(f"held-out accuracy: {test_accuracy:.3f} ({len(test_texts)} reviews never seen in training)")
    for text in ("a wonderful story and a great cast", "a dull script and terrible acting",
                 "i loved the music", "boring and predictable"):
        p = float(predict(model, tokenizer.encode([text]))[0])
        print(f"  {p:.2f} {'positive' if p > 0.5 else 'negative'}: {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
