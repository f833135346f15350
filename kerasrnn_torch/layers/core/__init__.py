"""Core layers: Dense, Dropout, Embedding, Masking, Lambda, Identity, SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout."""
from .dense import Dense, Dropout
from .embedding import Embedding
from .identity import Identity
from .lambda_layer import Lambda
from .masking import Masking
from .noise import GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D

__all__ = ["Dense", "Dropout", "Embedding", "GaussianDropout", "GaussianNoise", "Identity", "Lambda", "Masking",
           "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"]
