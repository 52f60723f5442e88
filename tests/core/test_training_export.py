"""Reviewed photos written as training pairs in the origin layout, with a manifest; nothing replaced."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.errors import ExportError, OutputExistsError
from app.core.palette import decode_mask
from app.core.reviewed import ReviewState
from app.core.synthetic import synthetic_pipe
from app.core.training_export import ReviewedPhoto, export_training_data, pair_paths

REVIEW = ReviewState.reviewed_now("Inspector", note="checked on site")


def _photos(folder: Path, n: int, size=(48, 64), fmt: str = "jpg") -> list[ReviewedPhoto]:
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(n):
        rgb, labels = synthetic_pipe(20 + i, size)
        path = folder / f"IMG_{i}.{fmt}"
        Image.fromarray(rgb).save(path, **({"quality": 95} if fmt == "jpg" else {}))
        items.append(ReviewedPhoto(path, labels, REVIEW))
    return items


def test_reviewed_photos_become_origin_layout_pairs_with_a_manifest(tmp_path):
    items = _photos(tmp_path / "photos", 3)
    done = export_training_data(items, tmp_path / "train-extra")
    assert done.ids == ("IMG_0", "IMG_1", "IMG_2")
    for item, pair_id in zip(items, done.ids, strict=True):
        photo, mask = pair_paths(done.root, pair_id)
        assert photo.name == f"ORI_{pair_id}.png" and mask.name == f"GT_{pair_id}.png"
        with Image.open(item.photo) as im:
            assert np.array_equal(np.asarray(Image.open(photo)), np.asarray(im.convert("RGB"))), "lossless"
        labels, off = decode_mask(np.asarray(Image.open(mask).convert("RGB")))
        assert np.array_equal(labels, item.labels) and off == 0
    manifest = json.loads(done.manifest.read_text(encoding="utf-8"))
    assert manifest["kind"] == "corroscope.training-export" and len(manifest["pairs"]) == 3
    first = manifest["pairs"][0]
    assert first["source_sha256"] == hashlib.sha256(items[0].photo.read_bytes()).hexdigest()
    assert ReviewState.from_json(first["review"]) == REVIEW
    assert first["pixels"]["corrosion"] == int((items[0].labels == 0).sum())
    assert (first["width"], first["height"]) == (64, 48)


def test_an_export_never_replaces_a_file_and_a_later_one_adds_to_the_manifest(tmp_path):
    out = tmp_path / "extra"
    items = _photos(tmp_path / "a", 2)
    export_training_data(items, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(OutputExistsError, match="nothing was written"):
        export_training_data(items, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    more = _photos(tmp_path / "b", 3, fmt="png")[2:]  # IMG_2.png
    export_training_data(more, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [p["id"] for p in manifest["pairs"]] == ["IMG_0", "IMG_1", "IMG_2"]


def test_same_named_photos_get_distinct_pairs(tmp_path):
    a, b = _photos(tmp_path / "a", 1), _photos(tmp_path / "b", 1)
    done = export_training_data([*a, *b], tmp_path / "out")
    assert len(set(done.ids)) == 2 and all(i.startswith("IMG_0_") for i in done.ids)


def test_unreviewed_photos_and_wrong_sized_masks_are_refused_before_writing(tmp_path):
    items = _photos(tmp_path / "p", 2)
    model_only = ReviewedPhoto(items[1].photo, items[1].labels, ReviewState())
    with pytest.raises(ExportError, match=r"not reviewed: IMG_1\.jpg"):
        export_training_data([items[0], model_only], tmp_path / "out")
    wrong = ReviewedPhoto(items[1].photo, items[1].labels[:10], REVIEW)
    with pytest.raises(ExportError, match="the mask is 64x10 but the photo is 64x48; nothing was written"):
        export_training_data([items[0], wrong], tmp_path / "out")
    with pytest.raises(ExportError, match="no reviewed photos"):
        export_training_data([], tmp_path / "out")
    assert not (tmp_path / "out").exists()
