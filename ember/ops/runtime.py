"""Process-wide settings PyTorch programs set: the inter-op thread count, the default device,
the float32 matmul precision, and the determinism flags. (``set_num_threads`` /
``get_num_threads``, the BLAS pool, live in :mod:`ember.threads`.)

Threads: ember has no pool of its own between ops, so the inter-op count is only remembered.

Determinism: on the CPU every ember op is deterministic (NumPy reduces in a fixed order and
ember has no atomics), so ``use_deterministic_algorithms(True)`` changes nothing there; it is
accepted and remembered so that programs written for PyTorch run and can read the flag back.
"""

from __future__ import annotations

import os

_STATE = {"deterministic": False, "warn_only": False, "interop_threads": None,
          "float32_matmul_precision": "highest", "warn_always": False}


def set_num_interop_threads(num: int) -> None:
    """Accepted for PyTorch programs: ember runs one op at a time, so it is only remembered."""
    if isinstance(num, bool) or not isinstance(num, int) or num <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _STATE["interop_threads"] = num


def get_num_interop_threads() -> int:
    """The value given to :func:`set_num_interop_threads` (the CPU count before that)."""
    return int(_STATE["interop_threads"] or os.cpu_count() or 1)


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Ask for deterministic algorithms. ember's CPU ops always are, so this records the flag
    (read back with :func:`are_deterministic_algorithms_enabled`) and changes nothing else."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        f"bool, not {type(mode).__name__}")
    _STATE["deterministic"] = mode
    _STATE["warn_only"] = bool(warn_only) and mode


def are_deterministic_algorithms_enabled() -> bool:
    """Whether :func:`use_deterministic_algorithms` was turned on."""
    return _STATE["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether determinism was asked for with ``warn_only=True``."""
    return _STATE["warn_only"]


def set_deterministic_debug_mode(debug_mode) -> None:
    """PyTorch's numeric form of the flag: 0 / ``"default"`` off, 1 / ``"warn"`` warn only,
    2 / ``"error"`` on."""
    modes = {"default": 0, "warn": 1, "error": 2}
    level = modes.get(debug_mode, debug_mode) if isinstance(debug_mode, str) else debug_mode
    if level not in (0, 1, 2):
        raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                           f"`error`, but got {debug_mode}")
    use_deterministic_algorithms(level > 0, warn_only=level == 1)


def get_deterministic_debug_mode() -> int:
    """0 when determinism is off, 1 when it only warns, 2 when it is on."""
    if not _STATE["deterministic"]:
        return 0
    return 1 if _STATE["warn_only"] else 2


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted: ``"highest"``, ``"high"`` or ``"medium"``. ember's float32 products are always
    computed in float32 (the ``"highest"`` precision)."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision {precision!r}: expected 'highest', 'high' or "
                           "'medium'")
    _STATE["float32_matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """The value given to :func:`set_float32_matmul_precision` (``"highest"`` by default)."""
    return _STATE["float32_matmul_precision"]


def set_warn_always(b: bool) -> None:
    """Remembered for :func:`is_warn_always_enabled` (ember's warnings follow Python's filters)."""
    _STATE["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    """The value given to :func:`set_warn_always`."""
    return _STATE["warn_always"]


def get_default_device():
    """The device new tensors are created on: the CPU (ember has no default-device switch)."""
    from ember.backend import device

    return device("cpu")


def set_default_device(device) -> None:
    """Accepts the CPU (``None`` or ``"cpu"``), the only default ember has; other devices are
    refused rather than silently ignored (pass ``device=`` to creation functions instead)."""
    if device is not None and str(device) != "cpu":
        raise RuntimeError(f"set_default_device: ember creates tensors on the CPU by default; "
                           f"pass device={str(device)!r} to the creation functions or move "
                           "tensors with .to() instead")


def set_flush_denormal(mode: bool) -> bool:
    """Whether flushing denormal floats to zero is supported: not by NumPy, so ``False`` (and
    nothing changes), as PyTorch answers on a CPU without the feature."""
    return False


__all__ = ["get_default_device", "set_default_device", "set_flush_denormal",
           "set_num_interop_threads",
           "get_num_interop_threads", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
           "set_deterministic_debug_mode", "get_deterministic_debug_mode",
           "set_float32_matmul_precision", "get_float32_matmul_precision", "set_warn_always",
           "is_warn_always_enabled"]
