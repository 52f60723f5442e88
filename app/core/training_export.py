"""Reviewed photos as training data, in the origin's layout that `training.data` reads.

`OUT/DATASET/original/ORI_<id>.png` (the photo as displayed: EXIF-rotated, lossless) with
`OUT/DATASET/ground_truth/GT_<id>.png` (the reviewed mask in the palette), and `OUT/manifest.json` listing
every pair with its source photo, the photo's SHA-256 and the review (who, when, note). Photo or mask
files are never replaced: an export that would replace one writes nothing. A later export into the same
folder adds its pairs to the manifest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from app.core.errors import ExportError, OutputExistsError
from app.core.export import encode_mask_png, output_stems
from app.core.files import atomic_write_bytes, encode_png
from app.core.palette import DEFAULT_CLASSES, ClassInfo
from app.core.photos import probe_image, read_image
from app.core.reviewed import ReviewState
from app.core.text import counted

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_KIND = "corroscope.training-export"
MANIFEST_SCHEMA = 1


@dataclass(frozen=True, eq=False)
class ReviewedPhoto:
    """One photo and its reviewed label map (uint8 HxW, the photo's displayed size)."""

    photo: Path
    labels: np.ndarray = field(repr=False)
    review: ReviewState


@dataclass(frozen=True)
class TrainingExport:
    """What an export wrote: the dataset folder, its manifest and the ids of the new pairs."""

    root: Path
    manifest: Path
    ids: tuple[str, ...]


def training_files(export: TrainingExport) -> list[Path]:
    """Every file an export wrote: each pair's photo and mask, then the manifest."""
    return [*(p for i in export.ids for p in pair_paths(export.root, i)), export.manifest]


def pair_paths(root: Path, pair_id: str) -> tuple[Path, Path]:
    """(photo, mask) of one pair in the origin's layout."""
    base = root / "DATASET"
    return base / "original" / f"ORI_{pair_id}.png", base / "ground_truth" / f"GT_{pair_id}.png"


def _check(items: Sequence[ReviewedPhoto], root: Path, ids: dict[Path, str]) -> None:
    if not items:
        raise ExportError("no reviewed photos to export: mark photos reviewed first")
    not_reviewed = [it.photo.name for it in items if not it.review.is_reviewed]
    if not_reviewed:
        raise ExportError(
            f"only reviewed photos become training data; not reviewed: {', '.join(not_reviewed[:10])}"
        )
    for it in items:
        width, height = probe_image(it.photo)
        if it.labels.shape != (height, width):
            raise ExportError(
                f"{it.photo.name}: the mask is {it.labels.shape[1]}x{it.labels.shape[0]} but the photo is "
                f"{width}x{height}; nothing was written"
            )
    existing = [p for it in items for p in pair_paths(root, ids[it.photo]) if p.exists()]
    if existing:
        names = ", ".join(p.name for p in existing[:10])
        raise OutputExistsError(
            f"{root}: {counted(len(existing), 'file')} already there ({names}); nothing was written. "
            "Export into another folder, or remove those files."
        )


def _read_manifest(path: Path) -> dict:
    if not path.exists():
        return {"schema": MANIFEST_SCHEMA, "kind": MANIFEST_KIND, "pairs": []}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ExportError(f"{path}: cannot read the existing manifest ({exc}); nothing was written") from exc
    if (
        not isinstance(raw, dict)
        or raw.get("kind") != MANIFEST_KIND
        or not isinstance(raw.get("pairs"), list)
    ):
        raise ExportError(f"{path} is not a Corroscope training-export manifest; nothing was written")
    return raw


def _pair_record(item: ReviewedPhoto, pair_id: str, rgb: np.ndarray, classes: Sequence[ClassInfo]) -> dict:
    counts = np.bincount(item.labels.ravel(), minlength=256)
    return {
        "id": pair_id,
        "photo": f"DATASET/original/ORI_{pair_id}.png",
        "mask": f"DATASET/ground_truth/GT_{pair_id}.png",
        "source_photo": str(item.photo),
        "source_sha256": hashlib.sha256(item.photo.read_bytes()).hexdigest(),
        "width": int(rgb.shape[1]),
        "height": int(rgb.shape[0]),
        "pixels": {c.name: int(counts[c.id]) for c in classes},
        "review": item.review.to_json(),
    }


def export_training_data(
    items: Sequence[ReviewedPhoto],
    out_dir: str | os.PathLike[str],
    classes: Sequence[ClassInfo] = DEFAULT_CLASSES,
) -> TrainingExport:
    """Write the photos and their reviewed masks as training pairs; `OutputExistsError` before writing
    anything when a pair's file exists; `ExportError` for a photo that is not reviewed or a mask whose
    size is not its photo's."""
    from app import __version__

    root = Path(out_dir)
    ids = output_stems([it.photo for it in items])
    _check(items, root, ids)
    manifest_path = root / MANIFEST
    manifest = _read_manifest(manifest_path)
    known = {p.get("id") for p in manifest["pairs"] if isinstance(p, dict)}
    clash = sorted(known & set(ids.values()))
    if clash:
        raise OutputExistsError(f"{manifest_path} already lists {', '.join(clash[:10])}; nothing was written")
    for sub in ("original", "ground_truth"):
        (root / "DATASET" / sub).mkdir(parents=True, exist_ok=True)
    records = []
    for item in items:
        rgb = read_image(item.photo)
        photo_out, mask_out = pair_paths(root, ids[item.photo])
        atomic_write_bytes(photo_out, encode_png(rgb))
        atomic_write_bytes(mask_out, encode_mask_png(item.labels, classes))
        records.append(_pair_record(item, ids[item.photo], rgb, classes))
        log.info("exported %s as %s", item.photo, photo_out.name)
    manifest.update(
        classes=[c.to_json() for c in classes],
        updated_at=datetime.now(timezone.utc).astimezone().replace(microsecond=0).isoformat(),
        corroscope_version=__version__,
    )
    manifest["pairs"] = [*manifest["pairs"], *records]
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    atomic_write_bytes(manifest_path, text.encode("utf-8"), overwrite=True)  # our own list, extended
    return TrainingExport(root, manifest_path, tuple(r["id"] for r in records))
