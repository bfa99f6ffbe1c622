"""Data preparation for ``fit``/``evaluate``: the arguments turned into batches on the
model's device, with the targets checked against the loss before any training step."""

from __future__ import annotations

from ember import backend
from ember.models import data_adapter as da
from ember.models.input_checks import check_targets, probe_output


def device_for(model, device):
    """The device to run on: ``device`` (the model is moved there), else the parameters'."""
    if device is not None:
        dev = backend.as_device(device)
        model.to(dev)
        return dev
    for p in model.parameters():
        return p.device
    return None


def prepare(model, x, y, batch_size, shuffle, device, what, sample_weight=None):
    """Batches for ``(x, y)`` (and ``sample_weight``), after checking the targets against the
    loss."""
    if x is not None and not da.is_loader(x) and not da.is_dataset(x) \
            and not da.is_batch_iterator(x) and y is not None:
        batch_size = da.check_batch_size(batch_size, what)
        xa, ya = da.as_array(x, f"{what} x", True), da.as_array(y, f"{what} y", False)
        da.check_same_length(xa, ya, what)
        if xa.shape[0] == 0:
            raise ValueError(f"{what}: x and y hold no samples (x has shape {tuple(xa.shape)}); "
                             "give at least one sample")
        w = None
        if sample_weight is not None:
            w = da.as_sample_weight(sample_weight, xa.shape[0],
                                    "sample_weight" if what == "fit" else f"{what} sample_weight")
        ya = checked_targets(model, xa, ya, device, "y" if what == "fit" else f"{what} y")
        return da.ArrayBatches(xa, ya, batch_size, shuffle, device, w)
    batches = da.make_batches(x, y, batch_size, shuffle, device, what, sample_weight=sample_weight)
    if isinstance(batches, da.ArrayBatches) and batches.y is not None and batches.n:
        batches.y = checked_targets(model, batches.x, batches.y, device, f"{what} y")
    return batches


def checked_targets(model, x, y, device, where: str):
    """``y`` checked against the loss and the model's output on the first samples of ``x``
    (whose sample shape is remembered for ``summary``)."""
    out = probe_output(model, x, device)
    model._remember_input(x)
    return check_targets(model._loss_fn, model._loss_kind, y, out, where,
                         x_shape=tuple(x.shape))


def validation_batches(model, validation_data, batch_size, device):
    """Batches for ``fit``'s ``validation_data`` (a pair, a triple with weights, a Dataset or a
    DataLoader)."""
    if da.is_batch_iterator(validation_data):
        raise ValueError(
            "validation_data cannot be a generator: it is read once, but fit validates after "
            "every epoch; pass (x_val, y_val), a Dataset or a DataLoader"
        )
    if da.is_loader(validation_data) or da.is_dataset(validation_data):
        return prepare(model, validation_data, None, batch_size, False, device, "validation_data")
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3):
        xv, yv = validation_data[0], validation_data[1]
        wv = validation_data[2] if len(validation_data) == 3 else None
        return prepare(model, xv, yv, batch_size, False, device, "validation_data", wv)
    raise ValueError(
        "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight_val), a "
        f"Dataset or a DataLoader; got {type(validation_data).__name__}"
        + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else "")
    )
