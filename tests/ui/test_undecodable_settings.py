"""A settings file that is not UTF-8 (a hand-edited INI in Latin-1): its values are read as absent, never
as Qt decodes them (U+FFFD, or a last byte dropped), and a name holding U+FFFD never signs a review."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from app.ui import review_actions
from app.ui.review_dialog import ReviewDialog
from app.ui.settings import AppSettings
from tests.ui.conftest import TIMEOUT_MS, open_and_wait, photo

UNDECODED = "\ufffd"  # what Qt reads for bytes that are not UTF-8
LATIN_1 = b"[files]\nlast_folder=/tmp/caf\xe9\n[review]\ninspector=Jos\xe9 M\xfcller\n"


@pytest.fixture(autouse=True)
def _discard_on_close(monkeypatch) -> None:
    monkeypatch.setattr(review_actions, "ask_unsaved_on_quit", lambda parent, names: "discard")


def _latin_1_settings(tmp_path: Path) -> AppSettings:
    path = tmp_path / "latin-1.ini"
    path.write_bytes(LATIN_1)
    return AppSettings.at(path)


def test_values_that_are_not_utf8_read_as_absent_and_are_not_written_back(tmp_path) -> None:
    settings = _latin_1_settings(tmp_path)
    assert settings.qsettings.value("review/inspector") == f"Jos{UNDECODED} M{UNDECODED}ller"  # Qt's reading
    assert settings.qsettings.value("files/last_folder") == "/tmp/caf", "Qt drops the last byte"
    assert settings.inspector_name == "" and settings.changes_by is None
    assert settings.last_folder != "/tmp/caf"
    settings.device = "cpu"  # Qt then writes the whole file, in UTF-8
    settings.sync()
    again = AppSettings.at(tmp_path / "latin-1.ini")
    assert again.device == "cpu" and again.inspector_name == "" and again.last_folder != "/tmp/caf"


def test_a_latin_1_name_is_not_offered_and_cannot_sign(qtbot, tmp_path, model_path) -> None:
    from app.ui.main_window import MainWindow

    win = MainWindow(_latin_1_settings(tmp_path))
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.controller.model_loaded, timeout=TIMEOUT_MS):
        win.controller.load_model(model_path, "cpu")
    open_and_wait(qtbot, win, photo(tmp_path, 3)[0])
    seen: list[tuple[str, bool, str]] = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ReviewDialog):
            QTimer.singleShot(10, answer)
            return
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        offered = dialog.name_edit.text()
        dialog.name_edit.setText(f"Jos{UNDECODED} M{UNDECODED}ller")  # as a paste of the same reading
        seen.append((offered, ok.isEnabled(), dialog.problem_label.text()))
        qtbot.keyClick(dialog.note_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        dialog.name_edit.setText("José Müller")
        qtbot.keyClick(dialog.note_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    QTimer.singleShot(0, answer)
    qtbot.keyClick(win, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert seen, "the dialog showed"
    offered, enabled, reason = seen[0]
    assert offered == "", "a name that could not be read is asked again"
    assert not enabled and "U+FFFD" in reason, reason
    assert win.editing.edits.session.review.reviewed_by == "José Müller"
    assert win.settings.inspector_name == "José Müller"
    win.controller.shutdown()
