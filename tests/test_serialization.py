"""ember.save / ember.load: safetensors files, interop with safetensors.torch, nested objects,
atomic writes and clear errors on files that are not safetensors."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest
import safetensors.torch
import torch

import ember
from ember import optim
from ember.serialization import FileFormatError

DTYPES = [np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8,
          np.bool_]


def _state_dict():
    rng = np.random.default_rng(0)
    sd = {}
    for dt in DTYPES:
        a = rng.standard_normal((3, 4)) * 50
        sd[f"layer.{np.dtype(dt).name}"] = ember.from_numpy(a.astype(dt) if dt != np.bool_ else a > 0)
    sd["scalar"] = ember.from_numpy(np.array(2.5, np.float32))
    sd["empty"] = ember.from_numpy(np.zeros((0, 3), np.float32))
    sd["transposed"] = ember.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4).T)
    return sd


def test_flat_state_dict_round_trip_keeps_dtypes_and_values(tmp_path):
    sd = _state_dict()
    path = tmp_path / "w.safetensors"
    ember.save(sd, path)
    back = ember.load(path)
    assert list(back) == list(sd)
    for k, v in sd.items():
        assert isinstance(back[k], ember.Tensor)
        assert back[k].dtype == v.dtype and back[k].shape == v.shape, k
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())
    assert not back["scalar"].requires_grad
    back["layer.float32"]._data[0, 0] = 7.0  # loaded arrays are ordinary writable memory


def test_ember_file_loads_in_torch_as_a_state_dict(tmp_path):
    rng = np.random.default_rng(1)
    w, b = rng.standard_normal((3, 5)).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    path = tmp_path / "linear.safetensors"
    ember.save({"weight": ember.tensor(w), "bias": ember.tensor(b)}, str(path))
    sd = safetensors.torch.load_file(str(path))
    layer = torch.nn.Linear(5, 3)
    layer.load_state_dict(sd)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), w)
    x = rng.standard_normal((2, 5)).astype(np.float32)
    np.testing.assert_allclose(layer(torch.tensor(x)).detach().numpy(), x @ w.T + b, rtol=1e-5)
    # every tensor dtype ember saves is read by torch with the same values
    full = tmp_path / "all.safetensors"
    ember.save(_state_dict(), full)
    for k, t in safetensors.torch.load_file(str(full)).items():
        np.testing.assert_array_equal(t.numpy(), _state_dict()[k].numpy())


def test_torch_file_loads_in_ember(tmp_path):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.BatchNorm1d(8))
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(net.state_dict(), str(path))
    back = ember.load(path)
    assert set(back) == set(net.state_dict())
    for k, t in net.state_dict().items():
        assert back[k].dtype.name == str(t.dtype).split(".")[1]
        np.testing.assert_array_equal(back[k].numpy(), t.numpy())
    assert back["2.num_batches_tracked"].dtype == ember.int64


def test_nested_object_round_trip(tmp_path):
    obj = {
        "epoch": 7, "loss": 0.25, "best": math.inf, "name": "run-1", "done": False, "none": None,
        "betas": (0.9, 0.999), "history": [1.0, 2.0, {"acc": ember.tensor([0.5, 0.75])}],
        "by_index": {0: ember.tensor([1, 2]), 1: "x"}, "__weird": 1, "dtype": ember.float16,
        "model": {"fc.weight": ember.ones(2, 2), "fc.bias": np.zeros(2, np.float64)},
    }
    path = tmp_path / "ckpt.safetensors"
    ember.save(obj, path)
    back = ember.load(path)
    assert back["epoch"] == 7 and back["loss"] == 0.25 and back["best"] == math.inf
    assert back["name"] == "run-1" and back["done"] is False and back["none"] is None
    assert back["betas"] == (0.9, 0.999) and isinstance(back["betas"], tuple)
    np.testing.assert_array_equal(back["history"][2]["acc"].numpy(), np.float32([0.5, 0.75]))
    assert list(back["by_index"]) == [0, 1] and back["by_index"][0].dtype == ember.int64
    assert back["__weird"] == 1 and back["dtype"] == ember.float16
    assert isinstance(back["model"]["fc.bias"], np.ndarray)
    np.testing.assert_array_equal(back["model"]["fc.weight"].numpy(), np.ones((2, 2), np.float32))
    # tensors live under readable dotted keys in the plain safetensors file
    keys = set(safetensors.torch.load_file(str(path)))
    assert {"history.2.acc", "by_index.0", "model.fc.weight"} <= keys


def test_optimizer_state_dict_through_a_file_continues_identically(tmp_path):
    rng = np.random.default_rng(2)
    start = rng.standard_normal(6).astype(np.float32)

    def grads(p):
        x = p.detach().numpy()
        return ember.tensor(np.sin(x) + 0.3 * x)

    def run(opt, p, n):
        for _ in range(n):
            p.grad = grads(p)
            opt.step()

    p = ember.tensor(start, requires_grad=True)
    opt = optim.Adam([p], lr=0.05, betas=(0.8, 0.95), amsgrad=True)
    run(opt, p, 5)
    ember.save({"optimizer": opt.state_dict(), "param": p.detach()}, tmp_path / "o.safetensors")
    ck = ember.load(tmp_path / "o.safetensors")
    q = ember.tensor(ck["param"].numpy(), requires_grad=True)
    opt2 = optim.Adam([q], lr=1.0)
    opt2.load_state_dict(ck["optimizer"])
    assert opt2.param_groups[0]["betas"] == (0.8, 0.95) and opt2.param_groups[0]["amsgrad"]
    run(opt, p, 5)
    run(opt2, q, 5)
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_save_to_file_object_and_lazy_names():
    buf = io.BytesIO()
    ember.save({"a": ember.arange(5)}, buf)
    buf.seek(0)
    assert ember.load(buf)["a"].tolist() == [0, 1, 2, 3, 4]
    single = io.BytesIO()
    ember.save(ember.tensor([1.5, 2.5]), single)
    single.seek(0)
    assert ember.load(single, map_location="cpu").tolist() == [1.5, 2.5]


def test_failed_write_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    ember.save({"w": ember.tensor([1.0, 2.0])}, path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        ember.save({"w": ember.tensor([9.0, 9.0, 9.0])}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["w.safetensors"], "the temporary file was not cleaned up"
    assert ember.load(path)["w"].tolist() == [1.0, 2.0]
    # an unsavable object fails before anything touches the disk
    with pytest.raises(TypeError, match="cannot store a object"):
        ember.save({"w": object()}, path)
    assert path.read_bytes() == before
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ember.save({"w": ember.ones(1)}, tmp_path / "no" / "such" / "dir.safetensors")


def test_loading_bad_files_gives_clear_errors(tmp_path):
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        ember.load(missing)
    text = tmp_path / "notes.txt"
    text.write_text("these are not weights\n")
    with pytest.raises(FileFormatError, match="notes.txt"):
        ember.load(text)
    good = tmp_path / "good.safetensors"
    ember.save({"w": ember.zeros(100, 10)}, good)
    data = good.read_bytes()
    for cut in (4, 20, len(data) - 1, len(data) // 2):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(FileFormatError, match=f"cut{cut}.safetensors"):
            ember.load(bad)
    pickled = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(3)}, str(pickled))
    with pytest.raises(FileFormatError, match="pickle"):
        ember.load(pickled)
    with pytest.raises(IsADirectoryError):
        ember.load(tmp_path)
    bf16 = tmp_path / "bf16.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(2, dtype=torch.bfloat16)}, str(bf16))
    with pytest.raises(FileFormatError, match="bfloat16"):
        ember.load(bf16)


# ------------------------------------------------------------------ hostile headers (11.5)

def _raw_file(path, header, payload=b"", length=None):
    import json

    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    n = len(text) if length is None else length
    path.write_bytes(n.to_bytes(8, "little") + text + payload)
    return path


@pytest.mark.parametrize("case,header,payload,pattern", [
    ("string_offsets", {"w": {"dtype": "F32", "shape": [2], "data_offsets": ["0", "8"]}},
     bytes(8), r"tensor 'w' has data_offsets \['0', '8'\]; expected two integers"),
    ("float_offsets", {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0.0, 8.0]}},
     bytes(8), "tensor 'w' has data_offsets"),
    ("out_of_range", {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}},
     bytes(8), r"truncated or corrupt: tensor 'w' has data_offsets \[0, 16\] but the file holds "
               "only 8 bytes"),
    ("overlap", {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}},
     bytes(12), "tensor 'b'|tensors 'a' and 'b' overlap"),
    ("span", {"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
     bytes(8), r"tensor 'w' of shape \[3\] and dtype F32 needs 12 bytes"),
    ("negative_shape", {"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}},
     bytes(8), r"tensor 'w' has shape \[-2\]"),
    ("u16", {"w": {"dtype": "U16", "shape": [2], "data_offsets": [0, 4]}},
     bytes(4), "tensor 'w' has dtype U16"),
    ("c64", {"w": {"dtype": "C64", "shape": [2], "data_offsets": [0, 16]}},
     bytes(16), "tensor 'w' has dtype C64"),
    ("f8", {"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}},
     bytes(2), "tensor 'w' has dtype F8_E4M3"),
    ("unknown_dtype", {"w": {"dtype": "Q9", "shape": [2], "data_offsets": [0, 2]}},
     bytes(2), "tensor 'w' has dtype Q9 .not a safetensors dtype"),
    ("deep", b'{"__metadata__":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
     b"", "nests 100001 levels deep"),
    ("metadata_not_strings", {"__metadata__": {"a": {"b": 1}}}, b"", "__metadata__"),
])
def test_hostile_headers_name_the_file_and_tensor(tmp_path, case, header, payload, pattern):
    path = _raw_file(tmp_path / f"{case}.safetensors", header, payload)
    with pytest.raises(FileFormatError, match=pattern) as info:
        ember.load(path)
    assert str(path) in str(info.value)


def test_deeply_nested_structure_metadata_is_refused(tmp_path):
    import json

    deep = "[" * 5000 + "]" * 5000
    header = {"__metadata__": {"format": "pt", "ember.structure": deep}}
    path = _raw_file(tmp_path / "deep_structure.safetensors", json.dumps(header).encode())
    with pytest.raises(FileFormatError, match="nests 5000 levels deep") as info:
        ember.load(path)
    assert str(path) in str(info.value)
    nested = {"a": None}
    for _ in range(20):  # deeper than any ember checkpoint, well inside the limit
        nested = {"a": nested, "t": ember.ones(1)}
    ember.save(nested, tmp_path / "ok.safetensors")
    back = ember.load(tmp_path / "ok.safetensors")
    assert back["a"]["a"]["t"].tolist() == [1.0]


def test_truncated_file_with_header_length_byte_0x80_is_not_called_a_pickle(tmp_path):
    good = tmp_path / "good.safetensors"
    # pad the key until the header length's first (lowest) byte is 0x80, as in a pickle
    for pad in range(300):
        ember.save({"w" + "x" * pad: ember.zeros(3)}, good)
        if good.read_bytes()[0] == 0x80:
            break
    data = good.read_bytes()
    assert data[0] == 0x80
    for cut in (1, 8, 9, 60, len(data) // 2, len(data) - 1):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(FileFormatError) as info:
            ember.load(bad)
        msg = str(info.value)
        assert "pickle" not in msg and str(bad) in msg, msg
        assert "truncated" in msg or f"only {cut} bytes long" in msg, msg


_KILLED_WRITER = """
import os, sys, time
import ember
real_fsync = os.fsync
def stuck_fsync(fd):
    print("WRITING", flush=True)
    time.sleep(120)  # killed here: the temporary is written, the rename never happens
os.fsync = stuck_fsync
ember.save({"w": ember.ones(1000)}, sys.argv[1])
"""


def test_temporaries_of_killed_writers_are_cleaned(tmp_path):
    import signal
    import subprocess
    import sys

    path = tmp_path / "w.safetensors"
    ember.save({"w": ember.zeros(2)}, path)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(ember.__file__)))
    writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path)],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert writer.stdout.readline().strip() == "WRITING"
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    stale = tmp_path / f".w.safetensors.{writer.pid}.tmp"
    assert stale.exists(), os.listdir(tmp_path)
    # a temporary of a writer that still runs must survive
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".w.safetensors.{alive.pid}.tmp"
        live.write_bytes(b"being written")
        ember.save({"w": ember.ones(3)}, path)
        assert not stale.exists()
        assert live.exists()
    finally:
        alive.kill()
        alive.wait()
    assert ember.load(path)["w"].tolist() == [1.0, 1.0, 1.0]
    ember.save({"w": ember.ones(1)}, path)  # its writer is gone now
    assert os.listdir(tmp_path) == ["w.safetensors"]
