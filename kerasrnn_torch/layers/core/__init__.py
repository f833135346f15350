"""Core layers: Dense, Dropout, Embedding, Masking, Lambda, Identity."""
from .dense import Dense, Dropout
from .embedding import Embedding
from .identity import Identity
from .lambda_layer import Lambda
from .masking import Masking

__all__ = ["Dense", "Dropout", "Embedding", "Identity", "Lambda", "Masking"]
