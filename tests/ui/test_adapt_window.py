"""Model ▸ Adapt… and the rest of the window: the file it writes is one the user named and agreed to replace,
the name it offers is free, the window stays usable while it runs (and quitting asks), a refusal's banner
goes when the next run starts, and photos with odd names find their reviewed masks."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from app.core.adapt_heads import AdaptRefused
from app.core.files import TEMP_SUFFIX
from app.core.reviewed import REVIEWED_SUFFIX
from app.core.saved_corrections import CorrectionSearch
from app.ui import adapt_run
from app.ui.adapt_ui import AdaptPlan, AdaptSources, default_output, find_reviewed, too_few_text
from tests.core.test_adapt import _site, site_model
from tests.ui.conftest import TIMEOUT_MS, open_and_wait
from tests.ui.test_adapt_ui import _adapt, _reviewed_folder, _window

ADAPT_MS = 60_000


@pytest.fixture
def held(monkeypatch):
    """Each adaptation waits for `held.set()` before it starts its work, so a test acts while it runs."""
    gate, real = threading.Event(), adapt_run.adapt_model

    def adapt_when_let(*args, **kwargs):
        assert gate.wait(ADAPT_MS / 1000), "the test never let the adaptation go on"
        return real(*args, **kwargs)

    def stop_and_let_go(_box):  # a failed test's window asks at its close: never wait on a box there
        gate.set()
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(adapt_run, "adapt_model", adapt_when_let)
    monkeypatch.setattr(QMessageBox, "exec", stop_and_let_go)  # a test's own answers (`_answer`) come first
    yield gate
    gate.set()  # a failed test must not leave a worker waiting


def _answer(monkeypatch, *answers: bool) -> list[str]:
    """Every question box is answered in turn (True: its Yes button); the texts asked are returned."""
    asked, left = [], list(answers)

    def exec_(box):
        asked.append(f"{box.text()} {box.informativeText()}")
        yes = left.pop(0) if left else False
        return QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return asked


def _save_as(monkeypatch, path: Path | str) -> list[Path]:
    offered: list[Path] = []

    def dialog(_parent, _title, start, *_rest):
        offered.append(Path(start))
        return str(path), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    return offered


def _open_reviewed(qtbot, win, photo: Path) -> None:
    """Open a photo and wait for its reviewed mask too: its banner ("Opened the reviewed mask …") comes
    from a worker and, landing late on a loaded machine, replaced the message a test then read."""
    with qtbot.waitSignal(win.editing.edits.mask_opened, timeout=TIMEOUT_MS):
        open_and_wait(qtbot, win, photo)


def _start(qtbot, win) -> adapt_run.AdaptRun:
    _adapt(qtbot, win)
    run = win.model_menu._adapt_run
    assert run is not None, win.banner.text
    return run


def test_a_name_typed_without_onnx_is_asked_about_before_that_file_is_replaced(
    qtbot, settings, tmp_path, monkeypatch
):
    """Qt confirmed "victim2", the name as typed; the app wrote "victim2.onnx" over a file nobody asked
    about. The question now names the file written, and No keeps it."""
    base = site_model(tmp_path / "base.onnx")
    photos = _reviewed_folder(tmp_path)
    victim = photos[0].parent / "victim2.onnx"
    victim.write_bytes(b"someone's model")
    win = _window(qtbot, settings, base)
    _open_reviewed(qtbot, win, photos[0])
    _save_as(monkeypatch, victim.with_suffix(""))
    asked = _answer(monkeypatch, False)
    _adapt(qtbot, win)
    assert len(asked) == 1 and "victim2.onnx" in asked[0], asked
    assert win.controller.pool.wait(TIMEOUT_MS) and victim.read_bytes() == b"someone's model"
    assert win.controller.model.path == base
    asked = _answer(monkeypatch, True)  # agreed: replaced, and loaded
    with qtbot.waitSignal(win.controller.model_loaded, timeout=ADAPT_MS):
        _adapt(qtbot, win)
    assert (
        len(asked) == 1 and win.controller.model.path == victim and victim.read_bytes() != b"someone's model"
    )
    win.controller.shutdown()


def test_a_file_that_appears_while_adapting_is_not_replaced(qtbot, settings, tmp_path, monkeypatch):
    base = site_model(tmp_path / "base.onnx")
    photos = _reviewed_folder(tmp_path)
    out = tmp_path / "new.onnx"
    win = _window(qtbot, settings, base)
    _open_reviewed(qtbot, win, photos[0])
    _save_as(monkeypatch, out)
    real = adapt_run.adapt_model

    def another_program_writes_meanwhile(*args, **kwargs):
        result = real(*args, **kwargs)  # the model made and waiting to land
        out.write_bytes(b"another program's")
        return result

    monkeypatch.setattr(adapt_run, "adapt_model", another_program_writes_meanwhile)
    run = _start(qtbot, win)
    qtbot.waitUntil(lambda: run.ended, timeout=ADAPT_MS)
    assert out.read_bytes() == b"another program's" and "already exists" in win.banner.text
    assert win.controller.model.path == base
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(TEMP_SUFFIX)]
    win.controller.shutdown()


def test_the_offered_name_is_free_never_the_loaded_model(qtbot, settings, tmp_path, monkeypatch):
    photos = _reviewed_folder(tmp_path)
    loaded = site_model(photos[0].parent / "site-model.onnx")  # an adapted model, loaded from its folder
    win = _window(qtbot, settings, loaded)
    _open_reviewed(qtbot, win, photos[0])
    offered = _save_as(monkeypatch, "")
    _adapt(qtbot, win)
    assert offered == [photos[0].parent / "site-model (2).onnx"]
    assert win.banner.level != "warning"  # nothing was refused: the user cancelled
    win.controller.shutdown()


def test_the_offered_name_is_never_in_the_bundled_models_folder(tmp_path):
    bundled = tmp_path / "models"
    (bundled / "photos").mkdir(parents=True)
    offered = default_output(bundled / "photos", bundled / "shipped.onnx", bundled=bundled)
    assert offered.parent == Path.home() and offered.suffix == ".onnx"
    assert not offered.exists()


def test_the_model_in_use_is_refused_as_the_name_before_any_replace_question(
    qtbot, settings, tmp_path, monkeypatch
):
    photos = _reviewed_folder(tmp_path)
    loaded = site_model(photos[0].parent / "site-model.onnx")
    win = _window(qtbot, settings, loaded)
    _open_reviewed(qtbot, win, photos[0])
    _save_as(monkeypatch, photos[0].parent / "site-model")
    asked = _answer(monkeypatch, True)
    _adapt(qtbot, win)
    assert not asked and "site-model.onnx is the model in use" in win.banner.text
    assert win.model_menu._adapt_run is None
    win.controller.shutdown()


def test_the_window_stays_usable_while_adapting_and_nothing_else_loads_a_model(
    qtbot, settings, tmp_path, monkeypatch, held, other_model_path
):
    base = site_model(tmp_path / "base.onnx")
    photos = _reviewed_folder(tmp_path)
    out = tmp_path / "site-model.onnx"
    win = _window(qtbot, settings, base)
    _open_reviewed(qtbot, win, photos[0])
    _save_as(monkeypatch, out)
    run = _start(qtbot, win)
    assert run.dialog.isVisible() and not run.dialog.isModal()
    assert QApplication.activeModalWidget() is None  # batch rows, menus and Ctrl+Q reach the window
    for name in ("adapt_model", "load_model", "default_model", "use_cpu"):
        assert not win.actions[name].isEnabled(), name
    open_and_wait(qtbot, win, photos[1])  # another photo opens and is analysed meanwhile
    win.load_model_file(other_model_path)  # a dropped model waits for the end
    win.actions["adapt_model"].trigger()
    assert win.model_menu._adapt_run is run
    assert "being adapted" in win.statusBar().currentMessage()
    with qtbot.waitSignal(win.controller.model_loaded, timeout=ADAPT_MS):
        held.set()
    qtbot.waitUntil(lambda: win.model_menu._adapt_run is None, timeout=TIMEOUT_MS)
    assert win.controller.model.path == out and settings.model_path == out
    assert all(win.actions[n].isEnabled() for n in ("adapt_model", "load_model", "default_model", "use_cpu"))
    win.controller.shutdown()


def test_quitting_while_adapting_asks_and_stopping_writes_nothing(
    qtbot, settings, tmp_path, monkeypatch, held
):
    base = site_model(tmp_path / "base.onnx")
    photos = _reviewed_folder(tmp_path)
    out = tmp_path / "site-model.onnx"
    win = _window(qtbot, settings, base)
    _open_reviewed(qtbot, win, photos[0])
    _save_as(monkeypatch, out)
    run = _start(qtbot, win)
    asked = _answer(monkeypatch, False)
    win.actions["quit"].trigger()  # Ctrl+Q: "Keep adapting"
    assert len(asked) == 1 and "adapted" in asked[0] and win.isVisible()
    assert not run.worker.is_cancelled
    asked = _answer(monkeypatch, True)
    cancelled: list[bool] = []
    run.worker.signals.cancelled.connect(lambda: cancelled.append(True))
    stop = win.model_menu.cancel_adaptation
    # the work goes on once it was told to stop, as it would at its next step; the close waits for it
    monkeypatch.setattr(win.model_menu, "cancel_adaptation", lambda: stop() and (held.set() or True))
    win.actions["quit"].trigger()
    assert len(asked) == 1 and not win.isVisible()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=TIMEOUT_MS)
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(TEMP_SUFFIX)]


def test_a_cancel_during_the_last_step_writes_nothing(qtbot, settings, tmp_path, monkeypatch):
    """The worker only saw Cancel between steps: one pressed while the model was being checked and
    written still left the file, under "nothing was written"."""
    base = site_model(tmp_path / "base.onnx")
    photos = _reviewed_folder(tmp_path)
    out = tmp_path / "site-model.onnx"
    win = _window(qtbot, settings, base)
    pairs = [(p, p.parent / f"{p.stem}{REVIEWED_SUFFIX}") for p in photos]
    run = adapt_run.AdaptRun(win, base, pairs, out)
    real = adapt_run.adapt_model

    def cancelled_at_the_end(*args, **kwargs):
        result = real(*args, **kwargs)
        run.landing.cancel(run.worker.cancel)  # Cancel, after the last check of the flag in adapt_model
        return result

    monkeypatch.setattr(adapt_run, "adapt_model", cancelled_at_the_end)
    with qtbot.waitSignal(run.worker.signals.cancelled, timeout=ADAPT_MS):
        run.start()
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(TEMP_SUFFIX)]
    win.controller.shutdown()


def test_a_refusal_banner_goes_when_the_next_adaptation_starts(qtbot, settings, tmp_path, monkeypatch, held):
    base = site_model(tmp_path / "base.onnx")
    photos = _reviewed_folder(tmp_path)
    out = tmp_path / "site-model.onnx"
    win = _window(qtbot, settings, base)
    _open_reviewed(qtbot, win, photos[0])
    _save_as(monkeypatch, out)
    waiting = adapt_run.adapt_model

    def refused(*_a, **_k):
        raise AdaptRefused("site-model.onnx is the base model; write the adapted model to another file")

    monkeypatch.setattr(adapt_run, "adapt_model", refused)
    _adapt(qtbot, win)  # refused at once: the run may have ended before this returns
    menu = win.model_menu
    qtbot.waitUntil(lambda: "is the base model" in win.banner.text and not menu.adapting, timeout=TIMEOUT_MS)
    assert win.banner.level == "warning"
    monkeypatch.setattr(adapt_run, "adapt_model", waiting)
    _start(qtbot, win)
    assert "is the base model" not in win.banner.text  # gone while the new run works
    with qtbot.waitSignal(win.controller.model_loaded, timeout=ADAPT_MS):
        held.set()
    win.controller.shutdown()


ODD_STEMS = ["nl\nsecond", "esc\x1b[31mRED\x1b[0m_x", os.fsdecode(b"bad\xff\xfe_name"), "tab\tx", "p4", "p5"]


def test_photos_with_control_characters_in_their_names_find_their_reviewed_masks(tmp_path):
    """`corroscope adapt` found 6 masks beside these photos, the window 3: it looked under the escaped
    name. The photo without a mask is named, escaped, where the window says how many it found."""
    photos, masks = _site(tmp_path, 7)
    folder = photos[0].parent
    odd = []
    for photo, stem in zip(photos, [*ODD_STEMS, "skip\x1b[2Jme"], strict=True):
        odd.append(photo.rename(folder / f"{stem}.png"))
        if stem != "skip\x1b[2Jme":
            (masks / f"{photo.stem}{REVIEWED_SUFFIX}").rename(folder / f"{stem}{REVIEWED_SUFFIX}")
    found = find_reviewed(AdaptSources((), odd[4], None, CorrectionSearch()))
    assert sorted(p.name for p, _m in found.saved) == sorted(p.name for p in odd[:6])
    assert all(mask.name == f"{photo.stem}{REVIEWED_SUFFIX}" for photo, mask in found.saved)
    assert found.missing == (odd[6],)
    text = too_few_text(AdaptPlan(found.saved, [], found.holder, found.missing), 10)
    assert "these photos have 6" in text and "skip\\x1b[2Jme.png" in text and "\x1b" not in text
