"""Tests of the core layers: Dense, Dropout, Embedding, Masking."""
