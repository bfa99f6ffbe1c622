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

from collections.abc import Callable, Sequence
from itertools import count
from typing import Any

from numpy import asarray, generic, ndarray

GRAD_ENABLED = True  # read by record(); changed by ember.no_grad() and friends
# Set once any recorded in-place op has changed a tensor's history: only then can a view be
# stale (its base's node changed after the view was taken), so record() skips the check before.
HISTORY_REWRITTEN = False
ANOMALY_ENABLED = False  # set by ember.autograd.detect_anomaly(): record where each op was created


_next_seq = count().__next__
# the versions of one or two saved tensors whose memory was never changed in place (shared
# constants: no tuple made per node)
_AT_ZERO, _BOTH_AT_ZERO = (0,), (0, 0)


class Node:
    """One recorded op: how to send the gradient of its output back to its inputs.

    Nodes are made only by :func:`record`. ``inputs`` holds, per op input, the producer of that
    input's gradient: another ``Node``, a leaf ``Tensor`` that requires a gradient (the gradient
    is accumulated into it), or ``None``. ``metas`` holds each input's shape and dtype at
    record time, flat (``shape0, dtype0, shape1, dtype1, ...``: one tuple per node, since every
    tuple made brings the cycle collector's next run closer): the engine fits every gradient
    ``backward`` returns to them (sums over broadcast dimensions, casts), so ops need not.
    ``saved`` are tensors the backward closure reads;
    ``versions`` their in-place counters at record time, so that an in-place change made later is
    caught instead of giving wrong numbers. ``output`` (set only on nodes of ops that save their
    result) is the history-free alias of the result their closure reads: the engine gives it this
    node as history while the closure runs with ``create_graph``.

    Nothing here points back at the op's output tensor, so a graph that is never differentiated
    is freed by reference counting alone.
    """

    # ``seq`` orders nodes by creation (a node always comes after the producers of its inputs);
    # ``grad`` is engine scratch space: the gradient summed so far while a backward pass runs
    # (kept on the node instead of in a dict keyed by id(), which is cheaper per edge).
    __slots__ = ("op_name", "backward", "inputs", "metas", "saved", "versions", "output", "hooks",
                 "grad", "seq", "__weakref__")

    op_name: str
    backward: Callable[..., tuple] | None
    inputs: tuple[Node | Tensor | None, ...]
    metas: tuple[Any, ...]
    saved: tuple[Tensor, ...] | None
    versions: tuple[int, ...]
    output: Tensor | None
    hooks: list[Callable] | None
    grad: Tensor | None
    seq: int

    def __repr__(self) -> str:
        return f"<{self.op_name}Backward0 object at {id(self):#x}>"

    @property
    def name(self) -> OpName:
        """The op's name (``"Mul"``, a string, as ember's code reads it), which is also callable
        as PyTorch's ``grad_fn.name()``: ``node.name()`` is ``"MulBackward0"``."""
        return _op_name(self.op_name)

    @name.setter
    def name(self, value: str) -> None:
        self.op_name = value

    @property
    def next_functions(self) -> tuple:
        """``(producer, 0)`` per input, as PyTorch's: the input's node, an
        :class:`AccumulateGrad` for a leaf that requires a gradient, or ``None``."""
        return tuple((AccumulateGrad(i) if isinstance(i, Tensor) else i, 0) for i in self.inputs)


class OpName(str):
    """An op's name, callable for PyTorch's node name: ``OpName("Mul")() == "MulBackward0"``."""

    __slots__ = ()

    def __call__(self) -> str:
        return f"{self}Backward0"


_OP_NAMES: dict[str, OpName] = {}


def _op_name(name: str) -> OpName:
    found = _OP_NAMES.get(name)
    if found is None:
        found = _OP_NAMES[name] = OpName(name)
    return found


class AccumulateGrad:
    """The end of a graph path at a leaf tensor (``variable``), as PyTorch's ``AccumulateGrad``
    nodes seen through ``grad_fn.next_functions``."""

    __slots__ = ("variable",)

    def __init__(self, variable: Tensor):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def version_of(t: Tensor) -> int:
    """The in-place version of ``t``'s memory (its counter is shared with every alias)."""
    vc = t._vc
    return 0 if vc is None else vc.value


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


