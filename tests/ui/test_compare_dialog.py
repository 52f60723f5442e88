"""Compare compares: each photo fills its own pane (a large photo beside a small one, both whole), zoom
and pan stay in proportion, the overlays are shown, the panes are equally wide, figures under each."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.core.analysis import analyze_rgb
from app.core.overlay import blend_overlay
from app.core.photos import read_image
from app.core.project import Project, add_inspection_photos
from app.ui.compare_dialog import CompareDialog
from app.ui.qimage import qimage_to_rgb
from tests.helpers.pipe_photos import photo_folder
from tests.ui.conftest import TIMEOUT_MS


@pytest.fixture
def two_sizes(tmp_path: Path, tiny_model):
    """A project whose first inspection has 64x48 photos and whose second has 256x192 ones."""
    project = Project.create(tmp_path / "site.corroscope")
    for n, size in enumerate(((48, 64), (192, 256))):
        folder = photo_folder(tmp_path / f"insp{n}", 2, 0.1 + 0.1 * n, seed=n, size=size)
        add_inspection_photos(project, tiny_model, "P-7", dt.date(2022 + n, 5, 1), sorted(folder.iterdir()))
    yield project
    project.close()


def _fills_its_pane(view) -> bool:
    rect = view.scene().sceneRect()
    shown = view.transform().m11() * rect.width(), view.transform().m11() * rect.height()
    port = view.viewport().rect()
    return abs(shown[0] - port.width()) <= 2 or abs(shown[1] - port.height()) <= 2


def test_each_side_fits_its_pane_and_zooms_in_proportion(qtbot, two_sizes, tiny_model):
    dialog = CompareDialog(two_sizes, "P-7", model=tiny_model)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    left, right = dialog.views
    assert abs(left.width() - right.width()) <= 2, "equal panes"
    dialog.photo_boxes[0].setCurrentIndex(1)  # a change on one side keeps the other whole too
    qtbot.waitUntil(lambda: all(o is not None for o in dialog.overlays), timeout=TIMEOUT_MS)
    assert _fills_its_pane(left) and _fills_its_pane(right)
    left.zoom_by(4.0)
    assert right.zoom / left.zoom == pytest.approx(right.fit_zoom() / left.fit_zoom(), rel=0.02)
    assert left.relative_zoom > 2 and right.relative_zoom == pytest.approx(left.relative_zoom, rel=0.02)
    left.horizontalScrollBar().setValue(left.horizontalScrollBar().maximum())
    lx, _ = left.relative_center()
    rx, _ = right.relative_center()
    assert rx == pytest.approx(lx, abs=0.02), "the same part of the frame on both sides"
    for _ in range(30):  # zooming out stops at a quarter of the fit on both sides
        left.zoom_by(0.5)
    assert left.relative_zoom == pytest.approx(0.25, rel=0.02)
    assert right.relative_zoom == pytest.approx(0.25, rel=0.02)
    for label in dialog.figure_labels:
        assert "Corroded share" in label.text()
    # both sides' figures start on one line: a side with more lines (a review reason) does not centre
    # the other's few lines beside it
    assert all(label.alignment() & Qt.AlignmentFlag.AlignTop for label in dialog.figure_labels)


def test_both_sides_show_their_overlay(qtbot, two_sizes, tiny_model):
    dialog = CompareDialog(two_sizes, "P-7", model=tiny_model)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: all(o is not None for o in dialog.overlays), timeout=TIMEOUT_MS)
    for side, view in enumerate(dialog.views):
        photo_id = dialog.photo_boxes[side].currentData()
        path = two_sizes.photo_file(two_sizes.photo(photo_id))
        rgb = read_image(path)
        shown = qimage_to_rgb(view.image())
        labels = analyze_rgb(tiny_model, rgb, path).labels
        assert not np.array_equal(shown, rgb), "the overlay, not the bare photo"
        assert np.array_equal(shown, blend_overlay(rgb, labels, tiny_model.classes))
    dialog.overlay_check.setChecked(False)
    assert np.array_equal(
        qimage_to_rgb(dialog.views[0].image()),
        read_image(two_sizes.photo_file(two_sizes.photo(dialog.photo_boxes[0].currentData()))),
    )


def test_photos_are_read_off_the_ui_thread_and_a_bad_one_says_why(
    qtbot, two_sizes, tiny_model, monkeypatch
) -> None:
    """A camera photo takes a while to read: the dialog must stay responsive while it does."""
    import threading

    from app.ui import compare_dialog

    readers: list[str] = []

    def spy(path, *args, **kwargs):
        readers.append(threading.current_thread().name)
        return read_image(path, *args, **kwargs)

    monkeypatch.setattr(compare_dialog, "read_image", spy)
    dialog = CompareDialog(two_sizes, "P-7", model=tiny_model)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: all(o is not None for o in dialog.overlays), timeout=TIMEOUT_MS)
    assert readers and threading.main_thread().name not in readers
    path = two_sizes.photo_file(two_sizes.photo(dialog.photo_boxes[1].currentData()))
    path.write_bytes(b"not a photo any more")
    dialog.photo_boxes[1].setCurrentIndex(1)
    dialog.photo_boxes[1].setCurrentIndex(0)
    qtbot.waitUntil(lambda: "Corroded share" in dialog.figure_labels[1].text(), timeout=TIMEOUT_MS)
    qtbot.waitUntil(  # another content than the stored photo's: not shown beside its stored figures
        lambda: "changed since it was added" in dialog.figure_labels[1].text(), timeout=TIMEOUT_MS
    )
    assert dialog.photos[1] is None


def test_the_overlay_draws_the_classes_the_window_draws(qtbot, two_sizes, tiny_model):
    from app.core.overlay_style import OverlayStyle

    style = OverlayStyle.of({0, 1}, {0: 0.7})  # background hidden, as the window starts
    dialog = CompareDialog(two_sizes, "P-7", model=tiny_model, style=style)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: all(o is not None for o in dialog.overlays), timeout=TIMEOUT_MS)
    photo_id = dialog.photo_boxes[0].currentData()
    path = two_sizes.photo_file(two_sizes.photo(photo_id))
    rgb = read_image(path)
    labels = analyze_rgb(tiny_model, rgb, path).labels
    shown = qimage_to_rgb(dialog.views[0].image())
    assert np.array_equal(shown, style.blend(rgb, labels, tiny_model.classes))
    assert not np.array_equal(shown, blend_overlay(rgb, labels, tiny_model.classes))


def test_an_overlay_another_model_draws_says_so_as_a_warning(qtbot, two_sizes, tiny_model, other_model_path):
    """The stored figures are one model's, the overlay the loaded one's: the pane says so."""
    from app.core.model import SegmentationModel

    other = SegmentationModel.load(other_model_path, "cpu")
    dialog = CompareDialog(two_sizes, "P-7", model=other)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: all(o is not None for o in dialog.overlays), timeout=TIMEOUT_MS)
    for note in dialog.overlay_notes:
        assert note.isVisible() and "#fff4d6" in note.styleSheet()  # the warning's colours
        text = note.text()
        assert f"Overlay drawn by the loaded model tiny-b.onnx ({other.sha256[:12]})" in text
        assert f"not by {tiny_model.path.name} ({tiny_model.sha256[:12]}) that made these figures" in text
    same = CompareDialog(two_sizes, "P-7", model=tiny_model)
    qtbot.addWidget(same)
    same.show()
    qtbot.waitUntil(lambda: all(o is not None for o in same.overlays), timeout=TIMEOUT_MS)
    assert not any(note.isVisible() for note in same.overlay_notes), "the figures' own model: nothing to say"


def test_a_stored_reviewed_mask_draws_the_overlay_and_the_pane_says_so(
    qtbot, two_sizes, tiny_model, other_model_path
):
    from app.core.model import SegmentationModel
    from app.core.palette import DEFAULT_CLASSES
    from app.core.project.reviews import store_review
    from app.core.reviewed import ReviewState, write_reviewed_mask

    photo = two_sizes.photos(two_sizes.inspections("P-7")[0].id)[0]
    path = two_sizes.photo_file(photo)
    rgb = read_image(path)
    labels = np.full(rgb.shape[:2], 2, dtype=np.uint8)  # all corrosion: nothing like the model's
    mask = write_reviewed_mask(
        path.with_name("signed_mask.reviewed.png"),
        labels,
        DEFAULT_CLASSES,
        ReviewState("reviewed", "Ann", "2026-12-01T10:00:00+00:00"),
    )
    store_review(two_sizes, tiny_model, path, mask)
    dialog = CompareDialog(two_sizes, "P-7", model=SegmentationModel.load(other_model_path, "cpu"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.overlays[0] is not None, timeout=TIMEOUT_MS)
    assert np.array_equal(qimage_to_rgb(dialog.views[0].image()), blend_overlay(rgb, labels, DEFAULT_CLASSES))
    note = dialog.overlay_notes[0]
    assert note.isVisible() and "Overlay drawn from the reviewed mask these figures come from" in note.text()
    assert "signed_mask.reviewed.png" in note.text() and "#fff4d6" not in note.styleSheet()
    mask.unlink()  # moved away: the model draws it, and the pane says the mask is not found
    dialog.photo_boxes[0].setCurrentIndex(1)
    dialog.photo_boxes[0].setCurrentIndex(0)
    qtbot.waitUntil(lambda: dialog.overlays[0] is not None and note.isVisible(), timeout=TIMEOUT_MS)
    assert (
        "not from the reviewed mask these figures come from" in note.text() and "is not found" in note.text()
    )
    assert "#fff4d6" in note.styleSheet()


def test_a_small_and_a_large_photo_zoom_together_to_a_limit_both_allow(qtbot):
    """Left 256 px, right 4000x3000, 22 wheel notches over the right: each pane stopped at its own 32x, so
    the left stopped at 29.6x its fit while the right went on to 142x and the two showed other parts."""
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from app.ui.compare_view import MAX_ZOOM, SyncedImageView

    holder = QWidget()
    qtbot.addWidget(holder)
    left, right = SyncedImageView(), SyncedImageView()
    row = QHBoxLayout(holder)
    row.addWidget(left)
    row.addWidget(right)
    SyncedImageView.pair(left, right)
    holder.resize(1000, 500)
    holder.show()
    qtbot.waitExposed(holder)
    for view, (w, h) in ((left, (256, 192)), (right, (4000, 3000))):
        image = QImage(w, h, QImage.Format.Format_RGB32)
        image.fill(0x808080)
        view.set_image(image)

    for _ in range(22):
        right.zoom_by(1.25)
    assert right.relative_zoom == pytest.approx(left.relative_zoom, rel=0.01)
    assert left.zoom == pytest.approx(MAX_ZOOM, rel=0.01), "as far as the small photo's pane goes"
    assert right.relative_center() == pytest.approx(left.relative_center(), abs=0.01)
    for _ in range(40):
        left.zoom_by(0.8)
    assert left.relative_zoom == pytest.approx(right.relative_zoom, rel=0.01)
    assert left.relative_zoom == pytest.approx(0.25, rel=0.02)


def test_the_zoom_keys_zoom_about_the_centre_not_the_mouse(qtbot, two_sizes, tiny_model):
    from PySide6.QtCore import QPoint

    dialog = CompareDialog(two_sizes, "P-7", model=tiny_model)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: all(p is not None for p in dialog.photos), timeout=TIMEOUT_MS)
    left = dialog.views[0]
    qtbot.mouseMove(left.viewport(), QPoint(3, 3))  # the pointer in the top-left corner
    dialog.zoom(1.25)
    dialog.zoom(1.25)
    assert left.relative_zoom == pytest.approx(1.5625, rel=0.01)
    assert left.relative_center() == pytest.approx((0.5, 0.5), abs=0.01)


def test_compare_has_a_close_button(qtbot, two_sizes, tiny_model):
    from PySide6.QtWidgets import QDialogButtonBox

    dialog = CompareDialog(two_sizes, "P-7", model=tiny_model)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    with qtbot.waitSignal(dialog.finished, timeout=TIMEOUT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Close).click()
    assert not dialog.isVisible()


def test_on_a_small_screen_the_photos_keep_the_height(qtbot, two_sizes, tiny_model):
    """1024 x 600 at 150 %: long figures, wrapped in the narrow panes, took most of the height and left
    the photos thumbnails; they now scroll in at most a quarter of it."""
    dialog = CompareDialog(two_sizes, "P-7", model=tiny_model)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: all(o is not None for o in dialog.overlays), timeout=TIMEOUT_MS)
    dialog.resize(675, 360)
    qtbot.waitUntil(lambda: dialog.height() <= 360)
    for label in dialog.figure_labels:  # as a reviewed photo's figures with a long reason
        label.setText(
            "\n".join(f"Figure {n}: corroded share of the asset 12.5 % (reviewed)" for n in range(12))
        )
    QApplication.processEvents()
    for view, label in zip(dialog.views, dialog.figure_labels, strict=True):
        assert view.height() >= dialog.height() // 3, (view.height(), label.height(), dialog.height())
        assert label.visibleRegion().boundingRect().height() <= dialog.height() // 4 + 1
