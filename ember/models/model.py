"""``Model``: an ``nn.Module`` that also knows how to train itself (Keras' high-level API).

A ``Model`` is an ordinary module (parameters, ``forward``, ``state_dict``, ``to(device)``), so
hand-written PyTorch-style loops work on it unchanged; ``compile`` + ``fit`` are an alternative,
not a replacement. The per-batch logic lives in ``train_step``/``test_step``/``predict_step``,
which subclasses may override (as in PyTorch Lightning) while keeping the loop, callbacks,
progress bars and History.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable


from ember import losses, optim
from ember.autograd.grad_mode import enable_grad
from ember.metrics import registry as metrics_registry
from ember.models.fit_api import FitAPI
from ember.models.keras_api import KerasAPI
from ember.models.saving import WeightsIO
from ember.nn import Module
from ember.tensor import Tensor


class Model(KerasAPI, FitAPI, WeightsIO, Module):
    """A trainable network with ``compile``/``fit``/``evaluate``/``predict``/``summary``.

    Subclass it like ``nn.Module`` (build layers in ``__init__`` after ``super().__init__()``,
    write ``forward``), use :class:`ember.models.Sequential`, or wrap any module:
    ``ember.Model(module)`` trains ``module``'s own parameters (not a copy) and has the same
    ``state_dict`` keys::

        model = ember.models.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(x, y, epochs=50, validation_split=0.2)

    Attributes:
        optimizer: the compiled optimizer.
        loss: the compiled loss, called as ``loss(y_pred, y_true)`` (PyTorch's argument order).
        compiled_metrics: the compiled :class:`~ember.metrics.Metric` objects.
        history: the :class:`History` of the last ``fit``.
        stop_training: set to ``True`` (by a callback or ``train_step``) to end ``fit`` after the
            current batch.
    """

    def __init__(self, *args, **kwargs) -> None:
        wrapped = None
        if type(self) is Model and len(args) == 1 and not kwargs and isinstance(args[0], Module):
            wrapped, args = args[0], ()
        super().__init__(*args, **kwargs)
        # Stored straight in __dict__: a loss module assigned normally would become a submodule
        # (and show up in summary/state_dict).
        d = self.__dict__
        d["_wrapped"] = wrapped
        d["_probability_hooks"] = []
        if wrapped is not None:
            # the wrapped module's own tables, shared: same parameters, same state_dict keys
            for store in ("_parameters", "_buffers", "_non_persistent_buffers_set", "_modules"):
                d[store] = wrapped.__dict__[store]
            d["training"] = wrapped.training
        d["optimizer"] = None
        d["_loss_fn"] = None
        d["_loss_kind"] = None
        d["compiled_metrics"] = []
        d["stop_training"] = False
        d["history"] = None
        d["_input_spec"] = None

    # ------------------------------------------------------------------------------- compile

    def compile(self, optimizer: Any = "rmsprop", loss: Any = None,
                metrics: Iterable[Any] | None = None) -> None:
        """Configure training: the optimizer, the loss and the metrics to report.

        Args:
            optimizer: an ``ember.optim`` optimizer built over ``self.parameters()``, an optimizer
                class (built here with its defaults), or a Keras name with Keras' defaults
                (``"adam"``, ``"rmsprop"``, ``"sgd"``, ... see ``ember.optim.NAMES``).
            loss: a loss module (``nn.CrossEntropyLoss()``), a function ``loss(y_pred, y_true)``,
                or a Keras name (see ``ember.losses.NAMES``):
                ``"sparse_categorical_crossentropy"`` (integer labels),
                ``"categorical_crossentropy"`` (one-hot rows), ``"binary_crossentropy"`` (0/1),
                the focal cross-entropies, ``"mse"``, ``"mae"``, ``"huber"``, ``"hinge"``,
                ``"kld"``, ``"log_cosh"``, ``"mape"``, ``"msle"``, ``"poisson"``, ... The
                cross-entropy names follow Keras' rule: the output of a final ``Softmax``
                (``Sigmoid`` for the binary ones) is taken as probabilities, and the loss is
                computed stably from that op's input; any other output is taken as logits.
                ``"cross_entropy"`` is ``nn.CrossEntropyLoss`` (always logits).
            metrics: :class:`~ember.metrics.Metric` objects or classes, functions
                ``f(y_pred, y_true)``, or names (Keras' and ember's, see
                ``ember.metrics.registry.NAMES``): ``"accuracy"``, ``"auc"``, ``"precision"``,
                ``"rmse"``, ``"mae"``, ... Each is logged under its name.

        Raises:
            ValueError: an unknown name (the message lists the valid ones), or no loss.
        """
        if loss is None:
            raise ValueError(
                "compile() needs a loss, e.g. loss='sparse_categorical_crossentropy' for integer "
                "class labels or loss='mse' for regression"
            )
        opt = optim.get(optimizer, self.parameters())
        loss_fn, kind = losses.compile_loss(loss)
        if isinstance(metrics, (str, dict)) or callable(metrics):
            metrics = [metrics]
        compiled = [metrics_registry.get(m, kind) for m in (metrics or [])]
        names = [m.name for m in compiled]
        clash = {n for n in names if names.count(n) > 1 or n == "loss"}
        if clash:
            raise ValueError(f"metric names must be unique and not 'loss'; repeated: {sorted(clash)}"
                             " (give metrics distinct name=...)")
        d = self.__dict__
        d["optimizer"] = opt
        d["_loss_fn"] = loss_fn
        d["_loss_kind"] = kind
        d["compiled_metrics"] = compiled
        d["_compile_args"] = {"optimizer": optimizer, "loss": loss, "metrics": list(metrics or [])}
        self._watch_probability_layers()

    def _watch_probability_layers(self) -> None:
        # Keras' rule for string cross-entropies needs the logits behind a final Softmax/Sigmoid
        from ember.losses import KerasCrossentropy, watch_probability_layers

        d = self.__dict__
        for handle in d.get("_probability_hooks", []):
            handle.remove()
        d["_probability_hooks"] = (watch_probability_layers(self)
                                   if isinstance(d["_loss_fn"], KerasCrossentropy) else [])

    def forward(self, *args, **kwargs):
        """The wrapped module's output (for ``Model(module)``); subclasses define their own."""
        wrapped = self.__dict__.get("_wrapped")
        if wrapped is None:
            return super().forward(*args, **kwargs)
        return wrapped(*args, **kwargs)

    def train(self, mode: bool = True) -> "Model":
        """Training mode for every submodule (and the wrapped module itself)."""
        super().train(mode)
        wrapped = self.__dict__.get("_wrapped")
        if wrapped is not None:
            wrapped.train(mode)
        return self

    @property
    def loss(self) -> Callable | None:
        """The compiled loss (``None`` before ``compile``)."""
        return self.__dict__.get("_loss_fn")

    @property
    def metrics_names(self) -> list[str]:
        """The log names of the compiled metrics (without ``loss``)."""
        return [m.name for m in self.__dict__.get("compiled_metrics", [])]

    @property
    def metrics(self) -> list:
        """The compiled metric objects."""
        return list(self.__dict__.get("compiled_metrics", []))

    def _check_compiled(self, what: str) -> None:
        if "optimizer" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}.__init__ did not call super().__init__(); do that first"
            )
        if self.__dict__.get("_loss_fn") is None or (what == "fit" and self.optimizer is None):
            raise RuntimeError(
                f"{what}() called before compile(): call model.compile(optimizer='adam', "
                "loss='sparse_categorical_crossentropy', metrics=['accuracy']) (or your choice) "
                "first"
            )

    def _remember_input(self, x_array) -> None:
        if x_array is not None and getattr(x_array, "ndim", 0) >= 1:
            self.__dict__["_input_spec"] = (tuple(x_array.shape[1:]), x_array.dtype)

    # ------------------------------------------------------------------------------ steps

    @staticmethod
    def unpack(batch) -> tuple[Any, Any]:
        """``(x, y)`` from a batch (a pair, or a 1-tuple with no targets).

        A batch ``(x, y, sample_weight)`` is refused rather than have its weights dropped: use
        :meth:`unpack_x_y_sample_weight` and pass the weights to :meth:`compute_loss`.
        """
        if isinstance(batch, (tuple, list)):
            if len(batch) == 2:
                return batch[0], batch[1]
            if len(batch) == 1:
                return batch[0], None
            if len(batch) == 3:
                raise ValueError(
                    "this batch is (x, y, sample_weight) (sample_weight/class_weight was given, "
                    "or the data yields weights); unpack it with "
                    "self.unpack_x_y_sample_weight(batch) and pass the weights to "
                    "self.compute_loss(y_pred, y, sample_weight)"
                )
            raise ValueError(
                f"a batch must be (x, y) or (x,), got {len(batch)} elements; override "
                "train_step/test_step to handle other layouts"
            )
        return batch, None

    @staticmethod
    def unpack_x_y_sample_weight(batch) -> tuple[Any, Any, Any]:
        """``(x, y, sample_weight)`` from a batch of one, two or three elements (missing parts
        are ``None``), as Keras' ``unpack_x_y_sample_weight``."""
        if isinstance(batch, (tuple, list)):
            if len(batch) == 3:
                return batch[0], batch[1], batch[2]
            if len(batch) in (1, 2):
                return batch[0], (batch[1] if len(batch) == 2 else None), None
            raise ValueError(
                f"a batch must be (x,), (x, y) or (x, y, sample_weight), got {len(batch)} "
                "elements; override train_step/test_step to handle other layouts"
            )
        return batch, None, None

    def compute_loss(self, y_pred, y, sample_weight=None) -> Tensor:
        """The compiled loss of ``y_pred`` against ``y`` (override for extra terms).

        With ``sample_weight`` (one weight per sample) it is Keras' ``"sum_over_batch_size"``:
        ``sum(w_i * loss_i) / batch_size``, with the per-sample losses from the compiled loss
        called with ``reduction="none"``; a plain loss function must then return one value per
        sample (see :mod:`ember.models.weighting`). An override that takes no ``sample_weight``
        keeps working for unweighted data.
        """
        if y is None:
            raise ValueError("the batch has no targets; fit/evaluate need (x, y) batches")
        if sample_weight is None:
            return self._loss_fn(y_pred, y)
        from ember.models.weighting import weighted_loss

        return weighted_loss(self._loss_fn, y_pred, y, sample_weight)

    def _loss_of(self, y_pred, y, sample_weight) -> Tensor:
        # the keyword only when there are weights: overrides written as compute_loss(y_pred, y)
        # keep working on unweighted data
        if sample_weight is None:
            return self.compute_loss(y_pred, y)
        return self.compute_loss(y_pred, y, sample_weight=sample_weight)

    def update_metrics(self, y_pred, y) -> dict[str, Any]:
        """Feed one batch to every compiled metric; returns their running results.

        Under a binary Keras cross-entropy whose model outputs logits (no final ``Sigmoid``),
        the metrics get ``sigmoid(y_pred)``: Keras' metrics read probabilities.
        """
        loss = self.__dict__.get("_loss_fn")
        if getattr(loss, "binary", False) and getattr(loss, "output_kind", None) == "logits":
            from ember.nn import functional as F

            y_pred = F.sigmoid(y_pred)
        for m in self.compiled_metrics:
            m.update(y_pred, y)
        return self.metric_results()

    def metric_results(self) -> dict[str, Any]:
        """``{name: result}`` of every compiled metric."""
        return {m.name: m.result() for m in self.compiled_metrics}

    def reset_metrics(self) -> None:
        """Reset every compiled metric (``fit`` does this at the start of each epoch)."""
        for m in self.compiled_metrics:
            m.reset()

    def train_step(self, batch) -> dict[str, Any]:
        """One optimisation step on ``batch``; returns the logs (``{"loss": ..., metrics}``).

        ``batch`` is ``(x, y)``, or ``(x, y, sample_weight)`` when ``fit`` was given weights
        (:meth:`unpack_x_y_sample_weight` splits both). The default: forward, (weighted) loss,
        backward, optimizer step, zero the gradients, update the metrics (unweighted). Override
        it for custom training logic (GANs, gradient accumulation, extra losses ...); return a
        dict whose values are numbers or one-element tensors. ``fit`` averages the returned
        values over the epoch's samples, except the compiled metrics' names, whose values are
        taken as the running results they are.
        """
        x, y, sample_weight = self.unpack_x_y_sample_weight(batch)
        y_pred = self(x)
        loss = self._loss_of(y_pred, y, sample_weight)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        logs = {"loss": loss.detach()}
        logs.update(self.update_metrics(y_pred.detach(), y))
        return logs

    def test_step(self, batch) -> dict[str, Any]:
        """Loss and metrics on ``batch`` without training (runs under ``no_grad``, eval mode)."""
        x, y, sample_weight = self.unpack_x_y_sample_weight(batch)
        if getattr(self.__dict__.get("_loss_fn"), "output_kind", "") is None:
            # a Keras cross-entropy that has not yet seen what makes the output: record this
            # forward pass so that its last op (softmax, sigmoid or other) can be read
            with enable_grad():
                y_pred = self(x)
        else:
            y_pred = self(x)
        loss = self._loss_of(y_pred, y, sample_weight)
        logs = {"loss": loss.detach() if isinstance(loss, Tensor) else loss}
        logs.update(self.update_metrics(y_pred, y))
        return logs

    def predict_step(self, batch) -> Any:
        """The model's output on a batch's inputs (under ``no_grad``, eval mode)."""
        x, _, _ = self.unpack_x_y_sample_weight(batch)
        return self(x)

    # ----------------------------------------------------------------------------- loops

    # ------------------------------------------------------------------------------ others

    def summary(self, input_shape: tuple | int | None = None, x: Any = None, dtype: Any = None,
                print_fn: Callable[[str], Any] | None = print) -> str:
        """Print and return a table of the layers, their output shapes and parameter counts.

        Output shapes come from a forward pass (forward hooks) on a batch of two samples: ``x``
        (real data), zeros of ``input_shape`` (one sample's shape, without the batch), or,
        after ``fit``, the shape of the data it was trained on. The batch dimension is shown as
        ``None``. Param # counts each layer's own parameters, so the column sums to the total.
        """
        from ember.models.summary import summarize

        text = summarize(self, input_shape, x, dtype)
        if print_fn is not None:
            print_fn(text)
        return text
