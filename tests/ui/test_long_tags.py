"""A 200-character asset tag (the longest a project holds: pasted by mistake, or a long equipment path)
keeps the project's dialogs on the screen: the tag is elided in its field, whole in the tooltip (the
dialogs grew to 3450 px wide with a 500-character tag and their buttons left the screen)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.project import Asset, Inspection
from app.ui.add_inspection_dialog import AddInspectionDialog
from app.ui.project_edits import AssetDetailsDialog, CorrectInspectionDialog

LONG = "P-" + "7" * 198
SCREEN = 1280


def _dialogs():
    inspection = Inspection(1, 1, LONG, dt.date(2023, 5, 2), "I" * 200, "", 2)
    return {
        "add": lambda: AddInspectionDialog(["P-1", LONG], parent=None, current_tag=LONG),
        "add, a short tag picked": lambda: AddInspectionDialog([LONG, "P-1"], parent=None, current_tag="P-1"),
        "correct": lambda: CorrectInspectionDialog(inspection, [LONG, "P-1"]),
        "details": lambda: AssetDetailsDialog(Asset(1, LONG, "", "", "", "")),
    }


@pytest.mark.parametrize("kind", list(_dialogs()))
def test_a_long_tag_keeps_the_dialog_on_the_screen(qtbot, kind: str) -> None:
    dialog = _dialogs()[kind]()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.width() < SCREEN and dialog.minimumSizeHint().width() < SCREEN, dialog.width()
    box = getattr(dialog, "asset", None)
    if box is not None:
        assert box.toolTip() == box.currentText()
        assert LONG in [box.itemData(n, 3) for n in range(box.count())]  # 3: Qt.ToolTipRole


def test_compare_stays_on_the_screen_with_a_long_tag_and_inspector(qtbot, tmp_path, tiny_model) -> None:
    from app.core.project import Project, add_inspection_photos
    from app.ui.compare_dialog import CompareDialog
    from tests.helpers.pipe_photos import photo_folder

    folder = photo_folder(tmp_path / "photos", 1, 0.2, size=(48, 64))
    with Project.create(tmp_path / "site.corroscope") as project:
        add_inspection_photos(
            project, tiny_model, LONG, dt.date(2022, 5, 1), sorted(folder.iterdir()), inspector="I" * 200
        )
        dialog = CompareDialog(project, LONG, model=tiny_model)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.width() < SCREEN and dialog.minimumSizeHint().width() < SCREEN
        box = dialog.inspection_boxes[0]
        assert box.itemData(0, 3) == box.itemText(0) and "I" * 200 in box.itemText(0)
        dialog.close()
