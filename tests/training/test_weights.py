"""The PyTorch checkpoint reader (no PyTorch) and the torchvision MobileNetV2 -> Keras port."""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from training.weights import (
    MOBILENET_V2_CHECKPOINT,
    CheckpointError,
    find_mobilenet_v2_checkpoint,
    read_torch_checkpoint,
)

# ---------------------------------------------------------------- hand-written checkpoints (no torch)


class _Global:
    """Pickles as a reference to a torch name (GLOBAL opcode), without torch being importable."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle insists that a reduce function is callable
        raise AssertionError("never called")


class _Rebuild:
    def __init__(self, key: str, storage_cls: str, offset: int, shape, stride) -> None:
        self.key, self.storage_cls, self.offset = key, storage_cls, offset
        self.shape, self.stride = shape, stride


class _TorchLikePickler(pickle._Pickler):  # the pure-Python pickler lets us emit GLOBAL by hand
    def __init__(self, file, storages: dict, legacy: bool) -> None:
        super().__init__(file, protocol=2)
        self.storages, self.legacy = storages, legacy

    def save_global(self, obj, name=None):
        if isinstance(obj, _Global):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            return
        super().save_global(obj, name)

    def reducer_override(self, obj):
        if isinstance(obj, _Rebuild):
            return _Global("torch._utils", "_rebuild_tensor_v2"), (
                ("storage", obj.key, obj.storage_cls),
                obj.offset,
                tuple(obj.shape),
                tuple(obj.stride),
                False,
                OrderedDict(),
            )
        return NotImplemented

    def persistent_id(self, obj):
        if isinstance(obj, tuple) and len(obj) == 3 and obj[0] == "storage":
            _, key, cls = obj
            numel = self.storages[key].size
            if self.legacy:
                return ("storage", _Global("torch", cls), key, "cpu", numel, None)
            return ("storage", _Global("torch", cls), key, "cpu", numel)
        return None

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _Global):
            return self.save_global(obj)
        return super().save(obj, save_persistent_id)


def _state_and_storages():
    """A state dict with a contiguous, a transposed (strided) and an offset tensor, plus an int64."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(24).astype(np.float32)
    b = np.arange(5, dtype=np.int64)
    storages = {"0": a, "1": b}
    state = OrderedDict(
        conv=_Rebuild("0", "FloatStorage", 0, (2, 3, 2, 2), (12, 4, 2, 1)),
        transposed=_Rebuild("0", "FloatStorage", 0, (4, 6), (1, 4)),
        tail=_Rebuild("0", "FloatStorage", 20, (4,), (1,)),
        count=_Rebuild("1", "LongStorage", 0, (), ()),
    )
    expected = {
        "conv": a.reshape(2, 3, 2, 2),
        "transposed": a.reshape(6, 4).T,
        "tail": a[20:],
        "count": np.int64(0),
    }
    return state, storages, expected


def _pickle(obj, storages, legacy) -> bytes:
    buf = io.BytesIO()
    _TorchLikePickler(buf, storages, legacy).dump(obj)
    return buf.getvalue()


def write_legacy_checkpoint(path: Path, state, storages) -> None:
    with path.open("wb") as f:
        f.write(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2))
        f.write(pickle.dumps(1001, protocol=2))
        f.write(pickle.dumps({"protocol_version": 1001, "little_endian": True}, protocol=2))
        f.write(_pickle(state, storages, legacy=True))
        f.write(pickle.dumps(list(storages), protocol=2))
        for arr in storages.values():
            f.write(struct.pack("<q", arr.size) + arr.astype(arr.dtype.newbyteorder("<")).tobytes())


def write_zip_checkpoint(path: Path, state, storages) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", _pickle(state, storages, legacy=False))
        for key, arr in storages.items():
            zf.writestr(f"archive/data/{key}", arr.tobytes())


@pytest.mark.parametrize("writer", [write_legacy_checkpoint, write_zip_checkpoint], ids=["legacy", "zip"])
def test_reader_rebuilds_tensors_from_hand_written_checkpoint(tmp_path, writer):
    state, storages, expected = _state_and_storages()
    path = tmp_path / "tiny.pth"
    writer(path, state, storages)
    loaded = read_torch_checkpoint(path)
    assert list(loaded) == list(expected)
    for name, value in expected.items():
        assert loaded[name].dtype == value.dtype, name
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)


