"""In-place random fills and sampling: statistics, dtypes, seeding, and PyTorch's errors."""

import numpy as np
import pytest

import ember


def test_fills_have_the_right_distribution_and_keep_dtype():
    ember.manual_seed(0)
    t = ember.empty(20000)
    assert t.uniform_(-2, 3) is t and t.dtype == ember.float32
    a = t.numpy()
    assert a.min() >= -2 and a.max() < 3 and abs(a.mean() - 0.5) < 0.05
    a = ember.empty(20000).normal_(1.0, 2.0).numpy()
    assert abs(a.mean() - 1.0) < 0.06 and abs(a.std() - 2.0) < 0.06
    a = ember.empty(20000).bernoulli_(0.3).numpy()
    assert set(np.unique(a)) <= {0.0, 1.0} and abs(a.mean() - 0.3) < 0.02
    a = ember.empty(20000).exponential_(2.0).numpy()
    assert a.min() >= 0 and abs(a.mean() - 0.5) < 0.02
    a = ember.zeros(1000, dtype=ember.int64).random_(3, 7).numpy()
    assert a.dtype == np.int64 and set(np.unique(a)) == {3, 4, 5, 6}


def test_same_seed_same_numbers():
    ember.manual_seed(5)
    a = ember.empty(5).uniform_().numpy().copy()
    ember.manual_seed(5)
    b = ember.empty(5).uniform_().numpy()
    np.testing.assert_array_equal(a, b)


def test_fill_on_leaf_requiring_grad_needs_no_grad():
    w = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w.uniform_()
    with ember.no_grad():
        w.uniform_()
    assert w.requires_grad and w._version == 1


def test_bernoulli_and_multinomial():
    ember.manual_seed(1)
    p = ember.tensor([0.0, 1.0, 0.5]).expand(4000, 3)
    s = ember.bernoulli(p).numpy()
    assert s[:, 0].sum() == 0 and s[:, 1].sum() == 4000 and abs(s[:, 2].mean() - 0.5) < 0.04
    idx = ember.multinomial(ember.tensor([0.0, 1.0, 3.0]), 4000, replacement=True).numpy()
    assert idx.dtype == np.int64 and (idx != 0).all() and abs((idx == 2).mean() - 0.75) < 0.03
    rows = ember.multinomial(ember.tensor([[1.0, 1.0, 1.0], [0.0, 2.0, 1.0]]), 2)
    assert rows.shape == (2, 2) and len(set(rows[0].tolist())) == 2 and sorted(rows[1].tolist()) == [1, 2]
    with pytest.raises(RuntimeError, match="not enough non-zero"):
        ember.multinomial(ember.tensor([0.0, 0.0, 1.0]), 2)
    with pytest.raises(RuntimeError, match="without replacement"):
        ember.multinomial(ember.tensor([1.0, 1.0]), 3)
    with pytest.raises(RuntimeError, match="element < 0"):
        ember.multinomial(ember.tensor([1.0, -1.0]), 1)
