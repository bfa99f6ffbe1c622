"""The recorded computational graph: nodes, grad mode, and the one function every op calls.

An op computes its result on raw arrays, then calls :func:`record` with a ``backward`` closure that
maps the gradient of the result to the gradients of its inputs. ``record`` wraps the result in a
:class:`~ember.Tensor` and, only when grad mode is on and some input requires a gradient, attaches a
:class:`Node`. Nothing else happens on the hot path.

Backward closures are written with ember ops on Tensors, not raw arrays: when the engine runs them
with grad mode on (``create_graph=True``) they record a graph of their own, which is what makes
gradients of gradients work with a single definition of each op.
"""

from __future__ import annotations

from numpy import asarray, generic, ndarray

from itertools import count

GRAD_ENABLED = True  # read by record(); changed by ember.no_grad() and friends
# Set once any recorded in-place op has changed a tensor's history: only then can a view be
# stale (its base's node changed after the view was taken), so record() skips the check before.
HISTORY_REWRITTEN = False


_next_seq = count().__next__


class Node:
    """One recorded op: how to send the gradient of its output back to its inputs.

    ``inputs`` holds, per op input, the producer of that input's gradient: another ``Node``, a
    leaf ``Tensor`` that requires a gradient (the gradient is accumulated into it), or ``None``.
    ``saved`` are tensors the backward closure reads; ``versions`` their in-place counters at
    record time, so that an in-place change made later is caught instead of giving wrong numbers.
    """

    # ``seq`` orders nodes by creation (a node always comes after the producers of its inputs);
    # ``grad`` is engine scratch space: the gradient summed so far while a backward pass runs
    # (kept on the node instead of in a dict keyed by id(), which is cheaper per edge).
    # ``metas`` holds ``(shape, dtype)`` of each input at record time: the engine fits every
    # gradient a backward returns to it (sums over broadcast dimensions, casts), so ops need not.
    __slots__ = ("name", "backward", "inputs", "metas", "saved", "versions", "hooks", "grad",
                 "seq", "__weakref__")

    def __init__(self, name, backward, inputs, saved):
        self.name = name
        self.backward = backward
        self.inputs = inputs
        self.saved = saved
        self.versions = tuple([version_of(t) for t in saved]) if saved else ()
        self.hooks = None
        self.grad = None
        self.seq = _next_seq()

    def __repr__(self):
        return f"<{self.name}Backward>"


def version_of(t) -> int:
    """The in-place version a saved tensor is checked against: its own counter, plus its base's
    when it is a view (in PyTorch a view and its base share one counter; a sum changes whenever
    either changes, since counters only grow)."""
    base = getattr(t, "_base", None)
    return t._version if base is None else t._version + base[0]._version


def refresh_if_stale(tensors) -> None:
    """:func:`refresh_view` each stale view among ``tensors`` (for the entry points that read a
    tensor's history outside :func:`record`)."""
    for t in tensors:
        b = t._base
        if b is not None and b[0]._node is not b[2]:
            refresh_view(t)


def refresh_view(t) -> None:
    """Give view ``t`` the history of ``view_fn(base)`` when its base's history changed since
    ``t``'s was set (the base or another view of it was changed in place): PyTorch regenerates a
    view's grad_fn then, else the gradient would skip the in-place op."""
    global GRAD_ENABLED
    base, view_fn, _ = t._base
    if view_fn is None:  # a detach() alias: shares memory and versions, never history
        t._base = (base, None, base._node)
        return
    prev = GRAD_ENABLED
    GRAD_ENABLED = True
    try:
        again = view_fn(base)
    finally:
        GRAD_ENABLED = prev
    t._node = again._node
    t.requires_grad = again.requires_grad
    t._base = (base, view_fn, base._node)


def _producer(t):
    """The gradient producer of a tensor used as an op input (see :attr:`Node.inputs`)."""
    node = t._node
    if node is not None:
        return node
    return t if t.requires_grad else None


def record(name, out, inputs, backward, saved=(), save_output=False):
    """Wrap array ``out`` in a Tensor and, if needed, record how to differentiate it.

    ``inputs`` are the op's Tensor inputs (in the order ``backward`` returns gradients); anything
    that is not a Tensor is skipped by the caller. ``backward(grad, needs)`` receives the gradient
    of the result as a Tensor and ``needs``, a tuple of bools (whether input ``i`` needs a
    gradient), and returns one Tensor or ``None`` per input; the engine sums each over the
    dimensions the input was broadcast along and casts it to the input's dtype. (A one-argument
    ``backward(grad)`` of the old contract is still called that way during the transition.) ``saved`` lists
    input tensors the closure reads; ``save_output=True`` says it reads the result too (assign
    ``result = record(...)`` and use ``result`` in the closure), so in-place changes to it are caught.
    """
    if type(out) is not ndarray and isinstance(out, generic):
        out = asarray(out)  # NumPy returns scalars from 0-d ufuncs and full reductions
    t = _new_tensor(Tensor)
    t._data = out
    t.grad = None
    t._version = 0
    t._hooks = None
    t._base = None
    if GRAD_ENABLED:
        if HISTORY_REWRITTEN:
            for x in inputs:
                b = x._base  # (base, view_fn, the base's node when x's history was set)
                if b is not None and b[0]._node is not b[2]:
                    refresh_view(x)
        for x in inputs:
            if x.requires_grad:
                # Node.__init__, inlined: this runs once per recorded op
                node = _new_node(Node)
                node.name = name
                node.backward = backward
                if len(inputs) == 1:  # x is the only input: it requires a gradient
                    d = x._data
                    node.inputs = (x._node or x,)
                    node.metas = ((d.shape, d.dtype),)
                else:
                    node.inputs = tuple([i._node or (i if i.requires_grad else None)
                                         for i in inputs])
                    node.metas = tuple([(i._data.shape, i._data.dtype) for i in inputs])
                node.hooks = None
                node.grad = None
                node.seq = _next_seq()
                if save_output:
                    saved = saved + (t,)
                if saved:
                    node.versions = tuple([s._version if s._base is None else version_of(s)
                                           for s in saved])
                else:
                    node.versions = ()
                node.saved = saved
                t.requires_grad = True
                t._node = node
                return t
    t.requires_grad = False
    t._node = None
    return t


from ember.tensor import Tensor  # noqa: E402  (graph.py and tensor.py refer to each other)

_new_tensor = Tensor.__new__
_new_node = Node.__new__
