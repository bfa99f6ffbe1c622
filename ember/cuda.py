"""``ember.cuda``: the GPU, as ``torch.cuda`` presents it, backed by CuPy.

Everything here works on a machine without CuPy or without a GPU: ``is_available()`` is then
False and ``device_count()`` 0, and the functions that need a GPU raise the error that says what
to install (``pip install -e ".[cuda]"``, i.e. ``cupy-cuda12x``). CuPy is imported only when one
of these functions first needs it, so ``import ember`` stays fast.

Random numbers: ``ember.manual_seed(s)`` seeds CuPy's generator on every GPU too (a listener in
``ember.random._seed_listeners``); ops that draw on the GPU (dropout masks) use that stream. The
creation functions (``ember.randn(..., device="cuda")``) draw on the CPU generator and copy the
values over, so one seed gives the same tensor on either device.
"""

from __future__ import annotations

from ember import backend
from ember import random as _random

__all__ = [
    "is_available", "device_count", "current_device", "set_device", "synchronize",
    "manual_seed", "manual_seed_all", "seed", "initial_seed", "get_device_name",
    "get_device_properties", "get_device_capability", "memory_allocated", "memory_reserved",
    "max_memory_allocated", "empty_cache", "device",
]

_initial_seed: int | None = None  # the last seed given to the GPU generators


def _cupy():
    """The ``cupy`` module, or the install hint as a ``RuntimeError`` when there is no usable GPU."""
    cp = backend.cupy_module()
    if cp is None:
        raise RuntimeError(backend.CUDA_MISSING)
    return cp


def _index(dev=None) -> int:
    """A GPU number from ``None`` (the current GPU), an int, ``"cuda:N"`` or :class:`ember.device`."""
    if dev is None:
        return _cupy().cuda.runtime.getDevice()
    if isinstance(dev, int) and not isinstance(dev, bool):
        return backend.cuda_index(backend.device("cuda", dev))
    d = backend.as_device(dev)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    return backend.cuda_index(d)


def is_available() -> bool:
    """True when CuPy is installed and at least one NVIDIA GPU can be used."""
    return backend.cupy_module() is not None


def device_count() -> int:
    """The number of visible GPUs (0 without CuPy or a driver)."""
    cp = backend.cupy_module()
    return 0 if cp is None else int(cp.cuda.runtime.getDeviceCount())


def current_device() -> int:
    """The number of the GPU that ``"cuda"`` (without a number) means."""
    return _index(None)


def set_device(device) -> None:
    """Make ``device`` (an int, ``"cuda:N"`` or :class:`ember.device`) the current GPU."""
    _cupy().cuda.runtime.setDevice(_index(device))


class device:
    """Context manager that makes a GPU current inside a ``with`` block, as ``torch.cuda.device``."""

    def __init__(self, device):
        self.index = _index(device)
        self._previous: int | None = None

    def __enter__(self):
        cp = _cupy()
        self._previous = cp.cuda.runtime.getDevice()
        cp.cuda.runtime.setDevice(self.index)
        return self

    def __exit__(self, *exc):
        _cupy().cuda.runtime.setDevice(self._previous)
        return False


def synchronize(device=None) -> None:
    """Wait until every kernel queued on ``device`` (default: the current GPU) has finished.

    GPU work is asynchronous: time a GPU computation only after calling this.
    """
    cp = _cupy()
    with cp.cuda.Device(_index(device)) as d:
        d.synchronize()


def manual_seed(seed: int) -> None:
    """Seed CuPy's generator on the current GPU."""
    global _initial_seed
    cp = _cupy()
    cp.random.seed(int(seed) % 2**63)
    _initial_seed = int(seed)


def manual_seed_all(seed: int) -> None:
    """Seed CuPy's generator on every visible GPU."""
    global _initial_seed
    cp = _cupy()
    for i in range(device_count()):
        with cp.cuda.Device(i):
            cp.random.seed(int(seed) % 2**63)
    _initial_seed = int(seed)


def seed() -> int:
    """Seed the current GPU's generator from fresh entropy; returns the seed."""
    import numpy as np

    s = int(np.random.SeedSequence().entropy % 2**63)
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed last given to the GPU generators (ember's CPU seed when none was given)."""
    _cupy()
    return _random.initial_seed() if _initial_seed is None else _initial_seed


def get_device_properties(device=None) -> dict:
    """The CUDA runtime's properties of a GPU (name, totalGlobalMem, major, minor, ...)."""
    props = dict(_cupy().cuda.runtime.getDeviceProperties(_index(device)))
    if isinstance(props.get("name"), bytes):
        props["name"] = props["name"].decode()
    return props


def get_device_name(device=None) -> str:
    """The GPU's marketing name, e.g. ``"NVIDIA H100 80GB HBM3"``."""
    return get_device_properties(device)["name"]


def get_device_capability(device=None) -> tuple[int, int]:
    """The GPU's compute capability ``(major, minor)``."""
    p = get_device_properties(device)
    return int(p["major"]), int(p["minor"])


def _pool_stat(device, what: str) -> int:
    cp = _cupy()
    with cp.cuda.Device(_index(device)):
        pool = cp.get_default_memory_pool()
        return int(pool.used_bytes() if what == "used" else pool.total_bytes())


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory held by live arrays (CuPy's default memory pool)."""
    return _pool_stat(device, "used")


def memory_reserved(device=None) -> int:
    """Bytes of GPU memory the pool holds, live arrays plus cached free blocks."""
    return _pool_stat(device, "total")


def max_memory_allocated(device=None) -> int:
    """CuPy's pool keeps no peak; this is the pool's current size, an upper bound of the live bytes."""
    return _pool_stat(device, "total")


def empty_cache() -> None:
    """Give the pool's cached free blocks back to the driver."""
    cp = _cupy()
    cp.get_default_memory_pool().free_all_blocks()
    cp.get_default_pinned_memory_pool().free_all_blocks()


# --------------------------------------------------------------------------------- seeding hook


def _seed_listener(seed: int) -> None:
    """Called by ``ember.manual_seed``: seed every GPU, but only once CuPy is loaded (a listener
    must never import CuPy: manual_seed on a CPU-only run stays free)."""
    if backend._cupy:
        manual_seed_all(seed)


def _on_cupy_loaded() -> None:
    """Run (through ``ember.backend.CUPY_LOADED_HOOKS``) when CuPy first loads: the GPU generators take
    ember's current seed, so ``ember.manual_seed`` before the first GPU op is honoured."""
    manual_seed_all(_random.initial_seed())


if _seed_listener not in _random._seed_listeners:
    _random._seed_listeners.append(_seed_listener)
