"""Keras' losses: the functions of ``keras.losses`` (``hinge(y_true, y_pred)``, ...) and the
loss objects ``Model.compile(loss="...")`` builds from Keras' names.

The functions take Keras' argument order, ``(y_true, y_pred)``, and return one value per sample
(the mean or sum over the last axis, as Keras' do). Where PyTorch has the same loss, the work is
done by :mod:`ember.nn.functional` (cross-entropies, Huber); the rest are written here with ember
ops, so every loss is differentiable.

The cross-entropy names follow Keras' rule for what the model outputs: when the output was
made by a final ``Softmax``/``Sigmoid`` (or ``LogSoftmax``) op it is taken as probabilities and
the loss is computed from that op's *input* (the logits), which is numerically stable, as Keras
does with its logits; any other output is taken as logits. The op is recognised from the output
itself: from a forward hook on ``nn.Softmax``/``nn.Sigmoid``/``nn.LogSoftmax`` modules
(:func:`watch_probability_layers`, installed by ``Model.compile``), which also keeps the op's
input, or from the name of the autograd node that recorded it (functional ``F.softmax`` in a
``forward``; then the probabilities are clipped to ``[1e-7, 1 - 1e-7]`` before the log, as Keras
does where it has no logits).
"""

from __future__ import annotations

import inspect
import math
import weakref
from typing import Any, Callable

import ember.nn.functional as F
from ember.nn.modules import loss as loss_modules
from ember.nn.modules.loss import _Loss
from ember.nn.modules.module import Module
from ember.tensor import Tensor

# Keras' fuzz factor (keras.config.epsilon()).
EPSILON = 1e-7

# The ops whose output a Keras cross-entropy reads as probabilities (or log-probabilities).
PROBABILITY_OPS = ("Softmax", "Sigmoid", "LogSoftmax")

# id(output) -> (weak reference to the output, op name, the op's input): what the watched
# Softmax/Sigmoid/LogSoftmax modules produced recently. An entry goes when its output is freed.
_PRODUCED: dict[int, tuple[Any, str, Tensor]] = {}


def _note_output(module: Module, args: tuple, output: Any) -> None:
    """Forward hook: remember that ``output`` came out of ``module``'s probability op."""
    if not isinstance(output, Tensor) or not args or not isinstance(args[0], Tensor):
        return None
    key = id(output)
    ref = weakref.ref(output, lambda _r, key=key: _PRODUCED.pop(key, None))
    _PRODUCED[key] = (ref, type(module).__name__, args[0])
    return None


def watch_probability_layers(model: Module) -> list:
    """Hook every ``nn.Softmax``/``nn.Sigmoid``/``nn.LogSoftmax`` inside ``model`` so that a
    Keras cross-entropy can find the logits of their outputs; returns the hook handles."""
    from ember.nn.modules.activation import LogSoftmax, Sigmoid, Softmax

    return [m.register_forward_hook(_note_output) for m in model.modules()
            if type(m) in (Softmax, Sigmoid, LogSoftmax)]


def output_producer(y_pred: Tensor) -> tuple[str | None, Tensor | None]:
    """``(op name, op input)`` for an output made by Softmax/Sigmoid/LogSoftmax.

    ``(name, logits)`` when a watched module made it, ``(name, None)`` when only its autograd
    node tells (no logits then), ``("", None)`` when a recorded op other than these made it, and
    ``(None, None)`` when nothing is known (no graph was recorded and no watched module made it).
    """
    entry = _PRODUCED.get(id(y_pred))
    if entry is not None and entry[0]() is y_pred:
        return entry[1], entry[2]
    node = getattr(y_pred, "_node", None)
    if node is not None:
        return (node.name if node.name in PROBABILITY_OPS else ""), None
    return None, None


# --------------------------------------------------------------------------------- helpers


def _pair(y_true, y_pred: Tensor) -> tuple[Tensor, Tensor]:
    """``y_true`` as a float tensor like ``y_pred``; a target with the same number of values but
    another shape ((N,) against (N, 1)) is reshaped rather than broadcast to (N, N)."""
    if not isinstance(y_pred, Tensor):
        raise TypeError(f"y_pred must be a Tensor, got {type(y_pred).__name__}")
    t = F._as_target(y_true, y_pred)
    if t.dtype != y_pred.dtype:
        t = t.to(y_pred.dtype)
    if tuple(t.shape) != tuple(y_pred.shape) and t.numel() == y_pred.numel():
        t = t.reshape(y_pred.shape)
    return t, y_pred


