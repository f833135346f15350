"""Image preprocessing layers, as Keras's: Resizing, CenterCrop, RandomFlip, RandomCrop, RandomTranslation,
RandomZoom, RandomRotation."""
from .center_crop import CenterCrop
from .random_crop import RandomCrop
from .random_flip import RandomFlip
from .random_rotation import RandomRotation
from .random_translation import RandomTranslation
from .random_zoom import RandomZoom
from .resizing import Resizing

__all__ = ["Resizing", "CenterCrop", "RandomFlip", "RandomCrop", "RandomTranslation", "RandomZoom", "RandomRotation"]
