"""Exports from the real window: the files, their figures equal app.core's, never overwrite unasked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from app.core.analysis import analyze_photo
from app.core.model import SegmentationModel
from app.core.overlay import blend_overlay
from app.core.palette import decode_mask
from app.core.photos import read_image
from app.ui.batch_exports import start_batch_pdf_export
from app.ui.export_dialog import ExportDialog
from app.ui.export_jobs import photo_targets, start_photo_export
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo

Yes, No = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


def answer_question(button: QMessageBox.StandardButton, seen: list) -> None:
    """Click `button` on the next modal question box as soon as it shows."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.button(button).click()
        else:
            QTimer.singleShot(10, click)

    QTimer.singleShot(0, click)


def export(qtbot, window, folder, kinds):
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS) as blocker:
        assert start_photo_export(window, folder, kinds) is not None
    return blocker.args[0]


def test_export_writes_every_file_with_core_figures(qtbot, window, tmp_path):
    path, rgb = photo(tmp_path, 21)
    open_and_wait(qtbot, window, path)
    window.overlay_state.set_opacity(0, 0.8)
    out = tmp_path / "out"
    written = export(qtbot, window, out, {"mask", "overlay", "json", "pdf"})
    targets = photo_targets(out, path.stem, {"mask", "overlay", "json", "pdf"})
    assert sorted(written) == sorted(targets.values())
    core = analyze_photo(SegmentationModel.load(window.controller.model.path, "cpu"), path)
    record = json.loads(targets["json"].read_text())
    assert record["corroded_share"] == round(core.stats.corroded_share, 6)
    assert record["astm_d610"]["label"] == core.assessment.astm.label
    assert record["pixels"] == core.stats.pixels
    ids, off = decode_mask(read_image(targets["mask"]))
    assert off == 0 and np.array_equal(ids, core.labels)
    state = window.overlay_state
    want = blend_overlay(rgb, core.labels, core.classes, state.visible_ids, state.opacities)
    assert np.array_equal(read_image(targets["overlay"]), want)
    assert targets["pdf"].read_bytes().startswith(b"%PDF")


def test_existing_files_are_replaced_only_when_the_user_says_yes(qtbot, window, tmp_path):
    path, _ = photo(tmp_path, 22)
    open_and_wait(qtbot, window, path)
    out = tmp_path / "out"
    targets = photo_targets(out, path.stem, {"mask", "json"})
    out.mkdir()
    for target in targets.values():
        target.write_bytes(b"keep me")
    seen: list[str] = []
    answer_question(No, seen)
    assert start_photo_export(window, out, {"mask", "json"}) is None
    assert len(seen) == 1 and "2 files already exist" in seen[0]
    assert all(t.read_bytes() == b"keep me" for t in targets.values())
    assert "cancelled" in window.banner.text
    answer_question(Yes, seen)
    written = export(qtbot, window, out, {"mask", "json"})
    assert len(seen) == 2
    assert sorted(written) == sorted(targets.values())
    assert all(t.read_bytes() != b"keep me" for t in targets.values())


def test_export_failure_is_reported_and_the_app_keeps_working(qtbot, window, tmp_path):
    path, _ = photo(tmp_path, 23)
    open_and_wait(qtbot, window, path)
    blocker_file = tmp_path / "not-a-folder"
    blocker_file.write_text("a file where the folder should be")
    with qtbot.waitSignal(window.controller.export_failed, timeout=TIMEOUT_MS):
        start_photo_export(window, blocker_file / "out", {"json"})
    assert window.banner.level == "error" and "Export failed" in window.banner.text
    export(qtbot, window, tmp_path / "ok", {"json"})


def test_an_export_that_fails_part_way_leaves_no_part_of_its_set(qtbot, window, tmp_path, monkeypatch):
    """The PDF fails (a full disk) after the mask and overlay were written: none of the set is left
    behind, so a retry asks about nothing and no half set passes for an export."""
    import app.report
    from app.core.errors import ExportError

    path, _ = photo(tmp_path, 24)
    open_and_wait(qtbot, window, path)

    def full_disk(target, *args, **kwargs):
        raise ExportError(f"Cannot write {target}: No space left on device")

    monkeypatch.setattr(app.report, "write_pdf_report", full_disk)
    out = tmp_path / "out"
    with qtbot.waitSignal(window.controller.export_failed, timeout=TIMEOUT_MS) as failed:
        start_photo_export(window, out, {"mask", "overlay", "json", "pdf"})
    assert "No space left on device" in failed.args[0]
    assert sorted(p.name for p in out.iterdir()) == []  # no mask, overlay or temp file either


def test_batch_pdf_asks_before_replacing(qtbot, window, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        photo(folder, 30 + i)
    with qtbot.waitSignal(window.controller.batch_finished, timeout=TIMEOUT_MS):
        window.open_folder(folder)
    pdf = tmp_path / "batch.pdf"
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS):
        start_batch_pdf_export(window, pdf)
    first = pdf.read_bytes()
    assert first.startswith(b"%PDF")
    seen: list[str] = []
    answer_question(No, seen)
    assert start_batch_pdf_export(window, pdf) is None
    assert seen and pdf.read_bytes() == first


def test_export_dialog_collects_folder_and_kinds(qtbot, tmp_path):
    dialog = ExportDialog(tmp_path)
    qtbot.addWidget(dialog)
    assert dialog.folder == tmp_path
    assert dialog.kinds == {"mask", "overlay", "json", "pdf"}
    dialog.checks["pdf"].setChecked(False)
    dialog.checks["mask"].setChecked(False)
    assert dialog.kinds == {"overlay", "json"}
    for check in dialog.checks.values():
        check.setChecked(False)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled(), "nothing to export: Export is disabled"


def test_export_dialog_shows_the_whole_folder(qtbot):
    folder = Path("/data/inspections/site photos 2026/Werk Nord results")  # the dialog only shows it
    dialog = ExportDialog(folder)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    edit = dialog.folder_edit
    assert edit.fontMetrics().horizontalAdvance(str(folder)) < edit.width(), "where the files go is readable"


def test_keep_both_writes_the_export_under_the_next_free_name(qtbot, window, tmp_path):
    path, _ = photo(tmp_path, 23)
    open_and_wait(qtbot, window, path)
    out = tmp_path / "out"
    out.mkdir()
    first = photo_targets(out, path.stem, {"mask", "json"})
    for target in first.values():
        target.write_bytes(b"keep me")
    (out / f"{path.stem} (2).json").write_bytes(b"also kept")  # (2) is taken by one of the files: (3)

    def keep_both() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, keep_both)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text().startswith("Keep both")).click()

    seen: list[str] = []
    QTimer.singleShot(0, keep_both)
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS) as blocker:
        assert start_photo_export(window, out, {"mask", "json"}) is not None
    written = sorted(Path(p).name for p in blocker.args[0])
    assert written == sorted(
        p.name for p in photo_targets(out, f"{path.stem} (3)", {"mask", "json"}).values()
    )
    assert all(t.read_bytes() == b"keep me" for t in first.values())
    assert (out / f"{path.stem} (2).json").read_bytes() == b"also kept"
    assert "2 files already exist" in seen[0]
