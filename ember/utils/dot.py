"""A picture of the computational graph: Graphviz DOT text for ``dot -Tpng``."""

from __future__ import annotations

from ember.autograd.graph import Node
from ember.tensor import Tensor


def to_dot(output: Tensor, params: dict | None = None, show_shapes: bool = True) -> str:
    """Return the graph that produced ``output`` as Graphviz DOT text.

    Op nodes are boxes named after the op (``Mul``, ``Matmul``...); leaves that receive gradients
    are ellipses, labelled with their name from ``params`` (e.g. ``dict(model.named_parameters())``)
    when given, and their shapes. Render with ``dot -Tpng graph.dot -o graph.png``.
    """
    names = {id(t): n for n, t in (params or {}).items()}
    lines = ["digraph ember {", '  rankdir="BT";', '  node [fontname="Helvetica", fontsize=10];']
    ids: dict[int, str] = {}

    def node_id(obj) -> str:
        key = id(obj)
        if key not in ids:
            ids[key] = f"n{len(ids)}"
        return ids[key]

    root = output._node if output._node is not None else output
    shape = f"\\n{tuple(output.shape)}" if show_shapes else ""
    lines.append(f'  out [label="output{shape}", shape=doubleoctagon, style=filled, fillcolor="#ffe0b2"];')
    lines.append(f"  {node_id(root)} -> out;")
    seen = set()
    stack = [root]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        nid = node_id(item)
        if type(item) is Node:
            lines.append(f'  {nid} [label="{item.name}", shape=box, style=filled, fillcolor="#e3f2fd"];')
            for child in item.inputs:
                if child is None:
                    continue
                lines.append(f"  {node_id(child)} -> {nid};")
                stack.append(child)
        else:
            label = names.get(id(item), "leaf")
            if show_shapes:
                label += f"\\n{tuple(item.shape)}"
            lines.append(f'  {nid} [label="{label}", shape=ellipse, style=filled, fillcolor="#c8e6c9"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
