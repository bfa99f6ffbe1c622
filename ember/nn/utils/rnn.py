"""Variable-length sequences for the recurrent layers, as ``torch.nn.utils.rnn``: padding a list
of sequences into one tensor, and packing a padded batch into a :class:`PackedSequence` (the
time-major concatenation of the sequences still running at each step) that ``RNN``, ``LSTM`` and
``GRU`` take, so padded steps are never computed."""

from __future__ import annotations

from collections import namedtuple
from typing import Iterable, Sequence

import numpy as np

import ember.ops as _ops
from ember import backend, creation
from ember.tensor import Tensor


def _index(values, like: Tensor) -> Tensor:
    """An int64 index tensor on ``like``'s device."""
    arr = np.asarray(values, dtype=np.int64)
    return Tensor._wrap(backend.move_array(arr, like.device))


def _host_ints(values) -> np.ndarray:
    if isinstance(values, Tensor):
        return values.detach().cpu().numpy().astype(np.int64)
    return np.asarray(values, dtype=np.int64)


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of sequences packed time-major: ``data`` holds, for each step ``t``, the
    ``batch_sizes[t]`` sequences still running (longest first); ``sorted_indices`` maps the sorted
    order back to the caller's batch order (``None`` when the batch came sorted)."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """The same packing with ``data`` (and the index tensors) moved/cast as ``Tensor.to``."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        device = data.device
        sorted_indices = None if self.sorted_indices is None else self.sorted_indices.to(device)
        unsorted = None if self.unsorted_indices is None else self.unsorted_indices.to(device)
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self.to("cuda")

    def double(self) -> PackedSequence:
        return type(self)(self.data.double(), *self[1:])

    def float(self) -> PackedSequence:
        return type(self)(self.data.float(), *self[1:])

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False


def _invert_permutation(perm: Tensor | None) -> Tensor | None:
    if perm is None:
        return None
    p = _host_ints(perm)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size)
    return _index(inv, perm)


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with
    ``batch_first``), filling the tail (``padding_side='left'``: the head) with
    ``padding_value``."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences:
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(f"pad_sequence: every sequence must have the trailing shape "
                               f"{trailing} of the first, got {tuple(s.shape)}")
    max_len = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        extra = max_len - s.shape[0]
        if extra:
            fill = creation.full((extra, *trailing), padding_value, dtype=s.dtype,
                                 device=s.device)
            s = _ops.cat([s, fill] if padding_side == "right" else [fill, s], 0)
        rows.append(s)
    return _ops.stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False) -> list:
    """The list of sequences ``pad_sequence`` was given, cut back to ``lengths``."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(_host_ints(lengths))]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) whose sequence ``b``
    has ``lengths[b]`` valid steps. ``enforce_sorted=False`` accepts lengths in any order (the
    batch is sorted internally and unsorted again by ``pad_packed_sequence`` and the layers)."""
    lens = _host_ints(lengths).reshape(-1)
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2 or lens.size != input.shape[batch_dim]:
        raise ValueError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                         f"{lens.size} (batch_size={input.shape[batch_dim] if input.ndim > 1 else 0})")
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = _index(order, input)
        input = input.index_select(batch_dim, sorted_indices)
    if lens.size and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    if batch_first:
        input = input.transpose(0, 1)
    max_len = int(lens[0]) if lens.size else 0
    if max_len > input.shape[0]:
        raise RuntimeError(f"pack_padded_sequence: a length {max_len} is longer than the "
                           f"{input.shape[0]} steps of the padded input")
    batch_sizes = np.array([(lens > t).sum() for t in range(max_len)], dtype=np.int64)
    data = _ops.cat([input[t, :int(n)] for t, n in enumerate(batch_sizes)], 0)
    return PackedSequence(data, creation.tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Undo :func:`pack_padded_sequence`: ``(padded, lengths)`` with the padded batch in the
    caller's original order and ``lengths`` an int64 tensor."""
    data, sizes = sequence.data, _host_ints(sequence.batch_sizes)
    max_len = sizes.size
    if total_length is not None:
        if total_length < max_len:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {max_len}")
    steps = total_length if total_length is not None else max_len
    batch = int(sizes[0]) if sizes.size else 0
    trailing = tuple(data.shape[1:])
    rows, start = [], 0
    for n in sizes:
        n = int(n)
        step = data[start:start + n]
        start += n
        if n < batch:
            fill = creation.full((batch - n, *trailing), padding_value, dtype=data.dtype,
                                 device=data.device)
            step = _ops.cat([step, fill], 0)
        rows.append(step)
    for _ in range(steps - max_len):
        rows.append(creation.full((batch, *trailing), padding_value, dtype=data.dtype,
                                  device=data.device))
    padded = _ops.stack(rows, 0)
    lengths = np.array([(sizes > b).sum() for b in range(batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices
        padded = padded.index_select(1, unsorted)
        lengths = lengths[_host_ints(unsorted)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, creation.tensor(lengths)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)`` (longest first unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences :func:`pack_sequence` was given."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def _packed_steps(sizes: Iterable[int]):
    """``(start, size)`` of each step's rows in a packed ``data``."""
    start = 0
    for n in sizes:
        yield start, int(n)
        start += int(n)


__all__ = ["PackedSequence", "pad_sequence", "unpad_sequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpack_sequence"]
