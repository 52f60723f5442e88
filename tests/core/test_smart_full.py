"""Smart select at full resolution: computed over the changed region only, equal to the whole-photo answer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.core import smart_full as fs
from app.core.smart_select import (
    Marks,
    SmartSelectOptions,
    _pipe_region,
    pipe_probability,
    prepare_photo,
    smart_select,
)
from app.core.synthetic import synthetic_pipe

CORROSION, ASSET, BACKGROUND = 0, 1, 2
OPTIONS = SmartSelectOptions(working_pixels=8_000)  # 300x400 -> 77x103: a 3.9x working copy


def _whole_photo_to_full(region: np.ndarray, small: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """The whole-photo upsampling smart select used before it worked per region (the reference): bilinear
    resize of the region thresholded at half, and on the nearest-resized border band the side of nearer
    local mean colour where both sides are seen."""
    full = rgb.shape[:2]
    soft = cv2.resize(region.astype(np.uint8) * 255, (full[1], full[0]), interpolation=cv2.INTER_LINEAR)
    out = soft >= 128
    r8, kernel = region.astype(np.uint8), np.ones((3, 3), np.uint8)
    band = (cv2.dilate(r8, kernel) != cv2.erode(r8, kernel)).astype(np.uint8)
    ys, xs = np.nonzero(cv2.resize(band, (full[1], full[0]), interpolation=cv2.INTER_NEAREST))
    colour, means = small.astype(np.float32), []
    for side in (region, ~region):
        weight = side.astype(np.float32)
        count = cv2.boxFilter(weight, -1, (7, 7), normalize=False)
        total = cv2.boxFilter(colour * weight[:, :, None], -1, (7, 7), normalize=False)
        means.append(np.dstack([total / np.maximum(count, 1e-6)[:, :, None], count]))
    fg, bg = fs.sample(means[0], ys, xs, full), fs.sample(means[1], ys, xs, full)
    pix = rgb[ys, xs].astype(np.float32)
    both = (fg[:, 3] > 0.5) & (bg[:, 3] > 0.5)
    closer = ((pix - fg[:, :3]) ** 2).sum(axis=1) < ((pix - bg[:, :3]) ** 2).sum(axis=1)
    out[ys[both], xs[both]] = closer[both]
    return out


def _scene(seed: int = 5):
    rgb, truth = synthetic_pipe(seed, (300, 400))
    labels = truth.copy()
    pipe = truth != BACKGROUND
    labels[:, 260:][pipe[:, 260:]] = BACKGROUND  # the model missed a stretch of the pipe
    labels[:40, :60][~pipe[:40, :60]] = ASSET  # and called a patch of ground asset
    probs = np.full((*labels.shape, 3), 0.1, np.float32)
    np.put_along_axis(probs, labels[:, :, None].astype(np.intp), 0.8, axis=2)
    return rgb, truth, labels, probs


def _applied(labels: np.ndarray, edit) -> np.ndarray:
    out = labels.copy()
    if edit is not None:
        out[edit.box[0] : edit.box[2], edit.box[1] : edit.box[3]] = edit.after
    return out


def _region(rgb, labels, probs, marks) -> tuple[np.ndarray, np.ndarray]:
    """GrabCut's working-size region for these marks, with the RNG as smart_select will find it."""
    photo = prepare_photo(rgb, probabilities=probs, options=OPTIONS)
    cv2.setRNGSeed(7)
    region = _pipe_region(photo.small, photo.prob, marks, photo.scale, OPTIONS)
    cv2.setRNGSeed(7)
    return region, photo.small


def test_a_window_of_the_upsampling_is_exactly_the_whole_photos_there():
    rgb, truth, _labels, _probs = _scene()
    small = cv2.resize(rgb, (103, 77), interpolation=cv2.INTER_AREA)
    region = cv2.resize((truth != BACKGROUND).astype(np.uint8), (103, 77), cv2.INTER_NEAREST) > 0
    whole = fs.upsample(region, small, rgb, (0, 0, 300, 400))
    assert np.array_equal(whole, _whole_photo_to_full(region, small, rgb)), "the same as before, per pixel"
    for y0, x0, y1, x1 in ((0, 0, 1, 1), (13, 57, 211, 398), (150, 0, 300, 123), (299, 399, 300, 400)):
        assert np.array_equal(fs.upsample(region, small, rgb, (y0, x0, y1, x1)), whole[y0:y1, x0:x1])
    assert fs.reach(np.zeros_like(region), (300, 400)) is None


