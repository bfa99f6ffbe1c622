"""``DistributedDataParallel``: one model replica per process, gradients averaged across them.

How the averaging works (the part ``Model.fit`` reuses through :class:`Reducer`):

* The trainable parameters are grouped into **buckets** of at most ``bucket_cap_mb`` (one dtype
  and device per bucket), in reverse registration order: backward produces the last layers'
  gradients first, so the first buckets fill first.
* Each bucket owns one flat, contiguous array with a slot per parameter. A gradient hook on
  every parameter writes that parameter's gradient (plus any gradient accumulated earlier, e.g.
  under ``no_sync``) into its slot and marks it ready. When a bucket is complete, it is averaged
  across ranks with **one** all-reduce, and the averaged values are copied into the ``.grad`` of
  its parameters. Buckets are reduced strictly in index order, so every rank issues the same
  sequence of collectives whatever order its hooks fire in.
* ember's autograd runs a leaf's hooks just before the gradient is stored in ``.grad``; the hook
  returns the slot, so the parameter that completes a bucket receives the averaged value
  directly, and the others get it copied in when their bucket is reduced.

Collectives are blocking (MPI) or queued on the current CUDA stream (NCCL), so there is no
overlap of communication with the rest of backward on CPU; bucketing still turns hundreds of
small messages into a few large ones, which is what matters for latency.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterable

import numpy as np

from ember.backend import get_array_module
from ember.nn.modules.module import Module
from ember.tensor import Tensor


class _Bucket:
    """Parameters whose gradients travel together in one flat array."""

    __slots__ = ("params", "offsets", "numel", "flat", "pending")

    def __init__(self):
        self.params: list = []
        self.offsets: list[int] = []
        self.numel = 0
        self.flat = None
        self.pending = 0

    def add(self, p) -> None:
        self.params.append(p)
        self.offsets.append(self.numel)
        self.numel += p.numel()

    def view(self, i: int):
        p = self.params[i]
        off = self.offsets[i]
        return self.flat[off: off + p.numel()].reshape(p.shape)

    def ensure_flat(self) -> None:
        """(Re)allocate the flat array where the parameters live now (after ``model.to``)."""
        p0 = self.params[0]._data
        f = self.flat
        if f is None or type(f) is not type(p0) or f.dtype != p0.dtype or (
                type(f) is not np.ndarray and f.device != p0.device):
            xp = get_array_module(p0)
            if xp is np:
                self.flat = np.empty(self.numel, dtype=p0.dtype)
            else:
                with p0.device:
                    self.flat = xp.empty(self.numel, dtype=p0.dtype)


def _coalesced(tensors: Iterable[Tensor], fn) -> None:
    """Apply the in-place collective ``fn(flat_tensor)`` to ``tensors`` grouped by dtype and
    device, one call per group, and copy the results back into the tensors' own arrays."""
    groups: dict[Any, list[Tensor]] = {}
    for t in tensors:
        a = t._data
        key = (type(a), a.dtype, getattr(a, "device", None) if type(a) is not np.ndarray else None)
        groups.setdefault(key, []).append(t)
    for ts in groups.values():
        xp = get_array_module(ts[0]._data)
        flat = xp.concatenate([t._data.reshape(-1) for t in ts])
        fn(Tensor._wrap(flat))
        off = 0
        for t in ts:
            n = t._data.size
            t._data[...] = flat[off: off + n].reshape(t._data.shape)
            off += n


def _reachable_leaves(output) -> set[int]:
    """ids of the leaf tensors the autograd graph of ``output`` leads back to."""
    stack, seen, leaves = [], set(), set()

    def push(obj):
        if isinstance(obj, Tensor):
            if obj._node is not None:
                stack.append(obj._node)
            elif obj.requires_grad:
                leaves.add(id(obj))
        elif isinstance(obj, dict):
            for v in obj.values():
                push(v)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                push(v)

    push(output)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for producer in node.inputs:
            if producer is None:
                continue
            if isinstance(producer, Tensor):
                leaves.add(id(producer))
            else:
                stack.append(producer)
    return leaves


