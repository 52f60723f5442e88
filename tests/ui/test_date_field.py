"""The inspection date of Add inspection and Correct inspection: a date typed wrong is refused in words,
never quietly turned into another (Qt's fix-up stored 2024-02-30 as 2024-02-03, 2205 as this year)."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel

from app.core.project import Inspection
from app.ui.add_inspection_dialog import AddInspectionDialog
from app.ui.project_edits import CorrectInspectionDialog
from tests.ui.conftest import tab_into_date

TODAY = dt.date.today()

WRONG = [
    ("2024-02-30", "February 2024 has 29 days"),
    ("2023-13-01", "there is no month 13"),
    ("2023-00-05", "there is no month 00"),
    ("2205-05-01", "2205-05-01 is in the future"),
    ("0224-05-03", "too early: 0224-05-03 is before 1900"),
    (f"{TODAY.year + 4}-01-01", f"{TODAY.year + 4}-01-01 is in the future"),
    ("1899-01-01", "too early: 1899-01-01 is before 1900"),
]


def _dialog(kind: str):
    if kind == "add":
        return AddInspectionDialog(["P-7"], parent=None)
    return CorrectInspectionDialog(Inspection(1, 1, "P-7", dt.date(2023, 5, 2), "Ann", "", 2), ["P-7"])


def _ok(dialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def _problem(dialog) -> str:
    label = dialog.findChild(QLabel, "date_problem")
    return label.text() if label is not None and label.isVisible() else ""


@pytest.mark.parametrize("kind", ["add", "correct"])
@pytest.mark.parametrize(("typed", "why"), WRONG)
def test_a_wrong_date_typed_is_refused_in_words_not_changed(qtbot, kind: str, typed: str, why: str) -> None:
    dialog = _dialog(kind)
    tab_into_date(qtbot, dialog)
    qtbot.keyClicks(dialog.focusWidget(), typed)
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)  # on to the inspector: the date is left
    assert dialog.inspector.hasFocus()
    assert why in _problem(dialog)
    assert not _ok(dialog).isEnabled()
    accepted = []
    dialog.accepted.connect(lambda: accepted.append(True))
    dialog.accept()  # as Enter would
    assert not accepted and dialog.isVisible()


@pytest.mark.parametrize("kind", ["add", "correct"])
def test_enter_on_a_date_half_typed_does_not_store_the_old_one(qtbot, kind: str) -> None:
    """ "2023-05-0" then Enter: Qt put the old day back and the dialog took it."""
    dialog = _dialog(kind)
    tab_into_date(qtbot, dialog)
    accepted = []
    dialog.accepted.connect(lambda: accepted.append(True))
    qtbot.keyClicks(dialog.focusWidget(), "2023-05-0")
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    assert not accepted and "there is no day 00" in _problem(dialog)


def test_the_refused_part_typed_again_clears_the_problem(qtbot) -> None:
    dialog = _dialog("correct")
    tab_into_date(qtbot, dialog)
    qtbot.keyClicks(dialog.focusWidget(), "2024-02-30")
    assert "February 2024 has 29 days" in _problem(dialog) and not _ok(dialog).isEnabled()
    qtbot.keyClick(dialog.date, Qt.Key.Key_Backspace)
    qtbot.keyClicks(dialog.date, "29")
    assert _problem(dialog) == "" and _ok(dialog).isEnabled()
    assert dialog.values()[1] == dt.date(2024, 2, 29)


@pytest.mark.parametrize("kind", ["add", "correct"])
def test_good_dates_are_taken_as_typed(qtbot, kind: str) -> None:
    dialog = _dialog(kind)
    tab_into_date(qtbot, dialog)
    for typed in ("1900-01-01", "2024-02-29", "2023-05-3", TODAY.isoformat()):
        dialog.date.setSelectedSection(dialog.date.Section.YearSection)
        qtbot.keyClicks(dialog.date, typed)
        qtbot.keyClick(dialog.date, Qt.Key.Key_Tab)
        assert _problem(dialog) == "", typed
        assert dialog.date.value() == dt.date.fromisoformat(_full(typed))
        dialog.date.setFocus()


def _full(typed: str) -> str:
    y, m, d = typed.split("-")
    return f"{y}-{m}-{d.zfill(2)}"


def test_a_date_picked_later_than_allowed_is_refused_not_moved(qtbot) -> None:
    """The calendar, or a date set by the program, out of range: said so, not clamped to tomorrow."""
    dialog = _dialog("add")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.date.setDate(QDate(2099, 1, 1))
    assert dialog.date.value() == dt.date(2099, 1, 1)
    assert "2099-01-01 is in the future" in _problem(dialog)
    dialog.date.setDate(QDate(2023, 5, 2))
    assert _problem(dialog) == ""
