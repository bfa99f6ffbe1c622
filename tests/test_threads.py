"""ember.set_num_threads / get_num_threads (the BLAS pool, through threadpoolctl) and the thread
count ember starts with."""

import os
import pathlib
import subprocess
import sys

import pytest
import torch

import ember
from ember import threads

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_set_and_get_round_trip_like_torch():
    before = ember.get_num_threads()
    torch_before = torch.get_num_threads()
    try:
        ember.set_num_threads(1)
        torch.set_num_threads(1)
        assert ember.get_num_threads() == torch.get_num_threads() == 1
        # the pool NumPy's matrix products use is the one that changed
        info = threads.blas_info()
        assert info and all(p["num_threads"] == 1 for p in info)
        assert {"internal_api", "version", "num_threads"} <= set(info[0])
    finally:
        ember.set_num_threads(before)
        torch.set_num_threads(torch_before)
    assert ember.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_set_num_threads_refuses_non_positive_integers(bad):
    with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
        ember.set_num_threads(bad)
    with pytest.raises((RuntimeError, TypeError)):  # PyTorch refuses the same values
        torch.set_num_threads(bad)


@pytest.mark.parametrize("cores, busy, expected", [(2, 0, 2), (2, 1, 1), (2, 7, 1), (8, 3, 5),
                                                   (1, 0, 1)])
def test_default_leaves_the_busy_cores_out(cores, busy, expected):
    assert threads.default_num_threads(cores, busy) == expected


def test_busy_neighbours_is_a_count():
    busy = threads.busy_neighbours()
    assert isinstance(busy, int) and busy >= 0


def _threads_in_child(**env_vars):
    env = {k: v for k, v in os.environ.items() if k not in threads._THREAD_VARS}
    env.update(env_vars, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", "import ember; print(ember.get_num_threads())"],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return int(out.stdout.strip().splitlines()[-1])


def test_ember_num_threads_variable_is_applied_at_import():
    assert _threads_in_child(EMBER_NUM_THREADS="1") == 1


def test_an_explicit_blas_variable_is_left_alone():
    assert _threads_in_child(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1") == 1


def test_a_bad_ember_num_threads_names_the_variable():
    env = dict(os.environ, EMBER_NUM_THREADS="many", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", "import ember"], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "EMBER_NUM_THREADS" in out.stderr