class Reducer:
    """Averages a module's gradients across ranks in buckets; see the module docstring.

    Attached to ``module`` through gradient hooks on its parameters and forward hooks on the
    module itself, so it works whether the module is called through
    :class:`DistributedDataParallel` or directly (``Model.fit`` does the latter).
    """

    def __init__(self, module: Module, bucket_cap_mb: float = 25.0,
                 broadcast_buffers: bool = True, find_unused_parameters: bool = False):
        from ember import distributed as dist

        self.dist = dist
        self.module = module
        self.world_size = dist.get_world_size()
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_sync = True       # flipped by no_sync()
        self._round_sync = True        # require_sync as it was at the last forward
        self._in_round = False         # a backward has started reducing and not finished
        self._ready: set[int] = set()
        self._next = 0                 # the next bucket to all-reduce
        self._unused: list = []
        self.num_collectives = 0       # all-reduces issued for gradients (for tests/benchmarks)

        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self.names = {id(p): n for n, p in named}
        cap = max(1, int(bucket_cap_mb * 1024 * 1024))
        self.buckets: list[_Bucket] = []
        self.slot: dict[int, tuple[int, int]] = {}
        open_buckets: dict[Any, tuple[int, int]] = {}  # (dtype, device) -> (bucket index, bytes)
        for _, p in reversed(named):
            key = (p._data.dtype, str(p.device))
            idx, size = open_buckets.get(key, (None, 0))
            nbytes = p.numel() * p._data.itemsize
            if idx is None or (size + nbytes > cap and self.buckets[idx].params):
                self.buckets.append(_Bucket())
                idx, size = len(self.buckets) - 1, 0
            b = self.buckets[idx]
            self.slot[id(p)] = (idx, len(b.params))
            b.add(p)
            open_buckets[key] = (idx, size + nbytes)
        self._handles = [p.register_hook(self._hook_for(p)) for _, p in named]
        self._handles.append(module.register_forward_pre_hook(self._pre_forward))
        self._handles.append(module.register_forward_hook(self._post_forward))

    def __deepcopy__(self, memo):
        # A copy would carry hooks that feed the original replica's buckets; refuse clearly.
        raise TypeError(
            "a module attached to DistributedDataParallel cannot be deep-copied; copy it before "
            "wrapping, or build a new model and load ddp.module.state_dict() into it"
        )

    # ------------------------------------------------------------------ construction/teardown

    def sync_module_state(self) -> None:
        """Give every rank rank 0's parameters and buffers (one broadcast per dtype/device)."""
        if self.world_size == 1:
            return
        state = list(self.module.parameters()) + [b for b in self.module.buffers() if b is not None]
        _coalesced(state, lambda t: self.dist.broadcast(t, 0))

    def remove(self) -> None:
        """Unregister every hook (the module trains locally again)."""
        for h in self._handles:
            h.remove()
        self._handles = []

    # ---------------------------------------------------------------------------- forward

    def _pre_forward(self, module, args):
        from ember.autograd import is_grad_enabled

        if not is_grad_enabled():
            return None
        if self._in_round:
            missing = [self.names[id(p)] for b in self.buckets for p in b.params
                       if id(p) not in self._ready]
            self._in_round = False
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one: these parameters received no gradient in the last backward, so their "
                f"buckets were never averaged: {missing[:10]}{' ...' if len(missing) > 10 else ''}"
                ". Pass find_unused_parameters=True to DistributedDataParallel when some "
                "parameters are not used in every forward."
            )
        self._round_sync = self.require_sync
        if self.broadcast_buffers and self.world_size > 1 and self._round_sync and module.training:
            bufs = [b for b in module.buffers() if b is not None]
            if bufs:
                _coalesced(bufs, lambda t: self.dist.broadcast(t, 0))
        return None

    def _post_forward(self, module, args, output):
        from ember.autograd import is_grad_enabled

        if self.find_unused_parameters and self._round_sync and is_grad_enabled():
            used = _reachable_leaves(output)
            self._unused = [p for b in self.buckets for p in b.params if id(p) not in used]
        return None

    # --------------------------------------------------------------------------- backward

    def _hook_for(self, p):
        def hook(g):
            if not self._round_sync or self.world_size == 1:
                return g  # no_sync: accumulate locally, averaged at the next synced backward
            if not self._in_round:
                self._start_round()
            return self._mark_ready(p, g)

        return hook

    def _start_round(self) -> None:
        self._in_round = True
        self._ready = set()
        self._next = 0
        for b in self.buckets:
            b.ensure_flat()
            b.pending = len(b.params)
        unused, self._unused = self._unused, []
        for p in unused:
            # an unused parameter contributes its accumulated gradient, or zeros, to the average
            idx, i = self.slot[id(p)]
            b = self.buckets[idx]
            view = b.view(i)
            if p.grad is not None:
                view[...] = p.grad._data
            else:
                view[...] = 0
            self._ready.add(id(p))
            b.pending -= 1
        self._launch_ready()

    def _mark_ready(self, p, g):
        key = id(p)
        if key in self._ready:
            raise RuntimeError(
                f"parameter {self.names.get(key, '?')!r} received a gradient twice in one "
                "synchronised backward (reentrant backward, or a parameter used by "
                "find_unused_parameters bookkeeping after all); DistributedDataParallel "
                "averages each gradient once per iteration"
            )
        idx, i = self.slot[key]
        b = self.buckets[idx]
        view = b.view(i)
        garr = g._data
        if p.grad is not None:
            # add what was accumulated locally (no_sync steps) before averaging
            view[...] = garr + p.grad._data
            p.grad = None  # the engine stores the returned slot instead of adding to it
        else:
            view[...] = garr
        self._ready.add(key)
        b.pending -= 1
        if b.pending == 0:
            self._launch_ready()
        return Tensor._wrap(view)

    def _launch_ready(self) -> None:
        while self._next < len(self.buckets) and self.buckets[self._next].pending == 0:
            b = self.buckets[self._next]
            self.dist.all_reduce(Tensor._wrap(b.flat), self.dist.ReduceOp.AVG)
            self.num_collectives += 1
            for i, q in enumerate(b.params):
                if q.grad is not None:  # stored earlier this round: give it the average
                    q.grad._data[...] = b.view(i)
            self._next += 1
        if self._next == len(self.buckets):
            self._in_round = False


