"""Datasets on the real files (shapes, dtypes, label counts from the data README), on corrupt
copies (clear errors naming the file), the download path (served locally, checksummed, atomic),
Iris, and the sample transforms."""

from __future__ import annotations

import gzip
import io
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

import ember
from ember import transforms as T
from ember.datasets import MNIST, DatasetFileError, FashionMNIST, Iris, iris_split_indices, read_idx
from ember.datasets import mnist as mnist_mod
from ember.utils.data import DataLoader

DATA = Path(os.environ["EMBER_DATA"])
NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"]
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

needs_mnist = pytest.mark.skipif(not (DATA / "mnist" / NAMES[3]).is_file(),
                                 reason="MNIST files not available")
needs_fashion = pytest.mark.skipif(not (DATA / "fashion-mnist" / NAMES[3]).is_file(),
                                   reason="Fashion-MNIST files not available")


# ------------------------------------------------------------------------------------- MNIST

@needs_mnist
@pytest.mark.parametrize("train,counts", [(True, MNIST_TRAIN_COUNTS), (False, MNIST_TEST_COUNTS)])
def test_mnist_real_files(train, counts):
    ds = MNIST(train=train, download=False)  # EMBER_DATA points at the shared data
    n = sum(counts)
    assert len(ds) == n
    assert ds.data.shape == (n, 28, 28) and ds.data.dtype == ember.uint8
    assert ds.targets.shape == (n,) and ds.targets.dtype == ember.int64
    assert np.bincount(ds.targets.numpy(), minlength=10).tolist() == counts
    assert len(ds.classes) == 10
    img, label = ds[0]
    assert img.shape == (1, 28, 28) and img.dtype == ember.float32
    assert 0.0 <= float(img.numpy().min()) and float(img.numpy().max()) <= 1.0
    np.testing.assert_allclose(img.numpy()[0] * 255, ds.data.numpy()[0], atol=1e-4)
    assert isinstance(label, int) and label == int(ds.targets.numpy()[0])
    assert ds.data.numpy()[0].any()  # a real digit, not zeros


@needs_mnist
def test_mnist_root_argument_bulk_tensors_and_fast_loader():
    ds = MNIST(root=DATA, train=False, download=False)
    x, y = ds.tensors()
    assert x.shape == (10000, 1, 28, 28) and x.dtype == ember.float32
    assert y.dtype == ember.int64
    xf, _ = ds.tensors(flatten=True)
    assert xf.shape == (10000, 784)
    np.testing.assert_array_equal(x.numpy()[17], ds[17][0].numpy())
    # the loader's whole-batch path gives the same samples as __getitem__
    loader = DataLoader(ds, batch_size=64, shuffle=False)
    bx, by = next(iter(loader))
    assert bx.shape == (64, 1, 28, 28) and by.dtype == ember.int64
    np.testing.assert_array_equal(bx.numpy()[5], ds[5][0].numpy())
    assert by.numpy().tolist() == y.numpy()[:64].tolist()
    # a transform receives the uint8 image and is applied per sample
    tds = MNIST(root=DATA, train=False, download=False,
                transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,)), T.Flatten()]),
                target_transform=lambda t: t + 100)
    tx, ty = tds[3]
    assert tx.shape == (784,) and ty == int(y.numpy()[3]) + 100
    np.testing.assert_allclose(tx.numpy(), (x.numpy()[3].ravel() - 0.1307) / 0.3081, rtol=1e-5,
                               atol=1e-6)
    tb = next(iter(DataLoader(tds, batch_size=8)))
    assert tb[0].shape == (8, 784) and tb[1].numpy().min() >= 100
    assert len(ds.as_tensor_dataset()) == 10000


@needs_fashion
def test_fashion_mnist_real_files():
    train = FashionMNIST(train=True, download=False)
    test = FashionMNIST(train=False, download=False)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert train.classes[9] == "Ankle boot"


