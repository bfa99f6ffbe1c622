"""``ember.distributed``: collectives between processes, with ``torch.distributed``'s names.

Processes are started by an MPI launcher (``mpiexec -n 4 python train.py``); the rank and world
size come from MPI's ``COMM_WORLD``, so there is no rendezvous address to configure. Two
backends carry the data:

* ``"mpi"``: NumPy arrays go straight to MPI; CuPy arrays are staged through host memory (or
  handed to MPI directly when ``EMBER_MPI_CUDA_AWARE=1`` says the MPI library is CUDA-aware).
* ``"nccl"``: CuPy arrays use NCCL (``cupy.cuda.nccl``) on the current CUDA stream; MPI is still
  used to start up (to share NCCL's unique id) and for CPU tensors and Python objects.

Every collective works in place on the tensor's array (``t._data``) and records no autograd
history, as in PyTorch. mpi4py (and CuPy for NCCL) are imported only when a process group is
created: ``pip install -e ".[mpi]"`` from a checkout.

A rank that leaves ends the whole job instead of leaving the others blocked in a collective,
with a message naming the rank and what happened: an uncaught exception, ``sys.exit()``,
Ctrl-C, or an abrupt end (``os._exit``, SIGKILL). A collective that waits longer than
``timeout`` (default 1800 s) aborts the job as a last resort; see :func:`init_process_group`
and docs/distributed.md.
"""

from ember.distributed.process_group import (  # noqa: F401
    ReduceOp,
    all_gather,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object_list,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    reduce,
)

__all__ = [
    "ReduceOp", "init_process_group", "destroy_process_group", "is_available", "is_initialized",
    "is_mpi_available", "is_nccl_available", "get_backend", "get_rank", "get_world_size",
    "barrier", "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_object",
    "broadcast_object_list",
]