def _last_axis_mean(x: Tensor) -> Tensor:
    return x.mean(-1) if x.dim() > 1 else x


def _log_probabilities(p: Tensor, dim: int = -1) -> Tensor:
    """``log`` of probabilities renormalised over ``dim`` and clipped to ``[eps, 1 - eps]``."""
    p = p / p.sum(dim, keepdim=True)
    return p.clamp(EPSILON, 1.0 - EPSILON).log()


# ----------------------------------------------------------------------- Keras' functions


def mean_squared_error(y_true, y_pred: Tensor) -> Tensor:
    """``mean((y_true - y_pred)², axis=-1)``."""
    y, p = _pair(y_true, y_pred)
    return _last_axis_mean(F.mse_loss(p, y, reduction="none"))


def mean_absolute_error(y_true, y_pred: Tensor) -> Tensor:
    """``mean(|y_true - y_pred|, axis=-1)``."""
    y, p = _pair(y_true, y_pred)
    return _last_axis_mean(F.l1_loss(p, y, reduction="none"))


def mean_absolute_percentage_error(y_true, y_pred: Tensor) -> Tensor:
    """``100 * mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)``."""
    y, p = _pair(y_true, y_pred)
    return 100.0 * _last_axis_mean((y - p).abs() / y.abs().clamp(min=EPSILON))


def mean_squared_logarithmic_error(y_true, y_pred: Tensor) -> Tensor:
    """``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))², axis=-1)``."""
    y, p = _pair(y_true, y_pred)
    d = p.clamp(min=EPSILON).log1p() - y.clamp(min=EPSILON).log1p()
    return _last_axis_mean(d * d)


def huber(y_true, y_pred: Tensor, delta: float = 1.0) -> Tensor:
    """``mean(0.5 e²  if |e| <= delta  else delta * (|e| - 0.5 delta), axis=-1)``, ``e = y_pred - y_true``."""
    y, p = _pair(y_true, y_pred)
    return _last_axis_mean(F.huber_loss(p, y, reduction="none", delta=delta))


def log_cosh(y_true, y_pred: Tensor) -> Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, as ``x + softplus(-2x) - log 2`` (no overflow)."""
    y, p = _pair(y_true, y_pred)
    x = p - y
    return _last_axis_mean(x + F.softplus(-2.0 * x) - math.log(2.0))


def kl_divergence(y_true, y_pred: Tensor) -> Tensor:
    """``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[eps, 1]``."""
    y, p = _pair(y_true, y_pred)
    y = y.clamp(EPSILON, 1.0)
    p = p.clamp(EPSILON, 1.0)
    return (y * (y / p).log()).sum(-1)


def poisson(y_true, y_pred: Tensor) -> Tensor:
    """``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``."""
    y, p = _pair(y_true, y_pred)
    return _last_axis_mean(p - y * (p + EPSILON).log())


def _signed_labels(y: Tensor) -> Tensor:
    # Keras' hinge losses take labels in {-1, 1}; 0/1 labels are mapped to them
    is_binary = bool(((y == 0) | (y == 1)).all())
    return 2.0 * y - 1.0 if is_binary else y


def hinge(y_true, y_pred: Tensor) -> Tensor:
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; 0/1 labels become -1/1."""
    y, p = _pair(y_true, y_pred)
    return _last_axis_mean((1.0 - _signed_labels(y) * p).clamp(min=0.0))


def squared_hinge(y_true, y_pred: Tensor) -> Tensor:
    """``mean(max(1 - y_true * y_pred, 0)², axis=-1)``; 0/1 labels become -1/1."""
    y, p = _pair(y_true, y_pred)
    h = (1.0 - _signed_labels(y) * p).clamp(min=0.0)
    return _last_axis_mean(h * h)


