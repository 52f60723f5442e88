"""Read PyTorch checkpoints without PyTorch, and port torchvision's ImageNet MobileNetV2 into Keras.

`read_torch_checkpoint` understands both of PyTorch's formats: the legacy one (a sequence of pickles
followed by the raw storages, PyTorch < 1.6, as `mobilenet_v2-b0353104.pth` is) and the zip one. The
unpickler is restricted: it resolves only the handful of names a state dict needs (tensor rebuild
functions, typed storages, OrderedDict) and refuses everything else, so a checkpoint cannot run code.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.errors import CorroscopeError

log = logging.getLogger(__name__)

MOBILENET_V2_CHECKPOINT = "mobilenet_v2-b0353104.pth"
ENCODER_WEIGHTS_ENV = "CORROSCOPE_ENCODER_WEIGHTS"
DEFAULT_CACHE_DIR = Path("~/.cache/corroscope")
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class CheckpointError(CorroscopeError):
    """A weights file that cannot be read or does not fit the model."""


@dataclass(frozen=True)
class _StorageType:
    dtype: type


class _Storage:
    """A storage whose bytes arrive after the pickle (legacy) or from a zip member (new format)."""

    def __init__(self, dtype, numel: int) -> None:
        self.dtype, self.numel = np.dtype(dtype), numel
        self.data: np.ndarray | None = None


@dataclass(frozen=True)
class _StorageView:
    root: _Storage
    offset: int  # in elements
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage | _StorageView
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    def to_numpy(self) -> np.ndarray:
        storage, offset = self.storage, self.offset
        if isinstance(storage, _StorageView):
            storage, offset = storage.root, offset + storage.offset
        if storage.data is None:
            raise CheckpointError("checkpoint is truncated: a tensor's storage was never written")
        flat = storage.data
        if not self.shape:
            return flat[offset : offset + 1].reshape(()).copy()
        last = offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride, strict=True))
        if min(self.shape) > 0 and (offset < 0 or last >= flat.size):
            raise CheckpointError("checkpoint is corrupt: a tensor reaches past its storage")
        item = flat.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=self.shape, strides=[s * item for s in self.stride], writeable=False
        )
        return np.array(view)


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *_ignored):
    return data


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the names a plain state dict uses; anything else is refused."""

    def __init__(self, file, persistent_load=None) -> None:
        super().__init__(file)
        self._persistent = persistent_load

    def find_class(self, module: str, name: str):
        if module == "collections" and name == "OrderedDict":
            import collections

            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise CheckpointError(
            f"checkpoint refers to {module}.{name}, which a plain weights file never needs; "
            "refusing to load it (only state dicts of tensors are supported)"
        )

    def persistent_load(self, pid):
        if self._persistent is None:
            raise CheckpointError("unexpected persistent reference in checkpoint")
        return self._persistent(pid)


def _read_legacy(f) -> dict:
    storages: dict[str, _Storage] = {}

    def persistent_load(pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise CheckpointError(f"unsupported object in legacy checkpoint: {pid!r:.60}")
        storage_type, key, _location, numel, view = pid[1:6]
        if not isinstance(storage_type, _StorageType):
            raise CheckpointError("legacy checkpoint storage without a known type")
        root = storages.setdefault(str(key), _Storage(storage_type.dtype, int(numel)))
        if view is not None:
            _view_key, offset, view_numel = view
            return _StorageView(root, int(offset), int(view_numel))
        return root

    if _RestrictedUnpickler(f).load() != _LEGACY_MAGIC:
        raise CheckpointError("not a PyTorch checkpoint (wrong magic number)")
    if _RestrictedUnpickler(f).load() != _LEGACY_PROTOCOL:
        raise CheckpointError("unsupported legacy PyTorch checkpoint protocol")
    _RestrictedUnpickler(f).load()  # sys_info: endianness and type sizes
    result = _RestrictedUnpickler(f, persistent_load).load()
    keys = _RestrictedUnpickler(f).load()
    for key in keys:
        storage = storages.get(str(key))
        if storage is None:
            raise CheckpointError(f"checkpoint lists storage {key!r} that no tensor uses")
        header = f.read(8)
        if len(header) != 8:
            raise CheckpointError("checkpoint is truncated (storage header)")
        (numel,) = struct.unpack("<q", header)
        nbytes = numel * storage.dtype.itemsize
        raw = f.read(nbytes)
        if numel != storage.numel or len(raw) != nbytes:
            raise CheckpointError("checkpoint is truncated or corrupt (storage size)")
        storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))
    return result