def test_reader_refuses_code_in_pickle(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil.pth"
    with path.open("wb") as f:
        for obj in (0x1950A86A20F9469CFC6C, 1001, {}, {"w": Evil()}):
            f.write(pickle.dumps(obj, protocol=2))
    with pytest.raises(CheckpointError, match=r"builtin\w*\.print, which"):
        read_torch_checkpoint(path)


def test_reader_reports_truncated_and_foreign_files(tmp_path):
    state, storages, _ = _state_and_storages()
    path = tmp_path / "cut.pth"
    write_legacy_checkpoint(path, state, storages)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="truncated"):
        read_torch_checkpoint(path)
    other = tmp_path / "notes.pth"
    other.write_bytes(pickle.dumps(12345, protocol=2))
    with pytest.raises(CheckpointError, match="magic"):
        read_torch_checkpoint(other)
    with pytest.raises(CheckpointError, match="cannot read"):
        read_torch_checkpoint(tmp_path / "missing.pth")


def test_checkpoint_is_found_through_environment(tmp_path, monkeypatch):
    target = tmp_path / MOBILENET_V2_CHECKPOINT
    target.write_bytes(b"x")
    monkeypatch.setenv("CORROSCOPE_ENCODER_WEIGHTS", str(tmp_path))
    assert find_mobilenet_v2_checkpoint() == target
    monkeypatch.setenv("CORROSCOPE_ENCODER_WEIGHTS", str(target))
    assert find_mobilenet_v2_checkpoint() == target


# ---------------------------------------------------------------- the real ImageNet checkpoint

_MNV2_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _real_checkpoint() -> Path:
    path = find_mobilenet_v2_checkpoint()
    if path is None:
        pytest.skip(
            f"{MOBILENET_V2_CHECKPOINT} not found: run scripts/fetch-encoder-weights "
            "or set CORROSCOPE_ENCODER_WEIGHTS"
        )
    return path


def _np_conv(x, w, stride=1, depthwise=False):
    """torchvision conv on NHWC float64: padding (k-1)//2 on every side; w is OIHW or (C,1,kh,kw)."""
    kh, kw = w.shape[2:]
    p = (kh - 1) // 2
    x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    ho, wo = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], ho, wo, w.shape[0]))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride]
            out += patch * w[:, 0, i, j] if depthwise else patch @ w[:, :, i, j].T
    return out


