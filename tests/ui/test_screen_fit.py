"""Dialogs fit the screen: on 1280 x 720 the trend window (760 x 740) and the user guide (820 x 760) ran
off its bottom, and Compare (1100 wide) off a 1024-wide screen."""

from __future__ import annotations

from PySide6.QtCore import QSize

from app.ui.help_dialogs import UserGuideDialog
from app.ui.screen_fit import FRAME_H, FRAME_W, fit_size


def test_a_size_is_cut_to_the_free_area_of_small_screens_only() -> None:
    assert fit_size(QSize(760, 740), QSize(1280, 680)) == QSize(760, 680 - FRAME_H)
    assert fit_size(QSize(1100, 700), QSize(1024, 768)) == QSize(1024 - FRAME_W, 700)
    assert fit_size(QSize(760, 740), QSize(1920, 1040)) == QSize(760, 740)


def test_the_user_guide_opens_within_the_screen(qtbot, tmp_path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text("# Guide\n\nText.\n", encoding="utf-8")
    dialog = UserGuideDialog(guide)
    qtbot.addWidget(dialog)
    free = dialog.screen().availableGeometry().size()  # 800 x 800 on the offscreen platform
    assert dialog.height() <= free.height() - FRAME_H and dialog.width() <= free.width() - FRAME_W
