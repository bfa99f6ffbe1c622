"""Saving and loading tensors and state dicts as safetensors files: ``ember.save`` / ``ember.load``.

File layout
-----------
Every file is a standard safetensors file (an 8-byte little-endian header length, a JSON header,
then the raw tensor bytes), written with ``safetensors.numpy``.

* A **flat state dict** (``{str: Tensor}``, what ``module.state_dict()`` returns) is stored under
  its own keys, so ``safetensors.torch.load_file(path)`` hands PyTorch a state dict directly, and
  a file written by ``safetensors.torch.save_file(torch_model.state_dict(), path)`` loads here as
  a dict of ember tensors.
* **Nested objects** (an optimizer's ``state_dict()``, a checkpoint ``{"model": ..., "epoch": 3}``)
  store each tensor under the dotted path that leads to it (``state.0.exp_avg``; ``#2``, ``#3``
  ... is appended if two paths would collide), and the rest of the structure as JSON in the
  header's ``__metadata__`` under ``"ember.structure"``. In that JSON, a tensor is
  ``{"__tensor__": key}`` and a NumPy array ``{"__ndarray__": key}``; a dict whose keys are not
  all strings (or that has a key starting with ``__``) is ``{"__dict__": [[key, value], ...]}``;
  a tuple is ``{"__tuple__": [...]}``; a non-finite float is ``{"__float__": "inf"}``;
  ``ember.dtype`` and ``ember.device`` values are ``{"__dtype__": name}`` / ``{"__device__": str}``.
  Numbers, strings, booleans, ``None`` and lists are plain JSON.
* ``__metadata__`` also holds ``"format": "pt"`` (what Hugging Face tools expect) and
  ``"ember.version"``.

Every write is atomic: the bytes go to a temporary file ``.<name>.<pid>.tmp`` in the target's
directory, which is flushed, fsync'ed and renamed over the target with ``os.replace``; a failed
save leaves the old file untouched, and the temporaries of writers that were killed are removed
by the next save to the same path (``ember._atomic``). Loading never unpickles anything: the
``safetensors`` library validates the layout (offsets are integers, in range, non-overlapping
and covering the data; dtypes known; shape times item size equal to each tensor's span), ember
checks what it adds (header length, nesting depth, dtypes ember supports), and every error names
the file and, where there is one, the tensor.

dtypes float16/32/64, uint8, int8/16/32/64 and bool round-trip exactly. ``safetensors`` is only
needed when saving or loading (``pip install safetensors``).
"""

from __future__ import annotations

import io
import json
import math
import os
from typing import Any

import numpy as np

from ember import backend
from ember._atomic import atomic_write_bytes
from ember.tensor import Tensor

__all__ = ["save", "load", "load_metadata", "check_suffix", "FileFormatError"]

_STRUCTURE_KEY = "ember.structure"
_EXTRA_PREFIX = "ember.extra."


class FileFormatError(ValueError):
    """A file given to :func:`load` is truncated, corrupt or not a safetensors file."""


# file suffixes of other frameworks' formats, which ember does not write
_FOREIGN_SUFFIXES = {".h5": "Keras' HDF5", ".hdf5": "HDF5", ".keras": "Keras' zip archive",
                     ".pt": "PyTorch's pickle", ".pth": "PyTorch's pickle",
                     ".pkl": "pickle", ".ckpt": "a TensorFlow/Lightning checkpoint"}


def check_suffix(path: str | os.PathLike, what: str) -> None:
    """Refuse a path whose suffix promises another format than safetensors.

    Raises:
        ValueError: naming the suffix, the format it promises and ``.safetensors``.
    """
    name = os.fspath(path)
    base, suffix = os.path.splitext(name)
    suffix = suffix.lower()
    if suffix in _FOREIGN_SUFFIXES:
        raise ValueError(
            f"{what}: {name!r} ends in {suffix!r}, which promises {_FOREIGN_SUFFIXES[suffix]} "
            f"format, but ember writes safetensors only; use a .safetensors path, e.g. "
            f"{base + '.safetensors'!r}")


def _contiguous(array: np.ndarray) -> np.ndarray:
    # np.ascontiguousarray would turn a 0-d array into shape (1,)
    return array if array.flags.c_contiguous else array.copy(order="C")


def _safetensors_numpy():
    try:
        import safetensors.numpy as stn
    except ImportError:
        raise ImportError("saving and loading weights needs the safetensors package: "
                          "pip install safetensors") from None
    return stn


# ------------------------------------------------------------------------------------ encoding

