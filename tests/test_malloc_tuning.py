"""``import ember`` keeps freed buffers for reuse on glibc (ember/_malloc.py): a step that
allocates and frees the same large arrays stops paying a page fault per 4 KiB, unless the user
opted out or tuned malloc themselves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Allocates and frees 12, 8 and 20 MiB per step (the sizes of a CNN's patches and activations),
# then prints whether ember tuned malloc and the page faults per step after warm-up.
_STEPS = """
import resource, numpy as np, ember
def step():
    a = np.ones(3 << 20, np.float32)
    b = np.ones(2 << 20, np.float32)
    del a
    c = np.ones(5 << 20, np.float32)
    del b, c
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(ember._malloc.applied, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""

glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"),
    reason="malloc tuning applies to glibc only")


def _run(**env_changes):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", "EMBER_MALLOC_TUNING")}
    env.update(env_changes, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _STEPS], env=env, capture_output=True, text=True,
                         check=True)
    applied, faults = out.stdout.split()
    return applied == "True", float(faults)


@glibc_only
def test_freed_buffers_are_reused_without_page_faults():
    tuned, tuned_faults = _run()
    untuned, untuned_faults = _run(EMBER_MALLOC_TUNING="0")
    assert (tuned, untuned) == (True, False)
    if untuned_faults < 500:
        pytest.skip(f"this glibc keeps the memory by itself ({untuned_faults:.0f} faults per step)")
    assert tuned_faults < untuned_faults / 20, (tuned_faults, untuned_faults)


@glibc_only
def test_a_users_own_malloc_settings_are_left_alone():
    assert _run(MALLOC_ARENA_MAX="2")[0] is False
    assert _run(GLIBC_TUNABLES="glibc.malloc.trim_threshold=1000000")[0] is False


def test_the_benchmarks_give_pytorch_the_same_thresholds():
    """The benchmark row that gives PyTorch "ember's malloc thresholds" spells them as glibc's
    environment variables; they must be the values ember sets."""
    sys.path.insert(0, str(ROOT))
    from benchmarks import suite

    from ember import _malloc

    assert suite.EMBER_MALLOC_ENV == {"MALLOC_MMAP_THRESHOLD_": str(_malloc.MMAP_THRESHOLD),
                                      "MALLOC_TRIM_THRESHOLD_": str(_malloc.TRIM_THRESHOLD)}
