"""Dataset folders: photo/mask pairs, mask decoding, train/val splits, in-memory arrays.

Two layouts are understood (docs/design.md section 3):
- the origin's: `DATASET/original/ORI_NNN.png` + `DATASET/ground_truth/GT_NNN.png` (the `DATASET/`
  level is optional); a pair's id is `NNN`;
- a plain one: `images/NAME.ext` + `masks/NAME.ext`, paired by file stem; a pair's id is the stem.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from app.core.errors import CorroscopeError
from app.core.inference import network_input
from app.core.palette import DEFAULT_CLASSES, ClassInfo, decode_mask
from app.core.photos import read_image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
SPLIT_MANIFEST = "split.json"


class DatasetError(CorroscopeError):
    """A dataset folder that cannot be used as it is; the message says what to fix."""


@dataclass(frozen=True)
class Pair:
    """One photo and its RGB mask."""

    id: str
    image: Path
    mask: Path


@dataclass(frozen=True)
class Samples:
    """Decoded pairs in memory: photos uint8 NxHxWx3 RGB, labels uint8 NxHxW class ids."""

    ids: tuple[str, ...]
    images: np.ndarray
    labels: np.ndarray
    off_palette: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Split:
    """Ids of the training and validation pairs, and where the split came from."""

    train: tuple[str, ...]
    val: tuple[str, ...]
    source: str

    def to_json(self) -> dict:
        return {"source": self.source, "train": list(self.train), "val": list(self.val)}


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _layout(data_dir: Path) -> tuple[Path, Path, str, str]:
    """(photo folder, mask folder, photo prefix, mask prefix) of a dataset folder."""
    for root in (data_dir / "DATASET", data_dir):
        if (root / "original").is_dir() and (root / "ground_truth").is_dir():
            return root / "original", root / "ground_truth", "ORI_", "GT_"
    if (data_dir / "images").is_dir() and (data_dir / "masks").is_dir():
        return data_dir / "images", data_dir / "masks", "", ""
    raise DatasetError(
        f"{data_dir}: no dataset layout found. Expected DATASET/original + DATASET/ground_truth "
        "(ORI_NNN.png with GT_NNN.png) or images/ + masks/ with matching file names."
    )


def photo_folder(data_dir: str | Path) -> Path:
    """The folder of a dataset's photos (for the export's parity check and calibration)."""
    return _layout(Path(data_dir))[0]


def _pair_id(path: Path, prefix: str) -> str:
    stem = path.stem
    return stem[len(prefix) :] if prefix and stem.startswith(prefix) else stem


def find_pairs(data_dir: str | Path) -> list[Pair]:
    """All photo/mask pairs of a dataset folder, sorted by id; DatasetError on unpaired files."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DatasetError(f"{data_dir}: not a folder")
    img_dir, mask_dir, img_prefix, mask_prefix = _layout(data_dir)
    images: dict[str, Path] = {}
    masks: dict[str, Path] = {}
    for target, folder, prefix in ((images, img_dir, img_prefix), (masks, mask_dir, mask_prefix)):
        for path in _images_in(folder):
            key = _pair_id(path, prefix)
            if key in target:
                raise DatasetError(f"{folder}: two files for id {key!r}: {target[key].name} and {path.name}")
            target[key] = path
    lonely_images = sorted(images.keys() - masks.keys())
    lonely_masks = sorted(masks.keys() - images.keys())
    if lonely_images or lonely_masks:
        parts = []
        if lonely_images:
            names = ", ".join(images[k].name for k in lonely_images[:10])
            parts.append(f"{len(lonely_images)} photo(s) without a mask in {mask_dir}: {names}")
        if lonely_masks:
            names = ", ".join(masks[k].name for k in lonely_masks[:10])
            parts.append(f"{len(lonely_masks)} mask(s) without a photo in {img_dir}: {names}")
        raise DatasetError("; ".join(parts) + ". Add the missing files or remove the extra ones.")
    if not images:
        raise DatasetError(f"{img_dir}: no photos found ({', '.join(IMAGE_SUFFIXES)})")
    return [Pair(k, images[k], masks[k]) for k in sorted(images)]


