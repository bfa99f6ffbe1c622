"""The op families ``import ember`` leaves unloaded (``ember.ops.LAZY_FAMILIES``) and the printing
module answer every name as if they were loaded: ``ember.<op>``, ``ember.ops.<op>``,
``Tensor.<method>``, operators, ``dir()``. Each check runs in a fresh interpreter, where nothing
has loaded them yet."""

import json
import os
import subprocess
import sys

import numpy as np
import torch

from helpers import run_fresh

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_table_of_lazy_names_is_up_to_date():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "lazy_ops_table.py"),
                          "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_import_ember_loads_no_lazy_family_nor_the_printing_module():
    out = run_fresh("import sys, ember\n"
               "print(sorted(m for m in sys.modules if m.startswith('ember.')))")
    loaded = set(eval(out))
    import ember.ops

    assert {"ember.ops", "ember.ops.elementwise", "ember.tensor"} <= loaded
    assert not loaded & {f"ember.ops.{f}" for f in ember.ops.LAZY_FAMILIES}
    assert "ember.printing" not in loaded


def test_every_lazy_function_answers_from_its_family_before_and_after_loading():
    out = run_fresh(
        "import importlib, ember, ember.ops as ops\n"
        "listed = set(dir(ember)), set(dir(ops))\n"
        "for name, family in ops.LAZY_NAMES.items():\n"
        "    assert name in listed[0] and name in listed[1], name\n"
        "    real = getattr(importlib.import_module('ember.ops.' + family), name)\n"
        "    assert getattr(ember, name) is real and getattr(ops, name) is real, name\n"
        "    assert name in dir(ember), name\n"
        "print(len(ops.LAZY_NAMES))\n")
    assert int(out) > 50


def test_every_lazy_tensor_method_is_listed_and_resolves_to_what_its_family_attaches():
    out = run_fresh(
        "import ember, ember.ops as ops\n"
        "from ember.ops._lazy_table import METHODS\n"
        "T = ember.Tensor\n"
        "names = [(n, f) for f, ns in METHODS.items() for n in ns]\n"
        "t = ember.ones(2, 2)\n"
        "for name, family in names:\n"
        "    assert name in dir(T) and name in dir(t), name\n"
        "    assert hasattr(T, name) and hasattr(t, name), name\n"
        "    assert type(T.__dict__[name]).__name__ != '_LazyAttribute', name\n"
        "print(len(names))\n")
    assert int(out) > 100


def test_operators_and_methods_of_a_lazy_family_work_as_the_first_use():
    # `<<` comes from ember.ops.aliases and `.sort()` from ember.ops.sorting: neither is loaded
    # when they are first used here.
    out = run_fresh(
        "import json, ember\n"
        "t = ember.tensor([3, 1, 2])\n"
        "print(json.dumps([(t << 2).tolist(), t.sort().values.tolist(),\n"
        "                  str(ember.Tensor.short(t).dtype)]))\n")
    x = torch.tensor([3, 1, 2])
    assert json.loads(out) == [(x << 2).tolist(), x.sort().values.tolist(), "ember.int16"]


def test_a_lazy_method_gradient_matches_torch_on_first_use():
    out = run_fresh(
        "import ember\n"
        "x = ember.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=ember.float64, requires_grad=True)\n"
        "x.det().backward()\n"
        "print(x.grad.tolist())\n")
    xt = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64, requires_grad=True)
    xt.det().backward()
    np.testing.assert_allclose(eval(out), xt.grad.numpy(), rtol=1e-12)


def test_print_options_before_the_first_print_and_repr_like_torch():
    out = run_fresh(
        "import ember\n"
        "ember.set_printoptions(precision=2)\n"
        "print(repr(ember.tensor([1.23456, 2.5])))\n"
        "print(ember.get_printoptions()['precision'])\n")
    torch.set_printoptions(precision=2)
    try:
        expected = repr(torch.tensor([1.23456, 2.5]))
    finally:
        torch.set_printoptions(profile="default")
    assert out.splitlines() == [expected, "2"]
