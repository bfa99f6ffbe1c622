"""Checks of the targets against the loss and the model's output, run before any training.

A probe forward pass on two samples (no gradient, eval mode) tells the output's shape, so that a
label 10 for a 10-output model or float labels for a sparse cross-entropy fail at once with a
message saying what to change, rather than deep inside the loss or, worse, silently.
"""

from __future__ import annotations

import numpy as np

from ember import backend
from ember.tensor import Tensor

_LOSS_NAMES = {
    "sparse": "sparse_categorical_crossentropy (nn.CrossEntropyLoss)",
    "categorical": "categorical_crossentropy",
    "binary": "binary_crossentropy (nn.BCELoss)",
    "binary_logits": "binary_crossentropy_from_logits (nn.BCEWithLogitsLoss)",
    "regression": "regression",
}


def forward_eval(model, x, device=None):
    """``model``'s output on the array ``x`` (moved to ``device`` first), in eval mode and
    without recording a graph; the model's training mode is restored afterwards."""
    from ember.autograd import no_grad

    if device is not None:
        x = backend.move_array(x, device)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return model(Tensor._wrap(x))
    finally:
        model.train(was_training)


def probe_output(model, x, device=None):
    """The model's output on the first two samples of array ``x`` (``None`` if not a Tensor)."""
    out = forward_eval(model, x[:2], device)
    return out if isinstance(out, Tensor) else None


def _loss_label(loss, kind: str) -> str:
    return f"{type(loss).__name__} ({_LOSS_NAMES.get(kind, kind)})" if kind in _LOSS_NAMES else kind


def _per_position_mismatch(kind: str, loss_name: str, y, out_shape: tuple, where: str,
                           x_shape: tuple | None) -> str | None:
    """The message for a classification loss whose model outputs more than (N, classes) while
    ``y`` does not hold one label (or row) per output position; ``None`` when they agree."""
    extra = out_shape[2:]
    expected = ((y.shape[0],) + extra if kind == "sparse"
                else (y.shape[0], out_shape[1]) + extra)
    if tuple(y.shape) == expected:
        return None
    got_x = f" for x of shape {x_shape}" if x_shape is not None else ""
    return (
        f"the model's output has shape (N, {', '.join(map(str, out_shape[1:]))}){got_x}, which "
        f"{loss_name} reads as {out_shape[1]} classes at each of the {extra} positions, so "
        f"{where} would need shape {expected}; but {where} has shape {tuple(y.shape)}. For one "
        f"{'label' if kind == 'sparse' else 'row'} per sample the model must output (N, classes):"
        " give it inputs of shape (N, features) or add nn.Flatten() before the layers that "
        "classify."
    )


def check_targets(loss, kind: str | None, y, out: Tensor | None, where: str = "y",
                  x_shape: tuple | None = None):
    """Validate (and where harmless, reshape or cast) the target array ``y`` for the loss.

    ``x_shape`` (the inputs' shape) only makes the messages more precise. Returns the array to
    train on. Raises ``ValueError`` describing the problem and the fix.
    """
    if kind is None or out is None:
        return y
    out_shape = tuple(out.shape)
    width = out_shape[1] if len(out_shape) >= 2 else None
    loss_name = _LOSS_NAMES[kind]
    if kind in ("sparse", "categorical") and len(out_shape) >= 3:
        problem = _per_position_mismatch(kind, loss_name, y, out_shape, where, x_shape)
        if problem is not None:
            raise ValueError(problem)

    if kind == "sparse":
        if y.ndim == 2 and width is not None and y.shape[1] == width and width > 1 \
                and y.dtype.kind == "f":
            return y  # class-probability rows: CrossEntropyLoss accepts them as PyTorch does
        if y.dtype.kind not in "iu":
            raise ValueError(
                f"the loss {loss_name} expects integer class labels, but {where} has dtype "
                f"{y.dtype}. Convert the labels with {where}.astype('int64'), or for one-hot / "
                "probability targets use loss='categorical_crossentropy'."
            )
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.reshape(-1)
        if y.size and width is not None:
            ignore = getattr(loss, "ignore_index", None)
            valid = (y >= 0) & (y < width)
            if ignore is not None:
                valid |= y == ignore
            if not bool(valid.all()):
                bad = y[~valid]
                raise ValueError(
                    f"{where} contains class label {int(bad.max() if bad.max() >= width else bad.min())}"
                    f" but the model has {width} outputs, so labels must be in the range "
                    f"0..{width - 1}. Check the labels, or give the last layer more outputs."
                )
        return y

    if kind == "categorical":
        if y.ndim != 2 or (width is not None and y.shape[1] != width):
            raise ValueError(
                f"the loss categorical_crossentropy expects one-hot or probability rows of shape "
                f"(N, {width}), but {where} has shape {tuple(y.shape)}. For integer class labels "
                "use loss='sparse_categorical_crossentropy'."
            )
        return y.astype(out._data.dtype) if y.dtype != out._data.dtype else y

    # binary and regression targets: floats shaped like the output
    if y.dtype.kind not in "fiub":
        raise ValueError(f"{where} must be numeric for the loss {loss_name}, got dtype {y.dtype}")
    if kind in ("binary", "binary_logits") and y.size:
        lo, hi = float(y.min()), float(y.max())
        if lo < 0 or hi > 1:
            raise ValueError(
                f"the loss {loss_name} expects targets in [0, 1], but {where} ranges from {lo:g} "
                f"to {hi:g}. For more than two classes use 'sparse_categorical_crossentropy'."
            )
    if y.dtype != out._data.dtype and out._data.dtype.kind == "f":
        y = y.astype(out._data.dtype)
    sample_shape = out_shape[1:]
    if tuple(y.shape[1:]) != sample_shape:
        if int(np.prod(y.shape[1:], dtype=np.int64)) == int(np.prod(sample_shape, dtype=np.int64)):
            # (N,) targets for (N, 1) outputs: without this the loss would broadcast to (N, N)
            y = y.reshape((y.shape[0],) + sample_shape)
        else:
            got_x = f" (for x of shape {x_shape})" if x_shape is not None else ""
            raise ValueError(
                f"{where} has shape {tuple(y.shape)} but the model's outputs have shape "
                f"(N, {', '.join(map(str, sample_shape))}){got_x}; each sample's target must "
                "match its output."
            )
    return y
