"""Overlay blending (exact values) and the synthetic pipe generator."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.files import encode_jpeg
from app.core.overlay import blend_overlay
from app.core.palette import DEFAULT_CLASSES, ClassInfo
from app.core.synthetic import SCENES, pipe_photo, synthetic_pipe


def test_blend_exact_per_class_visibility_and_opacity() -> None:
    rgb = np.full((2, 3, 3), 100, np.uint8)
    labels = np.array([[0, 1, 2], [0, 1, 2]], np.uint8)
    out = blend_overlay(rgb, labels, DEFAULT_CLASSES, visible={0, 1}, opacity={0: 0.5, 1: 1.0, 2: 1.0})
    assert tuple(out[0, 0]) == (178, 50, 50)  # 100 * 0.5 + (255, 0, 0) * 0.5, rounded
    assert tuple(out[0, 1]) == (0, 0, 255)  # opacity 1: the class colour
    assert tuple(out[0, 2]) == (100, 100, 100)  # hidden
    none = blend_overlay(rgb, labels, DEFAULT_CLASSES, visible=set())
    np.testing.assert_array_equal(none, rgb)
    default = blend_overlay(rgb, labels, DEFAULT_CLASSES)
    assert tuple(default[1, 2]) == (50, 178, 50)  # every class visible at 0.5 by default


def test_blend_rejects_mismatched_sizes() -> None:
    with pytest.raises(ValueError):
        blend_overlay(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5), np.uint8), DEFAULT_CLASSES)


def test_blend_in_strips_equals_blend_at_once() -> None:
    rgb, labels = synthetic_pipe(seed=5, size=(1100, 60))  # taller than one strip
    out = blend_overlay(rgb, labels, DEFAULT_CLASSES, opacity={0: 0.7})
    a = np.array([0.7, 0.5, 0.5], np.float32)[labels][:, :, None]
    colors = np.array([c.color for c in DEFAULT_CLASSES], np.float32)[labels]
    expected = np.clip(rgb * (1 - a) + colors * a + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out, expected)


def test_blend_in_bgr_is_the_same_overlay_and_the_same_jpeg() -> None:
    rgb, labels = synthetic_pipe(seed=6, size=(1100, 70))  # taller than one strip
    photo = rgb.copy()
    for visible, opacity in ((None, None), ({0, 2}, {0: 0.8, 2: 0.3}), (set(), None)):
        out = blend_overlay(rgb, labels, DEFAULT_CLASSES, visible, opacity)
        out_bgr = blend_overlay(rgb, labels, DEFAULT_CLASSES, visible, opacity, bgr=True)
        np.testing.assert_array_equal(out_bgr, out[:, :, ::-1])
        assert encode_jpeg(out_bgr, 90, bgr=True) == encode_jpeg(out, 90)
    np.testing.assert_array_equal(rgb, photo)  # the photo itself is never blended into
    flipped, flipped_labels = rgb[::-1, ::2], labels[::-1, ::2]  # a strided view, as a caller may pass
    out = blend_overlay(flipped, flipped_labels, DEFAULT_CLASSES)
    np.testing.assert_array_equal(
        blend_overlay(flipped, flipped_labels, DEFAULT_CLASSES, bgr=True), out[:, :, ::-1]
    )


def test_synthetic_pipe_is_seeded_and_sized() -> None:
    a_rgb, a_lab = synthetic_pipe(seed=11, size=(90, 130))
    b_rgb, b_lab = synthetic_pipe(seed=11, size=(90, 130))
    c_rgb, _ = synthetic_pipe(seed=12, size=(90, 130))
    np.testing.assert_array_equal(a_rgb, b_rgb)
    np.testing.assert_array_equal(a_lab, b_lab)
    assert not np.array_equal(a_rgb, c_rgb)
    assert a_rgb.shape == (90, 130, 3) and a_rgb.dtype == np.uint8
    assert a_lab.shape == (90, 130) and set(np.unique(a_lab)) == {0, 1, 2}


def test_synthetic_rust_amount_and_clean_pipe() -> None:
    _, lab = synthetic_pipe(seed=2, size=200, rust=0.3)
    graded = (lab != 2).sum()
    assert (lab == 0).sum() / graded == pytest.approx(0.3, abs=0.02)
    _, clean = synthetic_pipe(seed=2, size=200, rust=0.0)
    assert (clean == 0).sum() == 0 and (clean == 1).sum() > 0


@pytest.mark.parametrize("seed", range(5))
def test_synthetic_separable_keeps_each_class_channel_largest(seed: int) -> None:
    rgb, lab = synthetic_pipe(seed=seed, size=(64, 80), noise=20.0)
    channel = np.array([0, 2, 1])[lab]  # corrosion red, asset blue, background green
    assert (rgb.astype(int).argmax(-1) == channel).all()


def test_synthetic_rust_ground_keeps_the_scene_and_browns_the_ground() -> None:
    soil_rgb, soil_lab = synthetic_pipe(seed=4, size=96, separable=False)
    rust_rgb, rust_lab = synthetic_pipe(seed=4, size=96, separable=False, ground="rust")
    np.testing.assert_array_equal(soil_lab, rust_lab)  # same pipe, same rust patches
    ground = soil_lab == 2
    np.testing.assert_array_equal(soil_rgb[~ground], rust_rgb[~ground])
    mean = rust_rgb[ground].astype(float).mean(axis=0)
    assert mean[0] > mean[1] > mean[2]  # rust-brown: red over green over blue, like corrosion
    soil_mean = soil_rgb[ground].astype(float).mean(axis=0)
    assert soil_mean[1] > soil_mean[0]  # the default ground stays green-brown


def test_synthetic_refuses_unknown_or_contradictory_ground() -> None:
    with pytest.raises(ValueError, match="ground must be one of"):
        synthetic_pipe(seed=0, size=32, ground="snow")
    with pytest.raises(ValueError, match="separable=False"):
        synthetic_pipe(seed=0, size=32, ground="rust")


@pytest.mark.parametrize("scene", SCENES)
def test_pipe_photo_is_seeded_and_labels_a_rusted_pipe(scene: str) -> None:
    rgb, labels = pipe_photo(3, (96, 128), rust=0.3, scene=scene)
    again, same = pipe_photo(3, (96, 128), rust=0.3, scene=scene)
    np.testing.assert_array_equal(rgb, again)
    np.testing.assert_array_equal(labels, same)
    assert rgb.shape == (96, 128, 3) and rgb.dtype == np.uint8 and labels.shape == (96, 128)
    counts = np.bincount(labels.ravel(), minlength=3)
    assert counts.min() > 0  # corrosion, asset and background all in view
    share = counts[0] / (counts[0] + counts[1])
    assert 0.25 <= share <= 0.6  # rust=0.3 plus its run-off
    # rust is brown-orange: red above blue on average, unlike the paint of the same photo's pipe
    red_minus_blue = rgb[..., 0].astype(int) - rgb[..., 2]
    assert red_minus_blue[labels == 0].mean() > red_minus_blue[labels == 1].mean()


def test_pipe_photo_refuses_unknown_scene_and_tiny_size() -> None:
    with pytest.raises(ValueError, match="scene"):
        pipe_photo(1, 64, scene="sky")
    with pytest.raises(ValueError, match="32x32"):
        pipe_photo(1, 16)


def _reference_blend(rgb, labels, classes, visible=None, opacity=None):
    """The overlay's definition in float arithmetic over the whole photo, no table and no strip."""
    shown = {c.id for c in classes} if visible is None else set(visible)
    alpha = np.zeros(256, np.float32)
    colours = np.zeros((256, 3), np.float32)
    for c in classes:
        a = np.clip((opacity or {}).get(c.id, 0.5), 0.0, 1.0)
        alpha[c.id], colours[c.id] = (a if c.id in shown else 0.0), c.color
    a = alpha[labels][:, :, None]
    return np.clip(rgb * (1 - a) + colours[labels] * a + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("visible", "opacity"),
    [
        (None, None),  # every class at 0.5: the integer mean path alone
        (None, {0: 0.7}),  # one class by its table, the others by the mean
        ({0, 2}, {2: 0.3}),  # a hidden class and no mean class but one
        ({1}, {1: 1.0}),
        (None, {0: 0.0, 1: 0.5000001, 2: 0.49}),  # near 0.5 but not it: tables
        (set(), None),
    ],
)
def test_the_fast_blend_equals_the_reference_on_camera_sized_strips(visible, opacity) -> None:
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (301, 203, 3), dtype=np.uint8)  # taller than a strip, odd sizes
    labels = np.zeros((301, 203), np.uint8)
    labels[:, 60:] = 1
    labels[150:, 120:] = 2
    labels[140:160] = rng.integers(0, 4, (20, 203))  # a mixed band, with an id of no class (3)
    labels[260:] = 2  # strips of one class only
    classes = (*DEFAULT_CLASSES[:2], ClassInfo(2, "background", (37, 200, 91)))  # odd and even colours
    expected = _reference_blend(rgb, labels, classes, visible, opacity)
    out = blend_overlay(rgb, labels, classes, visible, opacity)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(
        blend_overlay(rgb, labels, classes, visible, opacity, bgr=True), expected[..., ::-1]
    )
    view, view_labels = rgb[::-1, ::3], labels[::-1, ::3]  # strided views
    np.testing.assert_array_equal(
        blend_overlay(view, view_labels, classes, visible, opacity),
        _reference_blend(view, view_labels, classes, visible, opacity),
    )
    for bgr, want in ((False, expected), (True, expected[..., ::-1])):  # into the photo itself
        photo = rgb.copy()
        assert blend_overlay(photo, labels, classes, visible, opacity, bgr=bgr, out=photo) is photo
        np.testing.assert_array_equal(photo, want)
        other = np.zeros_like(rgb)  # or into an array of the caller's
        assert blend_overlay(rgb, labels, classes, visible, opacity, bgr=bgr, out=other) is other
        np.testing.assert_array_equal(other, want)


def test_an_output_array_of_another_shape_or_layout_is_refused() -> None:
    rgb = np.zeros((20, 30, 3), np.uint8)
    labels = np.zeros((20, 30), np.uint8)
    for out in (np.zeros((20, 31, 3), np.uint8), np.zeros((20, 60, 3), np.uint8)[:, ::2], rgb.astype(float)):
        with pytest.raises(ValueError, match="out must be"):
            blend_overlay(rgb, labels, DEFAULT_CLASSES, out=out)
