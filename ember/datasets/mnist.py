"""MNIST and Fashion-MNIST from their original gzip IDX files.

Where the files are looked for: ``<root>/mnist/`` (``<root>/fashion-mnist/``), with ``root`` the
argument, else the ``EMBER_DATA`` environment variable, else the download cache
(``$XDG_CACHE_HOME/ember`` or ``~/.cache/ember``). When the files are missing and ``download=True``
they are fetched from the usual public mirrors into ``<root>/<folder>`` (the cache when no root was
given), each written to a temporary file, checked against its sha256 and only then renamed into
place, so an interrupted or corrupted download never leaves a file that looks valid.

The IDX parser checks the gzip stream, the magic number, the dimensions and the payload size, and
raises :class:`DatasetFileError` naming the file instead of ever returning a wrong array.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np

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


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Parse an IDX file (gzip-compressed when its name ends in ``.gz``) into a NumPy array.

    ``expected_magic`` (such as ``0x00000803`` for uint8 images of 3 dimensions) rejects a valid
    IDX file of the wrong kind. The result is read-only and shared between callers. Raises
    :class:`DatasetFileError`, naming the file, when the file is not valid gzip, is truncated, has
    a wrong magic number, or its size does not match the dimensions in its header.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as e:
        raise DatasetFileError(f"cannot read {path}: {e.strerror or e}") from None
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise DatasetFileError(
            f"{path} is not a valid gzip file or is truncated ({type(e).__name__}: {e}); delete it "
            "and download it again"
        ) from None
    if len(raw) < 4:
        raise DatasetFileError(f"{path} is too short to be an IDX file ({len(raw)} bytes)")
    code, ndim = raw[2], raw[3]
    magic = int.from_bytes(raw[:4], "big")
    if raw[0] != 0 or raw[1] != 0 or code not in _IDX_DTYPES or ndim == 0:
        raise DatasetFileError(f"{path} has the wrong magic number 0x{magic:08x}; it is not an IDX "
                               "file (expected 0x00000801 for labels, 0x00000803 for images)")
    if expected_magic is not None and magic != expected_magic:
        raise DatasetFileError(f"{path} has the wrong magic number 0x{magic:08x} (expected "
                               f"0x{expected_magic:08x}); the file holds another kind of data")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetFileError(f"{path} is truncated: its header needs {header} bytes, the file "
                               f"has {len(raw)}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = dtype.itemsize
    for d in dims:  # Python ints: a corrupt header must not overflow into a plausible size
        expected *= d
    if len(raw) - header != expected:
        raise DatasetFileError(
            f"{path} is corrupt or truncated: its header announces shape {dims} ({expected} bytes "
            f"of data) but the file holds {len(raw) - header} bytes after the header"
        )
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    arr = arr.astype(dtype.newbyteorder("="), copy=True)
    arr.flags.writeable = False
    _CACHE[key] = arr
    return arr


def default_root() -> Path:
    """The download cache: ``$XDG_CACHE_HOME/ember`` or ``~/.cache/ember``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ember"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_file(mirrors: list[str], filename: str, folder: Path, sha256: str,
                  timeout: float = 60.0) -> Path:
    """Fetch ``filename`` from the first mirror that serves it with the right sha256.

    The bytes go to a temporary file in ``folder``, which is renamed to ``folder/filename`` only
    after the checksum matched; on any failure nothing is left behind.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    problems = []
    for base in mirrors:
        url = base + filename
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{filename}.", suffix=".part")
        try:
            h = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, _urlopen(url, timeout=timeout) as response:
                while True:
                    chunk = response.read(1 << 20)
                    if not chunk:
                        break
                    h.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if h.hexdigest() != sha256:
                problems.append(f"{url}: sha256 {h.hexdigest()} does not match the expected {sha256}")
                continue
            os.replace(tmp, target)
            return target
        except (urllib.error.URLError, OSError, TimeoutError, ValueError) as e:
            problems.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise DatasetFileError(f"could not download {filename} into {folder}:\n  " + "\n  ".join(problems)
                           + f"\nDownload it by hand and put it in {folder}.")


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
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = True):
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        prefix = "train" if train else "t10k"
        names = [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
        folder = self._locate(root, names, download)
        self.root = folder.parent
        images = read_idx(folder / names[0], expected_magic=0x00000803)
        labels = read_idx(folder / names[1], expected_magic=0x00000801)
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
    def _locate(cls, root, names: list[str], download: bool) -> Path:
        if root is not None:
            candidates = [Path(root).expanduser()]
        else:
            env = os.environ.get("EMBER_DATA")
            candidates = ([Path(env).expanduser()] if env else []) + [default_root()]
        for base in candidates:
            if all((base / cls.folder / n).is_file() for n in names):
                return base / cls.folder
        target = (candidates[0] if root is not None else default_root()) / cls.folder
        if not download:
            looked = " and ".join(str(c / cls.folder) for c in candidates)
            raise DatasetFileError(
                f"{cls.__name__} files not found in {looked}: expected the four original files "
                f"{', '.join(cls.files)} there (missing: "
                f"{', '.join(n for n in names if not (candidates[0] / cls.folder / n).is_file())}). "
                f"Pass download=True, or root= / EMBER_DATA pointing at the folder that holds "
                f"{cls.folder}/."
            )
        for n in names:
            if not (target / n).is_file():
                download_file(cls.mirrors, n, target, cls.files[n])
        return target

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
