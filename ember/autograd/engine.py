"""Reverse-mode differentiation over the recorded graph, without Python recursion.

Every node carries a sequence number from when it was recorded, and a node is always recorded after
the nodes that produced its inputs. ``run_backward`` therefore visits nodes from a max-heap on that
number (as PyTorch's engine does): when a node comes off the heap, every consumer that can send it a
gradient has already run, so the gradients reaching it are summed and its backward closure is called
once. No separate graph traversal, no recursion (a chain of 50,000 ops needs no deep stack), and a
node is queued exactly when its first gradient arrives, so nodes that get no gradient are never
visited. Unless ``retain_graph`` is set, every
visited node drops its closure and saved tensors afterwards, which is what keeps memory flat over
thousands of training steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from heapq import heappop, heappush

from ember.autograd import graph
from ember.autograd.graph import Node
from ember.tensor import Tensor

_wrap = Tensor._wrap

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


def _check_saved(node: Node) -> None:
    """Raise PyTorch's error when a tensor ``node`` saved was changed in place since."""
    for t, v in zip(node.saved, node.versions):
        if graph.version_of(t) != v:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: a tensor of shape {tuple(t.shape)} saved by {node.name} is at "
                f"version {graph.version_of(t)}; expected version {v} instead. Use an out-of-place op "
                "(for example x = x + 1 instead of x += 1), or .clone() the tensor before changing it."
            )


def _own(g: Tensor, given: set[int]) -> Tensor:
    """A gradient that may be stored in a leaf's ``.grad``: copied if it is a view or shared."""
    data = g._data
    if getattr(data, "base", None) is not None or id(data) in given:
        return _wrap(data.copy())
    given.add(id(data))
    return g


def run_backward(roots: Sequence[Tensor], root_grads: Sequence[Tensor],
                 retain_graph: bool = False, create_graph: bool = False,
                 inputs: Sequence[Tensor] | None = None,
                 allow_unused: bool = False) -> tuple[Tensor | None, ...] | None:
    """Propagate ``root_grads`` from ``roots`` back through the graph.

    Each node's ``backward(g, needs)`` gets the summed gradient of its output; every gradient
    it returns is fitted to its input (summed over broadcast dimensions, cast to its dtype) by
    :func:`_fit` before it moves on.

    With ``inputs=None`` (``Tensor.backward``) the gradients are accumulated into the ``.grad`` of
    the leaves. Otherwise (``autograd.grad``) nothing is accumulated and the gradients of
    ``inputs`` are returned, ``None`` for an unused input when ``allow_unused``.
    """
    graph.refresh_if_stale(roots)
    if inputs is not None:
        graph.refresh_if_stale(inputs)
    producers = []
    for r in roots:
        if not r.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: the "
                "tensor you call backward on was not computed from any tensor with "
                "requires_grad=True (or was computed under ember.no_grad())."
            )
        producers.append(r._node if r._node is not None else r)

    # Gradients on their way to a node are summed in ``node.grad``; those for leaves in ``leaves``
    # (id -> [leaf, gradient, the sum's array when the engine made it]), in the order the leaves
    # were first reached.
    leaves: dict[int, list] = {}
    # Gradients meeting at a node are summed as plain arrays unless the sum must be differentiable.
    add = _add_recorded if create_graph else _add_arrays

    def deliver_leaf(leaf, g):
        entry = leaves.get(id(leaf))
        if entry is None:
            leaves[id(leaf)] = [leaf, g, None]
        else:
            _sum_into(entry, g, add, create_graph)

    heap = []  # (-node.seq, node): the most recently recorded pending node comes out first
    # A node reached while nothing else is pending skips the heap: no other consumer can still
    # send it a gradient (it would be pending), so it is the next to run. A chain of ops, the
    # common case, never touches the heap.
    ready = None
    for p, g in zip(producers, root_grads):
        if type(p) is Node:
            if p.grad is None:
                p.grad = g
                heappush(heap, (-p.seq, p))
            else:
                p.grad = add(p.grad, g)
        else:
            deliver_leaf(p, g)

    wanted = None
    captured: dict[int, object] = {}
    if inputs is not None:
        wanted = {id(t._node if t._node is not None else t) for t in inputs}

    prev_mode = graph.GRAD_ENABLED
    graph.GRAD_ENABLED = create_graph
    try:
        while True:
            if ready is not None:
                node, ready = ready, None
            elif heap:
                node = heappop(heap)[1]
            else:
                break
            g = node.grad
            node.grad = None
            if node.hooks:
                g = _run_hooks(node.hooks, g)
            if wanted is not None and id(node) in wanted:
                captured[id(node)] = g
            backward = node.backward
            if backward is None:
                raise RuntimeError(_FREED_MESSAGE)
            saved = node.saved
            if saved:  # changed in place since recorded? (graph.version_of, inlined)
                if len(saved) == 1:
                    vc = saved[0]._vc
                    if (0 if vc is None else vc.value) != node.versions[0]:
                        _check_saved(node)
                else:
                    for t, v in zip(saved, node.versions):
                        vc = t._vc
                        if (0 if vc is None else vc.value) != v:
                            _check_saved(node)
            if create_graph:
                output = getattr(node, "output", None)  # the slot is set only by ops that save it
                if output is not None and output._node is None:
                    # the closure's alias of the op's result is that result: give it this node as
                    # history, so a formula that reads it is differentiable (kept: higher orders
                    # read it again; the cycle lasts only while the retained graph does)
                    output._node = node
                    output.requires_grad = True
            producers = node.inputs
            n = len(producers)
            if n == 1:
                needs = _ONE_NEEDED
            elif n == 2:  # shared constant tuples: no allocation per node
                needs = (_BOTH_NEEDED if producers[1] is not None else _FIRST_NEEDED) \
                    if producers[0] is not None else _SECOND_NEEDED
            else:
                needs = tuple([p is not None for p in producers])
            grads = backward(g, needs)
            if graph.ANOMALY_ENABLED:
                from ember.autograd.anomaly_mode import check_backward
                check_backward(node, grads)
            if not retain_graph:
                node.backward = None
                node.saved = None
                if create_graph:
                    node.output = None  # it may hold this node now: drop that cycle too
            metas = node.metas
            k = -2  # metas[k], metas[k + 1]: this input's shape and dtype
            for producer, gi in zip(producers, grads):
                k += 2
                if gi is None or producer is None:
                    continue
                data = gi._data
                if data.shape != metas[k] or data.dtype is not metas[k + 1]:
                    gi = _fit(gi, metas[k], metas[k + 1], node, k // 2)
                if type(producer) is Node:
                    prev = producer.grad
                    if prev is None:
                        producer.grad = gi
                        if ready is None and not heap:
                            ready = producer
                        else:
                            if ready is not None:
                                heappush(heap, (-ready.seq, ready))
                                ready = None
                            heappush(heap, (-producer.seq, producer))
                    else:
                        producer.grad = add(prev, gi)
                else:
                    deliver_leaf(producer, gi)

        given: set[int] = set()
        for key, (leaf, g, _) in leaves.items():
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g)
            if wanted is not None:
                if key in wanted:
                    captured[key] = g
            elif leaf.grad is None:
                leaf.grad = g if create_graph else _own(g, given)
            else:
                leaf.grad = add(leaf.grad, g)
    except BaseException:
        for _, node in heap:  # leave no half-summed gradients behind on the graph
            node.grad = None
        if ready is not None:
            ready.grad = None
        raise
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


