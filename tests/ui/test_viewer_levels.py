"""The viewer paints a large photo fitted to the window from a reduced copy (the average of its pixels,
not a sample of them), the full image once zoomed in, and keeps toggles and edits live in both."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRect, QRectF

from app.core.overlay import blend_overlay
from app.core.palette import DEFAULT_CLASSES
from app.ui.controller import _open_and_analyze
from app.ui.display_levels import overlay_levels, photo_levels
from app.ui.image_viewer_widget import ImageViewerWidget
from app.ui.overlay_state import OverlayState
from app.ui.qimage import labels_view, qimage_to_rgb, rgb_to_qimage

H, W = 1200, 1600  # fitted into 400x300 the zoom is about 1/4: one screen pixel per 4x4 photo pixels
BLEND_TOLERANCE = 3


@pytest.fixture
def viewer(qtbot):
    state = OverlayState()
    state.set_classes(DEFAULT_CLASSES)
    view = ImageViewerWidget(state)
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    return view, state


def shown(view: ImageViewerWidget) -> np.ndarray:
    """What the viewport shows now (a real paint), as RGB."""
    return qimage_to_rgb(view.viewport().grab().toImage()).astype(int)


def photo_area(view: ImageViewerWidget, scene_rect: QRect) -> np.ndarray:
    """The viewport pixels that show `scene_rect` of the photo (a margin of 2 screen pixels inside it)."""
    r = view.mapFromScene(QRectF(scene_rect)).boundingRect().adjusted(2, 2, -2, -2)
    return shown(view)[r.top() : r.bottom(), r.left() : r.right()]


def checkerboard() -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return np.repeat((((yy + xx) % 2) * 255).astype(np.uint8)[..., None], 3, axis=2)


def test_a_fitted_photo_shows_the_average_of_its_pixels_not_a_sample(viewer):
    view, _ = viewer
    rgb = checkerboard()  # pixel-fine detail: a sample of it is black or white, its average grey
    view.set_photo(rgb_to_qimage(rgb), photo_levels(rgb))
    assert view.zoom() < 0.3
    area = photo_area(view, QRect(100, 100, W - 200, H - 200))
    assert area.size > 0
    assert np.abs(area - 127.5).max() <= 4, (area.min(), area.max())


def test_zooming_in_past_one_to_one_shows_the_full_size_pixels(viewer):
    view, _ = viewer
    rgb = checkerboard()
    view.set_photo(rgb_to_qimage(rgb), photo_levels(rgb))
    view.zoom_actual_size()
    view.zoom_by(4.0)  # 4:1, crisp: each photo pixel a 4x4 block of one value
    centre = view.mapToScene(view.viewport().rect().center())
    x, y = int(centre.x()), int(centre.y())
    at = view.mapFromScene(QPointF(x + 0.5, y + 0.5))
    got = shown(view)[at.y(), at.x()]
    assert np.array_equal(got, rgb[y, x])
    nxt = view.mapFromScene(QPointF(x + 1.5, y + 0.5))
    assert np.array_equal(shown(view)[nxt.y(), nxt.x()], rgb[y, x + 1])
    assert not np.array_equal(rgb[y, x], rgb[y, x + 1])


def _grey_photo_with_labels(view: ImageViewerWidget, state: OverlayState, levels: bool):
    rgb = np.full((H, W, 3), 120, np.uint8)
    labels = np.full((H, W), 2, np.uint8)  # background: hidden by default
    labels[:, : W // 2] = 1  # asset on the left half
    view.set_photo(rgb_to_qimage(rgb), photo_levels(rgb))
    table = tuple(state.color_table())
    view.set_labels(labels_view(labels), overlay_levels(labels, table) if levels else None, table)
    return rgb, labels


def _expected(rgb: np.ndarray, labels: np.ndarray, state: OverlayState, y: int, x: int) -> np.ndarray:
    one = blend_overlay(
        rgb[y : y + 1, x : x + 1],
        labels[y : y + 1, x : x + 1],
        DEFAULT_CLASSES,
        state.visible_ids,
        state.opacities,
    )
    return one[0, 0].astype(int)


@pytest.mark.parametrize("levels", [True, False], ids=["copies from the worker", "copies made here"])
def test_a_fitted_overlay_follows_toggles_and_opacity(viewer, levels):
    view, state = viewer
    rgb, labels = _grey_photo_with_labels(view, state, levels)
    left = photo_area(view, QRect(100, 100, W // 2 - 200, H - 200))
    assert np.abs(left - _expected(rgb, labels, state, 0, 0)).max() <= BLEND_TOLERANCE
    state.set_opacity(1, 1.0)
    left = photo_area(view, QRect(100, 100, W // 2 - 200, H - 200))
    assert np.abs(left - np.array(DEFAULT_CLASSES[1].color)).max() <= BLEND_TOLERANCE
    state.toggle(1)
    left = photo_area(view, QRect(100, 100, W // 2 - 200, H - 200))
    assert np.abs(left - 120).max() <= BLEND_TOLERANCE


def test_an_edit_shows_at_fit_and_at_full_size(viewer):
    view, state = viewer
    rgb, labels = _grey_photo_with_labels(view, state, True)
    box = QRect(W // 2 + 200, 300, 400, 400)  # right half: background, now painted as corrosion
    labels[box.top() : box.bottom() + 1, box.left() : box.right() + 1] = 0
    view.update_labels(labels_view(labels), box)
    want = _expected(rgb, labels, state, box.top(), box.left())
    assert not np.array_equal(want, rgb[0, 0])
    inside = photo_area(view, box.adjusted(20, 20, -20, -20))
    assert np.abs(inside - want).max() <= BLEND_TOLERANCE
    outside = photo_area(view, QRect(W // 2 + 100, 800, 600, 300))
    assert np.abs(outside - 120).max() <= BLEND_TOLERANCE
    view.zoom_actual_size()
    view.centerOn(QPointF(box.center()))
    at = view.mapFromScene(QPointF(box.center()))
    assert np.abs(shown(view)[at.y(), at.x()] - want).max() <= BLEND_TOLERANCE


def test_an_edit_over_most_of_the_map_shows_in_every_copy_it_is_painted_from(viewer):
    """A fill over most of the map leaves the reduced copies to be recoloured when painted (recolouring
    all of them at once stalled the window 1.3 s at 50 MP): each zoom still shows the edit."""
    view, state = viewer
    rgb, labels = _grey_photo_with_labels(view, state, True)
    box = QRect(0, 0, W, H - 100)
    labels[: H - 100] = 0
    view.update_labels(labels_view(labels), box)
    want = _expected(rgb, labels, state, 500, 500)
    assert np.abs(photo_area(view, QRect(100, 100, W - 200, H - 400)) - want).max() <= BLEND_TOLERANCE
    view.scale(2.0, 2.0)  # a zoom painted from another copy
    view.centerOn(QPointF(W / 2, H / 2))
    at = view.mapFromScene(QPointF(W / 2, H / 2))
    assert np.abs(shown(view)[at.y(), at.x()] - want).max() <= BLEND_TOLERANCE


def test_the_worker_hands_the_viewer_its_reduced_copies(qapp, tmp_path):
    import cv2

    path = tmp_path / "big.jpg"
    rgb = checkerboard()
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    (opened,) = list(_open_and_analyze(path, None, None, None, ()))
    assert [k for k, _ in opened.levels] == [2, 4]
    assert opened.levels[1][1].width() == W // 4 and opened.levels[1][1].height() == H // 4
