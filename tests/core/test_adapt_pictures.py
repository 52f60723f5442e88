"""Site adaptation knows a photo by its picture, not its file's bytes: a picture re-saved with another PNG
compression, or re-encoded as JPEG, is a copy, and one an earlier adaptation used is known again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.adapt import AdaptRefused, adapt_model, reviewed_pairs
from app.core.adapt_record import KEY_ADAPTATION, earlier_steps, used_before
from app.core.files import sha256_file
from app.core.onnx_edit import ModelBytes
from app.core.picture_key import PictureKey, picture_key
from tests.core.test_adapt import FEW, _site, site_model
from tests.core.test_adapt_inputs import GREY, _painted


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return site_model(tmp_path / "base.onnx")


def _resaved(photo: Path, mask: Path, name: str, **save) -> tuple[Path, Path]:
    """`photo` saved again under `name` (other bytes, same picture), with a copy of its mask."""
    twin = photo.with_name(name)
    with Image.open(photo) as im:
        im.convert("RGB").save(twin, **save)
    return twin, Path(shutil.copy(mask, mask.with_name(f"{twin.stem}_mask.reviewed.png")))


def test_one_picture_saved_five_ways_is_one_photo(tmp_path: Path, base: Path) -> None:
    """Five PNG compression levels of one picture, each with its mask, passed the 5-photo minimum and
    leave-one-out scored the picture it was fitted on (a false gain of 20 points)."""
    photos, masks = _site(tmp_path, 1)
    (photo, mask) = reviewed_pairs(photos, masks)[0]
    pairs = [_resaved(photo, mask, f"again{k}.png", compress_level=k) for k in (1, 3, 5, 9)]
    pairs.append(_resaved(photo, mask, "again.jpg", quality=95))
    assert len({sha256_file(p) for p, _m in pairs}) == 5  # five files, five byte hashes
    with pytest.raises(AdaptRefused, match=r"^1 reviewed photo; adaptation needs at least 5") as refused:
        adapt_model(base, pairs, tmp_path / "site.onnx")
    text = str(refused.value)
    assert "4 photos are copies of another (the same picture, re-saved or re-encoded)" in text
    assert "again3.png (of again1.png)" in text and "and 1 more" in text
    assert not (tmp_path / "site.onnx").exists()


def test_distinct_pictures_are_not_merged() -> None:
    """Two scenes of the tiny site are other pictures; the same one re-encoded is the same."""
    rng = np.random.default_rng(1)
    a = PictureKey("a" * 64, rng.integers(0, 256, 256, dtype=np.uint8).tobytes(), 1.0)
    b = PictureKey("b" * 64, rng.integers(0, 256, 256, dtype=np.uint8).tobytes(), 1.0)
    assert not a.same_picture(b)
    near = PictureKey("c" * 64, (np.frombuffer(a.thumbnail, np.uint8) ^ 1).tobytes(), 1.0)
    assert a.same_picture(near) and not near.same_picture(PictureKey("d" * 64, near.thumbnail, 1.5))
    assert PictureKey.from_json(a.to_json()) == a
    assert PictureKey.from_json({"pixels_sha256": "x", "thumbnail": "00", "aspect": 1}) is None
    assert not PictureKey("", b"", 0.0).same_picture(PictureKey("", b"", 0.0))  # undecodable: never one


def test_a_picture_an_earlier_adaptation_used_is_known_re_saved(tmp_path: Path, base: Path) -> None:
    """A re-saved photo counted as new to the adapted model, and was scored although it had seen it."""
    photos, masks = _site(tmp_path / "first", 5)
    first = adapt_model(base, reviewed_pairs(photos, masks), tmp_path / "a1.onnx")
    more, more_masks = _painted(tmp_path / "second", 3, GREY)  # the site's other pipes
    again = [_resaved(p, m, f"r{p.name}", compress_level=1) for p, m in reviewed_pairs(photos, masks)]
    second = adapt_model(first.path, again + reviewed_pairs(more, more_masks), tmp_path / "a2.onnx", FEW)
    assert second.photos == 8 and second.adapted.photos == 3
    assert any(
        "5 photos (rp0.png, rp1.png, rp2.png and 2 more) were used by an earlier" in n for n in second.notes
    )
    meta = json.loads(second.metadata[KEY_ADAPTATION])
    assert meta["chain"][-1]["photo_pictures"][0] == picture_key(again[0][0]).to_json()


def test_a_record_with_byte_hashes_only_still_knows_its_photos(tmp_path: Path) -> None:
    """Models adapted before picture keys record each photo's file SHA-256 alone: still matched."""
    sha = "ab" * 32
    chain = [{"base_model": {"file": "m.onnx", "sha256": "cd" * 32}, "photos": 1, "photo_sha256": [sha]}]
    steps, whole = earlier_steps({KEY_ADAPTATION: json.dumps({"chain": chain})})
    assert whole and used_before(steps) == ({sha}, [])
    bad = [{**chain[0], "photo_pictures": [{"pixels_sha256": "nope"}]}]
    assert earlier_steps({KEY_ADAPTATION: json.dumps({"chain": bad})}) == ([], False)


def test_names_and_order_do_not_change_the_adapted_model(tmp_path: Path, base: Path) -> None:
    """One random generator ran across the photos in order: renaming them changed the sample, the figures
    (10.68 against 10.58 points) and so what was accepted."""
    photos, masks = _site(tmp_path / "a", 6)
    pairs = reviewed_pairs(photos, masks)
    renamed = []
    for k, (photo, mask) in enumerate(reversed(pairs)):  # other names, the other way round
        twin = tmp_path / "b" / f"z{k}.png"
        twin.parent.mkdir(exist_ok=True)
        renamed.append(
            (Path(shutil.copy(photo, twin)), Path(shutil.copy(mask, twin.with_suffix(".mask.png"))))
        )
    one = adapt_model(base, pairs, tmp_path / "one.onnx")
    two = adapt_model(base, renamed, tmp_path / "two.onnx")
    assert one.adapted.share_error == two.adapted.share_error
    assert one.base.share_error == two.base.share_error
    assert sorted(one.adapted.errors) == sorted(two.adapted.errors)
    weights = [ModelBytes(r.path.read_bytes()).initializer("cls_w") for r in (one, two)]
    assert np.array_equal(*weights)
