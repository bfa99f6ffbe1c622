"""MNIST and Fashion-MNIST from their original gzip IDX files.

Where the files are looked for: ``<root>/mnist/`` (``<root>/fashion-mnist/``). The dataset
classes, like torchvision's, take ``root`` as given (default: ``EMBER_DATA``, then the download
cache ``$XDG_CACHE_HOME/ember`` or ``~/.cache/ember``) and download only with ``download=True``.
``MNIST.fetch(root)``, which the command line (``--data``), the examples and Keras'
:func:`load_data` use, looks in ``root``, then ``EMBER_DATA``, then the cache, and downloads what
is missing into the first of those. Each file is fetched from the usual public mirrors into a
temporary file, checked against its sha256 and only then renamed into place, with a progress
bar on a terminal. Offline, one error line names every missing file, where they were looked
for and how to point at them; nothing is created (no empty folder).

The IDX parser checks the header before it reads the data: the magic number, the dimensions
(MNIST images must be 28 x 28, no more items than the original file has), the size of an
uncompressed file; it then inflates exactly the bytes the header promises, plus one to detect
trailing data, so a small ``.gz`` crafted to inflate to gigabytes is refused at the cost of its
header's promise. Every problem raises :class:`DatasetFileError` naming the file.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ember._atomic import remove_stale_temporaries, temporary_name
from ember.tensor import Tensor
from ember.utils.data.dataset import Dataset, TensorDataset


class DatasetFileError(RuntimeError):
    """A dataset file is missing, truncated, corrupt or not what its name says."""


# element type codes of the IDX format (third byte of the magic number)
_IDX_DTYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
               0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

# parsed files, keyed by (path, size, mtime): building several datasets re-reads nothing
_CACHE: dict[tuple, np.ndarray] = {}

_urlopen = urllib.request.urlopen  # a module attribute so tests can serve files without a network


# deflate cannot compress better than about 1032:1, so a header announcing more data than that
# many times the .gz file's size is a lie, refused before anything is inflated
_DEFLATE_MAX_RATIO = 1032

_CHUNK = 1 << 20


def _read_exactly(f, n: int) -> bytes:
    """``n`` bytes from the open stream ``f`` (fewer only at the end of the file)."""
    parts, got = [], 0
    while got < n:
        chunk = f.read(min(_CHUNK, n - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def read_idx(path: str | os.PathLike, expected_magic: int | None = None, *,
             shape: tuple[int | None, ...] | None = None, max_count: int | None = None) -> np.ndarray:
    """Parse an IDX file (gzip-compressed when its name ends in ``.gz``) into a NumPy array.

    The header is checked before the data is read, and only as many bytes as the header promises
    are ever inflated (plus one, to detect trailing data), so a file crafted to inflate to
    gigabytes costs no more memory than its header allows.

    Args:
        path: the file.
        expected_magic: such as ``0x00000803`` for uint8 images of 3 dimensions; rejects a valid
            IDX file of the wrong kind.
        shape: the dimensions the data must have, ``None`` where any size goes (MNIST images:
            ``(None, 28, 28)``).
        max_count: the largest first dimension (number of items) that is plausible.

    The result is read-only and shared between callers. Raises :class:`DatasetFileError`,
    naming the file, when the file is not valid gzip, is truncated, has a wrong magic number,
    impossible dimensions, or holds more or less data than its header announces.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as e:
        raise DatasetFileError(f"cannot read {path}: {e.strerror or e}") from None
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, shape, max_count)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    compressed = path.name.endswith(".gz")
    try:
        with (gzip.open(path, "rb") if compressed else open(path, "rb")) as f:
            arr = _parse_idx(f, path, st.st_size, compressed, expected_magic, shape, max_count)
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise DatasetFileError(
            f"{path} is not a valid gzip file or is truncated ({type(e).__name__}: {e}); delete it "
            "and download it again"
        ) from None
    arr.flags.writeable = False
    _CACHE[key] = arr
    return arr


