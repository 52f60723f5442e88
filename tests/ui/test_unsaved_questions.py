"""The two questions about unsaved edits, answered by clicking their buttons in real message boxes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.ui.review_dialog import CANCEL, DISCARD, SAVE_ALL, ask_discard_edits, ask_unsaved_on_quit

NAMES = ["pipe_01.png", "pipe_02.png"]


def answer(button_text: str | None, seen: dict) -> None:
    """Once the modal box shows, note what it says and click the button with `button_text` (None: Esc)."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.update(name=box.objectName(), title=box.windowTitle(), text=box.text())
        seen["info"] = box.informativeText()
        if button_text is None:
            box.reject()
            return
        next(b for b in box.buttons() if b.text().replace("&", "") == button_text).click()

    QTimer.singleShot(0, click)


@pytest.mark.parametrize(("button", "agreed"), [("Discard edits", True), (None, False)])
def test_discarding_edits_asks_naming_the_photos(qapp, button, agreed) -> None:
    seen: dict = {}
    answer(button, seen)
    assert ask_discard_edits(None, NAMES, "Quit") is agreed
    assert seen["name"] == "discard_edits_question" and seen["title"] == "Unsaved edits"
    assert seen["text"].startswith("2 photos have edits") and "pipe_02.png" in seen["text"]
    assert seen["info"].startswith("Quit and discard them?")
    answer(button, seen)
    ask_discard_edits(None, NAMES[:1], "Quit")
    assert seen["text"].startswith("1 photo has edits")


@pytest.mark.parametrize(
    ("button", "choice"), [("Save all", SAVE_ALL), ("Discard edits", DISCARD), (None, CANCEL)]
)
def test_quitting_with_unsaved_edits_offers_save_discard_or_cancel(qapp, button, choice) -> None:
    seen: dict = {}
    answer(button, seen)
    assert ask_unsaved_on_quit(None, NAMES) == choice
    assert seen["name"] == "unsaved_edits_question" and seen["title"] == "Unsaved edits"
    assert "pipe_01.png" in seen["text"] and seen["info"].startswith("Save all saves each one's")


def test_every_question_can_be_answered_by_alt_and_a_letter() -> None:
    from app.ui.questions import mnemonics

    assert mnemonics("Replace them", "Keep them") == ["&Replace them", "&Keep them"]
    assert mnemonics("Stop and quit", "Save all") == ["&Stop and quit", "S&ave all"]  # S taken: the next
    assert mnemonics("Yes & no", "Cancel") == ["Yes & no", "&Cancel"]  # an ampersand of its own: as written
