"""ember.utils.data: datasets, samplers, DataLoader and collate, checked against PyTorch where the
result is deterministic, and for reproducibility where it is random."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
from ember.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)

RNG = np.random.default_rng(0)
XS = RNG.standard_normal((23, 3)).astype(np.float32)
YS = RNG.integers(0, 4, size=23).astype(np.int64)


def _np(t):
    return t.numpy() if isinstance(t, torch.Tensor) else np.asarray(t._data)


def _pairs():
    e = TensorDataset(ember.tensor(XS), ember.tensor(YS))
    t = tud.TensorDataset(torch.tensor(XS), torch.tensor(YS))
    return e, t


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (5, False), (5, True), (23, True),
                                                  (50, False)])
def test_sequential_batches_match_torch(batch_size, drop_last):
    e, t = _pairs()
    eb = list(DataLoader(e, batch_size=batch_size, drop_last=drop_last))
    tb = list(tud.DataLoader(t, batch_size=batch_size, drop_last=drop_last))
    assert len(eb) == len(tb) == len(DataLoader(e, batch_size=batch_size, drop_last=drop_last))
    for (ex, ey), (tx, ty) in zip(eb, tb):
        assert ex.dtype == ember.float32 and ey.dtype == ember.int64
        np.testing.assert_array_equal(_np(ex), _np(tx))
        np.testing.assert_array_equal(_np(ey), _np(ty))


def test_tensor_dataset_indexing_and_size_error():
    e, _ = _pairs()
    x, y = e[4]
    np.testing.assert_array_equal(x.numpy(), XS[4])
    assert int(y) == YS[4] and y.shape == () and len(e) == 23
    with pytest.raises(ValueError, match=r"\[23, 22\]"):
        TensorDataset(ember.tensor(XS), ember.tensor(YS[:-1]))
    # NumPy arrays are accepted
    assert len(TensorDataset(XS, YS)) == 23


class Samples(Dataset):
    """A dataset with a per-sample Python __getitem__ (no fast path)."""

    def __init__(self, n=11):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full((2, 2), i, np.float64), "n": i, "f": i / 2, "b": i % 2 == 0,
                "s": f"s{i}", "pair": (np.int16(i), [i, -i])}


def test_default_collate_structures_and_dtypes():
    batch = next(iter(DataLoader(Samples(), batch_size=4)))
    tbatch = next(iter(tud.DataLoader([Samples()[i] for i in range(4)], batch_size=4)))
    assert batch["x"].dtype == ember.float64 and batch["x"].shape == (4, 2, 2)
    np.testing.assert_array_equal(_np(batch["x"]), _np(tbatch["x"]))
    assert batch["n"].dtype == ember.int64
    np.testing.assert_array_equal(_np(batch["n"]), _np(tbatch["n"]))
    assert batch["f"].dtype == ember.float32  # Python floats get ember's default float dtype
    np.testing.assert_allclose(_np(batch["f"]), _np(tbatch["f"]))
    assert batch["b"].dtype == ember.bool
    np.testing.assert_array_equal(_np(batch["b"]), _np(tbatch["b"]))
    assert batch["s"] == tbatch["s"] == ["s0", "s1", "s2", "s3"]
    assert isinstance(batch["pair"], list) and batch["pair"][0].dtype == ember.int16
    np.testing.assert_array_equal(_np(batch["pair"][1][1]), _np(tbatch["pair"][1][1]))
    Point = collections.namedtuple("Point", "a b")
    out = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(out, Point) and out.a.tolist() == [1, 3]
    with pytest.raises(RuntimeError, match=r"equal size.*\[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([ember.zeros(2), ember.zeros(3)])
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object(), object()])


def test_custom_collate_and_no_batching():
    e, _ = _pairs()
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return len(samples)

    assert list(DataLoader(e, batch_size=10, collate_fn=collate)) == [10, 10, 3]
    assert seen == [10, 10, 3]
    single = list(DataLoader(Samples(3), batch_size=None))
    assert len(single) == 3 and isinstance(single[1]["x"], ember.Tensor)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(e, batch_size=None, drop_last=True)


def _epoch(loader):
    return [(_np(x).copy(), _np(y).copy()) for x, y in loader]


def test_shuffle_is_reproducible_with_manual_seed_and_generator():
    e, _ = _pairs()
    ember.manual_seed(123)
    a = _epoch(DataLoader(e, batch_size=4, shuffle=True))
    ember.manual_seed(123)
    b = _epoch(DataLoader(e, batch_size=4, shuffle=True))
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    # a permutation of all samples, not the sequential order
    xs = np.concatenate([x for x, _ in a])
    assert not np.array_equal(xs, XS)
    np.testing.assert_array_equal(np.sort(xs, axis=0), np.sort(XS, axis=0))
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    l1 = DataLoader(e, batch_size=5, shuffle=True, generator=g1)
    l2 = DataLoader(e, batch_size=5, shuffle=True, generator=g2)
    e1, e2 = _epoch(l1), _epoch(l2)
    for (xa, _), (xb, _) in zip(e1, e2):
        np.testing.assert_array_equal(xa, xb)
    # a second epoch is a different order
    again = np.concatenate([x for x, _ in _epoch(l1)])
    assert not np.array_equal(again, np.concatenate([x for x, _ in e1]))


def test_fast_path_equals_per_sample_path():
    e, _ = _pairs()
    sub = Subset(e, [5, 3, 22, 0, 9, 9])
    fast = list(DataLoader(sub, batch_size=4))
    slow = list(DataLoader(sub, batch_size=4, collate_fn=lambda s: default_collate(s)))
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(_np(fx), _np(sx))
        np.testing.assert_array_equal(_np(fy), _np(sy))
    np.testing.assert_array_equal(_np(fast[0][0]), XS[[5, 3, 22, 0]])


def test_samplers():
    e, _ = _pairs()
    assert list(SequentialSampler(e)) == list(range(23))
    g = ember.Generator().manual_seed(0)
    perm = list(RandomSampler(e, generator=g))
    assert sorted(perm) == list(range(23)) and perm != list(range(23))
    long = list(RandomSampler(e, num_samples=50, generator=g))
    assert len(long) == 50 and sorted(long[:23]) == list(range(23))
    rep = list(RandomSampler(e, replacement=True, num_samples=100, generator=g))
    assert len(rep) == 100 and max(rep) < 23
    # with replacement means repeats: 23 distinct draws out of 23 has probability 23!/23**23 ~ 1e-9
    rep23 = list(RandomSampler(e, replacement=True, num_samples=23, generator=g))
    assert len(rep23) == 23 and len(set(rep23)) < 23
    sub = list(SubsetRandomSampler([3, 5, 7, 9], generator=g))
    assert sorted(sub) == [3, 5, 7, 9]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=g))
    assert set(w) <= {1, 3} and w.count(3) > w.count(1)
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([0.0, 1.0], 2, replacement=False)
    bs = BatchSampler(SequentialSampler(range(10)), 4, drop_last=False)
    assert list(bs) == list(tud.BatchSampler(tud.SequentialSampler(range(10)), 4, False))
    assert len(bs) == 3 and len(BatchSampler(range(10), 4, True)) == 2
    assert list(BatchSampler(range(10), 4, True)) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="batch_size"):
        BatchSampler(range(3), 0, False)
    loader = DataLoader(e, batch_sampler=BatchSampler(range(23), 10, False))
    assert [len(x) for x, _ in loader] == [10, 10, 3]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(e, batch_size=4, batch_sampler=BatchSampler(range(23), 10, False))
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(e, sampler=SequentialSampler(e), shuffle=True)
    ordered = DataLoader(e, batch_size=23, sampler=SubsetRandomSampler([1, 2], generator=g))
    assert sorted(_np(next(iter(ordered))[1]).tolist()) == sorted(YS[[1, 2]].tolist())


def test_num_workers_loads_the_same_batches():
    e, _ = _pairs()
    loader = DataLoader(e, batch_size=8, num_workers=2, pin_memory=True)
    plain = DataLoader(e, batch_size=8)
    assert [b[1].tolist() for b in loader] == [b[1].tolist() for b in plain]
    assert len(list(loader)) == 3


class _FailsAt(Dataset):
    """Samples 0..9; reading ``bad`` raises (a corrupt file, say)."""

    def __init__(self, bad):
        self.bad = bad

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == self.bad:
            raise ValueError(f"corrupt sample {i}")
        return np.float32(i)


class _TorchFailsAt(tud.Dataset):
    __len__ = _FailsAt.__len__
    __getitem__ = _FailsAt.__getitem__

    def __init__(self, bad):
        self.bad = bad


def _batches_skipping_errors(loader):
    it, out = iter(loader), []
    while len(out) < 20:
        try:
            out.append(_np(next(it)).tolist())
        except StopIteration:
            return out
        except ValueError:
            out.append("error")
    raise AssertionError("the iterator never ended")


@pytest.mark.parametrize("batch_size", [3, None])
def test_iteration_goes_on_after_a_failing_batch(batch_size):
    # as in PyTorch (and with num_workers > 0), a batch that raises is skipped by a caller that
    # catches the error; the epoch must not end silently there
    expected = _batches_skipping_errors(tud.DataLoader(_TorchFailsAt(4), batch_size=batch_size))
    assert "error" in expected and len(expected) == (4 if batch_size else 10)
    for workers in (0, 2):
        loader = DataLoader(_FailsAt(4), batch_size=batch_size, num_workers=workers)
        assert _batches_skipping_errors(loader) == expected


def test_random_split_sizes_and_determinism():
    e, t = _pairs()
    for lengths in ([10, 13], [0.5, 0.5], [0.3, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]):
        parts = random_split(e, lengths, generator=ember.Generator().manual_seed(1))
        tparts = tud.random_split(t, lengths, generator=torch.Generator().manual_seed(1))
        assert [len(p) for p in parts] == [len(p) for p in tparts]
        allidx = sorted(i for p in parts for i in p.indices)
        assert allidx == list(range(23))
    a = random_split(e, [0.8, 0.2], generator=ember.Generator().manual_seed(5))
    b = random_split(e, [0.8, 0.2], generator=ember.Generator().manual_seed(5))
    assert a[0].indices == b[0].indices
    ember.manual_seed(3)
    c = random_split(e, [20, 3])
    ember.manual_seed(3)
    d = random_split(e, [20, 3])
    assert c[1].indices == d[1].indices
    x, y = a[1][0]
    np.testing.assert_array_equal(x.numpy(), XS[a[1].indices[0]])
    with pytest.raises(ValueError, match=r"Sum of input lengths \(22\).*\(23\)"):
        random_split(e, [10, 12])


def test_concat_and_iterable_datasets():
    e, _ = _pairs()
    cat = ConcatDataset([e, Subset(e, [0, 1])])
    assert len(cat) == 25
    np.testing.assert_array_equal(cat[23][0].numpy(), XS[0])
    np.testing.assert_array_equal(cat[-1][0].numpy(), XS[1])
    with pytest.raises(IndexError, match="out of range"):
        cat[25]
    assert len(e + e) == 46

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(list(DataLoader(Stream(), batch_size=3, drop_last=True))) == 2
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(Stream(), shuffle=True)