def read_rgb(path: Path) -> np.ndarray:
    """Any image file -> uint8 HxWx3 RGB, read by the app's own reader (EXIF-rotated as viewers show it);
    DatasetError naming the file when it cannot be read."""
    try:
        return read_image(path)
    except CorroscopeError as exc:
        raise DatasetError(f"{exc}. Replace or remove the file.") from exc


def _resize(array: np.ndarray, size: int, nearest: bool) -> np.ndarray:
    """A mask nearest-neighbour (class ids never blend); a photo exactly as the app feeds the network
    (`app.core.inference.network_input`: area-averaged when shrinking), so training sees what users run."""
    if array.shape[0] == size and array.shape[1] == size:
        return array
    if nearest:
        return np.asarray(Image.fromarray(array).resize((size, size), resample=Image.NEAREST))
    return network_input(array, (size, size))


def load_pair(
    pair: Pair, size: int | None = None, classes: Sequence[ClassInfo] = DEFAULT_CLASSES
) -> tuple[np.ndarray, np.ndarray, int]:
    """(photo uint8 HxWx3, class ids uint8 HxW, off-palette pixel count) of one pair.

    With `size`, both are resized to size x size: the photo bilinearly, the ids nearest-neighbour.
    """
    image = read_rgb(pair.image)
    mask = read_rgb(pair.mask)
    if image.shape[:2] != mask.shape[:2]:
        raise DatasetError(
            f"{pair.image.name} is {image.shape[1]}x{image.shape[0]} but its mask {pair.mask.name} is "
            f"{mask.shape[1]}x{mask.shape[0]}: a mask must have its photo's size."
        )
    labels, off = decode_mask(mask, classes)
    if size is not None:
        image = _resize(image, size, nearest=False)
        labels = _resize(labels, size, nearest=True)
    return image, labels, off


def load_samples(
    pairs: Sequence[Pair], size: int | None, classes: Sequence[ClassInfo] = DEFAULT_CLASSES
) -> Samples:
    """Decode every pair once into memory (all at `size`, or all at their common native size)."""
    if not pairs:
        raise DatasetError("no pairs to load")
    images, labels, offs = [], [], []
    for pair in pairs:
        img, lab, off = load_pair(pair, size, classes)
        if images and img.shape != images[0].shape:
            raise DatasetError(
                f"{pair.image.name} is {img.shape[1]}x{img.shape[0]}, unlike {pairs[0].image.name} "
                f"({images[0].shape[1]}x{images[0].shape[0]}); pass an input size to resize them all."
            )
        if off:
            log.info("%s: %d off-palette mask pixels", pair.mask.name, off)
        images.append(img)
        labels.append(lab)
        offs.append(off)
    return Samples(tuple(p.id for p in pairs), np.stack(images), np.stack(labels), tuple(offs))


def with_extra(
    samples: Samples,
    folders: Sequence[str | Path],
    size: int | None,
    classes: Sequence[ClassInfo] = DEFAULT_CLASSES,
) -> Samples:
    """`samples` plus every pair of each extra dataset folder (e.g. exported reviewed photos), all at
    `size`; the extra pairs' ids get their folder's name in front, so they never clash with the data's."""
    if not folders:
        return samples
    parts = [samples]
    for folder in folders:
        pairs = find_pairs(folder)
        extra = load_samples(pairs, size, classes)
        log.info("adding %d pair(s) from %s to the training photos", len(extra), folder)
        tagged = tuple(f"{Path(folder).name}/{i}" for i in extra.ids)
        parts.append(Samples(tagged, extra.images, extra.labels, extra.off_palette))
    if any(p.images.shape[1:] != samples.images.shape[1:] for p in parts):
        raise DatasetError("extra data must load at the training size; pass --input-size")
    return Samples(
        tuple(i for p in parts for i in p.ids),
        np.concatenate([p.images for p in parts]),
        np.concatenate([p.labels for p in parts]),
        tuple(o for p in parts for o in p.off_palette),
    )