class DistributedDataParallel(Module):
    """Data parallelism over processes, with ``torch.nn.parallel.DistributedDataParallel``'s API.

    Every rank builds the same model and wraps it; the wrapper broadcasts rank 0's parameters
    and buffers so all replicas start equal, runs ``forward`` on the local batch, and averages
    the gradients across ranks during ``backward`` (bucketed all-reduces, see the module doc).
    An optimizer stepping on ``ddp.parameters()`` (or the inner module's) then makes the same
    update on every rank.

    Args:
        module: the model to replicate.
        device_ids, output_device, dim: accepted for PyTorch compatibility (one device per
            process; put the model there before wrapping).
        broadcast_buffers: copy rank 0's buffers (BatchNorm running statistics) to every rank
            at the start of each training forward.
        process_group: must be ``None`` (the default group).
        bucket_cap_mb: the largest bucket, in MiB.
        find_unused_parameters: traverse each forward's graph to find parameters that will get
            no gradient, so their buckets are not waited for (costs a graph walk per step).
        gradient_as_bucket_view, static_graph: accepted, no effect.

    ``state_dict()`` keys carry a ``module.`` prefix, as in PyTorch (the inner model is the
    submodule ``module``); save ``ddp.module.state_dict()`` to load the weights into an
    unwrapped model.

    Gradients are not averaged through ``ember.autograd.grad`` calls that reach the parameters
    (PyTorch's DDP does not support those either); use ``loss.backward()``.
    """

    def __init__(self, module: Module, device_ids: list | None = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: float = 25.0, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False):
        super().__init__()
        from ember import distributed as dist

        if process_group is not None:
            raise ValueError("ember.distributed has a single process group; pass process_group=None")
        if not dist.is_initialized():
            raise RuntimeError(
                "DistributedDataParallel needs a process group: call "
                "ember.distributed.init_process_group() first (and launch with mpiexec -n N)"
            )
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps an nn.Module, got {type(module).__name__}")
        if module.__dict__.get("_ddp_reducer") is not None:
            raise RuntimeError("this module is already wrapped by DistributedDataParallel")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = bucket_cap_mb
        self.find_unused_parameters = find_unused_parameters
        reducer = Reducer(module, bucket_cap_mb, broadcast_buffers, find_unused_parameters)
        reducer.sync_module_state()
        self.__dict__["reducer"] = reducer
        module.__dict__["_ddp_reducer"] = reducer

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    @contextmanager
    def no_sync(self):
        """Skip the gradient averaging for backward passes of forwards run inside the block.

        Gradients accumulate locally; the first backward after the block averages the sum::

            with ddp.no_sync():
                for x, y in micro_batches[:-1]:
                    loss_fn(ddp(x), y).backward()
            loss_fn(ddp(xs[-1]), ys[-1]).backward()   # averages everything accumulated
        """
        reducer = self.__dict__["reducer"]
        previous = reducer.require_sync
        reducer.require_sync = False
        try:
            yield
        finally:
            reducer.require_sync = previous

    def extra_repr(self) -> str:
        r = self.__dict__["reducer"]
        return f"world_size={r.world_size}, buckets={len(r.buckets)}"
