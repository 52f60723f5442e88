"""The speed paths (docs/performance.md) give the results of the plain ones: strip upsampling that
blends every class only where two source rows disagree; JPEG decoding gives Pillow's pixels (also with
data after the end marker), whichever decoder `read_image` uses, and damage that OpenCV alone would
hide is refused."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from app.core.errors import ImageReadError
from app.core.inference import shrink_area
from app.core.photos import read_image
from app.core.strip_upsample import StripUpsampler


def _smooth_probs(h: int, w: int, classes: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 4, (max(2, h // 8), max(2, w // 8), classes)).astype(np.float32)
    logits = cv2.resize(logits, (w, h), interpolation=cv2.INTER_CUBIC).reshape(h, w, classes)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def _naive(probs: np.ndarray, out_h: int, out_w: int, graded: list[int]):
    full = cv2.resize(probs, (out_w, out_h), interpolation=cv2.INTER_LINEAR).reshape(out_h, out_w, -1)
    labels, top = full.argmax(-1), full.max(-1)
    mask = np.isin(labels, graded)
    return labels, top, (float(top[mask].mean()) if mask.any() else None)


@pytest.mark.parametrize(
    ("src", "out", "chunks"),
    [
        ((64, 64), (750, 1000), 1),
        ((40, 52), (400, 37), 3),
        ((30, 30), (30, 30), 2),
        ((90, 60), (31, 20), 4),
        ((1, 1), (9, 5), 1),
        ((16, 24), (16, 1000), 5),
        ((8, 8), (1000, 8), 1),
    ],
)
@pytest.mark.parametrize("classes", [2, 3, 5])
def test_strip_upsampler_matches_one_full_frame_resize(src, out, chunks, classes):
    probs = _smooth_probs(*src, classes=classes, seed=src[0] + classes)
    sink = StripUpsampler(*out, graded_ids=[0, 1])
    sink.set_source_height(src[0])
    for part in np.array_split(probs, chunks):  # tiles mode feeds rows as they complete
        if len(part):
            sink.feed(part)
    labels, confidence, mean = sink.finish()
    ref_labels, ref_top, ref_mean = _naive(probs, *out, [0, 1])
    assert (labels == ref_labels).mean() > 0.999
    assert np.abs(confidence.astype(int) - np.round(ref_top * 255)).max() <= 1
    assert mean == pytest.approx(ref_mean, abs=1e-5)


def _jpeg_bytes(rgb: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", **kw)
    return buf.getvalue()


@pytest.mark.parametrize("subsampling", [0, 1, 2])
@pytest.mark.parametrize("grey", [False, True])
def test_jpeg_decodes_exactly_as_pillow(tmp_path, subsampling, grey):
    rgb = cv2.GaussianBlur(
        np.random.default_rng(subsampling).integers(0, 256, (61, 83, 3), np.uint8), (5, 5), 2
    )
    img = rgb[:, :, 0] if grey else rgb
    path = tmp_path / "p.jpg"
    path.write_bytes(_jpeg_bytes(img, quality=80, subsampling=subsampling if not grey else -1))
    expected = np.asarray(Image.open(path).convert("RGB"))
    np.testing.assert_array_equal(read_image(path), expected)


def test_jpeg_with_data_after_its_end_marker_still_decodes(tmp_path):
    rgb = cv2.GaussianBlur(np.random.default_rng(5).integers(0, 256, (40, 50, 3), np.uint8), (5, 5), 2)
    data = _jpeg_bytes(rgb, quality=90)
    path = tmp_path / "trailer.jpg"
    path.write_bytes(data + b"CAMERA-TRAILER" * 10)  # some phones append data after the image
    np.testing.assert_array_equal(read_image(path), np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))


@pytest.mark.parametrize("damage", ["corrupt body", "cut short"])
def test_a_damaged_jpeg_is_refused_even_where_opencv_alone_decodes_it(tmp_path, damage):
    rgb = cv2.GaussianBlur(np.random.default_rng(7).integers(0, 256, (240, 320, 3), np.uint8), (5, 5), 2)
    data = bytearray(_jpeg_bytes(rgb, quality=90))
    mid = len(data) // 2
    if damage == "corrupt body":
        data[mid : mid + 200] = np.random.default_rng(3).integers(0, 256, 200, dtype=np.uint8).tobytes()
        assert cv2.imdecode(np.frombuffer(bytes(data), np.uint8), cv2.IMREAD_COLOR) is not None
    else:
        del data[mid:]
    path = tmp_path / "damaged.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match=r"damaged\.jpg: corrupt or truncated"):
        read_image(path)


@pytest.mark.parametrize(
    ("src", "out"), [((3000, 4000), (256, 256)), ((6120, 8160), (256, 256)), ((1200, 1600), (96, 64))]
)
def test_two_step_shrink_keeps_the_geometry_of_one_area_resize(src, out):
    h, w = src
    rng = np.random.default_rng(h)
    photo = cv2.GaussianBlur(rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8), (0, 0), 1.0)
    photo = cv2.resize(photo, (w, h), interpolation=cv2.INTER_CUBIC)
    photo[:, : w * 3 // 7] = (250, 10, 10)  # a sharp edge at a fraction that is no block boundary
    one_step = cv2.resize(photo, out[::-1], interpolation=cv2.INTER_AREA)
    two_step = shrink_area(photo, *out[::-1])
    diff = np.abs(one_step.astype(int) - two_step)
    assert diff.max() <= 6 and diff.mean() < 0.5
    edge = (one_step[..., 0] > 200).sum(axis=1), (two_step[..., 0] > 200).sum(axis=1)
    np.testing.assert_array_equal(*edge)


def test_shrink_falls_back_to_one_step_when_no_factor_divides_both_sides():
    photo = np.random.default_rng(1).integers(0, 256, (3001, 4003, 3), dtype=np.uint8)
    np.testing.assert_array_equal(
        shrink_area(photo, 256, 256), cv2.resize(photo, (256, 256), interpolation=cv2.INTER_AREA)
    )
