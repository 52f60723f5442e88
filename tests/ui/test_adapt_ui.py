"""Model ▸ Adapt to these reviewed photos…: a real adaptation in the window's worker pool, the adapted
model loaded, a cancel that writes nothing, and the way back to the shipped model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from app.ui.adapt_run import AdaptRun
from app.ui.adapt_ui import adapt_sources, find_reviewed
from app.ui.main_window import MainWindow
from tests.core.test_adapt import _site, site_model
from tests.ui.conftest import TIMEOUT_MS, open_and_wait


def _window(qtbot, settings, model: Path) -> MainWindow:
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.controller.load_model(model, "cpu")
    return win


def _adapt(qtbot, win) -> None:
    """Model ▸ Adapt…, until what its worker found was acted on."""
    with qtbot.waitSignal(win.model_menu.adapt_looked, timeout=TIMEOUT_MS):
        win.actions["adapt_model"].trigger()


def _reviewed_folder(tmp_path: Path) -> list[Path]:
    photos, masks = _site(tmp_path, 5)
    for mask in masks.iterdir():  # saved beside the photos, as File ▸ Save corrected mask does by default
        mask.rename(photos[0].parent / mask.name)
    return photos


def test_adapt_without_reviewed_masks_names_the_menu_entries_that_make_them(qtbot, settings, tmp_path):
    photos, _masks = _site(tmp_path, 3)  # the masks stay in their own folder: none beside the photos
    win = _window(qtbot, settings, site_model(tmp_path / "base.onnx"))
    open_and_wait(qtbot, win, photos[0])
    _adapt(qtbot, win)
    for name in ("mark_reviewed", "save_reviewed"):
        entry = win.editing.actions[name].text().replace("&", "").rstrip("…")
        assert entry in win.banner.text, (entry, win.banner.text)
    win.controller.shutdown()


def test_adapt_runs_in_a_worker_and_loads_the_adapted_model(qtbot, settings, tmp_path, monkeypatch):
    base = site_model(tmp_path / "base.onnx")
    photos = _reviewed_folder(tmp_path)
    win = _window(qtbot, settings, base)
    open_and_wait(qtbot, win, photos[0])
    assert [p for p, _ in find_reviewed(adapt_sources(win)).saved] == photos
    out = tmp_path / "site-model.onnx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    assert win.actions["adapt_model"].isEnabled()
    with qtbot.waitSignal(win.controller.model_loaded, timeout=60_000):
        win.actions["adapt_model"].trigger()
    assert win.controller.model.path == out
    assert "Adapted to 5 reviewed photos" in win.banner.text
    # the photo on screen analysed again with the new model says so; the outcome stays above it
    win.show_message("p0.png was analysed again: your edits are kept over the new model mask", "warning")
    assert "Adapted to 5 reviewed photos" in win.banner.whole and "analysed again" in win.banner.whole
    assert settings.model_path == out  # remembered like any model loaded by hand
    assert win.actions["default_model"].text().replace("&", "") == "Return to the shipped model"
    assert win.actions["default_model"].isEnabled()
    win.controller.shutdown()


def test_a_cancelled_adaptation_writes_nothing(qtbot, settings, tmp_path):
    base = site_model(tmp_path / "base.onnx")
    photos = _reviewed_folder(tmp_path)
    win = _window(qtbot, settings, base)
    out = tmp_path / "site-model.onnx"
    pairs = [(p, p.parent / f"{p.stem}_mask.reviewed.png") for p in photos]
    run = AdaptRun(win, base, pairs, out)
    run.worker.cancel()
    with qtbot.waitSignal(run.worker.signals.cancelled, timeout=TIMEOUT_MS):
        run.start()
    assert not out.exists()
    assert win.controller.model.path == base
    win.controller.shutdown()


def test_the_progress_dialog_names_the_step_its_bar_shows(qtbot, settings, tmp_path):
    base = site_model(tmp_path / "base.onnx")
    win = _window(qtbot, settings, base)
    run = AdaptRun(win, base, [], tmp_path / "site-model.onnx")  # never started: progress by hand
    run._progress(5, 12, "Leave-one-out 1 of 5")
    run._progress(7, 12, "Leave-one-out 3 of 5")
    qtbot.waitUntil(lambda: run.dialog.value() == 7, timeout=TIMEOUT_MS)
    assert run.dialog.labelText() == "Leave-one-out 3 of 5"  # not the step before
    run.dialog.close()
    win.controller.shutdown()


def test_photos_signed_in_the_window_are_saved_first_when_the_user_agrees(
    qtbot, settings, tmp_path, monkeypatch
):
    from app.core.reviewed import read_reviewed_mask
    from app.ui import adapt_ui

    base = site_model(tmp_path / "base.onnx")
    photos, _masks = _site(tmp_path, 5)  # no mask on disk beside the photos
    win = _window(qtbot, settings, base)
    with qtbot.waitSignal(win.controller.batch_finished, timeout=TIMEOUT_MS):
        win.open_folder(photos[0].parent)
    for photo in photos[:4]:
        open_and_wait(qtbot, win, photo)
        win.editing.edits.mark_reviewed("Ann Inspector")
    asked: list[str] = []
    monkeypatch.setattr(adapt_ui, "ask_yes", lambda _p, _n, _t, text, *_a: asked.append(text) or True)
    _adapt(qtbot, win)  # four signed: too few, said before any question or file dialog
    assert not asked and "at least 5 reviewed photos; these photos have 4 (0 with a saved" in win.banner.text
    open_and_wait(qtbot, win, photos[4])
    win.editing.edits.mark_reviewed("Ann Inspector")
    out = tmp_path / "site-model.onnx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    _adapt(qtbot, win)
    assert len(asked) == 1 and all(p.name in asked[0] for p in photos)
    qtbot.waitUntil(lambda: "Adapt" in win.banner.text and "at least" not in win.banner.text, timeout=60_000)
    results = photos[0].parent.parent / f"{photos[0].parent.name} results"
    for photo in photos:
        saved = read_reviewed_mask(results / f"{photo.stem}_mask.reviewed.png")
        assert saved.review.reviewed_by == "Ann Inspector"
    assert not win.editing.edits.unsaved_sessions(), "what was saved counts as saved"
    win.controller.shutdown()


def test_with_a_project_open_adaptation_learns_from_its_reviewed_photos(qtbot, settings, tmp_path):
    import datetime as dt

    from app.core.model import SegmentationModel
    from app.core.project import Project, add_inspection_photos
    from app.core.project.reviews import store_review
    from app.ui.adapt_ui import adapt_plan
    from tests.ui.test_projects import _read

    photos, masks = _site(tmp_path, 6)  # the masks in a folder of their own, as a reviewer may keep them
    base = site_model(tmp_path / "base.onnx")
    target = tmp_path / "site.corroscope"
    model = SegmentationModel.load(base, device="cpu")
    with Project.create(target) as project:
        for n, date in enumerate((dt.date(2024, 5, 1), dt.date(2025, 5, 1))):  # two inspections
            add_inspection_photos(project, model, "P-1", date, photos[3 * n : 3 * n + 3])
        for photo in photos[:4]:  # four signed reviews reached the project
            store_review(project, model, photo, masks / f"{photo.stem}_mask.reviewed.png")
    win = _window(qtbot, settings, base)
    with qtbot.waitSignal(win.projects.project_changed, timeout=TIMEOUT_MS):
        win.projects.open(target)
    _read(qtbot, win)
    plan = adapt_plan(win, find_reviewed(adapt_sources(win)))  # none in the folder lookup's places
    assert plan.holder == "the project has" and [p for p, _m in plan.saved] == photos[:4]
    _adapt(qtbot, win)
    assert "at least 5 reviewed photos; the project has 4 (4 with a saved reviewed mask" in win.banner.text
    with Project.open(target) as project:
        store_review(project, model, photos[4], masks / "p4_mask.reviewed.png")
    win.projects.panel.refresh()
    _read(qtbot, win)
    assert [p for p, _m in find_reviewed(adapt_sources(win)).saved] == photos[:5]
    open_and_wait(qtbot, win, photos[5])  # a photo of the project on screen: still the project's
    assert find_reviewed(adapt_sources(win)).holder == "the project has"
    proposed = []  # the site's model is proposed beside its project, not in the first photo's folder

    def ask(_parent, _title, start, *_rest):
        proposed.append(Path(start))
        return "", ""

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(QFileDialog, "getSaveFileName", ask)
        _adapt(qtbot, win)
    assert proposed == [tmp_path / "site-model.onnx"]
    win.controller.shutdown()


def test_the_search_for_reviewed_photos_runs_off_the_ui_thread(qtbot, settings, tmp_path, monkeypatch):
    """A folder on a share may hold thousands of photos: listing it and looking for each one's mask must
    not freeze the window."""
    import threading

    from app.ui import adapt_ui

    photos, _masks = _site(tmp_path, 3)
    win = _window(qtbot, settings, site_model(tmp_path / "base.onnx"))
    open_and_wait(qtbot, win, photos[0])
    threads, real = [], adapt_ui.photos_in
    monkeypatch.setattr(
        adapt_ui, "photos_in", lambda paths: threads.append(threading.current_thread()) or real(paths)
    )
    _adapt(qtbot, win)
    assert threads and threading.main_thread() not in threads
    assert "at least 5 reviewed photos; these photos have 0" in win.banner.text
    win.controller.shutdown()


def test_the_window_never_writes_the_adapted_model_over_a_bundled_one(qtbot, settings, tmp_path, monkeypatch):
    """With a site model loaded as the base, the window wrote over the shipped int8 file (the save dialog
    allowed it), and "Return to the shipped model" then loaded the adapted one."""
    from app.core import adapt_checks

    bundled = tmp_path / "models"
    bundled.mkdir()
    shipped = site_model(bundled / "shipped.int8.onnx")
    before = shipped.read_bytes()
    monkeypatch.setattr(adapt_checks, "models_dir", lambda: bundled)
    base = site_model(tmp_path / "site-base.onnx")
    photos = _reviewed_folder(tmp_path)
    win = _window(qtbot, settings, base)
    open_and_wait(qtbot, win, photos[0])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(shipped), ""))
    _adapt(qtbot, win)  # refused before any question to replace it (a question would block here)
    qtbot.waitUntil(lambda: "folder of the bundled models" in win.banner.whole, timeout=60_000)
    assert shipped.read_bytes() == before and win.controller.model.path == base
    # a message of the photo on screen just after (its saved mask found) once took the refusal away
    win.show_message("p0.png: reviewed mask found beside the photo", "info")
    assert "folder of the bundled models" in win.banner.whole
    win.controller.shutdown()


def test_the_result_names_what_was_left_out() -> None:
    from app.core.adapt import AdaptResult
    from app.core.adapt_scores import LooFigures
    from app.ui.adapt_run import result_text

    figures = LooFigures(5.0, 0.8, 3)
    result = AdaptResult(
        Path("site.onnx"), figures, figures, 8, {}, "3 reviewed photos new to the base model (of 8)",
        ("2 photos are copies of another (same content) and were left out: b\x1b.png (of a.png)",),
    )  # fmt: skip
    text = result_text(result)
    assert "Leave-one-out over 3 reviewed photos new to the base model (of 8):" in text
    assert "Note: 2 photos are copies of another" in text and "\x1b" not in text