def record(name: str, out, inputs: Sequence[Tensor], backward: Callable[..., tuple],
           saved: tuple = (), save_output: bool = False) -> Tensor:
    """The result of an op as a Tensor and, if needed, how to differentiate it.

    ``out`` is the result array. ``inputs`` are the op's Tensor inputs (in the order
    ``backward`` returns gradients); anything that is not a Tensor is skipped by the caller.
    ``backward(grad, needs)`` receives the gradient of the result as a Tensor and ``needs``, a
    tuple of bools (whether input ``i`` needs a gradient), and returns one Tensor or ``None`` per
    input; the engine sums each over the dimensions the input was broadcast along and casts it
    to the input's dtype. ``saved`` lists input tensors the closure reads, so that changing them
    in place later raises PyTorch's error instead of giving wrong gradients.

    An op whose closure reads its own result passes that result as a history-free Tensor
    (``y = Tensor._wrap(array)``, captured by the closure) instead of the array: it is then saved
    too, shares its version counter with the returned tensor, and gets the node as history only
    while the closure runs with ``create_graph``; the closure never holds the returned tensor,
    so no reference cycle keeps a graph alive. (``save_output=True`` with an array ``out`` and a
    closure that reads the returned tensor is the older form: it works, but makes such a cycle.)
    """
    if type(out) is Tensor:  # the op's history-free alias of its result, read by its closure
        output = out
        out = output._data
        if not GRAD_ENABLED:
            return output
    else:
        output = None
        if type(out) is not ndarray and isinstance(out, generic):
            out = asarray(out)  # NumPy returns scalars from 0-d ufuncs and full reductions
    t = _new_tensor(Tensor)
    t._data = out
    t.grad = None
    t._vc = None
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
                node = _new_node(Node)
                node.op_name = name
                node.backward = backward
                n = len(inputs)
                if n == 1:  # x is the only input: it requires a gradient
                    d = x._data
                    node.inputs = (x._node or x,)
                    node.metas = (d.shape, d.dtype)
                elif n == 2:  # spelled out: cheaper than the comprehensions below
                    a, b = inputs
                    da, db = a._data, b._data
                    node.inputs = (a._node or (a if a.requires_grad else None),
                                   b._node or (b if b.requires_grad else None))
                    node.metas = (da.shape, da.dtype, db.shape, db.dtype)
                else:
                    node.inputs = tuple([i._node or (i if i.requires_grad else None)
                                         for i in inputs])
                    node.metas = tuple([m for i in inputs for m in (i._data.shape, i._data.dtype)])
                node.hooks = None
                node.grad = None
                node.seq = _next_seq()
                if output is not None:
                    vc = _new_counter(VersionCounter)
                    vc.value = 0
                    output._vc = t._vc = vc
                    node.output = output
                    saved = saved + (output,)
                elif save_output:
                    saved = saved + (t,)
                # each saved tensor's version (version_of, inlined: a counter never made is at 0)
                n = len(saved)
                if n == 0:
                    node.versions = ()
                elif n == 1:
                    vc = saved[0]._vc
                    node.versions = _AT_ZERO if vc is None else (vc.value,)
                elif n == 2:
                    vc, vc1 = saved[0]._vc, saved[1]._vc
                    node.versions = _BOTH_AT_ZERO if vc is None and vc1 is None else (
                        0 if vc is None else vc.value, 0 if vc1 is None else vc1.value)
                else:
                    node.versions = tuple([0 if s._vc is None else s._vc.value for s in saved])
                node.saved = saved
                t.requires_grad = True
                t._node = node
                if ANOMALY_ENABLED:
                    from ember.autograd.anomaly_mode import remember_creation
                    remember_creation(node)
                return t
    if output is not None:
        return output
    t.requires_grad = False
    t._node = None
    return t


from ember.tensor import Tensor, VersionCounter  # noqa: E402  (graph.py and tensor.py refer to each other)

_new_tensor = Tensor.__new__
_new_node = Node.__new__
_new_counter = VersionCounter.__new__
