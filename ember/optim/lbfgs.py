"""L-BFGS (Nocedal): a quasi-Newton method that needs a closure re-evaluating the loss, with an
optional strong-Wolfe line search, following PyTorch's ``LBFGS`` step for step."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ember.backend import get_array_module
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor


def _raw(value):
    """The arrays inside state buffers (a Tensor or a list of them)."""
    if isinstance(value, list):
        return [v._data for v in value]
    return value._data if isinstance(value, Tensor) else value


def _wrapped(value):
    if isinstance(value, list):
        return [Tensor._wrap(v) for v in value]
    return Tensor._wrap(value) if value is not None else None


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to ``bounds``
    (the interval between the points by default); the midpoint when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square ** 0.5
        if x1 <= x2:
            pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(pos, lo), hi)
    return (lo + hi) / 2.0


def _strong_wolfe(evaluate, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Find a step ``t`` along ``d`` meeting the strong Wolfe conditions (bracketing, then zoom by
    cubic interpolation). ``evaluate(x, t, d)`` returns the loss and flat gradient at ``x + t d``.
    Returns ``(loss, flat_grad, t, evaluations)``."""
    xp = get_array_module(d)
    d_norm = float(xp.abs(d).max())
    g = g.copy()
    f_new, g_new = evaluate(x, t, d)
    evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    bracket_gtd = None
    # bracketing phase: grow t until an interval is known to hold a point meeting the conditions
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        previous = t
        t = _cubic_minimum(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                           bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = previous, f_new, g_new.copy(), gtd_new
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase: shrink the bracket until the conditions hold
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(bracket[0], bracket_f[0], bracket_gtd[0],
                           bracket[1], bracket_f[1], bracket_gtd[1])
        # keep away from the bracket's ends, where interpolation makes little progress
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) \
                    else min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(x, t, d)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new.copy(), gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new.copy(), gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS(Optimizer):
    """L-BFGS with PyTorch's arguments and iteration; ``step(closure)`` runs up to ``max_iter``
    iterations, each re-evaluating the loss through ``closure`` (which must zero the gradients,
    compute the loss, call ``backward`` and return the loss).

    ``line_search_fn="strong_wolfe"`` picks each step length by a strong-Wolfe line search;
    without it the step is ``lr`` (the first one scaled by ``1 / sum|g|``). Only one parameter
    group is supported, as in PyTorch. The state (history of steps and gradient changes) lives
    in ``optimizer.state`` under the first parameter.
    """

    def __init__(self, params: Iterable, lr: float = 1.0, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr} (must be >= 0)")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # the parameters seen as one flat vector
    def _flat_grad(self):
        parts = []
        for p in self._params:
            xp = get_array_module(p._data)
            if p.grad is None:
                parts.append(xp.zeros(p._data.size, dtype=p._data.dtype))
            else:
                parts.append(p.grad._data.reshape(-1))
        return xp.concatenate(parts)

    def _add_to_params(self, step_size, direction) -> None:
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += (direction[offset:offset + n] * step_size).reshape(p._data.shape) \
                .astype(p._data.dtype, copy=False)
            p._version += 1
            offset += n

    def _copy_params(self):
        return [p._data.copy() for p in self._params]

    def _restore_params(self, saved) -> None:
        for p, data in zip(self._params, saved):
            p._data[...] = data
            p._version += 1

    def _evaluate_at(self, closure, x, t, d):
        self._add_to_params(t, d)
        loss = float(closure())
        flat_grad = self._flat_grad()
        self._restore_params(x)
        return loss, flat_grad

    def step(self, closure: Callable[[], Any]):  # type: ignore[override]
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss first computed by
        ``closure``."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the model and returns "
                               "the loss")
        from ember.autograd import no_grad

        group = self.param_groups[0]
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self._state_for(self._params[0])
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        def evaluate():
            return self._eval_closure(closure)

        with no_grad():
            orig_loss = evaluate()
            loss = float(orig_loss)
            current_evals = 1
            state["func_evals"] += 1
            flat_grad = self._flat_grad()
            xp = get_array_module(flat_grad)
            if float(xp.abs(flat_grad).max()) <= tolerance_grad:
                return orig_loss
            d, t = _raw(state.get("d")), state.get("t")
            old_dirs, old_steps = _raw(state.get("old_dirs")), _raw(state.get("old_stps"))
            ro, h_diag = state.get("ro"), state.get("H_diag")
            prev_flat_grad, prev_loss = _raw(state.get("prev_flat_grad")), state.get("prev_loss")
            n_iter = 0
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1
                if state["n_iter"] == 1:
                    d = -flat_grad
                    old_dirs, old_steps, ro = [], [], []
                    h_diag = 1
                else:
                    y = flat_grad - prev_flat_grad
                    s = d * t
                    ys = y @ s
                    if ys > 1e-10:  # a curvature pair is kept only when it is positive
                        if len(old_dirs) == history_size:
                            old_dirs.pop(0)
                            old_steps.pop(0)
                            ro.pop(0)
                        old_dirs.append(y)
                        old_steps.append(s)
                        ro.append(1.0 / ys)
                        h_diag = ys / (y @ y)
                    # two-loop recursion: d = -H g with the inverse Hessian estimate H
                    alphas = [None] * len(old_dirs)
                    q = -flat_grad
                    for i in range(len(old_dirs) - 1, -1, -1):
                        alphas[i] = (old_steps[i] @ q) * ro[i]
                        q = q - old_dirs[i] * alphas[i]
                    d = r = q * h_diag
                    for i in range(len(old_dirs)):
                        beta = (old_dirs[i] @ r) * ro[i]
                        r += old_steps[i] * (alphas[i] - beta)
                prev_flat_grad = flat_grad.copy()
                prev_loss = loss
                if state["n_iter"] == 1:
                    t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr
                else:
                    t = lr
                gtd = flat_grad @ d
                if gtd > -tolerance_change:
                    break
                evals = 0
                if group["line_search_fn"] is not None:
                    start = self._copy_params()
                    loss, flat_grad, t, evals = _strong_wolfe(
                        lambda x, step, direction: self._evaluate_at(evaluate, x, step, direction),
                        start, t, d, loss, flat_grad, float(gtd), max_ls=max_eval - current_evals)
                    self._add_to_params(t, d)
                    converged = float(xp.abs(flat_grad).max()) <= tolerance_grad
                else:
                    self._add_to_params(t, d)
                    converged = False
                    if n_iter != max_iter:
                        loss = float(evaluate())
                        flat_grad = self._flat_grad()
                        converged = float(xp.abs(flat_grad).max()) <= tolerance_grad
                        evals = 1
                current_evals += evals
                state["func_evals"] += evals
                if n_iter == max_iter or current_evals >= max_eval or converged:
                    break
                if float(xp.abs(d * t).max()) <= tolerance_change:
                    break
                if abs(loss - prev_loss) < tolerance_change:
                    break
            # kept as Tensors and Python numbers, so state_dict() saves like any optimizer's
            state.update(d=_wrapped(d), t=float(t), old_dirs=_wrapped(old_dirs),
                         old_stps=_wrapped(old_steps), ro=[float(r) for r in ro],
                         H_diag=float(h_diag), prev_flat_grad=_wrapped(prev_flat_grad),
                         prev_loss=prev_loss)
        return orig_loss