def _parse_idx(f, path: Path, file_size: int, compressed: bool, expected_magic: int | None,
               shape: tuple[int | None, ...] | None, max_count: int | None) -> np.ndarray:
    head = _read_exactly(f, 4)
    if len(head) < 4:
        raise DatasetFileError(f"{path} is too short to be an IDX file ({len(head)} bytes)")
    code, ndim = head[2], head[3]
    magic = int.from_bytes(head, "big")
    if head[0] != 0 or head[1] != 0 or code not in _IDX_DTYPES or ndim == 0:
        raise DatasetFileError(f"{path} has the wrong magic number 0x{magic:08x}; it is not an IDX "
                               "file (expected 0x00000801 for labels, 0x00000803 for images)")
    if expected_magic is not None and magic != expected_magic:
        raise DatasetFileError(f"{path} has the wrong magic number 0x{magic:08x} (expected "
                               f"0x{expected_magic:08x}); the file holds another kind of data")
    header = 4 + 4 * ndim
    raw_dims = _read_exactly(f, 4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DatasetFileError(f"{path} is truncated: its header needs {header} bytes, the file "
                               f"has {4 + len(raw_dims)}")
    dims = tuple(int.from_bytes(raw_dims[4 * i:4 * i + 4], "big") for i in range(ndim))
    if shape is not None:
        if len(dims) != len(shape) or any(w is not None and d != w for d, w in zip(dims, shape)):
            want = "(" + ", ".join("N" if w is None else str(w) for w in shape) + ")"
            raise DatasetFileError(f"{path} holds data of shape {dims}, expected {want}; it is not "
                                   "the file its name says")
    if max_count is not None and dims[0] > max_count:
        raise DatasetFileError(f"{path} announces {dims[0]} items, more than the {max_count} this "
                               "file can hold; it is corrupt or not the file its name says")
    dtype = _IDX_DTYPES[code]
    expected = dtype.itemsize
    for d in dims:  # Python ints: a corrupt header must not overflow into a plausible size
        expected *= d
    if not compressed and file_size != header + expected:
        raise DatasetFileError(
            f"{path} is corrupt or truncated: its header announces shape {dims} ({expected} bytes "
            f"of data) but the file holds {file_size - header} bytes after the header"
        )
    if compressed and header + expected > _DEFLATE_MAX_RATIO * file_size + 1024:
        raise DatasetFileError(
            f"{path} is corrupt: its header announces shape {dims} ({expected} bytes of data), "
            f"more than a {file_size}-byte gzip file can hold"
        )
    out = np.empty(expected, dtype=np.uint8)
    got = 0
    while got < expected:
        n = f.readinto(memoryview(out)[got:got + _CHUNK]) if hasattr(f, "readinto") else 0
        if not n:
            break
        got += n
    if got < expected or f.read(1):
        held = f"{got} bytes" if got < expected else "more bytes"
        raise DatasetFileError(
            f"{path} is corrupt or truncated: its header announces shape {dims} ({expected} bytes "
            f"of data) but the file holds {held} after the header"
        )
    arr = out.view(dtype).reshape(dims)
    return arr if dtype.isnative or dtype.itemsize == 1 else arr.astype(dtype.newbyteorder("="))


def default_root() -> Path:
    """The download cache: ``$XDG_CACHE_HOME/ember`` or ``~/.cache/ember``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ember"


class _NoNetwork(DatasetFileError):
    """Every mirror failed to connect: the other files need not be tried."""


def _progress(total: int | None, desc: str):
    """A tqdm byte counter on a terminal (``tqdm`` is optional), else a do-nothing stand-in."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is None:
        class _Silent:
            def update(self, n):
                pass

            def close(self):
                pass
        return _Silent()
    # disable=None: silent when stderr is not a terminal (logs, CI, tests)
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                disable=None, leave=False)


