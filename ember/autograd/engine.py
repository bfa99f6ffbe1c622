"""Reverse-mode differentiation over the recorded graph, without Python recursion.

``run_backward`` orders the nodes reachable from the roots (an iterative depth-first search, so a
chain of 50,000 ops needs no deep stack), then visits them consumers-first, summing the gradients
that reach each node before calling its backward closure once. Unless ``retain_graph`` is set, every
visited node drops its closure and saved tensors afterwards, which is what keeps memory flat over
thousands of training steps.
"""

from __future__ import annotations

from ember.autograd import graph
from ember.autograd.graph import Node

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


def _topological_order(roots):
    """Nodes reachable from ``roots``, every node before the nodes it feeds (consumers first)."""
    order = []
    seen = set()
    for root in roots:
        if type(root) is not Node or id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.inputs))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if type(child) is Node and id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(child.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _check_saved(node):
    for t, v in zip(node.saved, node.versions):
        if t._version != v:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: a tensor of shape {tuple(t.shape)} saved by {node.name} is at "
                f"version {t._version}; expected version {v} instead. Use an out-of-place op "
                "(for example x = x + 1 instead of x += 1), or .clone() the tensor before changing it."
            )


def _own(g, given):
    """A gradient that may be stored in a leaf's ``.grad``: copied if it is a view or shared."""
    data = g._data
    if getattr(data, "base", None) is not None or id(data) in given:
        from ember.tensor import Tensor

        return Tensor._wrap(data.copy())
    given.add(id(data))
    return g


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, inputs=None,
                 allow_unused=False):
    """Propagate ``root_grads`` from ``roots`` back through the graph.

    With ``inputs=None`` (``Tensor.backward``) the gradients are accumulated into the ``.grad`` of
    the leaves. Otherwise (``autograd.grad``) nothing is accumulated and the gradients of
    ``inputs`` are returned, ``None`` for an unused input when ``allow_unused``.
    """
    producers = []
    for r in roots:
        if not r.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: the "
                "tensor you call backward on was not computed from any tensor with "
                "requires_grad=True (or was computed under ember.no_grad())."
            )
        producers.append(r._node if r._node is not None else r)

    pending: dict[int, object] = {}  # id(producer) -> gradient summed so far
    leaves: dict[int, object] = {}  # id(leaf) -> leaf Tensor that receives a gradient

    def deliver(producer, g):
        key = id(producer)
        prev = pending.get(key)
        if prev is None:
            pending[key] = g
            if type(producer) is not Node:
                leaves[key] = producer
        else:
            pending[key] = prev + g

    for p, g in zip(producers, root_grads):
        deliver(p, g)

    wanted = None
    captured: dict[int, object] = {}
    if inputs is not None:
        wanted = {id(t._node if t._node is not None else t) for t in inputs}

    order = _topological_order(producers)
    prev_mode = graph.GRAD_ENABLED
    graph.GRAD_ENABLED = create_graph
    try:
        for node in order:
            g = pending.pop(id(node), None)
            if g is None:
                continue
            if node.hooks:
                g = _run_hooks(node.hooks, g)
            if wanted is not None and id(node) in wanted:
                captured[id(node)] = g
            backward = node.backward
            if backward is None:
                raise RuntimeError(_FREED_MESSAGE)
            if node.saved:
                _check_saved(node)
            grads = backward(g)
            if not retain_graph:
                node.backward = None
                node.saved = None
            for producer, gi in zip(node.inputs, grads):
                if producer is not None and gi is not None:
                    deliver(producer, gi)

        given: set[int] = set()
        for key, leaf in leaves.items():
            g = pending[key]
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g)
            if wanted is not None:
                if key in wanted:
                    captured[key] = g
            elif leaf.grad is None:
                leaf.grad = g if create_graph else _own(g, given)
            else:
                leaf.grad = leaf.grad + g
    finally:
        graph.GRAD_ENABLED = prev_mode

    if wanted is None:
        return None
    result = []
    for t in inputs:
        key = id(t._node if t._node is not None else t)
        g = captured.get(key)
        if g is None and not allow_unused:
            raise RuntimeError(
                "One of the differentiated Tensors appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior."
            )
        result.append(g)
    return tuple(result)


def _run_hooks(hooks, g):
    for hook in hooks:
        out = hook(g)
        if out is not None:
            g = out
    return g