class _Encoder:
    """Turns an object into (JSON-able structure, {key: array}), collecting tensors on the way."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def _key(self, path: list[str]) -> str:
        base = ".".join(path) if path else "tensor"
        key, n = base, 1
        while key in self.arrays:
            n += 1
            key = f"{base}#{n}"
        return key

    def _store(self, array, path: list[str]) -> str:
        array = backend.move_array(array, backend.CPU)
        backend.dtype_of(array)  # rejects dtypes ember does not have, with a clear message
        key = self._key(path)
        self.arrays[key] = _contiguous(array)
        return key

    def encode(self, obj: Any, path: list[str]) -> Any:
        if isinstance(obj, Tensor):
            return {"__tensor__": self._store(obj._data, path)}
        if isinstance(obj, np.ndarray):
            return {"__ndarray__": self._store(obj, path)}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            v = float(obj)
            return v if math.isfinite(v) else {"__float__": repr(v)}
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, backend.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, backend.device):
            return {"__device__": str(obj)}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, path + [str(i)]) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, path + [str(i)]) for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            plain = all(isinstance(k, str) and not k.startswith("__") for k in obj)
            if plain:
                return {k: self.encode(v, path + [k]) for k, v in obj.items()}
            items = []
            for k, v in obj.items():
                if not (k is None or isinstance(k, (str, int, float, bool, tuple))):
                    raise TypeError(f"ember.save: dict key {k!r} at {'.'.join(path) or 'top level'}"
                                    f" is a {type(k).__name__}; keys must be strings, numbers, "
                                    "booleans, None or tuples")
                items.append([self.encode(k, path + ["key"]), self.encode(v, path + [str(k)])])
            return {"__dict__": items}
        raise TypeError(
            f"ember.save cannot store a {type(obj).__name__} (at "
            f"{'.'.join(path) or 'top level'}): only tensors, NumPy arrays, numbers, strings, "
            "booleans, None, dtypes, devices, and lists/tuples/dicts of those are saved (no pickle)"
        )


def _decode(node: Any, tensors: dict[str, Tensor], arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(node, list):
        return [_decode(v, tensors, arrays) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (tag, value), = node.items()
        if tag == "__tensor__":
            return tensors[value]
        if tag == "__ndarray__":
            return backend.move_array(arrays[value], backend.CPU)
        if tag == "__tuple__":
            return tuple(_decode(v, tensors, arrays) for v in value)
        if tag == "__dict__":
            return {_decode(k, tensors, arrays): _decode(v, tensors, arrays) for k, v in value}
        if tag == "__float__":
            return float(value)
        if tag == "__dtype__":
            return backend.to_dtype(value)
        if tag == "__device__":
            return backend.device(value)
    return {k: _decode(v, tensors, arrays) for k, v in node.items()}


def _is_flat_state_dict(obj) -> bool:
    return (isinstance(obj, dict) and len(obj) > 0
            and all(isinstance(k, str) and isinstance(v, (Tensor, np.ndarray))
                    for k, v in obj.items()))


# ---------------------------------------------------------------------------------------- save

def _serialize(obj: Any, extras: dict[str, Any] | None = None) -> bytes:
    stn = _safetensors_numpy()
    from ember import __version__

    enc = _Encoder()
    if _is_flat_state_dict(obj):
        # keys are the state-dict keys themselves, so other tools read the file as a state dict
        structure = {}
        for k, v in obj.items():
            arr = v._data if isinstance(v, Tensor) else v
            enc.arrays[k] = _contiguous(backend.move_array(arr, backend.CPU))
            backend.dtype_of(enc.arrays[k])
            structure[k] = {"__tensor__" if isinstance(v, Tensor) else "__ndarray__": k}
        if any(k.startswith("__") for k in obj):
            structure = {"__dict__": [[k, s] for k, s in structure.items()]}
    else:
        structure = enc.encode(obj, [])
    metadata = {"format": "pt", "ember.version": __version__,
                _STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"), allow_nan=False)}
    for name, value in (extras or {}).items():
        # a side object (an optimizer's state beside a model's weights): its tensors under
        # "<name>." keys, its structure under its own metadata key, so load() still returns
        # the main object alone
        if isinstance(value, str):
            metadata[name] = value
        else:
            metadata[_EXTRA_PREFIX + name] = json.dumps(enc.encode(value, [name]),
                                                        separators=(",", ":"), allow_nan=False)
    return stn.save(enc.arrays, metadata=metadata)


def save(obj: Any, f: str | os.PathLike | io.IOBase, extras: dict[str, Any] | None = None) -> None:
    """Save tensors, a state dict, or a nested object of them to a safetensors file.

    ``f`` is a path (written atomically: temp file, fsync, rename) or a writable binary file
    object. See the module docstring for the layout; flat state dicts stay readable by
    ``safetensors.torch.load_file``. ``extras`` are stored beside ``obj`` without changing what
    :func:`load` returns: a string value goes into the header's metadata as it is (read it with
    :func:`load_metadata`), any other value is read back with ``load(f, extra=name)``.
    """
    data = _serialize(obj, extras)
    if hasattr(f, "write"):
        f.write(data)
        return
    atomic_write_bytes(f, data)


# ---------------------------------------------------------------------------------------- load

# safetensors' dtype names -> ember's (what ember can hold)
_SUPPORTED = {"F16": "float16", "F32": "float32", "F64": "float64", "U8": "uint8", "I8": "int8",
              "I16": "int16", "I32": "int32", "I64": "int64", "BOOL": "bool"}
_ITEMSIZE = {"F16": 2, "F32": 4, "F64": 8, "U8": 1, "I8": 1, "I16": 2, "I32": 4, "I64": 8,
             "BOOL": 1, "BF16": 2, "U16": 2, "U32": 4, "U64": 8, "C64": 8, "C128": 16,
             "F8_E4M3": 1, "F8_E5M2": 1}
# the safetensors library refuses headers over 100 MB; ember refuses them before parsing
_MAX_HEADER = 100 * 1024 * 1024
# an ember header nests a few levels (checkpoint -> optimizer -> state -> param -> field); far
# deeper is corruption or an attack on the parser's recursion (serde_json's limit is 128 too)
_MAX_DEPTH = 128


def _nesting_depth(text: bytes) -> int:
    """The deepest bracket nesting of a JSON text, strings skipped (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:  # quote
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in (0x7B, 0x5B):
            depth += 1
            deepest = max(deepest, depth)
        elif c in (0x7D, 0x5D):
            depth -= 1
    return deepest


def _check_header(data: bytes, name: str) -> dict:
    """The parsed JSON header, after checking the file's framing and the header's shape.

    The layout of the tensors themselves is left to the ``safetensors`` library (see
    :func:`_describe_layout_error` for the messages)."""
    if len(data) < 8:
        raise FileFormatError(f"{name} is not a safetensors file: only {len(data)} bytes long")
    n = int.from_bytes(data[:8], "little")
    if data[8:9] != b"{":
        # a safetensors header is a JSON object right after its 8-byte length; only without
        # one can the bytes be something else (a torch.save pickle or zip archive)
        if data[:4] == b"PK\x03\x04" or (data[:1] == b"\x80" and data[1:2] in b"\x02\x03\x04\x05"):
            raise FileFormatError(
                f"{name} looks like a PyTorch pickle/zip checkpoint (torch.save), not a "
                "safetensors file; ember never loads pickle. In PyTorch, save with "
                "safetensors.torch.save_file(model.state_dict(), path)"
            )
        if len(data) > 8:
            raise FileFormatError(f"{name} is not a safetensors file (no JSON header after the "
                                  "8-byte header length)")
    if n == 0 or n > _MAX_HEADER:
        raise FileFormatError(f"{name} is not a safetensors file or is corrupt: its header length "
                              f"{n} is {'zero' if n == 0 else 'over the 100 MB limit'}")
    if n > len(data) - 8:
        raise FileFormatError(f"{name} is truncated: its header claims {n} bytes but the file has "
                              f"{len(data)} bytes")
    text = data[8:8 + n]
    depth = _nesting_depth(text)
    if depth > _MAX_DEPTH:
        raise FileFormatError(f"{name} is corrupt: its header nests {depth} levels deep (at most "
                              f"{_MAX_DEPTH} are accepted)")
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FileFormatError(f"{name} is not a safetensors file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise FileFormatError(f"{name} is not a safetensors file (its header is not a JSON object)")
    meta = header.get("__metadata__")
    if meta is not None and not (isinstance(meta, dict)
                                 and all(isinstance(v, str) for v in meta.values())):
        raise FileFormatError(f"{name} is corrupt: __metadata__ must map strings to strings")
    for key, info in header.items():
        if key == "__metadata__":
            continue
        dtype = info.get("dtype") if isinstance(info, dict) else None
        if not isinstance(dtype, str):
            raise FileFormatError(f"{name} is corrupt: tensor {key!r} has no dtype string")
        if dtype == "BF16":
            raise FileFormatError(f"{name}: tensor {key!r} is bfloat16, which ember does not support;"
                                  " convert it in PyTorch (tensor.float()) before saving")
        if dtype not in _SUPPORTED:
            known = "a safetensors dtype" if dtype in _ITEMSIZE else "not a safetensors dtype"
            raise FileFormatError(
                f"{name}: tensor {key!r} has dtype {dtype} ({known}), which ember cannot hold; "
                f"ember reads {', '.join(_SUPPORTED)}. Convert the tensor before saving it"
            )
    return header


def load_metadata(f: str | os.PathLike) -> dict[str, str]:
    """The ``__metadata__`` strings of a safetensors file's header (no tensor is read)."""
    name = os.fspath(f)
    with open(name, "rb") as fh:
        head = fh.read(8)
        n = int.from_bytes(head, "little") if len(head) == 8 else 0
        raw = fh.read(n)
    try:
        header = json.loads(raw) if n and len(raw) == n else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        header = None
    if not isinstance(header, dict):
        raise FileFormatError(f"{name} is not a safetensors file (no readable JSON header)")
    return dict(header.get("__metadata__") or {})


def _describe_layout_error(header: dict, payload: int, name: str, library_message: str) -> str:
    """What is wrong with the tensor layout, naming the tensor, once the ``safetensors``
    library has refused the file (its own messages rarely name the tensor)."""
    spans = []
    for key, info in header.items():
        if key == "__metadata__":
            continue
        offsets, shape = info.get("data_offsets"), info.get("shape")
        if not (isinstance(offsets, list) and len(offsets) == 2
                and all(type(o) is int for o in offsets)):
            return f"tensor {key!r} has data_offsets {offsets!r}; expected two integers [begin, end]"
        if not (isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)):
            return f"tensor {key!r} has shape {shape!r}; expected a list of non-negative integers"
        begin, end = offsets
        if not 0 <= begin <= end:
            return f"tensor {key!r} has data_offsets [{begin}, {end}]; expected 0 <= begin <= end"
        if end > payload:
            return (f"the file is truncated or corrupt: tensor {key!r} has data_offsets "
                    f"[{begin}, {end}] but the file holds only {payload} bytes of data")
        size = _ITEMSIZE[info["dtype"]]
        for d in shape:
            size *= d
        if size != end - begin:
            return (f"tensor {key!r} of shape {shape} and dtype {info['dtype']} needs {size} bytes "
                    f"but its data_offsets span {end - begin}")
        spans.append((begin, end, key))
    spans.sort()
    for (_, e0, k0), (b1, _, k1) in zip(spans, spans[1:]):
        if b1 < e0:
            return f"tensors {k0!r} and {k1!r} overlap (bytes {b1}..{e0})"
    return library_message


def load(f: str | os.PathLike | io.IOBase, map_location=None, extra: str | None = None) -> Any:
    """Load what :func:`save` wrote (or any safetensors file) back into ember tensors.

    ``map_location`` is a device (``"cpu"``, ``"cuda"``, ``ember.device(...)``) to place the
    tensors on; by default they land on the CPU. A file without ember's structure metadata (one
    written by ``safetensors.torch.save_file``, say) loads as a flat ``{key: Tensor}`` dict.
    ``extra`` names an object stored beside the main one (``save(..., extras=...)``) to return
    instead.
    """
    stn = _safetensors_numpy()
    if hasattr(f, "read"):
        name = getattr(f, "name", "<file object>")
        data = f.read()
    else:
        name = os.fspath(f)
        try:
            with open(name, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"no such file: {name} (nothing was saved there, or the path "
                                    "is wrong)") from None
        except IsADirectoryError:
            raise IsADirectoryError(f"{name} is a directory; give the path of a .safetensors file") from None
    header = _check_header(data, name)
    try:
        arrays = stn.load(data)
    except Exception as e:  # safetensors' own error type varies between versions
        payload = len(data) - 8 - int.from_bytes(data[:8], "little")
        what = _describe_layout_error(header, payload, name, str(e))
        raise FileFormatError(f"{name} is not a valid safetensors file: {what}") from None
    device = backend.as_device(map_location) if map_location is not None else backend.CPU
    tensors = {}
    for k, a in arrays.items():
        backend.dtype_of(a)
        tensors[k] = Tensor._wrap(backend.move_array(a, device) if device.type != "cpu" else a)
    meta = header.get("__metadata__") or {}
    if extra is not None and _EXTRA_PREFIX + extra not in meta:
        raise KeyError(f"{name} holds no {extra!r} beside its main object")
    raw_structure = meta.get(_STRUCTURE_KEY if extra is None else _EXTRA_PREFIX + extra)
    if raw_structure is None:
        return {k: tensors[k] for k in header if k != "__metadata__"}
    depth = _nesting_depth(raw_structure.encode())
    if depth > _MAX_DEPTH:
        raise FileFormatError(f"{name}: ember's structure metadata nests {depth} levels deep (at "
                              f"most {_MAX_DEPTH} are accepted); the file is corrupt")
    try:
        structure = json.loads(raw_structure)
        return _decode(structure, tensors, arrays)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, RecursionError) as e:
        raise FileFormatError(f"{name}: ember's structure metadata is corrupt ({e})") from None