def categorical_hinge(y_true, y_pred: Tensor) -> Tensor:
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` over the last axis
    (one-hot ``y_true``)."""
    y, p = _pair(y_true, y_pred)
    pos = (y * p).sum(-1)
    neg = ((1.0 - y) * p).max(-1)[0]
    return (neg - pos + 1.0).clamp(min=0.0)


def cosine_similarity(y_true, y_pred: Tensor, axis: int = -1) -> Tensor:
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: -1 for the same direction."""
    y, p = _pair(y_true, y_pred)
    return -(F.normalize(y, dim=axis, eps=1e-12) * F.normalize(p, dim=axis, eps=1e-12)).sum(axis)


def binary_crossentropy(y_true, y_pred: Tensor, from_logits: bool = False,
                        label_smoothing: float = 0.0) -> Tensor:
    """``mean(-(y log p + (1 - y) log(1 - p)), axis=-1)``; ``from_logits`` takes ``y_pred`` as
    logits (computed stably), else as probabilities clipped to ``[eps, 1 - eps]``."""
    y, p = _pair(y_true, y_pred)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(p, y, reduction="none")
    else:
        values = F.binary_cross_entropy(p.clamp(EPSILON, 1.0 - EPSILON), y, reduction="none")
    return _last_axis_mean(values)


def categorical_crossentropy(y_true, y_pred: Tensor, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """``-sum(y_true * log p, axis)`` for one-hot (or soft) ``y_true``."""
    y, p = _pair(y_true, y_pred)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y.shape[axis]
    log_p = F.log_softmax(p, axis) if from_logits else _log_probabilities(p, axis)
    return -(y * log_p).sum(axis)


def sparse_categorical_crossentropy(y_true, y_pred: Tensor, from_logits: bool = False) -> Tensor:
    """``-log p[y_true]`` per sample, for integer class labels (``y_pred`` is ``(N, C)``)."""
    labels = _labels(y_true, y_pred)
    if from_logits:
        return F.cross_entropy(y_pred, labels, reduction="none")
    return F.nll_loss(_log_probabilities(y_pred, 1), labels, reduction="none")


def binary_focal_crossentropy(y_true, y_pred: Tensor, apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0) -> Tensor:
    """Binary cross-entropy weighted by ``(1 - p_t) ** gamma`` (and by ``alpha`` / ``1 - alpha``
    for positives / negatives with ``apply_class_balancing``), mean over the last axis."""
    y, p = _pair(y_true, y_pred)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = F.binary_cross_entropy_with_logits(p, y, reduction="none")
        p = F.sigmoid(p)
    else:
        p = p.clamp(EPSILON, 1.0 - EPSILON)
        bce = F.binary_cross_entropy(p, y, reduction="none")
    p_t = y * p + (1.0 - y) * (1.0 - p)
    focal = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal = (y * alpha + (1.0 - y) * (1.0 - alpha)) * focal
    return _last_axis_mean(focal)


def categorical_focal_crossentropy(y_true, y_pred: Tensor, alpha: float = 0.25,
                                   gamma: float = 2.0, from_logits: bool = False,
                                   label_smoothing: float = 0.0, axis: int = -1) -> Tensor:
    """``sum(alpha * (1 - p) ** gamma * -y_true log p, axis)`` for one-hot ``y_true``."""
    y, p = _pair(y_true, y_pred)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y.shape[axis]
    log_p = F.log_softmax(p, axis) if from_logits else _log_probabilities(p, axis)
    prob = log_p.exp()
    return (alpha * (1.0 - prob) ** gamma * -(y * log_p)).sum(axis)


def _overlap_sums(y_true, y_pred: Tensor, axis) -> tuple[Tensor, Tensor, Tensor]:
    """``(sum(y p), sum((1 - y) p), sum(y (1 - p)))`` over ``axis`` (``None``: everything)."""
    y, p = _pair(y_true, y_pred)
    dims = tuple(range(p.dim())) if axis is None else axis

    def total(t: Tensor) -> Tensor:
        return t.sum() if axis is None else t.sum(dims)

    return total(y * p), total((1.0 - y) * p), total(y * (1.0 - p))


def dice(y_true, y_pred: Tensor, axis=None) -> Tensor:
    """``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred))`` over ``axis`` (``None``: the
    whole batch, one value; a tuple such as ``(1, 2, 3)``: one value per sample)."""
    tp, fp, fn = _overlap_sums(y_true, y_pred, axis)
    return 1.0 - 2.0 * tp / (2.0 * tp + fp + fn)


def tversky(y_true, y_pred: Tensor, alpha: float = 0.5, beta: float = 0.5, axis=None) -> Tensor:
    """``1 - TP / (TP + alpha FP + beta FN)`` with soft counts over ``axis`` (``alpha = beta =
    0.5`` is :func:`dice`)."""
    tp, fp, fn = _overlap_sums(y_true, y_pred, axis)
    return 1.0 - tp / (tp + alpha * fp + beta * fn)


def _labels(y_true, y_pred: Tensor) -> Tensor:
    """Integer class labels ``(N,)`` from sparse targets (``(N,)`` or ``(N, 1)``)."""
    if not isinstance(y_true, Tensor):
        from ember.creation import tensor

        y_true = tensor(y_true)
    if y_true.dim() == y_pred.dim() and y_true.dim() > 1 and y_true.shape[-1] == 1:
        y_true = y_true.reshape(y_true.shape[:-1])
    if y_true.dtype.is_floating_point:
        y_true = y_true.round()
    return y_true.long()


# Short names, as Keras registers them.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh


# ------------------------------------------------------------------------- compiled losses


class KerasLoss(_Loss):
    """A Keras loss function as a loss module: ``loss(y_pred, y_true)`` (PyTorch's order, as
    ``Model.compute_loss`` calls it) is the mean of ``fn(y_true, y_pred)`` over the samples
    (Keras' ``"sum_over_batch_size"``); ``reduction="none"``/``"sum"`` as for PyTorch's losses.

    Args:
        fn: a per-sample function of this module, e.g. :func:`hinge`.
        name: the Keras name it was built from.
        **kwargs: passed to ``fn`` (``delta=`` for Huber, ``gamma=`` for the focal losses, ...).
    """

    def __init__(self, fn: Callable, name: str | None = None, reduction: str = "mean",
                 **kwargs: Any) -> None:
        super().__init__(reduction=reduction)
        object.__setattr__(self, "fn", fn)
        self.name = name or fn.__name__
        self.kwargs = kwargs

    def per_sample(self, input: Tensor, target) -> Tensor:
        """One loss value per sample."""
        return self.fn(target, input, **self.kwargs)

    def forward(self, input: Tensor, target) -> Tensor:
        values = self.per_sample(input, target)
        if self.reduction == "none":
            return values
        return values.sum() if self.reduction == "sum" else values.mean()

    def extra_repr(self) -> str:
        return f"{self.name!r}"


class KerasCrossentropy(KerasLoss):
    """A Keras cross-entropy by name that reads the model's output by Keras' rule.

    An output made by a final ``Softmax`` (or ``Sigmoid`` for the binary losses) is taken as
    probabilities, and the loss is computed from that op's input (the logits) when it is known;
    an output made by ``LogSoftmax`` is taken as log-probabilities; any other output is taken as
    logits. The verdict of the last call is kept in :attr:`output_kind` (``"logits"``,
    ``"probabilities"`` or ``"log_probabilities"``): evaluation without a recorded graph reuses
    it when the output carries no trace of its op.
    """

    def __init__(self, fn: Callable, name: str | None = None, reduction: str = "mean",
                 **kwargs: Any) -> None:
        super().__init__(fn, name, reduction, **kwargs)
        self.output_kind: str | None = None

    @property
    def binary(self) -> bool:
        return self.fn in (binary_crossentropy, binary_focal_crossentropy)

    def resolve(self, y_pred: Tensor) -> tuple[Tensor, bool]:
        """``(tensor to compute from, whether it holds logits)`` for the model's output."""
        op, source = output_producer(y_pred)
        wanted = ("Sigmoid",) if self.binary else ("Softmax", "LogSoftmax")
        if op in wanted:
            if op == "LogSoftmax":
                # log-probabilities are logits of the same softmax: stable as they are
                self.output_kind = "log_probabilities"
                return y_pred, True
            self.output_kind = "probabilities"
            return (source, True) if source is not None else (y_pred, False)
        if op is None and self.output_kind in ("probabilities", "log_probabilities"):
            # no graph recorded (evaluation): the model made probabilities before
            return y_pred, self.output_kind == "log_probabilities"
        if op is not None:
            self.output_kind = "logits"
        return y_pred, True

    def per_sample(self, input: Tensor, target) -> Tensor:
        source, logits = self.resolve(input)
        return self.fn(target, source, from_logits=logits, **self.kwargs)

    def forward(self, input: Tensor, target) -> Tensor:
        if self.fn is sparse_categorical_crossentropy and self.reduction != "none":
            source, logits = self.resolve(input)
            if logits:
                # the fused op reduces itself: one recorded op instead of three
                return F.cross_entropy(source, _labels(target, source), reduction=self.reduction)
            values = self.fn(target, source, from_logits=False, **self.kwargs)
            return values.sum() if self.reduction == "sum" else values.mean()
        return super().forward(input, target)


# Keras' loss names -> (function, the kind of target it compares). The kinds are those
# ``fit`` checks the targets against: "sparse" (class indices), "categorical" (one-hot rows),
# "binary" (0/1), "regression".
KERAS_NAMES: dict[str, tuple[Callable, str]] = {
    "sparse_categorical_crossentropy": (sparse_categorical_crossentropy, "sparse"),
    "categorical_crossentropy": (categorical_crossentropy, "categorical"),
    "binary_crossentropy": (binary_crossentropy, "binary"),
    "binary_focal_crossentropy": (binary_focal_crossentropy, "binary"),
    "categorical_focal_crossentropy": (categorical_focal_crossentropy, "categorical"),
    "kl_divergence": (kl_divergence, "regression"),
    "kld": (kl_divergence, "regression"),
    "kullback_leibler_divergence": (kl_divergence, "regression"),
    "hinge": (hinge, "regression"),
    "squared_hinge": (squared_hinge, "regression"),
    "categorical_hinge": (categorical_hinge, "categorical"),
    "log_cosh": (log_cosh, "regression"),
    "logcosh": (log_cosh, "regression"),
    "mean_absolute_percentage_error": (mean_absolute_percentage_error, "regression"),
    "mape": (mean_absolute_percentage_error, "regression"),
    "mean_squared_logarithmic_error": (mean_squared_logarithmic_error, "regression"),
    "msle": (mean_squared_logarithmic_error, "regression"),
    "poisson": (poisson, "regression"),
    "cosine_similarity": (cosine_similarity, "regression"),
    "dice": (dice, "regression"),
    "tversky": (tversky, "regression"),
}

_CROSSENTROPIES = (sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy,
                   binary_focal_crossentropy, categorical_focal_crossentropy)


def build(name: str, **kwargs: Any) -> KerasLoss:
    """The compiled loss module for one of :data:`KERAS_NAMES`."""
    fn, _ = KERAS_NAMES[name]
    cls = KerasCrossentropy if fn in _CROSSENTROPIES else KerasLoss
    return cls(fn, name, **kwargs)


def get(identifier: Any) -> Callable:
    """Keras' ``keras.losses.get``: a function of this module by name (or a callable as it is)."""
    if callable(identifier):
        return identifier
    fn = globals().get(str(identifier))
    if not inspect.isfunction(fn) or str(identifier).startswith("_") or fn in (
            watch_probability_layers, output_producer, build, get, compile_loss):
        raise ValueError(f"unknown loss function {identifier!r}; valid names: "
                         f"{', '.join(sorted(KERAS_NAMES))}")
    return fn


# ------------------------------------------------------------------------- names for compile

# Keras' loss names, as ``Model.compile(loss=...)`` takes them: name -> (loss, the kind of
# target it compares: "sparse", "categorical", "binary", "binary_logits" or "regression"). The
# loss is a class of :mod:`ember.nn.modules.loss` (Keras' losses that PyTorch has too) or a
# function of this module (Keras' own). The cross-entropy names read the model's output by Keras'
# rule: the output of a final Softmax/Sigmoid is probabilities (the loss is computed from that
# op's input, the logits), anything else is logits (see :class:`KerasCrossentropy`).
NAMES: dict[str, tuple[str, str]] = {
    "sparse_categorical_crossentropy": ("sparse_categorical_crossentropy", "sparse"),
    "cross_entropy": ("CrossEntropyLoss", "sparse"),
    "categorical_crossentropy": ("categorical_crossentropy", "categorical"),
    "binary_crossentropy": ("binary_crossentropy", "binary"),
    "binary_crossentropy_from_logits": ("BCEWithLogitsLoss", "binary_logits"),
    "binary_focal_crossentropy": ("binary_focal_crossentropy", "binary"),
    "categorical_focal_crossentropy": ("categorical_focal_crossentropy", "categorical"),
    "mse": ("MSELoss", "regression"),
    "mean_squared_error": ("MSELoss", "regression"),
    "mae": ("L1Loss", "regression"),
    "mean_absolute_error": ("L1Loss", "regression"),
    "huber": ("HuberLoss", "regression"),
    "huber_loss": ("HuberLoss", "regression"),
    "nll": ("NLLLoss", "sparse"),
    "kl_divergence": ("kl_divergence", "regression"),
    "kld": ("kl_divergence", "regression"),
    "kullback_leibler_divergence": ("kl_divergence", "regression"),
    "hinge": ("hinge", "regression"),
    "squared_hinge": ("squared_hinge", "regression"),
    "categorical_hinge": ("categorical_hinge", "categorical"),
    "log_cosh": ("log_cosh", "regression"),
    "logcosh": ("log_cosh", "regression"),
    "mean_absolute_percentage_error": ("mean_absolute_percentage_error", "regression"),
    "mape": ("mean_absolute_percentage_error", "regression"),
    "mean_squared_logarithmic_error": ("mean_squared_logarithmic_error", "regression"),
    "msle": ("mean_squared_logarithmic_error", "regression"),
    "poisson": ("poisson", "regression"),
    "cosine_similarity": ("cosine_similarity", "regression"),
    "dice": ("dice", "regression"),
    "tversky": ("tversky", "regression"),
}

# The kind of target each loss class (and functional loss) expects, for the checks on targets.
KINDS: dict[str, str] = {
    "CrossEntropyLoss": "sparse", "cross_entropy": "sparse",
    "NLLLoss": "sparse", "nll_loss": "sparse",
    "BCELoss": "binary", "binary_cross_entropy": "binary",
    "BCEWithLogitsLoss": "binary_logits", "binary_cross_entropy_with_logits": "binary_logits",
    "MSELoss": "regression", "mse_loss": "regression",
    "L1Loss": "regression", "l1_loss": "regression",
    "HuberLoss": "regression", "huber_loss": "regression",
    "SmoothL1Loss": "regression", "smooth_l1_loss": "regression",
}


def compile_loss(identifier: Any) -> tuple[Callable, str | None]:
    """``(loss, kind)``: the loss callable ``loss(y_pred, y_true)`` for a name, a loss class, a
    loss module or a function, and the kind of target it compares (``None`` when unknown), which
    lets ``fit`` check the labels before training."""
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in NAMES:
            raise ValueError(f"unknown loss {identifier!r}; valid names: "
                             f"{', '.join(sorted(NAMES))}")
        target, kind = NAMES[key]
        if target in KERAS_NAMES:
            return build(target), kind
        return getattr(loss_modules, target)(), kind
    if callable(identifier):
        if inspect.isclass(identifier):
            if not issubclass(identifier, Module):
                raise TypeError(f"loss class {identifier.__name__} is not an ember.nn.Module")
            identifier = identifier()
        name = type(identifier).__name__ if isinstance(identifier, Module) else \
            getattr(identifier, "__name__", "")
        return identifier, KINDS.get(name)
    raise TypeError(
        "loss must be a loss module (e.g. nn.CrossEntropyLoss()), a function "
        f"loss(y_pred, y_true) or one of {sorted(NAMES)}; got {type(identifier).__name__}"
    )


__all__ = [
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh", "kl_divergence", "poisson", "hinge",
    "squared_hinge", "categorical_hinge", "cosine_similarity", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_focal_crossentropy",
    "categorical_focal_crossentropy", "dice", "tversky", "mse", "mae", "mape", "msle", "kld",
    "logcosh",
    "KerasLoss", "KerasCrossentropy", "watch_probability_layers", "output_producer", "get",
]
