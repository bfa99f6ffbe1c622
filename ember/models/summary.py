"""``Model.summary()``: a table of layers, output shapes and parameter counts."""

from __future__ import annotations

from typing import Any

import numpy as np

from ember import backend
from ember.models.input_checks import forward_eval
from ember.tensor import Tensor

_PROBE_BATCH = 2


def _shape_text(out: Any, batch: int) -> str:
    if isinstance(out, Tensor):
        dims = list(out.shape)
        if dims and dims[0] == batch:
            dims[0] = None
        return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(_shape_text(o, batch) for o in out) + "]"
    return type(out).__name__


def _probe_input(model, input_shape, x, dtype):
    if x is not None:
        if isinstance(x, Tensor):
            arr = x._data[:_PROBE_BATCH]
        else:
            from ember.models.data_adapter import as_array

            arr = as_array(x, "x", True)[:_PROBE_BATCH]
        return arr
    if input_shape is None:
        remembered = getattr(model, "_input_spec", None)
        if remembered is None:
            return None
        input_shape, rdtype = remembered
        dtype = dtype or rdtype
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    np_dtype = backend.to_dtype(dtype).np if dtype is not None else backend.get_default_dtype().np
    return np.zeros((_PROBE_BATCH,) + tuple(input_shape), dtype=np_dtype)


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n} B"


def summarize(model, input_shape=None, x=None, dtype=None) -> str:
    """The text of :meth:`Model.summary`."""
    sample = _probe_input(model, input_shape, x, dtype)
    modules = [(name, m) for name, m in model.named_modules() if name]
    shapes: dict[int, str] = {}
    note = None
    if sample is not None:
        batch = int(sample.shape[0])
        handles = []
        for _, m in modules:
            def hook(mod, args, out, _key=id(m)):
                shapes[_key] = _shape_text(out, batch)
            handles.append(m.register_forward_hook(hook))
        device = next((p.device for p in model.parameters()), None)
        try:
            shapes[id(model)] = _shape_text(forward_eval(model, sample, device), batch)
        finally:
            for h in handles:
                h.remove()
    else:
        note = ("Output shapes unknown: call summary(input_shape=...) or summary(x=...), or "
                "fit the model first.")

    rows = []
    own = list(model.parameters(recurse=False)) if hasattr(model, "parameters") else []
    if own:
        rows.append(("(own parameters)", "", sum(p.numel() for p in own)))
    for name, m in modules:
        depth = name.count(".")
        label = "  " * depth + f"{name.rsplit('.', 1)[-1]} ({type(m).__name__})"
        count = sum(p.numel() for p in m.parameters(recurse=False))
        shape = shapes.get(id(m), "?" if sample is None else "-")
        rows.append((label, shape, count))

    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    size_of = {id(p): p.numel() * p.element_size() for p in params}
    total_b = sum(size_of.values())
    trainable_b = sum(size_of[id(p)] for p in params if p.requires_grad)
    buffers = list(model.buffers()) if hasattr(model, "buffers") else []

    w0 = max([len("Layer (type)")] + [len(r[0]) for r in rows]) + 2
    w1 = max([len("Output Shape")] + [len(r[1]) for r in rows]) + 2
    w2 = max([len("Param #")] + [len(f"{r[2]:,}") for r in rows])
    width = w0 + w1 + w2
    wrapped = model.__dict__.get("_wrapped")
    title = type(model).__name__ + (f"({type(wrapped).__name__})" if wrapped is not None else "")
    lines = [f'Model: "{title}"', "=" * width,
             f"{'Layer (type)':<{w0}}{'Output Shape':<{w1}}{'Param #':>{w2}}", "=" * width]
    for label, shape, count in rows:
        lines.append(f"{label:<{w0}}{shape:<{w1}}{count:>{w2},}")
    lines.append("=" * width)
    if sample is not None:
        lines.append(f"Input shape: {_shape_text(Tensor._wrap(sample), int(sample.shape[0]))}"
                     f" -> output shape: {shapes.get(id(model), '?')}")
    lines.append(f"Total params: {total:,} ({_fmt_bytes(total_b)})")
    lines.append(f"Trainable params: {trainable:,} ({_fmt_bytes(trainable_b)})")
    lines.append(f"Non-trainable params: {total - trainable:,} ({_fmt_bytes(total_b - trainable_b)})")
    if buffers:
        lines.append(f"Buffers (not parameters, e.g. running statistics): "
                     f"{sum(b.numel() for b in buffers):,}")
    if note:
        lines.append(note)
    lines.append("-" * width)
    return "\n".join(lines)