def class_frequencies(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Share of pixels of each class (sums to 1)."""
    counts = np.bincount(labels.ravel(), minlength=num_classes)[:num_classes].astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def class_weights(
    labels: np.ndarray, num_classes: int, clip: tuple[float, float] = (0.1, 10.0)
) -> np.ndarray:
    """Median-frequency balancing: weight = median(freq) / freq(class), clipped; absent classes get 0."""
    freq = class_frequencies(labels, num_classes)
    present = freq > 0
    weights = np.zeros(num_classes)
    weights[present] = np.median(freq[present]) / freq[present]
    weights[present] = np.clip(weights[present], *clip)
    return weights


def make_split(ids: Sequence[str], val_fraction: float, seed: int) -> Split:
    """A seeded random split; the same ids, fraction and seed always give the same split."""
    if not 0.0 < val_fraction < 1.0:
        raise DatasetError(f"validation fraction must be between 0 and 1, got {val_fraction}")
    ordered = sorted(ids)
    if len(ordered) < 2:
        raise DatasetError(f"need at least 2 pairs to split, found {len(ordered)}")
    n_val = min(max(1, round(len(ordered) * val_fraction)), len(ordered) - 1)
    shuffled = ordered[:]
    random.Random(seed).shuffle(shuffled)
    val = sorted(shuffled[:n_val])
    train = sorted(shuffled[n_val:])
    return Split(tuple(train), tuple(val), f"seeded: val_fraction={val_fraction}, seed={seed}")


def _read_list(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_split_lists(data_dir: str | Path, ids: Sequence[str]) -> Split:
    """The split in `train.txt` / `val.txt` of a dataset folder (one pair id a line)."""
    data_dir = Path(data_dir)
    train_txt, val_txt = data_dir / "train.txt", data_dir / "val.txt"
    if not train_txt.is_file() or not val_txt.is_file():
        raise DatasetError(
            f"{data_dir}: --split-from-lists needs train.txt and val.txt there (one pair id a line)"
        )
    train, val = _read_list(train_txt), _read_list(val_txt)
    known = set(ids)
    unknown = sorted((set(train) | set(val)) - known)
    if unknown:
        raise DatasetError(f"split lists name ids with no pair in {data_dir}: {', '.join(unknown[:10])}")
    both = sorted(set(train) & set(val))
    if both:
        raise DatasetError(f"ids in both train.txt and val.txt: {', '.join(both[:10])}")
    if not train or not val:
        raise DatasetError(f"{data_dir}: train.txt and val.txt must each name at least one pair")
    return Split(tuple(train), tuple(val), f"lists: {train_txt}, {val_txt}")


def write_split(split: Split, folder: str | Path) -> Path:
    """Write the split manifest (`split.json`) plus `train.txt` / `val.txt` into a folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.txt").write_text("".join(f"{i}\n" for i in split.train), encoding="utf-8")
    (folder / "val.txt").write_text("".join(f"{i}\n" for i in split.val), encoding="utf-8")
    path = folder / SPLIT_MANIFEST
    path.write_text(json.dumps(split.to_json(), indent=2) + "\n", encoding="utf-8")
    return path


def read_split_manifest(path: str | Path) -> Split:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return Split(tuple(raw["train"]), tuple(raw["val"]), str(raw.get("source", path)))


def select(pairs: Sequence[Pair], ids: Sequence[str]) -> list[Pair]:
    """The pairs with these ids, in the order of `ids`."""
    by_id = {p.id: p for p in pairs}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise DatasetError(f"no pair for id(s): {', '.join(missing[:10])}")
    return [by_id[i] for i in ids]
