"""Smaller things a new user met: banners that outlive their photo, an export banner naming one file of
five and no folder, "1 photos", the first Open dialog in the home folder far from the samples."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from app.core.paths import samples_dir
from app.ui import export_jobs
from app.ui.settings import AppSettings
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo
from tests.ui.test_batch import make_folder, run_batch


def test_the_export_banner_names_the_folder_and_every_file(qtbot, window, tmp_path: Path):
    path, _ = photo(tmp_path, 1)
    open_and_wait(qtbot, window, path)
    out = tmp_path / "out"
    with qtbot.waitSignal(window.controller.export_finished, timeout=TIMEOUT_MS) as blocker:
        export_jobs.start_photo_export(window, out, ["mask", "json", "overlay"])
    paths = blocker.args[0]
    text = window.banner.text
    assert text.startswith(f"Exported {len(paths)} files to {out}: ")
    assert all(p.name in text for p in paths)
    assert export_jobs.exported_text([out / "a.json"]) == f"Exported 1 file to {out}: a.json"


def test_a_banner_goes_when_the_next_photo_or_batch_opens(qtbot, window, tmp_path: Path):
    first, _ = photo(tmp_path, 1)
    second, _ = photo(tmp_path, 2)
    open_and_wait(qtbot, window, first)
    window.show_message("Exported 3 files to somewhere", "info")
    open_and_wait(qtbot, window, second)
    assert window.banner.text == ""
    window.show_message("Export failed: disk full", "error")
    run_batch(qtbot, window, make_folder(tmp_path, 2))
    assert "disk full" not in window.banner.text


def test_the_first_open_dialog_starts_at_the_samples(qtbot, window, tmp_path: Path, monkeypatch):
    fresh = AppSettings.at(tmp_path / "fresh.ini")
    assert fresh.last_folder == str(samples_dir())
    window.settings = fresh
    starts: list[str] = []
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda _p, _t, start, _f: (starts.append(start) or "", "")
    )
    window.open_photo_dialog()
    assert starts == [str(samples_dir())]


def test_f1_shows_the_guide_inside_the_app_when_no_program_opens_markdown(qtbot, window, monkeypatch):
    from app.ui import help_dialogs

    monkeypatch.setattr(help_dialogs.QDesktopServices, "openUrl", lambda _url: False)
    window.actions["user_guide"].trigger()
    dialog = window.findChild(help_dialogs.UserGuideDialog, "user_guide_dialog")
    assert dialog is not None and dialog.isVisible()
    text = dialog.browser.toPlainText()
    assert "Keyboard shortcuts" in text and "| " not in text, "rendered Markdown, not its source"
    assert window.banner.text == ""
    browser = dialog.browser
    qtbot.waitUntil(lambda: browser.horizontalScrollBar().maximum() == 0, timeout=5_000)
    # the screenshots (1280 px wide) are drawn to the dialog's width: nothing to scroll sideways
    assert browser.document().size().width() <= browser.viewport().width() + 1
    dialog.close()
