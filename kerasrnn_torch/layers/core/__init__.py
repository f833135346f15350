"""Core layers: Dense, EinsumDense, Dropout, Embedding, Masking, Lambda, Identity, SpatialDropout1D/2D/3D, GaussianNoise,
GaussianDropout, AlphaDropout, ActivityRegularization, Rescaling."""
from .dense import Dense, Dropout
from .einsum_dense import EinsumDense
from .embedding import Embedding
from .identity import Identity
from .lambda_layer import Lambda
from .masking import Masking
from .noise import GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D
from .regularization import ActivityRegularization, AlphaDropout
from .rescaling import Rescaling

__all__ = ["ActivityRegularization", "AlphaDropout", "Dense", "Dropout", "EinsumDense", "Embedding", "GaussianDropout", "GaussianNoise", "Identity", "Lambda", "Masking",
           "Rescaling", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"]