@pytest.mark.parametrize("box", [(20.0, 10.0, 380.0, 290.0), (100.0, 0.0, 300.0, 300.0)])
def test_the_edit_is_the_working_result_upsampled_and_nothing_outside_the_box_becomes_pipe(box):
    rgb, _truth, labels, probs = _scene()
    marks = Marks(box=box)
    region, small = _region(rgb, labels, probs, marks)
    edit = smart_select(rgb, labels, marks, probabilities=probs, options=OPTIONS)
    out = _applied(labels, edit)

    x0, y0, x1, y1 = (int(v) for v in box)
    inside = np.zeros(labels.shape, bool)
    inside[y0:y1, x0:x1] = True
    new_pipe = _whole_photo_to_full(region, small, rgb) & inside
    assert np.array_equal(out != BACKGROUND, new_pipe), "the pipe region is the whole-photo answer"
    old_pipe = labels != BACKGROUND
    assert np.array_equal(out[old_pipe & new_pipe], labels[old_pipe & new_pipe]), "kept pipe keeps its class"
    assert not (out != BACKGROUND)[~inside].any() and (out == labels)[~inside & ~old_pipe].all()

    # Off the border band the answer is the working copy's, nearest-neighbour.
    iy, ix = fs.nearest_index(300, region.shape[0]), fs.nearest_index(400, region.shape[1])
    r8, kernel = region.astype(np.uint8), np.ones((3, 3), np.uint8)
    band = (cv2.dilate(r8, kernel) != cv2.erode(r8, kernel))[iy][:, ix]
    nearest = region[iy][:, ix]
    assert np.array_equal((out != BACKGROUND)[inside & ~band], nearest[inside & ~band])

    # The edit's box is exactly the changed pixels' bounds.
    ys, xs = np.nonzero(out != labels)
    assert edit.box == (ys.min(), xs.min(), ys.max() + 1, xs.max() + 1)


def test_without_pipe_outside_the_box_the_edit_stays_inside_it():
    rgb, _truth, labels, probs = _scene()
    box = (100.0, 30.0, 300.0, 270.0)
    labels = labels.copy()
    outside = np.ones(labels.shape, bool)
    outside[30:270, 100:300] = False
    labels[outside] = BACKGROUND
    edit = smart_select(rgb, labels, Marks(box=box), probabilities=probs, options=OPTIONS)
    assert edit is not None
    y0, x0, y1, x1 = edit.box
    assert y0 >= 30 and x0 >= 100 and y1 <= 270 and x1 <= 300


def test_a_kept_photo_gives_the_same_edit_and_another_photos_is_not_used():
    rgb, _truth, labels, probs = _scene()
    photo = prepare_photo(rgb, probabilities=probs, options=OPTIONS)
    assert photo.small.shape[:2] == (77, 103) and photo.prob.shape == (77, 103)
    assert np.array_equal(photo.prob, pipe_probability(labels, (77, 103), probabilities=probs))
    marks = Marks(box=(20.0, 10.0, 380.0, 290.0), include=((350.0, 150.0),), exclude=((10.0, 10.0),))
    cv2.setRNGSeed(3)
    fresh = smart_select(rgb, labels, marks, probabilities=probs, options=OPTIONS)
    cv2.setRNGSeed(3)
    kept = smart_select(rgb, labels, marks, probabilities=probs, options=OPTIONS, photo=photo)
    assert kept.box == fresh.box and np.array_equal(kept.after, fresh.after)
    other_rgb = rgb.copy()
    other = prepare_photo(np.zeros_like(rgb), probabilities=probs, options=OPTIONS)
    assert not other.fits(other_rgb, probs, OPTIONS) and photo.fits(rgb, probs, OPTIONS)
    assert not photo.fits(rgb, None, OPTIONS)  # seeded by the labels instead: P(pipe) follows each edit
    cv2.setRNGSeed(3)
    wrong = smart_select(rgb, labels, marks, probabilities=probs, options=OPTIONS, photo=other)
    assert wrong.box == fresh.box and np.array_equal(wrong.after, fresh.after)


def test_the_seed_probabilities_alone_are_segments_own(tiny_model):
    """Smart select's first box asks the network for its probabilities only (no full-size labels)."""
    from app.core.inference import InferenceMode, InferenceOptions, probabilities, segment

    rgb, _ = synthetic_pipe(4, (96, 128))
    for opts in (None, InferenceOptions(mode=InferenceMode.TILES)):
        got = probabilities(tiny_model, rgb, opts)
        assert np.array_equal(got, segment(tiny_model, rgb, opts).probabilities)