def test_missing_files_offline_error_names_folder_and_files(tmp_path):
    with pytest.raises(DatasetFileError) as info:
        MNIST(root=tmp_path, download=False)
    msg = str(info.value)
    assert str(tmp_path / "mnist") in msg
    for name in NAMES:
        assert name in msg


# ------------------------------------------------------------------------------ corrupt files

def _write_idx(path, arr, magic_code=0x08, gz=True):
    header = bytes([0, 0, magic_code, arr.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in arr.shape)
    payload = header + arr.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return payload


def _fake_mnist(root, n=5):
    folder = root / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    _write_idx(folder / NAMES[2], images)
    _write_idx(folder / NAMES[3], labels)
    return folder, images, labels


def test_small_valid_files_parse_exactly(tmp_path):
    folder, images, labels = _fake_mnist(tmp_path)
    ds = MNIST(root=tmp_path, train=False, download=False)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    _write_idx(tmp_path / "plain-idx1", np.arange(7), gz=False)
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-idx1"), np.arange(7))


@pytest.mark.parametrize("damage,pattern", [
    ("truncate_gzip", "not a valid gzip file or is truncated"),
    ("not_gzip", "not a valid gzip file"),
    ("bad_crc", "not a valid gzip file"),
    ("wrong_magic", "wrong magic number"),
    ("short_payload", "corrupt or truncated"),
    ("long_payload", "corrupt or truncated"),
    ("short_header", "truncated"),
])
def test_corrupt_files_raise_clear_errors(tmp_path, damage, pattern):
    folder, images, _ = _fake_mnist(tmp_path)
    target = folder / NAMES[2]
    raw = gzip.decompress(target.read_bytes())
    if damage == "truncate_gzip":
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif damage == "not_gzip":
        target.write_bytes(b"<html>404 not found</html>")
    elif damage == "bad_crc":
        data = bytearray(target.read_bytes())
        data[-6] ^= 0xFF  # inside the CRC32 trailer
        target.write_bytes(bytes(data))
    elif damage == "wrong_magic":
        target.write_bytes(gzip.compress(b"\x00\x00\x09\x99" + raw[4:]))
    elif damage == "short_payload":
        target.write_bytes(gzip.compress(raw[:-100]))
    elif damage == "long_payload":
        target.write_bytes(gzip.compress(raw + b"\x00" * 10))
    elif damage == "short_header":
        target.write_bytes(gzip.compress(raw[:9]))
    with pytest.raises(DatasetFileError, match=pattern) as info:
        MNIST(root=tmp_path, train=False, download=False)
    assert str(target) in str(info.value)


def test_mismatched_image_and_label_counts(tmp_path):
    folder, _, _ = _fake_mnist(tmp_path)
    _write_idx(folder / NAMES[3], np.zeros(4, np.uint8))
    with pytest.raises(DatasetFileError, match="5 images .* but 4 labels"):
        MNIST(root=tmp_path, train=False, download=False)


# ---------------------------------------------------------------------------------- download

class _FakeURL:
    """Serves files from a dict instead of the network."""

    def __init__(self, files, fail_hosts=()):
        self.files, self.fail_hosts, self.calls = files, fail_hosts, []

    def __call__(self, url, timeout=None):
        self.calls.append(url)
        if any(h in url for h in self.fail_hosts):
            raise urllib.error.URLError("no route to host")
        name = url.rsplit("/", 1)[1]
        return io.BytesIO(self.files[name])


@needs_mnist
def test_download_verifies_checksum_and_writes_atomically(tmp_path, monkeypatch):
    served = {n: (DATA / "mnist" / n).read_bytes() for n in NAMES[2:]}
    fake = _FakeURL(served, fail_hosts=("ossci-datasets",))
    monkeypatch.setattr(mnist_mod, "_urlopen", fake)
    ds = MNIST(root=tmp_path, train=False, download=True)
    assert len(ds) == 10000
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(NAMES[2:])
    assert any("ossci" in c for c in fake.calls)  # the first mirror failed, the next one served
    # a corrupted download is rejected by its sha256 and leaves nothing behind
    bad = dict(served)
    bad[NAMES[0]] = b"\x1f\x8b corrupted"
    monkeypatch.setattr(mnist_mod, "_urlopen", _FakeURL(bad))
    other = tmp_path / "other"
    with pytest.raises(DatasetFileError, match="sha256") as info:
        MNIST(root=other, train=True, download=True)
    assert NAMES[0] in str(info.value)
    assert not other.exists(), "a failed download must not leave an empty folder behind"


def test_download_goes_to_cache_without_root(tmp_path, monkeypatch):
    monkeypatch.delenv("EMBER_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist_mod, "_urlopen", _FakeURL({}, fail_hosts=("http",)))
    with pytest.raises(DatasetFileError, match="no network") as info:
        MNIST(train=False, download=True)
    assert str(tmp_path / "cache" / "ember" / "mnist") in str(info.value)
    assert not (tmp_path / "cache").exists()


# ------------------------------------------------------------------ finding the files (13.6)

def _no_network(calls):
    def urlopen(url, timeout=None):
        calls.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    return urlopen


def test_constructor_does_not_download_by_default(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(mnist_mod, "_urlopen", _no_network(calls))
    wrong = tmp_path / "wrong"
    with pytest.raises(DatasetFileError) as info:
        MNIST(root=wrong)
    msg = str(info.value)
    assert "\n" not in msg and str(wrong / "mnist") in msg and "download=True" in msg
    assert calls == [] and not wrong.exists()
    assert list(tmp_path.iterdir()) == []


def test_offline_load_data_one_line_every_file_nothing_created(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(mnist_mod, "_urlopen", _no_network(calls))
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for load in (ember.datasets.mnist.load_data, ember.datasets.fashion_mnist.load_data):
        with pytest.raises(DatasetFileError) as info:
            load(tmp_path / "given")
        msg = str(info.value)
        assert "\n" not in msg, msg
        for name in NAMES:
            assert name in msg
        for folder in ("given", "env", "cache"):
            assert str(tmp_path / folder) in msg
        assert "EMBER_DATA" in msg and "no network" in msg
    # one failed connection per mirror, then no more tries: the network is not there
    assert len(calls) == len(MNIST.mirrors) + len(FashionMNIST.mirrors)
    assert list(tmp_path.iterdir()) == []


def test_command_line_offline_names_data_option_and_every_file(tmp_path, monkeypatch, capsys):
    from ember import cli

    monkeypatch.setattr(mnist_mod, "_urlopen", _no_network([]))
    monkeypatch.delenv("EMBER_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code = cli.main(["lab", "--dataset", "mnist", "--quick", "--data", str(tmp_path / "d"),
                     "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert "--data DIR" in err and "EMBER_DATA" in err
    for name in NAMES:
        assert name in err
    # no data folder, no cache folder (the --out folder is the lab's business)
    assert not (tmp_path / "d").exists() and not (tmp_path / "cache").exists()


def _served_fake_dataset(tmp_path, monkeypatch, n=6):
    """Small valid MNIST files served by a fake downloader, with their checksums as the
    expected ones."""
    import hashlib

    src = tmp_path / "src"
    folder = src / "mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    arrays = {}
    for name in NAMES:
        count = n if name.startswith("train") else n - 2
        arr = (rng.integers(0, 256, (count, 28, 28)) if "images" in name
               else rng.integers(0, 10, count)).astype(np.uint8)
        _write_idx(folder / name, arr)
        arrays[name] = arr
    served = {name: (folder / name).read_bytes() for name in NAMES}
    monkeypatch.setattr(MNIST, "files", {k: hashlib.sha256(v).hexdigest()
                                         for k, v in served.items()})
    fake = _FakeURL(served)
    monkeypatch.setattr(mnist_mod, "_urlopen", fake)
    return arrays, fake


def test_load_data_searches_then_downloads_into_the_first_folder(tmp_path, monkeypatch):
    arrays, fake = _served_fake_dataset(tmp_path, monkeypatch)
    monkeypatch.delenv("EMBER_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (x, y), (xt, yt) = ember.datasets.mnist.load_data()
    assert len(fake.calls) == 4  # one per file, into the cache
    cached = tmp_path / "cache" / "ember" / "mnist"
    assert sorted(p.name for p in cached.iterdir()) == sorted(NAMES)  # no temporary left
    for got, name in ((x, NAMES[0]), (y, NAMES[1]), (xt, NAMES[2]), (yt, NAMES[3])):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[name])
    # found in the cache now: no download
    ember.datasets.mnist.load_data()
    assert len(fake.calls) == 4
    # EMBER_DATA comes before the cache, the argument before EMBER_DATA
    env = tmp_path / "env"
    _fake_mnist(env, n=3)
    _write_idx(env / "mnist" / NAMES[0], np.zeros((2, 28, 28), np.uint8))
    _write_idx(env / "mnist" / NAMES[1], np.zeros(2, np.uint8))
    monkeypatch.setenv("EMBER_DATA", str(env))
    (x, _), (xt, _) = ember.datasets.mnist.load_data()
    assert len(x) == 2 and len(xt) == 3
    (x, _), _ = ember.datasets.mnist.load_data(tmp_path / "src")
    assert len(x) == 6
    assert len(fake.calls) == 4


@needs_mnist
def test_load_data_keras_shapes_and_dtypes():
    (x, y), (xt, yt) = ember.datasets.mnist.load_data()
    assert (x.shape, y.shape, xt.shape, yt.shape) == ((60000, 28, 28), (60000,), (10000, 28, 28),
                                                      (10000,))
    assert x.dtype == y.dtype == xt.dtype == yt.dtype == np.uint8
    assert np.bincount(y).tolist() == MNIST_TRAIN_COUNTS
    assert x.flags.writeable  # the caller's own copy, as Keras returns


# -------------------------------------------------------------------- hostile files (11.5)

def test_impossible_dimensions_and_counts_are_refused(tmp_path):
    folder, _, _ = _fake_mnist(tmp_path)
    _write_idx(folder / NAMES[2], np.zeros((5, 56, 14), np.uint8))
    with pytest.raises(DatasetFileError, match=r"shape \(5, 56, 14\), expected \(N, 28, 28\)") as info:
        MNIST(root=tmp_path, train=False)
    assert str(folder / NAMES[2]) in str(info.value)
    _write_idx(folder / NAMES[2], np.zeros((5, 28, 28), np.uint8))
    # a header announcing more items than the test set has, before any data is read
    header = bytes([0, 0, 8, 1]) + (10001).to_bytes(4, "big")
    (folder / NAMES[3]).write_bytes(gzip.compress(header + bytes(10001)))
    with pytest.raises(DatasetFileError, match="10001 items, more than the 10000"):
        MNIST(root=tmp_path, train=False)
    # an uncompressed file whose size disagrees with its header is refused before reading
    plain = tmp_path / "plain-idx1"
    plain.write_bytes(bytes([0, 0, 8, 1]) + (7).to_bytes(4, "big") + bytes(9))
    with pytest.raises(DatasetFileError, match="7 bytes of data.*9 bytes") as info:
        read_idx(plain)
    assert str(plain) in str(info.value)


# VmHWM (this process' peak resident memory): unlike ru_maxrss it is not inherited from the
# parent that forked it (pytest, with torch loaded)
_BOMB_READER = """
import sys
from ember.datasets import MNIST, DatasetFileError

def peak_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024

before = peak_mb()
try:
    MNIST(root=sys.argv[1], train=sys.argv[2] == "train")
    print("ACCEPTED")
except DatasetFileError as e:
    print("REFUSED", e)
print("PEAK_MB", peak_mb(), "AT_START_MB", before)
"""


def _gzip_bomb(path, header: bytes, payload: bytes, zero_mib: int):
    """A gzip file of several members: the header and payload, then ``zero_mib`` MiB of zeros
    (each member 1 MiB; gzip readers concatenate members), so it inflates to about
    ``zero_mib`` MiB while staying about a thousand times smaller."""
    member = gzip.compress(bytes(1 << 20), compresslevel=9)
    with open(path, "wb") as f:
        f.write(gzip.compress(header + payload))
        for _ in range(zero_mib):
            f.write(member)


@pytest.mark.parametrize("kind", ["huge_count", "trailing_data"])
def test_gzip_bomb_refused_with_bounded_memory(tmp_path, kind):
    """A ~2 MB .gz that inflates to 2 GiB: refused, naming the file, with the reading process'
    peak memory at most 300 MB (ru_maxrss of a fresh subprocess)."""
    import subprocess
    import sys

    if not os.path.exists("/proc/self/status"):
        pytest.skip("peak memory is read from /proc/self/status (Linux)")
    folder = tmp_path / "mnist"
    folder.mkdir()
    labels = np.zeros(60000, np.uint8)
    _write_idx(folder / NAMES[1], labels)
    images = folder / NAMES[0]
    if kind == "huge_count":  # the header itself announces 2 GiB of 28x28 images
        count = (2 << 30) // 784
        _gzip_bomb(images, bytes([0, 0, 8, 3]) + b"".join(
            d.to_bytes(4, "big") for d in (count, 28, 28)), b"", 2048)
    else:  # a plausible header, then 2 GiB where 47 MB were promised
        _gzip_bomb(images, bytes([0, 0, 8, 3]) + b"".join(
            d.to_bytes(4, "big") for d in (60000, 28, 28)), b"", 2048)
    assert images.stat().st_size < 2.5e6
    env = dict(os.environ, PYTHONPATH=str(Path(ember.__file__).parent.parent))
    proc = subprocess.run([sys.executable, "-c", _BOMB_READER, str(tmp_path), "train"],
                          capture_output=True, text=True, timeout=300, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "REFUSED" in out and str(images) in out, out
    peak = float(out.split("PEAK_MB")[1].split()[0])
    assert peak <= 300, out


# -------------------------------------------------------------------------------------- Iris

def test_iris_full_and_known_rows():
    ds = Iris()
    assert len(ds) == 150 and ds.data.shape == (150, 4) and ds.data.dtype == ember.float32
    assert ds.targets.dtype == ember.int64
    assert np.bincount(ds.targets.numpy()).tolist() == [50, 50, 50]
    assert ds.classes == ["setosa", "versicolor", "virginica"] and len(ds.feature_names) == 4
    x = ds.data.numpy()
    np.testing.assert_allclose(x[0], [5.1, 3.5, 1.4, 0.2], rtol=1e-6)
    np.testing.assert_allclose(x[50], [7.0, 3.2, 4.7, 1.4], rtol=1e-6)
    np.testing.assert_allclose(x[149], [5.9, 3.0, 5.1, 1.8], rtol=1e-6)
    # well-known summary statistics of the data set
    np.testing.assert_allclose(x.mean(0), [5.8433, 3.0573, 3.758, 1.1993], atol=1e-3)
    feats, label = ds[100]
    assert feats.shape == (4,) and label == 2


def test_iris_split_is_stratified_deterministic_and_disjoint():
    train, test = Iris(split="train"), Iris(train=False)
    assert len(train) == 120 and len(test) == 30
    assert np.bincount(test.targets.numpy()).tolist() == [10, 10, 10]
    assert np.bincount(train.targets.numpy()).tolist() == [40, 40, 40]
    again = Iris(train=True)
    np.testing.assert_array_equal(train.data.numpy(), again.data.numpy())
    rows = {tuple(r) for r in Iris().data.numpy().round(1).tolist()}
    assert len({tuple(r) for r in train.data.numpy().round(1).tolist()} |
               {tuple(r) for r in test.data.numpy().round(1).tolist()}) == len(rows)
    labels = Iris().targets.numpy()
    a_tr, a_te = iris_split_indices(labels, 0.2, seed=0)
    b_tr, b_te = iris_split_indices(labels, 0.2, seed=1)
    assert set(a_tr) | set(a_te) == set(range(150)) and not set(a_tr) & set(a_te)
    assert set(a_te) != set(b_te)
    assert len(set(labels[a_tr[-24:]])) > 1  # classes are mixed, not sorted
    with pytest.raises(ValueError, match="contradicts"):
        Iris(train=True, split="test")
    with pytest.raises(ValueError, match="test_size"):
        Iris(split="train", test_size=1.5)
    x, y = train.tensors()
    batch = next(iter(DataLoader(train, batch_size=120)))
    np.testing.assert_array_equal(batch[0].numpy(), x.numpy())


def test_iris_custom_root(tmp_path):
    src = Path(ember.datasets.iris.__file__).parent / "data" / "iris.csv"
    lines = src.read_text().splitlines()
    (tmp_path / "iris.csv").write_text("\n".join(lines[:11]) + "\n")
    assert len(Iris(root=tmp_path)) == 10
    (tmp_path / "iris.csv").write_text(lines[0] + "\n1,2,3,4,rose\n")
    with pytest.raises(ValueError, match="line 2"):
        Iris(root=tmp_path)


# -------------------------------------------------------------------------------- transforms

def test_to_tensor_and_normalize_match_torch():
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (5, 6)).astype(np.uint8)
    rgb = rng.integers(0, 256, (5, 6, 3)).astype(np.uint8)
    out = T.ToTensor()(gray)
    assert out.shape == (1, 5, 6) and out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), torch.tensor(gray).float().div(255)[None].numpy())
    c = T.ToTensor()(rgb)
    np.testing.assert_allclose(c.numpy(),
                               torch.tensor(rgb).permute(2, 0, 1).float().div(255).numpy())
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    n = T.Normalize(mean, std)(c)
    ref = (torch.tensor(c.numpy()) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    np.testing.assert_allclose(n.numpy(), ref.numpy(), rtol=1e-6)
    batch = T.Normalize(mean, std)(ember.tensor(np.stack([c.numpy()] * 2)))
    np.testing.assert_allclose(batch.numpy()[1], ref.numpy(), rtol=1e-6)
    feats = T.Normalize([1.0, 2.0], [2.0, 4.0])(ember.tensor([[3.0, 6.0]]))
    np.testing.assert_allclose(feats.numpy(), [[1.0, 1.0]])
    assert T.ToTensor()(gray.astype(np.float64)).dtype == ember.float64
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0.5,), (0.0,))
    with pytest.raises(TypeError, match="ToTensor"):
        T.Normalize((0.5,), (0.5,))(ember.tensor(gray))
    with pytest.raises(ValueError, match="HxW"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


def test_compose_lambda_flatten():
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda t: t.numpy() * 2), T.Flatten()])
    out = pipeline(np.full((2, 2), 255, np.uint8))
    assert out.shape == (4,) and np.allclose(out.numpy(), 2.0)
    assert "ToTensor" in repr(pipeline)
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)


def test_download_shows_a_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    pytest.importorskip("tqdm")
    import sys

    arrays, fake = _served_fake_dataset(tmp_path, monkeypatch)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.delenv("EMBER_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ember.datasets.mnist.load_data()
    shown = screen.getvalue()
    for name in NAMES:
        assert name in shown, shown