def _np_bn(x, sd, prefix):
    g, b, m, v = (sd[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var"))
    return (x - m) / np.sqrt(v + 1e-5) * g + b


def _relu6(x):
    return np.clip(x, 0.0, 6.0)


def numpy_mobilenet_v2(images: np.ndarray, sd: dict) -> np.ndarray:
    """torchvision's MobileNetV2 classifier in plain numpy (float64), on RGB 0..255 images."""
    sd = {k: v.astype(np.float64) for k, v in sd.items()}
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    x = (images.astype(np.float64) / 255.0 - mean) / std
    x = _relu6(_np_bn(_np_conv(x, sd["features.0.0.weight"], 2), sd, "features.0.1"))
    index, cin = 1, 32
    for t, c, n, s in _MNV2_SETTINGS:
        for r in range(n):
            stride, k, inp = (s if r == 0 else 1), f"features.{index}.conv", x
            if t != 1:
                x = _relu6(_np_bn(_np_conv(x, sd[f"{k}.0.0.weight"]), sd, f"{k}.0.1"))
                dw, proj = f"{k}.1", f"{k}.2"
            else:
                dw, proj = f"{k}.0", f"{k}.1"
            x = _relu6(_np_bn(_np_conv(x, sd[f"{dw}.0.weight"], stride, depthwise=True), sd, f"{dw}.1"))
            bn = f"{k}.3" if t != 1 else f"{k}.2"
            x = _np_bn(_np_conv(x, sd[f"{proj}.weight"]), sd, bn)
            if stride == 1 and cin == c:
                x = x + inp
            index, cin = index + 1, c
    x = _relu6(_np_bn(_np_conv(x, sd["features.18.0.weight"]), sd, "features.18.1"))
    x = x.mean(axis=(1, 2))
    return x @ sd["classifier.1.weight"].T + sd["classifier.1.bias"]


def _test_images(size: int = 96) -> np.ndarray:
    """Two simple photos: an orange disk on a blue-grey gradient, and seeded smooth noise."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    first = np.stack([60 + 80 * yy, 90 + 80 * yy, 140 + 60 * xx], axis=-1)
    disk = (yy - 0.5) ** 2 + (xx - 0.45) ** 2 < 0.09
    first[disk] = (230, 120, 30)
    rng = np.random.default_rng(1)
    coarse = rng.uniform(0, 255, (size // 8, size // 8, 3))
    second = np.kron(coarse, np.ones((8, 8, 1)))
    return np.stack([first, second]).astype(np.float32)


@pytest.mark.slow
def test_ported_classifier_matches_numpy_forward_pass():
    from training.models.backbones import mobilenet_v2_classifier
    from training.models.pretrained import port_mobilenet_v2

    sd = read_torch_checkpoint(_real_checkpoint())
    assert len(sd) == 314
    assert sum(v.size for v in sd.values() if v.dtype == np.float32) == 3_538_984  # 3.5 M parameters
    model = mobilenet_v2_classifier()
    assert port_mobilenet_v2(model, sd) == 262  # every weight of the classifier set from the checkpoint
    images = _test_images()
    expected = numpy_mobilenet_v2(images, sd)
    got = model.predict(images, verbose=0)
    assert np.abs(got - expected).max() < 1e-4 * np.abs(expected).max()
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    # Stable top-1: the same photo flipped left-right keeps its class, and the two photos differ.
    flipped = model.predict(images[:, :, ::-1], verbose=0)
    assert flipped[0].argmax() == got[0].argmax()
    assert got[0].argmax() != got[1].argmax()


@pytest.mark.slow
def test_deeplab_mobilenet_encoder_gets_imagenet_weights(monkeypatch):
    import keras

    from training.models import build_model
    from training.models.backbones import mobilenet_v2_classifier
    from training.models.pretrained import port_mobilenet_v2

    path = _real_checkpoint()
    sd = read_torch_checkpoint(path)
    monkeypatch.setenv("CORROSCOPE_ENCODER_WEIGHTS", str(path))
    model = build_model("deeplabv3plus", "mobilenetv2", input_shape=(96, 96, 3), encoder_weights="imagenet")
    np.testing.assert_array_equal(
        model.get_layer("mnv2_stem_conv").get_weights()[0], sd["features.0.0.weight"].transpose(2, 3, 1, 0)
    )
    np.testing.assert_array_equal(
        model.get_layer("mnv2_block17_project_bn").moving_variance, sd["features.17.conv.3.running_var"]
    )
    # The low-level tap (stride 4, before any dilation) computes exactly what the classifier computes.
    classifier = mobilenet_v2_classifier((96, 96, 3))
    port_mobilenet_v2(classifier, sd)
    tap = "mnv2_block4_expand_relu"
    images = _test_images()
    ours = keras.Model(model.input, model.get_layer(tap).output).predict(images, verbose=0)
    ref = keras.Model(classifier.input, classifier.get_layer(tap).output).predict(images, verbose=0)
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    assert ours.std() > 0.1  # real features, not an untrained near-constant map


def test_missing_imagenet_checkpoint_says_how_to_fetch(tmp_path, monkeypatch):
    from training.models import build_model

    monkeypatch.setenv("CORROSCOPE_ENCODER_WEIGHTS", str(tmp_path / "nowhere.pth"))
    monkeypatch.setenv("HOME", str(tmp_path))  # hides the default cache
    with pytest.raises(CheckpointError, match="scripts/fetch-encoder-weights"):
        build_model("deeplabv3plus", "mobilenetv2", input_shape=(64, 64, 3), encoder_weights="imagenet")
    with pytest.raises(CheckpointError, match="does not exist"):
        build_model(
            "deeplabv3plus", "mobilenetv2", input_shape=(64, 64, 3), encoder_weights=str(tmp_path / "x")
        )
