"""Activation layers: Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax."""
from .activation import Activation
from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax

__all__ = ["Activation", "ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax"]
