"""Seeded random streams, one per device, as Keras's SeedGenerator."""
from __future__ import annotations

import numbers

import torch


class SeededGenerators:
    """One `torch.Generator` per device, seeded with `seed` (None: the global RNG).

    Each call draws fresh numbers from the same stream, as a Keras
    `SeedGenerator` does: seeded layers are reproducible, not constant.
    """

    def __init__(self, seed):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"`seed` must be an integer or None, got {seed!r}")
        self.seed = seed
        self._by_device: dict[torch.device, torch.Generator] = {}

    def get(self, device) -> torch.Generator | None:
        if self.seed is None:
            return None
        device = torch.device(device)
        if device not in self._by_device:
            self._by_device[device] = torch.Generator(device=device).manual_seed(int(self.seed))
        return self._by_device[device]
