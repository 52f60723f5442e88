"""Settings live in the QSettings given (an INI file in a temporary folder here), typed and validated."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QSettings

from app.core.grading import GradeScale
from app.ui.settings import MAX_RECENT, AppSettings, unreadable
from tests.ui.conftest import TIMEOUT_MS


def test_defaults(settings):
    assert settings.device == "auto"
    assert settings.grade_scale is GradeScale.ASTM_D610
    assert settings.recent_files == []
    assert settings.opacity("corrosion", 0.5) == 0.5
    assert settings.window_geometry is None


def test_values_survive_a_new_instance(settings, tmp_path):
    settings.device = "cpu"
    settings.grade_scale = GradeScale.ISO_4628_3
    settings.last_folder = tmp_path
    settings.set_opacity("asset", 0.3)
    settings.sync()
    again = AppSettings.at(tmp_path / "settings.ini")
    assert again.device == "cpu"
    assert again.grade_scale is GradeScale.ISO_4628_3
    assert again.last_folder == str(tmp_path)
    assert again.opacity("asset", 0.5) == pytest.approx(0.3)


def test_recent_files_newest_first_without_duplicates(settings):
    for i in range(MAX_RECENT + 3):
        settings.add_recent_file(f"/photos/{i}.jpg")
    settings.add_recent_file("/photos/5.jpg")
    recent = settings.recent_files
    assert len(recent) == MAX_RECENT
    assert recent[0] == "/photos/5.jpg" and recent.count("/photos/5.jpg") == 1
    assert recent[1] == f"/photos/{MAX_RECENT + 2}.jpg"


def test_bad_values_are_refused_or_ignored(settings):
    with pytest.raises(ValueError):
        settings.device = "tpu"
    with pytest.raises(ValueError):
        settings.grade_scale = "din"
    settings.qsettings.setValue("inference/device", "quantum")
    settings.qsettings.setValue("files/recent", "{not json")
    settings.qsettings.setValue("overlay/opacity/asset", "lots")
    assert settings.device == "auto"
    assert settings.recent_files == []
    assert settings.opacity("asset", 0.4) == 0.4
    settings.set_opacity("asset", 7)
    assert settings.opacity("asset", 0.4) == 1.0


@pytest.mark.parametrize("written", ["nan", "inf", "-inf", "-3", "1.5", "abc", ""])
def test_an_opacity_the_app_never_writes_falls_back_to_the_default(settings, written):
    settings.qsettings.setValue("overlay/opacity/corrosion", written)
    assert settings.opacity("corrosion", 0.5) == 0.5
    settings.qsettings.setValue("overlay/opacity/corrosion", "0.000")
    assert settings.opacity("corrosion", 0.5) == 0.0, "a class set to 0 % by hand stays so"


def _window(qtbot, settings, model_path):
    from app.ui.main_window import MainWindow

    win = MainWindow(settings)
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.controller.load_model(model_path, "cpu")
    return win


def test_settings_that_cannot_be_saved_are_said_once_with_their_file(qtbot, tmp_path, model_path):
    (tmp_path / "a-file").write_text("")
    settings = AppSettings.at(tmp_path / "a-file" / "settings.ini")  # its folder cannot be made
    win = _window(qtbot, settings, model_path)
    text = win.banner.text
    assert win.banner.level == "warning" and "cannot be saved" in text and "a-file" in text, text
    assert not win.settings_unsaved.isHidden() and win.settings_unsaved.toolTip() == text
    win.banner.dismiss()
    settings.last_folder = tmp_path
    settings.sync()
    assert win.banner.text == "", "said once, not at every write"
    win.controller.shutdown()


def test_settings_that_stop_being_saveable_are_said_at_the_next_write(qtbot, tmp_path, model_path):
    settings = AppSettings.at(tmp_path / "config" / "settings.ini")
    win = _window(qtbot, settings, model_path)
    assert "cannot be saved" not in win.banner.text and win.settings_unsaved.isHidden()
    settings.sync()
    (tmp_path / "config" / "settings.ini").unlink()
    (tmp_path / "config").rmdir()
    (tmp_path / "config").write_text("")  # the folder is gone, a file in its place
    settings.last_folder = tmp_path
    # Qt writes the file on its own a moment later; the write after that failure says it (no sync here)
    qtbot.waitUntil(lambda: settings.qsettings.status() == QSettings.Status.AccessError, timeout=TIMEOUT_MS)
    settings.recursive = True
    assert "cannot be saved" in win.banner.text and not win.settings_unsaved.isHidden()
    win.controller.shutdown()


def test_settings_that_cannot_be_read_are_said_so_not_only_unsaved(qtbot, tmp_path, model_path):
    """An unreadable settings file was reported only as "cannot be saved … (it cannot be written)": the
    user was not told that the settings in it were not applied (here a folder where the file should be,
    which root cannot read either)."""
    path = tmp_path / "settings.ini"
    path.mkdir()
    win = _window(qtbot, AppSettings.at(path), model_path)
    text = win.banner.text
    assert win.banner.level == "warning" and "could not be read from" in text and str(path) in text, text
    assert "runs on its defaults" in text and "nothing is saved" in text, text
    assert not win.settings_unsaved.isHidden() and win.settings_unsaved.toolTip() == text
    assert win.settings.device == "auto"
    win.controller.shutdown()


def test_a_file_without_read_permission_is_named_so(tmp_path, monkeypatch):
    path = tmp_path / "settings.ini"
    path.write_text("[inference]\ndevice=cpu\n")
    monkeypatch.setattr(os, "access", lambda _p, _mode: False)  # as for a user a mode 000 file stops
    assert unreadable(str(path)) == "there is no permission to read it"
    assert unreadable(str(tmp_path / "absent.ini")) is None


def test_a_named_pipe_as_the_settings_file_is_said_and_never_waited_on(tmp_path):
    """`--settings fifo.ini` (or a FIFO at the default place) hung the app before its window showed: Qt
    opens the file first and waits for a writer for ever."""
    import subprocess
    import sys

    fifo = tmp_path / "fifo.ini"
    os.mkfifo(fifo)
    code = (
        "import sys\n"
        "from PySide6.QtCore import QCoreApplication\n"
        "from app.ui.settings import AppSettings\n"
        "app = QCoreApplication([])\n"
        "s = AppSettings.at(sys.argv[1])\n"
        "s.on_unsaved = print\n"
        "s.check_saved()\n"
        "print('device', s.device)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(fifo)], capture_output=True, text=True, timeout=60, check=True
    )
    assert f"Settings could not be read from {fifo} (it is not a file)" in done.stdout, done.stdout
    assert "device auto" in done.stdout
