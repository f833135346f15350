"""Core layers: Dense, Dropout, Embedding, Masking, Lambda."""
from .dense import Dense, Dropout
from .embedding import Embedding
from .lambda_layer import Lambda
from .masking import Masking

__all__ = ["Dense", "Dropout", "Embedding", "Lambda", "Masking"]
