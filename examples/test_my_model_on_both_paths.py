"""Copy this file into your tests: your model, checked on the fused kernel and on the cell loop.

It is a pytest file, not a script: `python -m pytest examples/test_my_model_on_both_paths.py`
(a few seconds on a CPU, so it has no --quick option). Put your own model and a batch in
`make_model()`; the tests then check that

- both paths give the same outputs, gradients and states (`kr.testing.assert_paths_agree`), in
  eval mode and in training mode with dropout (the same random draws on both paths);
- the recurrent layers you expect to be fast run the fused kernel (`kr.testing.paths_report`);
- a short training run works on either path (`@kr.testing.both_paths` runs a test twice).

The same factory serves the command line:
`python -m kerasrnn_torch check --model examples/test_my_model_on_both_paths.py:make_model`.
"""
import torch

import kerasrnn_torch as kr


class Tagger(torch.nn.Module):
    """Our layers mixed with plain PyTorch code: ids -> embeddings -> BiLSTM -> GRU -> a torch head."""

    def __init__(self, vocabulary=50, dropout=0.0):
        super().__init__()
        self.embed = kr.Embedding(vocabulary, 16, mask_zero=True)          # id 0 is padding
        self.encoder = kr.Bidirectional(kr.LSTM(12, return_sequences=True, dropout=dropout, seed=1))
        self.decoder = kr.GRU(10, return_sequences=True, dropout=dropout, seed=2)
        self.head = torch.nn.Sequential(torch.nn.Linear(10, 10), torch.nn.Tanh(), torch.nn.Linear(10, 3))

    def forward(self, ids):
        mask = self.embed.compute_mask(ids)
        x = self.encoder(self.embed(ids), mask=mask)
        return self.head(self.decoder(x, mask=mask))


def make_model(dropout=0.0):
    """Your model and a batch of its inputs: (model, inputs)."""
    torch.manual_seed(0)
    ids = torch.randint(1, 50, (6, 12))
    for row, length in enumerate([12, 9, 7, 4, 12, 1]):                # right-padded rows of any length
        ids[row, length:] = 0
    return Tagger(dropout=dropout), ids


def test_both_paths_agree():
    model, ids = make_model()
    report = kr.testing.assert_paths_agree(model, ids)                # raises, naming the layer, on a difference
    print(report)


def test_both_paths_agree_in_training_mode_with_dropout():
    model, ids = make_model(dropout=0.25)
    kr.testing.assert_paths_agree(model, ids, training=True)


def test_the_recurrent_layers_run_the_fused_kernel():
    model, ids = make_model()
    report = kr.testing.paths_report(model, ids)
    assert report.loop_only == [], report                               # the table says why, if not


@kr.testing.both_paths
def test_a_few_training_steps_lower_the_loss(kr_path):
    model, ids = make_model()
    labels = ids % 3
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(5):
        logits = model(ids)
        loss = torch.nn.functional.cross_entropy(logits[ids != 0], labels[ids != 0])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert model.decoder.last_path == kr_path
    assert losses[-1] < losses[0]