def _make_dirs(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; the ones created, deepest first."""
    created = []
    p = folder
    while not p.exists():
        created.append(p)
        p = p.parent
    folder.mkdir(parents=True, exist_ok=True)
    return created


def _remove_if_empty(created: list[Path]) -> None:
    for d in created:  # deepest first
        try:
            d.rmdir()
        except OSError:
            break  # not empty (another file arrived) or gone: leave it and its parents


def download_file(mirrors: list[str], filename: str, folder: Path, sha256: str,
                  timeout: float = 30.0) -> Path:
    """Fetch ``filename`` from the first mirror that serves it with the right sha256.

    The bytes go to a temporary file in ``folder``, which is renamed to ``folder/filename`` only
    after the checksum matched, with a progress bar on a terminal. On any failure nothing is
    left behind, not even ``folder`` when this call created it.
    """
    target = folder / filename
    problems = []
    offline = True
    created = _make_dirs(folder)
    try:
        for base in mirrors:
            url = base + filename
            remove_stale_temporaries(target, suffix=".part")  # left by a killed download
            fd, tmp = temporary_name(target, suffix=".part")
            tmp = Path(tmp)
            try:
                h = hashlib.sha256()
                with os.fdopen(fd, "wb") as out, _urlopen(url, timeout=timeout) as response:
                    offline = False
                    length = getattr(response, "headers", {}).get("Content-Length")
                    bar = _progress(int(length) if length and str(length).isdigit() else None,
                                    filename)
                    try:
                        while True:
                            chunk = response.read(1 << 20)
                            if not chunk:
                                break
                            h.update(chunk)
                            out.write(chunk)
                            bar.update(len(chunk))
                        out.flush()
                        os.fsync(out.fileno())
                    finally:
                        bar.close()
                if h.hexdigest() != sha256:
                    problems.append(f"{url}: sha256 {h.hexdigest()} does not match the expected "
                                    f"{sha256}")
                    continue
                os.replace(tmp, target)
                return target
            except (urllib.error.URLError, OSError, TimeoutError, ValueError) as e:
                problems.append(f"{url}: {getattr(e, 'reason', None) or e}")
            finally:
                if tmp.exists():
                    tmp.unlink()
    finally:
        if not target.exists():
            _remove_if_empty(created)
    if offline:  # the reason of the first mirror is the reason of them all
        raise _NoNetwork(f"no mirror could be reached: {problems[0].split(': ', 1)[-1]}")
    raise DatasetFileError(f"could not download {filename} into {folder} ({'; '.join(problems)})")


def _search_path(root: str | os.PathLike | None, fall_back: bool) -> list[Path]:
    """The folders that may hold a dataset's folder: ``root``, then (without a root, or with
    ``fall_back``) ``EMBER_DATA``, then the download cache."""
    found = [Path(root).expanduser()] if root is not None else []
    if root is None or fall_back:
        env = os.environ.get("EMBER_DATA")
        if env:
            found.append(Path(env).expanduser())
        found.append(default_root())
    unique = []
    for p in found:
        if p not in unique:
            unique.append(p)
    return unique


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images of 28 x 28 pixels.

    Args:
        root: the folder holding ``mnist/`` (default: ``EMBER_DATA``, then the download cache).
        train: the training set (``True``) or the test set (``False``).
        transform: applied by ``__getitem__`` to the image, given as a uint8 ``28 x 28`` tensor
            (compose with :class:`ember.transforms.ToTensor`). Without one, images come as float32
            ``1 x 28 x 28`` tensors scaled to [0, 1].
        target_transform: applied to the label (a Python int).
        download: fetch missing files from the public mirrors (checked against their sha256).
            Off by default, as in torchvision: without it, missing files raise one
            :class:`DatasetFileError` and nothing is created.

    Attributes:
        data: uint8 tensor ``(N, 28, 28)``; targets: int64 tensor ``(N,)``; classes: label names.

    For training, :meth:`tensors` gives every image and label at once, and a ``DataLoader`` over
    the dataset itself (without transforms) cuts whole batches by indexing, not sample by sample.
    """

    folder = "mnist"
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "https://storage.googleapis.com/cvdf-datasets/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    files = {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    }
    # the number of items in the original files: a header announcing more is corrupt
    TRAIN_COUNT, TEST_COUNT = 60000, 10000
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False):
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        prefix = "train" if train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
        folder = self._find(root, names, download)
        self.root = folder.parent
        count = self.TRAIN_COUNT if train else self.TEST_COUNT
        images = read_idx(folder / names[0], expected_magic=0x00000803, shape=(None, 28, 28),
                          max_count=count)
        labels = read_idx(folder / names[1], expected_magic=0x00000801, shape=(None,),
                          max_count=count)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise DatasetFileError(f"{folder / names[0]} should hold uint8 images (N, H, W), but "
                                   f"holds {images.dtype} data of shape {images.shape}")
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise DatasetFileError(f"{folder / names[1]} should hold uint8 labels (N,), but holds "
                                   f"{labels.dtype} data of shape {labels.shape}")
        if len(images) != len(labels):
            raise DatasetFileError(f"{folder}: {len(images)} images in {names[0]} but {len(labels)} "
                                   f"labels in {names[1]}")
        if len(labels) and int(labels.max()) >= len(self.classes):
            raise DatasetFileError(f"{folder / names[1]} has label {int(labels.max())}, outside "
                                   f"0..{len(self.classes) - 1}")
        self._images = images
        self.data = Tensor._wrap(images)
        self.targets = Tensor._wrap(labels.astype(np.int64))

    @classmethod
    def _find(cls, root, names: list[str], download: bool, fall_back: bool = False,
              option: str = "root=DIR") -> Path:
        """The folder holding every file of ``names``, downloading the missing ones into the
        first folder of the search path when ``download`` is true. Raises one
        :class:`DatasetFileError` line naming every missing file, and creates nothing, when
        they cannot all be found or fetched."""
        bases = _search_path(root, fall_back)
        for base in bases:
            if all((base / cls.folder / n).is_file() for n in names):
                return base / cls.folder
        target = bases[0] / cls.folder
        # every file of the dataset that is missing, not only this split's: the folder should
        # end up holding all four
        missing = [n for n in cls.files if not (target / n).is_file()]
        looked = ", ".join(str(b / cls.folder) for b in bases)
        how = f"put them in DIR/{cls.folder}/ and pass {option} or set EMBER_DATA=DIR"
        if not download:
            reason, how = "download=False", how + ", or pass download=True to fetch them"
        else:
            try:
                for n in names:
                    if n in missing:
                        download_file(cls.mirrors, n, target, cls.files[n])
                        missing.remove(n)
                return target
            except _NoNetwork as e:
                reason = f"download failed, no network? {e}"
            except DatasetFileError as e:
                raise DatasetFileError(f"{cls.__name__}: {e}; {how}") from None
        raise DatasetFileError(
            f"{cls.__name__} files not found: {', '.join(missing)} (looked in {looked}; {reason}); "
            f"{how}"
        )

    @classmethod
    def fetch(cls, root: str | os.PathLike | None = None, download: bool = True,
              option: str = "root=DIR") -> Path:
        """Find all four files of the dataset, downloading the missing ones, and return the
        folder that holds ``<folder>/`` (a ``root`` for the constructor).

        The search path is ``root``, then ``EMBER_DATA``, then the cache; missing files are
        downloaded (checked against their sha256, with a progress bar on a terminal) into the
        first of those. Offline, the error names every missing file in one line and nothing is
        created. ``option`` is how the caller's user names the data folder in that line (the
        command line passes ``"--data DIR"``).
        """
        return cls._find(root, list(cls.files), download, fall_back=True, option=option).parent

    def __len__(self) -> int:
        return self._images.shape[0]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = self._images[index]
        target = int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(Tensor._wrap(img.copy()))
        else:
            img = Tensor._wrap(img[None].astype(np.float32) / np.float32(255))
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _get_batch(self, indices: np.ndarray):
        if self.transform is not None or self.target_transform is not None:
            return None
        x = self._images[indices][:, None].astype(np.float32)
        x /= np.float32(255)
        return [Tensor._wrap(x), Tensor._wrap(self.targets._data[indices])]

    def tensors(self, flatten: bool = False) -> tuple[Tensor, Tensor]:
        """Every image as float32 in [0, 1], shape ``(N, 1, 28, 28)`` (``(N, 784)`` with
        ``flatten=True``), and every label as int64: the whole set at once, for ``fit(x, y)``.
        Transforms are not applied."""
        x = self._images.astype(np.float32)
        x /= np.float32(255)
        x = x.reshape(len(x), -1) if flatten else x[:, None]
        return Tensor._wrap(x), Tensor._wrap(self.targets._data.copy())

    def as_tensor_dataset(self, flatten: bool = False) -> TensorDataset:
        """The whole set as a :class:`TensorDataset` of (images, labels), as :meth:`tensors`."""
        return TensorDataset(*self.tensors(flatten))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(split={'train' if self.train else 'test'}, "
                f"samples={len(self)}, root={str(self.root)!r})")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: clothing images in MNIST's format (same sizes, 10 classes)."""

    folder = "fashion-mnist"
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    files = {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    }
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot"]


def load_data(path: str | os.PathLike | None = None, dataset: type[MNIST] = MNIST):
    """MNIST as Keras' ``keras.datasets.mnist.load_data()`` returns it.

    Returns ``(x_train, y_train), (x_test, y_test)``: uint8 NumPy arrays of shapes
    ``(60000, 28, 28)``, ``(60000,)``, ``(10000, 28, 28)``, ``(10000,)``. ``path`` is a folder
    holding ``mnist/`` (unlike Keras' ``.npz`` name); the files are looked for there, then in
    ``EMBER_DATA``, then in the cache, and downloaded (checksummed) when missing.
    """
    root = dataset.fetch(path, download=True, option="load_data(path=DIR)")
    parts = []
    for train in (True, False):
        ds = dataset(root=root, train=train)
        parts.append((np.array(ds._images), ds.targets._data.astype(np.uint8)))
    return tuple(parts)