def _read_zip(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise CheckpointError(f"{path.name}: zip checkpoint without exactly one data.pkl")
        prefix = pkl[0][: -len("data.pkl")]
        storages: dict[str, _Storage] = {}

        def persistent_load(pid):
            if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
                raise CheckpointError(f"unsupported object in zip checkpoint: {pid!r:.60}")
            storage_type, key, _location, numel = pid[1:5]
            if not isinstance(storage_type, _StorageType):
                raise CheckpointError("zip checkpoint storage without a known type")
            key = str(key)
            if key not in storages:
                storage = _Storage(storage_type.dtype, int(numel))
                try:
                    raw = zf.read(f"{prefix}data/{key}")
                except KeyError:
                    raise CheckpointError(f"zip checkpoint misses storage {key}") from None
                if len(raw) != storage.numel * storage.dtype.itemsize:
                    raise CheckpointError(f"zip checkpoint storage {key} has the wrong size")
                storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))
                storages[key] = storage
            return storages[key]

        return _RestrictedUnpickler(io.BytesIO(zf.read(pkl[0])), persistent_load).load()


def read_torch_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """A PyTorch state dict file -> {name: numpy array}, without PyTorch and without running code."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            raw = _read_zip(path)
        else:
            with path.open("rb") as f:
                raw = _read_legacy(f)
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path.name} is not a readable PyTorch checkpoint ({exc})") from exc
    if isinstance(raw, dict) and "state_dict" in raw and isinstance(raw["state_dict"], dict):
        raw = raw["state_dict"]
    if not isinstance(raw, dict):
        raise CheckpointError(f"{path.name} holds a {type(raw).__name__}, not a state dict")
    out = {}
    for name, value in raw.items():
        if isinstance(value, _TensorRef):
            out[str(name)] = value.to_numpy()
    return out


def find_mobilenet_v2_checkpoint() -> Path | None:
    """The torchvision checkpoint from `$CORROSCOPE_ENCODER_WEIGHTS` (file or folder) or the cache."""
    candidates = []
    env = os.environ.get(ENCODER_WEIGHTS_ENV)
    if env:
        p = Path(env).expanduser()
        candidates.append(p / MOBILENET_V2_CHECKPOINT if p.is_dir() else p)
    candidates.append(DEFAULT_CACHE_DIR.expanduser() / MOBILENET_V2_CHECKPOINT)
    return next((p for p in candidates if p.is_file()), None)


def _torch_to_keras(layer, prefix: str, sd: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The Keras weight list of `layer` from torchvision tensors under `prefix`."""
    import keras

    def get(suffix: str) -> np.ndarray:
        key = f"{prefix}.{suffix}"
        if key not in sd:
            raise CheckpointError(f"checkpoint misses {key}; is it torchvision's MobileNetV2?")
        return sd[key].astype(np.float32)

    if isinstance(layer, keras.layers.BatchNormalization):
        return [get("weight"), get("bias"), get("running_mean"), get("running_var")]
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return [get("weight").transpose(2, 3, 0, 1)]  # (C, 1, kh, kw) -> (kh, kw, C, 1)
    if isinstance(layer, keras.layers.Conv2D):
        return [get("weight").transpose(2, 3, 1, 0)]  # OIHW -> HWIO
    if isinstance(layer, keras.layers.Dense):
        return [get("weight").T, get("bias")]
    raise CheckpointError(f"no port rule for layer {layer.name} ({type(layer).__name__})")


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
