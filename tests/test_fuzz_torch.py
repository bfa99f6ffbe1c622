"""A short fixed-seed run of the random-program fuzzer (tools/fuzz_torch.py) against PyTorch:
elementwise math, reductions, matmul, indexing get/set, shape ops, softmax, where, cat/stack and
in-place ops through views and detached aliases, first and second order. The long run is
``python tools/fuzz_torch.py`` (5,000 first-order and 500 second-order programs)."""

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "tools" / "fuzz_torch.py"
_spec = importlib.util.spec_from_file_location("fuzz_torch", _PATH)
fuzz_torch = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = fuzz_torch  # dataclasses look their module up there
_spec.loader.exec_module(fuzz_torch)


def _report(bad):
    return "\n".join(f"seed {o.seed} (order {o.order}): {o.difference}\n  " + "\n  ".join(o.steps)
                     for o in bad[:5])


@pytest.mark.parametrize("start", [0, 300])
def test_first_order_programs_agree_with_torch(start):
    bad = fuzz_torch.fuzz(first=300, second=0, start=start)
    assert not bad, _report(bad)


def test_second_order_programs_agree_with_torch():
    bad = fuzz_torch.fuzz(first=0, second=60)
    assert not bad, _report(bad)


def test_fuzzer_catches_a_silent_wrong_gradient(monkeypatch):
    """The fuzzer itself can fail: with ember's tanh gradient broken, programs must differ."""
    import ember

    real = ember.Tensor.tanh
    monkeypatch.setattr(ember.Tensor, "tanh", lambda self: real(self * 1.0001))
    bad = fuzz_torch.fuzz(first=200, second=0, stop_after=1)
    assert bad
