"""One in-place version counter shared by a tensor, its views and its detached aliases, as in
PyTorch: every in-place op through any alias against every alias kind, run in ember and in torch.
ember must raise exactly where PyTorch raises and give PyTorch's gradients where both run."""

import numpy as np
import pytest
import torch

import ember

# in-place ops, written once for both frameworks (``m`` is the module, ``z`` the alias)
INPLACE = {
    "add_": lambda m, z: z.add_(1.5),
    "sub_": lambda m, z: z.sub_(0.5),
    "mul_": lambda m, z: z.mul_(0.5),
    "div_": lambda m, z: z.div_(2.0),
    "exp_": lambda m, z: z.exp_(),
    "zero_": lambda m, z: z.zero_(),
    "fill_": lambda m, z: z.fill_(2.0),
    "copy_": lambda m, z: z.copy_(m.full_like(z, 0.3)),
    "clamp_": lambda m, z: z.clamp_(-0.5, 0.5),
    "uniform_": lambda m, z: z.uniform_(),
    "normal_": lambda m, z: z.normal_(),
    "setitem": lambda m, z: z.__setitem__(..., 0.25),
}
RANDOM = {"uniform_", "normal_"}


def _under_no_grad(m, fn):
    with m.no_grad():
        return fn()


# how the alias of ``y`` is made, and whether the in-place op itself runs under no_grad
ALIASES = {
    "self": (lambda m, y: y, False),
    "view": (lambda m, y: y.view(-1), False),
    "slice": (lambda m, y: y[:, 1:], False),
    "select": (lambda m, y: y[1], False),
    "transpose": (lambda m, y: y.t(), False),
    "detach": (lambda m, y: y.detach(), False),
    "detach_of_view": (lambda m, y: y[:, 1:].detach(), False),
    "view_of_detach": (lambda m, y: y.detach()[1], False),
    "view_under_no_grad": (lambda m, y: _under_no_grad(m, lambda: y[:, 1:]), False),
    "view_and_op_under_no_grad": (lambda m, y: _under_no_grad(m, lambda: y[:, 1:]), True),
    "self_op_under_no_grad": (lambda m, y: y, True),
    "data": (lambda m, y: y.data, False),
    "data_slice": (lambda m, y: y.data[:, 1:], False),
}

# where the aliased tensor stands in the graph when it is changed
SCENARIOS = {
    # y is an op's saved output (exp saves its result)
    "saved_output": lambda m, x, change: _saved_output(m, x, change),
    # y is an op's saved input (sin saves its input)
    "saved_input": lambda m, x, change: _saved_input(m, x, change),
    # y is changed before anything uses it: no error, the gradient follows the change
    "before_use": lambda m, x, change: _before_use(m, x, change),
    # y is multiplied by a constant: only the constant is saved (for y's gradient), as PyTorch
    "operand_not_saved": lambda m, x, change: _operand_not_saved(m, x, change),
    # the leaf itself is saved (sin saves x) and changed through an alias
    "saved_leaf": lambda m, x, change: _saved_leaf(m, x, change),
}


def _saved_output(m, x, change):
    y = x.exp()
    change(y)
    return (y * 1.0).sum()


def _saved_input(m, x, change):
    y = x * 2.0
    w = y.sin()
    change(y)
    return w.sum()


def _operand_not_saved(m, x, change):
    y = x * 2.0
    w = y * m.full_like(x, 3.0).detach()
    change(y)
    return w.sum()


def _before_use(m, x, change):
    y = x * 2.0
    change(y)
    return y.sin().sum()


def _saved_leaf(m, x, change):
    w = x.sin()
    change(x)
    return w.sum()


def _run(m, op_name, alias_name, scenario, values, sync):
    """``("error at op" | "error at backward" | "ran", x.grad)`` for one framework."""
    make_alias, op_under_no_grad = ALIASES[alias_name]
    x = m.tensor(values, requires_grad=True)

    def change(y):
        z = make_alias(m, y)
        if op_under_no_grad:
            with m.no_grad():
                INPLACE[op_name](m, z)
        else:
            INPLACE[op_name](m, z)
        sync(z)

    try:
        loss = SCENARIOS[scenario](m, x, change)
    except RuntimeError:
        return "error at op", None
    try:
        loss.backward()
    except RuntimeError as e:
        if m is ember:
            assert "modified by an inplace operation" in str(e), str(e)
        return "error at backward", None
    return "ran", x.grad.numpy().copy()


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("alias_name", list(ALIASES))
@pytest.mark.parametrize("op_name", list(INPLACE))
def test_inplace_through_alias_behaves_as_pytorch(op_name, alias_name, scenario):
    values = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    filled = {}

    def keep_ember_values(z):  # random fills: torch then gets ember's numbers
        if op_name in RANDOM:
            filled["values"] = np.array(z.detach().numpy(), copy=True)

    def take_ember_values(z):
        if op_name in RANDOM:  # write through NumPy: no version bump in torch
            z.detach().numpy()[...] = filled["values"]

    ember_result = _run(ember, op_name, alias_name, scenario, values, keep_ember_values)
    torch_result = _run(torch, op_name, alias_name, scenario, values, take_ember_values)
    assert ember_result[0] == torch_result[0]
    if ember_result[1] is not None:
        np.testing.assert_allclose(ember_result[1], torch_result[1], rtol=1e-6, atol=1e-12)


def test_issue_example_detach_zero_raises():
    x = ember.ones(3, requires_grad=True)
    y = x.exp()
    y.detach().zero_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_aliases_share_one_counter():
    y = ember.ones(2, 3, requires_grad=True) * 2
    aliases = [y.detach(), y[1], y[:, 1:].detach(), y.view(-1)]
    for i, a in enumerate(aliases):
        before = [t._version for t in [y] + aliases]
        a.add_(1)
        after = [t._version for t in [y] + aliases]
        assert all(b + 1 == c for b, c in zip(before, after)), (i, before, after)
    assert y.data._version == 0  # .data is not an alias for autograd, as in PyTorch
