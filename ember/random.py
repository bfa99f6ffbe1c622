"""Random number generation: one global generator, seeded by ``manual_seed``, plus ``Generator``.

Runs are reproducible inside ember (same seed, same numbers); the streams differ from PyTorch's,
so tests that compare the two frameworks copy weights rather than seeds.
"""

from __future__ import annotations

import numpy as np


class Generator:
    """A random stream (NumPy PCG64 underneath), like ``torch.Generator``."""

    def __init__(self, device="cpu"):
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self.rng = np.random.default_rng(self._seed)
        self.device = device

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed``; returns the generator."""
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Re-seed from fresh entropy and return the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


default_generator = Generator()
_seed_listeners = []  # callables re-seeded with the global seed (the CUDA generator registers one)


def manual_seed(seed: int) -> Generator:
    """Seed every ember random stream (CPU, and CUDA when used) for reproducible runs."""
    default_generator.manual_seed(seed)
    for listener in _seed_listeners:
        listener(int(seed))
    return default_generator


def seed() -> int:
    """Seed from fresh entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (the global one when ``None``)."""
    return (generator or default_generator).rng
