"""The model loaded by hand comes back after a restart, with a way back to the default; photos from
the command line open as soon as the model has loaded (on its signal, no polling)."""

from __future__ import annotations

from pathlib import Path

import app.ui.main as main_module
from app.ui.main_window import MainWindow
from tests.ui.conftest import TIMEOUT_MS, photo


def _start(qtbot, settings, *argv: str):
    win = main_module.create_window(main_module.parse_args(["--device", "cpu", *argv]), settings)
    qtbot.addWidget(win)
    return win


def test_a_model_loaded_by_hand_is_loaded_at_the_next_start(qtbot, settings, model_path, other_model_path):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.controller.load_model(model_path, "cpu")  # as at start-up: not remembered
    assert settings.model_path is None
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.load_model_file(other_model_path)  # Model ▸ Load model… or a dropped .onnx
    assert settings.model_path == other_model_path
    win.controller.shutdown()
    again = _start(qtbot, type(settings)(settings.qsettings))
    qtbot.waitUntil(lambda: again.controller.model is not None, timeout=TIMEOUT_MS)
    assert again.controller.model.path == other_model_path
    assert again.actions["default_model"].isEnabled()
    again.controller.shutdown()


def test_use_the_default_model_forgets_the_hand_loaded_one(qtbot, settings, other_model_path, monkeypatch):
    settings.model_path = other_model_path
    win = _start(qtbot, settings)
    qtbot.waitUntil(lambda: win.controller.model is not None, timeout=TIMEOUT_MS)
    assert Path(win.controller.model.path) == other_model_path
    bundled = main_module.default_model_path("cpu")
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.actions["default_model"].trigger()
    assert settings.model_path is None
    assert win.controller.model.path == bundled
    assert not win.actions["default_model"].isEnabled()
    win.controller.shutdown()


def test_a_refused_model_is_not_remembered(qtbot, window, bad_model_path):
    with qtbot.waitSignal(window.controller.model_refused, timeout=TIMEOUT_MS):
        window.load_model_file(bad_model_path)
    assert window.settings.model_path is None


def test_a_remembered_model_that_is_gone_falls_back_and_says_so(qtbot, settings, tmp_path):
    settings.model_path = tmp_path / "moved-away.onnx"
    win = _start(qtbot, settings)
    assert "moved-away.onnx" in win.banner.text and "bundled model" in win.banner.text
    assert settings.model_path is None
    qtbot.waitUntil(lambda: win.controller.model is not None, timeout=TIMEOUT_MS)
    win.controller.shutdown()


def test_a_remembered_model_on_a_drive_that_is_offline_is_kept_for_the_next_start(qtbot, settings, tmp_path):
    """A site model on a network share, started with the share offline: the setting was forgotten, so
    the site's model never came back once the share did."""
    share = tmp_path / "share" / "models" / "site.onnx"
    settings.model_path = share
    win = _start(qtbot, settings)
    assert "site.onnx" in win.banner.text and "cannot be reached" in win.banner.text
    assert settings.model_path == share
    qtbot.waitUntil(lambda: win.controller.model is not None, timeout=TIMEOUT_MS)
    assert win.controller.model.path == main_module.default_model_path("cpu")
    assert settings.model_path == share, "loading the bundled model in its place keeps it remembered"
    assert win.actions["default_model"].isEnabled()
    win.controller.shutdown()


def test_command_line_photo_opens_on_the_model_loaded_signal(qtbot, settings, model_path, tmp_path):
    path, _ = photo(tmp_path, 12)
    win = _start(qtbot, settings, str(path), "--model", str(model_path))
    started: list[bool] = []
    # connected after the window's own slots: by then the photo must already be asked for
    win.controller.model_loaded.connect(lambda _m: started.append(win.controller._photo_worker is not None))
    qtbot.waitUntil(lambda: win.controller.result is not None, timeout=TIMEOUT_MS)
    assert started == [True]
    assert win.controller.result.path == path
    win.controller.shutdown()


def test_command_line_photo_still_opens_when_the_model_is_refused(qtbot, settings, bad_model_path, tmp_path):
    path, _ = photo(tmp_path, 13)
    win = _start(qtbot, settings, str(path), "--model", str(bad_model_path))
    qtbot.waitUntil(lambda: win.controller.current is not None, timeout=TIMEOUT_MS)
    assert win.controller.current.path == path and win.controller.model is None
    win.controller.shutdown()


def test_a_remembered_model_that_no_longer_loads_falls_back_says_why_and_is_forgotten(
    qtbot, settings, model_path, tmp_path, monkeypatch
):
    import app.ui.model_menu as model_menu

    junk = tmp_path / "overwritten.onnx"
    junk.write_text("this was a model once\n")
    settings.model_path = junk
    # the tiny model stands in for the bundled one (fast)
    monkeypatch.setattr(model_menu, "default_model_path", lambda *_args, **_kwargs: model_path)
    path, _ = photo(tmp_path, 16)
    win = _start(qtbot, settings, str(path))
    qtbot.waitUntil(lambda: win.controller.result is not None, timeout=TIMEOUT_MS)
    assert win.controller.model.path == model_path and win.controller.result.path == path
    text = win.banner.text
    assert win.banner.level == "warning", text
    assert "overwritten.onnx" in text and "bundled model loads instead" in text and "ONNX" in text, text
    assert settings.model_path is None, "a refused model is not tried again at every start"
    win.controller.shutdown()


def test_the_figures_say_no_model_is_bundled_only_when_none_is(
    qtbot, settings, model_path, tmp_path, monkeypatch
):
    import app.ui.model_menu as model_menu

    win = MainWindow(settings)
    qtbot.addWidget(win)
    for bundled in (model_path, None):
        monkeypatch.setattr(model_menu, "default_model_path", lambda *_args, b=bundled, **_kwargs: b)
        path, _ = photo(tmp_path, 17, name=f"pipe-{bundled is None}.png")
        with qtbot.waitSignal(win.controller.photo_opened, timeout=TIMEOUT_MS):
            win.open_photo(path)
        text = win.figures.review_label.text()
        if bundled is None:
            assert text == model_menu.NO_MODEL_TEXT
        else:
            assert "No model is bundled" not in text, text
            assert "Load model" in text and "shipped model" in text, text
            assert win.actions["default_model"].isEnabled(), "the text names it: it can be used"
    win.controller.shutdown()


def test_a_remembered_model_that_is_a_named_pipe_is_refused_with_the_reason_not_called_gone(
    qtbot, settings, model_path, tmp_path, monkeypatch
):
    import os

    import app.ui.model_menu as model_menu

    fifo = tmp_path / "site.onnx"
    os.mkfifo(fifo)
    settings.model_path = fifo
    monkeypatch.setattr(model_menu, "default_model_path", lambda *_args, **_kwargs: model_path)
    win = _start(qtbot, settings)
    qtbot.waitUntil(lambda: win.controller.model is not None, timeout=TIMEOUT_MS)
    text = win.banner.text
    assert "site.onnx" in text and "is gone" not in text and "bundled model loads instead" in text, text
    assert "is not a file" in text, text
    win.controller.shutdown()
