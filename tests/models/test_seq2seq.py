"""An encoder-decoder built from these layers trains: the seed's seq2seq-with-attention shape."""
import torch
from torch import nn

import kerasrnn_torch as kr


class CopyModel(nn.Module):
    """LSTM encoder (return_state) -> LSTM decoder from its states -> Attention -> Dense."""

    def __init__(self, vocabulary=8, units=32):
        super().__init__()
        self.source_embedding = kr.Embedding(vocabulary, 16, mask_zero=True)
        self.target_embedding = kr.Embedding(vocabulary, 16)
        # Shape hints build the weights now, so the optimizer created next sees them all.
        self.encoder = kr.LSTM(units, return_sequences=True, return_state=True, input_dim=16)
        self.decoder = kr.LSTM(units, return_sequences=True, return_state=True, input_dim=16)
        self.attention = kr.Attention()
        self.output_layer = kr.Dense(vocabulary, input_dim=2 * units)

    def forward(self, source, target_in):
        source_mask = self.source_embedding.compute_mask(source)
        encoded, h, c = self.encoder(self.source_embedding(source), mask=source_mask)
        decoded, _, _ = self.decoder(self.target_embedding(target_in), initial_state=[h, c])
        context = self.attention([decoded, encoded], mask=[None, source_mask])
        return self.output_layer(torch.cat([decoded, context], dim=-1))


def test_encoder_decoder_with_attention_learns_to_copy():
    torch.manual_seed(0)
    model = CopyModel()
    source = torch.randint(1, 8, (64, 6))
    source[::3, 4:] = 0                       # some right-padded sources
    target_in = torch.cat([torch.zeros(64, 1, dtype=torch.long), source[:, :-1]], dim=1)   # teacher forcing
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        logits = model(source, target_in)
        loss = nn.functional.cross_entropy(logits.reshape(-1, 8), source.reshape(-1))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert model.encoder.last_path == "fused"       # the right-padded mask stays on the fused kernel
    assert losses[-1] < 0.1 * losses[0]
