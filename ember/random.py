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

    def get_state(self):
        """The stream's full state as a uint8 tensor (as ``torch.Generator.get_state``);
        :meth:`set_state` with it resumes the stream exactly, and restores ``initial_seed``."""
        from ember.tensor import Tensor

        st = self.rng.bit_generator.state
        if st.get("bit_generator") != "PCG64":
            raise RuntimeError(f"get_state: unsupported bit generator {st.get('bit_generator')!r}")
        raw = (st["state"]["state"].to_bytes(16, "little") + st["state"]["inc"].to_bytes(16, "little")
               + bytes([int(st["has_uint32"])]) + int(st["uinteger"]).to_bytes(4, "little")
               + (self._seed % 2 ** (8 * _SEED_BYTES)).to_bytes(_SEED_BYTES, "little"))
        return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Resume the stream from a state :meth:`get_state` returned; returns the generator.

        A NumPy bit-generator state dict (what ``get_state`` returned before it followed
        PyTorch) is accepted too.
        """
        if isinstance(new_state, dict):
            self.rng.bit_generator.state = new_state
            return self
        from ember.backend import CPU, move_array
        from ember.tensor import Tensor

        if not isinstance(new_state, Tensor) or new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be an ember.uint8 tensor (from get_state()), got "
                            f"{getattr(new_state, 'dtype', type(new_state).__name__)}")
        raw = move_array(new_state._data, CPU).tobytes()
        if len(raw) != _STATE_BYTES:
            raise RuntimeError(f"Expected an RNG state of {_STATE_BYTES} bytes (from "
                               f"get_state()) but found the input RNG state size to be {len(raw)}")
        self.rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[0:16], "little"),
                      "inc": int.from_bytes(raw[16:32], "little")},
            "has_uint32": raw[32],
            "uinteger": int.from_bytes(raw[33:37], "little"),
        }
        self._seed = int.from_bytes(raw[37:], "little")
        return self

    def state_dict(self) -> dict:
        """Everything needed to continue this stream in another process: :meth:`get_state`
        plus how many child seeds its seed sequence has handed out (DataLoader workers take
        theirs from there), as ``{"state": uint8 tensor, "spawned": int}``."""
        seq = getattr(self.rng.bit_generator, "seed_seq", None)
        spawned = int(getattr(seq, "n_children_spawned", 0))
        return {"state": self.get_state(), "spawned": spawned}

    def load_state_dict(self, state: dict) -> Generator:
        """Continue the stream saved by :meth:`state_dict` (draws and worker seeds alike)."""
        if not isinstance(state, dict) or "state" not in state or "spawned" not in state:
            raise ValueError("Generator.load_state_dict expects {'state': ..., 'spawned': ...} "
                             "from Generator.state_dict()")
        spawned = state["spawned"]
        if isinstance(spawned, bool) or not isinstance(spawned, int) or spawned < 0:
            raise ValueError(f"Generator.load_state_dict: 'spawned' must be a non-negative int, "
                             f"got {spawned!r}")
        probe = Generator.__new__(Generator)
        probe.rng = np.random.default_rng(0)
        probe.set_state(state["state"])  # validates the bytes before this stream changes
        seq = np.random.SeedSequence(probe._seed, n_children_spawned=spawned)
        self.rng = np.random.Generator(np.random.PCG64(seq))
        self.rng.bit_generator.state = probe.rng.bit_generator.state
        self._seed = probe._seed
        return self


# PCG64's 128-bit state and increment, its buffered half-draw (flag and 32 bits), and the seed
# (16 bytes: NumPy takes seeds past 64 bits; only a seed past 128 bits is kept modulo 2**128)
_SEED_BYTES = 16
_STATE_BYTES = 16 + 16 + 1 + 4 + _SEED_BYTES


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


def get_rng_state():
    """The global generator's state as a uint8 tensor, for :func:`set_rng_state`."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the global generator from :func:`get_rng_state`: the same draws follow."""
    default_generator.set_state(new_state)


def get_rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (the global one when ``None``)."""
    return (generator or default_generator).rng


def capture_streams(generators=()) -> dict:
    """The state of ember's global stream and of ``generators`` (e.g. a DataLoader's), as
    :func:`restore_streams` takes it back; plain values and tensors, for a backup."""
    return {"global": default_generator.state_dict(),
            "data": [g.state_dict() for g in generators]}


def restore_streams(state: dict, generators=()) -> None:
    """Continue the streams captured by :func:`capture_streams` (with the same generators)."""
    if len(state["data"]) != len(generators):
        raise ValueError(f"restore_streams: the state holds {len(state['data'])} data "
                         f"generator(s) but {len(generators)} were given")
    default_generator.load_state_dict(state["global"])
    for g, saved in zip(generators, state["data"]):
        g.load_state_dict(saved)
