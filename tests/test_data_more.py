"""ember.utils.data against torch.utils.data: StackDataset and ChainDataset give torch's samples
and batches on the same data; the samplers' index streams equal torch's exactly where torch's are
deterministic and equal in law where they are random (counts against the exact law, for both
frameworks); random_split's sizes are torch's."""

from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
import ember.utils.data as eud
from ember.utils.data import (
    BatchSampler,
    ChainDataset,
    DataLoader,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    get_worker_info,
    random_split,
)

RNG = np.random.default_rng(0)
XS = RNG.standard_normal((11, 3)).astype(np.float32)
YS = RNG.integers(0, 4, size=11).astype(np.int64)
ZS = RNG.standard_normal((11, 2, 2)).astype(np.float64)


def _plain(x):
    """A nested structure of tensors turned into NumPy arrays and plain containers."""
    if isinstance(x, torch.Tensor):
        return ("tensor", str(x.dtype).replace("torch.", ""), x.numpy().tolist())
    if isinstance(x, ember.Tensor):
        return ("tensor", str(x.dtype).replace("ember.", ""), x.numpy().tolist())
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_plain(v) for v in x])
    return x


class ListDataset:
    """A map-style dataset that is a plain list of samples, the same object for both frameworks."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


class Counted(ListDataset):
    """A dataset with ``__getitems__`` that records how it was asked."""

    def __init__(self, items):
        super().__init__(items)
        self.calls = []

    def __getitems__(self, indices):
        self.calls.append(list(indices))
        return [self.items[i] for i in indices]


def _tensor_pair(framework):
    if framework is torch:
        return tud.TensorDataset(torch.tensor(XS), torch.tensor(YS)), tud.TensorDataset(torch.tensor(ZS))
    return TensorDataset(ember.tensor(XS), ember.tensor(YS)), TensorDataset(ember.tensor(ZS))


# --- StackDataset ------------------------------------------------------------------------------

def test_stack_dataset_samples_equal_torch():
    (e_xy, e_z), (t_xy, t_z) = _tensor_pair(ember), _tensor_pair(torch)
    words = ListDataset([f"w{i}" for i in range(11)])
    ours, theirs = StackDataset(e_xy, e_z, words), tud.StackDataset(t_xy, t_z, words)
    assert len(ours) == len(theirs) == 11
    for i in (0, 5, 10, -1):
        assert _plain(ours[i]) == _plain(theirs[i])
    ours, theirs = StackDataset(xy=e_xy, z=e_z, w=words), tud.StackDataset(xy=t_xy, z=t_z, w=words)
    assert len(ours) == 11 and isinstance(ours[3], dict) and list(ours[3]) == ["xy", "z", "w"]
    for i in (0, 7):
        assert _plain(ours[i]) == _plain(theirs[i])
    assert _plain(ours.__getitems__([4, 1, 4])) == _plain(theirs.__getitems__([4, 1, 4]))


def test_stack_dataset_getitems_uses_the_members_getitems():
    ours_member, theirs_member = Counted(list(range(11))), Counted(list(range(11)))
    plain = ListDataset([i * 10 for i in range(11)])
    ours = StackDataset(ours_member, plain).__getitems__([2, 9])
    theirs = tud.StackDataset(theirs_member, plain).__getitems__([2, 9])
    assert ours == theirs == [(2, 20), (9, 90)]
    assert ours_member.calls == theirs_member.calls == [[2, 9]]
    ours = StackDataset(a=ours_member, b=plain).__getitems__([3])
    assert ours == tud.StackDataset(a=theirs_member, b=plain).__getitems__([3]) == [{"a": 3, "b": 30}]

    class Short(Counted):
        def __getitems__(self, indices):
            return super().__getitems__(indices)[:-1]

    with pytest.raises(ValueError, match="output size mismatch.*returned 1 samples for 2"):
        StackDataset(Short(list(range(11))), plain).__getitems__([1, 2])


@pytest.mark.parametrize("batch_size,shuffle_free_drop_last", [(4, False), (4, True), (11, False)])
@pytest.mark.parametrize("as_dict", [False, True])
def test_stack_dataset_batches_equal_torch(batch_size, shuffle_free_drop_last, as_dict):
    (e_xy, e_z), (t_xy, t_z) = _tensor_pair(ember), _tensor_pair(torch)
    labels = ListDataset([int(i % 3) for i in range(11)])
    if as_dict:
        ours, theirs = StackDataset(xy=e_xy, z=e_z, n=labels), tud.StackDataset(xy=t_xy, z=t_z, n=labels)
    else:
        ours, theirs = StackDataset(e_xy, e_z, labels), tud.StackDataset(t_xy, t_z, labels)
    kw = dict(batch_size=batch_size, drop_last=shuffle_free_drop_last)
    want = [_plain(b) for b in tud.DataLoader(theirs, **kw)]
    assert [_plain(b) for b in DataLoader(ours, **kw)] == want
    # the members' batched fast path (all tensors) gives what sample-by-sample collation gives
    tensors_only = StackDataset(xy=e_xy, z=e_z) if as_dict else StackDataset(e_xy, e_z)
    t_tensors_only = tud.StackDataset(xy=t_xy, z=t_z) if as_dict else tud.StackDataset(t_xy, t_z)
    assert tensors_only._get_batch(np.arange(3)) is not None
    fast = [_plain(b) for b in DataLoader(tensors_only, **kw)]
    slow = [_plain(b) for b in DataLoader(tensors_only, collate_fn=lambda s: default_collate(s), **kw)]
    assert fast == slow == [_plain(b) for b in tud.DataLoader(t_tensors_only, **kw)]
    # and one member without a fast path sends the whole batch down the per-sample path
    assert StackDataset(e_xy, labels)._get_batch(np.arange(3)) is None


def test_stack_dataset_errors():
    with pytest.raises(ValueError, match="either positionally.*or by keyword"):
        StackDataset(ListDataset([1]), b=ListDataset([2]))
    with pytest.raises(ValueError, match="at least one dataset"):
        StackDataset()
    with pytest.raises(ValueError, match=r"Size mismatch between datasets.*#0: 2, #1: 3"):
        StackDataset(ListDataset([1, 2]), ListDataset([1, 2, 3]))
    with pytest.raises(ValueError, match=r"Size mismatch between datasets.*a: 1, b: 2"):
        StackDataset(a=ListDataset([1]), b=ListDataset([1, 2]))


# --- ChainDataset ------------------------------------------------------------------------------

def _streams(base):
    class Stream(base):
        def __init__(self, start, stop, sized=True):
            self.start, self.stop, self.sized = start, stop, sized

        def __iter__(self):
            return iter(range(self.start, self.stop))

        def __len__(self):
            if not self.sized:
                raise TypeError("this stream has no length")
            return self.stop - self.start

    return Stream


def test_chain_dataset_equals_torch():
    E, T = _streams(IterableDataset), _streams(tud.IterableDataset)
    ours = ChainDataset([E(0, 3), E(10, 12), E(5, 5), E(20, 24)])
    theirs = tud.ChainDataset([T(0, 3), T(10, 12), T(5, 5), T(20, 24)])
    assert list(ours) == list(theirs) == [0, 1, 2, 10, 11, 20, 21, 22, 23]
    assert list(ours) == list(theirs)  # a chain can be read again (each member is re-iterated)
    assert len(ours) == len(theirs) == 9
    assert isinstance(ours, IterableDataset)
    longer, t_longer = ours + E(30, 32), theirs + T(30, 32)
    assert isinstance(longer, ChainDataset) and list(longer) == list(t_longer)
    assert len(longer) == len(t_longer) == 11
    for kw in (dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=None)):
        assert [_plain(b) for b in DataLoader(ours, **kw)] == \
            [_plain(b) for b in tud.DataLoader(theirs, **kw)]
    assert len(DataLoader(ours, batch_size=4)) == len(tud.DataLoader(theirs, batch_size=4)) == 3


def test_chain_dataset_errors_are_lazy_like_torch():
    E = _streams(IterableDataset)
    chain = ChainDataset([E(0, 2), ListDataset([1, 2])])  # accepted until it is read
    it = iter(chain)
    assert [next(it), next(it)] == [0, 1]
    with pytest.raises(TypeError, match="ChainDataset only supports IterableDataset, got ListDataset"):
        next(it)
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        len(chain)
    with pytest.raises(TypeError, match="no length"):
        len(ChainDataset([E(0, 2, sized=False)]))
    with pytest.raises(TypeError, match="cannot be concatenated"):
        E(0, 1) + E(0, 1)


def test_chain_dataset_in_worker_threads():
    E = _streams(IterableDataset)

    class Sharded(E):
        """Each worker reads every num_workers-th item, the pattern PyTorch documents."""

        def __iter__(self):
            info = get_worker_info()
            items = list(super().__iter__())
            return iter(items if info is None else items[info.id::info.num_workers])

    chain = ChainDataset([Sharded(0, 7), Sharded(100, 105)])
    single = sorted(x for b in DataLoader(chain, batch_size=2) for x in b.tolist())
    threaded = sorted(x for b in DataLoader(chain, batch_size=2, num_workers=2) for x in b.tolist())
    assert single == threaded == list(range(7)) + list(range(100, 105))
    assert get_worker_info() is None


# --- samplers: exactly torch's where deterministic ------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 11])
def test_sequential_sampler_equals_torch(n):
    data = list(range(n))
    assert list(SequentialSampler(data)) == list(tud.SequentialSampler(data))
    assert len(SequentialSampler(data)) == len(tud.SequentialSampler(data))


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (11, True),
                                                  (12, False), (12, True)])
def test_batch_sampler_equals_torch(batch_size, drop_last):
    for ours_inner, theirs_inner in [(SequentialSampler(range(11)), tud.SequentialSampler(range(11))),
                                     ([5, 3, 9, 0, 1, 7, 2], [5, 3, 9, 0, 1, 7, 2])]:
        ours = BatchSampler(ours_inner, batch_size, drop_last)
        theirs = tud.BatchSampler(theirs_inner, batch_size, drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)


def test_sampler_length_and_argument_errors_as_torch():
    data = list(range(11))
    for kw in (dict(), dict(num_samples=30), dict(replacement=True, num_samples=4)):
        assert len(RandomSampler(data, **kw)) == len(tud.RandomSampler(data, **kw))
    assert len(SubsetRandomSampler([4, 2])) == len(tud.SubsetRandomSampler([4, 2])) == 2
    w = [1.0, 2.0, 0.5]
    assert len(WeightedRandomSampler(w, 7)) == len(tud.WeightedRandomSampler(w, 7)) == 7
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="num_samples should be a positive integer"):
            RandomSampler(data, num_samples=bad)
        with pytest.raises(ValueError, match="num_samples should be a positive integer"):
            WeightedRandomSampler(w, bad)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(data, replacement=1)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(data, 2, drop_last=None)


# --- samplers: equal in law where random ----------------------------------------------------

def _assert_counts_follow(counts: np.ndarray, probs: np.ndarray, sigmas: float = 5.0) -> None:
    """Each count within ``sigmas`` binomial standard deviations of its expectation."""
    total = counts.sum()
    expected = total * probs
    spread = np.sqrt(total * probs * (1 - probs)) + 1e-12
    worst = np.max(np.abs(counts - expected) / spread)
    assert worst < sigmas, f"a count is {worst:.1f} standard deviations off: {counts} vs {expected}"


def _position_value_counts(draws: list[list[int]], n: int) -> np.ndarray:
    counts = np.zeros((len(draws[0]), n))
    for draw in draws:
        counts[np.arange(len(draw)), draw] += 1
    return counts


def test_random_sampler_permutations_uniform_like_torch():
    n, epochs = 5, 3000
    data = list(range(n))
    ours_sampler = RandomSampler(data, generator=ember.Generator().manual_seed(0))
    theirs_sampler = tud.RandomSampler(data, generator=torch.Generator().manual_seed(0))
    ours = [list(ours_sampler) for _ in range(epochs)]
    theirs = [list(theirs_sampler) for _ in range(epochs)]
    for draws in (ours, theirs):
        assert all(sorted(d) == data for d in draws)
        # every value equally likely at every position, and the 120 orders equally likely
        for row in _position_value_counts(draws, n):
            _assert_counts_follow(row, np.full(n, 1 / n))
        orders = collections.Counter(tuple(d) for d in draws)
        _assert_counts_follow(np.array([orders[p] for p in sorted(orders)] + [0] * (120 - len(orders))),
                              np.full(120, 1 / 120))
    assert ours[0] != ours[1]  # a fresh permutation each epoch


def test_random_sampler_more_samples_than_data_like_torch():
    n, k = 4, 10
    ours = list(RandomSampler(range(n), num_samples=k, generator=ember.Generator().manual_seed(1)))
    theirs = list(tud.RandomSampler(range(n), num_samples=k, generator=torch.Generator().manual_seed(1)))
    for draw in (ours, theirs):  # whole permutations first, then the start of another
        assert len(draw) == k
        assert sorted(draw[0:4]) == sorted(draw[4:8]) == list(range(n))
        assert len(set(draw[8:])) == 2


def test_random_sampler_with_replacement_uniform_like_torch():
    n, k = 7, 21_000
    ours = list(RandomSampler(range(n), replacement=True, num_samples=k,
                              generator=ember.Generator().manual_seed(2)))
    theirs = list(tud.RandomSampler(range(n), replacement=True, num_samples=k,
                                    generator=torch.Generator().manual_seed(2)))
    for draw in (ours, theirs):
        assert len(draw) == k
        _assert_counts_follow(np.bincount(draw, minlength=n), np.full(n, 1 / n))
        # independent draws: consecutive pairs uniform over the n*n pairs
        pairs = np.bincount(np.asarray(draw[:-1]) * n + np.asarray(draw[1:]), minlength=n * n)
        _assert_counts_follow(pairs, np.full(n * n, 1 / n ** 2))


def test_subset_random_sampler_uniform_like_torch():
    indices = [9, 4, 7]
    ours_sampler = SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(3))
    theirs_sampler = tud.SubsetRandomSampler(indices, generator=torch.Generator().manual_seed(3))
    for sampler in (ours_sampler, theirs_sampler):
        draws = [[int(i) for i in sampler] for _ in range(3000)]
        assert all(sorted(d) == sorted(indices) for d in draws)
        orders = collections.Counter(tuple(d) for d in draws)
        assert len(orders) == 6
        _assert_counts_follow(np.array(list(orders.values())), np.full(6, 1 / 6))


@pytest.mark.parametrize("weights", [[1.0, 2.0, 0.0, 5.0], [0.1, 0.1, 0.3, 0.5, 1.0]])
def test_weighted_sampler_with_replacement_in_law(weights):
    k = 20_000
    w = np.asarray(weights)
    ours = list(WeightedRandomSampler(weights, k, generator=ember.Generator().manual_seed(4)))
    theirs = list(tud.WeightedRandomSampler(weights, k, generator=torch.Generator().manual_seed(4)))
    for draw in (ours, theirs):
        _assert_counts_follow(np.bincount(draw, minlength=len(w)), w / w.sum())
    # a weight tensor works too, as in torch
    ours_t = list(WeightedRandomSampler(ember.tensor(weights), 5,
                                        generator=ember.Generator().manual_seed(4)))
    assert len(ours_t) == 5 and all(weights[i] > 0 for i in ours_t)


def test_weighted_sampler_without_replacement_in_law():
    weights = [1.0, 2.0, 3.0, 4.0]
    w = np.asarray(weights)
    total = w.sum()
    # successive sampling: P(first=i, second=j) = w_i / W * w_j / (W - w_i)
    law = np.array([[0.0 if i == j else w[i] / total * w[j] / (total - w[i]) for j in range(4)]
                    for i in range(4)]).ravel()
    ours_sampler = WeightedRandomSampler(weights, 2, replacement=False,
                                         generator=ember.Generator().manual_seed(5))
    theirs_sampler = tud.WeightedRandomSampler(weights, 2, replacement=False,
                                               generator=torch.Generator().manual_seed(5))
    for sampler in (ours_sampler, theirs_sampler):
        draws = [list(sampler) for _ in range(6000)]
        assert all(a != b for a, b in draws)
        counts = np.bincount([a * 4 + b for a, b in draws], minlength=16)
        _assert_counts_follow(counts, law)
    every = list(WeightedRandomSampler(weights, 4, replacement=False))
    assert sorted(every) == [0, 1, 2, 3]


def test_samplers_reproducible_with_generator_and_manual_seed():
    data = list(range(13))
    makers = [lambda g: RandomSampler(data, generator=g),
              lambda g: RandomSampler(data, replacement=True, num_samples=20, generator=g),
              lambda g: SubsetRandomSampler([1, 5, 8, 12], generator=g),
              lambda g: WeightedRandomSampler([1.0] * 13, 9, generator=g)]
    for make in makers:
        assert list(make(ember.Generator().manual_seed(7))) == list(make(ember.Generator().manual_seed(7)))
        ember.manual_seed(8)
        first = list(make(None))
        ember.manual_seed(8)
        assert list(make(None)) == first


# --- random_split, Subset, default_collate ------------------------------------------------------

@pytest.mark.parametrize("n", [1, 7, 10, 23, 100])
@pytest.mark.parametrize("fractions", [[0.5, 0.5], [0.7, 0.2, 0.1], [1 / 3] * 3, [0.25] * 4,
                                       [0.9, 0.1], [1.0]])
def test_random_split_fraction_sizes_equal_torch(n, fractions):
    with warnings.catch_warnings(record=True) as ours_warn:
        warnings.simplefilter("always")
        ours = random_split(list(range(n)), fractions, generator=ember.Generator().manual_seed(0))
    with warnings.catch_warnings(record=True) as theirs_warn:
        warnings.simplefilter("always")
        theirs = tud.random_split(list(range(n)), fractions, generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in ours] == [len(p) for p in theirs]
    assert sorted(i for p in ours for i in p) == list(range(n))
    assert [str(w.message) for w in ours_warn] == [str(w.message) for w in theirs_warn]


def test_random_split_is_a_uniform_permutation():
    counts = np.zeros((4, 4))
    g = ember.Generator().manual_seed(9)
    for _ in range(2000):
        first, _ = random_split(list(range(4)), [1, 3], generator=g)
        counts[0, first.indices[0]] += 1
    _assert_counts_follow(counts[0], np.full(4, 0.25))


def test_subset_getitems_equal_torch():
    ours_inner, theirs_inner = Counted(list("abcdefg")), Counted(list("abcdefg"))
    ours, theirs = Subset(ours_inner, [6, 0, 3]), tud.Subset(theirs_inner, [6, 0, 3])
    assert ours.__getitems__([0, 2]) == theirs.__getitems__([0, 2]) == ["g", "d"]
    assert ours_inner.calls == theirs_inner.calls == [[6, 3]]
    assert Subset(ListDataset(list("abc")), [2, 1]).__getitems__([1]) == ["b"]
    assert [b for b in DataLoader(ours, batch_size=2)] == [b for b in tud.DataLoader(theirs, batch_size=2)]


def test_default_collate_of_stacked_samples_equals_torch():
    Point = collections.namedtuple("Point", "x y")
    # (Python floats are left out: ember collates them to its default float32, torch to float64)
    samples = [((np.float32(i), [i, i + 1]), {"p": Point(i, np.float64(i)), "s": f"s{i}"})
               for i in range(3)]
    ours = default_collate(samples)
    theirs = tud.default_collate(samples)
    assert _plain(ours) == _plain(theirs)
    assert isinstance(ours[1]["p"], Point)


def test_every_torch_data_name_is_here():
    wanted = {"ChainDataset", "StackDataset", "ConcatDataset", "Subset", "TensorDataset",
              "IterableDataset", "Dataset", "random_split", "Sampler", "SequentialSampler",
              "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
              "DistributedSampler", "DataLoader", "default_collate", "default_convert",
              "get_worker_info"}
    assert wanted <= set(tud.__all__)
    assert wanted <= set(eud.__all__), sorted(wanted - set(eud.__all__))
