"""Review state records and reviewed mask files: write, read back, refuse, find."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.errors import OutputExistsError, ReviewedMaskError
from app.core.mask_folder import MaskFolder, find_reviewed_mask
from app.core.palette import decode_mask, encode_mask
from app.core.reviewed import (
    ReviewState,
    read_reviewed_mask,
    reviewed_mask_path,
    write_reviewed_mask,
)
from app.core.synthetic import synthetic_pipe

REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pipe-corrosion"


def _labels(size=(48, 64)) -> np.ndarray:
    return synthetic_pipe(7, size)[1]


def test_review_state_round_trips_through_json():
    at = datetime(2026, 12, 1, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    state = ReviewState.reviewed_now(
        "  A. Inspector ", note="Flange re-painted", model_sha256="ab" * 32, at=at
    )
    assert state.is_reviewed and state.reviewed_by == "A. Inspector"
    assert state.reviewed_at == "2026-12-01T10:30:15+01:00"
    assert ReviewState.from_json(json.loads(json.dumps(state.to_json()))) == state
    assert state.csv_fields() == {
        "source": "reviewed",
        "reviewed_by": "A. Inspector",
        "reviewed_at": "2026-12-01T10:30:15+01:00",
    }
    assert ReviewState().csv_fields() == {"source": "model", "reviewed_by": "", "reviewed_at": ""}
    now = ReviewState.reviewed_now("B")
    assert datetime.fromisoformat(now.reviewed_at).tzinfo is not None
    with pytest.raises(ValueError, match="reviewer's name"):
        ReviewState.reviewed_now("  ")
    unknown = ReviewState.from_json({"source": "reviewed"})  # a mask from another tool
    assert unknown.is_reviewed and unknown.csv_fields()["reviewed_by"] == ""


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"source": "human"}, "must be one of"),
        ({"source": "reviewed", "reviewed_by": "A", "reviewed_at": "yesterday"}, "ISO 8601"),
        ({"source": "reviewed", "reviewed_by": "A", "reviewed_at": "2026-12-01T10:00:00"}, "UTC offset"),
        ({"source": "model", "reviewed_by": "A"}, "no reviewer"),
        ({"source": "model", "note": 3}, "must be text"),
        ([], "JSON object"),
    ],
)
def test_bad_review_states_are_refused_with_a_reason(raw, message):
    with pytest.raises(ValueError, match=message):
        ReviewState.from_json(raw)


def test_a_reviewed_mask_is_written_in_the_palette_with_its_review_and_read_back(tmp_path):
    labels = _labels()
    state = ReviewState.reviewed_now("Inspector Ä", note="note with ünïcode")
    path = write_reviewed_mask(reviewed_mask_path(tmp_path, "pipe 1"), labels, review=state)
    assert path.name == "pipe 1_mask.reviewed.png"
    with Image.open(path) as im:
        assert im.mode == "P"
        rgb = np.asarray(im.convert("RGB"))
    assert np.array_equal(rgb, encode_mask(labels)), "any viewer shows the ground-truth colours"
    back = read_reviewed_mask(path, size=(64, 48))
    assert np.array_equal(back.labels, labels) and back.review == state and back.off_palette == 0
    with pytest.raises(OutputExistsError):
        write_reviewed_mask(path, np.zeros_like(labels), review=state)
    assert np.array_equal(read_reviewed_mask(path).labels, labels), "the refused write left the file alone"
    write_reviewed_mask(path, np.zeros_like(labels), overwrite=True)
    again = read_reviewed_mask(path)
    assert (again.labels == 0).all() and again.review is None
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temp file left behind"


def test_an_rgb_mask_in_the_palette_with_a_little_noise_is_accepted(tmp_path):
    labels = _labels()
    rgb = encode_mask(labels).astype(np.int16)
    rng = np.random.default_rng(0)
    rgb = np.clip(rgb + rng.integers(-40, 41, rgb.shape), 0, 255).astype(np.uint8)  # JPEG-like noise
    rgb[0, :10] = 0  # black: background, the origin's rule
    rgb[5, 5] = (128, 0, 128)  # one anti-aliased pixel between corrosion and asset
    Image.fromarray(rgb).save(tmp_path / "m.png")
    got = read_reviewed_mask(tmp_path / "m.png", size=(64, 48), max_off_palette=0.01)
    expected = labels.copy()
    expected[0, :10] = 2
    expected[5, 5] = got.labels[5, 5]  # nearest of two equally near colours
    assert np.array_equal(got.labels, expected) and got.off_palette == 1


def test_wrong_size_and_off_palette_masks_are_refused_with_the_reason(tmp_path):
    labels = _labels()
    write_reviewed_mask(tmp_path / "a.png", labels)
    with pytest.raises(ReviewedMaskError, match=r"a.png is 64x48 but its photo is 48x64"):
        read_reviewed_mask(tmp_path / "a.png", size=(48, 64))
    rgb = encode_mask(labels)
    rgb[10:20, 10:20] = (255, 255, 255)
    Image.fromarray(rgb).save(tmp_path / "b.png")
    with pytest.raises(
        ReviewedMaskError, match=r"100 pixels \(3.26 %\) .* RGB \(255, 255, 255\) at x=10, y=10"
    ):
        read_reviewed_mask(tmp_path / "b.png", size=(64, 48))
    Image.fromarray(labels).save(tmp_path / "ids.png")  # grey class ids, not colours
    with pytest.raises(ReviewedMaskError, match="grey mask of class ids"):
        read_reviewed_mask(tmp_path / "ids.png")
    (tmp_path / "c.png").write_bytes(b"not a png")
    with pytest.raises(ReviewedMaskError, match="cannot read"):
        read_reviewed_mask(tmp_path / "c.png")
    with pytest.raises(ReviewedMaskError, match="not found"):
        read_reviewed_mask(tmp_path / "missing.png")


def test_an_indexed_png_with_off_palette_entries_is_refused(tmp_path):
    img = Image.new("P", (20, 10))
    img.putpalette([255, 0, 0, 0, 0, 255, 0, 255, 0, 60, 160, 60])
    img.putdata([3 if i == 45 else 1 for i in range(200)])
    img.save(tmp_path / "p.png")
    with pytest.raises(ReviewedMaskError, match=r"1 pixels .* RGB \(60, 160, 60\) at x=5, y=2"):
        read_reviewed_mask(tmp_path / "p.png")
    assert read_reviewed_mask(tmp_path / "p.png", max_off_palette=0.01).labels[2, 5] == 2


def test_a_mask_with_transparent_pixels_is_refused_and_an_opaque_rgba_one_read(tmp_path):
    """A fully transparent RGBA mask (class colours hidden under alpha 0) was read as if opaque."""
    labels = _labels()
    rgba = np.dstack([encode_mask(labels), np.zeros(labels.shape, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "clear.png")
    with pytest.raises(ReviewedMaskError, match=r"clear.png: 3,072 of its 3,072 pixels are transparent"):
        read_reviewed_mask(tmp_path / "clear.png", size=(64, 48))
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 254  # one pixel barely see-through: refused too
    Image.fromarray(rgba, "RGBA").save(tmp_path / "one.png")
    with pytest.raises(ReviewedMaskError, match="1 of its 3,072 pixels are transparent"):
        read_reviewed_mask(tmp_path / "one.png")
    rgba[0, 0, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "opaque.png")
    assert np.array_equal(read_reviewed_mask(tmp_path / "opaque.png").labels, labels)


def test_the_mask_for_a_stem_is_found_most_specific_first(tmp_path):
    labels = _labels()
    assert find_reviewed_mask(tmp_path, "IMG_1") is None
    assert find_reviewed_mask(tmp_path / "missing", "IMG_1") is None
    write_reviewed_mask(tmp_path / "IMG_1.PNG", labels)
    assert find_reviewed_mask(tmp_path, "IMG_1") == tmp_path / "IMG_1.PNG"
    assert find_reviewed_mask(tmp_path, "img_1") is None, "the stem's case matters, as file names do"
    write_reviewed_mask(tmp_path / "IMG_1_mask.png", labels)
    assert find_reviewed_mask(tmp_path, "IMG_1") == tmp_path / "IMG_1_mask.png"
    write_reviewed_mask(tmp_path / "IMG_1_mask.reviewed.png", labels)
    assert find_reviewed_mask(tmp_path, "IMG_1") == tmp_path / "IMG_1_mask.reviewed.png"
    assert find_reviewed_mask(tmp_path, "IMG_10") is None
    folder = MaskFolder(tmp_path)
    got = folder.read("IMG_1", (64, 48))
    assert got is not None and np.array_equal(got.labels, labels)
    assert ReviewState.of_mask(got) == ReviewState("edited"), "no record in the file: nobody signed it"
    assert folder.read("IMG_9", (64, 48)) is None
    assert folder.find("IMG_1", photo=tmp_path / "IMG_1.PNG") == tmp_path / "IMG_1_mask.reviewed.png"
    alone = tmp_path / "photos"
    alone.mkdir()
    (alone / "P.png").write_bytes((tmp_path / "IMG_1.PNG").read_bytes())
    assert MaskFolder(alone).find("P", photo=alone / "P.png") is None, "a PNG photo is not its own mask"
    with pytest.raises(ReviewedMaskError, match="its photo is 10x10"):
        folder.read("IMG_1", (10, 10))
    write_reviewed_mask(reviewed_mask_path(tmp_path, 'a:b"c'), labels)
    assert find_reviewed_mask(tmp_path, 'a:b"c') == tmp_path / "a_b_c_mask.reviewed.png"


@pytest.mark.real_data
def test_the_origin_ground_truth_masks_read_as_the_training_loader_decodes_them():
    if not (REAL_DATA / "DATASET").is_dir():
        pytest.skip(f"real data not found at {REAL_DATA}")
    for pair_id in (REAL_DATA / "val.txt").read_text().split():
        mask = REAL_DATA / "DATASET" / "ground_truth" / f"GT_{pair_id}.png"
        expected, _ = decode_mask(np.asarray(Image.open(mask).convert("RGB")))  # as training.data does
        got = read_reviewed_mask(mask, size=(expected.shape[1], expected.shape[0]))
        assert np.array_equal(got.labels, expected), pair_id
        found = MaskFolder(mask.parent).read(f"ORI_{pair_id}", (expected.shape[1], expected.shape[0]))
        assert found is not None and found.path == mask, "the origin's GT_<id> is ORI_<id>'s mask"


def test_only_a_signed_mask_is_named_reviewed(tmp_path) -> None:
    from app.core.reviewed import corrected_mask_path

    signed = ReviewState.reviewed_now("A. Inspector")
    assert corrected_mask_path(tmp_path, "IMG_1", signed).name == "IMG_1_mask.reviewed.png"
    assert corrected_mask_path(tmp_path, "IMG_1", ReviewState("edited")).name == "IMG_1_mask.edited.png"
    assert corrected_mask_path(tmp_path, "IMG_1", None).name == "IMG_1_mask.edited.png"
    assert corrected_mask_path(tmp_path, "IMG_1", ReviewState("reviewed")).name == "IMG_1_mask.edited.png"
    assert signed.is_signed and not ReviewState("reviewed").is_signed
    with pytest.raises(ValueError):
        ReviewState("edited", reviewed_by="someone")  # an edit has no reviewer
