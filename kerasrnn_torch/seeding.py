"""Seeded random streams, one per device, as Keras's SeedGenerator.

A `SeededGenerators` is a small `torch.nn.Module` without parameters, so a
layer that keeps one as an attribute (`self._generators = SeededGenerators(seed)`)
registers it as a submodule and its random state travels with the layer's
`state_dict()`: nothing else is needed for a new layer to take part. A seeded
one writes `<prefix>seed` (its seed, an int64 scalar) and one
`<prefix>rng_state.<device>` (`torch.Generator.get_state()`, a uint8 tensor)
per device it has drawn on; `load_state_dict` puts exactly those streams back
(devices without a saved state start afresh from the seed), so training
resumed from a checkpoint draws the same dropout masks as training that never
stopped, as Keras saves its seed generators' state with the weights. An
unseeded one (`seed=None`, the global RNG) writes nothing: save and restore
`torch.get_rng_state()` for it yourself.
"""
from __future__ import annotations

import numbers

import torch
from torch import nn

SEED_KEY = "seed"
STATE_KEY = "rng_state."


class SeededGenerators(nn.Module):
    """One `torch.Generator` per device, seeded with `seed` (None: the global RNG).

    Each call draws fresh numbers from the same stream, as a Keras
    `SeedGenerator` does: seeded layers are reproducible, not constant. The
    streams' positions are part of the owning module's `state_dict()`.
    """

    def __init__(self, seed):
        super().__init__()
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"`seed` must be an integer or None, got {seed!r}")
        self.seed = seed
        self._by_device: dict[torch.device, torch.Generator] = {}

    def get(self, device: torch.device | str) -> torch.Generator | None:
        if self.seed is None:
            return None
        device = torch.device(device)
        if device not in self._by_device:
            self._by_device[device] = torch.Generator(device=device).manual_seed(int(self.seed))
        return self._by_device[device]

    def restart(self) -> None:
        """Back to the start of the seed's stream, as a freshly made layer with this seed would be."""
        self._by_device = {}

    def extra_repr(self) -> str:
        return f"seed={self.seed!r}"

    # ------------------------------------------------------------ state_dict
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        if self.seed is None:
            return
        destination[prefix + SEED_KEY] = torch.tensor(int(self.seed), dtype=torch.int64)
        for device, generator in self._by_device.items():
            destination[prefix + STATE_KEY + str(device)] = generator.get_state()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        ours = {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}
        foreign = [key for key in ours if key != SEED_KEY and not key.startswith(STATE_KEY)]
        if strict:
            unexpected_keys.extend(prefix + key for key in foreign)
        ours = {key: value for key, value in ours.items() if key not in foreign}
        if not ours:
            return          # a checkpoint without random state (saved unseeded, or before it was saved)
        if self.seed is None:
            unexpected_keys.extend(prefix + key for key in ours)
            return
        problem = self._restore(ours)
        if problem is not None:
            error_msgs.append(f"{prefix}{SEED_KEY}: {problem}")

    def _restore(self, entries: dict) -> str | None:
        """Replace the streams by the saved ones; a sentence on what does not fit (then nothing changes)."""
        saved_seed = entries.get(SEED_KEY)
        assert self.seed is not None        # _load_from_state_dict stops before this for an unseeded layer
        if saved_seed is None or int(saved_seed) != int(self.seed):
            return (f"the random state was saved with seed {None if saved_seed is None else int(saved_seed)}, "
                    f"this layer has seed {self.seed}; build the layer with the same seed")
        streams = {}
        for key, state in entries.items():
            if key == SEED_KEY:
                continue
            device = torch.device(key[len(STATE_KEY):])
            generator = torch.Generator(device=device)
            try:
                generator.set_state(state.detach().cpu())
            except (RuntimeError, TypeError) as error:
                return f"the saved random state for {device} is not a generator state ({error})"
            streams[device] = generator
        self._by_device = streams
        return None