_ONE_NEEDED = (True,)  # ``needs`` of every one-input node: it exists because its input needs one
_BOTH_NEEDED, _FIRST_NEEDED, _SECOND_NEEDED = (True, True), (True, False), (False, True)


def _fit(g: Tensor, shape: tuple[int, ...], dtype, node: Node, index: int) -> Tensor:
    """``g`` summed over the dimensions it was broadcast along to reach ``shape``, then cast to
    ``dtype``: the gradient of an input of that shape and dtype. Done with ember ops, so that
    it is recorded when ``create_graph`` is set. Refuses a gradient ``shape`` cannot expand to,
    with PyTorch's message."""
    gshape = g._data.shape
    if gshape != shape:
        lead = len(gshape) - len(shape)
        if lead < 0 or any(s != 1 and s != n for s, n in zip(shape, gshape[lead:])):
            raise RuntimeError(
                f"Function {node.name}Backward returned an invalid gradient at index {index} - "
                f"got {list(gshape)} but expected shape compatible with {list(shape)}"
            )
        axes = tuple(range(lead)) + tuple(
            i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
        if axes:
            # only leading axes (a bias): summed away, with no reshape, whose view _own would copy
            g = g.sum(axes, keepdim=len(axes) > lead)
        if g._data.shape != shape:
            g = g.reshape(shape)
    if g._data.dtype != dtype:
        g = g.type(dtype)
    return g


def _sum_into(entry: list, g: Tensor, add, create_graph: bool) -> None:
    """Add gradient ``g`` to a leaf's running sum ``entry`` (``[leaf, sum, own]``). Once the sum
    is an array the engine made itself (``own``; no one else holds it until the pass ends), later
    gradients of its shape and dtype are added into it in place: the same additions in the same
    order, without a new array and Tensor each time."""
    own, gd = entry[2], g._data
    if own is not None and own.shape == gd.shape and own.dtype is gd.dtype:
        own += gd
        return
    total = add(entry[1], g)
    entry[1] = total
    if not create_graph:  # a recorded sum may be read by the graph it belongs to: never in place
        entry[2] = total._data


def _add_arrays(a: Tensor, b: Tensor) -> Tensor:
    return _wrap(a._data + b._data)


def _add_recorded(a: Tensor, b: Tensor) -> Tensor:
    return a + b


def _run_hooks(hooks: list, g: Tensor) -> Tensor:
    for hook in hooks:
        out = hook(g)
        if out is not None:
            g = out
    return g
